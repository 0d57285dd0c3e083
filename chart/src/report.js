// report.html's behaviour: draws the charts in #chart-data with uPlot,
// sorts tables, shows times in UTC. Errors are written into the page (and
// body[data-errors]) so a broken report says so instead of staying blank.
(function () {
  "use strict";
  var errors = [];
  function fail(what, e) {
    errors.push(what + ": " + (e && e.message ? e.message : e));
    document.body.setAttribute("data-errors", String(errors.length));
    var box = document.getElementById("report-errors");
    if (!box) {
      box = document.createElement("pre");
      box.id = "report-errors";
      box.className = "warn";
      document.querySelector("main").prepend(box);
    }
    box.textContent = "This report could not draw everything:\n" + errors.join("\n");
  }

  // 1:02:03, 4:05 or 12s: seconds since the run started.
  function clock(s) {
    var sign = s < 0 ? "-" : "";
    s = Math.abs(Math.round(s));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    if (h > 0) return sign + h + ":" + two(m) + ":" + two(r);
    if (m > 0) return sign + m + ":" + two(r);
    return sign + r + "s";
  }

  // The nines axis: x = -log10(1 - q).
  function nines(x) {
    var q = 100 * (1 - Math.pow(10, -x));
    var d = Math.max(0, Math.ceil(x - 1e-9) - 1);
    return (Math.abs(x - Math.round(x)) < 1e-6 && x >= 1
      ? q.toFixed(Math.max(0, Math.round(x) - 2)) : q.toFixed(Math.min(d, 6))) + "%";
  }

  function num(v) {
    if (v == null || isNaN(v)) return "–";
    var a = Math.abs(v);
    return a >= 1000 ? Math.round(v).toLocaleString("en-US")
      : a >= 10 ? v.toFixed(1) : a >= 0.1 ? v.toFixed(2) : v.toFixed(3);
  }

  function draw(spec, width) {
    var el = document.getElementById(spec.id);
    var tables = spec.series.map(function (s) { return [s.x, s.y]; });
    var data = uPlot.join(tables);
    // Stacked series (bottom first) are drawn as cumulative bands; the
    // legend still shows each one's own value, kept in raw.
    var raw = data.map(function (col) { return col.slice(); });
    var bands = [], below = null;
    spec.series.forEach(function (s, i) {
      if (!s.stack) return;
      var col = data[i + 1];
      if (below !== null) {
        for (var k = 0; k < col.length; k++) {
          if (col[k] != null && data[below][k] != null) col[k] += data[below][k];
        }
        bands.push({ series: [i + 1, below], fill: s.color + "70" });
      }
      below = i + 1;
    });
    var time = spec.x === "time";
    var series = [{ label: time ? "time" : "percentile", value: function (u, v) {
      return v == null ? "–" : time ? clock(v) : nines(v);
    } }];
    var firstStacked = spec.series.findIndex(function (s) { return s.stack; });
    spec.series.forEach(function (s, i) {
      series.push({
        label: s.label, stroke: s.color, width: 1.5, spanGaps: true,
        scale: s.scale || "y", dash: s.scale ? [6, 4] : undefined,
        fill: i === firstStacked ? s.color + "70" : undefined,
        points: { show: false },
        value: function (u, v, si, idx) { return num(idx == null ? v : raw[si][idx]); },
      });
    });
    var axes = [
      { values: function (u, ticks) { return ticks.map(time ? clock : nines); },
        splits: time ? undefined : function (u) {
          var out = []; for (var i = 0; i <= Math.ceil(u.scales.x.max); i++) out.push(i); return out;
        } },
      { scale: "y", label: spec.y, size: 60, values: function (u, t) { return t.map(num); } },
    ];
    var scales = { x: { time: false }, y: { range: function (u, lo, hi) { return [0, hi > 0 ? hi * 1.05 : 1]; } } };
    if (spec.y2) {
      axes.push({ scale: "y2", side: 1, label: spec.y2, size: 60, grid: { show: false },
        values: function (u, t) { return t.map(num); } });
      scales.y2 = { range: function (u, lo, hi) { return [0, hi > 0 ? hi * 1.05 : 1]; } };
    }
    var opts = {
      width: width, height: Math.max(220, Math.min(360, Math.round(width * 0.45))),
      series: series, axes: axes, scales: scales, bands: bands,
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
    };
    var plot = new uPlot(opts, data, el);
    el.setAttribute("data-series", String(spec.series.length));
    return plot;
  }

  function drawAll() {
    var specs;
    try {
      specs = JSON.parse(document.getElementById("chart-data").textContent).charts;
    } catch (e) {
      fail("reading the chart data", e);
      return;
    }
    var plots = [];
    specs.forEach(function (spec) {
      try {
        var el = document.getElementById(spec.id);
        plots.push([el, draw(spec, el.clientWidth || 800)]);
      } catch (e) {
        fail("chart " + spec.id, e);
      }
    });
    document.body.setAttribute("data-charts", String(plots.length));
    var resize = function () {
      plots.forEach(function (p) {
        var w = p[0].clientWidth;
        if (w > 0 && Math.abs(w - p[1].width) > 4) p[1].setSize({ width: w, height: p[1].height });
      });
    };
    window.addEventListener("resize", resize);
    window.addEventListener("beforeprint", resize);
  }

  // Tables with class "sortable": click a header to sort by its column,
  // again to reverse; cells carry their raw value in data-v.
  function sortable(table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      th.title = "sort";
      var go = function () {
        var text = th.getAttribute("data-type") === "text";
        var dir = th.getAttribute("aria-sort") === "descending" ? 1 : -1;
        if (text && !th.hasAttribute("aria-sort")) dir = 1;
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        // The total row stays on top.
        var pinned = rows.filter(function (r) { return r.classList.contains("total"); });
        rows = rows.filter(function (r) { return !r.classList.contains("total"); });
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute("data-v"), y = b.cells[col].getAttribute("data-v");
          if (text) return dir * x.localeCompare(y);
          var nx = parseFloat(x), ny = parseFloat(y);
          nx = isNaN(nx) ? -Infinity : nx; ny = isNaN(ny) ? -Infinity : ny;
          return dir * (nx - ny);
        });
        pinned.concat(rows).forEach(function (r) { body.appendChild(r); });
      };
      th.addEventListener("click", go);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") go(); });
    });
  }

  try {
    Array.prototype.forEach.call(document.querySelectorAll("time[data-ns]"), function (t) {
      var ms = Number(t.getAttribute("data-ns")) / 1e6;
      if (ms > 0) t.textContent = new Date(ms).toISOString().replace("T", " ").replace("Z", "");
    });
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), sortable);
  } catch (e) {
    fail("tables", e);
  }
  if (typeof uPlot === "undefined") fail("charts", "uPlot did not load");
  else drawAll();
  document.body.setAttribute("data-ready", "1");
})();

//! report.html in a real headless browser (Debian's Chromium), driven over
//! the DevTools protocol on a pipe (`--remote-debugging-pipe`: fd 3 in, fd 4
//! out, NUL-terminated JSON), with the network off. Outside CI a missing
//! Chromium skips with a note; with CI=true it fails (`.ci/run` installs it).
//!
//! The screenshots are kept in `target/tmp/report-*.png`.

mod common;

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{host_samples, pg_samples, summary, write, Spec};
use records::metric::Metric;
use records::{Stats, Summary};
use serde_json::{json, Value};

const CHROMIUM: &str = "chromium";

/// One browser with one page, every protocol event kept for the asserts.
struct Browser {
    child: Child,
    to: File,
    from: Receiver<Value>,
    next: u64,
    session: String,
    events: Vec<Value>,
    _dir: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium, or returns `None` (skip) when it is missing outside CI.
    fn launch() -> Option<Browser> {
        let found = Command::new(CHROMIUM)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            assert!(
                !records::testkit::in_ci(),
                "`{CHROMIUM}` is not installed and CI is set: this test must not skip \
                 (.ci/run installs it: apt-get install -y chromium)"
            );
            eprintln!("SKIPPED: `{CHROMIUM}` is not installed (apt-get install -y chromium)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let (input, output) = (dir.path().join("in"), dir.path().join("out"));
        for fifo in [&input, &output] {
            let made = Command::new("mkfifo").arg(fifo).status().unwrap();
            assert!(made.success(), "mkfifo {}", fifo.display());
        }
        let profile = dir.path().join("profile");
        // The shell opens fd 3 and 4 on the FIFOs, then becomes Chromium.
        let script = format!(
            "exec {CHROMIUM} --headless --no-sandbox --disable-gpu --no-first-run \
             --disable-background-networking --disable-component-update --disable-sync \
             --disable-default-apps --disable-extensions --mute-audio \
             --host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir='{}' \
             --remote-debugging-pipe 3<'{}' 4>'{}'",
            profile.display(),
            input.display(),
            output.display()
        );
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        // Opening a FIFO blocks until the other end opens: bounded, in a thread.
        let (opened, wait) = mpsc::channel();
        std::thread::spawn(move || {
            let to = std::fs::OpenOptions::new().write(true).open(&input);
            let from = File::open(&output);
            let _ = opened.send((to, from));
        });
        let (to, from) = wait
            .recv_timeout(Duration::from_secs(30))
            .expect("chromium did not open its DevTools pipe within 30 s");
        let (to, from) = (to.unwrap(), from.unwrap());
        let (send, recv) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(from);
            let mut message = Vec::new();
            while reader.read_until(0, &mut message).is_ok_and(|n| n > 0) {
                if message.last() == Some(&0) {
                    message.pop();
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&message) {
                    if send.send(v).is_err() {
                        break;
                    }
                }
                message.clear();
            }
        });
        let mut browser = Browser {
            child,
            to,
            from: recv,
            next: 0,
            session: String::new(),
            events: Vec::new(),
            _dir: dir,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let target = target["targetId"].as_str().unwrap().to_string();
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Runtime", "Log", "Network", "Page"] {
            browser.call(&format!("{domain}.enable"), json!({}));
        }
        browser.call(
            "Network.emulateNetworkConditions",
            json!({"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        );
        browser.viewport(1280, 900, false);
        Some(browser)
    }

    /// Sends a command (to the page once attached) and waits for its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .from
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no answer to {method} within 30 s"));
            if v["id"] == json!(id) {
                assert!(v.get("error").is_none(), "{method}: {}", v["error"]);
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
    }

    /// Evaluates `expr` in the page; its value (JSON-serialisable).
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(
            r.get("exceptionDetails").is_none(),
            "{expr}: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// Opens `path` from file:// and waits until its script has run.
    fn open(&mut self, path: &Path) {
        self.events.clear();
        let url = format!("file://{}", path.canonicalize().unwrap().display());
        self.call("Page.navigate", json!({"url": url}));
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.eval("document.readyState === 'complete' && document.body.getAttribute('data-ready') === '1'")
            != json!(true)
        {
            assert!(Instant::now() < deadline, "{url} did not finish loading");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Console errors, uncaught exceptions and error log entries since `open`.
    fn errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| {
                let m = e["method"].as_str().unwrap_or("");
                (m == "Runtime.consoleAPICalled" && e["params"]["type"] == "error")
                    || m == "Runtime.exceptionThrown"
                    || (m == "Log.entryAdded" && e["params"]["entry"]["level"] == "error")
            })
            .map(|e| e["params"].to_string())
            .collect()
    }

    /// Every URL the page requested since `open`.
    fn requests(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .map(|e| {
                e["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    /// A full-page PNG, written to `path`.
    fn screenshot(&mut self, path: &Path) {
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    fn hover(&mut self, x: f64, y: f64) {
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": "mouseMoved", "x": x, "y": y}),
        );
        // uPlot may update the legend on the next frame.
        self.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn artifact(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn chart_html(args: &[&str], html: &Path) {
    let out = records::testkit::cmd("chart")
        .args(args)
        .arg("--html")
        .arg(html)
        .output()
        .expect("run chart");
    assert!(
        out.status.success(),
        "chart failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn endpoints(records: &[Summary]) -> Vec<&Stats> {
    records
        .iter()
        .filter_map(|r| match r {
            Summary::Endpoint(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// What the page's table shows: per row, the endpoint, requests and p95 cells.
const TABLE: &str = "Array.from(document.querySelectorAll('table.endpoints tbody tr')).map(r => {
    const h = Array.from(r.closest('table').tHead.rows[0].cells).map(c => c.textContent.replace(/[▲▼]/g, '').trim());
    const cell = n => r.cells[h.indexOf(n)].textContent;
    return [cell('endpoint'), cell('requests'), cell('p95'), cell('failures')];
})";

/// Per chart: its id, series drawn, coloured canvas pixels.
const CHARTS: &str = "Array.from(document.querySelectorAll('.plot')).map(p => {
    const c = p.querySelector('canvas');
    let inked = 0;
    if (c && c.width > 0 && c.height > 0) {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) inked++;
    }
    return {id: p.id, expected: Number(p.getAttribute('data-series')),
            legend: p.querySelectorAll('.u-legend .u-series').length - 1, inked,
            w: c ? c.width : 0, h: c ? c.height : 0};
})";

#[test]
fn the_report_works_in_a_real_browser_offline() {
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec {
        endpoints: 12,
        intervals: 300,
        requests: 30_000,
        ..Spec::default()
    };
    let records = summary(&spec);
    let run = dir.path().join("run.ndjson");
    write(&run, &records);
    let pg = dir.path().join("pg.ndjson");
    write(&pg, &pg_samples(300));
    let host = dir.path().join("host.ndjson");
    write(&host, &host_samples(300));
    let html = dir.path().join("report.html");
    let s = |p: &Path| p.to_string_lossy().into_owned();
    chart_html(&[&s(&run), "--pg", &s(&pg), "--host", &s(&host)], &html);

    browser.open(&html);
    browser.screenshot(&artifact("report-one-run.png"));

    // Every endpoint, with the summary's request count and p95, as aggregate prints them.
    let rows = browser.eval(TABLE);
    let rows = rows.as_array().unwrap();
    let stats = endpoints(&records);
    assert_eq!(
        rows.len(),
        stats.len() + 1,
        "the total and every endpoint: {rows:?}"
    );
    assert_eq!(rows[0][0], "Aggregated");
    for s in &stats {
        let row = rows
            .iter()
            .find(|r| r[0] == json!(s.name))
            .unwrap_or_else(|| panic!("no row for {}", s.name));
        assert_eq!(
            row[1],
            json!(Metric::Count.show(s.count as f64)),
            "{}",
            s.name
        );
        assert_eq!(
            row[3],
            json!(Metric::ErrorCount.show(s.errors as f64)),
            "{}",
            s.name
        );
        assert_eq!(
            row[2],
            json!(Metric::P95.show(s.latency.p95_ns as f64)),
            "{}",
            s.name
        );
    }

    // Every chart drew its series: latency, throughput, pg, host, spectrum.
    let charts = browser.eval(CHARTS);
    let charts = charts.as_array().unwrap();
    let ids: Vec<&str> = charts.iter().map(|c| c["id"].as_str().unwrap()).collect();
    for want in [
        "r0-latency",
        "r0-throughput",
        "r0-pg",
        "r0-host",
        "r0-spectrum",
    ] {
        assert!(ids.contains(&want), "no chart {want}: {ids:?}");
    }
    assert_eq!(
        browser.eval("Number(document.body.getAttribute('data-charts'))"),
        json!(charts.len())
    );
    for c in charts {
        assert!(c["expected"].as_u64().unwrap() >= 1, "{c}");
        assert_eq!(c["legend"], c["expected"], "legend entries: {c}");
        // Lines, axes and grid: thousands of inked pixels, not an empty canvas.
        assert!(c["inked"].as_u64().unwrap() > 2_000, "{c}");
    }

    // Hovering over the middle of each chart shows a value in its legend.
    for c in charts {
        let id = c["id"].as_str().unwrap();
        let rect = browser.eval(&format!(
            "(() => {{ const o = document.querySelector('#{id} .u-over'); o.scrollIntoView({{block: 'center'}});
               const r = o.getBoundingClientRect(); return [r.left + r.width * 0.4, r.top + r.height / 2]; }})()"
        ));
        browser.hover(rect[0].as_f64().unwrap(), rect[1].as_f64().unwrap());
        let values = browser.eval(&format!(
            "Array.from(document.querySelectorAll('#{id} .u-legend .u-series .u-value')).map(v => v.textContent)"
        ));
        let values: Vec<&str> = values
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(values.len() >= 2, "{id}: {values:?}");
        assert!(
            values[0] != "–" && !values[0].is_empty(),
            "{id}: hover shows no x: {values:?}"
        );
        assert!(
            values[1..]
                .iter()
                .any(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit())),
            "{id}: hover shows no value: {values:?}"
        );
    }

    // Sorting by requests ascending puts the quietest endpoint first (the total stays on top).
    browser.eval("(() => { const th = Array.from(document.querySelectorAll('table.endpoints th')).find(t => t.textContent.startsWith('requests')); th.click(); th.click(); })()");
    let sorted = browser.eval(TABLE);
    let quietest = stats.iter().min_by_key(|s| s.count).unwrap();
    assert_eq!(sorted[0][0], "Aggregated");
    assert_eq!(sorted[1][0], json!(quietest.name), "{sorted}");

    // The summary records are in the page as data a tool can read back.
    let embedded = browser.eval(
        "JSON.parse(document.getElementById('summary-records').textContent).runs[0].records.length",
    );
    assert_eq!(embedded, json!(stats.len() + 2), "run, endpoints, total");

    // It prints: a PDF of several pages (charts are canvases, kept in print).
    let pdf = browser.call("Page.printToPDF", json!({"printBackground": true}));
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(pdf["data"].as_str().unwrap())
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"), "not a PDF");
    assert!(
        pdf.len() > 50_000,
        "a {} byte PDF is too small for this report",
        pdf.len()
    );
    std::fs::write(artifact("report-one-run.pdf"), &pdf).unwrap();
    browser.call("Emulation.setEmulatedMedia", json!({"media": "print"}));
    browser.screenshot(&artifact("report-print.png"));
    browser.call("Emulation.setEmulatedMedia", json!({"media": ""}));

    // A phone-sized screen: the page still lays out (no horizontal overflow of the body).
    browser.viewport(390, 844, true);
    browser.eval("new Promise(r => setTimeout(r, 200))");
    let overflow = browser.eval("document.documentElement.scrollWidth <= window.innerWidth + 1");
    assert_eq!(
        overflow,
        json!(true),
        "the page is wider than a phone screen"
    );
    browser.screenshot(&artifact("report-phone.png"));

    assert_eq!(browser.errors(), Vec::<String>::new(), "console errors");
    let outside: Vec<String> = browser
        .requests()
        .into_iter()
        .filter(|u| !u.starts_with("file://") && !u.starts_with("data:"))
        .collect();
    assert!(outside.is_empty(), "requests left the page: {outside:?}");
    assert_eq!(
        browser.eval("document.body.getAttribute('data-errors')"),
        Value::Null
    );
}

#[test]
fn two_runs_show_the_verdicts_and_overlays() {
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.ndjson");
    let b = dir.path().join("b.ndjson");
    write(&a, &summary(&Spec::default()));
    write(
        &b,
        &summary(&Spec {
            label: Some("slower".into()),
            slower_ms: 3.0,
            seed: 2,
            ..Spec::default()
        }),
    );
    let html = dir.path().join("report.html");
    let s = |p: &Path| p.to_string_lossy().into_owned();
    chart_html(&[&s(&a), &s(&b)], &html);
    browser.open(&html);
    browser.screenshot(&artifact("report-two-runs.png"));
    let verdicts = browser.eval(
        "Array.from(document.querySelectorAll('table.verdicts tbody tr')).filter(r => r.cells[1].textContent === 'p95').map(r => [r.cells[0].textContent, r.cells[7].textContent])",
    );
    let verdicts = verdicts.as_array().unwrap();
    assert!(!verdicts.is_empty(), "no p95 verdict rows");
    // 3 ms slower on every request, thousands of them: p95 +46%, past
    // compare's default +20% limit and significant, so a regression.
    assert_eq!(
        verdicts[0][0], "Aggregated",
        "the total first: {verdicts:?}"
    );
    let total = verdicts[0][1].as_str().unwrap();
    assert!(total.starts_with("regression"), "{total}");
    let banner = browser.eval("document.querySelector('.comparison .banner').textContent");
    assert!(banner.as_str().unwrap().contains("regression"), "{banner}");
    let charts = browser.eval(CHARTS);
    for id in [
        "cmp-p95",
        "cmp-rps",
        "cmp-spectrum",
        "r0-latency",
        "r1-latency",
    ] {
        let c = charts
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no chart {id}"));
        assert!(c["inked"].as_u64().unwrap() > 2_000, "{c}");
    }
    assert_eq!(browser.errors(), Vec::<String>::new(), "console errors");
}

/// An empty run, one with no successful request, one endpoint with a single
/// request: each report renders without errors and says what is missing.
#[test]
fn thin_runs_render_and_say_what_is_missing() {
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let base = summary(&Spec {
        endpoints: 1,
        intervals: 1,
        requests: 1,
        error_every: 0,
        ..Spec::default()
    });
    let run_record: Vec<Summary> = base
        .iter()
        .filter(|r| matches!(r, Summary::Run(_)))
        .cloned()
        .collect();
    let mut all_failed = summary(&Spec {
        endpoints: 2,
        intervals: 5,
        requests: 50,
        error_every: 1,
        ..Spec::default()
    });
    for r in &mut all_failed {
        if let Summary::Interval(i) = r {
            i.errors = i.count;
        }
    }
    let cases: [(&str, Vec<Summary>, &[&str]); 3] = [
        (
            "empty",
            run_record,
            &[
                "no endpoint records",
                "nothing to draw over time",
                "no percentile spectrum",
            ],
        ),
        ("all-failed", all_failed, &["no successes", "100.00%"]),
        ("single-request", base, &["“-”: too few requests"]),
    ];
    for (name, records, expected) in cases {
        let run = dir.path().join(format!("{name}.ndjson"));
        write(&run, &records);
        let html = dir.path().join(format!("{name}.html"));
        chart_html(&[&run.to_string_lossy()], &html);
        browser.open(&html);
        browser.screenshot(&artifact(&format!("report-{name}.png")));
        let text = browser
            .eval("document.body.innerText")
            .as_str()
            .unwrap()
            .to_string();
        for want in expected {
            assert!(text.contains(want), "{name}: no “{want}” in:\n{text}");
        }
        if name == "single-request" {
            // One request: min and max are its latency; no percentile is resolved.
            let row = &browser.eval(TABLE)[1];
            assert_eq!(row[1], "1", "{row}");
            assert_eq!(row[2], "-", "p95 of one request: {row}");
            let cells = browser.eval(
                "Array.from(document.querySelectorAll('table.endpoints tbody tr')[1].cells).map(c => c.textContent)",
            );
            let cells: Vec<&str> = cells
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            assert!(cells[5].ends_with('s') && cells[5] != "-", "min: {cells:?}");
            assert_eq!(cells[5], cells[12], "min is max: {cells:?}");
        }
        assert_eq!(
            browser.errors(),
            Vec::<String>::new(),
            "{name}: console errors"
        );
        assert_eq!(
            browser.eval("document.body.getAttribute('data-errors')"),
            Value::Null,
            "{name}"
        );
    }
}

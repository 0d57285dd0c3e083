//! Runs the real `chart` binary on synthetic summaries and looks at the PNGs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{host_samples, pg_samples, summary, write, Spec};
use records::Summary;

/// Series colours (style::PALETTE) the charts must contain.
const BLUE: [u8; 3] = [31, 119, 180];
const ORANGE: [u8; 3] = [255, 127, 14];
const GREEN: [u8; 3] = [44, 160, 44];
const RED: [u8; 3] = [214, 39, 40];
const PURPLE: [u8; 3] = [148, 103, 189];
const TEXT: [u8; 3] = [30, 30, 30];

fn chart(args: &[&str]) -> Output {
    records::testkit::cmd("chart")
        .args(args)
        .output()
        .expect("run chart")
}

fn fixture(dir: &Path, name: &str, records: &[Summary]) -> String {
    let path = dir.join(name);
    write(&path, records);
    path.to_string_lossy().into_owned()
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chart failed: {stderr}");
    stderr
}

/// Asserts `path` is a PNG of `size`, not blank, containing every colour of `colors`.
fn assert_png(path: &Path, size: (u32, u32), colors: &[[u8; 3]]) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{} is not a readable PNG: {e}", path.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), size, "{}", path.display());
    let mut distinct = std::collections::HashSet::new();
    let mut counts = vec![0usize; colors.len()];
    for p in img.pixels() {
        distinct.insert(p.0);
        for (i, c) in colors.iter().enumerate() {
            if p.0 == *c {
                counts[i] += 1;
            }
        }
    }
    // Antialiased text alone gives dozens of greys; a blank or text-less image has ~1.
    assert!(
        distinct.len() >= 30,
        "{}: only {} distinct colours",
        path.display(),
        distinct.len()
    );
    for (c, n) in colors.iter().zip(counts) {
        assert!(
            n >= 40,
            "{}: colour {c:?} drawn on only {n} pixels",
            path.display()
        );
    }
}

fn dir_of(stderr: &str) -> Vec<PathBuf> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .map(PathBuf::from)
        .collect()
}

#[test]
fn one_run_renders_each_chart_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let run = fixture(tmp.path(), "run.ndjson", &summary(&Spec::default()));
    let pg = fixture(tmp.path(), "pg.ndjson", &pg_samples(30));
    let out_dir = tmp.path().join("charts");
    let stderr = ok(&chart(&[
        &run,
        "--pg",
        &pg,
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]));
    assert!(
        stderr.contains(&format!(
            "chart: wrote 5 charts and report.html to {}",
            out_dir.display()
        )),
        "{stderr}"
    );
    let size = (1280, 720);
    let c = |name: &str| out_dir.join(name);
    assert_png(
        &c("latency_over_time.png"),
        size,
        &[BLUE, ORANGE, PURPLE, TEXT],
    );
    assert_png(&c("throughput_over_time.png"), size, &[GREEN, RED, TEXT]);
    assert_png(
        &c("percentile_distribution.png"),
        size,
        &[TEXT, BLUE, ORANGE, GREEN, RED],
    );
    assert_png(
        &c("endpoint_summary.png"),
        size,
        &[BLUE, ORANGE, PURPLE, RED],
    );
    assert_png(&c("pg_activity.png"), size, &[BLUE, GREEN, ORANGE, PURPLE]);
    assert_eq!(
        dir_of(&stderr).len(),
        6,
        "every written path (5 PNGs, report.html) is listed: {stderr}"
    );
}

#[test]
fn host_samples_draw_the_host_overlay() {
    let tmp = tempfile::tempdir().unwrap();
    let run = fixture(tmp.path(), "run.ndjson", &summary(&Spec::default()));
    let host = fixture(tmp.path(), "host.ndjson", &host_samples(30));
    let out_dir = tmp.path().join("charts");
    let stderr = ok(&chart(&[
        &run,
        "--host",
        &host,
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]));
    assert!(
        stderr.contains(&format!(
            "chart: wrote 5 charts and report.html to {}",
            out_dir.display()
        )),
        "{stderr}"
    );
    let png = out_dir.join("host_activity.png");
    // Latency p50/p95/p99 above; host CPU (blue), the two processes' CPU
    // and RSS (orange, green) and the legend's text below.
    assert_png(&png, (1280, 720), &[BLUE, ORANGE, GREEN, PURPLE, TEXT]);
    // Without watched processes the right axis is the host's memory.
    let only_host: Vec<Summary> = host_samples(30)
        .into_iter()
        .filter(|r| matches!(r, Summary::Host(_)))
        .collect();
    let host = fixture(tmp.path(), "only-host.ndjson", &only_host);
    let out_dir = tmp.path().join("charts2");
    ok(&chart(&[
        &run,
        "--host",
        &host,
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]));
    assert_png(
        &out_dir.join("host_activity.png"),
        (1280, 720),
        &[BLUE, TEXT],
    );
    // Not hostwatch's output: exit 2, naming the file.
    let out = chart(&[&run, "--host", &run, "--out-dir", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no host samples"));
}

#[test]
fn two_runs_render_the_comparison_set() {
    let tmp = tempfile::tempdir().unwrap();
    let a = fixture(tmp.path(), "a.ndjson", &summary(&Spec::default()));
    let b = fixture(
        tmp.path(),
        "b.ndjson",
        &summary(&Spec {
            label: None,
            slower_ms: 4.0,
            seed: 2,
            ..Spec::default()
        }),
    );
    let out_dir = tmp.path().join("cmp");
    let stderr = ok(&chart(&[
        &a,
        &b,
        "--label",
        "monolith",
        "--label",
        "microservices",
        "--out-dir",
        out_dir.to_str().unwrap(),
        "--size",
        "800x450",
    ]));
    let size = (800, 450);
    for name in [
        "response_time_comparison.png",
        "throughput_comparison.png",
        "failure_rate_comparison.png",
        "percentile_comparison.png",
        "summary_table.png",
    ] {
        // Run colours: the first run blue, the second orange.
        assert_png(&out_dir.join(name), size, &[BLUE, ORANGE, TEXT]);
    }
    for sub in ["monolith", "microservices"] {
        assert_png(
            &out_dir.join(sub).join("latency_over_time.png"),
            size,
            &[BLUE],
        );
    }
    let text = std::fs::read_to_string(out_dir.join("summary_table.txt")).unwrap();
    // The text summary is pinned (file paths vary, so they are cut out).
    let pinned = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/summary_table.txt");
    records::testkit::assert_snapshot(
        &pinned,
        &text.replace(&format!("{}/", tmp.path().display()), ""),
    );
    assert!(
        text.contains("monolith") && text.contains("microservices"),
        "{text}"
    );
    assert!(
        text.contains("p95") && text.contains("throughput"),
        "{text}"
    );
    assert!(text.contains("GET /api/v1/tasks/"), "{text}");
    // The slower run's p95 shows as a positive change.
    let p95 = text.lines().find(|l| l.starts_with("p95 ")).unwrap();
    assert!(p95.contains("(+"), "{p95}");
    assert!(
        stderr.contains("chart: wrote 13 charts and report.html to"),
        "{stderr}"
    );
}

#[test]
fn labels_default_to_the_run_record_then_the_file_name() {
    let tmp = tempfile::tempdir().unwrap();
    let a = fixture(tmp.path(), "first.ndjson", &summary(&Spec::default()));
    let b = fixture(
        tmp.path(),
        "second.ndjson",
        &summary(&Spec {
            label: None,
            ..Spec::default()
        }),
    );
    let out_dir = tmp.path().join("o");
    ok(&chart(&[&a, &b, "--out-dir", out_dir.to_str().unwrap()]));
    assert!(
        out_dir.join("baseline").is_dir(),
        "label from the run record"
    );
    assert!(out_dir.join("second").is_dir(), "label from the file name");
    let too_many = chart(&[
        &a,
        "--label",
        "x",
        "--label",
        "y",
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(too_many.status.code(), Some(2));
}

#[test]
fn log_scale_and_small_sizes_render() {
    let tmp = tempfile::tempdir().unwrap();
    let run = fixture(tmp.path(), "run.ndjson", &summary(&Spec::default()));
    let out_dir = tmp.path().join("log");
    ok(&chart(&[
        &run,
        "--out-dir",
        out_dir.to_str().unwrap(),
        "--log-scale",
        "--size",
        "640x400",
    ]));
    assert_png(
        &out_dir.join("latency_over_time.png"),
        (640, 400),
        &[BLUE, ORANGE, PURPLE],
    );
    assert_png(
        &out_dir.join("percentile_distribution.png"),
        (640, 400),
        &[TEXT, BLUE],
    );
}

/// Each edge case renders every chart without a panic.
fn renders(name: &str, records: &[Summary]) {
    let tmp = tempfile::tempdir().unwrap();
    let run = fixture(tmp.path(), "run.ndjson", records);
    let out_dir = tmp.path().join("out");
    let out = chart(&[
        &run,
        &run,
        "--out-dir",
        out_dir.to_str().unwrap(),
        "--size",
        "480x270",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name}: {stderr}");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    for png in dir_of(&stderr)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
    {
        let img = image::open(png).unwrap_or_else(|e| panic!("{name}: {}: {e}", png.display()));
        assert_eq!((img.width(), img.height()), (480, 270), "{name}");
    }
}

#[test]
fn edge_cases_do_not_panic() {
    renders(
        "no intervals",
        &summary(&Spec {
            intervals: 0,
            ..Spec::default()
        }),
    );
    renders(
        "one interval",
        &summary(&Spec {
            intervals: 1,
            ..Spec::default()
        }),
    );
    renders(
        "one endpoint",
        &summary(&Spec {
            endpoints: 1,
            ..Spec::default()
        }),
    );
    renders(
        "hundreds of endpoints with very long names",
        &summary(&Spec {
            endpoints: 300,
            requests: 3_000,
            intervals: 5,
            name_len: 300,
            ..Spec::default()
        }),
    );
    renders(
        "no endpoints, no requests",
        &summary(&Spec {
            endpoints: 0,
            intervals: 3,
            ..Spec::default()
        }),
    );
    // Zero counts everywhere (empty histograms), no run or total record.
    let zero: Vec<Summary> = summary(&Spec::default())
        .into_iter()
        .filter_map(|r| match r {
            Summary::Endpoint(mut s) => {
                s.count = 0;
                s.errors = 0;
                s.error_kinds.clear();
                s.status.clear();
                s.rps = 0.0;
                s.latency = records::Latency::default();
                s.hist = records::hist::encode(&records::hist::new_histogram());
                Some(Summary::Endpoint(s))
            }
            Summary::Interval(mut i) => {
                i.count = 0;
                i.errors = 0;
                i.rps = 0.0;
                i.vus = 0;
                i.hist = None;
                Some(Summary::Interval(i))
            }
            _ => None,
        })
        .collect();
    renders("zero counts, no run or total record", &zero);
    renders(
        "only a run record",
        &summary(&Spec::default())
            .into_iter()
            .filter(|r| matches!(r, Summary::Run(_)))
            .collect::<Vec<_>>(),
    );
}

#[test]
fn a_one_hour_run_renders() {
    let tmp = tempfile::tempdir().unwrap();
    let run = fixture(
        tmp.path(),
        "hour.ndjson",
        &summary(&Spec {
            intervals: 3_600,
            endpoints: 50,
            requests: 5_000,
            ..Spec::default()
        }),
    );
    let out_dir = tmp.path().join("hour");
    ok(&chart(&[
        &run,
        "--out-dir",
        out_dir.to_str().unwrap(),
        "--size",
        "640x360",
    ]));
    assert_png(
        &out_dir.join("latency_over_time.png"),
        (640, 360),
        &[BLUE, ORANGE, PURPLE],
    );
}

fn fails_with(args: &[&str], expected: &[&str]) {
    let out = chart(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for e in expected {
        assert!(stderr.contains(e), "{args:?}: expected {e:?} in {stderr}");
    }
}

#[test]
fn bad_input_exits_2_naming_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let good = summary(&Spec::default());
    let lines: Vec<String> = good
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    let out = tmp.path().join("out");
    let out = out.to_str().unwrap();

    let broken = tmp.path().join("broken.ndjson");
    std::fs::write(
        &broken,
        format!(
            "{}\n{}\n{{\"kind\":\"interval\",\"start\":\n",
            lines[0], lines[1]
        ),
    )
    .unwrap();
    let broken = broken.to_str().unwrap().to_string();
    fails_with(&[&broken, "--out-dir", out], &[&format!("{broken}:3:")]);

    // An endpoint whose histogram is not a histogram.
    let mut bad_hist = good.clone();
    if let Summary::Endpoint(s) = &mut bad_hist[1] {
        s.hist = "bm90IGEgaGlzdG9ncmFt".into();
    }
    let bad_hist = fixture(tmp.path(), "hist.ndjson", &bad_hist);
    fails_with(
        &[&bad_hist, "--out-dir", out],
        &[&format!("{bad_hist}:2:"), "hist"],
    );

    // Events instead of a summary: no `kind`.
    let events = tmp.path().join("events.ndjson");
    std::fs::write(
        &events,
        "{\"ts\":1,\"name\":\"GET /\",\"status\":200,\"latency_ns\":5}\n",
    )
    .unwrap();
    let events = events.to_str().unwrap().to_string();
    fails_with(&[&events, "--out-dir", out], &[&format!("{events}:1:")]);

    let empty = tmp.path().join("empty.ndjson");
    std::fs::write(&empty, "").unwrap();
    fails_with(
        &[empty.to_str().unwrap(), "--out-dir", out],
        &["no summary records"],
    );

    fails_with(
        &["/nonexistent/run.ndjson", "--out-dir", out],
        &["/nonexistent/run.ndjson"],
    );

    let run = fixture(tmp.path(), "run.ndjson", &good);
    fails_with(&[&run, "--out-dir", out, "--size", "huge"], &["--size"]);
    fails_with(
        &[&run, "--out-dir", out, "--pg", &broken],
        &[&format!("{broken}:3:")],
    );
    fails_with(&[&run, "--out-dir", out, "--pg", &run], &["no pg samples"]);
    fails_with(&[&run], &["--out-dir"]);
}

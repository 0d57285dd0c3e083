//! report.html from the command line: where it goes, how big it gets, and
//! that the summary records it embeds read back as aggregate wrote them.

mod common;

use std::path::Path;

use common::{summary, write, Spec};
use records::Summary;
use serde_json::Value;

fn chart(args: &[&str]) -> String {
    let out = records::testkit::cmd("chart")
        .args(args)
        .output()
        .expect("run chart");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chart failed: {stderr}");
    stderr
}

/// The JSON inside `<script type="application/json" id="ID">`.
fn script_json(html: &str, id: &str) -> Value {
    let open = format!("<script type=\"application/json\" id=\"{id}\">");
    let start = html.find(&open).unwrap_or_else(|| panic!("no #{id}")) + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

#[test]
fn a_one_hour_fifty_endpoint_run_fits_in_300_kb() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec {
        intervals: 3600,
        endpoints: 50,
        requests: 20_000,
        label: Some("one-hour".into()),
        ..Spec::default()
    };
    let run = dir.path().join("hour.ndjson");
    write(&run, &summary(&spec));
    let html = dir.path().join("hour.html");
    chart(&[run.to_str().unwrap(), "--html", html.to_str().unwrap()]);
    let text = std::fs::read_to_string(&html).unwrap();
    let size = text.len();
    assert!(size <= 300 * 1024, "report.html is {size} bytes");
    // Self-contained: no URL for the browser to fetch.
    for needle in ["src=\"http", "href=\"http", "<link", "@import", "url("] {
        assert!(!text.contains(needle), "report.html contains {needle}");
    }
    // Every endpoint, total and run record is embedded as aggregate wrote it.
    let embedded = script_json(&text, "summary-records");
    let back: Vec<Summary> =
        serde_json::from_value(embedded["runs"][0]["records"].clone()).unwrap();
    // As read from the file (the reader chart uses), not as generated:
    // serde_json's float parsing may differ from the original in the last bit.
    let file = std::fs::read_to_string(&run).unwrap();
    let read: Vec<Summary> = file
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kept: Vec<&Summary> = read
        .iter()
        .filter(|r| !matches!(r, Summary::Interval(_)))
        .collect();
    assert_eq!(back.len(), kept.len());
    for (a, b) in back.iter().zip(kept) {
        assert_eq!(a, b);
    }
    assert_eq!(embedded["runs"][0]["intervals_left_out"], 3600);
    // The time series are downsampled, not dropped.
    let charts = script_json(&text, "chart-data");
    let latency = &charts["charts"][0];
    assert_eq!(latency["id"], "r0-latency");
    let n = latency["series"][0]["x"].as_array().unwrap().len();
    assert!((500..=600).contains(&n), "{n} points");
}

#[test]
fn out_dir_gets_report_html_beside_the_pngs_and_stderr_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.ndjson");
    write(&run, &summary(&Spec::default()));
    let out = dir.path().join("charts");
    let stderr = chart(&[run.to_str().unwrap(), "--out-dir", out.to_str().unwrap()]);
    let report = out.join("report.html");
    assert!(report.is_file(), "{stderr}");
    assert!(
        stderr.contains(&format!("  {}", report.display())),
        "{stderr}"
    );
    assert!(stderr.contains("4 charts and report.html"), "{stderr}");
    // --html alone writes only the report.
    let only = dir.path().join("ci/artifact.html");
    let stderr = chart(&[run.to_str().unwrap(), "--html", only.to_str().unwrap()]);
    assert!(only.is_file(), "{stderr}");
    let pngs = std::fs::read_dir(dir.path().join("ci")).unwrap().count();
    assert_eq!(pngs, 1, "only the report in ci/");
    assert!(!Path::new("report.html").exists() || stderr.contains("ci/artifact.html"));
}

#[test]
fn flows_get_a_table_of_their_own_and_are_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = summary(&Spec::default());
    // A flow record, shaped like an endpoint: 40 iterations, 2 failed at a step.
    let Some(Summary::Endpoint(endpoint)) = records
        .iter()
        .find(|r| matches!(r, Summary::Endpoint(_)))
        .cloned()
    else {
        panic!("an endpoint")
    };
    let mut flow = endpoint;
    flow.name = "task lifecycle".into();
    flow.errors = flow.count.min(2);
    flow.status.clear();
    flow.error_kinds = [("lifecycle: DELETE /x".to_string(), flow.errors)].into();
    flow.failures.clear();
    records.push(Summary::Flow(flow.clone()));
    let run = dir.path().join("flows.ndjson");
    write(&run, &records);
    let html = dir.path().join("r.html");
    chart(&[run.to_str().unwrap(), "--html", html.to_str().unwrap()]);
    let text = std::fs::read_to_string(&html).unwrap();
    let table = &text[text.find("<h3>Flows</h3>").expect("a flows table")..];
    assert!(table.contains("task lifecycle"), "the flow's row");
    assert!(table.contains("lifecycle: DELETE /x"), "where it failed");
    assert!(
        table.contains(&format!("data-v=\"{}\"", flow.count)),
        "its iterations"
    );
    let embedded = script_json(&text, "summary-records");
    let back: Vec<Summary> =
        serde_json::from_value(embedded["runs"][0]["records"].clone()).unwrap();
    assert!(back.contains(&Summary::Flow(flow)));
}

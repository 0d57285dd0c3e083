//! docs/ci/github-actions.yml's shell steps, run as the workflow runs them
//! (bash -eo pipefail, the workflow's env with the target and paths
//! replaced) against tasktracker: they pass against the same target, and the
//! comparison step fails the job (exit 1) when the target got slower. The
//! install step (`make install`, a release build) is replaced by PATH.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use records::testkit::{bin, run_bounded, Server};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// (step name, script) of every `run: |` step, in order.
fn run_steps(workflow: &str) -> Vec<(String, String)> {
    let mut steps = Vec::new();
    let mut name = String::new();
    let mut lines = workflow.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if let Some(n) = trimmed.strip_prefix("- name: ") {
            name = n.trim().to_string();
        } else if trimmed == "run: |" {
            let indent = line.len() - trimmed.len();
            let mut script = String::new();
            while let Some(next) = lines.peek() {
                let deeper = next.len() - next.trim_start().len() > indent;
                if !next.trim().is_empty() && !deeper {
                    break;
                }
                script.push_str(next.trim_start());
                script.push('\n');
                lines.next();
            }
            steps.push((name.clone(), script));
        }
    }
    steps
}

/// Runs the steps against `url`; returns each step's exit code.
fn run_workflow(url: &str, run: &Path, baseline: &Path) -> Vec<(String, Option<i32>, String)> {
    let workflow = std::fs::read_to_string(Path::new(ROOT).join("docs/ci/github-actions.yml"))
        .expect("docs/ci/github-actions.yml");
    let bins = bin("seed").parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bins.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let summary = run.with_extension("step-summary.md");
    let mut codes = Vec::new();
    for (name, script) in run_steps(&workflow) {
        if name.starts_with("Install") {
            continue;
        }
        let out = run_bounded(
            Command::new("bash")
                .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
                .current_dir(ROOT)
                .env("PATH", &path)
                .env("TARGET_URL", url)
                .env("SCENARIO", "scenarios/tasktracker.toml")
                .env("USERS", "5")
                // a short load instead of the preset's 30 s
                .env("LOAD", "--vus 5 --duration 3s --think 20ms..50ms")
                .env("BASELINE", baseline)
                .env("MAX_INCREASE", "p95=20%")
                .env("RUN", run)
                .env("GITHUB_STEP_SUMMARY", &summary),
            Duration::from_secs(120),
        );
        codes.push((
            name,
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        ));
    }
    codes
}

#[test]
fn the_ci_example_runs_and_fails_the_job_on_a_regression() {
    let tmp = tempfile::tempdir().unwrap();
    let fast = Server::start(&["--hash-cost", "4"]);
    // A first run makes the baseline the example compares with.
    let first: PathBuf = tmp.path().join("first");
    let codes = run_workflow(&fast.url, &first, &tmp.path().join("none.ndjson"));
    let names: Vec<&str> = codes.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Seed users",
            "Load with thresholds",
            "Charts",
            "Compare with the baseline",
            "Drop the credentials"
        ]
    );
    for (name, code, err) in &codes {
        let expected = if name.starts_with("Compare") { 2 } else { 0 };
        assert_eq!(*code, Some(expected), "{name}: {err}");
    }
    let pngs = std::fs::read_dir(first.join("charts"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert!(pngs > 0, "the Charts step drew no PNG");
    assert!(
        !first.join("users.ndjson").exists(),
        "credentials left for the upload"
    );
    let baseline = tmp.path().join("baseline.ndjson");
    std::fs::copy(first.join("summary.ndjson"), &baseline).unwrap();

    // The same steps against a target 50 ms slower: the job fails at compare.
    let slow = Server::start(&["--hash-cost", "4", "--delay", "50ms"]);
    let codes = run_workflow(&slow.url, &tmp.path().join("slow"), &baseline);
    for (name, code, err) in &codes {
        let expected = match name.as_str() {
            // p95 < 500ms still holds; 50 ms more is a regression
            n if n.starts_with("Compare") => 1,
            _ => 0,
        };
        assert_eq!(*code, Some(expected), "{name}: {err}");
    }
    let comment = std::fs::read_to_string(tmp.path().join("slow.step-summary.md")).unwrap();
    assert!(comment.contains("regression"), "{comment}");
}

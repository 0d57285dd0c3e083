//! Flows (user journeys), teardown, `exists_when` and `--dry-run`: the real
//! binaries against the real tasktracker on loopback.

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;

use common::*;
use records::testkit::{cmd, write_file, Server};
use records::Iteration;

const LIFECYCLE: [&str; 4] = [
    "lifecycle: POST /api/v1/tasks/",
    "lifecycle: GET /api/v1/tasks/{id}",
    "lifecycle: PATCH /api/v1/tasks/{id}/complete",
    "lifecycle: DELETE /api/v1/tasks/{id}",
];

/// A scenario file in `dir` made of `text` (under tasktracker's [seed], when `with_seed`).
fn scenario(dir: &tempfile::TempDir, text: &str, with_seed: bool) -> String {
    let mut all = String::new();
    if with_seed {
        let base = std::fs::read_to_string(SCENARIO).unwrap();
        let seed_end = base.find("[hammer]").unwrap();
        all.push_str(&base[..seed_end]);
    }
    all.push_str(text);
    let path = write_file(dir.path(), "flow.toml", all.as_bytes());
    path.to_str().unwrap().to_string()
}

/// Titles of every task the user with `token` has on the server.
fn task_titles(url: &str, token: &str) -> Vec<String> {
    let bearer = format!("Bearer {token}");
    let (status, body) = http(
        "GET",
        &format!("{url}/api/v1/tasks/?limit=1000"),
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_slice(&body).expect("a JSON task list");
    let items = body
        .as_array()
        .cloned()
        .or_else(|| body.get("items").and_then(|v| v.as_array()).cloned())
        .unwrap_or_else(|| panic!("task list: {body}"));
    items
        .iter()
        .map(|t| t["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn users_of(file: &tempfile::NamedTempFile) -> Vec<records::User> {
    records::ndjson::read_from(std::fs::File::open(file.path()).unwrap(), "users").unwrap()
}

#[test]
fn the_lifecycle_journey_creates_reads_completes_and_deletes_the_same_task() {
    let server = Server::start(&["--hash-cost", "4"]);
    let users = seed_users(&server.url, 3);
    let out = hammer(&[
        "-s",
        SCENARIO,
        "--target",
        &server.url,
        "--users-file",
        users.path().to_str().unwrap(),
        "--only",
        "task lifecycle",
        "--vus",
        "6",
        "--iterations",
        "10",
        "--think",
        "0s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    let iterations = iterations(&out.stdout);
    assert_eq!(iterations.len(), 60, "6 VUs x 10 iterations");
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &events {
        assert!(e.error.is_none(), "{e:?}");
        assert_ne!(e.status, 404, "{e:?}");
        *counts.entry(e.name.as_str()).or_default() += 1;
    }
    // Every step of every iteration, and nothing else. Each read and
    // complete checks `/id` equals the id the create captured, so zero
    // errors says each iteration worked on its own task.
    assert_eq!(
        counts,
        LIFECYCLE
            .iter()
            .map(|n| (*n, 60))
            .collect::<BTreeMap<_, _>>()
    );
    for it in &iterations {
        assert_eq!(
            (it.flow.as_str(), it.requests, &it.error),
            ("task lifecycle", 4, &None)
        );
        assert!(it.duration_ns > 0);
    }
    // Within a VU the steps go in order: create, read, complete, delete.
    for vu in 1..=6 {
        let mut mine: Vec<_> = events.iter().filter(|e| e.vu == vu).collect();
        mine.sort_by_key(|e| e.ts);
        for (i, e) in mine.iter().enumerate() {
            assert_eq!(e.name, LIFECYCLE[i % 4], "VU {vu}, event {i}");
        }
    }
    // Each journey deleted what it made: no lifecycle task is left.
    for user in users_of(&users) {
        let titles = task_titles(&server.url, user.token.as_deref().unwrap());
        assert!(
            !titles.iter().any(|t| t.starts_with("Lifecycle task")),
            "{}: {titles:?}",
            user.user
        );
        assert_eq!(titles.len(), 20, "the 20 seeded tasks stay");
    }
}

#[test]
fn a_loop_over_a_range_runs_uniformly_within_it() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        &dir,
        r#"
[hammer]
[[hammer.flows]]
name = "children"
[[hammer.flows.steps]]
repeat = "1..30"
steps = [{ name = "GET /health", path = "/health" }]
"#,
        false,
    );
    let out = hammer(&[
        "-s",
        &file,
        "--target",
        &server.url,
        "--vus",
        "4",
        "--iterations",
        "300",
        "--think",
        "0s",
        "--random-seed",
        "7",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let iterations = iterations(&out.stdout);
    assert_eq!(iterations.len(), 1200);
    let mut seen = [0u32; 31];
    for it in &iterations {
        assert!((1..=30).contains(&it.requests), "{it:?}");
        seen[it.requests as usize] += 1;
    }
    let sent: u32 = iterations.iter().map(|it| it.requests).sum();
    assert_eq!(events(&out.stdout).len() as u32, sent);
    // Chi-square over the 30 counts against 40 each: 29 degrees of
    // freedom, 58.3 is the 0.1% critical value.
    let expected = 1200.0 / 30.0;
    let chi2: f64 = seen[1..]
        .iter()
        .map(|&n| (f64::from(n) - expected).powi(2) / expected)
        .sum();
    assert!(chi2 < 58.3, "chi-square {chi2:.1}: {:?}", &seen[1..]);
    assert!(seen[1] > 0 && seen[30] > 0, "both ends reached: {seen:?}");
}

/// The flow's three steps, as the failure test runs them.
const STEPS: [&str; 3] = ["s1 GET /health", "s2 GET /health", "s3 GET /health"];

#[test]
fn a_failing_step_stops_its_iteration_and_the_record_names_it() {
    let server = Server::start(&["--fail-rate", "0.3"]);
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        String::from("[hammer]\n[[hammer.flows]]\nname = \"three steps\"\non_failure = \"stop\"\n");
    for name in STEPS {
        text.push_str(&format!(
            "[[hammer.flows.steps]]\nname = \"{name}\"\npath = \"/health\"\nexpect = [200]\n"
        ));
    }
    let file = scenario(&dir, &text, false);
    let out = hammer(&[
        "-s",
        &file,
        "--target",
        &server.url,
        "--vus",
        "1",
        "--iterations",
        "200",
        "--think",
        "0s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut events = events(&out.stdout);
    events.sort_by_key(|e| e.ts);
    let iterations = iterations(&out.stdout);
    assert_eq!(iterations.len(), 200);
    // Walk the events iteration by iteration: each runs its steps in order
    // up to and including the first failure, then the next one starts.
    let mut at = 0;
    let mut failed = 0;
    for it in &iterations {
        let mine = &events[at..at + it.requests as usize];
        at += it.requests as usize;
        for (i, e) in mine.iter().enumerate() {
            assert_eq!(e.name, STEPS[i]);
            assert_eq!(e.error.is_some(), i + 1 == mine.len() && it.error.is_some());
        }
        match &it.failed_step {
            Some(step) => {
                failed += 1;
                assert_eq!(step, &mine.last().unwrap().name);
                assert_eq!(it.error.as_deref(), Some("status"));
            }
            None => assert_eq!(mine.len(), 3),
        }
    }
    assert_eq!(at, events.len());
    // 1 - 0.7^3 of the iterations fail, about 66%.
    assert!((90..=170).contains(&failed), "{failed} of 200 failed");
}

#[test]
fn aggregate_reports_flow_tps_and_durations_and_judges_flow_thresholds() {
    let server = Server::start(&["--hash-cost", "4", "--delay", "2ms"]);
    let users = seed_users(&server.url, 2);
    let events_file = tempfile::NamedTempFile::new().unwrap();
    let out = hammer(&[
        "-s",
        SCENARIO,
        "--target",
        &server.url,
        "--users-file",
        users.path().to_str().unwrap(),
        "--only",
        "task lifecycle",
        "--rate",
        "40",
        "--duration",
        "3s",
        "-o",
        events_file.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let raw = std::fs::read(events_file.path()).unwrap();
    let its: Vec<Iteration> = iterations(&raw);
    let load = load(&raw).expect("a load record");
    assert!(its.len() >= 100, "{} iterations", its.len());

    let summary = cmd("aggregate")
        .args([events_file.path().to_str().unwrap(), "--format", "ndjson"])
        .args(["--threshold", "task lifecycle:p95<1ms"])
        .args(["--threshold", "task lifecycle:error_rate<1%"])
        .output()
        .unwrap();
    assert_eq!(
        summary.status.code(),
        Some(1),
        "the p95<1ms threshold breaks"
    );
    let records: Vec<records::Summary> =
        records::ndjson::read_from(&summary.stdout[..], "aggregate").unwrap();
    let flow = records
        .iter()
        .find_map(|r| match r {
            records::Summary::Flow(s) => Some(s.clone()),
            _ => None,
        })
        .expect("a flow record");
    assert_eq!(flow.name, "task lifecycle");
    assert_eq!(flow.count, its.len() as u64);
    assert_eq!(flow.errors, 0);
    // TPS: iterations per second of hammer's load window.
    let window = (load.end - load.start) as f64 / 1e9;
    assert!((flow.rps - its.len() as f64 / window).abs() < 1e-6 * flow.rps);
    assert!((flow.rps - 40.0).abs() < 2.0, "{} TPS at 40/s", flow.rps);
    // Durations from the scheduled start, against the raw records (the
    // histogram keeps 3 significant digits).
    let mut times: Vec<u64> = its.iter().map(|it| it.lag_ns + it.duration_ns).collect();
    for (q, got) in [(0.5, flow.latency.p50_ns), (0.95, flow.latency.p95_ns)] {
        let want = percentile(&mut times, q) as f64;
        assert!(
            (got as f64 - want).abs() <= want * 0.002,
            "p{q}: {got} vs {want}"
        );
    }
    // Four 2 ms steps: a journey takes at least 8 ms.
    assert!(flow.latency.min_ns >= 8_000_000, "{:?}", flow.latency);
    let thresholds: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            records::Summary::Threshold(t) => Some((t.expr.clone(), t.ok)),
            _ => None,
        })
        .collect();
    assert_eq!(
        thresholds,
        vec![
            ("task lifecycle:p95<1ms".to_string(), false),
            ("task lifecycle:error_rate<1%".to_string(), true)
        ]
    );
    // The table has the flows section.
    let table = cmd("aggregate")
        .args([events_file.path().to_str().unwrap(), "--format", "table"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("flows (one iteration = one transaction"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.trim_start().starts_with("task lifecycle ")),
        "{table}"
    );
}

#[test]
fn the_teardown_logs_every_user_out() {
    let server = Server::start(&["--hash-cost", "4"]);
    let users = seed_users(&server.url, 4);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        &dir,
        r#"
[hammer]
[[hammer.requests]]
name = "GET /api/v1/auth/me"
path = "/api/v1/auth/me"
expect = [200]

[[teardown]]
name = "POST /api/v1/auth/logout"
method = "POST"
path = "/api/v1/auth/logout"
expect = [204]
"#,
        true,
    );
    let refresh = |token: &str| -> u16 {
        http(
            "POST",
            &format!("{}/api/v1/auth/refresh", server.url),
            &[("Content-Type", "application/json")],
            &format!(r#"{{"refresh_token":"{token}"}}"#),
        )
        .0
    };
    let out = hammer(&[
        "-s",
        &file,
        "--target",
        &server.url,
        "--users-file",
        users.path().to_str().unwrap(),
        "--vus",
        "4",
        "--iterations",
        "3",
        "--think",
        "0s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    let logouts: Vec<_> = events
        .iter()
        .filter(|e| e.name == "POST /api/v1/auth/logout")
        .collect();
    assert_eq!(logouts.len(), 4, "one logout per seeded user");
    assert!(logouts.iter().all(|e| e.status == 204 && e.error.is_none()));
    // The teardown comes after the load: every logout after every request.
    let last_request = events
        .iter()
        .filter(|e| e.name != "POST /api/v1/auth/logout")
        .map(|e| e.ts)
        .max()
        .unwrap();
    assert!(logouts.iter().all(|e| e.ts > last_request));
    // Logged out: the seeded refresh tokens are revoked.
    for user in users_of(&users) {
        assert_eq!(
            refresh(user.refresh_token.as_deref().unwrap()),
            401,
            "{}",
            user.user
        );
    }
}

#[test]
fn exists_when_tells_an_existing_user_from_a_validation_error() {
    let server = Server::start(&["--hash-cost", "4"]);
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(SCENARIO).unwrap();
    let with_match = base.replace(
        "expect = [201, 409]\nexists = [409]",
        "expect = [201, 409, 422]\nexists = [409, 422]\nexists_when = { contains = \"already registered\" }",
    );
    assert_ne!(with_match, base);
    let file = write_file(dir.path(), "s.toml", with_match.as_bytes());
    let seed = || {
        cmd("seed")
            .args(["-s", file.to_str().unwrap(), "--target", &server.url])
            .args(["--users", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    };
    let first = seed();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("2 created, 0 existed"),
        "{}",
        stderr(&first)
    );
    // The same users again: a 409 that says "already registered" exists.
    let again = seed();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("0 created, 2 existed"),
        "{}",
        stderr(&again)
    );
    // A 422 (also listed in `exists`) without that text is a failure, with
    // the server's message.
    let bad = with_match.replace(
        "user = \"loadtest{n}@example.com\"",
        "user = \"not-an-email-{n}\"",
    );
    let bad_file = write_file(dir.path(), "bad.toml", bad.as_bytes());
    let out = cmd("seed")
        .args(["-s", bad_file.to_str().unwrap(), "--target", &server.url])
        .args(["--users", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("status 422, not \"already exists\" (no `already registered`)"),
        "{err}"
    );
    assert!(err.contains("a valid email address is required"), "{err}");
}

#[test]
fn every_shipped_scenario_passes_the_dry_run_and_a_broken_one_names_its_lines() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let out = hammer(&["--dry-run", "-s", path.to_str().unwrap()]);
            assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
            assert!(stderr(&out).contains(": OK: "), "{}", stderr(&out));
            checked += 1;
        }
    }
    assert!(checked >= 3);

    let scratch = tempfile::tempdir().unwrap();
    let file = scenario(
        &scratch,
        r#"
[hammer]
[[hammer.requests]]
path = "/tasks/{var:task_id}"
[[hammer.flows]]
name = "f"
[[hammer.flows.steps]]
path = "/a/{flow:later}"
"#,
        true,
    );
    let out = hammer(&["--dry-run", "-s", &file]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let seed_lines = std::fs::read_to_string(SCENARIO)
        .unwrap()
        .split("[hammer]")
        .next()
        .unwrap()
        .lines()
        .count();
    assert!(
        err.contains(&format!("flow.toml:{}: ", seed_lines + 4))
            && err.contains("no step makes the var `task_id`")
            && err.contains("did you mean `{var:task_ids}`"),
        "{err}"
    );
    assert!(
        err.contains(&format!("flow.toml:{}: ", seed_lines + 8))
            && err.contains("`{flow:later}` is used before any step sets it"),
        "{err}"
    );
    // No target was needed: nothing listens on the scenario's base_url here.
}

#[test]
fn check_runs_every_request_and_flow_once_and_fails_on_a_failure() {
    let server = Server::start(&["--hash-cost", "4"]);
    let users = seed_users(&server.url, 1);
    let users_path = users.path().to_str().unwrap();
    let out = hammer(&[
        "--check",
        "-s",
        SCENARIO,
        "--target",
        &server.url,
        "--users-file",
        users_path,
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(out.stdout.is_empty(), "no events unless asked");
    // The 10 requests of the mix and the 4 steps of the flow, each once.
    assert!(err.contains("hammer: check: 14 passed, 0 failed"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.ends_with("PASS")).count(),
        15,
        "{err}"
    );
    assert!(err.contains("flow task lifecycle (4 requests"), "{err}");
    // Its DELETE took the task its POST made: every seeded task is still there,
    // as the users file says, for the load that follows.
    let user = &users_of(&users)[0];
    let Some(records::Var::List(ids)) = user.vars.get("task_ids") else {
        panic!("seeded task ids")
    };
    let bearer = format!("Bearer {}", user.token.as_deref().unwrap());
    for id in ids {
        let url = format!(
            "{}/api/v1/tasks/{}",
            server.url,
            records::exchange::value_text(id)
        );
        assert_eq!(
            http("GET", &url, &[("Authorization", &bearer)], "").0,
            200,
            "{url}"
        );
    }

    // A failing target: FAIL lines with the reason, exit 1.
    let failing = Server::start(&["--hash-cost", "4", "--fail-rate", "1"]);
    let out = hammer(&[
        "--check",
        "-s",
        SCENARIO,
        "--target",
        &failing.url,
        "--users-file",
        users_path,
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FAIL  status: status 500, expected 200"),
        "{err}"
    );
    assert!(
        err.contains("FAIL  stopped at lifecycle: POST /api/v1/tasks/"),
        "{err}"
    );
    assert!(err.contains(" 0 passed, "), "{err}");
}

#[test]
fn seed_runs_the_teardown_for_users_whose_run_is_over_and_checks_without_a_target() {
    let server = Server::start(&["--hash-cost", "4"]);
    let users = seed_users(&server.url, 3);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        &dir,
        r#"
[hammer]
[[hammer.requests]]
path = "/api/v1/auth/me"

[[teardown]]
name = "POST /api/v1/auth/logout"
method = "POST"
path = "/api/v1/auth/logout"
expect = [204]
"#,
        true,
    );
    let dry = cmd("seed")
        .args(["--dry-run", "-s", &file])
        .output()
        .unwrap();
    assert!(dry.status.success(), "{}", stderr(&dry));
    let out = cmd("seed")
        .args(["-s", &file, "--target", &server.url])
        .args(["--teardown", users.path().to_str().unwrap()])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("teardown of 3 users") && err.contains(": 0 failed"),
        "{err}"
    );
    for user in users_of(&users) {
        let (status, _) = http(
            "POST",
            &format!("{}/api/v1/auth/refresh", server.url),
            &[("Content-Type", "application/json")],
            &format!(
                r#"{{"refresh_token":"{}"}}"#,
                user.refresh_token.as_deref().unwrap()
            ),
        );
        assert_eq!(status, 401, "{} is logged out", user.user);
    }
}

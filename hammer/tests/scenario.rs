//! `seed | hammer` with the TaskTracker scenario: the mix, the templates,
//! the captures, and token refresh when tokens are short-lived.

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;

use common::*;
use records::testkit::{cmd, Server};

#[test]
fn seed_pipes_users_and_the_mix_follows_the_weights() {
    let server = Server::start(&["--hash-cost", "4"]);
    // seed | hammer, as people run it.
    let mut seed = cmd("seed")
        .args(["-s", SCENARIO, "--target", &server.url, "--users", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = cmd("hammer")
        .args([
            "-s",
            SCENARIO,
            "--target",
            &server.url,
            "--vus",
            "20",
            "--think",
            "0s",
        ])
        .args(["--requests", "6000", "--duration", "60s", "--threads", "2"])
        .stdin(seed.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(seed.wait().unwrap().success());
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    assert!(events.len() >= 5_000, "{} events", events.len());
    assert_eq!(summary_requests(&stderr(&out)), events.len() as u64);

    // Names are the scenario's templates, never concrete IDs.
    let weights: BTreeMap<&str, f64> = [
        ("GET /api/v1/tasks/", 20.0),
        ("GET /api/v1/tasks/?status={status}", 15.0),
        ("GET /api/v1/tasks/{id}", 20.0),
        ("GET /api/v1/stats/", 10.0),
        ("GET /api/v1/auth/me", 5.0),
        ("POST /api/v1/tasks/", 20.0),
        ("PUT /api/v1/tasks/{id}", 3.0),
        ("PATCH /api/v1/tasks/{id}/complete", 2.0),
        ("PATCH /api/v1/tasks/{id}/incomplete", 2.0),
        ("DELETE /api/v1/tasks/{id}", 3.0),
    ]
    .into_iter()
    .collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in &events {
        assert!(
            !e.name
                .split(['/', '?'])
                .any(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit())),
            "a concrete ID in {}",
            e.name
        );
        *counts.entry(e.name.clone()).or_default() += 1;
    }
    let mix: usize = counts
        .iter()
        .filter(|(n, _)| weights.contains_key(n.as_str()))
        .map(|(_, c)| c)
        .sum();
    for (name, weight) in &weights {
        let share = *counts.get(*name).unwrap_or(&0) as f64 * 100.0 / mix as f64;
        assert!(
            (share - weight).abs() <= 3.0,
            "{name}: {share:.1}% vs {weight}% ({counts:?})"
        );
    }
    // Every name is a mix, auth or task-lifecycle (the scenario's flow) request.
    for name in counts.keys() {
        assert!(
            weights.contains_key(name.as_str())
                || name.starts_with("POST /api/v1/auth/")
                || name.starts_with("lifecycle: "),
            "{name}"
        );
    }
    let errors: Vec<_> = events.iter().filter(|e| e.error.is_some()).collect();
    let rate = errors.len() as f64 / events.len() as f64;
    assert!(
        rate < 0.01,
        "error rate {rate}: {:?}",
        errors.iter().take(5).collect::<Vec<_>>()
    );
    // Each VU is one user, and uses its own number.
    let vus: std::collections::BTreeSet<u32> = events.iter().map(|e| e.vu).collect();
    assert_eq!(vus, (1..=20).collect());
}

#[test]
fn short_lived_tokens_are_refreshed_before_they_fail() {
    let server = Server::start(&["--hash-cost", "4", "--token-ttl", "2s"]);
    let users = seed_users(&server.url, 5);
    let out = hammer(&[
        "-s",
        SCENARIO,
        "--target",
        &server.url,
        "--users-file",
        users.path().to_str().unwrap(),
        "--vus",
        "5",
        "--think",
        "50ms..150ms",
        "--duration",
        "6s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    let unauthorized: Vec<_> = events.iter().filter(|e| e.status == 401).collect();
    assert!(
        unauthorized.is_empty(),
        "{} 401s, e.g. {:?}",
        unauthorized.len(),
        unauthorized.first()
    );
    let refreshes = events
        .iter()
        .filter(|e| e.name == "POST /api/v1/auth/refresh")
        .count();
    // 6 s of 2 s tokens: each VU refreshes at least twice.
    assert!(refreshes >= 10, "{refreshes} refreshes");
    let errors = events.iter().filter(|e| e.error.is_some()).count();
    assert!(
        errors * 100 < events.len(),
        "{errors} errors in {}",
        events.len()
    );
}

#[test]
fn a_401_triggers_refresh_then_login_and_one_retry() {
    // Tokens that are already useless: the first request of each VU gets a
    // 401, re-authenticates (refresh fails too, login works) and retries.
    let server = Server::start(&["--hash-cost", "4"]);
    let users = seed_users(&server.url, 2);
    let broken = tempfile::NamedTempFile::new().unwrap();
    let text = std::fs::read_to_string(users.path()).unwrap();
    let mut lines = String::new();
    for line in text.lines() {
        let mut user: records::User = serde_json::from_str(line).unwrap();
        user.token = Some("not-a-token".into());
        user.refresh_token = Some("not-a-refresh-token".into());
        user.expires_at = None;
        lines.push_str(&serde_json::to_string(&user).unwrap());
        lines.push('\n');
    }
    std::fs::write(broken.path(), lines).unwrap();
    let out = hammer(&[
        "-s",
        SCENARIO,
        "--target",
        &server.url,
        "--users-file",
        broken.path().to_str().unwrap(),
        "--vus",
        "2",
        "--think",
        "0s",
        "--iterations",
        "20",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    let logins = events
        .iter()
        .filter(|e| e.name == "POST /api/v1/auth/login" && e.error.is_none())
        .count();
    // On failure, every event (VU, name, status, error) in send order, so a
    // flaky run can be told apart from a real bug.
    let trace = || {
        let mut all: Vec<_> = events.iter().collect();
        all.sort_by_key(|e| e.ts);
        all.iter()
            .map(|e| format!("vu{} {} {} {:?}", e.vu, e.name, e.status, e.error))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        logins,
        2,
        "one login per VU (each has its own user):\n{}",
        trace()
    );
    let unauthorized = events
        .iter()
        .filter(|e| e.status == 401 && !e.name.contains("/auth/"))
        .count();
    assert!(unauthorized <= 2, "{unauthorized} 401s after re-login");
    // Once a VU has logged in again, every request of it works.
    for vu in [1, 2] {
        let mut mine: Vec<_> = events.iter().filter(|e| e.vu == vu).collect();
        mine.sort_by_key(|e| e.ts);
        let login = mine
            .iter()
            .position(|e| e.name == "POST /api/v1/auth/login")
            .expect("a login");
        assert!(
            mine[login..].iter().all(|e| e.error.is_none()),
            "VU {vu}: {:?}",
            &mine[login..]
        );
        assert!(
            mine.len() >= 20 + 3,
            "VU {vu}: 20 iterations, a 401, a refresh, a login"
        );
    }
}

#[test]
fn bad_input_and_unreachable_targets_have_their_exit_codes() {
    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/health");
    let out = hammer(&["--url", &url, "--duration", "1s"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("127.0.0.1:{port}")),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());

    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        bad.path(),
        "[hammer]\n[[hammer.requests]]\npath = \"/x\"\nwieght = 3\n",
    )
    .unwrap();
    let out = hammer(&[
        "-s",
        bad.path().to_str().unwrap(),
        "--target",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}:4", bad.path().display())) && err.contains("wieght"),
        "{err}"
    );

    // The TaskTracker scenario needs users; none on stdin is a clear error.
    let server = Server::start(&["--hash-cost", "4"]);
    let out = hammer(&["-s", SCENARIO, "--target", &server.url, "--duration", "1s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no users"), "{}", stderr(&out));

    let garbage = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(garbage.path(), "{\"user\":\"a\"}\nnot json\n").unwrap();
    let out = hammer(&[
        "-s",
        SCENARIO,
        "--target",
        &server.url,
        "--users-file",
        garbage.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(":2:"), "{}", stderr(&out));
}

#[test]
fn a_scenario_without_users_runs_without_input() {
    let server = Server::start(&["--hash-cost", "4"]);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        r#"
[hammer]
[[hammer.requests]]
name = "GET /health"
path = "/health"
checks = [{ pointer = "/status" }]
max_latency = "5s"
[[hammer.requests]]
name = "GET /nowhere"
weight = 0
path = "/nowhere"
"#,
    )
    .unwrap();
    let out = hammer(&[
        "-s",
        file.path().to_str().unwrap(),
        "--target",
        &server.url,
        "--requests",
        "20",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    assert_eq!(events.len(), 20);
    assert!(
        events
            .iter()
            .all(|e| e.name == "GET /health" && e.error.is_none()),
        "{:?}",
        events[0]
    );
}

#[test]
fn vus_sharing_a_user_share_its_tasks_and_never_cause_a_404() {
    // 20 VUs over 2 users: ten VUs per user create, read, update and delete
    // the same user's tasks at once; one VU's delete removes the ID for all.
    let server = Server::start(&["--hash-cost", "4"]);
    let users = seed_users(&server.url, 2);
    let out = hammer(&[
        "-s",
        SCENARIO,
        "--target",
        &server.url,
        "--users-file",
        users.path().to_str().unwrap(),
        "--vus",
        "20",
        "--think",
        "0s",
        "--duration",
        "3s",
        "--requests",
        "20000",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    assert!(events.len() >= 200, "{} events", events.len());
    let deletes = events
        .iter()
        .filter(|e| e.name == "DELETE /api/v1/tasks/{id}" && e.error.is_none())
        .count();
    assert!(
        deletes >= 3,
        "{deletes} deletes: the race was not exercised"
    );
    let not_found: Vec<_> = events.iter().filter(|e| e.status == 404).collect();
    assert!(
        not_found.is_empty(),
        "{} 404s in {} events, e.g. {:?}",
        not_found.len(),
        events.len(),
        not_found.first()
    );
    let vus: std::collections::BTreeSet<u32> = events.iter().map(|e| e.vu).collect();
    assert_eq!(vus, (1..=20).collect());
}

#[test]
fn insecure_says_tls_verification_is_off() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://127.0.0.1:{port}/health");
    let out = hammer(&["--url", &url, "--insecure", "--duration", "1s"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("TLS certificate verification is off"),
        "{}",
        stderr(&out)
    );
    // Without --insecure, no such notice.
    let out = hammer(&["--url", &url, "--duration", "1s"]);
    assert!(
        !stderr(&out).contains("verification is off"),
        "{}",
        stderr(&out)
    );
}

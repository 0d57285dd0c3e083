//! Bad users input, SIGTERM, and a reader that leaves mid-pipeline, with the
//! real binaries against the real tasktracker on loopback. (SIGINT and a
//! closed stdout alone are in `faults.rs`.)

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use records::testkit::{assert_bad_input, bin, cmd, run_bounded, wait_bounded, write_file, Server};

const TOOL: &str = "hammer";

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/tasktracker.toml")
}

fn hammer_users(users: &Path) -> Output {
    // Port 9 (discard) is closed on loopback: users are read, and refused,
    // before anything is sent.
    run_bounded(
        cmd("hammer")
            .arg("-s")
            .arg(scenario())
            .args([
                "--target",
                "http://127.0.0.1:9",
                "--duration",
                "2s",
                "-q",
                "--users-file",
            ])
            .arg(users),
        Duration::from_secs(60),
    )
}

const GOOD_USER: &str =
    r#"{"user":"a@example.com","password":"p","token":"t","vars":{"task_ids":["1"]}}"#;

#[test]
fn bad_users_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("binary garbage", (0u8..=255).cycle().take(4096).collect()),
        (
            "expires_at 1e400",
            br#"{"user":"a","expires_at":1e400}"#.to_vec(),
        ),
        (
            "expires_at 2^64",
            br#"{"user":"a","expires_at":18446744073709551616}"#.to_vec(),
        ),
        ("user as a number", br#"{"user":5,"password":"p"}"#.to_vec()),
        ("vars as a string", br#"{"user":"a","vars":"x"}"#.to_vec()),
        ("duplicate key", br#"{"user":"a","user":"b"}"#.to_vec()),
        ("half a line", br#"{"user":"a","pass"#.to_vec()),
    ];
    for (i, (case, line)) in cases.into_iter().enumerate() {
        let mut text = format!("{GOOD_USER}\n").into_bytes();
        text.extend_from_slice(&line);
        text.push(b'\n');
        let path = write_file(dir.path(), &format!("users{i}.ndjson"), &text);
        assert_bad_input(
            TOOL,
            &hammer_users(&path),
            case,
            &format!("{}:2", path.display()),
        );
    }
    let empty = write_file(dir.path(), "empty.ndjson", b"");
    assert_bad_input(
        TOOL,
        &hammer_users(&empty),
        "empty",
        &empty.display().to_string(),
    );

    // A 100 MB line: refused at 16 MiB, so quickly and in bounded memory.
    let huge = dir.path().join("huge.ndjson");
    let mut text = format!("{GOOD_USER}\n{{\"user\":\"").into_bytes();
    text.resize(text.len() + (100 << 20), b'x');
    text.extend_from_slice(b"\"}\n");
    std::fs::write(&huge, text).unwrap();
    let out = hammer_users(&huge);
    assert_bad_input(TOOL, &out, "100 MB line", &format!("{}:2", huge.display()));
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than"));
}

fn whole_events(path: &Path) -> Vec<records::Event> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes.last(), Some(&b'\n'), "half a line at the end");
    let text = std::str::from_utf8(&bytes).unwrap();
    // The closing `load` record is the last line; every other is an Event.
    let body = text
        .strip_suffix('\n')
        .and_then(|t| t.rsplit_once('\n'))
        .filter(|(_, last)| last.starts_with("{\"kind\":\"load\""))
        .map_or(text.to_string(), |(events, _)| format!("{events}\n"));
    records::ndjson::read_from(body.as_bytes(), "hammer output").expect("whole Event lines")
}

#[test]
fn sigterm_mid_run_writes_whole_events_and_exits_0() {
    let server = Server::start(&["--hash-cost", "4", "--delay", "20ms"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.ndjson");
    let mut child = cmd("hammer")
        .args(["--url", &format!("{}/health", server.url)])
        .args(["--vus", "20", "--duration", "60s", "-q"])
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    // Mid-run: events have reached the file (handed over at 256 KiB or every 200 ms).
    let start = Instant::now();
    while std::fs::metadata(&out).unwrap().len() == 0 {
        assert!(child.try_wait().unwrap().is_none(), "ended early");
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no events in 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = whole_events(&out).len();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    // The grace is 5 s and the requests take ~20 ms: well under it.
    let status = wait_bounded(&mut child, Duration::from_secs(10), "hammer");
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let events = whole_events(&out);
    assert!(events.len() > before, "{} then {}", before, events.len());
    assert!(
        events.iter().all(|e| e.error.is_none()),
        "errors after SIGTERM"
    );
}

/// `seed | hammer | head -100`: head leaves after 100 events; hammer (in a
/// long run) and seed (done by then) end promptly with exit 0 and say nothing
/// about the broken pipe.
#[test]
fn a_reader_leaving_mid_pipeline_ends_upstream_quietly() {
    let server = Server::start(&["--hash-cost", "4"]);
    let dir = tempfile::tempdir().unwrap();
    let s = scenario();
    let script = format!(
        "'{seed}' -s '{s}' --target {url} --users 10 -q 2>'{dir}/seed.err' \
         | '{hammer}' -s '{s}' --target {url} --vus 10 --think 0s --duration 5m 2>'{dir}/hammer.err' \
         | head -100 >'{dir}/head.out'; echo \"status ${{PIPESTATUS[*]}}\"",
        seed = bin("seed").display(),
        hammer = bin("hammer").display(),
        s = s.display(),
        url = server.url,
        dir = dir.path().display(),
    );
    let started = Instant::now();
    let out = run_bounded(
        Command::new("bash").arg("-c").arg(script),
        Duration::from_secs(60),
    );
    let took = started.elapsed();
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let (seed_err, hammer_err) = (read("seed.err"), read("hammer.err"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "status 0 0 0",
        "seed: {seed_err}\nhammer: {hammer_err}"
    );
    assert!(took < Duration::from_secs(30), "the pipeline took {took:?}");
    let head = read("head.out");
    assert_eq!(head.lines().count(), 100);
    // Whole lines: events, and the flows' iteration records among them.
    for line in head.lines() {
        if serde_json::from_str::<records::Event>(line).is_err() {
            match serde_json::from_str::<records::event::StreamRecord>(line) {
                Ok(records::event::StreamRecord::Iteration(_)) => {}
                other => panic!("not a whole event or iteration record: {other:?}: {line}"),
            }
        }
    }
    for (tool, err) in [("seed", &seed_err), ("hammer", &hammer_err)] {
        let lower = err.to_lowercase();
        assert!(
            !lower.contains("error")
                && !lower.contains("broken pipe")
                && !lower.contains("panicked"),
            "{tool} said: {err}"
        );
    }
}

#[test]
fn seeds_users_count_given_to_hammer_names_what_hammer_takes() {
    let out = run_bounded(
        cmd("hammer").args(["--url", "http://127.0.0.1:9/", "--users", "50"]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("seed's count") && err.contains("--vus 50") && err.contains("--users-file"),
        "{err}"
    );
    let out = run_bounded(
        cmd("hammer").args(["--url", "http://127.0.0.1:9/", "--users", "users.ndjson"]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--users-file users.ndjson"), "{err}");
}

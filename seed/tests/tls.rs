//! The TLS flags are one decision (records::tls) for seed and hammer: the
//! same flags, and a bad file is the same exit 2 naming it in both. (The
//! certificate problems against a real server are in hammer/tests/tls.rs,
//! which runs seed, hammer and aggregate together.)

use std::path::Path;
use std::process::Output;

use records::testkit::{assert_bad_input, cmd, pki, write_file};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/tasktracker.toml");

/// Runs `tool` against a target nothing listens on: the flags must fail first.
fn run(tool: &str, flags: &[&str]) -> Output {
    let url = "https://127.0.0.1:9";
    let mut command = cmd(tool);
    match tool {
        "seed" => command.args(["-s", SCENARIO, "--target", url]),
        _ => command.args(["--url", url, "--requests", "1"]),
    };
    command.args(flags).output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn bad_tls_files_are_exit_2_naming_the_file_in_seed_and_hammer() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::make(dir.path());
    let junk = write_file(dir.path(), "junk.pem", b"not PEM at all\n");
    let missing = dir.path().join("missing.pem");
    let (cert, key) = (s(&pki.client.0), s(&pki.client.1));
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--ca-cert", s(&missing)],
            format!("--ca-cert {}: cannot read it", s(&missing)),
        ),
        (
            vec!["--ca-cert", s(&junk)],
            format!("--ca-cert {}: no certificate in it", s(&junk)),
        ),
        (
            vec!["--cert", s(&junk), "--key", key],
            format!("--cert {}: no certificate in it", s(&junk)),
        ),
        (
            vec!["--cert", cert, "--key", s(&junk)],
            format!("--key {}: no private key in it", s(&junk)),
        ),
        // A key that is not the certificate's.
        (
            vec!["--cert", cert, "--key", s(&pki.good.1)],
            format!("--cert {cert} / --key {}", s(&pki.good.1)),
        ),
        (vec!["--cert", cert], "--key".to_string()),
        (
            vec!["--insecure", "--ca-cert", s(&pki.ca)],
            "--ca-cert".to_string(),
        ),
    ];
    for tool in ["seed", "hammer"] {
        for (flags, place) in &cases {
            let out = run(tool, flags);
            assert_bad_input(tool, &out, &format!("{tool} {flags:?}"), place);
        }
    }
}

#[test]
fn good_files_pass_the_flags_and_meet_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::make(dir.path());
    let flags = [
        "--ca-cert",
        s(&pki.ca),
        "--cert",
        s(&pki.client.0),
        "--key",
        s(&pki.client.1),
    ];
    for tool in ["seed", "hammer"] {
        // Nothing listens: past the files, the tool fails as unreachable.
        let out = run(tool, &flags);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{tool}: {stderr}");
        assert!(stderr.contains("127.0.0.1:9"), "{tool}: {stderr}");
    }
}

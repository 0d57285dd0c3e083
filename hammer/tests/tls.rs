//! TLS and HTTP/2 from the client side, with the real binaries on loopback:
//! `seed | hammer | aggregate` against `tasktracker --tls`, trusted with
//! `--ca-cert` or not checked with `--insecure`; the certificate problems
//! (unknown issuer, expired, wrong host, client certificate missing or
//! refused) each end seed and hammer with exit 3 and their own line; HTTP/2
//! by ALPN and h2c, every event saying so; `connect_ns` holding the handshake.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};

use common::*;
use records::testkit::{cmd, pki, Server};
use records::Summary;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// What `seed | hammer | aggregate` left: the three tools' stderr and the summary.
struct Piped {
    seed: String,
    hammer: String,
    summary: Vec<Summary>,
}

/// `seed | hammer | aggregate --format ndjson` against `url`, seed and hammer
/// both given `tls` (the same flags).
fn pipeline(url: &str, tls: &[&str], hammer_args: &[&str]) -> Piped {
    let mut seed = cmd("seed")
        .args(["-s", SCENARIO, "--target", url, "--users", "3"])
        .args(tls)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut hammer = cmd("hammer")
        .args(["-s", SCENARIO, "--target", url])
        .args(["--vus", "3", "--duration", "2s", "--think", "0s"])
        .args(["--requests", "300"])
        .args(tls)
        .args(hammer_args)
        .stdin(seed.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = cmd("aggregate")
        .args(["--format", "ndjson"])
        .stdin(hammer.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let seed = seed.wait_with_output().unwrap();
    let hammer = hammer.wait_with_output().unwrap();
    let (seed_err, hammer_err) = (stderr(&seed), stderr(&hammer));
    assert!(seed.status.success(), "seed: {seed_err}");
    assert!(hammer.status.success(), "hammer: {hammer_err}");
    assert!(out.status.success(), "aggregate: {}", stderr(&out));
    Piped {
        seed: seed_err,
        hammer: hammer_err,
        summary: records::ndjson::read_from::<Summary>(&out.stdout[..], "stdout").unwrap(),
    }
}

fn total(records: &[Summary]) -> records::Stats {
    records
        .iter()
        .find_map(|r| match r {
            Summary::Total(t) => Some(t.clone()),
            _ => None,
        })
        .expect("a total record")
}

fn seed_only(url: &str, tls: &[&str]) -> Output {
    cmd("seed")
        .args(["-s", SCENARIO, "--target", url, "--users", "2"])
        .args(tls)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn hammer_health(url: &str, tls: &[&str]) -> Output {
    let mut args = vec!["--url", url, "--vus", "1", "--requests", "5"];
    args.extend_from_slice(tls);
    hammer(&args)
}

/// Exit 3 and one line on stderr, `TOOL: error: URL: TLS: …` holding `want`.
fn assert_tls_failure(tool: &str, out: &Output, base: &str, want: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(3), "{tool}: {err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.contains("verification is off"))
        .collect();
    assert_eq!(lines.len(), 1, "{tool}: one line, not a stack: {err}");
    let prefix = format!("{tool}: error: {base}: TLS: ");
    assert!(lines[0].starts_with(&prefix), "{tool}: {err}");
    assert!(lines[0].contains(want), "{tool} should say `{want}`: {err}");
    assert!(out.stdout.is_empty(), "{tool} wrote output");
}

fn https_server(dir: &Path) -> (Server, std::path::PathBuf) {
    let cert = dir.join("self-signed.pem");
    let server = Server::start(&["--hash-cost", "4", "--tls", "--cert-out", s(&cert)]);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    (server, cert)
}

#[test]
fn pipeline_over_tls_verified_with_ca_cert_and_unverified_with_insecure() {
    let dir = tempfile::tempdir().unwrap();
    let (server, cert) = https_server(dir.path());

    let verified = pipeline(&server.url, &["--ca-cert", s(&cert)], &[]);
    let t = total(&verified.summary);
    assert!(t.count > 0 && t.errors == 0, "{t:?}");
    // HTTP/1.1 over TLS (no --http2): no protocol mix, as before.
    assert!(t.protocols.is_empty(), "{:?}", t.protocols);
    let connect = t.connect.expect("new connections timed");
    assert!(connect.count >= 3, "{connect:?}");
    for err in [&verified.seed, &verified.hammer] {
        assert!(!err.contains("verification is off"), "{err}");
    }

    let insecure = pipeline(&server.url, &["--insecure"], &[]);
    let t = total(&insecure.summary);
    assert!(t.count > 0 && t.errors == 0, "{t:?}");
    assert!(
        insecure
            .seed
            .contains("seed: --insecure: TLS certificate verification is off"),
        "{}",
        insecure.seed
    );
    assert!(
        insecure
            .hammer
            .contains("hammer: --insecure: TLS certificate verification is off"),
        "{}",
        insecure.hammer
    );
}

#[test]
fn an_untrusted_certificate_is_exit_3_suggesting_ca_cert_or_insecure() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = https_server(dir.path());
    let want = "self-signed or its issuer is unknown: trust its CA with --ca-cert FILE, or skip verification with --insecure";
    assert_tls_failure("seed", &seed_only(&server.url, &[]), &server.url, want);
    let url = format!("{}/health", server.url);
    assert_tls_failure("hammer", &hammer_health(&url, &[]), &server.url, want);
}

#[test]
fn expired_and_wrong_host_certificates_each_have_their_message() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::make(dir.path());
    let trust = ["--ca-cert", s(&pki.ca)];
    for ((cert, key), want) in [
        (
            &pki.expired,
            "the server's certificate has expired (on 2020-01-01)",
        ),
        (
            &pki.wrong_host,
            "the server's certificate is not valid for `127.0.0.1`",
        ),
    ] {
        let server = Server::start(&["--hash-cost", "4", "--cert", s(cert), "--key", s(key)]);
        assert_tls_failure("seed", &seed_only(&server.url, &trust), &server.url, want);
        let url = format!("{}/health", server.url);
        assert_tls_failure("hammer", &hammer_health(&url, &trust), &server.url, want);
    }
    // The same CA's good certificate passes, so the messages are the certificates'.
    let (cert, key) = &pki.good;
    let server = Server::start(&["--cert", s(cert), "--key", s(key)]);
    let out = hammer_health(&format!("{}/health", server.url), &trust);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn mtls_works_with_cert_and_key_and_is_exit_3_without() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::make(dir.path());
    let (cert, key) = &pki.good;
    let server = Server::start(&[
        "--hash-cost",
        "4",
        "--cert",
        s(cert),
        "--key",
        s(key),
        "--client-ca",
        s(&pki.ca),
    ]);
    let (client, client_key) = &pki.client;
    let with = [
        "--ca-cert",
        s(&pki.ca),
        "--cert",
        s(client),
        "--key",
        s(client_key),
    ];
    let piped = pipeline(&server.url, &with, &[]);
    let t = total(&piped.summary);
    assert!(t.count > 0 && t.errors == 0, "{t:?}");

    let url = format!("{}/health", server.url);
    let without = ["--ca-cert", s(&pki.ca)];
    let want = "the server requires a client certificate: give one with --cert FILE --key FILE";
    assert_tls_failure("seed", &seed_only(&server.url, &without), &server.url, want);
    assert_tls_failure("hammer", &hammer_health(&url, &without), &server.url, want);

    let (other, other_key) = &pki.stranger;
    let stranger = [
        "--ca-cert",
        s(&pki.ca),
        "--cert",
        s(other),
        "--key",
        s(other_key),
    ];
    let want = "the server refused our client certificate (--cert)";
    assert_tls_failure(
        "seed",
        &seed_only(&server.url, &stranger),
        &server.url,
        want,
    );
    assert_tls_failure("hammer", &hammer_health(&url, &stranger), &server.url, want);
}

#[test]
fn http2_by_alpn_and_h2c_every_event_says_h2() {
    let dir = tempfile::tempdir().unwrap();
    let (tls_server, cert) = https_server(dir.path());
    let plain = Server::start(&["--hash-cost", "4"]);
    for (server, tls) in [(&tls_server, vec!["--ca-cert", s(&cert)]), (&plain, vec![])] {
        let url = format!("{}/health", server.url);
        let mut args = vec!["--url", &url, "--vus", "4", "--requests", "200", "--http2"];
        args.extend_from_slice(&tls);
        let out = hammer(&args);
        assert!(out.status.success(), "{}: {}", server.url, stderr(&out));
        let events = events(&out.stdout);
        assert_eq!(events.len(), 200, "{}", server.url);
        for e in &events {
            assert_eq!(e.proto.as_deref(), Some("h2"), "{}: {e:?}", server.url);
            assert_eq!((e.error.as_deref(), e.status), (None, 200), "{e:?}");
        }
        // The scenario's mix over h2 too, summarised: all h2, no errors.
        let piped = pipeline(&server.url, &tls, &["--http2"]);
        let t = total(&piped.summary);
        assert!(t.count > 0 && t.errors == 0, "{}: {t:?}", server.url);
        assert_eq!(
            t.protocols,
            [("h2".to_string(), t.count)].into_iter().collect(),
            "{}",
            server.url
        );
    }
}

#[test]
fn connect_ns_holds_the_tls_handshake_for_http1_and_h2() {
    let dir = tempfile::tempdir().unwrap();
    let (tls_server, cert) = https_server(dir.path());
    let plain = Server::start(&[]);
    let median_connect = |url: &str, extra: &[&str]| {
        let url = format!("{url}/health");
        let mut args = vec![
            "--url",
            &url,
            "--vus",
            "1",
            "--requests",
            "60",
            "--no-keepalive",
        ];
        args.extend_from_slice(extra);
        let out = hammer(&args);
        assert!(out.status.success(), "{url} {extra:?}: {}", stderr(&out));
        let events = events(&out.stdout);
        let mut connects: Vec<u64> = events
            .iter()
            .map(|e| {
                assert_eq!(e.error, None, "{e:?}");
                let connect = e.connect_ns.expect("every request opened a connection");
                // Set-up is not part of the time to first byte.
                assert!(e.ttfb_ns.unwrap() <= e.latency_ns, "{e:?}");
                connect
            })
            .collect();
        percentile(&mut connects, 0.5)
    };
    let tcp = median_connect(&plain.url, &[]);
    let trust = ["--ca-cert", s(&cert)];
    let tls_h1 = median_connect(&tls_server.url, &trust);
    let tls_h2 = median_connect(&tls_server.url, &[&trust[..], &["--http2"]].concat());
    // A handshake (key exchange, a signature checked) costs far more than a
    // loopback TCP connect; half of each median leaves room for noise.
    assert!(tls_h1 > tcp * 2, "TLS {tls_h1} ns vs TCP {tcp} ns");
    assert!(tls_h2 > tcp * 2, "TLS+h2 {tls_h2} ns vs TCP {tcp} ns");
}

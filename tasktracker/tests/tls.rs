//! TLS (self-signed and given files, mTLS) and HTTP/2 (ALPN and h2c),
//! against the real binary on loopback.

use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use records::testkit::{self, Server};
use reqwest::blocking::Client;
use reqwest::{Certificate, Identity, Version};
use std::path::Path;
use std::time::Duration;

fn client_trusting(pem: &[u8]) -> reqwest::blocking::ClientBuilder {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(pem).unwrap())
}

/// `https://127.0.0.1:PORT` → `https://localhost:PORT`, to check the DNS name too.
fn by_name(url: &str) -> String {
    url.replace("127.0.0.1", "localhost")
}

#[test]
fn self_signed_cert_is_written_and_verifies_with_h2_by_alpn() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    for arch in ["mono", "micro"] {
        let server = Server::start(&[
            "--arch",
            arch,
            "--tls",
            "--cert-out",
            cert.to_str().unwrap(),
        ]);
        assert!(
            server.url.starts_with("https://127.0.0.1:"),
            "{}",
            server.url
        );
        let pem = std::fs::read(&cert).unwrap();
        assert!(String::from_utf8_lossy(&pem).contains("BEGIN CERTIFICATE"));

        let client = client_trusting(&pem).build().unwrap();
        for base in [server.url.clone(), by_name(&server.url)] {
            let r = client.get(format!("{base}/health")).send().unwrap();
            assert_eq!(r.status(), 200, "{arch} {base}");
            assert_eq!(r.version(), Version::HTTP_2, "{arch} {base}: ALPN picks h2");
        }
        // A client that only speaks HTTP/1.1 gets it through ALPN too.
        let h1 = client_trusting(&pem).http1_only().build().unwrap();
        let r = h1.get(format!("{}/health", server.url)).send().unwrap();
        assert_eq!((r.status().as_u16(), r.version()), (200, Version::HTTP_11));

        // Without the certificate as a root the server is not trusted.
        let untrusting = Client::builder()
            .no_proxy()
            .tls_built_in_root_certs(false)
            .build()
            .unwrap();
        assert!(untrusting
            .get(format!("{}/health", server.url))
            .send()
            .is_err());
        let logs = server.logs().join("\n");
        assert!(
            logs.contains(&format!("listening on {} ({arch}, memory)", server.url)),
            "{logs}"
        );
    }
}

#[test]
fn plain_port_speaks_h2c_and_http1() {
    for arch in ["mono", "micro"] {
        let server = Server::start(&["--arch", arch]);
        assert!(server.url.starts_with("http://"), "{}", server.url);
        let h2c = Client::builder()
            .no_proxy()
            .http2_prior_knowledge()
            .build()
            .unwrap();
        let r = h2c.get(format!("{}/health", server.url)).send().unwrap();
        assert_eq!(
            (r.status().as_u16(), r.version()),
            (200, Version::HTTP_2),
            "{arch}"
        );
        let h1 = Client::builder().no_proxy().build().unwrap();
        let r = h1.get(format!("{}/health", server.url)).send().unwrap();
        assert_eq!(
            (r.status().as_u16(), r.version()),
            (200, Version::HTTP_11),
            "{arch}"
        );
    }
}

struct Pki {
    ca_pem: String,
    server_cert: std::path::PathBuf,
    server_key: std::path::PathBuf,
    ca_file: std::path::PathBuf,
    client_identity: Vec<u8>,
}

/// A CA, a client certificate it signs, and a separate self-signed server certificate.
fn make_pki(dir: &Path) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(vec!["loadpipe-client".to_string()]).unwrap();
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = client_params.signed_by(&client_key, &ca, &ca_key).unwrap();

    let server = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let server_cert = dir.join("server.pem");
    let server_key = dir.join("server.key");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&server_cert, server.cert.pem()).unwrap();
    std::fs::write(&server_key, server.key_pair.serialize_pem()).unwrap();
    std::fs::write(&ca_file, ca.pem()).unwrap();
    Pki {
        ca_pem: server.cert.pem(),
        server_cert,
        server_key,
        ca_file,
        client_identity: format!("{}{}", client.pem(), client_key.serialize_pem()).into_bytes(),
    }
}

#[test]
fn client_ca_requires_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let server = Server::start(&[
        "--cert",
        pki.server_cert.to_str().unwrap(),
        "--key",
        pki.server_key.to_str().unwrap(),
        "--client-ca",
        pki.ca_file.to_str().unwrap(),
    ]);
    let url = format!("{}/health", by_name(&server.url));

    let with_cert = client_trusting(pki.ca_pem.as_bytes())
        .identity(Identity::from_pem(&pki.client_identity).unwrap())
        .build()
        .unwrap();
    let r = with_cert.get(&url).send().unwrap();
    assert_eq!((r.status().as_u16(), r.version()), (200, Version::HTTP_2));

    let without = client_trusting(pki.ca_pem.as_bytes()).build().unwrap();
    let refused = without.get(&url).send();
    assert!(refused.is_err(), "no client certificate, yet: {refused:?}");

    // A certificate from another CA is refused as well.
    let other_dir = tempfile::tempdir().unwrap();
    let other = make_pki(other_dir.path());
    let stranger = client_trusting(pki.ca_pem.as_bytes())
        .identity(Identity::from_pem(&other.client_identity).unwrap())
        .build()
        .unwrap();
    assert!(stranger.get(&url).send().is_err());
}

#[test]
fn bad_tls_flags_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not PEM at all").unwrap();
    let good = make_pki(dir.path());
    let junk_s = junk.to_str().unwrap();
    let cert = good.server_cert.to_str().unwrap();
    let key = good.server_key.to_str().unwrap();
    let other_key = dir.path().join("other.key");
    std::fs::write(&other_key, KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let other_key_s = other_key.to_str().unwrap();
    let missing = dir.path().join("missing.pem");
    let missing_s = missing.to_str().unwrap();
    for (args, names) in [
        (vec!["--cert", junk_s, "--key", key], Some(junk_s)),
        (vec!["--cert", cert, "--key", junk_s], Some(junk_s)),
        (vec!["--cert", missing_s, "--key", key], Some(missing_s)),
        (
            vec!["--cert", cert, "--key", other_key_s],
            Some(other_key_s),
        ),
        (vec!["--tls", "--client-ca", junk_s], Some(junk_s)),
        (vec!["--client-ca", cert], None),
        (vec!["--cert-out", junk_s], None),
        (vec!["--cert", cert], None),
        (vec!["--tls", "--cert", cert, "--key", key], None),
    ] {
        let out = testkit::cmd("tasktracker")
            .args(["--listen", "127.0.0.1:0"])
            .args(&args)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        if let Some(name) = names {
            assert!(
                stderr.contains(name),
                "{args:?} should name {name}: {stderr}"
            );
        }
        assert!(!stderr.contains("listening on"), "{stderr}");
    }
}

#[test]
fn drop_rate_resets_h2_requests_too() {
    let server = Server::start(&["--drop-rate", "1"]);
    let h2c = Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for _ in 0..3 {
        let r = h2c.get(format!("{}/health", server.url)).send();
        assert!(r.is_err(), "an answer despite --drop-rate 1: {r:?}");
    }
}

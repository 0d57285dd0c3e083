//! TLS on the client side, one decision for the tools that send requests
//! (seed, hammer): the flags and their help, reading the PEM files, the
//! rustls client configuration, the `--insecure` notice, and the one-line
//! description of a certificate problem. Both tools build their
//! connections from [`Tls::client_config`], so a target seed can reach is
//! one hammer can reach, and both say the same thing when it is not.
//!
//! `--ca-cert FILE` adds to the public (webpki) roots rather than replacing
//! them: the file is extra trust for a private CA, so the same command line
//! still verifies a target with a public certificate (a scenario's
//! base_url moved from staging to a public host). A target is never
//! accepted unverified unless `--insecure` says so.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{AlertDescription, CertificateError};

use crate::bad_input;

/// The TLS flags, the same in seed and hammer (`#[command(flatten)]`).
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "TLS (https:// targets)")]
pub struct TlsArgs {
    /// Do not verify the target's TLS certificate (a notice says so on stderr).
    #[arg(long, conflicts_with = "ca_cert")]
    pub insecure: bool,

    /// Also trust the CA certificate(s) in FILE (PEM) when verifying the
    /// target, besides the public roots: for a private CA or a self-signed
    /// server certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Client certificate (PEM, chain allowed) for servers that ask for one (mTLS); needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,

    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1) of the --cert client certificate.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
}

/// What `--insecure` prints on stderr, after the tool's name.
pub const INSECURE_NOTICE: &str = "--insecure: TLS certificate verification is off";

/// The TLS settings, files read and checked.
#[derive(Clone, Debug, Default)]
pub struct Tls {
    pub insecure: bool,
    /// Extra trust anchors from `--ca-cert`.
    ca: Vec<CertificateDer<'static>>,
    /// `--cert`/`--key`.
    client: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
}

impl TlsArgs {
    /// Reads and checks the files the flags name; a missing or unreadable
    /// file, or one with nothing usable in it, is bad input (exit 2) naming it.
    pub fn load(&self) -> anyhow::Result<Tls> {
        let ca = match &self.ca_cert {
            None => Vec::new(),
            Some(path) => {
                let certs = read_certs(path, "--ca-cert")?;
                // Checked here so a bad anchor names its file, not a handshake.
                let mut roots = rustls::RootCertStore::empty();
                let (_, bad) = roots.add_parsable_certificates(certs.iter().cloned());
                if bad > 0 {
                    return Err(bad_input(format!(
                        "--ca-cert {}: {bad} of its {} certificates cannot be used as a CA",
                        path.display(),
                        certs.len()
                    )));
                }
                certs
            }
        };
        let client = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let certs = read_certs(cert, "--cert")?;
                let text = read(key, "--key")?;
                let der = PrivateKeyDer::from_pem_slice(&text).map_err(|e| {
                    bad_input(format!(
                        "--key {}: no private key in it ({})",
                        key.display(),
                        pem_problem(&e)
                    ))
                })?;
                Some((certs, Arc::new(der)))
            }
            (None, None) => None,
            _ => return Err(bad_input("--cert and --key go together")),
        };
        let tls = Tls {
            insecure: self.insecure,
            ca,
            client,
        };
        // A key that does not belong to its certificate fails here, not at
        // the first server that asks for it.
        if let Err(e) = tls.client_config(&[]) {
            let (cert, key) = (self.cert.as_deref(), self.key.as_deref());
            return Err(bad_input(match (cert, key) {
                (Some(cert), Some(key)) => {
                    format!("--cert {} / --key {}: {e}", cert.display(), key.display())
                }
                _ => format!("TLS setup: {e}"),
            }));
        }
        Ok(tls)
    }
}

fn read(path: &Path, flag: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| bad_input(format!("{flag} {}: cannot read it: {e}", path.display())))
}

fn read_certs(path: &Path, flag: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let text = read(path, flag)?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            bad_input(format!(
                "{flag} {}: not a PEM certificate file ({})",
                path.display(),
                pem_problem(&e)
            ))
        })?;
    if certs.is_empty() {
        return Err(bad_input(format!(
            "{flag} {}: no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

fn pem_problem(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error as E;
    match e {
        E::NoItemsFound => "expected PEM: -----BEGIN PRIVATE KEY----- or similar".into(),
        E::MissingSectionEnd { .. } => "a section has no END line".into(),
        E::IllegalSectionStart { .. } => "a bad BEGIN line".into(),
        E::Base64Decode(_) => "bad base64".into(),
        other => other.to_string(),
    }
}

impl Tls {
    /// Whether `--cert`/`--key` gave a client certificate.
    pub fn has_client_cert(&self) -> bool {
        self.client.is_some()
    }

    /// The rustls configuration both tools connect with, offering `alpn`
    /// (e.g. `h2`, `http/1.1`) in that order of preference.
    pub fn client_config(&self, alpn: &[&[u8]]) -> Result<rustls::ClientConfig, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let builder = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
        } else {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            roots.add_parsable_certificates(self.ca.iter().cloned());
            builder.with_root_certificates(roots)
        };
        let mut config = match &self.client {
            None => builder.with_no_client_auth(),
            Some((certs, key)) => builder.with_client_auth_cert(certs.clone(), key.clone_key())?,
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

/// Prints the `--insecure` notice on stderr when it applies (an https target).
pub fn notice(tool: &str, tls: &Tls, https: bool) {
    if tls.insecure && https {
        eprintln!("{tool}: {INSECURE_NOTICE}");
    }
}

/// The rustls error somewhere in `err`'s chain. tokio-rustls and hyper
/// carry it inside an `io::Error`, whose `source()` skips the error it
/// wraps, so those are opened by hand.
pub fn find_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if let Some(found) = find_error(inner) {
                return Some(found);
            }
        }
        next = e.source();
    }
    None
}

/// A TLS failure in one line, naming the problem and, where there is one,
/// the flag that deals with it. `host` is the name the target was checked
/// against; `client_cert` whether we had one to offer.
pub fn describe(err: &rustls::Error, host: &str, client_cert: bool) -> String {
    use rustls::Error as E;
    match err {
        E::InvalidCertificate(cert) => describe_certificate(cert, host),
        E::AlertReceived(alert) => describe_alert(*alert, client_cert),
        E::NoCertificatesPresented => "the server sent no certificate".into(),
        E::PeerIncompatible(why) => format!("the server's TLS is incompatible with ours: {why:?}"),
        E::PeerMisbehaved(why) => format!("the server broke the TLS protocol: {why:?}"),
        E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            "the server does not speak TLS here (is the target http://?)".into()
        }
        E::InvalidMessage(_) => {
            "the server's answer is not TLS (is the target http:// rather than https://?)".into()
        }
        other => other.to_string(),
    }
}

/// The line a tool ends with (exit 3) when TLS with the target fails:
/// `https://host:port: TLS: <problem>`.
pub fn failure_line(url: &str, problem: &str) -> String {
    format!("{url}: TLS: {problem}")
}

fn describe_certificate(cert: &CertificateError, host: &str) -> String {
    use CertificateError as C;
    match cert {
        C::Expired | C::ExpiredContext { .. } => {
            let when = match cert {
                C::ExpiredContext { not_after, .. } => {
                    format!(" (on {})", utc_date(not_after.as_secs()))
                }
                _ => String::new(),
            };
            format!("the server's certificate has expired{when}")
        }
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "the server's certificate is not valid yet (check the clocks)".into()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            let names = match cert {
                C::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
                    format!(" (it is for {})", presented.join(", "))
                }
                _ => String::new(),
            };
            format!("the server's certificate is not valid for `{host}`{names}")
        }
        C::UnknownIssuer => "the server's certificate is self-signed or its issuer is unknown: \
             trust its CA with --ca-cert FILE, or skip verification with --insecure"
            .into(),
        C::Revoked => "the server's certificate has been revoked".into(),
        C::BadSignature => "the server's certificate has a bad signature".into(),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "the server's certificate is not for TLS servers (its extended key usage)".into()
        }
        // webpki's own reasons come as text only.
        C::Other(other) if other.to_string() == "CaUsedAsEndEntity" => {
            "the server's certificate is a CA's (basicConstraints CA:TRUE), not a server's".into()
        }
        C::Other(other) => format!("the server's certificate is not acceptable: {other}"),
        other => format!("the server's certificate is not acceptable: {other:?}"),
    }
}

fn describe_alert(alert: AlertDescription, client_cert: bool) -> String {
    use AlertDescription as A;
    match alert {
        A::CertificateRequired => {
            "the server requires a client certificate: give one with --cert FILE --key FILE".into()
        }
        A::BadCertificate
        | A::UnsupportedCertificate
        | A::CertificateRevoked
        | A::CertificateExpired
        | A::CertificateUnknown
        | A::UnknownCA
        | A::AccessDenied
        | A::HandshakeFailure
        | A::DecryptError => {
            if client_cert {
                format!("the server refused our client certificate (--cert): it answered {alert:?}")
            } else {
                format!(
                    "the server refused the handshake ({alert:?}); if it requires a client \
                     certificate, give one with --cert FILE --key FILE"
                )
            }
        }
        A::ProtocolVersion | A::InsufficientSecurity => {
            format!("the server and we share no TLS version or cipher ({alert:?})")
        }
        A::NoApplicationProtocol => {
            "the server supports none of the protocols we offered (ALPN)".into()
        }
        A::UnrecognisedName => "the server does not know the host name we asked for (SNI)".into(),
        other => format!("the server ended the TLS session ({other:?})"),
    }
}

/// Whether the server asked for a client certificate during a handshake:
/// rustls asks the resolver only then.
#[derive(Debug)]
struct Asked {
    inner: Arc<dyn rustls::client::ResolvesClientCert>,
    asked: AtomicBool,
}

impl rustls::client::ResolvesClientCert for Asked {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.inner.resolve(root_hint_subjects, sigschemes)
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

/// One TLS handshake with the target on a connected blocking socket, as
/// seed and hammer check a target before their work: a certificate problem
/// would fail every connection the same way, so it ends the run at once
/// (exit 3) with its one line. Returns that line's problem, for
/// [`failure_line`].
///
/// A TLS 1.3 server judges the client's certificate after the handshake
/// has ended on the client's side, so when it asked for one its verdict
/// (session tickets, or an alert) is waited for, up to `timeout`: otherwise
/// a missing or refused client certificate would only show on the first
/// request, as a protocol error that may not even name TLS (over h2).
pub fn check_handshake(
    tcp: &mut std::net::TcpStream,
    host: &str,
    tls: &Tls,
    alpn: &[&[u8]],
    timeout: Duration,
) -> Result<(), String> {
    use std::io::ErrorKind as Io;
    let mut config = tls
        .client_config(alpn)
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let asked = Arc::new(Asked {
        inner: config.client_auth_cert_resolver.clone(),
        asked: AtomicBool::new(false),
    });
    config.client_auth_cert_resolver = asked.clone();
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| format!("`{host}` is not a TLS server name: {e}"))?;
    let client_cert = tls.has_client_cert();
    let failed = |e: &(dyn std::error::Error + 'static)| match find_error(e) {
        Some(tls) => describe(tls, host, client_cert),
        None => format!("the handshake failed: {e}"),
    };
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| failed(&e))?;
    let _ = tcp.set_read_timeout(Some(timeout));
    let _ = tcp.set_write_timeout(Some(timeout));
    let timed_out = || {
        format!(
            "the handshake timed out after {}",
            crate::units::format_duration(timeout)
        )
    };
    while conn.is_handshaking() {
        match conn.complete_io(tcp) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), Io::WouldBlock | Io::TimedOut) => return Err(timed_out()),
            Err(e) if e.kind() == Io::UnexpectedEof => {
                return Err(
                    "the server closed the connection during the handshake (does it speak https?)"
                        .into(),
                )
            }
            Err(e) => return Err(failed(&e)),
        }
    }
    while conn.wants_write() {
        conn.write_tls(tcp).map_err(|e| failed(&e))?;
    }
    let tls13 = conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
    if tls13 && asked.asked.load(Ordering::Relaxed) {
        match conn.read_tls(tcp) {
            Ok(0) => {
                return Err(if client_cert {
                    "the server closed the connection after asking for a client certificate: \
                     it may not accept ours (--cert)"
                        .into()
                } else {
                    describe_alert(AlertDescription::CertificateRequired, false)
                })
            }
            Ok(_) => {
                conn.process_new_packets().map_err(|e| failed(&e))?;
            }
            // Nothing said within the timeout: no refusal seen, the run goes on.
            Err(_) => {}
        }
    }
    Ok(())
}

/// `2026-12-03` for a Unix time (a certificate's dates are days apart).
fn utc_date(secs: u64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `--insecure`: accepts any certificate (the tool says so on stderr).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(ca: Option<&Path>, cert: Option<&Path>, key: Option<&Path>) -> TlsArgs {
        TlsArgs {
            insecure: false,
            ca_cert: ca.map(Path::to_path_buf),
            cert: cert.map(Path::to_path_buf),
            key: key.map(Path::to_path_buf),
        }
    }

    fn message(err: anyhow::Error) -> String {
        assert_eq!(crate::exit::exit_of(&err), crate::Exit::BadInput);
        err.to_string()
    }

    #[test]
    fn bad_files_are_bad_input_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let msg = message(args(Some(&missing), None, None).load().unwrap_err());
        assert!(
            msg.starts_with("--ca-cert ") && msg.contains("missing.pem"),
            "{msg}"
        );
        assert!(msg.contains("cannot read"), "{msg}");

        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "hello\n").unwrap();
        let msg = message(args(Some(&junk), None, None).load().unwrap_err());
        assert!(
            msg.contains("junk.pem") && msg.contains("no certificate"),
            "{msg}"
        );

        let broken = dir.path().join("broken.pem");
        std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap();
        let msg = message(args(Some(&broken), None, None).load().unwrap_err());
        assert!(msg.contains("broken.pem") && msg.contains("END"), "{msg}");

        let msg = message(args(None, Some(&junk), Some(&missing)).load().unwrap_err());
        assert!(
            msg.starts_with("--cert ") && msg.contains("junk.pem"),
            "{msg}"
        );
    }

    #[test]
    fn no_flags_make_a_verifying_config() {
        let tls = TlsArgs::default().load().unwrap();
        assert!(!tls.insecure && !tls.has_client_cert());
        let config = tls.client_config(&[b"h2", b"http/1.1"]).unwrap();
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }

    #[test]
    fn certificate_problems_read_as_one_line() {
        let expired = rustls::Error::InvalidCertificate(CertificateError::Expired);
        assert_eq!(
            describe(&expired, "localhost", false),
            "the server's certificate has expired"
        );
        let name = rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
            expected: rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap(),
            presented: vec!["DnsName(\"example.org\")".into()],
        });
        let msg = describe(&name, "127.0.0.1", false);
        assert!(
            msg.contains("not valid for `127.0.0.1`") && msg.contains("example.org"),
            "{msg}"
        );
        let unknown = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let msg = describe(&unknown, "h", false);
        assert!(
            msg.contains("--ca-cert FILE") && msg.contains("--insecure"),
            "{msg}"
        );
        let required = rustls::Error::AlertReceived(AlertDescription::CertificateRequired);
        assert!(describe(&required, "h", false).contains("requires a client certificate"));
        let refused = rustls::Error::AlertReceived(AlertDescription::UnknownCA);
        assert!(describe(&refused, "h", true).contains("refused our client certificate"));
        for msg in [
            describe(&expired, "h", true),
            describe(&refused, "h", false),
        ] {
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn dates_are_utc_days() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_764_720_000), "2025-12-03");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
    }

    #[test]
    fn the_error_is_found_inside_io_errors() {
        let inner = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, inner.clone());
        let wrapped = anyhow::Error::from(io).context("connecting");
        let found = find_error(wrapped.as_ref()).expect("found");
        assert_eq!(found, &inner);
    }
}

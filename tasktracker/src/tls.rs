//! `--tls`, `--cert/--key`, `--client-ca`: the rustls server configuration.
//!
//! ring is the only crypto provider built into the workspace, so it is named
//! explicitly rather than relying on a process-wide default being installed.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the server's certificate comes from.
pub enum Identity {
    /// Made at start; its PEM is written to the path if one is given.
    SelfSigned { cert_out: Option<PathBuf> },
    /// PEM files.
    Files { cert: PathBuf, key: PathBuf },
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            format!(
                "{}: not a readable PEM certificate file: {e}",
                path.display()
            )
        })?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| format!("{}: not a readable PEM private key: {e}", path.display()))
}

/// A self-signed certificate for the names a loopback client may dial.
fn self_signed() -> Result<(String, CertificateDer<'static>, PrivateKeyDer<'static>), String> {
    let names = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("cannot make a self-signed certificate: {e}"))?;
    let key = PrivateKeyDer::try_from(made.key_pair.serialize_der())
        .map_err(|e| format!("self-signed key: {e}"))?;
    Ok((made.cert.pem(), made.cert.der().clone(), key))
}

/// Builds the server config (ALPN `h2`, then `http/1.1`). Every error is a
/// sentence naming the file at fault, meant for exit 2.
pub fn server_config(
    identity: &Identity,
    client_ca: Option<&Path>,
) -> Result<ServerConfig, String> {
    let (chain, key, key_name) = match identity {
        Identity::SelfSigned { cert_out } => {
            let (pem, cert, key) = self_signed()?;
            if let Some(path) = cert_out {
                std::fs::write(path, pem)
                    .map_err(|e| format!("--cert-out {}: cannot write: {e}", path.display()))?;
            }
            (vec![cert], key, "the self-signed key".to_string())
        }
        Identity::Files { cert, key } => (
            read_certs(cert)?,
            read_key(key)?,
            format!("{} and {}", cert.display(), key.display()),
        ),
    };
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for cert in read_certs(path)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: unusable CA certificate: {e}", path.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("{key_name}: certificate and key do not make a TLS identity: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_config_offers_h2_first() {
        let config = server_config(&Identity::SelfSigned { cert_out: None }, None).unwrap();
        assert_eq!(config.alpn_protocols[0], b"h2");
    }

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let identity = Identity::Files {
            cert: junk.clone(),
            key: junk.clone(),
        };
        let err = server_config(&identity, None).unwrap_err();
        assert!(err.contains("junk.pem"), "{err}");
        let missing = dir.path().join("missing.pem");
        let err =
            server_config(&Identity::SelfSigned { cert_out: None }, Some(&missing)).unwrap_err();
        assert!(err.contains("missing.pem"), "{err}");
    }
}

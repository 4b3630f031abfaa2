//! TLS for the PostgreSQL connection: rustls with the ring provider (the
//! one already in the tree through ldap3), trusting `ca_file` or the
//! built-in web roots, or (for `tls = "require"`) encrypting without
//! checking the certificate, as libpq's `sslmode=require` does.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{PgConfig, PgTls};
use crate::error::StateError;

/// The connector for `cfg.tls` (not called for [`PgTls::Disable`]).
pub(crate) fn connector(cfg: &PgConfig) -> Result<MakeRustlsConnect, StateError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StateError::Config(format!("TLS for the PostgreSQL state store: {e}")))?;
    let config = match cfg.tls {
        PgTls::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider.signature_verification_algorithms)))
            .with_no_client_auth(),
        _ => builder.with_root_certificates(roots(cfg)?).with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

/// The CA certificates of `ca_file`, or the built-in web roots.
fn roots(cfg: &PgConfig) -> Result<RootCertStore, StateError> {
    let mut roots = RootCertStore::empty();
    let Some(path) = &cfg.ca_file else {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok(roots);
    };
    let bad = |m: String| StateError::Config(format!("[engine.state_store] ca_file {}: {m}", path.display()));
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a PEM file of certificates ({e})")))?;
    if certs.is_empty() {
        return Err(bad("holds no PEM certificate".to_owned()));
    }
    for cert in certs {
        roots.add(cert).map_err(|e| bad(format!("a certificate is unusable: {e}")))?;
    }
    Ok(roots)
}

/// `tls = "require"`: any certificate is accepted, the handshake's
/// signatures are still checked.
#[derive(Debug)]
struct EncryptOnly(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

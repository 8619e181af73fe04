//! Trusting a server by its certificate's SHA-256 thumbprint.

use parking_lot::Mutex;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::ClientError;

#[derive(Debug, Clone)]
pub enum Trust {
    /// Accept only a certificate with this SHA-256 thumbprint.
    Thumbprint(String),
    /// Accept any certificate (`--insecure`): for a first look only.
    Insecure,
}

/// Upper-case hex with colons, whatever separators the user typed.
pub fn normalize_thumbprint(t: &str) -> String {
    let hex: String = t
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_uppercase();
    hex.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

fn thumbprint(der: &[u8]) -> String {
    normalize_thumbprint(
        &Sha256::digest(der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    )
}

#[derive(Debug)]
struct Pinned {
    expected: Option<String>,
    /// The thumbprint and DER of the certificate the server presented.
    seen: Mutex<Option<(String, Vec<u8>)>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = thumbprint(end_entity);
        *self.seen.lock() = Some((got.clone(), end_entity.to_vec()));
        match &self.expected {
            Some(want) if *want != got => Err(rustls::Error::General(format!(
                "the server's certificate thumbprint is {got}, not the pinned {want}"
            ))),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn verifier(expected: Option<String>) -> Arc<Pinned> {
    Arc::new(Pinned {
        expected,
        seen: Mutex::default(),
        provider: Arc::new(rustls::crypto::ring::default_provider()),
    })
}

fn config_with(v: Arc<Pinned>) -> Result<rustls::ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(v)
        .with_no_client_auth())
}

pub(crate) fn client_config(trust: Trust) -> Result<rustls::ClientConfig, ClientError> {
    config_with(verifier(match trust {
        Trust::Thumbprint(t) => Some(normalize_thumbprint(&t)),
        Trust::Insecure => None,
    }))
}

/// Connects once and returns the thumbprint the server presents (to show to
/// a user who has to decide whether to trust it).
pub async fn fetch_thumbprint(server: &str) -> Result<String, ClientError> {
    Ok(fetch_certificate(server).await?.0)
}

/// Connects once and returns the certificate the server presents: its
/// thumbprint and DER.
pub async fn fetch_certificate(server: &str) -> Result<(String, Vec<u8>), ClientError> {
    let base = crate::normalize_server(server);
    let v = verifier(None);
    let config = config_with(v.clone())?;
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| ClientError::Http(e.to_string()))?;
    http.get(format!("{base}/api/about"))
        .send()
        .await
        .map_err(|e| ClientError::Http(format!("{base}: {e}")))?;
    let seen = v.seen.lock().clone();
    seen.ok_or_else(|| ClientError::Tls("the server presented no certificate".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_forms() {
        assert_eq!(normalize_thumbprint("ab:cd:0f"), "AB:CD:0F");
        assert_eq!(normalize_thumbprint("abcd0f"), "AB:CD:0F");
    }
}

//! The host's TLS identity: a self-signed certificate made on first start and
//! kept in the data directory, and its SHA-256 thumbprint.

use std::path::Path;

pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
    pub thumbprint: String,
}

/// Loads the certificate, or makes one the first time.
pub fn load_or_create(
    dir: &Path,
    host_name: &str,
    extra_names: &[String],
) -> anyhow::Result<Identity> {
    let cert_path = dir.join("host.crt");
    let key_path = dir.join("host.key");
    if !cert_path.exists() || !key_path.exists() {
        let mut names = vec![host_name.to_string(), "localhost".to_string()];
        names.extend(extra_names.iter().cloned());
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, host_name);
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2124, 1, 1);
        let cert = params.self_signed(&key)?;
        hierro_http::tls::write_private(&key_path, key.serialize_pem().as_bytes())?;
        std::fs::write(&cert_path, cert.pem())?;
    }
    let cert_pem = std::fs::read_to_string(&cert_path)?;
    let key_pem = std::fs::read_to_string(&key_path)?;
    let thumbprint = thumbprint_of_pem(&cert_pem).map_err(anyhow::Error::msg)?;
    Ok(Identity {
        cert_pem,
        key_pem,
        thumbprint,
    })
}

pub use hierro_http::tls::{thumbprint, thumbprint_of_pem};

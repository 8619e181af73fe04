//! The host's TLS identity: a self-signed certificate made on first start and
//! kept in the data directory, and its SHA-256 thumbprint.

use std::path::Path;

use sha2::{Digest, Sha256};

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
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        std::fs::write(&cert_path, cert.pem())?;
    }
    let cert_pem = std::fs::read_to_string(&cert_path)?;
    let key_pem = std::fs::read_to_string(&key_path)?;
    let thumbprint = thumbprint_of_pem(&cert_pem)?;
    Ok(Identity {
        cert_pem,
        key_pem,
        thumbprint,
    })
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)
}

/// SHA-256 of the DER certificate as colon-separated upper-case hex, the way
/// vSphere shows thumbprints.
pub fn thumbprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub fn thumbprint_of_pem(pem: &str) -> anyhow::Result<String> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let der = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| anyhow::anyhow!("host certificate: {e}"))?;
    Ok(thumbprint(&der))
}

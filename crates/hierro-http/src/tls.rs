//! Certificate thumbprints (how clients pin a server, as in vSphere) and
//! private key files.

use std::path::Path;

use sha2::{Digest, Sha256};

/// Writes a file only its owner may read (a private key).
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
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

pub fn thumbprint_of_pem(pem: &str) -> Result<String, String> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let der =
        CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| format!("certificate: {e}"))?;
    Ok(thumbprint(&der))
}

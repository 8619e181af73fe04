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
    Ok(thumbprint(&der_of_pem(pem)?))
}

/// The first certificate of `pem`, as DER.
fn der_of_pem(pem: &str) -> Result<Vec<u8>, String> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map(|c| c.to_vec())
        .map_err(|e| format!("certificate: {e}"))
}

/// How long a server certificate is issued for: two years (vSphere's
/// certificate lifetimes are a few years; browsers cap public ones lower).
pub const CERT_DAYS: i64 = 730;
/// How long the certificate authority is valid.
pub const CA_DAYS: i64 = 3650;
/// A server certificate this close to its end is renewed.
pub const RENEW_DAYS: i64 = 30;

/// Sets `params` valid from yesterday (clocks differ) for `days`.
pub fn set_validity(params: &mut rcgen::CertificateParams, days: i64) {
    use chrono::Datelike;
    let ymd = |d: chrono::DateTime<chrono::Utc>| {
        rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
    };
    let now = chrono::Utc::now();
    params.not_before = ymd(now - chrono::Duration::days(1));
    params.not_after = ymd(now + chrono::Duration::days(days));
}

/// When a certificate (DER) ends.
pub fn expiry_of_der(der: &[u8]) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("reading the certificate: {e}"))?;
    chrono::DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .ok_or_else(|| "the certificate's end is out of range".to_string())
}

/// When the first certificate of `pem` ends.
pub fn expiry_of_pem(pem: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    expiry_of_der(&der_of_pem(pem)?)
}

/// Whether the certificate in the PEM file at `path` is due for renewal
/// (`RENEW_DAYS`); false when there is none to read.
pub fn file_due(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|pem| expiry_of_pem(&pem).ok())
        .is_some_and(|end| due(end, RENEW_DAYS))
}

/// Whether a certificate ending at `expiry` is due for renewal (within
/// `days` of its end, or past it).
pub fn due(expiry: chrono::DateTime<chrono::Utc>, days: i64) -> bool {
    expiry - chrono::Utc::now() < chrono::Duration::days(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_issued_for_two_years_and_due_near_its_end() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["h".to_string()]).unwrap();
        set_validity(&mut params, CERT_DAYS);
        let pem = params.self_signed(&key).unwrap().pem();
        let left = expiry_of_pem(&pem).unwrap() - chrono::Utc::now();
        assert!((729..=730).contains(&left.num_days()), "{left}");
        assert!(!due(expiry_of_pem(&pem).unwrap(), RENEW_DAYS));
        assert!(due(expiry_of_pem(&pem).unwrap(), 731));
    }
}

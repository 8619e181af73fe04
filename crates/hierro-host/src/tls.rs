//! The host's TLS identity: a self-signed certificate made on first start and
//! kept in the data directory, and its SHA-256 thumbprint. A center that
//! manages the host replaces it with one its CA signs: the host makes a new
//! key and a signing request, and installs the certificate that comes back.

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
    finish_install(dir)?;
    // A self-signed certificate near its end is made anew at start; one
    // the center issued is the center's to renew.
    let self_signed_due = !dir.join("ca.crt").exists() && hierro_http::tls::file_due(&cert_path);
    if self_signed_due || !cert_path.exists() || !key_path.exists() {
        let mut names = vec![host_name.to_string(), "localhost".to_string()];
        names.extend(extra_names.iter().cloned());
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, host_name);
        hierro_http::tls::set_validity(&mut params, hierro_http::tls::CERT_DAYS);
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

fn pending_key(dir: &Path) -> std::path::PathBuf {
    dir.join("host.key.pending")
}

/// A new key pair for a certificate the center will sign, kept in
/// `host.key.pending` until the certificate arrives. Returns the signing
/// request (PEM).
pub fn request(dir: &Path, host_name: &str) -> anyhow::Result<String> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(vec![host_name.to_string()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, host_name);
    let csr = params.serialize_request(&key)?;
    hierro_http::tls::write_private(&pending_key(dir), key.serialize_pem().as_bytes())?;
    Ok(csr.pem()?)
}

/// Installs a certificate signed for the pending key (served with the CA's
/// certificate after it). The certificate is renamed into place first, the
/// key second; a crash between the two is finished at the next start.
pub fn install(dir: &Path, cert_pem: &str, ca_pem: &str) -> anyhow::Result<Identity> {
    let key_pem = std::fs::read_to_string(pending_key(dir))
        .map_err(|_| anyhow::anyhow!("no certificate request is pending"))?;
    check_pair(cert_pem, &key_pem)?;
    let chain = format!("{}\n{}", cert_pem.trim_end(), ca_pem.trim_end());
    let staged = dir.join("host.crt.new");
    std::fs::write(&staged, format!("{chain}\n"))?;
    std::fs::write(dir.join("ca.crt"), ca_pem)?;
    std::fs::rename(&staged, dir.join("host.crt"))?;
    finish_install(dir)?;
    Ok(Identity {
        thumbprint: thumbprint_of_pem(cert_pem).map_err(anyhow::Error::msg)?,
        cert_pem: chain,
        key_pem,
    })
}

/// Moves the pending key into place when the installed certificate is its.
fn finish_install(dir: &Path) -> anyhow::Result<()> {
    let pending = pending_key(dir);
    let (Ok(key), Ok(cert)) = (
        std::fs::read_to_string(&pending),
        std::fs::read_to_string(dir.join("host.crt")),
    ) else {
        return Ok(());
    };
    if check_pair(&cert, &key).is_ok() {
        std::fs::rename(&pending, dir.join("host.key"))?;
    }
    Ok(())
}

/// Fails unless the certificate is for this private key.
fn check_pair(cert_pem: &str, key_pem: &str) -> anyhow::Result<()> {
    use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .map_err(|e| anyhow::anyhow!("the certificate: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| anyhow::anyhow!("the key: {e}"))?;
    rustls::sign::CertifiedKey::from_der(
        vec![cert],
        key,
        &rustls::crypto::ring::default_provider(),
    )
    .map_err(|e| anyhow::anyhow!("the certificate is not for the requested key: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_only_a_certificate_for_the_pending_key() {
        let dir = std::env::temp_dir().join(format!("hierro-tls-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = load_or_create(&dir, "esx1", &[]).unwrap();
        // A certificate for another key is refused and changes nothing.
        let other = rcgen::KeyPair::generate().unwrap();
        let foreign = rcgen::CertificateParams::new(vec!["esx1".into()])
            .unwrap()
            .self_signed(&other)
            .unwrap()
            .pem();
        request(&dir, "esx1").unwrap();
        assert!(install(&dir, &foreign, &foreign).is_err());
        assert_eq!(
            load_or_create(&dir, "esx1", &[]).unwrap().thumbprint,
            first.thumbprint
        );
        // A certificate signed for the request's key is installed.
        let csr = request(&dir, "esx1").unwrap();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.clone().self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, &ca_key);
        let signed = rcgen::CertificateSigningRequestParams::from_pem(&csr)
            .unwrap()
            .signed_by(&issuer)
            .unwrap();
        let installed = install(&dir, &signed.pem(), &ca_cert.pem()).unwrap();
        let reloaded = load_or_create(&dir, "esx1", &[]).unwrap();
        assert_eq!(reloaded.thumbprint, installed.thumbprint);
        assert_ne!(reloaded.thumbprint, first.thumbprint);
        assert!(!pending_key(&dir).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

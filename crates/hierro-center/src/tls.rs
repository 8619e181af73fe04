//! The center is the certificate authority of its installation (the VMCA
//! analog): a CA made on first start signs the center's own certificate and,
//! later, the certificates of the hosts it manages.

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

pub struct Pki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    /// SHA-256 of the center's certificate, for clients to pin.
    pub thumbprint: String,
    ca_key: KeyPair,
    ca_name: String,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name
        .push(DnType::CommonName, format!("Hierro CA {name}"));
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    hierro_http::tls::set_validity(&mut p, hierro_http::tls::CA_DAYS);
    p
}

fn server_params(common_name: &str, names: &[String]) -> anyhow::Result<CertificateParams> {
    let mut p = CertificateParams::new(names.to_vec())?;
    p.distinguished_name.push(DnType::CommonName, common_name);
    hierro_http::tls::set_validity(&mut p, hierro_http::tls::CERT_DAYS);
    Ok(p)
}

impl Pki {
    /// Loads the CA and the center's certificate from `dir`, making them the
    /// first time.
    pub fn load_or_create(dir: &Path, name: &str, names: &[String]) -> anyhow::Result<Pki> {
        let (ca_crt, ca_key) = (dir.join("ca.crt"), dir.join("ca.key"));
        if !ca_crt.exists() || !ca_key.exists() {
            let key = KeyPair::generate()?;
            let cert = ca_params(name).self_signed(&key)?;
            hierro_http::tls::write_private(&ca_key, key.serialize_pem().as_bytes())?;
            std::fs::write(&ca_crt, cert.pem())?;
        }
        let ca_key_pair = KeyPair::from_pem(&std::fs::read_to_string(&ca_key)?)?;
        let mut pki = Pki {
            ca_pem: std::fs::read_to_string(&ca_crt)?,
            cert_pem: String::new(),
            key_pem: String::new(),
            thumbprint: String::new(),
            ca_key: ca_key_pair,
            ca_name: name.to_string(),
        };
        let (crt, key) = (dir.join("center.crt"), dir.join("center.key"));
        // A certificate near its end is renewed at start (a new thumbprint
        // for clients to confirm, as when vCenter renews its own).
        let due = hierro_http::tls::file_due(&crt);
        if due {
            tracing::warn!(
                "the center's certificate ends within {} days: renewing it",
                hierro_http::tls::RENEW_DAYS
            );
        }
        if due || !crt.exists() || !key.exists() {
            let (cert_pem, key_pem) = pki.issue(name, names)?;
            hierro_http::tls::write_private(&key, key_pem.as_bytes())?;
            std::fs::write(&crt, cert_pem)?;
        }
        pki.cert_pem = std::fs::read_to_string(&crt)?;
        pki.key_pem = std::fs::read_to_string(&key)?;
        pki.thumbprint =
            hierro_http::tls::thumbprint_of_pem(&pki.cert_pem).map_err(anyhow::Error::msg)?;
        Ok(pki)
    }

    /// A server certificate for `names`, signed by the CA: (cert, key) PEM.
    pub fn issue(&self, common_name: &str, names: &[String]) -> anyhow::Result<(String, String)> {
        let key = KeyPair::generate()?;
        let cert = server_params(common_name, names)?.signed_by(&key, &self.issuer())?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// Signs a host's request. Only the key comes from the request; the
    /// names and validity are the center's.
    pub fn sign_request(
        &self,
        csr_pem: &str,
        common_name: &str,
        names: &[String],
    ) -> anyhow::Result<String> {
        let mut csr = rcgen::CertificateSigningRequestParams::from_pem(csr_pem)
            .map_err(|e| anyhow::anyhow!("the host's certificate request: {e}"))?;
        csr.params = server_params(common_name, names)?;
        Ok(csr.signed_by(&self.issuer())?.pem())
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::new(ca_params(&self.ca_name), &self.ca_key)
    }
}

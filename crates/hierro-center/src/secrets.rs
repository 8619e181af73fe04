//! What the center keeps secret in its database (each host's service
//! token), sealed with ChaCha20-Poly1305 under a key file of the center's
//! (`secrets.key` in its data directory, 0600): a copy of the database or a
//! PostgreSQL dump alone does not give anyone a host. Each secret is bound
//! to what it belongs to (the host's id), so one cannot be moved to another
//! row.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

/// How a sealed value starts; a value without it is from before sealing.
const SEALED: &str = "sealed:v1:";
const KEY_FILE: &str = "secrets.key";

pub struct Secrets {
    cipher: ChaCha20Poly1305,
}

/// A stored secret that does not open: another center's key, or altered.
#[derive(Debug, thiserror::Error)]
#[error("the secret of {0} does not open with this center's secrets.key")]
pub struct Unsealable(String);

impl Secrets {
    /// The key in `dir`, made on first start.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Secrets> {
        let path = dir.join(KEY_FILE);
        if !path.exists() {
            hierro_http::tls::write_private(&path, &rand::random::<[u8; 32]>())?;
        }
        let key = std::fs::read(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        anyhow::ensure!(
            key.len() == 32,
            "{} holds {} bytes, not a 32-byte key",
            path.display(),
            key.len()
        );
        Ok(Secrets {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        })
    }

    /// A key for this process only (tests of the store).
    pub fn ephemeral() -> Secrets {
        Secrets {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&rand::random::<[u8; 32]>())),
        }
    }

    /// `secret` sealed for `owner`.
    pub fn seal(&self, owner: &str, secret: &str) -> String {
        let nonce = rand::random::<[u8; 12]>();
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: owner.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .expect("sealing in memory does not fail");
        format!("{SEALED}{}", B64.encode([&nonce[..], &sealed].concat()))
    }

    /// The secret `stored` for `owner` holds (a value from before sealing
    /// as it is).
    pub fn open(&self, owner: &str, stored: &str) -> Result<String, Unsealable> {
        let Some(b64) = stored.strip_prefix(SEALED) else {
            return Ok(stored.to_string());
        };
        let bad = || Unsealable(owner.to_string());
        let bytes = B64.decode(b64).map_err(|_| bad())?;
        if bytes.len() < 12 {
            return Err(bad());
        }
        let (nonce, sealed) = bytes.split_at(12);
        let payload = Payload {
            msg: sealed,
            aad: owner.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| bad())?;
        String::from_utf8(plain).map_err(|_| bad())
    }

    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_for_its_owner() {
        let s = Secrets::ephemeral();
        let sealed = s.seal("host-1", "hapi_secret");
        assert!(Secrets::is_sealed(&sealed) && !sealed.contains("hapi_secret"));
        assert_ne!(
            sealed,
            s.seal("host-1", "hapi_secret"),
            "a fresh nonce each time"
        );
        assert_eq!(s.open("host-1", &sealed).unwrap(), "hapi_secret");
        assert!(s.open("host-2", &sealed).is_err());
        assert!(Secrets::ephemeral().open("host-1", &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(s.open("host-1", &tampered).is_err());
        assert_eq!(s.open("host-1", "plain").unwrap(), "plain");
    }

    #[test]
    fn the_key_file_is_made_once_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("hierro-secrets-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let sealed = Secrets::load_or_create(&dir).unwrap().seal("h", "x");
        let mode = std::fs::metadata(dir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            Secrets::load_or_create(&dir)
                .unwrap()
                .open("h", &sealed)
                .unwrap(),
            "x"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

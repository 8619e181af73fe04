//! Login with the host's admin account (from host.toml), into the shared
//! session store.

use std::time::Duration;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use hierro_http::SessionStore;

use crate::config::AdminAccount;

pub struct Sessions {
    admin: AdminAccount,
    pub store: SessionStore,
}

impl Sessions {
    pub fn new(admin: AdminAccount, idle: Duration) -> Self {
        Self {
            admin,
            store: SessionStore::new(idle),
        }
    }

    /// Checks the credentials and opens a session; `None` when they are wrong.
    pub fn login(&self, user: &str, password: &str) -> Option<String> {
        if user != self.admin.user {
            return None;
        }
        let hash = PasswordHash::new(&self.admin.password_hash).ok()?;
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .ok()?;
        Some(self.store.open(user))
    }
}

/// An argon2id PHC string for a password (what `host.toml` stores).
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt =
        SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_admin_with_the_right_password() {
        let admin = AdminAccount {
            user: "root".into(),
            password_hash: hash_password("secret"),
        };
        let s = Sessions::new(admin, Duration::from_secs(60));
        assert!(s.login("root", "wrong").is_none());
        assert!(s.login("admin", "secret").is_none());
        let t = s.login("root", "secret").unwrap();
        assert_eq!(s.store.check(&t).as_deref(), Some("root"));
    }
}

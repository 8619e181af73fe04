//! Login with the host's accounts (from host.toml: the admin and the
//! optional break-glass account), into the shared session store.

use std::time::Duration;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use hierro_http::SessionStore;

use crate::config::AdminAccount;

pub struct Sessions {
    accounts: Vec<AdminAccount>,
    pub store: SessionStore,
}

impl Sessions {
    pub fn new(admin: AdminAccount, break_glass: Option<AdminAccount>, idle: Duration) -> Self {
        Self {
            accounts: std::iter::once(admin).chain(break_glass).collect(),
            store: SessionStore::new(idle),
        }
    }

    /// Checks the credentials and opens a session; `None` when they are wrong.
    pub fn login(&self, user: &str, password: &str) -> Option<String> {
        let account = self.accounts.iter().find(|a| a.user == user)?;
        let hash = PasswordHash::new(&account.password_hash).ok()?;
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
    fn only_the_accounts_with_their_passwords() {
        let admin = AdminAccount {
            user: "root".into(),
            password_hash: hash_password("secret"),
        };
        let break_glass = AdminAccount {
            user: "dcui".into(),
            password_hash: hash_password("glass"),
        };
        let s = Sessions::new(admin, Some(break_glass), Duration::from_secs(60));
        assert!(s.login("root", "wrong").is_none());
        assert!(s.login("admin", "secret").is_none());
        assert!(s.login("dcui", "secret").is_none());
        let t = s.login("root", "secret").unwrap();
        assert_eq!(s.store.check(&t).as_deref(), Some("root"));
        let t = s.login("dcui", "glass").unwrap();
        assert_eq!(s.store.check(&t).as_deref(), Some("dcui"));
    }
}

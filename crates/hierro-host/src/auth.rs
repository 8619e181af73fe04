//! Login with the host's admin account and session tokens with idle expiry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHash, PasswordVerifier};

use crate::config::AdminAccount;

pub struct Sessions {
    admin: AdminAccount,
    idle: Duration,
    tokens: Mutex<HashMap<String, Session>>,
}

struct Session {
    user: String,
    last_used: Instant,
}

impl Sessions {
    pub fn new(admin: AdminAccount, idle: Duration) -> Self {
        Self {
            admin,
            idle,
            tokens: Mutex::default(),
        }
    }

    pub fn idle(&self) -> Duration {
        self.idle
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
        let token = hex::encode(rand::random::<[u8; 32]>());
        self.tokens.lock().unwrap().insert(
            token.clone(),
            Session {
                user: user.to_string(),
                last_used: Instant::now(),
            },
        );
        Some(token)
    }

    /// The session's user, refreshing its idle timer; `None` if unknown or expired.
    pub fn check(&self, token: &str) -> Option<String> {
        let mut tokens = self.tokens.lock().unwrap();
        let now = Instant::now();
        tokens.retain(|_, s| now.duration_since(s.last_used) < self.idle);
        let s = tokens.get_mut(token)?;
        s.last_used = now;
        Some(s.user.clone())
    }

    pub fn logout(&self, token: &str) {
        self.tokens.lock().unwrap().remove(token);
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
    fn login_check_expire_logout() {
        let admin = AdminAccount {
            user: "root".into(),
            password_hash: hash_password("secret"),
        };
        let s = Sessions::new(admin, Duration::from_millis(200));
        assert!(s.login("root", "wrong").is_none());
        assert!(s.login("admin", "secret").is_none());
        let t = s.login("root", "secret").unwrap();
        assert_eq!(s.check(&t).as_deref(), Some("root"));
        assert!(s.check("nope").is_none());
        std::thread::sleep(Duration::from_millis(300));
        assert!(s.check(&t).is_none(), "idle session expired");
        let t = s.login("root", "secret").unwrap();
        s.logout(&t);
        assert!(s.check(&t).is_none());
    }
}

//! Session tokens with idle expiry. Who may log in is the server's business;
//! this only remembers who did.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A new random secret (a session or long-lived token): 256 bits, hex.
pub fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// How a long-lived secret is stored: its SHA-256, hex. (Secrets are
/// random, so no salt or slow hash is needed, unlike passwords.)
pub fn secret_hash(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

pub struct SessionStore {
    idle: Duration,
    tokens: Mutex<HashMap<String, Session>>,
}

struct Session {
    user: String,
    last_used: Instant,
}

impl SessionStore {
    pub fn new(idle: Duration) -> Self {
        Self {
            idle,
            tokens: Mutex::default(),
        }
    }

    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// A new session for an authenticated user; returns its token.
    pub fn open(&self, user: &str) -> String {
        let token = new_secret();
        self.tokens.lock().insert(
            token.clone(),
            Session {
                user: user.to_string(),
                last_used: Instant::now(),
            },
        );
        token
    }

    /// The session's user, refreshing its idle timer; `None` if unknown or expired.
    pub fn check(&self, token: &str) -> Option<String> {
        let mut tokens = self.tokens.lock();
        let now = Instant::now();
        tokens.retain(|_, s| now.duration_since(s.last_used) < self.idle);
        let s = tokens.get_mut(token)?;
        s.last_used = now;
        Some(s.user.clone())
    }

    pub fn close(&self, token: &str) {
        self.tokens.lock().remove(token);
    }

    /// Ends every session of a user (deleted or disabled account).
    pub fn close_user(&self, user: &str) {
        self.tokens.lock().retain(|_, s| s.user != user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_check_expire_close() {
        let s = SessionStore::new(Duration::from_millis(200));
        let t = s.open("root");
        assert_eq!(s.check(&t).as_deref(), Some("root"));
        assert!(s.check("nope").is_none());
        std::thread::sleep(Duration::from_millis(300));
        assert!(s.check(&t).is_none(), "idle session expired");
        let t = s.open("root");
        s.close(&t);
        assert!(s.check(&t).is_none());
        let t = s.open("alice");
        s.close_user("alice");
        assert!(s.check(&t).is_none());
    }
}

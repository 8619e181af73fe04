//! Login with the host's accounts (from host.toml: the admin and the
//! optional break-glass account), into the shared session store.

use std::net::IpAddr;
use std::time::Duration;

use hierro_http::login::{LockoutPolicy, Logins, Outcome, Refused};
use hierro_http::SessionStore;

pub use hierro_http::login::hash_password;

use crate::config::AdminAccount;

pub struct Sessions {
    accounts: Vec<AdminAccount>,
    pub store: SessionStore,
    pub logins: Logins,
}

impl Sessions {
    pub fn new(
        admin: AdminAccount,
        break_glass: Option<AdminAccount>,
        idle: Duration,
        lockout: LockoutPolicy,
    ) -> Self {
        Self {
            accounts: std::iter::once(admin).chain(break_glass).collect(),
            store: SessionStore::new(idle),
            logins: Logins::new(lockout),
        }
    }

    /// Checks the credentials (as `hierro_http::login` guards them) and
    /// opens a session: its token, or the failure (and whether it locked
    /// the account).
    pub async fn login(
        &self,
        user: &str,
        password: &str,
        from: IpAddr,
    ) -> Result<Result<String, Outcome>, Refused> {
        let attempt = self.logins.begin(user, from).await?;
        let hash = self
            .accounts
            .iter()
            .find(|a| a.user == user)
            .map(|a| a.password_hash.clone());
        Ok(match attempt.check(hash, password).await {
            Outcome::Accepted => Ok(self.store.open(user)),
            failed => Err(failed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_accounts_with_their_passwords() {
        let admin = AdminAccount {
            user: "root".into(),
            password_hash: hash_password("secret"),
        };
        let break_glass = AdminAccount {
            user: "dcui".into(),
            password_hash: hash_password("glass"),
        };
        let s = Sessions::new(
            admin,
            Some(break_glass),
            Duration::from_secs(60),
            LockoutPolicy::default(),
        );
        let from = std::net::Ipv4Addr::LOCALHOST.into();
        let login = |user: &'static str, pw: &'static str| s.login(user, pw, from);
        assert!(login("root", "wrong").await.unwrap().is_err());
        assert!(login("admin", "secret").await.unwrap().is_err());
        assert!(login("dcui", "secret").await.unwrap().is_err());
        let t = login("root", "secret").await.unwrap().unwrap();
        assert_eq!(s.store.check(&t).as_deref(), Some("root"));
        let t = login("dcui", "glass").await.unwrap().unwrap();
        assert_eq!(s.store.check(&t).as_deref(), Some("dcui"));
    }
}

//! A user logs in with a password: checked as `hierro_http::login` guards
//! it (argon2 off the async workers, lockout, back-off per address), and
//! recorded as events on the root folder, failures and lockouts included.

use std::net::IpAddr;

use hierro_api::{cut, shown, EventKind, LoginResponse, Severity};
use hierro_http::login::Outcome;

use super::{OpError, OpResult};
use crate::inventory::ROOT;
use crate::{directory, journal, Center};

pub async fn login(
    c: &Center,
    user: &str,
    password: &str,
    from: IpAddr,
) -> OpResult<LoginResponse> {
    let attempt = c.logins.begin(user, from).await?;
    let hash = directory::login_hash(&c.db, user).await?;
    let who = shown(user);
    match attempt.check(hash, password).await {
        Outcome::Accepted => {
            let user = directory::get_user(&c.db, user).await?;
            let message = format!("User {who} logged in from {from}");
            record(
                c,
                EventKind::UserLoginSession,
                Severity::Info,
                &user.name,
                &message,
            )
            .await?;
            Ok(LoginResponse {
                token: c.sessions.open(&user.name),
                username: user.name,
                idle_timeout_secs: c.sessions.idle().as_secs(),
            })
        }
        Outcome::Failed { locked } => {
            let message = format!("Failed login for {who} from {from}");
            record(
                c,
                EventKind::BadUsernameSession,
                Severity::Warning,
                user,
                &message,
            )
            .await?;
            if locked {
                let message = c.logins.policy().locked_message(&who);
                record(
                    c,
                    EventKind::AccountLocked,
                    Severity::Warning,
                    user,
                    &message,
                )
                .await?;
            }
            Err(OpError::Unauthenticated(
                "wrong user name or password".into(),
            ))
        }
    }
}

async fn record(
    c: &Center,
    kind: EventKind,
    severity: Severity,
    user: &str,
    message: &str,
) -> OpResult<()> {
    journal::event(&c.db, kind, severity, ROOT, ROOT, cut(user), message, None).await?;
    Ok(())
}

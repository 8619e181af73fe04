//! Password logins as both daemons check them, guarded against a flood and
//! against guessing:
//!
//! - argon2 runs on blocking threads, at most one per core at a time, never
//!   on the async workers (which keep answering everything else) and never
//!   while holding a database connection; a bounded queue waits for them;
//! - one account's attempts are checked one at a time, and
//!   `max_failures` failures within `window_secs` lock it for `unlock_secs`
//!   (vSphere's lockout policy), the right password included;
//! - one address's failures past `source_max_failures` within the window
//!   make it wait, 1 s and doubling with each further failure (up to
//!   `unlock_secs`), whatever account it tries;
//! - an unknown user costs the same argon2 work as a known one (a dummy
//!   hash), and is locked out the same way, so neither the time nor the
//!   answer tells which names exist.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use hierro_api::ErrorCode;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::ApiError;

/// The `[lockout]` table of `center.toml` and `host.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutPolicy {
    /// Failed logins of one account within the window that lock it (0:
    /// never locked).
    pub max_failures: u32,
    /// The window failures are counted in, in seconds.
    pub window_secs: u64,
    /// How long a locked account stays locked, in seconds; also the longest
    /// an address is made to wait.
    pub unlock_secs: u64,
    /// Failed logins from one address within the window after which it
    /// waits between attempts (0: never).
    pub source_max_failures: u32,
}

/// vCenter's defaults: 5 failures in 180 s lock an account for 300 s.
impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window_secs: 180,
            unlock_secs: 300,
            source_max_failures: 20,
        }
    }
}

impl LockoutPolicy {
    /// What the lockout event says of `who` (a name as messages quote it).
    pub fn locked_message(&self, who: &str) -> String {
        format!(
            "Account {who} locked for {} s after {} failed logins within {} s",
            self.unlock_secs, self.max_failures, self.window_secs
        )
    }

    pub fn check(&self) -> Result<(), String> {
        if self.window_secs == 0 || self.unlock_secs == 0 {
            return Err("lockout: window_secs and unlock_secs must be at least 1".into());
        }
        Ok(())
    }
}

/// Why a login was not even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the account is locked after too many failed logins: try again in {0} s")]
    Locked(u64),
    #[error("too many failed logins from this address: try again in {0} s")]
    Throttled(u64),
    #[error("too many logins at once: try again shortly")]
    Busy,
}

impl Refused {
    pub fn retry_after_secs(&self) -> u64 {
        match self {
            Refused::Locked(s) | Refused::Throttled(s) => *s,
            Refused::Busy => 1,
        }
    }
}

impl From<Refused> for ApiError {
    fn from(r: Refused) -> Self {
        ApiError::new(ErrorCode::TooManyRequests, r.to_string())
            .with_details(serde_json::json!({ "retry_after_secs": r.retry_after_secs() }))
    }
}

/// The argon2id PHC string of a password (what the configurations and the
/// center's users store). Slow on purpose: call it off the async workers.
pub fn hash_password(password: &str) -> String {
    let salt =
        SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters")
        .to_string()
}

/// `hash_password` on a blocking thread.
pub async fn hash_password_blocking(password: String) -> String {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .expect("hashing does not panic")
}

fn verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The address a request came from (the server must serve with
/// `into_make_service_with_connect_info::<SocketAddr>`; without it, as in
/// a unit test's router, the unspecified address).
pub struct Source(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        Ok(Source(addr))
    }
}

/// More logins than this waiting for a hashing thread are refused (Busy).
const MAX_WAITING: usize = 64;
/// Records kept before old ones are swept.
const MAX_RECORDS: usize = 10_000;

#[derive(Default)]
struct Record {
    failures: VecDeque<Instant>,
    /// Attempts being checked now.
    pending: u32,
    until: Option<Instant>,
    /// One account's attempts, one at a time.
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl Record {
    fn forget_before(&mut self, start: Instant) {
        while self.failures.front().is_some_and(|t| *t < start) {
            self.failures.pop_front();
        }
    }
    fn idle(&self, now: Instant) -> bool {
        self.pending == 0 && self.failures.is_empty() && self.until.is_none_or(|u| u <= now)
    }
}

#[derive(Default)]
struct State {
    accounts: HashMap<String, Record>,
    sources: HashMap<IpAddr, Record>,
}

pub struct Logins {
    policy: LockoutPolicy,
    hashing: Semaphore,
    waiting: AtomicUsize,
    state: Mutex<State>,
    /// What an unknown user's password is checked against.
    dummy: String,
}

/// The result of a checked login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    /// Wrong; `locked` when this failure locked the account.
    Failed {
        locked: bool,
    },
}

impl Logins {
    pub fn new(policy: LockoutPolicy) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            policy,
            hashing: Semaphore::new(cores),
            waiting: AtomicUsize::new(0),
            state: Mutex::default(),
            dummy: hash_password(&crate::new_secret()),
        }
    }

    pub fn policy(&self) -> &LockoutPolicy {
        &self.policy
    }

    /// Begins a login of `user` from `source`: refused while the account
    /// is locked, the address must wait or too many logins wait already;
    /// else waits for the account's turn.
    pub async fn begin<'a>(
        &'a self,
        user: &'a str,
        source: IpAddr,
    ) -> Result<Attempt<'a>, Refused> {
        let turn = self.admit(user, source)?;
        let pending = Pending {
            logins: self,
            user,
            source,
        };
        let waiting = Waiting::enter(&self.waiting)?;
        let turn = turn.lock_owned().await;
        // An earlier attempt may have locked the account meanwhile.
        self.still_open(user)?;
        Ok(Attempt {
            _turn: turn,
            pending,
            waiting,
        })
    }

    fn admit(&self, user: &str, source: IpAddr) -> Result<Arc<tokio::sync::Mutex<()>>, Refused> {
        let now = Instant::now();
        let window = Duration::from_secs(self.policy.window_secs);
        let mut guard = self.state.lock();
        let state = &mut *guard;
        if state.accounts.len() + state.sources.len() > MAX_RECORDS {
            let start = now.checked_sub(window).unwrap_or(now);
            for r in state
                .accounts
                .values_mut()
                .chain(state.sources.values_mut())
            {
                r.forget_before(start);
            }
            state.accounts.retain(|_, r| !r.idle(now));
            state.sources.retain(|_, r| !r.idle(now));
        }
        let from = state.sources.entry(source).or_default();
        if let Some(until) = from.until.filter(|u| *u > now) {
            return Err(Refused::Throttled(secs_until(until, now)));
        }
        let most = self.policy.source_max_failures;
        if most > 0 && from.pending >= most {
            return Err(Refused::Throttled(1));
        }
        let account = state.accounts.entry(user.to_string()).or_default();
        if let Some(until) = account.until.filter(|u| *u > now) {
            return Err(Refused::Locked(secs_until(until, now)));
        }
        account.pending += 1;
        let turn = account.turn.clone();
        state.sources.entry(source).or_default().pending += 1;
        Ok(turn)
    }

    fn still_open(&self, user: &str) -> Result<(), Refused> {
        let now = Instant::now();
        let state = self.state.lock();
        match state.accounts.get(user).and_then(|a| a.until) {
            Some(until) if until > now => Err(Refused::Locked(secs_until(until, now))),
            _ => Ok(()),
        }
    }

    /// Counts the attempt's result: a failure against the account and the
    /// address, a success clears the account's failures.
    fn settle(&self, user: &str, source: IpAddr, ok: bool) -> Outcome {
        let now = Instant::now();
        let p = self.policy;
        let window = Duration::from_secs(p.window_secs);
        let unlock = Duration::from_secs(p.unlock_secs);
        let start = now.checked_sub(window).unwrap_or(now);
        let mut state = self.state.lock();
        let account = state.accounts.entry(user.to_string()).or_default();
        if ok {
            account.failures.clear();
            return Outcome::Accepted;
        }
        account.forget_before(start);
        account.failures.push_back(now);
        let locked = p.max_failures > 0 && account.failures.len() >= p.max_failures as usize;
        if locked {
            account.until = Some(now + unlock);
            account.failures.clear();
        }
        let from = state.sources.entry(source).or_default();
        from.forget_before(start);
        from.failures.push_back(now);
        let over = from.failures.len() as i64 - p.source_max_failures as i64;
        if p.source_max_failures > 0 && over >= 0 {
            let wait = Duration::from_secs(1u64 << over.min(20)).min(unlock);
            from.until = Some(now + wait);
        }
        Outcome::Failed { locked }
    }
}

fn secs_until(until: Instant, now: Instant) -> u64 {
    (until - now).as_secs_f64().ceil().max(1.0) as u64
}

/// A login being checked, in its account's turn.
pub struct Attempt<'a> {
    _turn: tokio::sync::OwnedMutexGuard<()>,
    pending: Pending<'a>,
    waiting: Waiting<'a>,
}

impl Attempt<'_> {
    /// Checks `password` against `hash`, the account's (`None` for an
    /// unknown or disabled account, which fails after the same work), and
    /// counts the result.
    pub async fn check(self, hash: Option<String>, password: &str) -> Outcome {
        let logins = self.pending.logins;
        let hash = hash.unwrap_or_else(|| logins.dummy.clone());
        let _permit = logins.hashing.acquire().await.expect("never closed");
        drop(self.waiting);
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify(&hash, &password))
            .await
            .unwrap_or(false);
        logins.settle(self.pending.user, self.pending.source, ok)
    }
}

/// Counts an attempt as pending on its account and address while it lives.
struct Pending<'a> {
    logins: &'a Logins,
    user: &'a str,
    source: IpAddr,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        let mut state = self.logins.state.lock();
        if let Some(a) = state.accounts.get_mut(self.user) {
            a.pending = a.pending.saturating_sub(1);
        }
        if let Some(s) = state.sources.get_mut(&self.source) {
            s.pending = s.pending.saturating_sub(1);
        }
    }
}

/// One login waiting for its turn or a hashing thread.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Result<Self, Refused> {
        if count.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            count.fetch_sub(1, Ordering::SeqCst);
            return Err(Refused::Busy);
        }
        Ok(Waiting(count))
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
#[path = "login_tests.rs"]
mod tests;

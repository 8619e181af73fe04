//! The center (`hierro center`), the vCenter analog: inventory, users, roles
//! and permissions in a database (SQLite or PostgreSQL), and vSphere's
//! authorization model (`authz`). Three layers: `api` (HTTP handlers) →
//! `ops` (operations, multi-step ones as sagas) → the stores and the hosts'
//! clients.

pub mod access;
mod api;
pub mod authz;
pub mod config;
pub mod db;
pub mod directory;
mod dvswitches;
mod error;
pub mod host_sync;
mod hosts;
pub mod inventory;
mod journal;
mod migrations;
mod ops;
pub mod perf;
pub mod secrets;
pub mod server;
mod tls;
mod tokens;
mod vms;

use hierro_http::SessionStore;

use crate::config::CenterConfig;
use crate::db::Db;

/// The center's version, as `/api/about` says it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The running center: what every request and operation works with.
pub struct Center {
    pub config: CenterConfig,
    pub db: Db,
    pub sessions: SessionStore,
    /// Password logins: lockout and back-off (`ops::login`).
    pub logins: hierro_http::login::Logins,
    pub pki: tls::Pki,
    pub followers: host_sync::Followers,
    /// The running tasks a user may cancel (migrations, maintenance mode).
    pub cancels: hierro_http::Cancels,
    /// Tickets to VMs' graphical consoles, by the VM's inventory id.
    pub console_tickets: hierro_http::Tickets<String>,
    /// Changes of permissions, users and groups, one at a time
    /// (`ops::admins`).
    pub access_changes: tokio::sync::Mutex<()>,
}

//! The center (`hierro center`), the vCenter analog: inventory, users, roles
//! and permissions in a database (SQLite or PostgreSQL), and vSphere's
//! authorization model (`authz`).

pub mod access;
pub mod api;
pub mod authz;
pub mod config;
pub mod db;
pub mod directory;
pub mod dvswitches;
pub mod error;
pub mod host_sync;
pub mod hosts;
pub mod inventory;
pub mod journal;
pub mod migrations;
pub mod ops;
pub mod perf;
pub mod server;
pub mod tls;
pub mod tokens;
pub mod vms;

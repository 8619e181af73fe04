//! The center (`hierro center`), the vCenter analog: inventory, users, roles
//! and permissions in a database (SQLite or PostgreSQL), and vSphere's
//! authorization model (`authz`).

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
pub mod server;
mod tls;
mod tokens;
mod vms;

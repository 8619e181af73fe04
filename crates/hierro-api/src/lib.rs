//! The one contract of Hierro's REST APIs, the host agent's and the
//! center's: every request, response and query type, the error body and
//! its codes, and the vocabularies (privileges, event kinds, task
//! operations). The servers, the typed client, the CLI and the lab all use
//! these; nothing re-declares a body. They derive `utoipa::ToSchema`: both
//! OpenAPI documents describe their bodies with them, and the web client's
//! types are generated from the center's.

mod access;
mod datastore;
mod directory;
mod dvs;
mod error;
mod event;
mod event_kind;
mod host;
mod inventory;
mod migration;
mod mirror;
mod name;
mod network;
mod operation;
mod perf;
mod privilege;
mod session;
mod task;
mod updates;
mod vm;
pub mod vocab;

pub use access::*;
pub use datastore::*;
pub use directory::*;
pub use dvs::*;
pub use error::*;
pub use event::*;
pub use event_kind::EventKind;
pub use host::*;
pub use inventory::*;
pub use migration::*;
pub use mirror::*;
pub use name::*;
pub use network::*;
pub use operation::Operation;
pub use perf::*;
pub use privilege::{Privilege, PrivilegeInfo};
pub use session::*;
pub use task::*;
pub use updates::*;
pub use vm::*;

/// Header that carries a session token (as `vmware-api-session-id` does in vSphere).
pub const SESSION_HEADER: &str = "hierro-session";

/// For tests: makes step N (from 1) of the center's multi-step operation
/// fail, to check that its undo leaves nothing half-done. A center honours
/// it only with `fault_injection = true` in its configuration.
pub const FAIL_STEP_HEADER: &str = "hierro-fail-step";

//! The center's application layer: what an API call asks of the center,
//! between the HTTP handlers (`api/`, which parse, authorize and map the
//! outcome) and the store and host clients below. One module per
//! operation; multi-step operations are sagas (`saga`): steps with undos,
//! run by one executor that records progress in the task.
//!
//! ```text
//! api/vm.rs  handler: parse, authorize, call  ──▶  ops/migrate.rs   plan, then saga steps
//!                                                   ├─ store (inventory, migrations, journal)
//!                                                   └─ hosts (hierro-client, one per host)
//! ```

mod access;
pub mod add_host;
pub mod admins;
pub mod certificates;
pub mod datastore;
pub mod dvswitch;
mod error;
pub mod evacuate;
mod host;
pub mod login;
pub mod migrate;
pub mod provision;
pub mod saga;
mod task;
pub mod vm;

pub use access::{authorize, rights, visible, vm_ref, Caller};
pub use error::{OpError, OpResult};
pub use task::TaskRun;

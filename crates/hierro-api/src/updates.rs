use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Datastore, HostNetwork, VmInfo};

/// What changed on a host since a version: the answer to
/// `GET /api/updates?since=V&wait=S` (vSphere's `WaitForUpdatesEx`). The
/// version is the id of the host's latest event, since every change leaves
/// one; the center passes it back to wait for the next change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct HostUpdates {
    pub version: u64,
    /// A complete picture: whatever is not in it is gone. Sent for
    /// `since=0` and whenever the host no longer knows what changed since.
    pub full: bool,
    /// VMs that changed (all VMs when `full`).
    pub vms: Vec<VmInfo>,
    /// VMs deleted or moved away since `since`.
    pub removed_vms: Vec<Uuid>,
    /// All datastores, when any changed.
    pub datastores: Option<Vec<Datastore>>,
    /// The whole network configuration, when it changed.
    pub network: Option<HostNetwork>,
    /// Whether the host is in lockdown mode now.
    pub lockdown: bool,
}

/// `GET /api/updates` on a host: its change feed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpdatesQuery {
    /// The version the caller has; 0 (or none) for everything.
    #[serde(default)]
    pub since: u64,
    /// Seconds to wait for a change past `since` (at most 60).
    #[serde(default)]
    pub wait: u64,
}

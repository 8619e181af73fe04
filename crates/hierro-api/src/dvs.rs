//! The distributed switch (vSphere's vDS): one switch configuration owned by
//! the center, run by the vswitchd of every member host. Its uplinks are
//! names ("Uplink 1"...) that each member maps to NICs of its own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{MirrorSession, SecurityOverride, SecurityPolicy, TeamingOverride, TeamingPolicy};

/// A distributed switch's configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DistributedSwitch {
    pub name: String,
    #[serde(default = "default_mtu")]
    #[schema(minimum = 1280, maximum = 9000)]
    pub mtu: u16,
    /// Its uplink ports, in order; teaming names these.
    #[serde(default = "default_uplinks")]
    pub uplinks: Vec<String>,
    /// Defaults as vSphere's distributed switch: reject all three.
    #[serde(default = "distributed_security")]
    pub security: SecurityPolicy,
    #[serde(default)]
    pub teaming: TeamingPolicy,
    #[serde(default)]
    pub portgroups: Vec<DvPortGroup>,
    /// Mirror sessions; their `vswitch` is this switch's name, and RSPAN
    /// names its uplink ports.
    #[serde(default)]
    pub mirrors: Vec<MirrorSession>,
}

/// A distributed port group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DvPortGroup {
    pub name: String,
    /// 0 none, 1-4094 tagged, 4095 trunk.
    #[serde(default)]
    #[schema(maximum = 4095)]
    pub vlan: u16,
    #[serde(default)]
    pub security: SecurityOverride,
    #[serde(default)]
    pub teaming: TeamingOverride,
}

/// What a member host runs: the switch, and which of its NICs stand for
/// the switch's uplinks (uplink name to NIC; an uplink without a NIC here
/// is left out).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostProxySwitch {
    pub switch: DistributedSwitch,
    pub nics: BTreeMap<String, String>,
}

/// `PUT /api/dvswitches/{id}/hosts/{host}`: a host joins (or changes which
/// NICs it gives).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DvsMember {
    pub nics: BTreeMap<String, String>,
}

fn default_mtu() -> u16 {
    1500
}

fn default_uplinks() -> Vec<String> {
    vec!["Uplink 1".into(), "Uplink 2".into()]
}

fn distributed_security() -> SecurityPolicy {
    SecurityPolicy::DISTRIBUTED
}

impl HostProxySwitch {
    /// The NIC that stands for an uplink port here, if any.
    pub fn nic(&self, uplink: &str) -> Option<&String> {
        self.nics.get(uplink)
    }
}

/// `POST /api/dvswitches?datacenter=`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DvsCreateQuery {
    /// The datacenter the switch belongs to.
    pub datacenter: String,
}

//! Virtual networking: standard switches, port groups, VMkernel ports and the
//! counters of every port (vSphere's vSwitch model).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// VLAN 4095 on a port group means trunk (VGT): the guest tags its frames.
pub const VLAN_TRUNK: u16 = 4095;

/// The three security policies, resolved.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct SecurityPolicy {
    /// Accept: a port gets every frame its VLAN policy allows. Reject: only
    /// frames for its own MAC, broadcast and multicast.
    pub allow_promiscuous: bool,
    /// Reject: once the guest changes its effective MAC away from the
    /// configured one, every inbound frame to it is dropped until it changes back.
    pub allow_mac_changes: bool,
    /// Reject: outbound frames whose source MAC is not the port's effective
    /// MAC are dropped.
    pub allow_forged_transmits: bool,
}

impl SecurityPolicy {
    /// A standard switch's defaults: reject, accept, accept.
    pub const STANDARD: SecurityPolicy = SecurityPolicy {
        allow_promiscuous: false,
        allow_mac_changes: true,
        allow_forged_transmits: true,
    };

    pub fn with(self, o: &SecurityOverride) -> SecurityPolicy {
        SecurityPolicy {
            allow_promiscuous: o.allow_promiscuous.unwrap_or(self.allow_promiscuous),
            allow_mac_changes: o.allow_mac_changes.unwrap_or(self.allow_mac_changes),
            allow_forged_transmits: o
                .allow_forged_transmits
                .unwrap_or(self.allow_forged_transmits),
        }
    }
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        Self::STANDARD
    }
}

/// A port group's overrides of its switch's policy; `None` inherits.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_promiscuous: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_mac_changes: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_forged_transmits: Option<bool>,
}

/// A standard switch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VSwitch {
    pub name: String,
    /// Largest payload a frame may carry: 1500 (default) to 9000.
    #[serde(default = "default_mtu")]
    pub mtu: u16,
    /// Physical NICs (veths in the lab), in failover order.
    #[serde(default)]
    pub uplinks: Vec<String>,
    #[serde(default)]
    pub security: SecurityPolicy,
}

fn default_mtu() -> u16 {
    1500
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortGroup {
    pub name: String,
    pub vswitch: String,
    /// 0: none; 1-4094: tagged on uplinks, untagged to the VM (VST);
    /// 4095: trunk, the guest's own tags pass (VGT).
    #[serde(default)]
    pub vlan: u16,
    #[serde(default)]
    pub security: SecurityOverride,
}

/// What a VMkernel port carries.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VmkService {
    Management,
    Vmotion,
    FtLogging,
    IpStorage,
    Vsan,
}

/// A VMkernel port: an interface of the host itself on a port group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VmkNic {
    /// `vmk0`, `vmk1`, ...: also the host interface's name.
    pub name: String,
    pub portgroup: String,
    /// Assigned when absent.
    #[serde(default)]
    pub mac: Option<String>,
    /// CIDR, e.g. `10.99.1.11/24`.
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub services: Vec<VmkService>,
}

/// Per-port counters. `in` is what the port sent into the switch, `out` what
/// the switch delivered to the port.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct PortCounters {
    pub in_packets: u64,
    pub in_bytes: u64,
    pub out_packets: u64,
    pub out_bytes: u64,
    /// A frame whose VLAN the port group does not carry (e.g. a guest tag on a
    /// non-trunk port group).
    pub drop_vlan: u64,
    /// Forged transmits rejected.
    pub drop_forged: u64,
    /// Inbound frames dropped because the guest changed its MAC (MAC address
    /// changes rejected).
    pub drop_mac_change: u64,
    /// Unicast frames for another MAC withheld (promiscuous mode rejected).
    pub drop_promiscuous: u64,
    /// Frames for the outside with no uplink up to carry them.
    pub drop_no_uplink: u64,
    /// Too short to be Ethernet, or a broken VLAN header.
    pub drop_malformed: u64,
    /// Payload larger than the switch's MTU.
    pub drop_oversize: u64,
}

/// Counters of one port as vswitchd reports them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct PortStats {
    /// The port's key: `vm:<id>:<nic>`, `vmk0`, or `uplink:<nic>`.
    pub port: String,
    pub vswitch: String,
    #[serde(default)]
    pub portgroup: Option<String>,
    /// The MAC the guest uses, when it changed it away from the configured one.
    #[serde(default)]
    pub effective_mac: Option<String>,
    pub counters: PortCounters,
}

/// A host's whole network configuration (`GET /api/network`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostNetwork {
    #[serde(default, rename = "vswitch")]
    pub vswitches: Vec<VSwitch>,
    #[serde(default, rename = "portgroup")]
    pub portgroups: Vec<PortGroup>,
    #[serde(default, rename = "vmknic")]
    pub vmknics: Vec<VmkNic>,
}

/// `POST /api/network/capture`: capture a port's frames (pktcap-uw).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureRequest {
    /// Port key as in the port list (`vm:<id>:0`, `vmk0`, `uplink:eth0`).
    pub port: String,
    /// Stop after this many frames...
    #[serde(default = "default_capture_packets")]
    pub packets: u64,
    /// ...or after this many seconds.
    #[serde(default = "default_capture_seconds")]
    pub seconds: u64,
}

fn default_capture_packets() -> u64 {
    100
}
fn default_capture_seconds() -> u64 {
    10
}

/// A MAC learned on an uplink.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct LearnedMac {
    pub vswitch: String,
    pub vlan: u16,
    pub mac: String,
    pub uplink: String,
}

/// `GET /api/network/ports`: every port's counters and the learned MACs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PortList {
    pub ports: Vec<PortStats>,
    pub learned: Vec<LearnedMac>,
}

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

    /// A distributed switch's defaults: reject all three.
    pub const DISTRIBUTED: SecurityPolicy = SecurityPolicy {
        allow_promiscuous: false,
        allow_mac_changes: false,
        allow_forged_transmits: false,
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

/// How a team picks the uplink a local port's frame leaves on (vSphere's
/// load balancing policies).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoadBalancing {
    /// Route based on originating virtual port: the port's id picks the
    /// uplink, which it keeps for its life unless that uplink fails.
    #[default]
    OriginatingPort,
    /// Route based on source MAC hash.
    SourceMac,
    /// Route based on IP hash (source and destination IPv4 address; other
    /// frames by their MACs). The physical switch must bundle the uplinks
    /// (static EtherChannel), so every uplink must be active.
    IpHash,
    /// Use explicit failover order: the first active uplink that is up.
    FailoverOrder,
}

/// How a team learns that an uplink has failed.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureDetection {
    /// Link status: the NIC's carrier.
    #[default]
    LinkStatus,
    /// Beacon probing: the carrier, and beacons every second between the
    /// team's uplinks; an uplink that hears none of the others has failed.
    /// Needs three or more uplinks, to tell which one it is.
    BeaconProbing,
}

/// Which of the switch's uplinks a team uses. Active uplinks carry traffic,
/// in this order; standby uplinks take the place of failed active ones, in
/// this order; the switch's other uplinks are unused.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailoverOrder {
    pub active: Vec<String>,
    #[serde(default)]
    pub standby: Vec<String>,
}

/// NIC teaming of a switch, or of a port group once its overrides are
/// applied.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamingPolicy {
    #[serde(default)]
    pub load_balancing: LoadBalancing,
    /// None: every uplink of the switch is active, in the switch's order.
    #[serde(default)]
    pub failover_order: Option<FailoverOrder>,
    #[serde(default)]
    pub failure_detection: FailureDetection,
    /// On a failover, a VM's power-on or a port's arrival, send a RARP for
    /// each MAC that moved, from its new uplink, so the physical switches
    /// learn its place at once.
    #[serde(default = "yes")]
    pub notify_switches: bool,
    /// A recovered active uplink takes its traffic back from the standby
    /// that replaced it; off, it waits until that standby fails.
    #[serde(default = "yes")]
    pub failback: bool,
}

fn yes() -> bool {
    true
}

impl Default for TeamingPolicy {
    fn default() -> Self {
        TeamingPolicy {
            load_balancing: LoadBalancing::default(),
            failover_order: None,
            failure_detection: FailureDetection::default(),
            notify_switches: true,
            failback: true,
        }
    }
}

impl TeamingPolicy {
    pub fn with(&self, o: &TeamingOverride) -> TeamingPolicy {
        TeamingPolicy {
            load_balancing: o.load_balancing.unwrap_or(self.load_balancing),
            failover_order: o
                .failover_order
                .clone()
                .or_else(|| self.failover_order.clone()),
            failure_detection: o.failure_detection.unwrap_or(self.failure_detection),
            notify_switches: o.notify_switches.unwrap_or(self.notify_switches),
            failback: o.failback.unwrap_or(self.failback),
        }
    }

    /// The team's active and standby uplinks, given the switch's uplinks.
    pub fn order(&self, uplinks: &[String]) -> FailoverOrder {
        self.failover_order
            .clone()
            .unwrap_or_else(|| FailoverOrder {
                active: uplinks.to_vec(),
                standby: vec![],
            })
    }
}

/// A port group's overrides of its switch's teaming; `None` inherits.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamingOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancing: Option<LoadBalancing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_order: Option<FailoverOrder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_detection: Option<FailureDetection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_switches: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failback: Option<bool>,
}

/// A standard switch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VSwitch {
    #[schema(pattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,79}$")]
    pub name: String,
    /// Largest payload a frame may carry: 1500 (default) to 9000.
    #[serde(default = "default_mtu")]
    #[schema(minimum = 1280, maximum = 9000)]
    pub mtu: u16,
    /// Physical NICs (veths in the lab); the default failover order.
    #[serde(default)]
    pub uplinks: Vec<String>,
    #[serde(default)]
    pub security: SecurityPolicy,
    #[serde(default)]
    pub teaming: TeamingPolicy,
}

fn default_mtu() -> u16 {
    1500
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortGroup {
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    pub vswitch: String,
    /// 0: none; 1-4094: tagged on uplinks, untagged to the VM (VST);
    /// 4095: trunk, the guest's own tags pass (VGT).
    #[serde(default)]
    #[schema(maximum = 4095)]
    pub vlan: u16,
    #[serde(default)]
    pub security: SecurityOverride,
    #[serde(default)]
    pub teaming: TeamingOverride,
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
    #[schema(pattern = "^vmk[0-9]{1,4}$")]
    pub name: String,
    pub portgroup: String,
    /// Assigned when absent.
    #[serde(default)]
    #[schema(pattern = "^(?!00:00:00:00:00:00$)[0-9A-Fa-f][02468AaCcEe](:[0-9A-Fa-f]{2}){5}$")]
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
    /// Sent by a mirror session's destination port, which may not send
    /// (normal I/O off).
    #[serde(default)]
    pub drop_mirror_destination: u64,
}

impl PortCounters {
    /// Both sets of counters added up (a port's counters from an earlier
    /// host, and from this one).
    pub fn plus(&self, o: &PortCounters) -> PortCounters {
        PortCounters {
            in_packets: self.in_packets + o.in_packets,
            in_bytes: self.in_bytes + o.in_bytes,
            out_packets: self.out_packets + o.out_packets,
            out_bytes: self.out_bytes + o.out_bytes,
            drop_vlan: self.drop_vlan + o.drop_vlan,
            drop_forged: self.drop_forged + o.drop_forged,
            drop_mac_change: self.drop_mac_change + o.drop_mac_change,
            drop_promiscuous: self.drop_promiscuous + o.drop_promiscuous,
            drop_no_uplink: self.drop_no_uplink + o.drop_no_uplink,
            drop_malformed: self.drop_malformed + o.drop_malformed,
            drop_oversize: self.drop_oversize + o.drop_oversize,
            drop_mirror_destination: self.drop_mirror_destination + o.drop_mirror_destination,
        }
    }
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
    /// A local port: the uplink its traffic leaves on now (esxtop's
    /// TEAM-PNIC); none when no uplink of its team can carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uplink: Option<String>,
    /// An uplink: whether it can carry traffic (its carrier is up and, where
    /// a team probes with beacons, it hears the other uplinks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_up: Option<bool>,
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
    #[serde(default, rename = "mirror")]
    pub mirrors: Vec<crate::MirrorSession>,
    /// Distributed switches this host is a member of, as its center pushed
    /// them (`PUT /api/network/distributed`).
    #[serde(default)]
    pub distributed: Vec<crate::HostProxySwitch>,
}

impl HostNetwork {
    /// The switches, port groups and mirror sessions the host runs: its
    /// standard ones, and each distributed switch with its uplink ports
    /// turned into this host's NICs.
    pub fn effective(&self) -> (Vec<VSwitch>, Vec<PortGroup>, Vec<crate::MirrorSession>) {
        let (mut switches, mut groups, mut mirrors) = (
            self.vswitches.clone(),
            self.portgroups.clone(),
            self.mirrors.clone(),
        );
        for d in &self.distributed {
            let s = &d.switch;
            let nics = |names: &[String]| -> Vec<String> {
                names.iter().filter_map(|u| d.nic(u).cloned()).collect()
            };
            let order = |o: &Option<FailoverOrder>| {
                o.as_ref().map(|o| FailoverOrder {
                    active: nics(&o.active),
                    standby: nics(&o.standby),
                })
            };
            switches.push(VSwitch {
                name: s.name.clone(),
                mtu: s.mtu,
                uplinks: nics(&s.uplinks),
                security: s.security,
                teaming: TeamingPolicy {
                    failover_order: order(&s.teaming.failover_order),
                    ..s.teaming.clone()
                },
            });
            groups.extend(s.portgroups.iter().map(|g| PortGroup {
                name: g.name.clone(),
                vswitch: s.name.clone(),
                vlan: g.vlan,
                security: g.security,
                teaming: TeamingOverride {
                    failover_order: order(&g.teaming.failover_order),
                    ..g.teaming.clone()
                },
            }));
            mirrors.extend(s.mirrors.iter().map(|m| {
                let mut m = m.clone();
                m.vswitch = s.name.clone();
                if let crate::MirrorDestination::Rspan { uplinks, .. } = &mut m.destination {
                    *uplinks = nics(uplinks);
                }
                m
            }));
        }
        (switches, groups, mirrors)
    }
}

/// `POST /api/network/capture`: capture a port's frames (pktcap-uw).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureRequest {
    /// Port key as in the port list (`vm:<id>:0`, `vmk0`, `uplink:eth0`).
    pub port: String,
    /// Stop after this many frames...
    #[serde(default = "default_capture_packets")]
    #[schema(minimum = 1, maximum = 1000000)]
    pub packets: u64,
    /// ...or after this many seconds.
    #[serde(default = "default_capture_seconds")]
    #[schema(minimum = 1, maximum = 100)]
    pub seconds: u64,
}

fn default_capture_packets() -> u64 {
    100
}
fn default_capture_seconds() -> u64 {
    10
}

/// The result of a capture task: how much it took, and where to download
/// it (`GET`, then `DELETE` when done; kept an hour after it ends).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct CaptureResult {
    pub packets: u64,
    pub bytes: u64,
    pub download: String,
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
    #[serde(default)]
    pub mirrors: Vec<crate::MirrorStats>,
}

/// A host's network as its center shows it (`GET /api/hosts/{id}/network`
/// on the center): the configuration and the live ports.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HostNetworkView {
    pub network: HostNetwork,
    pub ports: PortList,
}

//! The forwarding logic of one standard switch, free of I/O: a frame comes in
//! on a port, the switch says which ports it goes out on (and how tagged),
//! and counts what it drops and why. vSphere's semantics:
//!
//! - Local ports (VM NICs and VMkernel ports) sit on a port group, which gives
//!   them a VLAN policy and a security policy. Their MACs are known from
//!   configuration; external MACs are learned from uplinks, per VLAN.
//! - Broadcast, multicast and unknown unicast flood within the VLAN.
//! - Each local port is pinned to one uplink that is up (route based on
//!   originating virtual port): its outbound traffic leaves there, and
//!   broadcast or multicast from outside reaches it only from there, so two
//!   uplinks on one physical network neither loop nor duplicate.
//! - Frames that arrive on an uplink with the source MAC of a local port are
//!   our own, looped back by the physical network, and are dropped.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use hierro_api::{PortCounters, PortGroup, SecurityPolicy, VSwitch, VLAN_TRUNK};

use crate::frame::{self, Mac};

pub type PortId = u32;

/// How long a MAC learned on an uplink stays known (vSphere: 300 s).
pub const FDB_AGING: Duration = Duration::from_secs(300);
/// How long a source MAC sent by a local port marks frames that come back
/// from the physical network as our own (a reflection arrives within
/// microseconds; a MAC that really moved elsewhere is free again soon).
pub const REFLECTION_WINDOW: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    Uplink {
        link_up: bool,
    },
    Local {
        portgroup: String,
        /// The MAC in the VM's (or VMkernel port's) configuration.
        mac: Mac,
        /// The MAC the guest currently uses (it may change it).
        effective: Mac,
    },
}

#[derive(Debug, Clone)]
pub struct Port {
    pub key: String,
    pub role: Role,
    pub counters: PortCounters,
}

#[derive(Debug, Clone)]
struct Group {
    vlan: u16,
    policy: SecurityPolicy,
}

impl Group {
    /// Whether a port of this group carries `vlan` (0: untagged).
    fn carries(&self, vlan: u16) -> bool {
        match self.vlan {
            VLAN_TRUNK => true,
            v => v == vlan,
        }
    }
}

/// The frame that came in goes out of `port`, tagged for `vlan` or
/// untagged (`frame::retag` makes it so as it is sent).
#[derive(Debug, Clone, PartialEq)]
pub struct Out {
    pub port: PortId,
    pub vlan: Option<u16>,
}

pub struct Switch {
    pub name: String,
    mtu: usize,
    policy: SecurityPolicy,
    groups: HashMap<String, Group>,
    ports: BTreeMap<PortId, Port>,
    /// Uplink ports in failover order.
    uplinks: Vec<PortId>,
    fdb: HashMap<(u16, Mac), (PortId, Instant)>,
    /// Source MACs local ports sent recently (including forged ones).
    sent_locally: HashMap<Mac, Instant>,
}

impl Switch {
    pub fn new(cfg: &VSwitch, groups: &[PortGroup]) -> Switch {
        let mut s = Switch {
            name: cfg.name.clone(),
            mtu: cfg.mtu as usize,
            policy: cfg.security,
            groups: HashMap::new(),
            ports: BTreeMap::new(),
            uplinks: vec![],
            fdb: HashMap::new(),
            sent_locally: HashMap::new(),
        };
        s.configure(cfg, groups);
        s
    }

    /// Applies a new switch and port group configuration to the running
    /// switch; ports and counters stay.
    pub fn configure(&mut self, cfg: &VSwitch, groups: &[PortGroup]) {
        self.mtu = cfg.mtu as usize;
        self.policy = cfg.security;
        self.groups = groups
            .iter()
            .filter(|g| g.vswitch == cfg.name)
            .map(|g| {
                (
                    g.name.clone(),
                    Group {
                        vlan: g.vlan,
                        policy: cfg.security.with(&g.security),
                    },
                )
            })
            .collect();
    }

    pub fn add_port(&mut self, id: PortId, key: &str, role: Role) {
        if matches!(role, Role::Uplink { .. }) {
            self.uplinks.push(id);
        }
        self.ports.insert(
            id,
            Port {
                key: key.to_string(),
                role,
                counters: PortCounters::default(),
            },
        );
    }

    pub fn remove_port(&mut self, id: PortId) {
        self.ports.remove(&id);
        self.uplinks.retain(|u| *u != id);
        self.fdb.retain(|_, (p, _)| *p != id);
    }

    pub fn port(&self, id: PortId) -> Option<&Port> {
        self.ports.get(&id)
    }

    pub fn ports(&self) -> impl Iterator<Item = (&PortId, &Port)> {
        self.ports.iter()
    }

    /// Updates a local port's port group and MACs in place.
    pub fn update_local(&mut self, id: PortId, portgroup: &str, mac: Mac, effective: Mac) {
        if let Some(p) = self.ports.get_mut(&id) {
            p.role = Role::Local {
                portgroup: portgroup.to_string(),
                mac,
                effective,
            };
        }
    }

    pub fn set_link(&mut self, id: PortId, up: bool) {
        if let Some(Port {
            role: Role::Uplink { link_up },
            ..
        }) = self.ports.get_mut(&id)
        {
            *link_up = up;
        }
        if !up {
            self.fdb.retain(|_, (p, _)| *p != id);
        }
    }

    /// The uplink a local port's traffic uses: among the uplinks that are up,
    /// the one its port id picks (stable while the set of live uplinks is).
    pub fn pinned_uplink(&self, port: PortId) -> Option<PortId> {
        let up: Vec<PortId> = self
            .uplinks
            .iter()
            .copied()
            .filter(|u| matches!(self.ports[u].role, Role::Uplink { link_up: true }))
            .collect();
        (!up.is_empty()).then(|| up[port as usize % up.len()])
    }

    fn is_local_mac(&self, mac: Mac) -> bool {
        self.ports.values().any(|p| matches!(&p.role, Role::Local { mac: m, effective, .. } if *m == mac || *effective == mac))
    }

    /// Switches one frame that arrived on `ingress`; what must go out is
    /// appended to `out`. `gso_size` marks a super-frame that leaves as
    /// segments of that many payload bytes each.
    pub fn process(
        &mut self,
        ingress: PortId,
        f: &[u8],
        gso_size: Option<u16>,
        now: Instant,
        out: &mut Vec<Out>,
    ) {
        let Some(port) = self.ports.get_mut(&ingress) else {
            return;
        };
        port.counters.in_packets += 1;
        port.counters.in_bytes += f.len() as u64;
        let Some(h) = frame::parse(f) else {
            port.counters.drop_malformed += 1;
            return;
        };
        // What the MTU bounds: the frame's payload, or each segment's.
        let payload = match gso_size {
            None => Some(f.len() - h.len),
            Some(seg) => frame::l3l4_len(f, h.len).map(|hl| hl + seg as usize),
        };
        let Some(payload) = payload else {
            port.counters.drop_malformed += 1;
            return;
        };
        if payload > self.mtu {
            port.counters.drop_oversize += 1;
            return;
        }
        let role = port.role.clone();
        let vlan = match &role {
            Role::Uplink { .. } => {
                let vlan = h.vlan.unwrap_or(0);
                let reflected = self
                    .sent_locally
                    .get(&h.src)
                    .is_some_and(|t| now.duration_since(*t) < REFLECTION_WINDOW);
                if reflected || self.is_local_mac(h.src) {
                    return; // our own frame, back from the physical network
                }
                if !h.src.is_group() {
                    self.fdb.insert((vlan, h.src), (ingress, now));
                }
                vlan
            }
            Role::Local {
                portgroup,
                effective,
                ..
            } => {
                let Some(group) = self.groups.get(portgroup) else {
                    return;
                };
                let (policy, group_vlan) = (group.policy, group.vlan);
                let port = self.ports.get_mut(&ingress).expect("looked up above");
                if !policy.allow_forged_transmits && h.src != *effective {
                    port.counters.drop_forged += 1;
                    return;
                }
                match (group_vlan, h.vlan) {
                    (VLAN_TRUNK, tag) => tag.unwrap_or(0),
                    (v, None) => v,
                    // A guest may tag only on a trunk port group.
                    (_, Some(_)) => {
                        port.counters.drop_vlan += 1;
                        return;
                    }
                }
            }
        };
        // Untagged, the frame is this long.
        let body_len = f.len() - (h.len - frame::ETH_HEADER);
        let from_uplink = matches!(role, Role::Uplink { .. });
        if !from_uplink {
            self.sent_locally.insert(h.src, now);
        }

        // Where the frame goes: the local port that owns the address, else
        // outside (an uplink learned it, or nobody knows it: then it floods).
        let local_owner = if h.dst.is_group() {
            None
        } else {
            self.ports
                .iter()
                .find(|(id, p)| {
                    **id != ingress
                        && matches!(&p.role, Role::Local { portgroup, effective, .. }
                            if *effective == h.dst && self.groups.get(portgroup).is_some_and(|g| g.carries(vlan)))
                })
                .map(|(id, _)| *id)
        };
        let pinned = self.pinned_uplink(ingress);
        if !from_uplink && local_owner.is_none() {
            match pinned {
                Some(up) => self.emit(up, (vlan != 0).then_some(vlan), body_len, out),
                None if !h.dst.is_group() => {
                    let c = &mut self.ports.get_mut(&ingress).expect("ingress").counters;
                    c.drop_no_uplink += 1;
                }
                None => {}
            }
        }
        let locals: Vec<PortId> = self
            .ports
            .iter()
            .filter(|(id, p)| **id != ingress && matches!(p.role, Role::Local { .. }))
            .map(|(id, _)| *id)
            .collect();
        for id in locals {
            let Role::Local {
                portgroup,
                mac,
                effective,
            } = &self.ports[&id].role
            else {
                continue;
            };
            let Some(group) = self.groups.get(portgroup) else {
                continue;
            };
            if !group.carries(vlan) {
                continue;
            }
            let for_me = h.dst.is_group() || h.dst == *effective;
            // From outside, only the port's own uplink brings it what is
            // not addressed to it alone: the physical network floods to
            // every uplink, and one copy is enough.
            let addressed_to_me = for_me && !h.dst.is_group();
            if from_uplink && !addressed_to_me && self.pinned_uplink(id) != Some(ingress) {
                continue;
            }
            let (policy, trunk, mac, effective) =
                (group.policy, group.vlan == VLAN_TRUNK, *mac, *effective);
            let counters = &mut self.ports.get_mut(&id).expect("listed").counters;
            if !for_me && !policy.allow_promiscuous {
                // Counted when the frame went from one local port to
                // another: what a promiscuous listener here would have seen.
                if !from_uplink && local_owner.is_some() {
                    counters.drop_promiscuous += 1;
                }
                continue;
            }
            if !policy.allow_mac_changes && effective != mac {
                counters.drop_mac_change += 1;
                continue;
            }
            let tag = (trunk && vlan != 0).then_some(vlan);
            self.emit(id, tag, body_len, out);
        }
    }

    fn emit(&mut self, port: PortId, vlan: Option<u16>, body_len: usize, out: &mut Vec<Out>) {
        if let Some(p) = self.ports.get_mut(&port) {
            p.counters.out_packets += 1;
            p.counters.out_bytes += (body_len + if vlan.is_some() { 4 } else { 0 }) as u64;
        }
        out.push(Out { port, vlan });
    }

    /// The MACs learned on uplinks: (VLAN, MAC, uplink port).
    pub fn learned(&self, now: Instant) -> Vec<(u16, Mac, PortId)> {
        let mut v: Vec<_> = self
            .fdb
            .iter()
            .filter(|(_, (_, seen))| now.duration_since(*seen) < FDB_AGING)
            .map(|((vlan, mac), (port, _))| (*vlan, *mac, *port))
            .collect();
        v.sort();
        v
    }

    /// Forgets learned MACs older than the aging time.
    pub fn age(&mut self, now: Instant) {
        self.fdb
            .retain(|_, (_, seen)| now.duration_since(*seen) < FDB_AGING);
    }
}

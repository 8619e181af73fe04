//! The forwarding logic of one standard switch, free of I/O: a frame comes in
//! on a port, the switch says which ports it goes out on (and how tagged),
//! and counts what it drops and why. vSphere's semantics:
//!
//! - Local ports (VM NICs and VMkernel ports) sit on a port group, which gives
//!   them a VLAN policy and a security policy. Their MACs are known from
//!   configuration; external MACs are learned from uplinks, per VLAN.
//! - Broadcast, multicast and unknown unicast flood within the VLAN.
//! - Each port group has a team of uplinks (`team`): its policy picks the
//!   uplink a local port's frame leaves on, and broadcast or multicast from
//!   outside reaches a port only from its own uplink, so two uplinks on one
//!   physical network neither loop nor duplicate. When the uplink a port
//!   uses changes, the switch announces the port's MAC from the new one
//!   (notify switches). With beacon probing, the uplinks send each other
//!   beacons every second; one that hears none of the others has failed.
//! - Frames that arrive on an uplink with the source MAC of a local port are
//!   our own, looped back by the physical network, and are dropped.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use hierro_api::{FailureDetection, PortCounters, PortGroup, SecurityPolicy, VSwitch, VLAN_TRUNK};

use crate::frame::{self, Mac};
use crate::team::Team;

pub type PortId = u32;

/// How long a MAC learned on an uplink stays known (vSphere: 300 s).
pub const FDB_AGING: Duration = Duration::from_secs(300);
/// How long a source MAC sent by a local port marks frames that come back
/// from the physical network as our own (a reflection arrives within
/// microseconds; a MAC that really moved elsewhere is free again soon).
pub const REFLECTION_WINDOW: Duration = Duration::from_secs(2);
/// How often each uplink of a team with beacon probing sends a beacon.
pub const BEACON_INTERVAL: Duration = Duration::from_secs(1);
/// An uplink that heard no other uplink's beacon for this long has failed
/// (three beacons missed).
pub const BEACON_TIMEOUT: Duration = Duration::from_millis(3500);

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
    /// Its teaming policy and who is in use.
    team: Team,
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
    /// Random: tells this switch's beacons from other hosts'.
    id: u64,
    mtu: usize,
    policy: SecurityPolicy,
    /// The switch's uplinks by name, in the configuration's order.
    uplink_names: Vec<String>,
    groups: HashMap<String, Group>,
    ports: BTreeMap<PortId, Port>,
    fdb: HashMap<(u16, Mac), (PortId, Instant)>,
    /// Source MACs local ports sent recently (including forged ones).
    sent_locally: HashMap<Mac, Instant>,
    /// When each uplink last heard another uplink's beacon.
    heard: HashMap<PortId, Instant>,
    last_beacons: Option<Instant>,
    /// The uplink each local port was last reached through.
    homes: HashMap<PortId, PortId>,
    /// Frames the switch itself sends (beacons, announcements), by uplink.
    outgoing: Vec<(PortId, Vec<u8>)>,
}

impl Switch {
    pub fn new(cfg: &VSwitch, groups: &[PortGroup]) -> Switch {
        let mut s = Switch {
            id: random_id(),
            mtu: cfg.mtu as usize,
            policy: cfg.security,
            uplink_names: vec![],
            groups: HashMap::new(),
            ports: BTreeMap::new(),
            fdb: HashMap::new(),
            sent_locally: HashMap::new(),
            heard: HashMap::new(),
            last_beacons: None,
            homes: HashMap::new(),
            outgoing: vec![],
        };
        s.configure(cfg, groups);
        s
    }

    /// Applies a new switch and port group configuration to the running
    /// switch; ports and counters stay.
    pub fn configure(&mut self, cfg: &VSwitch, groups: &[PortGroup]) {
        self.mtu = cfg.mtu as usize;
        self.policy = cfg.security;
        self.uplink_names = cfg.uplinks.clone();
        let old = std::mem::take(&mut self.groups);
        self.groups = groups
            .iter()
            .filter(|g| g.vswitch == cfg.name)
            .map(|g| {
                let teaming = cfg.teaming.with(&g.teaming);
                // Who is in use stays (`refresh` sorts out the rest).
                let team = match old.get(&g.name) {
                    Some(o) => o.team.with_policy(teaming),
                    None => Team::new(teaming, vec![], vec![], None),
                };
                let group = Group {
                    vlan: g.vlan,
                    policy: cfg.security.with(&g.security),
                    team,
                };
                (g.name.clone(), group)
            })
            .collect();
        self.refresh(Instant::now());
    }

    pub fn add_port(&mut self, id: PortId, key: &str, role: Role) {
        if matches!(role, Role::Uplink { .. }) {
            // Heard, for a start: a new uplink gets its time to hear others.
            self.heard.insert(id, Instant::now());
        }
        self.ports.insert(
            id,
            Port {
                key: key.to_string(),
                role,
                counters: PortCounters::default(),
            },
        );
        self.refresh(Instant::now());
    }

    pub fn remove_port(&mut self, id: PortId) {
        self.ports.remove(&id);
        self.fdb.retain(|_, (p, _)| *p != id);
        self.heard.remove(&id);
        self.homes.remove(&id);
        self.refresh(Instant::now());
    }

    pub fn port(&self, id: PortId) -> Option<&Port> {
        self.ports.get(&id)
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
        let Some(Port {
            role: Role::Uplink { link_up },
            ..
        }) = self.ports.get_mut(&id)
        else {
            return;
        };
        if *link_up == up {
            return;
        }
        *link_up = up;
        if !up {
            self.fdb.retain(|_, (p, _)| *p != id);
        }
        self.refresh(Instant::now());
    }

    fn link_up(&self, id: PortId) -> bool {
        matches!(
            self.ports.get(&id),
            Some(Port {
                role: Role::Uplink { link_up: true },
                ..
            })
        )
    }

    fn beacons_heard(&self, id: PortId, now: Instant) -> bool {
        self.heard
            .get(&id)
            .is_some_and(|t| now.duration_since(*t) < BEACON_TIMEOUT)
    }

    /// Whether beacons let the uplink carry traffic: it heard another
    /// uplink of late, or no uplink with a carrier heard any (then beacons
    /// cannot tell which failed, the physical switch may be down, and the
    /// carrier decides).
    fn beacons_tell(&self, id: PortId, now: Instant) -> bool {
        self.beacons_heard(id, now)
            || !self
                .heard
                .keys()
                .any(|u| self.link_up(*u) && self.beacons_heard(*u, now))
    }

    /// Whether an uplink can carry traffic: its carrier is up and, if a
    /// team of the switch probes with beacons, it hears the others.
    pub fn usable(&self, id: PortId, now: Instant) -> bool {
        let probed = self.groups.values().any(|g| {
            g.team.policy.failure_detection == FailureDetection::BeaconProbing
                && g.team.members().any(|u| u == id)
        });
        self.link_up(id) && (!probed || self.beacons_tell(id, now))
    }

    /// The uplink port of this name, if the switch has it.
    fn uplink_id(&self, name: &str) -> Option<PortId> {
        let key = format!("uplink:{name}");
        self.ports
            .iter()
            .find(|(_, p)| p.key == key && matches!(p.role, Role::Uplink { .. }))
            .map(|(id, _)| *id)
    }

    /// Rebuilds every port group's team from the uplinks that can carry
    /// traffic now, and announces each port whose uplink changed.
    fn refresh(&mut self, now: Instant) {
        let names = self.uplink_names.clone();
        let ids = |s: &Switch, list: &[String]| -> Vec<PortId> {
            list.iter().filter_map(|n| s.uplink_id(n)).collect()
        };
        let mut teams = HashMap::new();
        for (name, g) in &self.groups {
            let order = g.team.policy.order(&names);
            let mut team = Team::new(
                g.team.policy.clone(),
                ids(self, &order.active),
                ids(self, &order.standby),
                Some(&g.team),
            );
            let probing = g.team.policy.failure_detection == FailureDetection::BeaconProbing;
            team.update(|u| self.link_up(u) && (!probing || self.beacons_tell(u, now)));
            teams.insert(name.clone(), team);
        }
        for (name, team) in teams {
            self.groups.get_mut(&name).expect("listed").team = team;
        }
        let locals: Vec<(PortId, String, Mac)> = self
            .ports
            .iter()
            .filter_map(|(id, p)| match &p.role {
                Role::Local {
                    portgroup,
                    effective,
                    ..
                } => Some((*id, portgroup.clone(), *effective)),
                Role::Uplink { .. } => None,
            })
            .collect();
        for (id, portgroup, mac) in locals {
            let Some(g) = self.groups.get(&portgroup) else {
                continue;
            };
            let home = g.team.home(id, mac);
            let before = match home {
                Some(h) => self.homes.insert(id, h),
                None => self.homes.remove(&id),
            };
            // A port seen for the first time is announced when it connects
            // (`announce`); one whose uplink changed, at once.
            if let (Some(new), Some(old)) = (home, before) {
                if new != old && g.team.policy.notify_switches {
                    self.queue_rarp(new, mac, g.vlan);
                }
            }
        }
    }

    fn queue_rarp(&mut self, uplink: PortId, mac: Mac, vlan: u16) {
        let tag = (1..VLAN_TRUNK).contains(&vlan).then_some(vlan);
        self.outgoing.push((uplink, frame::rarp(mac, tag)));
    }

    /// Announces a local port's MAC from its uplink, when its port group
    /// notifies switches: its VM powered on or arrived.
    pub fn announce(&mut self, port: PortId) {
        let Some(Port {
            role:
                Role::Local {
                    portgroup,
                    effective,
                    ..
                },
            ..
        }) = self.ports.get(&port)
        else {
            return;
        };
        let (mac, group) = (*effective, self.groups.get(portgroup));
        if let Some(g) = group.filter(|g| g.team.policy.notify_switches) {
            if let Some(home) = g.team.home(port, mac) {
                let vlan = g.vlan;
                self.queue_rarp(home, mac, vlan);
            }
        }
    }

    /// Sends beacons when they are due and judges the uplinks by what they
    /// heard.
    pub fn tick(&mut self, now: Instant) {
        if self
            .last_beacons
            .is_none_or(|t| now.duration_since(t) >= BEACON_INTERVAL)
        {
            self.last_beacons = Some(now);
            let mut senders: Vec<PortId> = self
                .groups
                .values()
                .filter(|g| g.team.policy.failure_detection == FailureDetection::BeaconProbing)
                .flat_map(|g| g.team.members())
                .filter(|u| self.link_up(*u))
                .collect();
            senders.sort();
            senders.dedup();
            for u in senders {
                self.outgoing.push((u, frame::beacon(self.id, u)));
            }
        }
        self.refresh(now);
    }

    /// What the switch itself sends, by uplink: beacons and announcements.
    /// Counted as the uplink's output.
    pub fn take_outgoing(&mut self) -> Vec<(PortId, Vec<u8>)> {
        let out = std::mem::take(&mut self.outgoing);
        for (port, f) in &out {
            if let Some(p) = self.ports.get_mut(port) {
                p.counters.out_packets += 1;
                p.counters.out_bytes += f.len() as u64;
            }
        }
        out
    }

    /// The uplink a local port's traffic uses now (for IP hash, the first
    /// of those its frames spread over).
    pub fn uplink_of(&self, port: PortId) -> Option<PortId> {
        match &self.ports.get(&port)?.role {
            Role::Local {
                portgroup,
                effective,
                ..
            } => self.groups.get(portgroup)?.team.home(port, *effective),
            Role::Uplink { .. } => None,
        }
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
                if let Some((switch, from)) = frame::parse_beacon(f, &h) {
                    // A beacon is never switched; ours tell that the
                    // uplink it reached works.
                    if switch == self.id && from != ingress {
                        self.heard.insert(ingress, now);
                    }
                    return;
                }
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
        if let (false, None, Role::Local { portgroup, .. }) = (from_uplink, local_owner, &role) {
            let uplink = self
                .groups
                .get(portgroup)
                .and_then(|g| g.team.uplink_for(ingress, &h, f));
            match uplink {
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
            if from_uplink && !addressed_to_me && !group.team.takes_floods(id, *effective, ingress)
            {
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

    /// Counts a frame that a mirror destination port sent and may not.
    pub fn drop_from_mirror_destination(&mut self, id: PortId, len: usize) {
        if let Some(p) = self.ports.get_mut(&id) {
            p.counters.in_packets += 1;
            p.counters.in_bytes += len as u64;
            p.counters.drop_mirror_destination += 1;
        }
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

/// A random id (std's hasher keys are random per process and per call).
fn random_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

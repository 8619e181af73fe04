//! Port mirroring sessions in the running dataplane: which frames each
//! session copies (`select`), cut and sampled as it says; the dataplane
//! sends the copies (SPAN to ports, RSPAN to a VLAN on uplinks, ERSPAN
//! from a VMkernel port). The frames themselves go on untouched.

use hierro_api::{MirrorDestination, MirrorDirection, MirrorSession, MirrorStats};

use crate::io::RawIp;
use crate::switch::{Out, PortId};

/// Which form of the frame a session copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// As it came in on the ingress port.
    Ingress,
    /// As it went out to the `n`th output.
    Egress(usize),
    /// Without its tag: an RSPAN destination session's VLAN.
    Untagged,
}

pub struct Session {
    pub cfg: MirrorSession,
    ingress: Vec<PortId>,
    egress: Vec<PortId>,
    /// RSPAN destination: the uplinks its VLAN arrives on.
    vlan_uplinks: Vec<PortId>,
    pub to_ports: Vec<PortId>,
    pub to_uplinks: Vec<PortId>,
    /// ERSPAN: the socket of the VMkernel port, and that port (its own
    /// frames are never copied: they carry the copies).
    pub erspan: Option<(RawIp, PortId)>,
    /// The GRE sequence number of the next ERSPAN copy.
    pub sequence: u32,
    seen: u64,
    pub stats: MirrorStats,
}

#[derive(Default)]
pub struct Mirrors {
    pub sessions: Vec<Session>,
}

impl Mirrors {
    /// The sessions of a configuration, with port keys resolved by `id`
    /// (ports not there now are left out); `switch_uplinks` gives a
    /// switch's uplink ports. A session that was running keeps its counters
    /// and sequence.
    pub fn build(
        cfg: &[MirrorSession],
        id: impl Fn(&str) -> Option<PortId>,
        switch_uplinks: impl Fn(&str) -> Vec<PortId>,
        old: Mirrors,
    ) -> Mirrors {
        let mut old: Vec<Session> = old.sessions;
        let sessions = cfg
            .iter()
            .filter(|m| m.enabled)
            .map(|m| {
                let ids = |want: &[MirrorDirection]| -> Vec<PortId> {
                    m.sources
                        .iter()
                        .filter(|s| want.contains(&s.direction))
                        .filter_map(|s| id(&s.port))
                        .collect()
                };
                let uplinks = |names: &[String]| -> Vec<PortId> {
                    names
                        .iter()
                        .filter_map(|n| id(&format!("uplink:{n}")))
                        .collect()
                };
                let (mut to_ports, mut to_uplinks, mut erspan) = (vec![], vec![], None);
                match &m.destination {
                    MirrorDestination::Ports { ports } => {
                        to_ports = ports.iter().filter_map(|p| id(p)).collect()
                    }
                    MirrorDestination::Rspan { uplinks: u, .. } => to_uplinks = uplinks(u),
                    MirrorDestination::Erspan { vmknic, .. } => {
                        erspan = id(vmknic).and_then(|port| match RawIp::bind(vmknic) {
                            Ok(s) => Some((s, port)),
                            Err(e) => {
                                tracing::warn!("mirror {}: ERSPAN from {vmknic}: {e}", m.name);
                                None
                            }
                        })
                    }
                }
                let before = old
                    .iter()
                    .position(|s| s.cfg.name == m.name)
                    .map(|i| old.swap_remove(i));
                Session {
                    ingress: ids(&[MirrorDirection::Ingress, MirrorDirection::Both]),
                    egress: ids(&[MirrorDirection::Egress, MirrorDirection::Both]),
                    vlan_uplinks: match m.source_vlan {
                        Some(_) => switch_uplinks(&m.vswitch),
                        None => vec![],
                    },
                    to_ports,
                    to_uplinks,
                    erspan,
                    sequence: before.as_ref().map_or(0, |b| b.sequence),
                    seen: 0,
                    stats: before.map_or_else(
                        || MirrorStats {
                            name: m.name.clone(),
                            ..Default::default()
                        },
                        |b| b.stats,
                    ),
                    cfg: m.clone(),
                }
            })
            .collect();
        Mirrors { sessions }
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Whether what `port` sends is dropped: it is a session's destination
    /// without normal I/O.
    pub fn silences(&self, port: PortId) -> bool {
        self.sessions
            .iter()
            .any(|s| !s.cfg.allow_normal_io && s.to_ports.contains(&port))
    }

    /// The copies a frame makes, by session: it came in on `ingress`
    /// tagged `vlan`, and went out to `outputs`. Sampling is applied.
    pub fn select(
        &mut self,
        ingress: PortId,
        vlan: Option<u16>,
        outputs: &[Out],
        copies: &mut Vec<(usize, Which)>,
    ) {
        copies.clear();
        for (i, s) in self.sessions.iter_mut().enumerate() {
            if s.erspan.as_ref().is_some_and(|(_, vmk)| *vmk == ingress) {
                continue;
            }
            let mut take = |which| {
                s.seen += 1;
                if (s.seen - 1) % s.cfg.sampling_rate.max(1) as u64 == 0 {
                    copies.push((i, which));
                }
            };
            if s.ingress.contains(&ingress) {
                take(Which::Ingress);
            }
            for (n, o) in outputs.iter().enumerate() {
                if s.egress.contains(&o.port) {
                    take(Which::Egress(n));
                }
            }
            if s.cfg.source_vlan.is_some()
                && s.cfg.source_vlan == vlan
                && s.vlan_uplinks.contains(&ingress)
            {
                take(Which::Untagged);
            }
        }
    }
}

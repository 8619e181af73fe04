//! NIC teaming, free of I/O: which uplinks a port group's team uses now,
//! and which of them a local port's frame leaves on (vSphere's teaming and
//! failover policy).
//!
//! A team has a slot per active uplink (one slot for explicit failover
//! order). A slot holds its own active uplink while that one is usable; when
//! it fails, the first usable standby takes its place. With failback, a
//! recovered active uplink takes its slot back at once; without, it waits
//! until the uplink in its place fails. Load balancing picks a slot, so a
//! port stays on its uplink unless that very uplink fails.

use hierro_api::{LoadBalancing, TeamingPolicy};

use crate::frame::{Header, Mac};
use crate::switch::PortId;

#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub policy: TeamingPolicy,
    active: Vec<PortId>,
    standby: Vec<PortId>,
    slots: Vec<Option<PortId>>,
}

impl Team {
    /// A team of these uplinks (ids, in order). What a `previous` team of
    /// the same uplinks had in its slots stays there (failback off).
    pub fn new(
        policy: TeamingPolicy,
        active: Vec<PortId>,
        standby: Vec<PortId>,
        previous: Option<&Team>,
    ) -> Team {
        let n = match policy.load_balancing {
            LoadBalancing::FailoverOrder => active.len().min(1),
            _ => active.len(),
        };
        let slots = match previous {
            Some(p) if p.active == active && p.standby == standby && p.slots.len() == n => {
                p.slots.clone()
            }
            _ => vec![None; n],
        };
        Team {
            policy,
            active,
            standby,
            slots,
        }
    }

    /// The same team under another policy; who is in use stays.
    pub fn with_policy(&self, policy: TeamingPolicy) -> Team {
        Team {
            policy,
            ..self.clone()
        }
    }

    /// Every uplink of the team, active first.
    pub fn members(&self) -> impl Iterator<Item = PortId> + '_ {
        self.active.iter().chain(&self.standby).copied()
    }

    /// Who may stand in for slot `i`, best first: its own active uplink,
    /// then the spares (for explicit failover order, the other active
    /// uplinks in order, then the standby ones).
    fn candidates(&self, i: usize) -> Vec<PortId> {
        match self.policy.load_balancing {
            LoadBalancing::FailoverOrder => self.members().collect(),
            _ => std::iter::once(self.active[i])
                .chain(self.standby.iter().copied())
                .collect(),
        }
    }

    /// Fills the slots from the uplinks `usable` says can carry traffic.
    pub fn update(&mut self, usable: impl Fn(PortId) -> bool) {
        let mut next = vec![None; self.slots.len()];
        let mut taken = vec![];
        if !self.policy.failback {
            for (slot, now) in next.iter_mut().zip(&self.slots) {
                if let Some(u) = now.filter(|u| usable(*u)) {
                    *slot = Some(u);
                    taken.push(u);
                }
            }
        }
        for (i, slot) in next.iter_mut().enumerate() {
            if slot.is_none() {
                *slot = self
                    .candidates(i)
                    .into_iter()
                    .find(|u| usable(*u) && !taken.contains(u));
                taken.extend(*slot);
            }
        }
        self.slots = next;
    }

    /// The uplinks carrying traffic now.
    pub fn in_use(&self) -> impl Iterator<Item = PortId> + '_ {
        self.slots.iter().flatten().copied()
    }

    /// The uplink for a hash or port id: its slot's, or, when that slot has
    /// nobody, one of those in use.
    fn pick(&self, n: u64) -> Option<PortId> {
        if self.slots.is_empty() {
            return None;
        }
        if let Some(u) = self.slots[(n % self.slots.len() as u64) as usize] {
            return Some(u);
        }
        let live: Vec<PortId> = self.in_use().collect();
        (!live.is_empty()).then(|| live[(n % live.len() as u64) as usize])
    }

    /// The uplink a frame from local port `port` leaves on.
    pub fn uplink_for(&self, port: PortId, h: &Header, f: &[u8]) -> Option<PortId> {
        match self.policy.load_balancing {
            LoadBalancing::OriginatingPort => self.pick(port as u64),
            LoadBalancing::SourceMac => self.pick(mac_number(h.src)),
            LoadBalancing::IpHash => self.pick(ip_hash(h, f)),
            LoadBalancing::FailoverOrder => self.in_use().next(),
        }
    }

    /// The uplink a port with this MAC is reached through, as far as the
    /// physical network knows: where its frames leave (for IP hash, which
    /// spreads them, the first in use). Notifications go out there.
    pub fn home(&self, port: PortId, mac: Mac) -> Option<PortId> {
        match self.policy.load_balancing {
            LoadBalancing::OriginatingPort => self.pick(port as u64),
            LoadBalancing::SourceMac => self.pick(mac_number(mac)),
            LoadBalancing::IpHash | LoadBalancing::FailoverOrder => self.in_use().next(),
        }
    }

    /// Whether broadcast, multicast and unknown unicast coming in on
    /// `uplink` reach this port. The physical network floods them to every
    /// uplink: one copy is taken, from the port's own uplink. With IP hash
    /// the physical switch bundles the uplinks and sends one copy on any.
    pub fn takes_floods(&self, port: PortId, mac: Mac, uplink: PortId) -> bool {
        match self.policy.load_balancing {
            LoadBalancing::IpHash => self.in_use().any(|u| u == uplink),
            _ => self.home(port, mac) == Some(uplink),
        }
    }
}

fn mac_number(m: Mac) -> u64 {
    m.0.iter().fold(0, |n, b| n << 8 | *b as u64)
}

/// IP hash: the source and destination IPv4 addresses XORed; frames that
/// are not IPv4 by their MACs.
fn ip_hash(h: &Header, f: &[u8]) -> u64 {
    let ethertype = u16::from_be_bytes([f[h.len - 2], f[h.len - 1]]);
    match f.get(h.len + 12..h.len + 20) {
        Some(ips) if ethertype == 0x0800 => {
            let src = u32::from_be_bytes([ips[0], ips[1], ips[2], ips[3]]);
            let dst = u32::from_be_bytes([ips[4], ips[5], ips[6], ips[7]]);
            (src ^ dst) as u64
        }
        _ => mac_number(h.src) ^ mac_number(h.dst),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hierro_api::TeamingPolicy;

    fn team(lb: LoadBalancing, failback: bool, active: &[PortId], standby: &[PortId]) -> Team {
        let policy = TeamingPolicy {
            load_balancing: lb,
            failback,
            ..Default::default()
        };
        let mut t = Team::new(policy, active.to_vec(), standby.to_vec(), None);
        t.update(|_| true);
        t
    }

    fn slots(t: &Team) -> Vec<Option<PortId>> {
        t.slots.clone()
    }

    #[test]
    fn a_standby_takes_the_place_of_a_failed_active_uplink() {
        let mut t = team(LoadBalancing::OriginatingPort, true, &[1, 2], &[3]);
        assert_eq!(slots(&t), [Some(1), Some(2)]);
        t.update(|u| u != 1);
        assert_eq!(slots(&t), [Some(3), Some(2)], "3 stands in for 1; 2 stays");
        t.update(|u| u == 2);
        assert_eq!(slots(&t), [None, Some(2)]);
        // A port whose slot is empty goes to one in use.
        let h = crate::frame::parse(&[0; 60]).unwrap();
        assert_eq!(t.uplink_for(10, &h, &[0; 60]), Some(2));
        // Failback: 1 takes its slot back as soon as it is up.
        t.update(|_| true);
        assert_eq!(slots(&t), [Some(1), Some(2)]);
    }

    #[test]
    fn without_failback_a_recovered_uplink_waits() {
        let mut t = team(LoadBalancing::OriginatingPort, false, &[1, 2], &[3]);
        t.update(|u| u != 1);
        assert_eq!(slots(&t), [Some(3), Some(2)]);
        t.update(|_| true);
        assert_eq!(slots(&t), [Some(3), Some(2)], "1 is back but waits");
        t.update(|u| u != 3);
        assert_eq!(slots(&t), [Some(1), Some(2)], "until 3 fails");
        // A team rebuilt from the same uplinks keeps who is where.
        t.update(|u| u != 1);
        let again = Team::new(t.policy.clone(), vec![1, 2], vec![3], Some(&t));
        assert_eq!(slots(&again), [Some(3), Some(2)]);
    }

    #[test]
    fn explicit_failover_order_uses_the_first_usable_uplink() {
        let mut t = team(LoadBalancing::FailoverOrder, true, &[1, 2], &[3]);
        assert_eq!(t.in_use().collect::<Vec<_>>(), [1]);
        t.update(|u| u != 1);
        assert_eq!(
            t.in_use().collect::<Vec<_>>(),
            [2],
            "the next active, not the standby"
        );
        t.update(|u| u == 3);
        assert_eq!(t.in_use().collect::<Vec<_>>(), [3]);
        t.update(|u| u != 1);
        assert_eq!(
            t.in_use().collect::<Vec<_>>(),
            [2],
            "failback to the best one up"
        );
    }

    #[test]
    fn balancing_spreads_and_pins() {
        let t = team(LoadBalancing::OriginatingPort, true, &[1, 2], &[]);
        let f = crate::frame::build(Mac([2; 6]), Mac([4; 6]), None, &[0; 40]);
        let h = crate::frame::parse(&f).unwrap();
        assert_eq!(t.uplink_for(10, &h, &f), Some(1));
        assert_eq!(t.uplink_for(11, &h, &f), Some(2));
        let t = team(LoadBalancing::SourceMac, true, &[1, 2], &[]);
        let from = |last: u8| {
            let f = crate::frame::build(Mac([2; 6]), Mac([0x52, 0, 0, 0, 0, last]), None, &[0; 40]);
            let h = crate::frame::parse(&f).unwrap();
            t.uplink_for(10, &h, &f)
        };
        assert_eq!((from(4), from(5), from(6)), (Some(1), Some(2), Some(1)));
        let t = team(LoadBalancing::IpHash, true, &[1, 2], &[]);
        let to = |dst: u8| {
            let mut ip = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17, 0, 0];
            ip.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, dst]);
            ip.resize(40, 0);
            let f = crate::frame::build(Mac([2; 6]), Mac([4; 6]), None, &ip);
            let h = crate::frame::parse(&f).unwrap();
            t.uplink_for(10, &h, &f)
        };
        // 10.0.0.1 ^ 10.0.0.2 = 3, ^ 10.0.0.3 = 2.
        assert_eq!((to(2), to(3)), (Some(2), Some(1)));
        assert!(t.takes_floods(10, Mac([4; 6]), 1) && t.takes_floods(10, Mac([4; 6]), 2));
        let t = team(LoadBalancing::OriginatingPort, true, &[1, 2], &[3]);
        assert!(t.takes_floods(10, Mac([4; 6]), 1));
        assert!(!t.takes_floods(10, Mac([4; 6]), 2) && !t.takes_floods(10, Mac([4; 6]), 3));
    }
}

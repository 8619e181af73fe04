//! What the dataplane tells: each port's counters, and the MACs learned on
//! uplinks.

use super::*;

impl Dataplane {
    /// Counters of every port.
    pub fn stats(&self) -> Vec<PortStats> {
        let mut v: Vec<PortStats> = self
            .ports
            .values()
            .filter_map(|e| {
                let sw = self.switches.get(&e.switch)?;
                let port = sw.port(e.id)?;
                let uplink = sw
                    .uplink_of(e.id)
                    .and_then(|u| self.ports.get(&u))
                    .map(|u| u.iface.clone());
                Some(PortStats {
                    port: e.key.clone(),
                    vswitch: e.switch.clone(),
                    portgroup: e.spec.as_ref().map(|s| s.portgroup.clone()),
                    effective_mac: e.spec.as_ref().and_then(|s| s.effective_mac.clone()),
                    uplink,
                    link_up: e.spec.is_none().then(|| sw.usable(e.id, Instant::now())),
                    counters: match e.spec.as_ref().and_then(|s| s.counted_before.as_ref()) {
                        Some(before) => port.counters.plus(before),
                        None => port.counters,
                    },
                })
            })
            .collect();
        v.sort_by(|a, b| a.port.cmp(&b.port));
        v
    }

    /// MACs learned on uplinks: (switch, VLAN, MAC, uplink port key).
    pub fn learned(&self) -> Vec<(String, u16, String, String)> {
        let now = Instant::now();
        let mut v = vec![];
        for (name, sw) in &self.switches {
            for (vlan, mac, port) in sw.learned(now) {
                let key = self
                    .ports
                    .get(&port)
                    .map(|e| e.key.clone())
                    .unwrap_or_default();
                v.push((name.clone(), vlan, mac.to_string(), key));
            }
        }
        v
    }
}

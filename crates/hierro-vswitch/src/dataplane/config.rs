//! Applying a configuration: switches, port groups and mirror sessions
//! changed in place, and ports added and removed as their specs come and go.

use super::*;

impl Dataplane {
    /// Makes the dataplane match `cfg`. Invalid configurations change nothing.
    pub fn apply(&mut self, cfg: &DataplaneConfig) -> Result<(), String> {
        cfg.validate()?;
        for s in &cfg.switches {
            for u in &s.uplinks {
                if crate::io::ifindex(u).is_err() {
                    return Err(format!(
                        "switch {}: uplink {u} does not exist on this host",
                        s.name
                    ));
                }
            }
        }
        // Ports first out of switches that go away or that they leave.
        // In key order, so that new ports get their ids (which pick their
        // uplinks) in a stable order.
        let wanted: BTreeMap<String, (String, Option<&PortSpec>, String)> = cfg
            .switches
            .iter()
            .flat_map(|s| {
                s.uplinks
                    .iter()
                    .map(move |u| (format!("uplink:{u}"), (s.name.clone(), None, u.clone())))
            })
            .chain(cfg.ports.iter().map(|p| {
                let sw = cfg
                    .portgroups
                    .iter()
                    .find(|g| g.name == p.portgroup)
                    .expect("validated")
                    .vswitch
                    .clone();
                (p.key.clone(), (sw, Some(p), p.iface.clone()))
            }))
            .collect();
        let stale: Vec<PortId> = self
            .ports
            .values()
            .filter(|e| match wanted.get(&e.key) {
                None => true,
                Some((sw, spec, iface)) => {
                    *sw != e.switch
                        || *iface != e.iface
                        || spec.map(|s| s.kind) != e.spec.as_ref().map(|s| s.kind)
                }
            })
            .map(|e| e.id)
            .collect();
        for id in stale {
            self.remove_port(id);
        }
        self.switches
            .retain(|name, _| cfg.switches.iter().any(|s| &s.name == name));
        for s in &cfg.switches {
            match self.switches.get_mut(&s.name) {
                Some(sw) => sw.configure(s, &cfg.portgroups),
                None => {
                    self.switches
                        .insert(s.name.clone(), Switch::new(s, &cfg.portgroups));
                }
            }
        }
        self.mtus = cfg
            .switches
            .iter()
            .map(|s| (s.name.clone(), s.mtu))
            .collect();
        for e in self.ports.values_mut() {
            let mtu = self.mtus[&e.switch];
            if e.mtu != mtu {
                e.mtu = mtu;
                if e.endpoint.is_some() {
                    let _ = set_link(&e.iface, &["mtu", &mtu.to_string()]);
                }
            }
        }
        for (key, (sw, spec, iface)) in wanted {
            let existing = self.port_id(&key);
            match (existing, spec) {
                (Some(id), Some(spec)) => {
                    let (mac, effective) = macs(spec);
                    self.switches
                        .get_mut(&sw)
                        .expect("made above")
                        .update_local(id, &spec.portgroup, mac, effective);
                    self.ports.get_mut(&id).expect("exists").spec = Some(spec.clone());
                }
                (Some(_), None) => {}
                (None, spec) => self.add_port(&key, &sw, spec.cloned(), &iface),
            }
        }
        let old = std::mem::take(&mut self.mirrors);
        let mirrors = Mirrors::build(
            &cfg.mirrors,
            |key| self.port_id(key),
            |switch| {
                let mut ids: Vec<PortId> = self
                    .ports
                    .values()
                    .filter(|e| e.switch == switch && e.spec.is_none())
                    .map(|e| e.id)
                    .collect();
                ids.sort();
                ids
            },
            old,
        );
        self.mirrors = mirrors;
        self.send_outgoing();
        Ok(())
    }

    pub(super) fn add_port(
        &mut self,
        key: &str,
        switch: &str,
        spec: Option<PortSpec>,
        iface: &str,
    ) {
        self.next_id += 1;
        let id = self.next_id;
        let role = match &spec {
            None => Role::Uplink {
                link_up: carrier(iface),
            },
            Some(s) => {
                let (mac, effective) = macs(s);
                Role::Local {
                    portgroup: s.portgroup.clone(),
                    mac,
                    effective,
                }
            }
        };
        self.switches
            .get_mut(switch)
            .expect("switch exists")
            .add_port(id, key, role);
        let mut entry = PortEntry {
            key: key.to_string(),
            switch: switch.to_string(),
            id,
            spec,
            iface: iface.to_string(),
            mtu: self.mtus.get(switch).copied().unwrap_or(1500),
            endpoint: None,
            error: None,
        };
        open_endpoint(&mut entry);
        self.ports.insert(id, entry);
    }

    /// Announces these ports' MACs from their uplinks (their VM powered
    /// on). A VM that arrives by vMotion announces itself (QEMU does, once
    /// it runs here): its port must not draw its traffic sooner.
    pub fn announce(&mut self, keys: &[String]) -> Result<(), String> {
        for key in keys {
            let id = self
                .port_id(key)
                .ok_or_else(|| format!("no port {key:?}"))?;
            let e = &self.ports[&id];
            if let Some(sw) = self.switches.get_mut(&e.switch) {
                sw.announce(id);
            }
        }
        self.send_outgoing();
        Ok(())
    }

    pub(super) fn remove_port(&mut self, id: PortId) {
        self.recording.remove(&id);
        if let Some(e) = self.ports.remove(&id) {
            if let Some(sw) = self.switches.get_mut(&e.switch) {
                sw.remove_port(id);
            }
            if e.spec.as_ref().is_some_and(|s| s.kind == PortKind::Vmk) {
                drop(e.endpoint);
                let _ = crate::io::delete_tap(&e.iface);
            }
        }
    }

    pub(super) fn port_id(&self, key: &str) -> Option<PortId> {
        self.ports.values().find(|e| e.key == key).map(|e| e.id)
    }
}

pub(super) fn macs(spec: &PortSpec) -> (Mac, Mac) {
    let mac: Mac = spec.mac.parse().expect("validated");
    let effective = spec
        .effective_mac
        .as_ref()
        .and_then(|m| m.parse().ok())
        .unwrap_or(mac);
    (mac, effective)
}

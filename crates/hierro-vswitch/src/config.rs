//! What the host agent tells vswitchd: the whole desired state, every time.
//! vswitchd makes itself match it, keeping what did not change (sockets,
//! counters, learned MACs).

use std::collections::HashSet;

use hierro_api::{
    FailureDetection, LoadBalancing, MirrorDestination, MirrorSession, PortGroup, TeamingPolicy,
    VSwitch, VLAN_TRUNK,
};
use serde::{Deserialize, Serialize};

use crate::frame::Mac;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DataplaneConfig {
    pub switches: Vec<VSwitch>,
    pub portgroups: Vec<PortGroup>,
    pub ports: Vec<PortSpec>,
    #[serde(default)]
    pub mirrors: Vec<MirrorSession>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PortKind {
    /// A VM NIC: QEMU's tap, reached through AF_PACKET.
    Vm,
    /// A VMkernel port: a tap vswitchd holds; the host's stack is behind it.
    Vmk,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PortSpec {
    /// Stable key: `vm:<uuid>:<nic>` or the VMkernel port's name.
    pub key: String,
    pub kind: PortKind,
    pub portgroup: String,
    /// The host interface: the VM's tap, or the VMkernel port's tap.
    pub iface: String,
    /// The configured MAC.
    pub mac: String,
    /// The MAC the guest uses now, when it changed it.
    #[serde(default)]
    pub effective_mac: Option<String>,
    /// What the port counted on the hosts the VM ran on before (vMotion
    /// brings its counters along): reported counters add up from there.
    #[serde(default)]
    pub counted_before: Option<hierro_api::PortCounters>,
}

pub const MIN_MTU: u16 = 1280;
pub const MAX_MTU: u16 = 9000;

impl DataplaneConfig {
    /// Checks the configuration as a whole; the message names what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let mut names = HashSet::new();
        let mut uplinks = HashSet::new();
        for s in &self.switches {
            if !names.insert(&s.name) {
                return Err(format!("two switches are named {:?}", s.name));
            }
            if !(MIN_MTU..=MAX_MTU).contains(&s.mtu) {
                return Err(format!(
                    "switch {}: MTU must be {MIN_MTU} to {MAX_MTU}, not {}",
                    s.name, s.mtu
                ));
            }
            for u in &s.uplinks {
                if !uplinks.insert(u) {
                    return Err(format!("uplink {u} is on two switches"));
                }
            }
            check_teaming(s, &s.teaming).map_err(|e| format!("switch {}: {e}", s.name))?;
        }
        let mut groups = HashSet::new();
        for g in &self.portgroups {
            if !groups.insert(&g.name) {
                return Err(format!("two port groups are named {:?}", g.name));
            }
            if g.vlan > VLAN_TRUNK {
                return Err(format!(
                    "port group {}: VLAN must be 0 to 4095, not {}",
                    g.name, g.vlan
                ));
            }
            let Some(s) = self.switches.iter().find(|s| s.name == g.vswitch) else {
                return Err(format!(
                    "port group {}: no switch named {:?}",
                    g.name, g.vswitch
                ));
            };
            check_teaming(s, &s.teaming.with(&g.teaming))
                .map_err(|e| format!("port group {}: {e}", g.name))?;
        }
        let mut keys = HashSet::new();
        let mut macs = std::collections::HashMap::new();
        for p in &self.ports {
            if !keys.insert(&p.key) {
                return Err(format!("two ports have the key {:?}", p.key));
            }
            let Some(g) = self.portgroups.iter().find(|g| g.name == p.portgroup) else {
                return Err(format!(
                    "port {}: no port group named {:?}",
                    p.key, p.portgroup
                ));
            };
            let mac: Mac = p.mac.parse().map_err(|e| format!("port {}: {e}", p.key))?;
            if let Some(m) = &p.effective_mac {
                m.parse::<Mac>()
                    .map_err(|e| format!("port {}: {e}", p.key))?;
            }
            if let Some(other) = macs.insert((g.vswitch.clone(), mac), &p.key) {
                return Err(format!(
                    "ports {other} and {} both have MAC {mac} on switch {}",
                    p.key, g.vswitch
                ));
            }
        }
        let mut sessions = HashSet::new();
        for m in &self.mirrors {
            if !sessions.insert(&m.name) {
                return Err(format!("two mirror sessions are named {:?}", m.name));
            }
            self.check_mirror(m)
                .map_err(|e| format!("mirror session {}: {e}", m.name))?;
        }
        Ok(())
    }

    /// Whether a port of this key exists: a VM's or VMkernel port, or an
    /// uplink (`uplink:<nic>`).
    pub fn has_port(&self, key: &str) -> bool {
        self.switch_of(key).is_some()
    }

    /// The switch a port is on: an uplink's, or its port group's. `None`
    /// for a port not in this configuration.
    fn switch_of(&self, key: &str) -> Option<&str> {
        if let Some(nic) = key.strip_prefix("uplink:") {
            let s = self
                .switches
                .iter()
                .find(|s| s.uplinks.iter().any(|u| u == nic));
            return s.map(|s| s.name.as_str());
        }
        let p = self.ports.iter().find(|p| p.key == key)?;
        let g = self.portgroups.iter().find(|g| g.name == p.portgroup)?;
        Some(&g.vswitch)
    }

    /// A session's references and numbers. Ports not in the configuration
    /// are allowed (a VM that is not registered now has no port: its
    /// session waits); ports of another switch are not.
    fn check_mirror(&self, m: &MirrorSession) -> Result<(), String> {
        if m.name.trim().is_empty() {
            return Err("a name is needed".into());
        }
        let Some(switch) = self.switches.iter().find(|s| s.name == m.vswitch) else {
            return Err(format!("no switch named {:?}", m.vswitch));
        };
        let on_switch = |key: &str| match self.switch_of(key) {
            Some(s) if s != switch.name => {
                Err(format!("port {key} is on switch {s}, not {}", switch.name))
            }
            _ => Ok(()),
        };
        let vlan = |v: u16| {
            if (1..VLAN_TRUNK).contains(&v) {
                Ok(())
            } else {
                Err(format!("VLAN must be 1 to 4094, not {v}"))
            }
        };
        for s in &m.sources {
            on_switch(&s.port)?;
        }
        if let Some(v) = m.source_vlan {
            vlan(v)?;
        }
        if m.sources.is_empty() && m.source_vlan.is_none() {
            return Err("it has no source: ports, or a VLAN (RSPAN destination)".into());
        }
        if m.sampling_rate == 0 {
            return Err("the sampling rate must be 1 (every frame) or more".into());
        }
        if let Some(n) = m.snap_length {
            if !(60..=MAX_MTU + 18).contains(&n) {
                return Err(format!(
                    "the snap length must be 60 to {}, not {n}",
                    MAX_MTU + 18
                ));
            }
        }
        match &m.destination {
            MirrorDestination::Ports { ports } => {
                if ports.is_empty() {
                    return Err("the destination has no port".into());
                }
                for p in ports {
                    if p.starts_with("uplink:") {
                        // It would get copies and, without normal I/O,
                        // nothing else: the host would lose the uplink.
                        return Err(format!(
                            "{p} cannot be a SPAN destination: send copies out of an uplink with RSPAN"
                        ));
                    }
                    on_switch(p)?;
                    if m.sources.iter().any(|s| s.port == *p) {
                        return Err(format!(
                            "port {p} is both a source and the destination (its copies would be mirrored again)"
                        ));
                    }
                }
            }
            MirrorDestination::Rspan { vlan: v, uplinks } => {
                vlan(*v)?;
                if m.source_vlan.is_some() {
                    return Err("an RSPAN destination session delivers to ports".into());
                }
                if uplinks.is_empty() {
                    return Err("the RSPAN destination has no uplink".into());
                }
                for u in uplinks {
                    if !switch.uplinks.contains(u) {
                        return Err(format!("{u} is not an uplink of switch {}", switch.name));
                    }
                }
            }
            MirrorDestination::Erspan {
                session_id, vmknic, ..
            } => {
                if *session_id > 1023 {
                    return Err(format!(
                        "the ERSPAN session id must be 0 to 1023, not {session_id}"
                    ));
                }
                if m.source_vlan.is_some() {
                    return Err("an RSPAN destination session delivers to ports".into());
                }
                let vmk = self
                    .ports
                    .iter()
                    .find(|p| p.key == *vmknic && p.kind == PortKind::Vmk);
                if vmk.is_none() {
                    return Err(format!("no VMkernel port named {vmknic:?}"));
                }
                on_switch(vmknic)?;
                if m.sources.iter().any(|s| s.port == *vmknic) {
                    return Err(format!(
                        "{vmknic} is both a source and the port the copies leave from"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A team must name the switch's uplinks, each once, with one active at
/// least; IP hash needs every uplink active (the physical switch bundles
/// them); beacon probing needs three uplinks to tell which one failed.
fn check_teaming(s: &VSwitch, t: &TeamingPolicy) -> Result<(), String> {
    let order = t.order(&s.uplinks);
    let mut seen = HashSet::new();
    for u in order.active.iter().chain(&order.standby) {
        if !s.uplinks.contains(u) {
            return Err(format!(
                "{u} in the failover order is not an uplink of the switch"
            ));
        }
        if !seen.insert(u) {
            return Err(format!("{u} is twice in the failover order"));
        }
    }
    if order.active.is_empty() && !s.uplinks.is_empty() {
        return Err("the failover order has no active uplink".into());
    }
    if t.load_balancing == LoadBalancing::IpHash && !order.standby.is_empty() {
        return Err(format!(
            "IP hash load balancing needs every uplink active, but {} is standby \
             (the physical switch bundles them; a standby uplink would get frames for ports it does not carry)",
            order.standby.join(", ")
        ));
    }
    let team = order.active.len() + order.standby.len();
    if t.failure_detection == FailureDetection::BeaconProbing && team < 3 {
        return Err(format!(
            "beacon probing needs 3 or more uplinks to tell which one failed; the team has {team}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> DataplaneConfig {
        DataplaneConfig {
            switches: vec![VSwitch {
                name: "vSwitch0".into(),
                mtu: 1500,
                uplinks: vec!["eth0".into(), "eth1".into()],
                security: Default::default(),
                teaming: Default::default(),
            }],
            portgroups: vec![PortGroup {
                name: "VM Network".into(),
                vswitch: "vSwitch0".into(),
                vlan: 0,
                security: Default::default(),
                teaming: Default::default(),
            }],
            ports: vec![PortSpec {
                key: "vm:1:0".into(),
                kind: PortKind::Vm,
                portgroup: "VM Network".into(),
                iface: "tap1".into(),
                mac: "52:54:00:00:00:01".into(),
                effective_mac: None,
                counted_before: None,
            }],
            mirrors: vec![],
        }
    }

    #[test]
    fn refuses_bad_configurations() {
        assert!(base().validate().is_ok());
        let mut c = base();
        c.portgroups[0].vlan = 4096;
        assert!(c.validate().unwrap_err().contains("VLAN"));
        let mut c = base();
        c.switches[0].mtu = 9001;
        assert!(c.validate().unwrap_err().contains("MTU"));
        let mut c = base();
        let mut dup = c.ports[0].clone();
        dup.key = "vm:2:0".into();
        c.ports.push(dup);
        assert!(c.validate().unwrap_err().contains("both have MAC"));
        let mut c = base();
        c.ports[0].portgroup = "Nope".into();
        assert!(c.validate().unwrap_err().contains("no port group"));
    }

    #[test]
    fn refuses_bad_teaming() {
        use hierro_api::{FailoverOrder, TeamingOverride};
        let order = |active: &[&str], standby: &[&str]| {
            Some(FailoverOrder {
                active: active.iter().map(|s| s.to_string()).collect(),
                standby: standby.iter().map(|s| s.to_string()).collect(),
            })
        };
        let group = |o: TeamingOverride| {
            let mut c = base();
            c.portgroups[0].teaming = o;
            c.validate()
        };
        let ip_hash = Some(LoadBalancing::IpHash);
        let standby = order(&["eth0"], &["eth1"]);
        assert!(group(TeamingOverride {
            failover_order: standby.clone(),
            ..Default::default()
        })
        .is_ok());
        let e = group(TeamingOverride {
            load_balancing: ip_hash,
            failover_order: standby,
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            e.contains("port group VM Network: IP hash") && e.contains("eth1 is standby"),
            "{e}"
        );
        let e = group(TeamingOverride {
            failure_detection: Some(FailureDetection::BeaconProbing),
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            e.contains("beacon probing needs 3") && e.contains("has 2"),
            "{e}"
        );
        let e = group(TeamingOverride {
            failover_order: order(&["eth0", "eth9"], &[]),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.contains("eth9") && e.contains("not an uplink"), "{e}");
        let e = group(TeamingOverride {
            failover_order: order(&["eth0"], &["eth0"]),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let e = group(TeamingOverride {
            failover_order: order(&[], &["eth0"]),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.contains("no active uplink"), "{e}");
        // The switch's own policy is checked too.
        let mut c = base();
        c.switches[0].teaming.failure_detection = FailureDetection::BeaconProbing;
        assert!(c
            .validate()
            .unwrap_err()
            .starts_with("switch vSwitch0: beacon"));
        c.switches[0].uplinks.push("eth2".into());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn refuses_bad_mirror_sessions() {
        use hierro_api::{MirrorDirection, MirrorSource};
        let session = |destination| MirrorSession {
            name: "m".into(),
            vswitch: "vSwitch0".into(),
            enabled: true,
            sources: vec![MirrorSource {
                port: "vm:1:0".into(),
                direction: MirrorDirection::Both,
            }],
            source_vlan: None,
            destination,
            snap_length: None,
            sampling_rate: 1,
            allow_normal_io: false,
        };
        let check = |m: MirrorSession| {
            let mut c = base();
            c.mirrors = vec![m];
            c.validate()
        };
        let to = |p: &str| MirrorDestination::Ports {
            ports: vec![p.into()],
        };
        // A port that is not here now (its VM is elsewhere) is allowed.
        assert!(check(session(to("vm:9:0"))).is_ok());
        let err = |m: MirrorSession| check(m).unwrap_err();
        assert!(err(session(to("vm:1:0"))).contains("both a source and the destination"));
        assert!(err(session(to("uplink:eth1"))).contains("cannot be a SPAN destination"));
        let mut m = session(to("vm:9:0"));
        m.sampling_rate = 0;
        assert!(err(m).contains("sampling rate"));
        let mut m = session(to("vm:9:0"));
        m.snap_length = Some(20);
        assert!(err(m).contains("snap length must be 60"));
        let mut m = session(to("vm:9:0"));
        m.sources.clear();
        assert!(err(m).contains("no source"));
        let mut m = session(to("vm:9:0"));
        m.vswitch = "vSwitch1".into();
        assert!(err(m).contains("no switch named"));
        let erspan = MirrorDestination::Erspan {
            address: "10.0.0.1".parse().unwrap(),
            version: Default::default(),
            session_id: 1,
            vmknic: "vmk9".into(),
        };
        assert!(err(session(erspan)).contains("no VMkernel port named \"vmk9\""));
        let rspan = MirrorDestination::Rspan {
            vlan: 4095,
            uplinks: vec!["eth0".into()],
        };
        assert!(err(session(rspan)).contains("VLAN must be 1 to 4094"));
        let e = err(session(to("vm:1:0")));
        assert!(
            e.starts_with("mirror session m: port vm:1:0 is both"),
            "{e}"
        );
    }
}

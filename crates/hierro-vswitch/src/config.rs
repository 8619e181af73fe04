//! What the host agent tells vswitchd: the whole desired state, every time.
//! vswitchd makes itself match it, keeping what did not change (sockets,
//! counters, learned MACs).

use std::collections::HashSet;

use hierro_api::{FailureDetection, LoadBalancing, PortGroup, TeamingPolicy, VSwitch, VLAN_TRUNK};
use serde::{Deserialize, Serialize};

use crate::frame::Mac;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DataplaneConfig {
    pub switches: Vec<VSwitch>,
    pub portgroups: Vec<PortGroup>,
    pub ports: Vec<PortSpec>,
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
            }],
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
}

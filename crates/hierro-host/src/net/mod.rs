//! The host's virtual network: its standard switches, port groups and
//! VMkernel ports (kept in the host state), the VM NICs on them, and
//! vswitchd, which is told the whole picture after every change.

pub mod capture;
pub mod tap;
pub mod vswitchd;

use hierro_api::EventKind;
use parking_lot::Mutex;
use std::collections::HashMap;

use hierro_api::{HostNetwork, Severity};
use hierro_vswitch::control::{Request, Response};
use hierro_vswitch::{DataplaneConfig, PortKind, PortSpec};

use crate::error::{HostError, HostResult};
use crate::Host;

pub use tap::{port_key, tap_name};

/// Runtime network facts that are not configuration.
#[derive(Default)]
pub struct NetRuntime {
    /// MACs guests switched to, by port key (from QEMU's rx-filter).
    effective_macs: Mutex<HashMap<String, String>>,
    /// What VM ports counted on the hosts they came from by vMotion.
    counted_before: Mutex<HashMap<String, hierro_api::PortCounters>>,
    /// One apply at a time, so vswitchd sees changes in order.
    apply_lock: tokio::sync::Mutex<()>,
}

impl NetRuntime {
    /// Records what a VM's port counted on the host it came from.
    pub fn set_counted_before(&self, key: &str, counters: hierro_api::PortCounters) {
        let mut m = self.counted_before.lock();
        m.insert(key.to_string(), counters);
    }

    pub fn set_effective_mac(&self, key: &str, mac: Option<String>) -> bool {
        let mut m = self.effective_macs.lock();
        match mac {
            Some(mac) => m.insert(key.to_string(), mac.clone()) != Some(mac),
            None => m.remove(key).is_some(),
        }
    }
}

impl Host {
    pub fn network(&self) -> HostNetwork {
        self.state.lock().network.clone()
    }

    /// A standard or distributed port group of this name.
    pub fn portgroup_exists(&self, name: &str) -> bool {
        self.network().effective().1.iter().any(|g| g.name == name)
    }

    /// Whether a VM other than `except`, or a VMkernel port, has this MAC.
    pub fn mac_in_use(&self, mac: &str, except: Option<uuid::Uuid>) -> bool {
        self.vms.mac_in_use(mac, except)
            || self
                .network()
                .vmknics
                .iter()
                .any(|k| k.mac.as_deref() == Some(mac))
    }

    /// The address of the VMkernel port that carries vMotion, if any.
    pub fn vmotion_address(&self) -> Option<std::net::Ipv4Addr> {
        self.network()
            .vmknics
            .iter()
            .filter(|k| k.services.contains(&hierro_api::VmkService::Vmotion))
            .find_map(|k| crate::vm::spec::parse_cidr(k.ip.as_deref()?).ok())
            .map(|(ip, _)| ip)
    }

    /// What vswitchd must run, from a network configuration and the VMs.
    fn dataplane(&self, net: &HostNetwork) -> DataplaneConfig {
        let effective = self.net_runtime.effective_macs.lock().clone();
        let before = self.net_runtime.counted_before.lock().clone();
        let mut ports = vec![];
        for vm in self.vms.list() {
            let config = vm.config();
            for (i, nic) in config.nics.iter().enumerate() {
                let key = port_key(&config.id, i);
                ports.push(PortSpec {
                    effective_mac: effective.get(&key).cloned(),
                    counted_before: before.get(&key).copied(),
                    key,
                    kind: PortKind::Vm,
                    portgroup: nic.network.clone(),
                    iface: tap_name(&config.id, i),
                    mac: nic.mac.clone(),
                });
            }
        }
        for k in &net.vmknics {
            ports.push(PortSpec {
                key: k.name.clone(),
                kind: PortKind::Vmk,
                portgroup: k.portgroup.clone(),
                iface: k.name.clone(),
                mac: k.mac.clone().unwrap_or_default(),
                effective_mac: None,
                counted_before: None,
            });
        }
        let (switches, portgroups, mirrors) = net.effective();
        DataplaneConfig {
            switches,
            portgroups,
            ports,
            mirrors,
        }
    }

    /// Sends the current configuration to vswitchd and sets the VMkernel
    /// ports' addresses.
    pub async fn apply_network(&self) -> HostResult<()> {
        let _one = self.net_runtime.apply_lock.lock().await;
        let net = self.network();
        let cfg = self.dataplane(&net);
        match self.vswitchd.request(Request::Apply(cfg)).await {
            Ok(Response::Ok { .. }) => {}
            Ok(Response::Error { message }) => {
                return Err(HostError::backend(format!("vswitchd refused: {message}")))
            }
            Ok(other) => return Err(HostError::backend(format!("vswitchd answered {other:?}"))),
            Err(e) => return Err(HostError::backend(e)),
        }
        for k in &net.vmknics {
            if let Some(ip) = &k.ip {
                set_address(&k.name, ip).await?;
            }
        }
        Ok(())
    }

    /// Checks a changed network configuration as a whole, saves it and
    /// applies it; on any refusal nothing changes.
    pub async fn change_network(
        &self,
        user: &str,
        what: String,
        f: impl FnOnce(&mut HostNetwork) -> HostResult<()>,
    ) -> HostResult<HostNetwork> {
        let mut next = self.network();
        f(&mut next)?;
        validate(&next)?;
        // Port groups still used by a VM NIC may not go.
        let (switches, groups, _) = next.effective();
        for vm in self.vms.list() {
            for nic in vm.config().nics {
                if !groups.iter().any(|g| g.name == nic.network) {
                    return Err(HostError::conflict(format!(
                        "port group {:?} is in use by VM {}",
                        nic.network,
                        vm.name()
                    )));
                }
            }
        }
        let dataplane = self.dataplane(&next);
        dataplane.validate().map_err(HostError::invalid)?;
        // A session being added or changed names ports that exist (one
        // whose VM left later waits for it instead).
        let before = self.network();
        for m in next.mirrors.iter().filter(|m| !before.mirrors.contains(m)) {
            if let Some(port) = m.ports().find(|p| !dataplane.has_port(p)) {
                return Err(HostError::invalid(format!(
                    "mirror session {}: no port {port:?} on this host",
                    m.name
                )));
            }
        }
        for s in &switches {
            for u in &s.uplinks {
                if !std::path::Path::new("/sys/class/net").join(u).exists() {
                    return Err(HostError::invalid(format!(
                        "vswitch {}: uplink {u} is not a network interface of this host",
                        s.name
                    )));
                }
            }
        }
        let previous = self.network();
        self.change_state(|s| s.network = next.clone())?;
        if let Err(e) = self.apply_network().await {
            // vswitchd refused what we checked: put the old one back.
            let _ = self.change_state(|s| s.network = previous);
            let _ = self.apply_network().await;
            return Err(e);
        }
        self.journal.event(
            EventKind::HostNetworkChanged,
            Severity::Info,
            &self.target(),
            user,
            what,
            None,
        );
        Ok(next)
    }
}

/// Rules of the configuration itself (names, references, defaults).
pub fn validate(net: &HostNetwork) -> HostResult<()> {
    for s in &net.vswitches {
        crate::vm::validate_name("vswitch name", &s.name)?;
        // A Linux interface name: 1 to 15 characters, no '/' or space.
        for u in &s.uplinks {
            let ok = (1..=15).contains(&u.len())
                && u != "."
                && u != ".."
                && !u
                    .chars()
                    .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
            if !ok {
                return Err(HostError::invalid(format!(
                    "vswitch {}: uplink {} is not a network interface name",
                    s.name,
                    hierro_api::shown(u)
                )));
            }
        }
    }
    for g in &net.portgroups {
        // Stored as sent: the API's edges make names NFC first.
        let name =
            hierro_api::display_name("port group name", &g.name).map_err(HostError::invalid)?;
        if name != g.name {
            return Err(HostError::invalid(format!(
                "port group name {} is not in Unicode NFC",
                hierro_api::shown(&g.name)
            )));
        }
    }
    for m in &net.mirrors {
        hierro_api::display_name("mirror session name", &m.name).map_err(HostError::invalid)?;
    }
    for k in &net.vmknics {
        let n = k
            .name
            .strip_prefix("vmk")
            .filter(|n| (1..=4).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()));
        if n.is_none() {
            return Err(HostError::invalid(format!(
                "VMkernel port name {:?} must be vmk and 1 to 4 digits",
                k.name
            )));
        }
        if let Some(ip) = &k.ip {
            crate::vm::spec::parse_cidr(ip)
                .map_err(|e| HostError::invalid(format!("{}: {e}", k.name)))?;
        }
        if !net.portgroups.iter().any(|g| g.name == k.portgroup) {
            return Err(HostError::invalid(format!(
                "{}: no port group named {:?}",
                k.name, k.portgroup
            )));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for k in &net.vmknics {
        if !seen.insert(&k.name) {
            return Err(HostError::conflict(format!("{} exists already", k.name)));
        }
    }
    Ok(())
}

/// Gives every VMkernel port a MAC if it has none, before a configuration
/// is stored (the MAC is then kept).
pub fn complete(net: &mut HostNetwork) {
    for k in &mut net.vmknics {
        if k.mac.is_none() {
            k.mac = Some(crate::vm::spec::random_mac());
        }
    }
}

async fn set_address(iface: &str, cidr: &str) -> HostResult<()> {
    let out = tokio::process::Command::new("ip")
        .args(["-4", "-o", "addr", "show", "dev", iface])
        .output()
        .await
        .map_err(|e| HostError::internal(e.to_string()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains(&format!(" {cidr} ")) {
        return Ok(());
    }
    ip(&["-4", "addr", "flush", "dev", iface]).await?;
    ip(&["addr", "add", cidr, "dev", iface]).await
}

async fn ip(args: &[&str]) -> HostResult<()> {
    let out = tokio::process::Command::new("ip")
        .args(args)
        .output()
        .await
        .map_err(|e| HostError::internal(format!("cannot run ip: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(HostError::backend(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Restarts vswitchd whenever it stops answering, and gives the new one the
/// configuration: forwarding resumes within a fraction of a second.
pub async fn supervise(host: std::sync::Arc<Host>) {
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if host.vswitchd.answers().await {
            continue;
        }
        match host.vswitchd.ensure_running().await {
            Ok(_) => {
                let applied = host.apply_network().await;
                host.journal.event(
                    EventKind::VswitchdRestarted,
                    if applied.is_ok() {
                        Severity::Warning
                    } else {
                        Severity::Error
                    },
                    &host.target(),
                    "system",
                    match applied {
                        Ok(()) => {
                            "vswitchd stopped; restarted it and applied the network configuration"
                                .to_string()
                        }
                        Err(e) => format!("vswitchd restarted but refused the configuration: {e}"),
                    },
                    None,
                );
            }
            Err(e) => tracing::error!("vswitchd: {e}"),
        }
    }
}

/// A change of one named item of a list in the network configuration.
pub enum Edit<T> {
    /// A new item; refused if one has its name.
    Add(T),
    /// A replacement for the item of that name.
    Set(T),
    /// The item goes.
    Remove,
}

/// Applies `change` to the item of `list` named `name` (`key` gives an
/// item's name; `what` names the kind in errors).
pub fn edit<T>(
    list: &mut Vec<T>,
    name: &str,
    change: Edit<T>,
    key: impl Fn(&T) -> &str,
    what: &str,
) -> HostResult<()> {
    let pos = list.iter().position(|x| key(x) == name);
    match (pos, change) {
        (Some(_), Edit::Add(_)) => Err(HostError::conflict(format!(
            "{what} {name:?} exists already"
        ))),
        (None, Edit::Add(item)) => {
            list.push(item);
            Ok(())
        }
        (Some(i), Edit::Set(item)) => {
            list[i] = item;
            Ok(())
        }
        (Some(i), Edit::Remove) => {
            list.remove(i);
            Ok(())
        }
        (None, _) => Err(HostError::not_found(format!("no {what} named {name:?}"))),
    }
}

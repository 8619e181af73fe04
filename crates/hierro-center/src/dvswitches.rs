//! Distributed switches: the center owns each one's configuration (an
//! inventory object of kind `dvswitch` in a datacenter, its `data` the
//! switch and its members), and every member host runs it. A host gets its
//! whole set at once (`PUT /api/network/distributed`), after every change
//! and whenever its follower (re)connects, so a host that was away catches
//! up and one that left a switch meanwhile drops it.

use std::collections::BTreeMap;

use hierro_api::{DistributedSwitch, HostProxySwitch};
use hierro_vswitch::DataplaneConfig;
use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::error::{StoreError, StoreResult};
use crate::hosts;
use crate::inventory::{self, InventoryObject, ObjectKind};

/// A switch's `data`: its configuration, each member host (by object id)
/// with the NIC it gives each uplink port, and its distributed ports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Dvs {
    pub spec: DistributedSwitch,
    #[serde(default)]
    pub members: BTreeMap<String, BTreeMap<String, String>>,
    /// By VM NIC (`vm:<uuid>:<nic>`, its port key on every host): the
    /// port's id, kept wherever the VM runs.
    #[serde(default)]
    pub ports: BTreeMap<String, DvPort>,
}

/// A distributed port: its id on the switch, and the port group whose
/// policy it has.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DvPort {
    pub id: u32,
    pub portgroup: String,
}

impl Dvs {
    /// Connects a VM NIC to a port of `portgroup`: its own if it has one,
    /// else a new id.
    pub fn connect(&mut self, key: &str, portgroup: &str) {
        let portgroup = portgroup.to_string();
        match self.ports.get_mut(key) {
            Some(p) => p.portgroup = portgroup,
            None => {
                let id = self.ports.values().map(|p| p.id + 1).max().unwrap_or(1);
                self.ports.insert(key.to_string(), DvPort { id, portgroup });
            }
        }
    }
}

impl Dvs {
    pub fn of(o: &InventoryObject) -> StoreResult<Dvs> {
        if o.kind != ObjectKind::DvSwitch {
            return Err(StoreError::NotFound(format!(
                "no distributed switch {}: {} is a {}",
                o.id,
                o.name,
                o.kind.as_str()
            )));
        }
        serde_json::from_value(o.data.clone())
            .map_err(|e| StoreError::Invalid(format!("{}: {e}", o.name)))
    }

    pub fn data(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("serializable")
    }
}

/// Checks a configuration as vswitchd would, with the uplink ports standing
/// for NICs: names, VLANs, MTU, teaming (IP hash with standby uplinks,
/// beacon probing with fewer than three) and mirror sessions.
pub fn validate(spec: &DistributedSwitch) -> Result<(), String> {
    let proxy = HostProxySwitch {
        switch: spec.clone(),
        nics: spec
            .uplinks
            .iter()
            .map(|u| (u.clone(), u.clone()))
            .collect(),
    };
    let net = hierro_api::HostNetwork {
        distributed: vec![proxy],
        ..Default::default()
    };
    let (switches, portgroups, mirrors) = net.effective();
    let mut seen = std::collections::HashSet::new();
    if let Some(u) = spec.uplinks.iter().find(|u| !seen.insert(*u)) {
        return Err(format!("uplink port {u:?} is named twice"));
    }
    DataplaneConfig {
        switches,
        portgroups,
        ports: vec![],
        mirrors,
    }
    .validate()
}

/// What a member gives must name the switch's uplink ports, each NIC once.
pub fn validate_member(
    spec: &DistributedSwitch,
    nics: &BTreeMap<String, String>,
) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for (uplink, nic) in nics {
        if !spec.uplinks.contains(uplink) {
            return Err(format!("{} has no uplink port {uplink:?}", spec.name));
        }
        if !seen.insert(nic) {
            return Err(format!("NIC {nic} is given to two uplink ports"));
        }
    }
    Ok(())
}

/// Every distributed switch.
pub async fn all(db: &Db) -> StoreResult<Vec<(InventoryObject, Dvs)>> {
    let mut v = vec![];
    for o in inventory::search(db, Some(ObjectKind::DvSwitch), None).await? {
        let d = Dvs::of(&o)?;
        v.push((o, d));
    }
    Ok(v)
}

/// The switches a host is a member of, as it must run them.
pub async fn of_host(db: &Db, host: &str) -> StoreResult<Vec<HostProxySwitch>> {
    Ok(all(db)
        .await?
        .into_iter()
        .filter_map(|(_, d)| {
            let nics = d.members.get(host)?.clone();
            Some(HostProxySwitch {
                switch: d.spec,
                nics,
            })
        })
        .collect())
}

/// Gives every VM NIC that `vms` (reported by `host`) puts on a distributed
/// port group of a switch the host is a member of a port there, and frees
/// the ports of NICs that left it and of the VMs `gone` (`vm:<uuid>`), in
/// the caller's transaction.
pub async fn connect_ports(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    host: &str,
    vms: &[hierro_api::VmInfo],
    gone: &[String],
) -> StoreResult<()> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM objects WHERE kind = 'dvswitch'",
        inventory::COLUMNS
    ))
    .fetch_all(&mut **tx)
    .await?;
    for r in rows {
        let o = inventory::row_to_object(&r)?;
        let mut d = Dvs::of(&o)?;
        let before = d.clone();
        let member = d.members.contains_key(host);
        for vm in vms {
            for (i, nic) in vm.config.nics.iter().enumerate() {
                let key = format!("vm:{}:{i}", vm.id);
                let here = member && d.spec.portgroups.iter().any(|g| g.name == nic.network);
                if here {
                    d.connect(&key, &nic.network);
                } else if member {
                    d.ports.remove(&key);
                }
            }
        }
        d.ports
            .retain(|key, _| !gone.iter().any(|g| key.starts_with(&format!("{g}:"))));
        if d != before {
            sqlx::query("UPDATE objects SET data = $1 WHERE id = $2")
                .bind(d.data().to_string())
                .bind(&o.id)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// The switches a host is a member of, with switch `id` as `dvs` says
/// (a change being made or undone, whatever is stored).
pub async fn of_host_with(
    db: &Db,
    host: &str,
    id: &str,
    dvs: &Dvs,
) -> StoreResult<Vec<HostProxySwitch>> {
    let mut list = vec![];
    for (o, d) in all(db).await? {
        let d = if o.id == id { dvs.clone() } else { d };
        if let Some(nics) = d.members.get(host) {
            list.push(HostProxySwitch {
                switch: d.spec,
                nics: nics.clone(),
            });
        }
    }
    Ok(list)
}

/// Gives a host its whole set of distributed switches. The error is the
/// host's (it refused, or did not answer).
pub async fn push(db: &Db, host: &str) -> Result<(), String> {
    let list = of_host(db, host).await.map_err(|e| e.to_string())?;
    let client = hosts::client(db, host).await.map_err(|e| e.to_string())?;
    client
        .set_distributed(&list)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

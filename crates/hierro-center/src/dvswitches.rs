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
use crate::inventory::{self, Kind, Object};

/// A switch's `data`: its configuration, and each member host (by object
/// id) with the NIC it gives each uplink port.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Dvs {
    pub spec: DistributedSwitch,
    #[serde(default)]
    pub members: BTreeMap<String, BTreeMap<String, String>>,
}

impl Dvs {
    pub fn of(o: &Object) -> StoreResult<Dvs> {
        if o.kind != Kind::DvSwitch {
            return Err(StoreError::Invalid(format!(
                "{} is not a distributed switch",
                o.name
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
pub async fn all(db: &Db) -> StoreResult<Vec<(Object, Dvs)>> {
    let mut v = vec![];
    for o in inventory::search(db, Some(Kind::DvSwitch), None).await? {
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

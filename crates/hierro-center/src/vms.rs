//! VMs through the center: which host a new VM goes to, and which host
//! runs an existing one. The hosts do the work; the inventory mirrors it.

use serde_json::Value;
use sqlx::Row;

use crate::db::Db;
use crate::error::{StoreError, StoreResult};
use crate::inventory::{self, InventoryObject, ObjectKind};

/// A VM object and where it runs.
pub struct VmRef {
    pub object: InventoryObject,
    /// The host object's id.
    pub host: String,
    /// The VM's id on the host.
    pub vm_id: String,
}

pub fn as_vm(object: InventoryObject) -> StoreResult<VmRef> {
    if object.kind != ObjectKind::Vm {
        return Err(StoreError::Invalid(format!("{} is not a VM", object.name)));
    }
    let field = |k: &str| object.data[k].as_str().map(str::to_string);
    match (field("host"), field("vm_id")) {
        (Some(host), Some(vm_id)) => Ok(VmRef {
            object,
            host,
            vm_id,
        }),
        _ => Err(StoreError::Invalid(format!(
            "{} has no host in the inventory",
            object.name
        ))),
    }
}

/// The hosts that have a datastore or network (by name) in a datacenter.
async fn hosts_with(
    db: &Db,
    kind: ObjectKind,
    datacenter: &str,
    name: &str,
) -> StoreResult<Vec<String>> {
    let source = format!("{}:{datacenter}:{name}", kind.as_str());
    let Some(o) = inventory::by_source(db, &source).await? else {
        return Ok(vec![]);
    };
    Ok(o.data["hosts"]
        .as_object()
        .map(|h| h.keys().cloned().collect())
        .unwrap_or_default())
}

/// The inventory object of a datastore or network named on a host, for
/// checking privileges on it.
pub async fn shared_object(
    db: &Db,
    kind: ObjectKind,
    datacenter: &str,
    name: &str,
) -> StoreResult<InventoryObject> {
    let source = format!("{}:{datacenter}:{name}", kind.as_str());
    inventory::by_source(db, &source).await?.ok_or_else(|| {
        StoreError::Invalid(format!(
            "no {} named {name:?} in the datacenter",
            kind.as_str()
        ))
    })
}

/// Memory (MiB) the powered-on VMs of a host were given.
async fn committed_mib(db: &Db, host: &str) -> StoreResult<u64> {
    let rows = sqlx::query("SELECT data FROM objects WHERE kind = 'vm' AND host = $1")
        .bind(host)
        .fetch_all(&mut *db.conn().await?)
        .await?;
    let mut sum = 0;
    for r in rows {
        let data: Value =
            serde_json::from_str(&r.try_get::<String, _>("data")?).unwrap_or_default();
        if data["power_state"] == "poweredOn" {
            sum += data["memory_mib"].as_u64().unwrap_or(0);
        }
    }
    Ok(sum)
}

/// What a VM needs of a host.
pub struct Needs {
    pub datacenter: String,
    pub datastore: String,
    /// Its port groups, each once.
    pub networks: Vec<String>,
    /// Memory it will take when it runs (0 for a VM created powered off).
    pub memory_mib: u64,
}

impl Needs {
    pub fn new<'a>(
        datacenter: &str,
        datastore: &str,
        networks: impl IntoIterator<Item = &'a str>,
        memory_mib: u64,
    ) -> Needs {
        let mut networks: Vec<String> = networks.into_iter().map(str::to_string).collect();
        networks.sort();
        networks.dedup();
        Needs {
            datacenter: datacenter.to_string(),
            datastore: datastore.to_string(),
            networks,
            memory_mib,
        }
    }

    /// What an existing VM needs where it goes: its memory only if it runs
    /// there (a powered-off VM takes it when it is powered on).
    pub fn of_vm(datacenter: &str, info: &hierro_api::VmInfo, running: bool) -> Needs {
        let networks = info.config.nics.iter().map(|n| n.network.as_str());
        let memory = if running { info.config.memory_mib } else { 0 };
        Needs::new(datacenter, &info.datastore, networks, memory)
    }
}

/// The memory a host has left, or why it cannot take the VM.
pub async fn fit(
    db: &Db,
    host: &InventoryObject,
    needs: &Needs,
) -> StoreResult<Result<i64, String>> {
    if host.data["state"] != "connected" {
        return Ok(Err(format!("host {} is not connected", host.name)));
    }
    if host.data["maintenance"] == true {
        return Ok(Err(format!("host {} is in maintenance mode", host.name)));
    }
    if !hosts_with(
        db,
        ObjectKind::Datastore,
        &needs.datacenter,
        &needs.datastore,
    )
    .await?
    .contains(&host.id)
    {
        return Ok(Err(format!(
            "host {} does not see datastore {:?}",
            host.name, needs.datastore
        )));
    }
    for n in &needs.networks {
        if !hosts_with(db, ObjectKind::Network, &needs.datacenter, n.as_str())
            .await?
            .contains(&host.id)
        {
            return Ok(Err(format!("host {} has no port group {n:?}", host.name)));
        }
    }
    let total = host.data["memory_mib"].as_u64().unwrap_or(0) as i64;
    let free = total - committed_mib(db, &host.id).await? as i64;
    if (needs.memory_mib as i64) > free {
        return Ok(Err(format!(
            "host {} has {free} MiB left; the VM needs {} MiB",
            host.name, needs.memory_mib
        )));
    }
    Ok(Ok(free))
}

/// Chooses the host for a new VM: the host given, or in a cluster the
/// connected host that has the datastore, every network and the most
/// memory left (DRS's initial placement, by memory).
pub async fn place(
    db: &Db,
    target: &InventoryObject,
    needs: &Needs,
) -> StoreResult<InventoryObject> {
    let candidates = match target.kind {
        ObjectKind::Host => vec![target.clone()],
        ObjectKind::Cluster => inventory::children(db, &target.id)
            .await?
            .into_iter()
            .filter(|o| o.kind == ObjectKind::Host)
            .collect(),
        _ => {
            return Err(StoreError::Invalid(format!(
                "place a VM on a host or a cluster, not on {} ({})",
                target.name,
                target.kind.as_str()
            )))
        }
    };
    choose(db, &target.name, candidates, needs).await
}

/// Of `candidates` (in `within`), the host that fits and has the most
/// memory left.
pub async fn choose(
    db: &Db,
    within: &str,
    candidates: Vec<InventoryObject>,
    needs: &Needs,
) -> StoreResult<InventoryObject> {
    let mut best: Option<(i64, InventoryObject)> = None;
    let mut refusals = vec![];
    for host in candidates {
        match fit(db, &host, needs).await? {
            Ok(free) if best.as_ref().is_none_or(|(f, _)| free > *f) => best = Some((free, host)),
            Ok(_) => {}
            Err(why) => refusals.push(why),
        }
    }
    best.map(|(_, h)| h).ok_or_else(|| {
        StoreError::Conflict(format!(
            "no host in {within} can take the VM: {}",
            if refusals.is_empty() {
                "it has no hosts".to_string()
            } else {
                refusals.join("; ")
            }
        ))
    })
}

/// Of the objects the caller may see (all of one kind, `noun`), the one
/// `key` names: its id, or a name only one of them has.
pub fn find_by_key(
    visible: &[InventoryObject],
    key: &str,
    noun: &str,
) -> StoreResult<InventoryObject> {
    if let Some(o) = visible.iter().find(|o| o.id == key) {
        return Ok(o.clone());
    }
    let named: Vec<&InventoryObject> = visible.iter().filter(|o| o.name == key).collect();
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(StoreError::NotFound(format!("no {noun} {key:?}"))),
        _ => Err(StoreError::Invalid(format!(
            "{} {noun}s are named {key:?}: use the id",
            named.len()
        ))),
    }
}

/// Whether a running VM can go on from host `from` on host `to`: both run
/// VMs with the same accelerator, and under KVM, where the guest sees the
/// host's CPU (`-cpu host`), `to` has every CPU feature `from` has. Under
/// TCG QEMU emulates the same CPU on any host. Hosts added before they
/// reported their flags are not held back.
pub fn cpu_compatible(from: &InventoryObject, to: &InventoryObject) -> Result<(), String> {
    let (a, b) = (&from.data, &to.data);
    if a["accel"] != b["accel"] {
        return Err(format!(
            "{} runs VMs with {}, {} with {}",
            from.name, a["accel"], to.name, b["accel"]
        ));
    }
    if a["accel"] != "kvm" {
        return Ok(());
    }
    let flags = |d: &Value| -> Vec<String> {
        d["cpu_flags"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (have, offered) = (flags(a), flags(b));
    if have.is_empty() || offered.is_empty() {
        return Ok(());
    }
    let missing: Vec<&str> = have
        .iter()
        .filter(|f| !offered.contains(f))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}'s CPU ({}) lacks features the VM uses on {} ({}): {}",
        to.name,
        b["cpu_model"].as_str().unwrap_or("unknown model"),
        from.name,
        a["cpu_model"].as_str().unwrap_or("unknown model"),
        missing.join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn host(name: &str, accel: &str, flags: &[&str]) -> InventoryObject {
        InventoryObject::new(
            ObjectKind::Host,
            name,
            "dc",
            json!({"accel": accel, "cpu_model": format!("{name} CPU"), "cpu_flags": flags}),
        )
    }

    #[test]
    fn cpu_compatibility() {
        let old = host("old", "kvm", &["sse4_2", "avx"]);
        let new = host("new", "kvm", &["sse4_2", "avx", "avx2", "avx512f"]);
        // Onto a superset: fine; back from the newer CPU: its extra
        // features would vanish under the guest.
        assert!(cpu_compatible(&old, &new).is_ok());
        let e = cpu_compatible(&new, &old).unwrap_err();
        assert!(e.contains("avx2 avx512f") && e.contains("old CPU"), "{e}");
        // TCG emulates one CPU everywhere; accelerators must match.
        let (t1, t2) = (host("t1", "tcg", &["avx512f"]), host("t2", "tcg", &[]));
        assert!(cpu_compatible(&t1, &t2).is_ok());
        assert!(cpu_compatible(&t1, &old).unwrap_err().contains("tcg"));
    }
}

//! Keeping the inventory in step with each managed host. One follower task
//! per host long-polls the host's change feed (`GET /api/updates`, vSphere's
//! `WaitForUpdatesEx`) and applies each answer in one transaction together
//! with the version it brings, so a center killed midway applies it again.
//! A host that stops answering is marked disconnected and followed again
//! as soon as it answers.

use hierro_api::EventKind;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use hierro_api::{HostUpdates, PowerState, Severity, VmInfo};
use serde_json::{json, Value};
use sqlx::Row;

use crate::db::Db;
use crate::error::{StoreError, StoreResult};
use crate::inventory::{self, InventoryObject, ObjectKind, Source};
use crate::{hosts, journal};

/// How long one poll waits for a change on the host.
pub const WAIT_SECS: u64 = 20;
const MAX_RETRY: Duration = Duration::from_secs(5);

/// The follower tasks, by host id.
#[derive(Default)]
pub struct Followers {
    tasks: Mutex<HashMap<String, tokio::task::AbortHandle>>,
}

impl Followers {
    /// Starts following a host (again).
    pub fn start(&self, db: &Db, host: &str) {
        let task = tokio::spawn(follow(db.clone(), host.to_string()));
        if let Some(old) = self
            .tasks
            .lock()
            .insert(host.to_string(), task.abort_handle())
        {
            old.abort();
        }
    }

    pub fn stop(&self, host: &str) {
        if let Some(task) = self.tasks.lock().remove(host) {
            task.abort();
        }
    }
}

async fn follow(db: Db, host: String) {
    let mut retry = Duration::from_millis(500);
    // Whether the host got its distributed switches since it (re)connected.
    let mut pushed = false;
    loop {
        let conn = match hosts::connection(&db, &host).await {
            Ok(c) if c.enabled => c,
            Ok(_) | Err(StoreError::NotFound(_)) => return,
            Err(e) => {
                tracing::warn!(host, "reading the host's connection: {e}");
                tokio::time::sleep(retry).await;
                continue;
            }
        };
        let answer = match conn.client() {
            Ok(client) => client.updates(conn.version, WAIT_SECS).await,
            Err(e) => Err(e),
        };
        let outcome = match answer {
            Ok(updates) => match apply(&db, &host, &updates).await {
                Ok(()) => {
                    if !pushed {
                        // A host that refuses keeps what it had (logged);
                        // the next change of a switch tries again.
                        if let Err(e) = crate::dvswitches::push(&db, &host).await {
                            tracing::warn!(host, "distributed switches: {e}");
                        }
                        pushed = true;
                    }
                    hosts::set_state(&db, &host, hosts::State::Connected).await
                }
                Err(e) => Err(e),
            },
            Err(e) => {
                pushed = false;
                let why = e.to_string();
                if let Err(e) = hosts::set_state(&db, &host, hosts::State::Disconnected(&why)).await
                {
                    tracing::warn!(host, "recording the host's state: {e}");
                }
                Err(StoreError::Invalid(why))
            }
        };
        match outcome {
            Ok(()) => retry = Duration::from_millis(500),
            Err(e) => {
                tracing::debug!(host, "following the host: {e}");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(MAX_RETRY);
            }
        }
    }
}

/// An event to record once the transaction that caused it has committed.
struct Happened {
    kind: EventKind,
    target: String,
    target_name: String,
    message: String,
}

/// Applies a host's changes to the inventory, with the version, atomically.
pub async fn apply(db: &Db, host: &str, u: &HostUpdates) -> StoreResult<()> {
    let host_obj = inventory::get(db, host).await?;
    let datacenter = inventory::datacenter_of(db, host).await?;
    let mut conn = db.conn().await?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let mut happened = vec![];
    apply_vms(&mut tx, &host_obj, &datacenter.id, u, &mut happened).await?;
    if let Some(list) = &u.datastores {
        let facts = list.iter().map(|d| {
            (
                d.name.clone(),
                json!({"path": d.path, "capacity_bytes": d.capacity_bytes, "free_bytes": d.free_bytes, "accessible": d.accessible}),
            )
        });
        apply_shared(
            &mut tx,
            ObjectKind::Datastore,
            host,
            &datacenter.id,
            facts.collect(),
        )
        .await?;
    }
    if let Some(net) = &u.network {
        // Standard and distributed port groups alike: a distributed one
        // shows here once the host runs it.
        let (_, groups, _) = net.effective();
        let facts = groups.iter().map(|p| {
            let distributed = net.distributed.iter().any(|d| d.switch.name == p.vswitch);
            (
                p.name.clone(),
                json!({"vswitch": p.vswitch, "vlan": p.vlan, "distributed": distributed}),
            )
        });
        apply_shared(
            &mut tx,
            ObjectKind::Network,
            host,
            &datacenter.id,
            facts.collect(),
        )
        .await?;
    }
    if host_obj.data["lockdown"] != json!(u.lockdown) {
        let mut data = host_obj.data.clone();
        data["lockdown"] = json!(u.lockdown);
        set_data(&mut tx, host, &data, None).await?;
    }
    sqlx::query("UPDATE host_connections SET version = $1 WHERE host = $2")
        .bind(u.version as i64)
        .bind(host)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    drop(conn);
    record(db, happened).await
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

fn vm_data(host: &str, vm: &VmInfo) -> Value {
    json!({
        "host": host,
        "vm_id": vm.id,
        "power_state": vm.power_state,
        "cpus": vm.config.cpus,
        "memory_mib": vm.config.memory_mib,
        "datastore": vm.datastore,
        "template": vm.config.template,
        "cdroms": vm.config.cdroms.len(),
    })
}

async fn find(tx: &mut Tx<'_>, source: &str) -> StoreResult<Option<InventoryObject>> {
    let row = sqlx::query(&format!(
        "SELECT {} FROM objects WHERE source = $1",
        inventory::COLUMNS
    ))
    .bind(source)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(inventory::row_to_object).transpose()
}

/// `name`, or `name (2)`, `name (3)`... whichever is free in `parent`.
async fn free_name(tx: &mut Tx<'_>, parent: &str, name: &str) -> StoreResult<String> {
    for n in 1.. {
        let candidate = if n == 1 {
            name.to_string()
        } else {
            format!("{name} ({n})")
        };
        let taken = sqlx::query("SELECT 1 FROM objects WHERE parent = $1 AND name = $2")
            .bind(parent)
            .bind(&candidate)
            .fetch_optional(&mut **tx)
            .await?;
        if taken.is_none() {
            return Ok(candidate);
        }
    }
    unreachable!()
}

async fn set_data(tx: &mut Tx<'_>, id: &str, data: &Value, host: Option<&str>) -> StoreResult<()> {
    sqlx::query("UPDATE objects SET data = $1, host = $2 WHERE id = $3")
        .bind(data.to_string())
        .bind(host)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn delete(tx: &mut Tx<'_>, id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM objects WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records a VM the host reports: found by its UUID wherever it sits in the
/// inventory (so a user's folder moves and renames in the center survive),
/// or made in `parent` (free name) when new. Returns its object.
async fn upsert_vm(
    tx: &mut Tx<'_>,
    host: &InventoryObject,
    parent: &str,
    vm: &VmInfo,
    happened: &mut Vec<Happened>,
) -> StoreResult<InventoryObject> {
    let source = format!("vm:{}", vm.id);
    let data = vm_data(&host.id, vm);
    match find(tx, &source).await? {
        Some(o) if o.data == data => Ok(o),
        // A vMotion's destination registers the VM before its memory has
        // arrived: until it runs there, the source's view holds.
        Some(o)
            if vm.power_state != PowerState::PoweredOn && arriving(tx, &o.id, &host.id).await? =>
        {
            Ok(o)
        }
        Some(mut o) => {
            set_data(tx, &o.id, &data, Some(&host.id)).await?;
            if o.data["power_state"] != data["power_state"] {
                happened.push(Happened {
                    kind: EventKind::VmPowerStateChanged,
                    target: o.id.clone(),
                    target_name: o.name.clone(),
                    message: format!("{} is {} on {}", o.name, vm.power_state, host.name),
                });
            }
            o.data = data;
            Ok(o)
        }
        None => {
            let name = free_name(tx, parent, &vm.name).await?;
            let obj = InventoryObject::new(ObjectKind::Vm, &name, parent, data);
            let source = Source {
                key: &source,
                host: Some(&host.id),
            };
            inventory::insert(tx, &obj, Some(source)).await?;
            happened.push(Happened {
                kind: EventKind::VmDiscovered,
                target: obj.id.clone(),
                target_name: name.clone(),
                message: format!("Found VM {name} on {}", host.name),
            });
            Ok(obj)
        }
    }
}

/// Whether `vm` is moving to `host` by vMotion.
async fn arriving(tx: &mut Tx<'_>, vm: &str, host: &str) -> StoreResult<bool> {
    Ok(
        sqlx::query("SELECT 1 FROM migrations WHERE vm = $1 AND to_host = $2")
            .bind(vm)
            .bind(host)
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
    )
}

/// Records what a host said about one VM right after an operation through
/// the center, without waiting for the change feed; a new VM is put in
/// `parent`.
pub async fn record_vm(
    db: &Db,
    host: &str,
    parent: &str,
    vm: &VmInfo,
) -> StoreResult<InventoryObject> {
    record_vm_ending(db, host, parent, vm, None).await
}

/// Records a VM that a migration has just brought to `host`, and ends the
/// move (of inventory object `object`) in the same transaction: the
/// source's change feed then finds either the move under way or the VM on
/// its new host, never a VM of its own that is gone.
pub async fn record_arrival(
    db: &Db,
    host: &str,
    parent: &str,
    object: &str,
    vm: &VmInfo,
) -> StoreResult<InventoryObject> {
    record_vm_ending(db, host, parent, vm, Some(object)).await
}

async fn record_vm_ending(
    db: &Db,
    host: &str,
    parent: &str,
    vm: &VmInfo,
    ending_move: Option<&str>,
) -> StoreResult<InventoryObject> {
    let host_obj = inventory::get(db, host).await?;
    let mut conn = db.conn().await?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    if let Some(object) = ending_move {
        crate::migrations::end_in(&mut tx, object).await?;
    }
    let mut happened = vec![];
    let obj = upsert_vm(&mut tx, &host_obj, parent, vm, &mut happened).await?;
    tx.commit().await?;
    drop(conn);
    record(db, happened).await?;
    Ok(obj)
}

/// Events of changes that have committed.
async fn record(db: &Db, happened: Vec<Happened>) -> StoreResult<()> {
    for h in happened {
        journal::event(
            db,
            h.kind,
            Severity::Info,
            &h.target,
            &h.target_name,
            "system",
            &h.message,
            None,
        )
        .await?;
    }
    Ok(())
}

/// VMs: see `upsert_vm`; and those gone from the host.
async fn apply_vms(
    tx: &mut Tx<'_>,
    host: &InventoryObject,
    datacenter: &str,
    u: &HostUpdates,
    happened: &mut Vec<Happened>,
) -> StoreResult<()> {
    for vm in &u.vms {
        upsert_vm(tx, host, datacenter, vm, happened).await?;
    }
    // Gone: what the host says it removed, or with a full picture,
    // whatever of this host's it does not list. A VM that another host
    // reports since (moved away) is not this host's to remove, nor is one
    // in the middle of a vMotion (the destination reports it next).
    let present: HashSet<String> = u.vms.iter().map(|v| format!("vm:{}", v.id)).collect();
    let removed: HashSet<String> = u.removed_vms.iter().map(|id| format!("vm:{id}")).collect();
    let mut gone_sources = vec![];
    let rows = sqlx::query(
        "SELECT id, name, source FROM objects WHERE kind = 'vm' AND host = $1 \
         AND id NOT IN (SELECT vm FROM migrations)",
    )
    .bind(&host.id)
    .fetch_all(&mut **tx)
    .await?;
    for r in rows {
        let (id, name, source): (String, String, Option<String>) =
            (r.try_get("id")?, r.try_get("name")?, r.try_get("source")?);
        let source = source.unwrap_or_default();
        let gone = if u.full {
            !present.contains(&source)
        } else {
            removed.contains(&source)
        };
        if gone {
            delete(tx, &id).await?;
            gone_sources.push(source.clone());
            happened.push(Happened {
                kind: EventKind::VmRemoved,
                target: id,
                target_name: name.clone(),
                message: format!("VM {name} is no longer on {}", host.name),
            });
        }
    }
    crate::dvswitches::connect_ports(tx, &host.id, &u.vms, &gone_sources).await
}

/// Datastores and networks belong to the datacenter and are shared by name
/// (a shared datastore, a port group of the same name on several hosts),
/// as in vSphere. `data.hosts` holds each host's facts; the object goes
/// when no host has it any more.
async fn apply_shared(
    tx: &mut Tx<'_>,
    kind: ObjectKind,
    host: &str,
    datacenter: &str,
    facts: Vec<(String, Value)>,
) -> StoreResult<()> {
    let prefix = format!("{}:{datacenter}:", kind.as_str());
    let mut listed = HashSet::new();
    for (name, fact) in facts {
        let source = format!("{prefix}{name}");
        listed.insert(source.clone());
        match find(tx, &source).await? {
            Some(mut o) => {
                if o.data["hosts"][host] != fact {
                    o.data["hosts"][host] = fact;
                    set_data(tx, &o.id, &o.data, None).await?;
                }
            }
            None => {
                let name = free_name(tx, datacenter, &name).await?;
                let data = json!({"hosts": {host: fact}});
                let obj = InventoryObject::new(kind, &name, datacenter, data);
                let source = Source {
                    key: &source,
                    host: None,
                };
                inventory::insert(tx, &obj, Some(source)).await?;
            }
        }
    }
    let rows = sqlx::query(&format!(
        "SELECT {}, source FROM objects WHERE kind = $1 AND source LIKE $2",
        inventory::COLUMNS
    ))
    .bind(kind.as_str())
    .bind(format!("{prefix}%"))
    .fetch_all(&mut **tx)
    .await?;
    for r in rows {
        let source: Option<String> = r.try_get("source")?;
        if source.is_some_and(|s| listed.contains(&s)) {
            continue;
        }
        leave(tx, inventory::row_to_object(&r)?, host).await?;
    }
    Ok(())
}

/// Takes a host out of a shared object, and the object out of the
/// inventory when no host is left.
async fn leave(tx: &mut Tx<'_>, mut o: InventoryObject, host: &str) -> StoreResult<()> {
    let Some(hosts) = o.data["hosts"].as_object_mut() else {
        return Ok(());
    };
    if hosts.remove(host).is_none() {
        return Ok(());
    }
    if hosts.is_empty() {
        delete(tx, &o.id).await
    } else {
        set_data(tx, &o.id, &o.data, None).await
    }
}

/// Takes a host's objects out of the inventory (when the host is removed).
pub async fn forget(tx: &mut Tx<'_>, host: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM objects WHERE kind = 'vm' AND host = $1")
        .bind(host)
        .execute(&mut **tx)
        .await?;
    let rows = sqlx::query(&format!(
        "SELECT {} FROM objects WHERE kind IN ('datastore', 'network') AND source IS NOT NULL",
        inventory::COLUMNS
    ))
    .fetch_all(&mut **tx)
    .await?;
    for r in rows {
        leave(tx, inventory::row_to_object(&r)?, host).await?;
    }
    Ok(())
}

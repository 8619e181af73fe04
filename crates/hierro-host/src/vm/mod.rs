//! The VMs of this host. Each VM has one actor task (`actor.rs`) that owns
//! its QEMU process and QMP connection and runs its commands one at a time;
//! everything else reads the state the actor publishes.

pub mod actor;
pub mod clones;
pub mod console;
mod display;
pub mod guest;
pub mod lease;
pub mod snapshots;
pub mod spec;
pub mod staging;

use hierro_api::EventKind;
use hierro_api::Operation;
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use hierro_api::{Boot, PowerState, Snapshot, VmConfig, VmCreate, VmInfo, VmRuntime};
use hierro_qemu::{Qga, RunPaths};
use tokio::sync::mpsc;
use uuid::Uuid;

pub use actor::VmCommand;
pub use spec::validate_name;

use crate::error::{HostError, HostResult};
use crate::state::{write_atomic, VmRegistration};
use crate::tasks::{Target, TaskHandle};
use crate::Host;

/// A VM as the rest of the agent sees it.
pub struct Vm {
    pub id: Uuid,
    pub datastore: String,
    /// The VM folder, relative to the datastore root.
    pub folder_rel: String,
    pub folder: PathBuf,
    pub run: RunPaths,
    pub console: Arc<console::Console>,
    pub qga: Qga,
    /// One guest-agent conversation at a time: QEMU's socket has one client.
    qga_lock: tokio::sync::Mutex<()>,
    view: Mutex<View>,
    jobs: mpsc::UnboundedSender<actor::Job>,
}

/// What the actor publishes.
#[derive(Clone)]
struct View {
    config: VmConfig,
    power: PowerState,
    runtime: Option<VmRuntime>,
    snapshots: Vec<Snapshot>,
    /// The actor's QMP connection, for readers that only ask (statistics).
    qmp: Option<Arc<hierro_qemu::Qmp>>,
}

impl Vm {
    pub fn config(&self) -> VmConfig {
        self.view.lock().config.clone()
    }
    pub fn name(&self) -> String {
        self.view.lock().config.name.clone()
    }
    pub fn power(&self) -> PowerState {
        self.view.lock().power
    }
    /// The QEMU process and its QMP connection, while it runs.
    pub fn process(&self) -> Option<(u32, Arc<hierro_qemu::Qmp>)> {
        let v = self.view.lock();
        Some((v.runtime.as_ref()?.pid, v.qmp.clone()?))
    }
    pub fn target(&self) -> Target {
        Target {
            id: format!("vm:{}", self.id),
            name: self.name(),
        }
    }
    pub fn config_path(&self) -> PathBuf {
        self.folder.join("vm.json")
    }

    /// The VM's state; with `guest`, also asks the guest agent.
    pub async fn info(&self, with_guest: bool) -> VmInfo {
        let v = self.view.lock().clone();
        let guest = if with_guest && v.power == PowerState::PoweredOn {
            let _one = self.qga_lock.lock().await;
            Some(guest::query(&self.qga).await)
        } else {
            None
        };
        VmInfo {
            id: self.id,
            name: v.config.name.clone(),
            power_state: v.power,
            datastore: self.datastore.clone(),
            folder: format!("[{}] {}", self.datastore, self.folder_rel),
            config: v.config,
            runtime: v.runtime,
            guest,
            snapshots: v.snapshots,
        }
    }

    /// Queues a command for the actor; the task reports how it went.
    pub fn submit(&self, command: VmCommand, task: TaskHandle) {
        if let Err(mpsc::error::SendError(job)) = self.jobs.send(actor::Job { command, task }) {
            job.task
                .fail(HostError::refused("the VM has been deleted").info());
        }
    }

    /// Refuses `op` if it would change the disk: a template's (it is only
    /// cloned, or made a VM again), or one that linked clones read.
    pub fn refuse_disk_change(&self, host: &Host, op: &str) -> HostResult<()> {
        let config = self.config();
        if config.template {
            return Err(HostError::refused(format!(
                "cannot {op} {}: it is a template (convert it to a virtual machine first)",
                config.name
            )));
        }
        self.refuse_losing_disk(host, op)
    }

    /// Refuses `op` while linked clones read this VM's disk.
    pub fn refuse_losing_disk(&self, host: &Host, op: &str) -> HostResult<()> {
        let config = self.config();
        let disk = self.folder.join(&config.disk.file);
        clones::refuse_if_base(host, &disk, &config.name, op)
    }

    /// Runs `f` while holding the guest-agent lock.
    pub async fn with_qga<T>(&self, f: impl AsyncFnOnce(&Qga) -> T) -> T {
        let _one = self.qga_lock.lock().await;
        f(&self.qga).await
    }

    fn update(&self, f: impl FnOnce(&mut View)) {
        f(&mut self.view.lock())
    }
}

#[derive(Default)]
pub struct Registry {
    vms: RwLock<HashMap<Uuid, Arc<Vm>>>,
    /// Names of VMs being created, so two concurrent creates cannot both win.
    reserved: Mutex<HashSet<String>>,
}

impl Registry {
    pub fn list(&self) -> Vec<Arc<Vm>> {
        let mut v: Vec<_> = self.vms.read().values().cloned().collect();
        v.sort_by_key(|vm| vm.name());
        v
    }

    /// A VM by id or by name.
    pub fn find(&self, key: &str) -> HostResult<Arc<Vm>> {
        let vms = self.vms.read();
        let found = match key.parse::<Uuid>() {
            Ok(id) => vms.get(&id).cloned(),
            Err(_) => vms.values().find(|vm| vm.name() == key).cloned(),
        };
        found.ok_or_else(|| HostError::not_found(format!("no VM {key:?} on this host")))
    }

    /// Whether a VM other than `except` has a NIC with this MAC.
    pub fn mac_in_use(&self, mac: &str, except: Option<Uuid>) -> bool {
        self.vms
            .read()
            .values()
            .filter(|vm| Some(vm.id) != except)
            .any(|vm| vm.config().nics.iter().any(|n| n.mac == mac))
    }

    fn reserve(host: &Arc<Host>, name: &str) -> HostResult<NameReservation> {
        let taken = host.vms.vms.read().values().any(|vm| vm.name() == name);
        let mut reserved = host.vms.reserved.lock();
        if taken || !reserved.insert(name.to_string()) {
            return Err(HostError::conflict(format!(
                "a VM named {name:?} exists already on this host"
            )));
        }
        Ok(NameReservation {
            host: host.clone(),
            name: name.to_string(),
        })
    }

    fn insert(&self, vm: Arc<Vm>) {
        self.vms.write().insert(vm.id, vm);
    }

    pub fn remove(&self, id: Uuid) {
        self.vms.write().remove(&id);
    }
}

/// What this host's VMs hold on datastores now, each with its VM's name:
/// every VM's folder and the base disk of a linked clone always, and what
/// a running VM reads (its kernel and initrd, the ISOs in its drives).
pub fn files_in_use(host: &Host) -> Vec<(PathBuf, String)> {
    let mut used = vec![];
    for vm in host.vms.list() {
        let config = vm.config();
        let name = config.name.clone();
        used.push((vm.folder.clone(), name.clone()));
        let mut named: Vec<&str> = config.disk.clone_of.as_deref().into_iter().collect();
        if vm.power() == PowerState::PoweredOn {
            if let Boot::Kernel { kernel, initrd, .. } = &config.boot {
                named.push(kernel);
                named.extend(initrd.as_deref());
            }
            named.extend(config.cdroms.iter().filter_map(|c| c.iso.as_deref()));
        }
        for dspath in named {
            if let Ok(path) = host.datastores.resolve(dspath) {
                used.push((path, name.clone()));
            }
        }
    }
    used
}

struct NameReservation {
    host: Arc<Host>,
    name: String,
}

impl Drop for NameReservation {
    fn drop(&mut self) {
        self.host.vms.reserved.lock().remove(&self.name);
    }
}

/// Validates the request, then makes the VM in a task: folder, disk,
/// `vm.json`, registration. A failure at any step removes what was made.
pub async fn create(host: &Arc<Host>, req: VmCreate, user: &str) -> HostResult<hierro_api::Task> {
    let config = spec::validate(host, &req)?;
    let ds_root = host.datastores.root(&req.datastore)?;
    let folder = ds_root.join(&req.name);
    if folder.exists() {
        return Err(HostError::conflict(format!(
            "[{}] {} exists already on the datastore",
            req.datastore, req.name
        )));
    }
    let target = Target {
        id: format!("vm:{}", config.id),
        name: config.name.clone(),
    };
    let reservation = Registry::reserve(host, &req.name)?;
    let task = host.journal.task(Operation::VmCreate, &target, user);
    let snapshot = task.snapshot();
    let making = staging::Making {
        operation: Operation::VmCreate,
        target_id: target.id.clone(),
        name: config.name.clone(),
        user: user.to_string(),
    };
    let host = host.clone();
    let datastore = req.datastore.clone();
    tokio::spawn(async move {
        let _reservation = reservation;
        task.start();
        match make(&host, &config, &req.disk, &datastore, &folder, &making).await {
            Ok(vm) => {
                task.event(
                    EventKind::VmCreated,
                    hierro_api::Severity::Info,
                    format!("Created VM {} on [{datastore}]", config.name),
                );
                let info = vm.info(false).await;
                task.succeed(Some(serde_json::to_value(info).unwrap_or_default()));
            }
            Err(e) => task.fail(e.info()),
        }
    });
    Ok(snapshot)
}

/// Makes the VM's folder under a temporary name (`staging`), renames it
/// into place, then registers the VM; a failure removes what was made.
async fn make(
    host: &Arc<Host>,
    config: &VmConfig,
    spec: &hierro_api::DiskSpec,
    datastore: &str,
    folder: &std::path::Path,
    making: &staging::Making,
) -> HostResult<Arc<Vm>> {
    let staged = staging::Staging::begin(&host.config.name, folder, making)
        .map_err(|e| HostError::internal(format!("making the folder of {}: {e}", config.name)))?;
    if let Err(e) = fill(host, config, spec, folder, &staged.dir).await {
        staged.abandon();
        return Err(e);
    }
    staged
        .commit()
        .map_err(|e| HostError::conflict(format!("[{datastore}] {}: {e}", config.name)))?;
    let reg = VmRegistration {
        id: config.id,
        datastore: datastore.to_string(),
        folder: config.name.clone(),
    };
    if let Err(e) = host.register(reg.clone()) {
        let _ = std::fs::remove_dir_all(folder);
        return Err(e);
    }
    let vm = start(host, &reg, config.clone()).await;
    // The new NICs' ports, ready before the first power-on.
    host.apply_network().await?;
    Ok(vm)
}

/// The disk and `vm.json` in `dir`, the staging folder of `folder`.
async fn fill(
    host: &Arc<Host>,
    config: &VmConfig,
    spec: &hierro_api::DiskSpec,
    folder: &std::path::Path,
    dir: &std::path::Path,
) -> HostResult<()> {
    let disk = dir.join(&config.disk.file);
    let size = (config.disk.size_mib > 0).then_some(config.disk.size_mib);
    match &spec.clone_from {
        Some(source) if spec.full_copy => {
            hierro_qemu::img::copy(&host.datastores.resolve(source)?, &disk, size).await
        }
        Some(source) => {
            // Relative to the final folder: the staging one is its sibling.
            let backing = relative_to(&host.datastores.resolve(source)?, folder);
            hierro_qemu::img::create_linked_clone(&disk, &backing, size).await
        }
        None => hierro_qemu::img::create(&disk, config.disk.size_mib).await,
    }?;
    write_atomic(
        &dir.join("vm.json"),
        &serde_json::to_vec_pretty(config).unwrap_or_default(),
    )
    .map_err(|e| HostError::internal(format!("writing vm.json: {e}")))
}

/// Admission control at power-on (and for a VM arriving running): the
/// powered-on VMs' memory and `memory_mib` together within the host's
/// memory times `memory_overcommit` (host.toml, 1.0 by default).
pub fn admit_memory(host: &Host, name: &str, memory_mib: u64) -> HostResult<()> {
    let committed: u64 = host
        .vms
        .list()
        .iter()
        .filter(|v| v.power() == PowerState::PoweredOn)
        .map(|v| v.config().memory_mib)
        .sum();
    let ratio = host.config.memory_overcommit;
    let limit = (crate::memory_mib() as f64 * ratio) as u64;
    let free = limit.saturating_sub(committed);
    if memory_mib > free {
        return Err(HostError::refused(format!(
            "{name} needs {memory_mib} MiB; this host has {free} MiB left of {limit} MiB \
             (its memory times memory_overcommit {ratio})"
        )));
    }
    Ok(())
}

/// The path of `target` as seen from `dir`, so a linked clone keeps finding
/// its template wherever the datastore is mounted.
fn relative_to(target: &std::path::Path, dir: &std::path::Path) -> String {
    let t: Vec<_> = target.components().collect();
    let d: Vec<_> = dir.components().collect();
    let common = t.iter().zip(&d).take_while(|(a, b)| a == b).count();
    if common <= 1 {
        return target.display().to_string();
    }
    let mut rel = PathBuf::new();
    for _ in common..d.len() {
        rel.push("..");
    }
    for c in &t[common..] {
        rel.push(c);
    }
    rel.display().to_string()
}

/// Registers a VM whose folder is on a datastore this host sees, made by
/// another host: it arrives by vMotion (`Arrival::Live`, with the id the
/// source gave) or by a cold migration. Checks the folder holds that VM,
/// that neither it nor its name is here already, that its port groups exist
/// here and, if it is to run at once, that this host has the memory for it;
/// then starts its actor, powered off.
pub async fn register(
    host: &Arc<Host>,
    req: &hierro_api::VmRegister,
    arrival: Arrival,
) -> HostResult<Arc<Vm>> {
    validate_name("folder", &req.folder)?;
    let file = host
        .datastores
        .root(&req.datastore)?
        .join(&req.folder)
        .join("vm.json");
    let config: VmConfig = std::fs::read(&file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            HostError::invalid(format!(
                "no VM configuration in [{}] {}/vm.json",
                req.datastore, req.folder
            ))
        })?;
    if let Arrival::Live(id) = arrival {
        if config.id != id {
            return Err(HostError::invalid(format!(
                "[{}] {} holds VM {}, not {id}",
                req.datastore, req.folder, config.id,
            )));
        }
    }
    if host.vms.find(&config.id.to_string()).is_ok() {
        return Err(HostError::conflict(format!(
            "VM {} is already on this host",
            config.id
        )));
    }
    if host.vms.list().iter().any(|v| v.name() == config.name) {
        return Err(HostError::conflict(format!(
            "a VM named {:?} exists already on this host",
            config.name
        )));
    }
    for nic in &config.nics {
        if !host.portgroup_exists(&nic.network) {
            return Err(HostError::invalid(format!(
                "port group {:?} does not exist on this host",
                nic.network
            )));
        }
        if host.mac_in_use(&nic.mac, None) {
            return Err(HostError::conflict(format!(
                "{}'s MAC {} is already in use on this host",
                config.name, nic.mac
            )));
        }
    }
    if matches!(arrival, Arrival::Live(_)) {
        admit_memory(host, &config.name, config.memory_mib)?;
    }
    let reg = VmRegistration {
        id: config.id,
        datastore: req.datastore.clone(),
        folder: req.folder.clone(),
    };
    host.register(reg.clone())?;
    let vm = start(host, &reg, config).await;
    host.apply_network().await?;
    Ok(vm)
}

/// How a registered VM comes to this host.
#[derive(Clone, Copy, PartialEq)]
pub enum Arrival {
    /// Running, by vMotion: the VM with this id, which runs here at once.
    Live(Uuid),
    /// Powered off.
    Cold,
}

/// Loads a registered VM from its folder and starts its actor, which adopts
/// a QEMU that still runs.
pub async fn load(host: &Arc<Host>, reg: &VmRegistration) -> anyhow::Result<()> {
    let folder = host
        .datastores
        .root(&reg.datastore)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .join(&reg.folder);
    let config: VmConfig = serde_json::from_slice(&std::fs::read(folder.join("vm.json"))?)?;
    start(host, reg, config).await;
    Ok(())
}

async fn start(host: &Arc<Host>, reg: &VmRegistration, config: VmConfig) -> Arc<Vm> {
    let folder = host
        .datastores
        .root(&reg.datastore)
        .expect("registered datastore")
        .join(&reg.folder);
    let run = RunPaths::new(host.config.run_dir.join("vms").join(reg.id.to_string()));
    let snapshots = snapshots::load(&folder);
    let (tx, rx) = mpsc::unbounded_channel();
    let vm = Arc::new(Vm {
        id: reg.id,
        datastore: reg.datastore.clone(),
        folder_rel: reg.folder.clone(),
        folder,
        qga: Qga::new(&run.qga()),
        run,
        console: Arc::default(),
        qga_lock: tokio::sync::Mutex::new(()),
        view: Mutex::new(View {
            config,
            power: PowerState::PoweredOff,
            runtime: None,
            snapshots,
            qmp: None,
        }),
        jobs: tx,
    });
    let actor = actor::Actor::new(host.clone(), vm.clone());
    let actor = actor.adopt().await;
    host.vms.insert(vm.clone());
    tokio::spawn(actor.run(rx));
    vm
}

#[cfg(test)]
mod tests {
    use super::relative_to;
    use std::path::Path;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_to(Path::new("/ds/tmpl/t.qcow2"), Path::new("/ds/vm1")),
            "../tmpl/t.qcow2"
        );
        assert_eq!(
            relative_to(Path::new("/ds/t.qcow2"), Path::new("/ds/vm1")),
            "../t.qcow2"
        );
        assert_eq!(
            relative_to(Path::new("/a/t.qcow2"), Path::new("/b/vm1")),
            "/a/t.qcow2"
        );
    }
}

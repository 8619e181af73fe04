//! One task per VM that owns its QEMU process and QMP connection. Commands
//! arrive on a queue and run one at a time, so concurrent requests on a VM
//! are serialized without locks around QEMU. Between commands the actor
//! watches QMP: when the connection closes, QEMU has exited.

use hierro_api::EventKind;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hierro_api::{
    MigrateRequest, PowerOp, PowerState, Severity, Snapshot, SnapshotCreate, VmConfig, VmRuntime,
    VmUpdate,
};
use hierro_qemu::{process, LaunchSpec, Qmp};
use hierro_vswitch::control::Request;
use hierro_vswitch::vmtap;
use serde_json::json;
use tokio::sync::mpsc;

pub mod handoff;
mod launch;
mod media;
mod migrate;

use super::{lease, snapshots, spec, Vm};
use crate::error::{HostError, HostResult};
use crate::tasks::TaskHandle;
use crate::{net, Host};
use hierro_qemu::QmpEvent;

/// What a VM can be asked to do. Each names the power states it is valid in.
#[derive(Debug)]
pub enum VmCommand {
    /// On: valid when powered off. Off, Reset, Shutdown: valid when powered on.
    Power(PowerOp),
    /// Any state: running takes memory too, powered off takes the disk only.
    SnapshotCreate(SnapshotCreate),
    /// Any state; ends in the snapshot's state (running if it has memory).
    SnapshotRevert(String),
    SnapshotDelete(String),
    /// Powered off: anything; powered on: NICs' port groups and guest IPs.
    Reconfigure(VmUpdate),
    /// Powered off only: removes the VM and its folder.
    Delete,
    /// Powered off only: takes the VM off this host, keeps its folder.
    Unregister,
    /// Powered on: sends the VM to another host (vMotion); when it arrives
    /// there, the VM leaves this host.
    Migrate(MigrateRequest),
    /// Just registered for an incoming vMotion: starts QEMU waiting for the
    /// VM's memory, says where to send it, and runs the VM once it has
    /// arrived. On failure the VM leaves this host again.
    /// Answered with the URIs for the memory and for the frames.
    Receive(tokio::sync::oneshot::Sender<HostResult<(String, String)>>),
}

pub struct Job {
    pub command: VmCommand,
    pub task: TaskHandle,
}

pub struct Actor {
    host: Arc<Host>,
    vm: Arc<Vm>,
    qmp: Option<Arc<Qmp>>,
    /// Our copy of each NIC's tap while QEMU runs (`hierro_vswitch::vmtap`);
    /// empty for a QEMU adopted from an earlier agent.
    taps: Vec<Arc<OwnedFd>>,
}

impl Actor {
    pub fn new(host: Arc<Host>, vm: Arc<Vm>) -> Self {
        Self {
            host,
            vm,
            qmp: None,
            taps: vec![],
        }
    }

    /// Finds a QEMU left running by an earlier agent and takes it over, or
    /// clears the leftovers of one that is gone.
    pub async fn adopt(mut self) -> Self {
        let Some(pid) = self.vm.run.live_pid() else {
            self.vm.run.clear();
            return self;
        };
        match Qmp::connect(&self.vm.run.qmp()).await {
            Ok(qmp) => {
                let status = query_status(&qmp).await;
                self.vm.update(|v| {
                    v.power = PowerState::PoweredOn;
                    v.runtime = Some(VmRuntime {
                        pid,
                        started_at: process_start(pid),
                        qemu_status: status,
                        accel: self.host.accel.as_str().to_string(),
                    });
                });
                self.vm.console.attach(self.vm.run.console());
                self.set_qmp(Some(qmp));
                self.host.journal.event(
                    EventKind::VmReconnected,
                    Severity::Info,
                    &self.vm.target(),
                    "system",
                    format!("Took over running VM {} (QEMU pid {pid})", self.vm.name()),
                    None,
                );
            }
            Err(e) => {
                tracing::error!(vm = %self.vm.name(), "QEMU pid {pid} runs but QMP fails: {e}");
            }
        }
        self
    }

    pub async fn run(mut self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        let mut events: Option<tokio::sync::broadcast::Receiver<QmpEvent>> = None;
        let mut renew = tokio::time::interval(lease::RENEW);
        loop {
            let qmp = self.qmp.clone();
            if qmp.is_none() {
                events = None;
            } else if events.is_none() {
                events = qmp.as_ref().map(|q| q.events());
                // What the guest did while nobody listened.
                self.refresh_macs().await;
            }
            let exited = async move {
                match qmp {
                    Some(q) => q.closed().await,
                    None => std::future::pending().await,
                }
            };
            let event = async {
                match events.as_mut() {
                    Some(rx) => rx.recv().await.ok(),
                    None => std::future::pending().await,
                }
            };
            let running = self.vm.power() == PowerState::PoweredOn;
            tokio::select! {
                Some(ev) = event => {
                    if ev.event == "NIC_RX_FILTER_CHANGED" {
                        self.refresh_macs().await;
                    }
                }
                _ = renew.tick(), if running => {
                    if let Err(e) = lease::hold(&self.vm.folder, &self.host.config.name) {
                        tracing::error!(vm = %self.vm.name(), "renewing the lease: {e}");
                    }
                }
                job = jobs.recv() => {
                    let Some(job) = job else { return };
                    if self.handle(job).await {
                        return;
                    }
                }
                _ = exited => {
                    self.stopped().await;
                    self.host.journal.event(
                        EventKind::VmPoweredOff,
                        Severity::Info,
                        &self.vm.target(),
                        "system",
                        format!("{} is powered off (its QEMU process ended)", self.vm.name()),
                        None,
                    );
                }
            }
        }
    }

    /// Runs one job; true when the VM is gone and the actor should end.
    async fn handle(&mut self, job: Job) -> bool {
        let Job { command, task } = job;
        task.start();
        let none = |r: HostResult<()>| r.map(|()| None);
        let result = match command {
            VmCommand::Power(PowerOp::On) => none(self.power_on(&task, None).await),
            VmCommand::Power(PowerOp::Off) => none(self.power_off(&task).await),
            VmCommand::Power(PowerOp::Reset) => none(self.reset(&task).await),
            VmCommand::Power(PowerOp::Shutdown) => none(self.shutdown(&task).await),
            VmCommand::SnapshotCreate(req) => none(self.snapshot_create(&task, req).await),
            VmCommand::SnapshotRevert(name) => none(self.snapshot_revert(&task, &name).await),
            VmCommand::SnapshotDelete(name) => none(self.snapshot_delete(&task, &name).await),
            VmCommand::Reconfigure(update) => none(self.reconfigure(&task, update).await),
            VmCommand::Delete => none(self.delete(&task).await),
            VmCommand::Unregister => none(self.unregister(&task).await),
            VmCommand::Migrate(req) => self
                .migrate(&task, req)
                .await
                .map(|stats| serde_json::to_value(stats).ok()),
            VmCommand::Receive(ready) => none(self.receive(&task, ready).await),
        };
        match result {
            Ok(value) => task.succeed(value),
            Err(e) => task.fail(e.info()),
        }
        // Deleted, migrated away, or never arrived: the actor ends with it.
        self.host.vms.find(&self.vm.id.to_string()).is_err()
    }

    fn require(&self, state: PowerState, op: &str) -> HostResult<()> {
        crate::error::require(&self.vm.name(), self.vm.power(), state, op)
    }

    fn set_qmp(&mut self, qmp: Option<Arc<Qmp>>) {
        self.vm.update(|v| v.qmp = qmp.clone());
        self.qmp = qmp;
    }

    fn qmp(&self) -> HostResult<Arc<Qmp>> {
        self.qmp
            .clone()
            .ok_or_else(|| HostError::refused(format!("{} has no QMP connection", self.vm.name())))
    }

    async fn power_on(&mut self, task: &TaskHandle, loadvm: Option<String>) -> HostResult<()> {
        self.require(PowerState::PoweredOff, "power on")?;
        self.vm.refuse_disk_change(&self.host, "power on")?;
        super::admit_memory(&self.host, &self.vm.name(), self.vm.config().memory_mib)?;
        let spec = self.launch_spec(loadvm, false)?;
        lease::acquire(&self.vm.folder, &self.host.config.name)?;
        task.progress(10);
        let pid = match self.start_qemu(&spec).await {
            Ok(pid) => pid,
            Err(e) => {
                lease::release(&self.vm.folder, &self.host.config.name);
                return Err(e);
            }
        };
        task.progress(60);
        self.running(pid).await;
        self.announce().await;
        // "Boot from this next time" was this time.
        let config = self.vm.config();
        if config.boot_once.is_some() {
            let next = VmConfig {
                boot_once: None,
                ..config
            };
            if let Err(e) = self.store_config(&next) {
                tracing::error!(vm = %next.name, "clearing boot_once: {e}");
            }
        }
        task.event(
            EventKind::VmPoweredOn,
            Severity::Info,
            format!(
                "{} is powered on (QEMU pid {pid}, {})",
                spec.name,
                self.host.accel.as_str()
            ),
        );
        Ok(())
    }

    /// The VM's ports in vswitchd.
    fn ports(&self) -> Vec<String> {
        let config = self.vm.config();
        (0..config.nics.len())
            .map(|i| net::port_key(&config.id, i))
            .collect()
    }

    /// Has vswitchd tell the physical switches where the VM's MACs are now
    /// (notify switches, on power-on).
    async fn announce(&self) {
        let req = Request::Announce {
            ports: self.ports(),
        };
        if let Err(e) = self.host.vswitchd.request(req).await {
            tracing::warn!("announcing {}: {e}", self.vm.name());
        }
    }

    /// Starts QEMU and connects QMP; a QEMU whose QMP fails is stopped.
    /// vswitchd already has the NICs' ports and takes the taps as they appear.
    async fn start_qemu(&mut self, spec: &LaunchSpec) -> HostResult<u32> {
        let mut spec = spec.clone();
        let mut taps = vec![];
        for nic in &mut spec.nics {
            let fd = Arc::new(
                vmtap::create(&nic.tap)
                    .map_err(|e| HostError::backend(format!("tap {}: {e}", nic.tap)))?,
            );
            nic.fd = Some(fd.clone());
            taps.push(fd);
        }
        let pid = spec.spawn(&self.vm.run).await?;
        self.taps = taps;
        match Qmp::connect(&self.vm.run.qmp()).await {
            Ok(q) => {
                self.set_qmp(Some(q));
                Ok(pid)
            }
            Err(e) => {
                process::stop(pid, None).await;
                self.vm.run.clear();
                Err(HostError::backend(e.to_string()))
            }
        }
    }

    /// Records that QEMU runs the guest now.
    async fn running(&mut self, pid: u32) {
        let status = match &self.qmp {
            Some(q) => query_status(q).await,
            None => String::new(),
        };
        self.vm.update(|v| {
            v.power = PowerState::PoweredOn;
            v.runtime = Some(VmRuntime {
                pid,
                started_at: Some(Utc::now()),
                qemu_status: status,
                accel: self.host.accel.as_str().to_string(),
            });
        });
        self.vm.console.attach(self.vm.run.console());
    }

    async fn power_off(&mut self, task: &TaskHandle) -> HostResult<()> {
        self.require(PowerState::PoweredOn, "power off")?;
        self.stop_qemu().await;
        task.event(
            EventKind::VmPoweredOff,
            Severity::Info,
            format!("{} is powered off", self.vm.name()),
        );
        Ok(())
    }

    /// Ends QEMU: `quit` over QMP, SIGKILL if it lingers.
    async fn stop_qemu(&mut self) {
        let pid = self.vm.view.lock().runtime.as_ref().map(|r| r.pid);
        if let Some(qmp) = &self.qmp {
            let _ = qmp.execute_value("quit", json!({})).await;
            let _ = tokio::time::timeout(Duration::from_secs(10), qmp.closed()).await;
        }
        if let Some(pid) = pid {
            process::stop(pid, None).await;
        }
        self.stopped().await;
    }

    /// Reads the MAC each guest NIC uses now (the guest may change it) and
    /// tells vswitchd, whose security policies judge by it.
    async fn refresh_macs(&self) {
        let Some(qmp) = &self.qmp else { return };
        let Ok(filters) = qmp
            .execute::<Vec<serde_json::Value>>("query-rx-filter", json!({}))
            .await
        else {
            return;
        };
        let config = self.vm.config();
        let mut changed = false;
        for (i, nic) in config.nics.iter().enumerate() {
            let main = filters
                .iter()
                .find(|f| f["name"] == json!(format!("nic{i}")))
                .and_then(|f| f["main-mac"].as_str())
                .map(str::to_lowercase);
            let effective = main.filter(|m| *m != nic.mac);
            changed |= self
                .host
                .net_runtime
                .set_effective_mac(&net::port_key(&config.id, i), effective);
        }
        if changed {
            if let Err(e) = self.host.apply_network().await {
                tracing::error!(vm = %config.name, "updating the guest MACs: {e}");
            }
        }
    }

    /// Bookkeeping once QEMU is gone.
    async fn stopped(&mut self) {
        let pid = self.vm.view.lock().runtime.as_ref().map(|r| r.pid);
        if let Some(pid) = pid {
            // The QMP socket closes a moment before the process is reaped.
            process::wait_gone(pid, Duration::from_secs(10)).await;
        }
        self.set_qmp(None);
        self.taps.clear();
        self.vm.run.clear();
        let config = self.vm.config();
        let mut changed = false;
        for i in 0..config.nics.len() {
            changed |= self
                .host
                .net_runtime
                .set_effective_mac(&net::port_key(&config.id, i), None);
        }
        if changed {
            let _ = self.host.apply_network().await;
        }
        self.vm.update(|v| {
            v.power = PowerState::PoweredOff;
            v.runtime = None;
        });
        lease::release(&self.vm.folder, &self.host.config.name);
    }

    async fn reset(&mut self, task: &TaskHandle) -> HostResult<()> {
        self.require(PowerState::PoweredOn, "reset")?;
        self.qmp()?
            .execute_value("system_reset", json!({}))
            .await
            .map_err(|e| HostError::backend(e.to_string()))?;
        task.event(
            EventKind::VmResetting,
            Severity::Info,
            format!("{} was reset", self.vm.name()),
        );
        Ok(())
    }

    async fn shutdown(&mut self, task: &TaskHandle) -> HostResult<()> {
        self.require(PowerState::PoweredOn, "shut down the guest of")?;
        let qmp = self.qmp()?;
        self.vm
            .with_qga(async |qga| qga.send("guest-shutdown", json!({}), Duration::from_secs(5)).await)
            .await
            .map_err(|e| {
                HostError::refused(format!(
                    "cannot shut down the guest of {}: {e}; the guest agent must run (power off instead)",
                    self.vm.name()
                ))
            })?;
        task.progress(30);
        if tokio::time::timeout(Duration::from_secs(120), qmp.closed())
            .await
            .is_err()
        {
            return Err(HostError::backend(format!(
                "the guest of {} did not shut down within 120 s; it still runs",
                self.vm.name()
            )));
        }
        self.stopped().await;
        task.event(
            EventKind::VmGuestShutdown,
            Severity::Info,
            format!("The guest of {} shut down", self.vm.name()),
        );
        Ok(())
    }

    async fn snapshot_create(&mut self, task: &TaskHandle, req: SnapshotCreate) -> HostResult<()> {
        self.vm
            .refuse_disk_change(&self.host, "take a snapshot of")?;
        spec::validate_name("snapshot name", &req.name)?;
        let mut list = snapshots::load(&self.vm.folder);
        if list.iter().any(|s| s.name == req.name) {
            return Err(HostError::conflict(format!(
                "{} has a snapshot named {:?} already",
                self.vm.name(),
                req.name
            )));
        }
        let disk = self.vm.folder.join(self.vm.config().disk.file);
        let memory = self.vm.power() == PowerState::PoweredOn;
        if memory {
            self.qmp()?
                .run_job(
                    "snapshot-save",
                    json!({"tag": req.name, "vmstate": "disk0", "devices": ["disk0"]}),
                )
                .await
                .map_err(|e| HostError::backend(e.to_string()))?;
        } else {
            hierro_qemu::img::snapshot_create(&disk, &req.name).await?;
        }
        list.push(Snapshot {
            name: req.name.clone(),
            description: req.description,
            created: Utc::now(),
            memory,
        });
        self.save_snapshots(list)?;
        task.event(
            EventKind::VmSnapshotCreated,
            Severity::Info,
            format!(
                "Took snapshot {:?} of {}{}",
                req.name,
                self.vm.name(),
                if memory { " with memory" } else { "" }
            ),
        );
        Ok(())
    }

    async fn snapshot_revert(&mut self, task: &TaskHandle, name: &str) -> HostResult<()> {
        self.vm.refuse_disk_change(&self.host, "revert")?;
        let snap = self.find_snapshot(name)?;
        let disk = self.vm.folder.join(self.vm.config().disk.file);
        let running = self.vm.power() == PowerState::PoweredOn;
        match (snap.memory, running) {
            (true, true) => {
                self.qmp()?
                    .run_job(
                        "snapshot-load",
                        json!({"tag": name, "vmstate": "disk0", "devices": ["disk0"]}),
                    )
                    .await
                    .map_err(|e| HostError::backend(e.to_string()))?;
            }
            (true, false) => self.power_on(task, Some(name.to_string())).await?,
            (false, _) => {
                if running {
                    self.stop_qemu().await;
                }
                hierro_qemu::img::snapshot_apply(&disk, name).await?;
            }
        }
        task.event(
            EventKind::VmRevertedToSnapshot,
            Severity::Info,
            format!("{} reverted to snapshot {name:?}", self.vm.name()),
        );
        Ok(())
    }

    async fn snapshot_delete(&mut self, task: &TaskHandle, name: &str) -> HostResult<()> {
        self.find_snapshot(name)?;
        if self.vm.power() == PowerState::PoweredOn {
            self.qmp()?
                .run_job(
                    "snapshot-delete",
                    json!({"tag": name, "devices": ["disk0"]}),
                )
                .await
                .map_err(|e| HostError::backend(e.to_string()))?;
        } else {
            let disk = self.vm.folder.join(self.vm.config().disk.file);
            hierro_qemu::img::snapshot_delete(&disk, name).await?;
        }
        let list = snapshots::load(&self.vm.folder)
            .into_iter()
            .filter(|s| s.name != name)
            .collect();
        self.save_snapshots(list)?;
        task.event(
            EventKind::VmSnapshotRemoved,
            Severity::Info,
            format!("Removed snapshot {name:?} of {}", self.vm.name()),
        );
        Ok(())
    }

    fn find_snapshot(&self, name: &str) -> HostResult<Snapshot> {
        snapshots::load(&self.vm.folder)
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| {
                HostError::not_found(format!("{} has no snapshot {name:?}", self.vm.name()))
            })
    }

    fn save_snapshots(&self, list: Vec<Snapshot>) -> HostResult<()> {
        snapshots::save(&self.vm.folder, &list)
            .map_err(|e| HostError::internal(format!("snapshots.json: {e}")))?;
        self.vm.update(|v| v.snapshots = list);
        Ok(())
    }

    async fn reconfigure(&mut self, task: &TaskHandle, update: VmUpdate) -> HostResult<()> {
        let current = self.vm.config();
        let running = self.vm.power() == PowerState::PoweredOn;
        let next = spec::validate_update(&self.host, &current, &update, running)?;
        // The drives' media change first, at once; undone if what follows fails.
        if running && update.cdroms.is_some() {
            if let Err(e) = self.change_media(&next).await {
                let _ = self.change_media(&current).await;
                return Err(e);
            }
        }
        if let Err(e) = self.store_config(&next) {
            if running {
                let _ = self.change_media(&current).await;
            }
            return Err(e);
        }
        // Ports follow at once, also for a running VM (a port group change).
        if let Err(e) = self.host.apply_network().await {
            self.store_config(&current)?;
            if running {
                let _ = self.change_media(&current).await;
            }
            let _ = self.host.apply_network().await;
            return Err(e);
        }
        let name = &next.name;
        let (kind, message) = match (current.template, next.template) {
            (false, true) => (
                EventKind::VmMarkedAsTemplate,
                format!("Marked {name} as a template"),
            ),
            (true, false) => (
                EventKind::VmMarkedAsVirtualMachine,
                format!("Marked {name} as a virtual machine"),
            ),
            _ => (EventKind::VmReconfigured, format!("Reconfigured {name}")),
        };
        task.event(kind, Severity::Info, message);
        Ok(())
    }

    /// Writes `vm.json` (atomically) and shows the new configuration.
    fn store_config(&self, config: &VmConfig) -> HostResult<()> {
        crate::state::write_atomic(
            &self.vm.config_path(),
            &serde_json::to_vec_pretty(config).unwrap_or_default(),
        )
        .map_err(|e| HostError::internal(format!("writing vm.json: {e}")))?;
        self.vm.update(|v| v.config = config.clone());
        Ok(())
    }

    async fn delete(&mut self, task: &TaskHandle) -> HostResult<()> {
        self.require(PowerState::PoweredOff, "delete")?;
        self.vm.refuse_losing_disk(&self.host, "delete")?;
        // Unregister first: a crash between the two steps leaves an orphan
        // folder, never a registered VM without its files.
        self.host.unregister(self.vm.id)?;
        self.host.vms.remove(self.vm.id);
        if let Err(e) = std::fs::remove_dir_all(&self.vm.folder) {
            tracing::warn!("removing {}: {e}", self.vm.folder.display());
        }
        let _ = std::fs::remove_dir(&self.vm.run.dir);
        task.event(
            EventKind::VmRemoved,
            Severity::Info,
            format!("Deleted VM {}", self.vm.name()),
        );
        Ok(())
    }

    async fn unregister(&mut self, task: &TaskHandle) -> HostResult<()> {
        self.require(PowerState::PoweredOff, "unregister")?;
        self.leave().await?;
        task.event(
            EventKind::VmUnregistered,
            Severity::Info,
            format!(
                "Unregistered VM {}; its files stay in [{}] {}",
                self.vm.name(),
                self.vm.datastore,
                self.vm.folder_rel
            ),
        );
        Ok(())
    }

    /// Takes the VM off this host without touching its files: it runs, or
    /// stays, on another host.
    async fn leave(&mut self) -> HostResult<()> {
        self.host.unregister(self.vm.id)?;
        self.host.vms.remove(self.vm.id);
        self.vm.run.clear();
        let _ = std::fs::remove_dir(&self.vm.run.dir);
        // Its ports go from vswitchd.
        self.host.apply_network().await
    }
}

/// The guest's kernel command line: serial console, then the guest image's
/// network settings from the first NIC, then the user's own arguments.
pub fn kernel_cmdline(config: &hierro_api::VmConfig, extra: &str) -> String {
    let mut parts = vec!["console=ttyS0".to_string(), "panic=-1".to_string()];
    parts.push(format!("hierro.hostname={}", config.name));
    if let Some(nic) = config.nics.first() {
        if let Some(ip) = &nic.ip {
            parts.push(format!("hierro.ip={ip}"));
        }
        if let Some(gw) = &nic.gateway {
            parts.push(format!("hierro.gw={gw}"));
        }
    }
    if !extra.trim().is_empty() {
        parts.push(extra.trim().to_string());
    }
    parts.join(" ")
}

async fn query_status(qmp: &Qmp) -> String {
    qmp.execute_value("query-status", json!({}))
        .await
        .ok()
        .and_then(|v| v["status"].as_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// When a process started, from /proc (for adopted VMs).
fn process_start(pid: u32) -> Option<chrono::DateTime<Utc>> {
    let meta = std::fs::metadata(format!("/proc/{pid}")).ok()?;
    Some(meta.modified().ok()?.into())
}

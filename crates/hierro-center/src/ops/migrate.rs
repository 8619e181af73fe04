//! Moving a VM to another host: vMotion for a running VM, cold migration
//! for a powered-off one. `plan` checks everything that can be checked
//! before anything moves; the move itself is a saga.
//!
//! vMotion: reserve the move (the source's "gone" then keeps the VM's
//! object), have the destination get ready, have the source send, follow
//! the pre-copy until the VM runs on the destination, record it there. If
//! a step fails or the user cancels, the destination lets go of what it
//! prepared and a VM that got there anyway is moved back.
//!
//! Cold migration: the destination registers the VM from its folder, then
//! the source unregisters it (in that order a center killed halfway leaves
//! the VM on two hosts, never on none; the folder's lease keeps it from
//! running on both); undone, the source takes it back and the destination
//! lets it go.

use std::sync::Arc;

use hierro_api::{
    DatastorePath, ErrorCode, EventKind, IncomingMigration, IncomingReady, MigrateRequest,
    MigrationStats, Operation, PowerState, Privilege, Task, TaskState, VmInfo, VmMigrate,
    VmRegister,
};
use hierro_client::Client;

use super::host::{follow, refresh, result_of};
use super::saga::{self, Cx, Done, Saga, Step};
use super::{Caller, OpError, OpResult, TaskRun};
use crate::inventory::{self, InventoryObject, ObjectKind};
use crate::vms::{self, Needs, VmRef};
use crate::Center;
use crate::{host_sync, hosts};

/// What moving a VM needs: vMotion for a running VM, cold migration for a
/// powered-off one (as vSphere's privileges).
pub fn privilege(live: bool) -> Privilege {
    if live {
        Privilege::ResourceHotMigrate
    } else {
        Privilege::ResourceColdMigrate
    }
}

/// A move checked and ready to start.
pub struct Move {
    vm: VmRef,
    /// The VM runs: a vMotion, not a cold migration.
    live: bool,
    info: VmInfo,
    from: InventoryObject,
    to: InventoryObject,
    source: Client,
    destination: Client,
    limits: VmMigrate,
    /// vMotion: where the destination awaits the VM, and what was sent.
    ready: Option<IncomingReady>,
    sending: Option<Task>,
    stats: Option<MigrationStats>,
    /// Cold migration: the VM as the destination registered it.
    moved: Option<VmInfo>,
    center: Arc<Center>,
}

/// Everything that can be checked before anything moves: the destination
/// is another connected host (not in maintenance mode) that sees the
/// datastore and has the port groups; for a running VM also the memory and
/// a compatible CPU.
pub async fn plan(
    c: &Arc<Center>,
    vm: VmRef,
    to: InventoryObject,
    limits: VmMigrate,
) -> OpResult<Move> {
    if to.kind != ObjectKind::Host {
        return Err(OpError::Invalid(format!("{} is not a host", to.name)));
    }
    if to.id == vm.host {
        return Err(OpError::Invalid(format!(
            "{} runs on {} already",
            vm.object.name, to.name
        )));
    }
    let source = hosts::client(&c.db, &vm.host).await?;
    let info = source.vm(&vm.vm_id).await?;
    let live = info.power_state == PowerState::PoweredOn;
    let datacenter = inventory::datacenter_of(&c.db, &vm.object.id).await?;
    // A powered-off VM takes its memory only when it is powered on.
    let needs = Needs::of_vm(&datacenter.id, &info, live);
    let refused =
        |why: String| OpError::InvalidState(format!("cannot migrate {}: {why}", vm.object.name));
    vms::fit(&c.db, &to, &needs).await?.map_err(refused)?;
    let from = inventory::get(&c.db, &vm.host).await?;
    // A powered-off VM boots afresh on the CPU it finds.
    if live {
        vms::cpu_compatible(&from, &to).map_err(refused)?;
    }
    let destination = hosts::client(&c.db, &to.id).await?;
    Ok(Move {
        vm,
        live,
        info,
        from,
        to,
        source,
        destination,
        limits,
        ready: None,
        sending: None,
        stats: None,
        moved: None,
        center: c.clone(),
    })
}

impl Move {
    /// Whether it is a vMotion (the VM runs).
    pub fn live(&self) -> bool {
        self.live
    }

    pub fn vm(&self) -> &VmRef {
        &self.vm
    }

    /// The event text of a finished move.
    fn summary(&self) -> String {
        format!(
            "Migrated {}{} from {} to {}",
            self.vm.object.name,
            if self.live { "" } else { " (powered off)" },
            self.from.name,
            self.to.name
        )
    }

    /// The VM's folder, relative to its datastore.
    fn folder(&self) -> OpResult<String> {
        Ok(DatastorePath::parse(&self.info.folder)
            .map_err(OpError::Internal)?
            .path)
    }

    /// The VM runs on the destination: bring it back to the source by the
    /// same vMotion the other way.
    async fn bring_back(&self) -> OpResult<()> {
        let back = self
            .source
            .migrate_incoming(&IncomingMigration {
                vm: self.info.id,
                datastore: self.info.datastore.clone(),
                folder: self.folder()?,
            })
            .await?;
        let send = MigrateRequest {
            uri: back.uri.clone(),
            frames: back.frames.clone(),
            downtime_ms: self.limits.downtime_ms,
            auto_converge: self.limits.auto_converge,
            max_bandwidth_mib: self.limits.max_bandwidth_mib,
        };
        let sending = self.destination.migrate(&self.vm.vm_id, &send).await?;
        self.destination.wait(&sending, |_| {}).await?;
        let arriving = self.source.task(back.task).await?;
        self.source.wait(&arriving, |_| {}).await?;
        Ok(())
    }

    /// Follows the source's pre-copy until the VM runs on the destination.
    /// A cancel stops the pre-copy (the VM goes on here) unless the
    /// switchover came first, in which case the move stands.
    async fn switch_over(&mut self, cx: &Cx) -> OpResult<()> {
        let (Some(sending), Some(ready)) = (self.sending.clone(), self.ready.clone()) else {
            return Err(OpError::Internal("the move was not started".into()));
        };
        let id = sending.id;
        let sent = tokio::select! {
            sent = follow(cx, &self.source, sending.clone()) => sent,
            _ = cx.cancelled() => {
                stop(&self.source, id).await;
                follow(cx, &self.source, sending).await
            }
        };
        let sent = match sent {
            Err(OpError::Host(info)) if info.code == ErrorCode::Cancelled => {
                return Err(cx.cancelled_error())
            }
            other => other?,
        };
        self.stats = Some(result_of(sent).unwrap_or_default());
        // The destination's task ends when the VM runs there.
        let arriving = self.destination.task(ready.task).await?;
        self.destination.wait(&arriving, |_| {}).await?;
        Ok(())
    }
}

/// Asks `host` to cancel its task until it takes the cancel or the task
/// has ended: a host task becomes cancelable only once its work begins (a
/// pre-copy about to start), and a cancel refused then would leave a
/// migration that never converges running for good.
async fn stop(host: &Client, id: uuid::Uuid) {
    for _ in 0..150 {
        if host.cancel_task(id).await.is_ok() {
            return;
        }
        match host.task(id).await {
            Ok(t) if matches!(t.state, TaskState::Queued | TaskState::Running) => {}
            _ => return,
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[derive(Clone, Copy, Debug)]
pub enum MoveStep {
    /// Record the move, so the source's "gone" keeps the VM's object.
    Reserve,
    /// vMotion: the destination starts a QEMU waiting for the VM.
    Prepare,
    /// vMotion: the source starts sending.
    Send,
    /// vMotion: the pre-copy, until the VM runs on the destination.
    SwitchOver,
    /// Cold: the destination registers the VM from its folder.
    Register,
    /// Cold: the source lets it go, keeping its files.
    Unregister,
    /// Record where the VM is now, and end the move (one transaction).
    Record,
}

impl Step for MoveStep {
    fn name(&self) -> String {
        match self {
            MoveStep::Reserve => "reserve the move",
            MoveStep::Prepare => "prepare the destination",
            MoveStep::Send => "start sending",
            MoveStep::SwitchOver => "switch over",
            MoveStep::Register => "register on the destination",
            MoveStep::Unregister => "unregister on the source",
            MoveStep::Record => "record the move",
        }
        .to_string()
    }

    fn weight(&self) -> u32 {
        match self {
            MoveStep::SwitchOver => 90,
            _ => 2,
        }
    }

    /// A vMotion answers once the source sends, so that a refusal by
    /// either host is the answer; a cold migration once it is reserved.
    fn inline(&self) -> bool {
        matches!(self, MoveStep::Reserve | MoveStep::Prepare | MoveStep::Send)
    }
}

impl Saga for Move {
    type Step = MoveStep;

    fn steps(&self) -> Vec<MoveStep> {
        use MoveStep::*;
        if self.live {
            vec![Reserve, Prepare, Send, SwitchOver, Record]
        } else {
            vec![Reserve, Register, Unregister, Record]
        }
    }

    async fn run(&mut self, step: MoveStep, cx: &Cx) -> OpResult<()> {
        let db = &self.center.db;
        let object = self.vm.object.id.clone();
        let parent = self.vm.object.parent.clone().unwrap_or_default();
        match step {
            MoveStep::Reserve => {
                crate::migrations::begin(db, &object, &self.from.id, &self.to.id).await?;
            }
            MoveStep::Prepare => {
                let incoming = IncomingMigration {
                    vm: self.info.id,
                    datastore: self.info.datastore.clone(),
                    folder: self.folder()?,
                };
                self.ready = Some(self.destination.migrate_incoming(&incoming).await?);
            }
            MoveStep::Send => {
                let Some(ready) = &self.ready else {
                    return Err(OpError::Internal("no destination ready".into()));
                };
                let send = MigrateRequest {
                    uri: ready.uri.clone(),
                    frames: ready.frames.clone(),
                    downtime_ms: self.limits.downtime_ms,
                    auto_converge: self.limits.auto_converge,
                    max_bandwidth_mib: self.limits.max_bandwidth_mib,
                };
                self.sending = Some(self.source.migrate(&self.vm.vm_id, &send).await?);
            }
            MoveStep::SwitchOver => self.switch_over(cx).await?,
            MoveStep::Register => {
                let register = VmRegister {
                    datastore: self.info.datastore.clone(),
                    folder: self.folder()?,
                };
                self.moved = Some(self.destination.register_vm(&register).await?);
            }
            MoveStep::Unregister => {
                let left = self.source.unregister_vm(&self.vm.vm_id).await;
                self.source.run(left).await?;
            }
            MoveStep::Record => {
                let moved = match &self.moved {
                    Some(m) => m.clone(),
                    None => self.destination.vm(&self.vm.vm_id).await?,
                };
                let to = &self.to.id;
                host_sync::record_arrival(db, to, &parent, &object, &moved).await?;
            }
        }
        Ok(())
    }

    async fn undo(&mut self, step: MoveStep, _cx: &Cx) -> OpResult<()> {
        match step {
            MoveStep::Reserve => {
                // It is on the source: say so before the destination's
                // "gone" can arrive unguarded.
                let refreshed = refresh(&self.center, &self.source, &self.vm).await;
                crate::migrations::end(&self.center.db, &self.vm.object.id).await?;
                refreshed?;
            }
            MoveStep::Prepare => {
                // The destination stops waiting and lets the VM go (its
                // task may have ended: then there is nothing to stop).
                if let Some(ready) = self.ready.take() {
                    stop(&self.destination, ready.task).await;
                    let waiting = self.destination.task(ready.task).await?;
                    let _ = self.destination.wait(&waiting, |_| {}).await;
                }
            }
            MoveStep::Send => {
                // Stop the pre-copy; a VM that got there anyway comes back.
                if let Some(sending) = self.sending.take() {
                    stop(&self.source, sending.id).await;
                    if self.source.wait(&sending, |_| {}).await.is_ok() {
                        if let Some(ready) = &self.ready {
                            let arriving = self.destination.task(ready.task).await?;
                            self.destination.wait(&arriving, |_| {}).await?;
                        }
                        self.bring_back().await?;
                    }
                }
            }
            // Undone with `Send`, which knows whether the VM went.
            MoveStep::SwitchOver => {}
            MoveStep::Register => {
                if let Some(moved) = self.moved.take() {
                    let id = moved.id.to_string();
                    let back = self.destination.unregister_vm(&id).await;
                    self.destination.run(back).await?;
                }
            }
            MoveStep::Unregister => {
                let register = VmRegister {
                    datastore: self.info.datastore.clone(),
                    folder: self.folder()?,
                };
                self.source.register_vm(&register).await?;
            }
            // The last step: nothing runs after it to fail.
            MoveStep::Record => {}
        }
        Ok(())
    }

    fn done(self) -> Done {
        let summary = self.summary();
        match self.stats {
            Some(stats) if self.live => Done {
                result: serde_json::to_value(&stats).unwrap_or_default(),
                message: format!("{summary}: {stats}"),
                event: EventKind::VmMigrated,
            },
            _ => Done {
                result: serde_json::Value::Null,
                message: summary,
                event: EventKind::VmMigrated,
            },
        }
    }
}

/// Starts a checked move as a task on the VM; a vMotion's refusal by
/// either host is the answer. The task's result is the vMotion's figures.
pub async fn start(
    c: &Arc<Center>,
    caller: &Caller,
    m: Move,
    fail_step: Option<usize>,
) -> OpResult<Task> {
    let target = (m.vm.object.id.clone(), m.vm.object.name.clone());
    let task = TaskRun::begin(c, caller, Operation::VmMigrate, (&target.0, &target.1)).await?;
    let run = saga::Run {
        task,
        cancelable: true,
        fail_step,
    };
    saga::start(m, run).await
}

//! Maintenance mode. Entering marks the host (it takes no new VMs and no
//! power-on), then moves every running VM by vMotion, one after the other,
//! to the host of the cluster with the most memory left that can take it,
//! and with `move_powered_off` the powered-off VMs by cold migration after
//! them. Each move is a migration saga of its own: one that fails is undone
//! whole, and then the host leaves maintenance mode again and the task
//! fails; the VMs moved before it stay where they went, as in vSphere.
//! Exiting just lifts the mark.

use std::sync::Arc;

use hierro_api::{EventKind, Operation, Severity, Task, VmMigrate};

use super::saga::{self, Cx, Done, Saga, Step};
use super::{authorize, migrate, Caller, OpError, OpResult, TaskRun};
use crate::inventory::{self, InventoryObject, ObjectKind};
use crate::vms::{self, Needs, VmRef};
use crate::Center;
use crate::{hosts, journal};

/// A host on its way into maintenance mode.
pub struct Evacuation {
    center: Arc<Center>,
    caller: Caller,
    host: InventoryObject,
    move_powered_off: bool,
    /// The VMs to move (running ones first), whether each runs.
    leaving: Vec<(bool, VmRef)>,
    /// The hosts they may go to.
    others: Vec<InventoryObject>,
    moved: usize,
}

/// The VMs on `host` that entering maintenance mode moves: the running
/// ones, then (with `powered_off`) the others.
async fn leaving(
    c: &Center,
    host: &InventoryObject,
    powered_off: bool,
) -> OpResult<Vec<(bool, VmRef)>> {
    let mut leaving: Vec<(bool, VmRef)> = inventory::search(&c.db, Some(ObjectKind::Vm), None)
        .await?
        .into_iter()
        .filter(|o| o.data["host"] == host.id.as_str())
        .map(|o| (o.data["power_state"] == "poweredOn", o))
        .filter(|(live, _)| *live || powered_off)
        .filter_map(|(live, o)| Some((live, vms::as_vm(o).ok()?)))
        .collect();
    leaving.sort_by_key(|(live, _)| !live);
    Ok(leaving)
}

/// Plans entering maintenance mode: which VMs go, and where they may.
pub async fn plan(
    c: &Arc<Center>,
    caller: &Caller,
    host: InventoryObject,
    move_powered_off: bool,
) -> OpResult<Evacuation> {
    let others: Vec<InventoryObject> = match &host.parent {
        Some(parent) => inventory::children(&c.db, parent)
            .await?
            .into_iter()
            .filter(|o| o.kind == ObjectKind::Host && o.id != host.id)
            .collect(),
        None => vec![],
    };
    Ok(Evacuation {
        leaving: leaving(c, &host, move_powered_off).await?,
        center: c.clone(),
        caller: caller.clone(),
        host,
        move_powered_off,
        others,
        moved: 0,
    })
}

#[derive(Clone, Copy, Debug)]
pub enum EvacuationStep {
    /// Mark the host: no new VMs, no power-on.
    Enter,
    /// Move the n-th VM away.
    Move(usize),
    /// No VM runs here that was not moved (one powered on as the host
    /// entered the mode).
    Check,
}

impl Step for EvacuationStep {
    fn name(&self) -> String {
        match self {
            EvacuationStep::Enter => "enter maintenance mode".into(),
            EvacuationStep::Move(i) => format!("move VM {}", i + 1),
            EvacuationStep::Check => "check that no VM is left running".into(),
        }
    }

    fn weight(&self) -> u32 {
        match self {
            EvacuationStep::Move(_) => 100,
            _ => 1,
        }
    }
}

impl Evacuation {
    async fn move_one(&mut self, i: usize, cx: &Cx) -> OpResult<()> {
        let c = &self.center;
        let (live, vm) = &self.leaving[i];
        let (live, vm) = (*live, vms::as_vm(vm.object.clone())?);
        authorize(c, &self.caller, &vm.object.id, migrate::privilege(live)).await?;
        let info = hosts::client(&c.db, &vm.host).await?.vm(&vm.vm_id).await?;
        let datacenter = inventory::datacenter_of(&c.db, &vm.object.id).await?;
        let needs = Needs::of_vm(&datacenter.id, &info, live);
        let to = vms::choose(&c.db, &self.host.name, self.others.clone(), &needs).await?;
        let limits = VmMigrate::to(&to.id);
        let vm_id = vm.object.id.clone();
        let m = migrate::plan(c, vm, to, limits).await?;
        if m.live() != live {
            // It was powered on or off meanwhile.
            authorize(c, &self.caller, &vm_id, migrate::privilege(m.live())).await?;
        }
        let done = saga::run_nested(m, cx).await?;
        journal::event(
            &c.db,
            done.event,
            Severity::Info,
            &self.host.id,
            &self.host.name,
            &self.caller.user,
            &done.message,
            cx.task_id(),
        )
        .await?;
        self.moved += 1;
        Ok(())
    }
}

impl Saga for Evacuation {
    type Step = EvacuationStep;

    fn steps(&self) -> Vec<EvacuationStep> {
        let moves = (0..self.leaving.len()).map(EvacuationStep::Move);
        std::iter::once(EvacuationStep::Enter)
            .chain(moves)
            .chain([EvacuationStep::Check])
            .collect()
    }

    fn describe(&self, step: EvacuationStep) -> String {
        match step {
            EvacuationStep::Move(i) => format!("move {}", self.leaving[i].1.object.name),
            step => step.name(),
        }
    }

    async fn run(&mut self, step: EvacuationStep, cx: &Cx) -> OpResult<()> {
        match step {
            EvacuationStep::Enter => {
                hosts::set_maintenance(&self.center.db, &self.host.id, true).await?;
            }
            EvacuationStep::Move(i) => self.move_one(i, cx).await?,
            EvacuationStep::Check => {
                let left = leaving(&self.center, &self.host, self.move_powered_off).await?;
                if let Some((_, vm)) = left.first() {
                    return Err(OpError::InvalidState(format!(
                        "{} was powered on here as the host entered maintenance mode; try again",
                        vm.object.name
                    )));
                }
            }
        }
        Ok(())
    }

    async fn undo(&mut self, step: EvacuationStep, _cx: &Cx) -> OpResult<()> {
        match step {
            EvacuationStep::Enter => {
                hosts::set_maintenance(&self.center.db, &self.host.id, false).await?;
            }
            // A VM that moved stays where it went (vSphere does not bring
            // them back); a move that failed undid itself.
            EvacuationStep::Move(_) | EvacuationStep::Check => {}
        }
        Ok(())
    }

    fn done(self) -> Done {
        Done {
            result: self.moved.into(),
            event: EventKind::EnteredMaintenanceMode,
            message: format!(
                "Host {} is in maintenance mode ({} VMs moved away)",
                self.host.name, self.moved
            ),
        }
    }
}

/// Enters maintenance mode as a cancelable task on the host: the VM on its
/// way goes back, the others stay, and the host leaves the mode.
pub async fn enter(
    c: &Arc<Center>,
    caller: &Caller,
    evacuation: Evacuation,
    fail_step: Option<usize>,
) -> OpResult<Task> {
    let host = &evacuation.host;
    let target = (host.id.as_str(), host.name.as_str());
    let task = TaskRun::begin(c, caller, Operation::HostEnterMaintenance, target).await?;
    let run = saga::Run {
        task,
        cancelable: true,
        fail_step,
    };
    saga::start(evacuation, run).await
}

/// Leaves maintenance mode, as a task.
pub async fn exit(c: &Arc<Center>, caller: &Caller, host: &InventoryObject) -> OpResult<Task> {
    let task = TaskRun::begin(
        c,
        caller,
        Operation::HostExitMaintenance,
        (&host.id, &host.name),
    )
    .await?;
    let (c, id, name) = (c.clone(), host.id.clone(), host.name.clone());
    let work = async move {
        hosts::set_maintenance(&c.db, &id, false).await?;
        Ok::<_, OpError>(0)
    };
    let message = move |_: &i32| format!("Host {name} left maintenance mode");
    task.spawn(work, EventKind::ExitMaintenanceMode, message)
        .await
}

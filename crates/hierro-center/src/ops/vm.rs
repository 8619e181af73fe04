//! VM operations that are one call to the VM's host: power, reconfigure,
//! delete, unregister, snapshots. The host checks and does the work (its
//! refusal is the answer, and no task is made); the center's task follows
//! the host's, progress included, then records the VM's new state. A
//! host's VM operation is not undone: it happened or the host refused it.
//! Reads go to the host too.

use std::sync::Arc;

use hierro_api::{EventKind, Operation, PowerOp, Task, VmInfo};
use hierro_client::{Client, ClientError};

use super::host::{follow, refresh};
use super::saga::Cx;
use super::{visible, Caller, OpError, OpResult, TaskRun};
use crate::hosts;
use crate::inventory::{self, ObjectKind};
use crate::vms::{self, VmRef};
use crate::Center;

/// Starts `start` on the VM's host and answers with the center's task,
/// which follows the host's and then records the VM's new state; `done` is
/// the event that ends it.
async fn on_host<F, Fut>(
    c: &Arc<Center>,
    caller: &Caller,
    vm: VmRef,
    operation: Operation,
    done: (EventKind, String),
    start: F,
) -> OpResult<Task>
where
    F: FnOnce(Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Task, ClientError>> + Send + 'static,
{
    let client = hosts::client(&c.db, &vm.host).await?;
    let host_task = start(client.clone()).await?;
    let target = (vm.object.id.clone(), vm.object.name.clone());
    let run = TaskRun::begin(c, caller, operation, (&target.0, &target.1)).await?;
    let (cx, c) = (Cx::of(&run), c.clone());
    let work = async move {
        let followed = follow(&cx, &client, host_task).await;
        // What the host did, done or not, is what the inventory shows.
        let refreshed = refresh(&c, &client, &vm).await;
        followed?;
        refreshed
    };
    let (kind, message) = done;
    run.spawn(work, kind, |_| message).await
}

/// Powers a VM on or off, resets it, or shuts its guest down. A host in
/// maintenance mode powers nothing on.
pub async fn power(c: &Arc<Center>, caller: &Caller, vm: VmRef, op: PowerOp) -> OpResult<Task> {
    if op == PowerOp::On && inventory::get(&c.db, &vm.host).await?.data["maintenance"] == true {
        return Err(OpError::InvalidState(format!(
            "the host of {} is in maintenance mode",
            vm.object.name
        )));
    }
    let verb = match op {
        PowerOp::On => "Powered on",
        PowerOp::Off => "Powered off",
        PowerOp::Shutdown => "Shut down the guest of",
        PowerOp::Reset => "Reset",
    };
    let done = (op.event(), format!("{verb} {}", vm.object.name));
    let id = vm.vm_id.clone();
    on_host(c, caller, vm, op.operation(), done, async move |h| {
        h.power(&id, op).await
    })
    .await
}

/// Changes a VM's hardware, or makes it a template or a VM again.
pub async fn update(
    c: &Arc<Center>,
    caller: &Caller,
    vm: VmRef,
    req: hierro_api::VmUpdate,
) -> OpResult<Task> {
    let name = vm.object.name.clone();
    // As the host's events say it: a conversion, or a reconfiguration.
    let only_template = req.template.is_some()
        && hierro_api::VmUpdate {
            template: None,
            ..req.clone()
        }
        .is_empty();
    let (operation, done) = match req.template {
        Some(true) if only_template => (
            Operation::VmMarkAsTemplate,
            (
                EventKind::VmMarkedAsTemplate,
                format!("Marked {name} as a template"),
            ),
        ),
        Some(false) if only_template => (
            Operation::VmMarkAsVirtualMachine,
            (
                EventKind::VmMarkedAsVirtualMachine,
                format!("Marked {name} as a virtual machine"),
            ),
        ),
        _ => (
            Operation::VmReconfigure,
            (EventKind::VmReconfigured, format!("Reconfigured {name}")),
        ),
    };
    let id = vm.vm_id.clone();
    on_host(c, caller, vm, operation, done, async move |h| {
        h.update_vm(&id, &req).await
    })
    .await
}

/// Deletes a VM and its files.
pub async fn delete(c: &Arc<Center>, caller: &Caller, vm: VmRef) -> OpResult<Task> {
    let done = (
        EventKind::VmRemoved,
        format!("Deleted VM {}", vm.object.name),
    );
    let id = vm.vm_id.clone();
    on_host(c, caller, vm, Operation::VmDestroy, done, async move |h| {
        h.delete_vm(&id).await
    })
    .await
}

/// Takes a powered-off VM off its host and out of the inventory, keeping
/// its files (vSphere's "Remove from Inventory").
pub async fn unregister(c: &Arc<Center>, caller: &Caller, vm: VmRef) -> OpResult<Task> {
    let done = (
        EventKind::VmUnregistered,
        format!("Unregistered VM {}; its files stay", vm.object.name),
    );
    let id = vm.vm_id.clone();
    on_host(
        c,
        caller,
        vm,
        Operation::VmUnregister,
        done,
        async move |h| h.unregister_vm(&id).await,
    )
    .await
}

/// A snapshot operation on the VM's host.
pub enum SnapshotOp {
    Create(hierro_api::SnapshotCreate),
    Revert(String),
    Remove(String),
}

impl SnapshotOp {
    /// What it needs on the VM.
    pub fn privilege(&self) -> hierro_api::Privilege {
        use hierro_api::Privilege as P;
        match self {
            SnapshotOp::Create(_) => P::VirtualMachineStateCreateSnapshot,
            SnapshotOp::Revert(_) => P::VirtualMachineStateRevertToSnapshot,
            SnapshotOp::Remove(_) => P::VirtualMachineStateRemoveSnapshot,
        }
    }
}

pub async fn snapshot(
    c: &Arc<Center>,
    caller: &Caller,
    vm: VmRef,
    op: SnapshotOp,
) -> OpResult<Task> {
    let name = vm.object.name.clone();
    let id = vm.vm_id.clone();
    match op {
        SnapshotOp::Create(req) => {
            let done = (
                EventKind::VmSnapshotCreated,
                format!("Took snapshot {} of {name}", req.name),
            );
            let operation = Operation::VmCreateSnapshot;
            on_host(c, caller, vm, operation, done, async move |h| {
                h.snapshot_create(&id, &req).await
            })
            .await
        }
        SnapshotOp::Revert(snapshot) => {
            let done = (
                EventKind::VmRevertedToSnapshot,
                format!("Reverted {name} to snapshot {snapshot}"),
            );
            let operation = Operation::VmRevertToSnapshot;
            on_host(c, caller, vm, operation, done, async move |h| {
                h.snapshot_revert(&id, &snapshot).await
            })
            .await
        }
        SnapshotOp::Remove(snapshot) => {
            let done = (
                EventKind::VmSnapshotRemoved,
                format!("Removed snapshot {snapshot} of {name}"),
            );
            let operation = Operation::VmRemoveSnapshot;
            on_host(c, caller, vm, operation, done, async move |h| {
                h.snapshot_delete(&id, &snapshot).await
            })
            .await
        }
    }
}

/// The VMs the caller may see, as their hosts describe them; VMs of hosts
/// that do not answer are left out (the inventory lists them all).
pub async fn list(c: &Center, caller: &Caller) -> OpResult<Vec<VmInfo>> {
    let objects = inventory::search(&c.db, Some(ObjectKind::Vm), None).await?;
    let seen: Vec<VmRef> = visible(c, caller, objects)
        .await?
        .into_iter()
        .filter_map(|o| vms::as_vm(o).ok())
        .collect();
    let mut hosts: Vec<&str> = seen.iter().map(|v| v.host.as_str()).collect();
    hosts.sort();
    hosts.dedup();
    let mut out = vec![];
    for host in hosts {
        let Ok(listed) = hosts::client(&c.db, host).await?.vms().await else {
            continue;
        };
        out.extend(listed.into_iter().filter(|info| {
            seen.iter()
                .any(|v| v.host == host && v.vm_id == info.id.to_string())
        }));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// A VM as its host describes it.
pub async fn info(c: &Center, vm: &VmRef) -> OpResult<VmInfo> {
    Ok(hosts::client(&c.db, &vm.host).await?.vm(&vm.vm_id).await?)
}

/// A VM's snapshots, as its host lists them.
pub async fn snapshots(c: &Center, vm: &VmRef) -> OpResult<Vec<hierro_api::Snapshot>> {
    Ok(hosts::client(&c.db, &vm.host)
        .await?
        .snapshots(&vm.vm_id)
        .await?)
}

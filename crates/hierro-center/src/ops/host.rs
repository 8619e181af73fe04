//! What operations do with hosts besides calling them: follow a host's task
//! (its progress into the center's), and record what a host now says about
//! a VM in the inventory.

use hierro_api::{Task, VmInfo};
use hierro_client::Client;

use super::saga::Cx;
use super::{OpError, OpResult};
use crate::error::StoreError;
use crate::host_sync;
use crate::inventory::{self, InventoryObject};
use crate::vms::VmRef;
use crate::Center;

/// Waits for a host task, copying its progress into the step's share of
/// the center's task. A task that fails is the host's error.
pub async fn follow(cx: &Cx, client: &Client, task: Task) -> OpResult<Task> {
    let (tx, mut rx) = tokio::sync::watch::channel(task.progress);
    let waiting = client.wait(&task, move |t| {
        tx.send_replace(t.progress);
    });
    let reporting = async {
        // Ends when `waiting` finishes and drops the sender.
        while rx.changed().await.is_ok() {
            let pct = *rx.borrow_and_update();
            cx.progress(pct).await;
        }
    };
    let (done, ()) = tokio::join!(waiting, reporting);
    Ok(done?)
}

/// Records the host's view of the VM after an operation: its new state, or
/// that it is gone (deleted; the change feed may have said so already).
pub async fn refresh(c: &Center, client: &Client, vm: &VmRef) -> OpResult<()> {
    match client.vm(&vm.vm_id).await {
        Ok(info) => {
            let parent = vm.object.parent.clone().unwrap_or_default();
            host_sync::record_vm(&c.db, &vm.host, &parent, &info).await?;
        }
        Err(e) if e.code() == Some(hierro_api::ErrorCode::NotFound) => {
            match inventory::delete(&c.db, &vm.object.id).await {
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Records a VM a host has just made or registered, in `folder`; its
/// inventory object.
pub async fn record_in_folder(
    c: &Center,
    host: &str,
    folder: &str,
    info: &VmInfo,
) -> OpResult<InventoryObject> {
    let obj = host_sync::record_vm(&c.db, host, folder, info).await?;
    // The change feed may have recorded it first, in the datacenter.
    if obj.parent.as_deref() != Some(folder) {
        inventory::move_to(&c.db, &obj.id, folder).await?;
    }
    Ok(inventory::get(&c.db, &obj.id).await?)
}

/// A host task's result, as what it made.
pub fn result_of<T: serde::de::DeserializeOwned>(task: Task) -> OpResult<T> {
    serde_json::from_value(task.result.unwrap_or_default())
        .map_err(|e| OpError::Internal(format!("the host's answer: {e}")))
}

//! A datastore's files through the center: the datastore named (its id, or
//! a name only one datastore the caller may see has), the caller's
//! privilege on it checked, and the work relayed to a connected host that
//! sees it. Changes are center tasks; the host records its own too.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::StreamExt;
use hierro_api::{DatastoreFile, EventKind, Operation, Privilege, UploadAt};
use hierro_client::Client;

use super::access::{authorize, visible};
use super::{Caller, OpError, OpResult, TaskRun};
use crate::hosts;
use crate::inventory::{self, InventoryObject, ObjectKind};
use crate::vms;
use crate::Center;

/// A datastore and a host to reach it through.
pub struct DatastoreRef {
    pub object: InventoryObject,
    /// The host's client, and the datastore's name there.
    pub client: Client,
}

impl DatastoreRef {
    pub fn name(&self) -> &str {
        &self.object.name
    }
}

/// The datastore `key` names, once the caller is found to hold
/// `privilege` on it, and a connected host that sees it.
pub async fn datastore_ref(
    center: &Center,
    caller: &Caller,
    key: &str,
    privilege: Privilege,
) -> OpResult<DatastoreRef> {
    let object = match inventory::get(&center.db, key).await {
        Ok(o) if o.kind == ObjectKind::Datastore => o,
        Ok(_) => return Err(OpError::NotFound(format!("no datastore {key:?}"))),
        Err(_) => {
            let named =
                inventory::search(&center.db, Some(ObjectKind::Datastore), Some(key)).await?;
            vms::find_by_key(&visible(center, caller, named).await?, key, "datastore")?
        }
    };
    authorize(center, caller, &object.id, privilege).await?;
    let hosts: Vec<String> = object.data["hosts"]
        .as_object()
        .map(|h| h.keys().cloned().collect())
        .unwrap_or_default();
    for host in hosts {
        let Ok(h) = inventory::get(&center.db, &host).await else {
            continue;
        };
        if h.data["state"] == "connected" {
            let client = hosts::client(&center.db, &host).await?;
            return Ok(DatastoreRef { object, client });
        }
    }
    Err(OpError::InvalidState(format!(
        "no connected host sees datastore {}",
        object.name
    )))
}

/// Relays an upload to the datastore's host as a task whose progress
/// follows the bytes relayed (when the client said how many).
pub async fn upload<S, E>(
    center: &Arc<Center>,
    caller: &Caller,
    ds: &DatastoreRef,
    at: &UploadAt,
    body: S,
    length: Option<u64>,
) -> OpResult<DatastoreFile>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let target = (ds.object.id.as_str(), ds.name());
    let run = TaskRun::begin(center, caller, Operation::DatastoreUpload, target).await?;
    let relayed = Arc::new(AtomicU64::new(0));
    let counted = relayed.clone();
    let body = body.inspect(move |chunk| {
        if let Ok(c) = chunk {
            counted.fetch_add(c.len() as u64, Ordering::Relaxed);
        }
    });
    let progress = async {
        let Some(length) = length.filter(|l| *l > 0) else {
            return std::future::pending().await;
        };
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let pct = relayed.load(Ordering::Relaxed).min(length) * 100 / length;
            run.progress(pct as u8).await;
        }
    };
    let sent = ds
        .client
        .upload(ds.name(), &at.path, at.overwrite, body, length);
    let result = tokio::select! {
        r = sent => r.map_err(OpError::from),
        never = progress => never,
    };
    let done = match &result {
        Ok(f) => format!(
            "Uploaded [{}] {} ({} bytes)",
            ds.name(),
            f.path,
            f.size_bytes
        ),
        Err(_) => String::new(),
    };
    run.end(result, (EventKind::DatastoreFileUploaded, done))
        .await
}

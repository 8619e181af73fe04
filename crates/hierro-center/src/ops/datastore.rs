//! A datastore's files through the center: the datastore named (its id, or
//! a name only one datastore the caller may see has), the caller's
//! privilege on it checked, and the work relayed to a connected host that
//! sees it. Changes are center tasks; the host records its own too.

use hierro_api::Privilege;
use hierro_client::Client;

use super::access::{authorize, visible};
use super::{Caller, OpError, OpResult};
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

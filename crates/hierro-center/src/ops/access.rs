//! Who asks, and whether they may: vSphere's rules (`authz`) applied to
//! the stored roles and permissions. Handlers check the privileges a call
//! names; operations check those that depend on what they find (each VM a
//! host evacuates, the datastore and networks a new VM uses).

use hierro_api::Privilege;

use super::{OpError, OpResult};
use crate::authz::{Decision, Subject, VIEW};
use crate::inventory::{self, InventoryObject, ObjectKind, ROOT};
use crate::vms::{self, VmRef};
use crate::Center;

/// The authenticated caller and its groups.
#[derive(Clone)]
pub struct Caller {
    pub user: String,
    pub subject: Subject,
    /// Authenticated by an API token rather than a login session.
    pub by_token: bool,
}

/// The caller's rights on an object (the object must exist).
pub async fn rights(center: &Center, subject: &Subject, object: &str) -> OpResult<Decision> {
    let (authz, path) = crate::access::load_path(&center.db, object).await?;
    if path.is_empty() {
        return Err(OpError::NotFound(format!(
            "no inventory object {}",
            hierro_api::shown(object)
        )));
    }
    Ok(authz.effective(subject, &path))
}

/// Refuses unless the caller holds `privilege` on `object`. An object the
/// caller may not even see is reported as missing, as vSphere hides it.
pub async fn authorize(
    center: &Center,
    caller: &Caller,
    object: &str,
    privilege: Privilege,
) -> OpResult<()> {
    let d = rights(center, &caller.subject, object).await?;
    // (The root is no secret: it always exists.)
    if !d.visible() && object != ROOT {
        return Err(OpError::NotFound(format!(
            "no inventory object {}",
            hierro_api::shown(object)
        )));
    }
    if !d.allows(privilege) {
        return Err(OpError::Forbidden {
            user: caller.user.clone(),
            privilege,
            object: object.to_string(),
        });
    }
    Ok(())
}

/// Keeps the objects the caller may see.
pub async fn visible(
    center: &Center,
    caller: &Caller,
    objects: Vec<InventoryObject>,
) -> OpResult<Vec<InventoryObject>> {
    let (authz, tree) = crate::access::load(&center.db).await?;
    Ok(objects
        .into_iter()
        .filter(|o| authz.allows(&caller.subject, &tree.path(&o.id), VIEW))
        .collect())
}

/// The VM `key` names (an object id, or a name only one visible VM has),
/// once the caller is found to hold `privilege` on it.
pub async fn vm_ref(
    center: &Center,
    caller: &Caller,
    key: &str,
    privilege: Privilege,
) -> OpResult<VmRef> {
    let object = match inventory::get(&center.db, key).await {
        Ok(o) => o,
        Err(_) => {
            let named = inventory::search(&center.db, Some(ObjectKind::Vm), Some(key)).await?;
            vms::find_by_key(&visible(center, caller, named).await?, key, "VM")?
        }
    };
    authorize(center, caller, &object.id, privilege).await?;
    Ok(vms::as_vm(object)?)
}

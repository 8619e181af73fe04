//! There is always an administrator: a change of permissions, users or
//! groups that would leave no enabled user with Administrator on the root
//! is refused (409), as vCenter refuses it. Such changes run one at a time
//! (`AccessGuard`), each checked against the model as it would be after it.

use hierro_api::{Permission, Principal};

use super::{OpError, OpResult};
use crate::authz::{administrators, Account, Authz};
use crate::Center;

/// A change of who may do what.
pub enum AccessChange<'a> {
    SetPermission(&'a Permission),
    RemovePermission {
        principal: &'a Principal,
        object: &'a str,
    },
    DeleteUser(&'a str),
    DeleteGroup(&'a str),
    RemoveMember {
        group: &'a str,
        user: &'a str,
    },
}

/// Held while an access change is checked and made: no other can pass the
/// check meanwhile.
pub type AccessGuard<'a> = tokio::sync::MutexGuard<'a, ()>;

/// Checks that after `change` some user still holds Administrator on the
/// root; the guard to hold until the change is made.
pub async fn keep_an_administrator<'c>(
    c: &'c Center,
    change: AccessChange<'_>,
) -> OpResult<AccessGuard<'c>> {
    let guard = c.access_changes.lock().await;
    let roles = crate::access::roles(&c.db).await?;
    let mut permissions = crate::access::permissions(&c.db).await?;
    let mut users = crate::directory::list_users(&c.db).await?;
    match change {
        AccessChange::SetPermission(p) => {
            permissions.retain(|q| (&q.principal, &q.object) != (&p.principal, &p.object));
            permissions.push(p.clone());
        }
        AccessChange::RemovePermission { principal, object } => {
            permissions.retain(|q| (&q.principal, q.object.as_str()) != (principal, object));
        }
        AccessChange::DeleteUser(name) => users.retain(|u| u.name != name),
        AccessChange::DeleteGroup(name) => {
            for u in &mut users {
                u.groups.retain(|g| g != name);
            }
        }
        AccessChange::RemoveMember { group, user } => {
            for u in users.iter_mut().filter(|u| u.name == user) {
                u.groups.retain(|g| g != group);
            }
        }
    }
    let authz = Authz::new(roles, permissions);
    let accounts: Vec<Account> = users
        .iter()
        .map(|u| Account {
            name: &u.name,
            groups: &u.groups,
            disabled: u.disabled,
        })
        .collect();
    if administrators(&authz, &accounts).is_empty() {
        return Err(OpError::Conflict(
            "that would leave no user with Administrator on the root folder: \
             give another user (or a group with members) Administrator there first"
                .into(),
        ));
    }
    Ok(guard)
}

//! Roles and permissions in the database, and the `Authz` view of them that
//! answers "what may this user do here, and why".

use std::collections::BTreeSet;

use sqlx::Row;

use crate::authz::{Authz, Permission, Principal, Role, RoleRules, Tree};
use crate::db::Db;
use crate::inventory;

pub use crate::error::StoreError as AccessError;
type Result<T> = crate::error::StoreResult<T>;

/// Stores the system roles (their privileges always come from the code).
pub async fn ensure_system_roles(db: &Db) -> Result<()> {
    for role in Role::system_roles() {
        sqlx::query(
            "INSERT INTO roles (id, name, system, privileges) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, privileges = excluded.privileges",
        )
        .bind(&role.id)
        .bind(&role.name)
        .bind(serde_json::to_string(&role.privileges).expect("a set of strings"))
        .execute(&mut *db.conn().await?)
        .await?;
    }
    Ok(())
}

fn row_to_role(r: &sqlx::any::AnyRow) -> Result<Role> {
    let privileges: String = r.try_get("privileges")?;
    Ok(Role {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        // A privilege the catalogue no longer has grants nothing.
        privileges: serde_json::from_str::<Vec<String>>(&privileges)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| crate::authz::privilege(p))
            .collect(),
        system: r.try_get::<i64, _>("system")? != 0,
    })
}

pub async fn roles(db: &Db) -> Result<Vec<Role>> {
    let rows = sqlx::query("SELECT id, name, system, privileges FROM roles ORDER BY name")
        .fetch_all(&mut *db.conn().await?)
        .await?;
    rows.iter().map(row_to_role).collect()
}

pub async fn role(db: &Db, id_or_name: &str) -> Result<Role> {
    let row =
        sqlx::query("SELECT id, name, system, privileges FROM roles WHERE id = $1 OR name = $1")
            .bind(id_or_name)
            .fetch_optional(&mut *db.conn().await?)
            .await?
            .ok_or_else(|| AccessError::NotFound(format!("no role {id_or_name:?}")))?;
    row_to_role(&row)
}

/// A custom role: every privilege must be in the catalogue.
pub async fn create_role(db: &Db, name: &str, privileges: &BTreeSet<String>) -> Result<Role> {
    let role = Role::custom(
        &uuid::Uuid::new_v4().to_string(),
        name,
        privileges.iter().cloned(),
    )?;
    sqlx::query("INSERT INTO roles (id, name, system, privileges) VALUES ($1, $2, 0, $3)")
        .bind(&role.id)
        .bind(&role.name)
        .bind(serde_json::to_string(&role.privileges).expect("a set of strings"))
        .execute(&mut *db.conn().await?)
        .await
        .map_err(|e| {
            if Db::is_unique_violation(&e) {
                AccessError::Conflict(format!("a role named {name:?} exists already"))
            } else {
                e.into()
            }
        })?;
    Ok(role)
}

pub async fn update_role(db: &Db, id_or_name: &str, privileges: &BTreeSet<String>) -> Result<Role> {
    let current = role(db, id_or_name).await?;
    current.check_editable()?;
    let next = Role::custom(&current.id, &current.name, privileges.iter().cloned())?;
    sqlx::query("UPDATE roles SET privileges = $1 WHERE id = $2")
        .bind(serde_json::to_string(&next.privileges).expect("a set of strings"))
        .bind(&next.id)
        .execute(&mut *db.conn().await?)
        .await?;
    Ok(next)
}

/// Deletes a custom role that no permission uses.
pub async fn delete_role(db: &Db, id_or_name: &str) -> Result<()> {
    let current = role(db, id_or_name).await?;
    current.check_editable()?;
    sqlx::query("DELETE FROM roles WHERE id = $1")
        .bind(&current.id)
        .execute(&mut *db.conn().await?)
        .await
        .map_err(|e| {
            if Db::is_foreign_key_violation(&e) {
                AccessError::Conflict(format!("role {:?} is used by permissions", current.name))
            } else {
                e.into()
            }
        })?;
    Ok(())
}

fn principal_parts(p: &Principal) -> (&str, i64) {
    match p {
        Principal::User(u) => (u, 0),
        Principal::Group(g) => (g, 1),
    }
}

/// Gives a principal a role on an object, replacing the principal's earlier
/// permission there (at most one per principal and object).
pub async fn set_permission(db: &Db, p: &Permission) -> Result<()> {
    let (name, is_group) = principal_parts(&p.principal);
    let exists = if is_group == 1 {
        sqlx::query("SELECT 1 AS x FROM groups WHERE name = $1")
    } else {
        sqlx::query("SELECT 1 AS x FROM users WHERE name = $1")
    }
    .bind(name)
    .fetch_optional(&mut *db.conn().await?)
    .await?
    .is_some();
    if !exists {
        return Err(AccessError::NotFound(format!(
            "no {} {name:?}",
            if is_group == 1 { "group" } else { "user" }
        )));
    }
    role(db, &p.role).await?;
    inventory::get(db, &p.object)
        .await
        .map_err(|e| AccessError::NotFound(e.to_string()))?;
    sqlx::query(
        "INSERT INTO permissions (principal, is_group, object, role, propagate) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (principal, is_group, object) DO UPDATE SET role = excluded.role, propagate = excluded.propagate",
    )
    .bind(name)
    .bind(is_group)
    .bind(&p.object)
    .bind(&p.role)
    .bind(p.propagate as i64)
    .execute(&mut *db.conn().await?)
    .await?;
    Ok(())
}

pub async fn remove_permission(db: &Db, principal: &Principal, object: &str) -> Result<()> {
    let (name, is_group) = principal_parts(principal);
    let done = sqlx::query(
        "DELETE FROM permissions WHERE principal = $1 AND is_group = $2 AND object = $3",
    )
    .bind(name)
    .bind(is_group)
    .bind(object)
    .execute(&mut *db.conn().await?)
    .await?;
    crate::error::changed(done, || format!("no permission for {name} on {object}"))
}

fn row_to_permission(r: &sqlx::any::AnyRow) -> Result<Permission> {
    let name: String = r.try_get("principal")?;
    Ok(Permission {
        principal: if r.try_get::<i64, _>("is_group")? != 0 {
            Principal::Group(name)
        } else {
            Principal::User(name)
        },
        object: r.try_get("object")?,
        role: r.try_get("role")?,
        propagate: r.try_get::<i64, _>("propagate")? != 0,
    })
}

pub async fn permissions(db: &Db) -> Result<Vec<Permission>> {
    let rows = sqlx::query("SELECT principal, is_group, object, role, propagate FROM permissions ORDER BY object, principal")
        .fetch_all(&mut *db.conn().await?)
        .await?;
    rows.iter().map(row_to_permission).collect()
}

/// An object and its ancestors (`up`: id, depth from the object), for the
/// queries that need only one object's path.
const PATH_UP: &str = "WITH RECURSIVE up(id, parent, depth) AS ( \
     SELECT id, parent, 0 FROM objects WHERE id = $1 \
     UNION ALL \
     SELECT o.id, o.parent, up.depth + 1 FROM objects o JOIN up ON o.id = up.parent WHERE up.depth < 1000)";

/// What deciding rights on one object needs, however large the inventory:
/// its path to the root (nearest first; empty when there is no such
/// object), and the roles and the permissions set along that path.
pub async fn load_path(db: &Db, object: &str) -> Result<(Authz, Vec<String>)> {
    let path = sqlx::query(&format!("{PATH_UP} SELECT id FROM up ORDER BY depth"))
        .bind(object)
        .fetch_all(&mut *db.conn().await?)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<std::result::Result<Vec<String>, _>>()?;
    let permissions = sqlx::query(&format!(
        "{PATH_UP} SELECT principal, is_group, object, role, propagate FROM permissions \
         WHERE object IN (SELECT id FROM up)"
    ))
    .bind(object)
    .fetch_all(&mut *db.conn().await?)
    .await?
    .iter()
    .map(row_to_permission)
    .collect::<Result<Vec<_>>>()?;
    Ok((Authz::new(roles(db).await?, permissions), path))
}

/// Everything the authorization check needs for any object, read in one go
/// (for filtering listings; one object needs only `load_path`).
pub async fn load(db: &Db) -> Result<(Authz, Tree)> {
    let authz = Authz::new(roles(db).await?, permissions(db).await?);
    let tree = inventory::parents(db)
        .await
        .map_err(|e| AccessError::Invalid(e.to_string()))?
        .into_iter()
        .collect();
    Ok((authz, tree))
}

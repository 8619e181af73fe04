//! The inventory: one tree of objects under the root folder, as in vSphere.
//! Datacenters sit in folders; clusters, hosts, VMs, datastores and networks
//! live inside a datacenter (directly or in folders); names are unique among
//! the children of one parent. Ids are stable UUIDs (the root is "root").

use std::collections::HashMap;

use chrono::Utc;
use sqlx::Row;

use crate::db::Db;

pub const ROOT: &str = "root";

pub use hierro_api::{InventoryObject, ObjectKind};

/// Where an object of this kind may be placed (vSphere's containment).
fn may_live_in(kind: ObjectKind, parent: ObjectKind) -> bool {
    use ObjectKind::*;
    matches!(
        (kind, parent),
        (Folder, Folder | Datacenter)
            | (Datacenter, Folder)
            | (Cluster, Datacenter | Folder)
            | (Host, Cluster | Datacenter | Folder)
            | (Vm, Datacenter | Folder)
            | (Datastore | Network | DvSwitch, Datacenter | Folder)
    )
}

/// Objects that only exist within a datacenter.
fn needs_datacenter(kind: ObjectKind) -> bool {
    !matches!(kind, ObjectKind::Folder | ObjectKind::Datacenter)
}

pub use crate::error::StoreError as InventoryError;
type Result<T> = crate::error::StoreResult<T>;

/// The name as stored (`hierro_api::display_name`, and no '/': names make
/// inventory paths).
fn validate_name(name: &str) -> Result<String> {
    let name = hierro_api::display_name("name", name).map_err(InventoryError::Invalid)?;
    if name.contains('/') {
        return Err(InventoryError::Invalid(format!(
            "name {} must not hold '/'",
            hierro_api::shown(&name)
        )));
    }
    Ok(name)
}

pub(crate) fn row_to_object(r: &sqlx::any::AnyRow) -> Result<InventoryObject> {
    let kind: String = r.try_get("kind")?;
    let data: String = r.try_get("data")?;
    Ok(InventoryObject {
        id: r.try_get("id")?,
        kind: ObjectKind::parse(&kind).ok_or_else(|| {
            InventoryError::Invalid(format!("unknown kind {kind:?} in the database"))
        })?,
        name: r.try_get("name")?,
        parent: r.try_get("parent")?,
        data: serde_json::from_str(&data).unwrap_or_default(),
        created: r.try_get("created")?,
    })
}

pub(crate) const COLUMNS: &str = "id, kind, name, parent, data, created";

/// Makes the root folder if the database is new.
pub async fn ensure_root(db: &Db) -> Result<()> {
    if get(db, ROOT).await.is_err() {
        sqlx::query("INSERT INTO objects (id, kind, name, parent, data, created) VALUES ($1, 'folder', 'Datacenters', NULL, '{}', $2)")
            .bind(ROOT)
            .bind(Utc::now().to_rfc3339())
            .execute(&mut *db.conn().await?)
            .await?;
    }
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> Result<InventoryObject> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM objects WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *db.conn().await?)
        .await?
        .ok_or_else(|| {
            InventoryError::NotFound(format!("no inventory object {}", hierro_api::shown(id)))
        })?;
    row_to_object(&row)
}

/// The object that mirrors `key` ("vm:<uuid>", "datastore:<dc>:<name>"...).
pub async fn by_source(db: &Db, key: &str) -> Result<Option<InventoryObject>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM objects WHERE source = $1"))
        .bind(key)
        .fetch_optional(&mut *db.conn().await?)
        .await?;
    row.as_ref().map(row_to_object).transpose()
}

/// The datacenter an object is in.
pub async fn datacenter_of(db: &Db, id: &str) -> Result<InventoryObject> {
    path(db, id)
        .await?
        .into_iter()
        .find(|o| o.kind == ObjectKind::Datacenter)
        .ok_or_else(|| InventoryError::NotFound(format!("{id} is not inside a datacenter")))
}

/// The object and its ancestors, nearest first, ending with the root.
pub async fn path(db: &Db, id: &str) -> Result<Vec<InventoryObject>> {
    let mut out = vec![get(db, id).await?];
    while let Some(parent) = out.last().and_then(|o| o.parent.clone()) {
        out.push(get(db, &parent).await?);
        if out.len() > 1000 {
            return Err(InventoryError::Invalid(
                "inventory tree too deep (a cycle?)".into(),
            ));
        }
    }
    Ok(out)
}

/// Checks that `kind` may be placed under `parent`.
pub(crate) async fn check_placement(
    db: &Db,
    kind: ObjectKind,
    parent: &InventoryObject,
) -> Result<()> {
    if !may_live_in(kind, parent.kind) {
        return Err(InventoryError::Invalid(format!(
            "a {} cannot be placed in a {} ({})",
            kind.as_str(),
            parent.kind.as_str(),
            parent.name
        )));
    }
    if needs_datacenter(kind)
        && !path(db, &parent.id)
            .await?
            .iter()
            .any(|o| o.kind == ObjectKind::Datacenter)
    {
        return Err(InventoryError::Invalid(format!(
            "a {} must be inside a datacenter",
            kind.as_str()
        )));
    }
    Ok(())
}

pub async fn create(
    db: &Db,
    kind: ObjectKind,
    name: &str,
    parent: &str,
    data: serde_json::Value,
) -> Result<InventoryObject> {
    let name = &validate_name(name)?;
    let parent = get(db, parent).await?;
    check_placement(db, kind, &parent).await?;
    let obj = InventoryObject::new(kind, name, &parent.id, data);
    let mut conn = db.conn().await?;
    insert(&mut conn, &obj, None)
        .await
        .map_err(|e| name_taken(e, name, &parent))?;
    Ok(obj)
}

/// Where a mirrored object comes from: its key ("vm:<uuid>"...) and, for a
/// VM, the host that runs it.
pub struct Source<'a> {
    pub key: &'a str,
    pub host: Option<&'a str>,
}

/// Writes a new object (its placement already checked) on any connection,
/// so that it can be part of a larger transaction.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    obj: &InventoryObject,
    source: Option<Source<'_>>,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO objects (id, kind, name, parent, data, created, source, host) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&obj.id)
        .bind(obj.kind.as_str())
        .bind(&obj.name)
        .bind(&obj.parent)
        .bind(obj.data.to_string())
        .bind(&obj.created)
        .bind(source.as_ref().map(|s| s.key))
        .bind(source.as_ref().and_then(|s| s.host))
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) fn name_taken(e: sqlx::Error, name: &str, parent: &InventoryObject) -> InventoryError {
    if Db::is_unique_violation(&e) {
        InventoryError::Conflict(format!(
            "{} already holds an object named {name:?}",
            parent.name
        ))
    } else {
        e.into()
    }
}

pub async fn children(db: &Db, id: &str) -> Result<Vec<InventoryObject>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM objects WHERE parent = $1 ORDER BY name"
    ))
    .bind(id)
    .fetch_all(&mut *db.conn().await?)
    .await?;
    rows.iter().map(row_to_object).collect()
}

/// Objects of a kind (all kinds when `None`) whose name contains `name`.
pub async fn search(
    db: &Db,
    kind: Option<ObjectKind>,
    name: Option<&str>,
) -> Result<Vec<InventoryObject>> {
    let pattern = format!(
        "%{}%",
        name.unwrap_or("").replace('%', "\\%").replace('_', "\\_")
    );
    let rows = match kind {
        Some(k) => {
            sqlx::query(&format!("SELECT {COLUMNS} FROM objects WHERE kind = $1 AND name LIKE $2 ESCAPE '\\' ORDER BY name"))
                .bind(k.as_str())
                .bind(pattern)
                .fetch_all(&mut *db.conn().await?)
                .await?
        }
        None => {
            sqlx::query(&format!("SELECT {COLUMNS} FROM objects WHERE name LIKE $1 ESCAPE '\\' ORDER BY name"))
                .bind(pattern)
                .fetch_all(&mut *db.conn().await?)
                .await?
        }
    };
    rows.iter().map(row_to_object).collect()
}

pub async fn rename(db: &Db, id: &str, name: &str) -> Result<InventoryObject> {
    let name = &validate_name(name)?;
    let obj = get(db, id).await?;
    let Some(parent) = &obj.parent else {
        return Err(InventoryError::Invalid(
            "the root folder cannot be renamed".into(),
        ));
    };
    let parent = get(db, parent).await?;
    sqlx::query("UPDATE objects SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id)
        .execute(&mut *db.conn().await?)
        .await
        .map_err(|e| name_taken(e, name, &parent))?;
    get(db, id).await
}

/// Moves an object (and its subtree) to another parent.
pub async fn move_to(db: &Db, id: &str, new_parent: &str) -> Result<InventoryObject> {
    let obj = get(db, id).await?;
    if obj.parent.is_none() {
        return Err(InventoryError::Invalid(
            "the root folder cannot move".into(),
        ));
    }
    let target = get(db, new_parent).await?;
    if path(db, new_parent).await?.iter().any(|o| o.id == obj.id) {
        return Err(InventoryError::Invalid(format!(
            "{} cannot move into its own subtree",
            obj.name
        )));
    }
    check_placement(db, obj.kind, &target).await?;
    sqlx::query("UPDATE objects SET parent = $1 WHERE id = $2")
        .bind(new_parent)
        .bind(id)
        .execute(&mut *db.conn().await?)
        .await
        .map_err(|e| name_taken(e, &obj.name, &target))?;
    get(db, id).await
}

/// Removes an object that has no children.
pub async fn delete(db: &Db, id: &str) -> Result<()> {
    let obj = get(db, id).await?;
    if obj.parent.is_none() {
        return Err(InventoryError::Conflict(
            "the root folder cannot be removed".into(),
        ));
    }
    if !children(db, id).await?.is_empty() {
        return Err(InventoryError::Conflict(format!(
            "{} is not empty",
            obj.name
        )));
    }
    sqlx::query("DELETE FROM objects WHERE id = $1")
        .bind(id)
        .execute(&mut *db.conn().await?)
        .await?;
    Ok(())
}

/// Replaces an object's kind-specific facts.
pub async fn set_data(db: &Db, id: &str, data: serde_json::Value) -> Result<()> {
    let done = sqlx::query("UPDATE objects SET data = $1 WHERE id = $2")
        .bind(data.to_string())
        .bind(id)
        .execute(&mut *db.conn().await?)
        .await?;
    crate::error::changed(done, || {
        format!("no inventory object {}", hierro_api::shown(id))
    })
}

/// Every object's parent, for walking towards the root in memory.
pub async fn parents(db: &Db) -> Result<HashMap<String, Option<String>>> {
    let rows = sqlx::query("SELECT id, parent FROM objects")
        .fetch_all(&mut *db.conn().await?)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("id")?,
                r.try_get::<Option<String>, _>("parent")?,
            ))
        })
        .collect()
}

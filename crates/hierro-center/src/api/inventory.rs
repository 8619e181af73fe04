use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hierro_api::EventKind;
use hierro_api::Operation;
use hierro_api::Privilege;
use hierro_api::{InventoryCreate, InventoryQuery, InventoryUpdate, ObjectView};
use hierro_http::Params;
use hierro_http::{ApiError, ApiResult, Body};

use super::privileges::{needs, note, on, Access};
use super::task::as_task;
use super::{
    authorize, internal, AppState, BadRequest, Caller, Conflict, Forbidden, NotFound, Unauthorized,
};
use crate::authz::VIEW;
use crate::inventory::{self, InventoryObject, ObjectKind};
use hierro_api::Privilege as P;

/// What each operation of this file needs (the document's "Privilege:" lines).
pub(super) const ACCESS: &[(&str, Access)] = &[
    (
        "inventory_search",
        note(
            "the others are left out",
            &[on(P::SystemView, "each object listed")],
        ),
    ),
    ("inventory_get", needs(&[on(P::SystemView, "it")])),
    (
        "inventory_children",
        note(
            "the others are left out",
            &[
                on(P::SystemView, "it"),
                on(P::SystemView, "each child listed"),
            ],
        ),
    ),
    (
        "inventory_create",
        needs(&[
            on(P::FolderCreate, "the parent").when("a folder"),
            on(P::DatacenterCreate, "the parent").when("a datacenter"),
            on(P::HostInventoryCreateCluster, "the parent").when("a cluster"),
        ]),
    ),
    (
        "inventory_update",
        needs(&[
            on(P::SystemView, "it"),
            on(P::FolderRename, "it").when("to rename a folder"),
            on(P::DatacenterRename, "it").when("to rename a datacenter"),
            on(P::HostInventoryEditCluster, "it").when("to rename or move a cluster"),
            on(P::FolderMove, "it").when("to move a folder"),
            on(P::DatacenterMove, "it").when("to move a datacenter"),
            on(P::HostInventoryMoveHost, "it").when("to move a host"),
            on(P::VirtualMachineInventoryMove, "it").when("to move a VM"),
            on(P::FolderCreate, "the new parent").when("to move"),
        ]),
    ),
    (
        "inventory_delete",
        needs(&[
            on(P::FolderDelete, "it").when("a folder"),
            on(P::DatacenterDelete, "it").when("a datacenter"),
            on(P::HostInventoryDeleteCluster, "it").when("a cluster"),
        ]),
    ),
];

/// Keeps the objects the caller may see.
pub(super) async fn visible(
    c: &AppState,
    caller: &Caller,
    objects: Vec<InventoryObject>,
) -> ApiResult<Vec<InventoryObject>> {
    let (authz, tree) = crate::access::load(&c.db).await.map_err(internal)?;
    Ok(objects
        .into_iter()
        .filter(|o| authz.visible(&caller.subject, &tree.path(&o.id)))
        .collect())
}

/// Finds objects by kind and name.
#[utoipa::path(
    get,
    path = "/api/inventory",
    tag = "inventory",
    operation_id = "inventory_search",
    security(("session" = [])),
    params(InventoryQuery),
    responses(
        (status = 200, description = "The objects found", body = [InventoryObject]),
        BadRequest, Unauthorized,
    )
)]
pub async fn search(
    State(c): State<AppState>,
    caller: Caller,
    Params(q): Params<InventoryQuery>,
) -> ApiResult<Json<Vec<InventoryObject>>> {
    let found = inventory::search(&c.db, q.kind, q.name.as_deref()).await?;
    Ok(Json(visible(&c, &caller, found).await?))
}

/// One object, with its path from the root.
#[utoipa::path(
    get,
    path = "/api/inventory/{id}",
    tag = "inventory",
    operation_id = "inventory_get",
    security(("session" = [])),
    params(("id" = String, Path, description = "The object's id")),
    responses(
        (status = 200, description = "The object and its path", body = ObjectView),
        Unauthorized, NotFound,
    )
)]
pub async fn get(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ObjectView>> {
    authorize(&c, &caller, &id, VIEW).await?;
    let object = inventory::get(&c.db, &id).await?;
    let path = inventory::path(&c.db, &id)
        .await?
        .into_iter()
        .rev()
        .map(|o| o.name)
        .collect();
    Ok(Json(ObjectView { object, path }))
}

/// An object's children.
#[utoipa::path(
    get,
    path = "/api/inventory/{id}/children",
    tag = "inventory",
    operation_id = "inventory_children",
    security(("session" = [])),
    params(("id" = String, Path, description = "The object's id")),
    responses(
        (status = 200, description = "The children", body = [InventoryObject]),
        Unauthorized, NotFound,
    )
)]
pub async fn children(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<InventoryObject>>> {
    authorize(&c, &caller, &id, VIEW).await?;
    let kids = inventory::children(&c.db, &id).await?;
    Ok(Json(visible(&c, &caller, kids).await?))
}

/// A change of an inventory object through `/api/inventory`.
#[derive(Clone, Copy)]
enum Change {
    Create,
    Rename,
    Move,
    Delete,
}

/// The privilege a change needs, by kind of object, and the task's
/// operation (an update renames or moves).
fn privilege(kind: ObjectKind, change: Change) -> ApiResult<(Privilege, Operation)> {
    use Change::*;
    use ObjectKind::*;
    use Operation as O;
    use Privilege as P;
    Ok(match (kind, change) {
        (Folder, Create) => (P::FolderCreate, O::FolderCreate),
        (Folder, Rename) => (P::FolderRename, O::FolderUpdate),
        (Folder, Move) => (P::FolderMove, O::FolderUpdate),
        (Folder, Delete) => (P::FolderDelete, O::FolderDelete),
        (Datacenter, Create) => (P::DatacenterCreate, O::DatacenterCreate),
        (Datacenter, Rename) => (P::DatacenterRename, O::DatacenterUpdate),
        (Datacenter, Move) => (P::DatacenterMove, O::DatacenterUpdate),
        (Datacenter, Delete) => (P::DatacenterDelete, O::DatacenterDelete),
        (Cluster, Create) => (P::HostInventoryCreateCluster, O::ClusterCreate),
        (Cluster, Rename | Move) => (P::HostInventoryEditCluster, O::ClusterUpdate),
        (Cluster, Delete) => (P::HostInventoryDeleteCluster, O::ClusterDelete),
        (Host, Move) => (P::HostInventoryMoveHost, O::HostUpdate),
        (Vm, Move) => (P::VirtualMachineInventoryMove, O::VmUpdate),
        (kind, change) => {
            let action = match change {
                Create => "created",
                Rename => "renamed",
                Move => "moved",
                Delete => "deleted",
            };
            let refusal = format!(
                "a {} cannot be {action} here: hosts are added (/api/hosts), VMs created and deleted (/api/vms), datastores and networks come from the hosts",
                kind.as_str()
            );
            // A kind to make is a bad request; an object that exists and is
            // not changed this way, a conflict.
            return Err(match change {
                Create => ApiError::bad_request(refusal),
                _ => ApiError::conflict(refusal),
            });
        }
    })
}

/// Creates a folder, datacenter or cluster.
#[utoipa::path(
    post,
    path = "/api/inventory",
    tag = "inventory",
    operation_id = "inventory_create",
    security(("session" = [])),
    request_body = InventoryCreate,
    responses(
        (status = 201, description = "The object, created", body = InventoryObject),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
pub async fn create(
    State(c): State<AppState>,
    caller: Caller,
    Body(req): Body<InventoryCreate>,
) -> ApiResult<(StatusCode, Json<InventoryObject>)> {
    let (needed, operation) = privilege(req.kind, Change::Create)?;
    authorize(&c, &caller, &req.parent, needed).await?;
    let created = match req.kind {
        ObjectKind::Folder => EventKind::FolderCreated,
        ObjectKind::Datacenter => EventKind::DatacenterCreated,
        _ => EventKind::ClusterCreated,
    };
    let done = (
        created,
        format!("Created {} {}", req.kind.as_str(), req.name),
    );
    let obj = as_task(
        &c,
        &caller,
        operation,
        (&req.parent, &req.name),
        done,
        async {
            Ok(inventory::create(
                &c.db,
                req.kind,
                &req.name,
                &req.parent,
                serde_json::json!({}),
            )
            .await?)
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(obj)))
}

/// Renames or moves an object.
#[utoipa::path(
    patch,
    path = "/api/inventory/{id}",
    tag = "inventory",
    operation_id = "inventory_update",
    security(("session" = [])),
    params(("id" = String, Path, description = "The object's id")),
    request_body = InventoryUpdate,
    responses(
        (status = 200, description = "The object, changed", body = InventoryObject),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
pub async fn update(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<InventoryUpdate>,
) -> ApiResult<Json<InventoryObject>> {
    authorize(&c, &caller, &id, VIEW).await?;
    let obj = inventory::get(&c.db, &id).await?;
    let mut operation = None;
    if req.name.is_some() {
        let (needed, op) = privilege(obj.kind, Change::Rename)?;
        authorize(&c, &caller, &id, needed).await?;
        operation = Some(op);
    }
    if let Some(parent) = &req.parent {
        let (needed, op) = privilege(obj.kind, Change::Move)?;
        authorize(&c, &caller, &id, needed).await?;
        operation = Some(op);
        authorize(&c, &caller, parent, Privilege::FolderCreate).await?;
    }
    let done = (
        EventKind::ObjectChanged,
        format!("Changed {} {}", obj.kind.as_str(), obj.name),
    );
    let operation =
        operation.ok_or_else(|| ApiError::bad_request("give a new name, a new parent, or both"))?;
    let updated = as_task(&c, &caller, operation, (&id, &obj.name), done, async {
        if let Some(name) = &req.name {
            inventory::rename(&c.db, &id, name).await?;
        }
        if let Some(parent) = &req.parent {
            inventory::move_to(&c.db, &id, parent).await?;
        }
        Ok(inventory::get(&c.db, &id).await?)
    })
    .await?;
    Ok(Json(updated))
}

/// Deletes a folder, datacenter or cluster.
#[utoipa::path(
    delete,
    path = "/api/inventory/{id}",
    tag = "inventory",
    operation_id = "inventory_delete",
    security(("session" = [])),
    params(("id" = String, Path, description = "The object's id")),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
pub async fn remove(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    authorize(&c, &caller, &id, VIEW).await?;
    let obj = inventory::get(&c.db, &id).await?;
    let (needed, operation) = privilege(obj.kind, Change::Delete)?;
    authorize(&c, &caller, &id, needed).await?;
    let done = (
        EventKind::ObjectRemoved,
        format!("Removed {} {}", obj.kind.as_str(), obj.name),
    );
    as_task(&c, &caller, operation, (&id, &obj.name), done, async {
        Ok(inventory::delete(&c.db, &id).await?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

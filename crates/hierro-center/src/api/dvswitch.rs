//! Distributed switches through the center: created on a datacenter,
//! changed, joined and left by hosts, deleted. Every change is a task that
//! stores the configuration and gives each connected member host its new
//! set; if one refuses, the others get the old one back, nothing stays
//! changed, and the error names the host. Disconnected members catch up
//! when they come back (`host_sync`).

use hierro_api::DvsCreateQuery;
use hierro_api::EventKind;
use hierro_api::Operation;
use hierro_api::Privilege;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hierro_api::{DistributedSwitch, DvsMember};
use hierro_http::Params;
use hierro_http::{ApiError, ApiResult, Body};

use super::privileges::{needs, on, Access};
use super::task::as_task;
use super::{
    authorize, AppState, BadRequest, Caller, Conflict, FailStep, Forbidden, NotFound, Unauthorized,
};
use crate::dvswitches::{self, Dvs};
use crate::inventory::{self, InventoryObject, ObjectKind};
use crate::ops;
use hierro_api::Privilege as P;

/// What each operation of this file needs (the document's "Privilege:" lines).
pub(super) const ACCESS: &[(&str, Access)] = &[
    (
        "dvswitch_create",
        needs(&[on(P::DVSwitchCreate, "the datacenter")]),
    ),
    (
        "dvswitch_update",
        needs(&[on(P::DVSwitchModify, "the switch")]),
    ),
    (
        "dvswitch_add_host",
        needs(&[
            on(P::DVSwitchModify, "the switch"),
            on(P::HostConfigNetwork, "the host"),
        ]),
    ),
    (
        "dvswitch_remove_host",
        needs(&[
            on(P::DVSwitchModify, "the switch"),
            on(P::HostConfigNetwork, "the host"),
        ]),
    ),
    (
        "dvswitch_delete",
        needs(&[on(P::DVSwitchDelete, "the switch")]),
    ),
];

/// Creates a distributed switch, with no member hosts yet.
#[utoipa::path(
    post,
    path = "/api/dvswitches",
    tag = "network",
    operation_id = "dvswitch_create",
    security(("session" = [])),
    params(DvsCreateQuery),
    request_body = DistributedSwitch,
    responses(
        (status = 201, description = "The switch, created", body = InventoryObject),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
pub async fn create(
    State(c): State<AppState>,
    caller: Caller,
    Params(at): Params<DvsCreateQuery>,
    Body(spec): Body<DistributedSwitch>,
) -> ApiResult<(StatusCode, Json<InventoryObject>)> {
    authorize(&c, &caller, &at.datacenter, Privilege::DVSwitchCreate).await?;
    let dc = inventory::get(&c.db, &at.datacenter).await?;
    if dc.kind != ObjectKind::Datacenter {
        return Err(ApiError::bad_request(format!(
            "{} is not a datacenter",
            dc.name
        )));
    }
    dvswitches::validate(&spec).map_err(ApiError::bad_request)?;
    let done = (
        EventKind::DvsCreated,
        format!("Created distributed switch {}", spec.name),
    );
    let data = Dvs {
        spec: spec.clone(),
        members: Default::default(),
        ports: Default::default(),
    }
    .data();
    let obj = as_task(
        &c,
        &caller,
        Operation::DvsCreate,
        (&dc.id, &spec.name),
        done,
        async {
            Ok(inventory::create(&c.db, ObjectKind::DvSwitch, &spec.name, &dc.id, data).await?)
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(obj)))
}

/// Replaces a switch's configuration (port groups, policies, teaming,
/// mirror sessions) and gives it to every member host.
#[utoipa::path(
    put,
    path = "/api/dvswitches/{id}",
    tag = "network",
    operation_id = "dvswitch_update",
    security(("session" = [])),
    params(("id" = String, Path, description = "The switch's object id")),
    request_body = DistributedSwitch,
    responses(
        (status = 200, description = "The switch, changed", body = InventoryObject),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
pub async fn update(
    State(c): State<AppState>,
    caller: Caller,
    fail: FailStep,
    Path(id): Path<String>,
    Body(spec): Body<DistributedSwitch>,
) -> ApiResult<Json<InventoryObject>> {
    authorize(&c, &caller, &id, Privilege::DVSwitchModify).await?;
    let what = format!("Changed distributed switch {}", spec.name);
    let change_ = (id.as_str(), Operation::DvsUpdate, what);
    let obj = change(&c, &caller, fail, change_, |mut d| {
        d.spec = spec;
        Ok(Some(d))
    })
    .await?;
    kept(obj)
}

/// Adds a host to a switch, or changes which of its NICs it gives the
/// switch's uplink ports.
#[utoipa::path(
    put,
    path = "/api/dvswitches/{id}/hosts/{host}",
    tag = "network",
    operation_id = "dvswitch_add_host",
    security(("session" = [])),
    params(
        ("id" = String, Path, description = "The switch's object id"),
        ("host" = String, Path, description = "The host's object id"),
    ),
    request_body = DvsMember,
    responses(
        (status = 200, description = "The switch, changed", body = InventoryObject),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
pub async fn add_host(
    State(c): State<AppState>,
    caller: Caller,
    fail: FailStep,
    Path((id, host)): Path<(String, String)>,
    Body(member): Body<DvsMember>,
) -> ApiResult<Json<InventoryObject>> {
    authorize(&c, &caller, &id, Privilege::DVSwitchModify).await?;
    let h = member_host(&c, &caller, &id, &host).await?;
    let what = format!("Host {} joined distributed switch", h.name);
    let change_ = (id.as_str(), Operation::DvsAddHost, what);
    let obj = change(&c, &caller, fail, change_, |mut d| {
        dvswitches::validate_member(&d.spec, &member.nics).map_err(ApiError::bad_request)?;
        d.members.insert(host.clone(), member.nics);
        Ok(Some(d))
    })
    .await?;
    kept(obj)
}

/// Takes a host out of a switch: it stops running it.
#[utoipa::path(
    delete,
    path = "/api/dvswitches/{id}/hosts/{host}",
    tag = "network",
    operation_id = "dvswitch_remove_host",
    security(("session" = [])),
    params(
        ("id" = String, Path, description = "The switch's object id"),
        ("host" = String, Path, description = "The host's object id"),
    ),
    responses(
        (status = 200, description = "The switch, changed", body = InventoryObject),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
pub async fn remove_host(
    State(c): State<AppState>,
    caller: Caller,
    fail: FailStep,
    Path((id, host)): Path<(String, String)>,
) -> ApiResult<Json<InventoryObject>> {
    authorize(&c, &caller, &id, Privilege::DVSwitchModify).await?;
    let h = member_host(&c, &caller, &id, &host).await?;
    let what = format!("Host {} left distributed switch", h.name);
    let change_ = (id.as_str(), Operation::DvsRemoveHost, what);
    let obj = change(&c, &caller, fail, change_, |mut d| {
        d.members
            .remove(&host)
            .ok_or_else(|| ApiError::not_found(format!("{} is not a member", h.name)))?;
        Ok(Some(d))
    })
    .await?;
    kept(obj)
}

/// Deletes a switch: every member host stops running it first (a host
/// with a VM on one of its port groups refuses, and nothing changes).
#[utoipa::path(
    delete,
    path = "/api/dvswitches/{id}",
    tag = "network",
    operation_id = "dvswitch_delete",
    security(("session" = [])),
    params(("id" = String, Path, description = "The switch's object id")),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
pub async fn delete(
    State(c): State<AppState>,
    caller: Caller,
    fail: FailStep,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    authorize(&c, &caller, &id, Privilege::DVSwitchDelete).await?;
    let obj = inventory::get(&c.db, &id).await?;
    let what = format!("Deleted distributed switch {}", obj.name);
    let change_ = (id.as_str(), Operation::DvsDelete, what);
    change(&c, &caller, fail, change_, |_| Ok(None)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The host a member operation names: a host of the switch's datacenter,
/// on which the caller may configure networking.
async fn member_host(
    c: &AppState,
    caller: &Caller,
    dvs: &str,
    host: &str,
) -> ApiResult<InventoryObject> {
    authorize(c, caller, host, Privilege::HostConfigNetwork).await?;
    let h = inventory::get(&c.db, host).await?;
    if h.kind != ObjectKind::Host {
        return Err(ApiError::not_found(format!(
            "no host {host}: {} is a {}",
            h.name,
            h.kind.as_str()
        )));
    }
    let (a, b) = (
        inventory::datacenter_of(&c.db, dvs).await?,
        inventory::datacenter_of(&c.db, host).await?,
    );
    if a.id != b.id {
        return Err(ApiError::bad_request(format!(
            "host {} is not in datacenter {}",
            h.name, a.name
        )));
    }
    Ok(h)
}

/// Changes a switch as `f` says (`f` gives none: deletes it), as a task
/// that ends before the answer: every connected member, before or after,
/// gets its new set; a refusal puts the old one back everywhere.
async fn change(
    c: &AppState,
    caller: &Caller,
    fail: FailStep,
    (id, operation, what): (&str, Operation, String),
    f: impl FnOnce(Dvs) -> ApiResult<Option<Dvs>>,
) -> ApiResult<Option<InventoryObject>> {
    let before = Dvs::of(&inventory::get(&c.db, id).await?)?;
    let after = f(before.clone())?;
    if let Some(after) = &after {
        dvswitches::validate(&after.spec).map_err(ApiError::bad_request)?;
    }
    let change = (id, operation, what);
    Ok(ops::dvswitch::reconfigure(c, caller, change, before, after, fail.0).await?)
}

/// The switch after a change that keeps it.
fn kept(obj: Option<InventoryObject>) -> ApiResult<Json<InventoryObject>> {
    obj.map(Json)
        .ok_or_else(|| ApiError::internal("the switch is gone"))
}

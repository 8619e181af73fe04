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
use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hierro_api::{DistributedSwitch, DvsMember};
use hierro_http::Params;
use hierro_http::{ApiError, ApiResult, Body};

use super::privileges::{needs, on, Access};
use super::task::as_task;
use super::{authorize, AppState, BadRequest, Caller, Conflict, Forbidden, NotFound, Unauthorized};
use crate::dvswitches::{self, Dvs};
use crate::inventory::{self, InventoryObject, ObjectKind};
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
    Path(id): Path<String>,
    Body(spec): Body<DistributedSwitch>,
) -> ApiResult<Json<InventoryObject>> {
    authorize(&c, &caller, &id, Privilege::DVSwitchModify).await?;
    let what = format!("Changed distributed switch {}", spec.name);
    let obj = change(&c, &caller, &id, Operation::DvsUpdate, what, |d| {
        d.spec = spec;
        Ok(())
    })
    .await?;
    Ok(Json(obj))
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
    Path((id, host)): Path<(String, String)>,
    Body(member): Body<DvsMember>,
) -> ApiResult<Json<InventoryObject>> {
    authorize(&c, &caller, &id, Privilege::DVSwitchModify).await?;
    let h = member_host(&c, &caller, &id, &host).await?;
    let what = format!("Host {} joined distributed switch", h.name);
    let obj = change(&c, &caller, &id, Operation::DvsAddHost, what, |d| {
        dvswitches::validate_member(&d.spec, &member.nics).map_err(ApiError::bad_request)?;
        d.members.insert(host.clone(), member.nics);
        Ok(())
    })
    .await?;
    Ok(Json(obj))
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
    Path((id, host)): Path<(String, String)>,
) -> ApiResult<Json<InventoryObject>> {
    authorize(&c, &caller, &id, Privilege::DVSwitchModify).await?;
    let h = member_host(&c, &caller, &id, &host).await?;
    let what = format!("Host {} left distributed switch", h.name);
    let obj = change(&c, &caller, &id, Operation::DvsRemoveHost, what, |d| {
        d.members
            .remove(&host)
            .map(|_| ())
            .ok_or_else(|| ApiError::not_found(format!("{} is not a member", h.name)))
    })
    .await?;
    Ok(Json(obj))
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
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    authorize(&c, &caller, &id, Privilege::DVSwitchDelete).await?;
    let obj = inventory::get(&c.db, &id).await?;
    let what = format!("Deleted distributed switch {}", obj.name);
    change(&c, &caller, &id, Operation::DvsDelete, what, |d| {
        d.members.clear();
        Ok(())
    })
    .await?;
    inventory::delete(&c.db, &id).await?;
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
        return Err(ApiError::bad_request(format!("{} is not a host", h.name)));
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

/// Changes a switch as `f` says, as a task: stores it and gives every
/// connected member (before or after) its new set; on a refusal, puts the
/// old configuration back everywhere.
async fn change(
    c: &AppState,
    caller: &Caller,
    id: &str,
    operation: Operation,
    what: String,
    f: impl FnOnce(&mut Dvs) -> ApiResult<()>,
) -> ApiResult<InventoryObject> {
    let obj = inventory::get(&c.db, id).await?;
    let before = Dvs::of(&obj)?;
    let mut after = before.clone();
    f(&mut after)?;
    dvswitches::validate(&after.spec).map_err(ApiError::bad_request)?;
    let done = (EventKind::DvsReconfigured, what);
    // The ports are the hosts' doing (`host_sync`): stored as they are now.
    let store = |mut d: Dvs| async move {
        d.ports = Dvs::of(&inventory::get(&c.db, id).await?)?.ports;
        inventory::set_data(&c.db, id, d.data()).await
    };
    as_task(c, caller, operation, (id, &obj.name), done, async {
        if after.spec.name != obj.name {
            inventory::rename(&c.db, id, &after.spec.name).await?;
        }
        store(after.clone()).await?;
        let hosts: BTreeSet<&String> = before.members.keys().chain(after.members.keys()).collect();
        let mut given = vec![];
        for host in hosts {
            let h = inventory::get(&c.db, host).await?;
            if h.data["state"] != "connected" {
                continue; // it gets its set when it comes back
            }
            if let Err(e) = dvswitches::push(&c.db, host).await {
                store(before.clone()).await?;
                if after.spec.name != obj.name {
                    inventory::rename(&c.db, id, &obj.name).await?;
                }
                for g in given {
                    if let Err(e) = dvswitches::push(&c.db, g).await {
                        tracing::warn!(host = g, "putting the distributed switches back: {e}");
                    }
                }
                return Err(ApiError::conflict(format!("host {}: {e}", h.name)));
            }
            given.push(host);
        }
        Ok(inventory::get(&c.db, id).await?)
    })
    .await
}

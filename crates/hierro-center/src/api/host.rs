//! Managed hosts through the API: add, disconnect, reconnect, remove,
//! lockdown, maintenance mode.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hierro_api::EventKind;
use hierro_api::Operation;
use hierro_api::Privilege;
use hierro_api::{HostNetwork, HostNetworkView, PortGroup};
use hierro_api::{Lockdown, Maintenance};
use hierro_http::{ApiError, ApiResult, Body};

use super::privileges::{needs, on, Access};
use super::task::as_outside_task;
use super::{
    authorize, AppState, BadRequest, Caller, Conflict, FailStep, Forbidden, HostFailed, NotFound,
    Unauthorized,
};
use crate::hosts::{self, AddHost, Reconnect};
use crate::inventory::{self, InventoryObject, ObjectKind};
use crate::ops::{self, evacuate, OpError};
use hierro_api::Privilege as P;

/// What each operation of this file needs (the document's "Privilege:" lines).
pub(super) const ACCESS: &[(&str, Access)] = &[
    (
        "host_add",
        needs(&[
            on(P::HostInventoryAddHostToCluster, "a cluster parent"),
            on(
                P::HostInventoryAddStandaloneHost,
                "a datacenter or folder parent",
            ),
        ]),
    ),
    ("host_network", needs(&[on(P::SystemRead, "the host")])),
    (
        "host_portgroup_add",
        needs(&[on(P::HostConfigNetwork, "the host")]),
    ),
    (
        "host_portgroup_set",
        needs(&[on(P::HostConfigNetwork, "the host")]),
    ),
    (
        "host_portgroup_remove",
        needs(&[on(P::HostConfigNetwork, "the host")]),
    ),
    (
        "host_disconnect",
        needs(&[on(P::HostConfigConnection, "the host")]),
    ),
    (
        "host_reconnect",
        needs(&[on(P::HostConfigConnection, "the host")]),
    ),
    (
        "host_remove",
        needs(&[on(P::HostInventoryRemoveHostFromCluster, "the host")]),
    ),
    (
        "host_lockdown",
        needs(&[on(P::HostConfigSettings, "the host")]),
    ),
    (
        "host_maintenance",
        needs(&[
            on(P::HostConfigMaintenance, "the host"),
            on(P::ResourceHotMigrate, "each running VM it moves"),
            on(P::ResourceColdMigrate, "each powered-off VM it moves"),
        ]),
    ),
];

/// Adds a host and starts following it.
#[utoipa::path(
    post,
    path = "/api/hosts",
    tag = "hosts",
    operation_id = "host_add",
    description = "Without `thumbprint` the answer is a 400 `thumbprint_required` whose `details.thumbprint` is the host's, to confirm.",
    security(("session" = [])),
    request_body = AddHost,
    responses(
        (status = 201, description = "The host's inventory object", body = InventoryObject),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn add(
    State(c): State<AppState>,
    caller: Caller,
    fail: FailStep,
    Body(req): Body<AddHost>,
) -> ApiResult<(StatusCode, Json<InventoryObject>)> {
    let parent = inventory::get(&c.db, &req.parent).await?;
    let needed = if parent.kind == ObjectKind::Cluster {
        Privilege::HostInventoryAddHostToCluster
    } else {
        Privilege::HostInventoryAddStandaloneHost
    };
    authorize(&c, &caller, &req.parent, needed).await?;
    let host = ops::add_host::add(&c, &caller, req, fail.0).await?;
    Ok((StatusCode::CREATED, Json(host)))
}

/// The host object, checked to be a host the caller may see.
async fn managed(
    c: &AppState,
    caller: &Caller,
    id: &str,
    privilege: Privilege,
) -> ApiResult<InventoryObject> {
    authorize(c, caller, id, privilege).await?;
    let host = inventory::get(&c.db, id).await?;
    if host.kind != ObjectKind::Host {
        return Err(ApiError::not_found(format!(
            "no host {id}: {} is a {}",
            host.name,
            host.kind.as_str()
        )));
    }
    Ok(host)
}

/// The host's virtual switches, port groups, VMkernel ports, mirror
/// sessions and distributed switches, with its ports' live counters.
#[utoipa::path(
    get,
    path = "/api/hosts/{id}/network",
    tag = "hosts",
    operation_id = "host_network",
    security(("session" = [])),
    params(("id" = String, Path, description = "The host's object id")),
    responses(
        (status = 200, description = "The host's network", body = HostNetworkView),
        BadRequest, Unauthorized, Forbidden, NotFound, HostFailed,
    )
)]
pub async fn network(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HostNetworkView>> {
    managed(&c, &caller, &id, Privilege::SystemRead).await?;
    let client = hosts::client(&c.db, &id).await?;
    let (network, ports) =
        tokio::try_join!(client.network(), client.ports()).map_err(OpError::from)?;
    Ok(Json(HostNetworkView { network, ports }))
}

/// Adds a port group to one of the host's standard switches.
#[utoipa::path(
    post,
    path = "/api/hosts/{id}/network/portgroups",
    tag = "hosts",
    operation_id = "host_portgroup_add",
    description = "The host's own `POST /api/network/portgroups`, as a task; its refusal is the answer.",
    security(("session" = [])),
    params(("id" = String, Path, description = "The host's object id")),
    request_body = PortGroup,
    responses(
        (status = 201, description = "The host's network now", body = HostNetwork),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn add_portgroup(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(g): Body<PortGroup>,
) -> ApiResult<(StatusCode, Json<HostNetwork>)> {
    let what = format!("Added port group {} (VLAN {})", g.name, g.vlan);
    let net = change_network(&c, &caller, &id, what, |client| async move {
        client.add_portgroup(&g).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(net)))
}

/// Changes a port group of the host's (its VLAN, policies or switch).
#[utoipa::path(
    put,
    path = "/api/hosts/{id}/network/portgroups/{name}",
    tag = "hosts",
    operation_id = "host_portgroup_set",
    description = "The host's own `PUT /api/network/portgroups/{name}`, as a task.",
    security(("session" = [])),
    params(
        ("id" = String, Path, description = "The host's object id"),
        ("name" = String, Path, description = "The port group"),
    ),
    request_body = PortGroup,
    responses(
        (status = 200, description = "The host's network now", body = HostNetwork),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn set_portgroup(
    State(c): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
    Body(g): Body<PortGroup>,
) -> ApiResult<Json<HostNetwork>> {
    hierro_http::same_name(&name, &g.name)?;
    let what = format!("Changed port group {} (VLAN {})", g.name, g.vlan);
    let net = change_network(&c, &caller, &id, what, |client| async move {
        client.set_portgroup(&g).await
    })
    .await?;
    Ok(Json(net))
}

/// Removes a port group of the host's (refused while something uses it).
#[utoipa::path(
    delete,
    path = "/api/hosts/{id}/network/portgroups/{name}",
    tag = "hosts",
    operation_id = "host_portgroup_remove",
    description = "The host's own `DELETE /api/network/portgroups/{name}`, as a task.",
    security(("session" = [])),
    params(
        ("id" = String, Path, description = "The host's object id"),
        ("name" = String, Path, description = "The port group"),
    ),
    responses(
        (status = 200, description = "The host's network now", body = HostNetwork),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn remove_portgroup(
    State(c): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Json<HostNetwork>> {
    let what = format!("Removed port group {name}");
    let net = change_network(&c, &caller, &id, what, |client| async move {
        client.remove_portgroup(&name).await
    })
    .await?;
    Ok(Json(net))
}

/// A change of a host's network through its own API, as a center task
/// whose event says what changed. The inventory follows through the
/// host's change feed.
async fn change_network<F, Fut>(
    c: &AppState,
    caller: &Caller,
    id: &str,
    what: String,
    change: F,
) -> ApiResult<HostNetwork>
where
    F: FnOnce(hierro_client::Client) -> Fut,
    Fut: std::future::Future<Output = Result<HostNetwork, hierro_client::ClientError>>,
{
    let host = managed(c, caller, id, Privilege::HostConfigNetwork).await?;
    let done = (
        EventKind::HostNetworkChanged,
        format!("{what} on {}", host.name),
    );
    as_outside_task(
        c,
        caller,
        Operation::HostNetwork,
        (id, &host.name),
        done,
        async {
            let client = hosts::client(&c.db, id).await?;
            Ok(change(client).await.map_err(OpError::from)?)
        },
    )
    .await
}

/// Stops following a host; it stays in the inventory.
#[utoipa::path(
    post,
    path = "/api/hosts/{id}/disconnect",
    tag = "hosts",
    operation_id = "host_disconnect",
    security(("session" = [])),
    params(("id" = String, Path, description = "The host's object id")),
    responses(
        (status = 204, description = "Disconnected"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
pub async fn disconnect(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let host = managed(&c, &caller, &id, Privilege::HostConfigConnection).await?;
    let done = (
        EventKind::HostDisconnected,
        format!("Disconnected host {}", host.name),
    );
    as_outside_task(
        &c,
        &caller,
        Operation::HostDisconnect,
        (&id, &host.name),
        done,
        async {
            c.followers.stop(&id);
            Ok(hosts::disconnect(&c.db, &id, &caller.user).await?)
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Follows a host again, with new credentials or a new thumbprint if given.
#[utoipa::path(
    post,
    path = "/api/hosts/{id}/reconnect",
    tag = "hosts",
    operation_id = "host_reconnect",
    security(("session" = [])),
    params(("id" = String, Path, description = "The host's object id")),
    request_body = Reconnect,
    responses(
        (status = 204, description = "Reconnected"),
        BadRequest, Unauthorized, Forbidden, NotFound, HostFailed,
    )
)]
pub async fn reconnect(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<Reconnect>,
) -> ApiResult<StatusCode> {
    let host = managed(&c, &caller, &id, Privilege::HostConfigConnection).await?;
    let done = (
        EventKind::HostReconnectRequested,
        format!("Reconnecting host {}", host.name),
    );
    as_outside_task(
        &c,
        &caller,
        Operation::HostReconnect,
        (&id, &host.name),
        done,
        async {
            hosts::reconnect(&c.db, &id, &req)
                .await
                .map_err(OpError::from)?;
            c.followers.start(&c.db, &id);
            Ok(())
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a host, and all it reported, out of the inventory; its VMs keep
/// running on it.
#[utoipa::path(
    delete,
    path = "/api/hosts/{id}",
    tag = "hosts",
    operation_id = "host_remove",
    security(("session" = [])),
    params(("id" = String, Path, description = "The host's object id")),
    responses(
        (status = 204, description = "Removed"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
pub async fn remove(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let host = managed(
        &c,
        &caller,
        &id,
        Privilege::HostInventoryRemoveHostFromCluster,
    )
    .await?;
    let done = (
        EventKind::HostRemoved,
        format!("Removed host {}", host.name),
    );
    as_outside_task(
        &c,
        &caller,
        Operation::HostRemove,
        (&id, &host.name),
        done,
        async {
            c.followers.stop(&id);
            Ok(hosts::remove(&c.db, &id).await?)
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turns the host's lockdown mode on or off.
#[utoipa::path(
    put,
    path = "/api/hosts/{id}/lockdown",
    tag = "hosts",
    operation_id = "host_lockdown",
    security(("session" = [])),
    params(("id" = String, Path, description = "The host's object id")),
    request_body = Lockdown,
    responses(
        (status = 204, description = "Changed"),
        BadRequest, Unauthorized, Forbidden, NotFound, HostFailed,
    )
)]
pub async fn lockdown(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<Lockdown>,
) -> ApiResult<StatusCode> {
    let host = managed(&c, &caller, &id, Privilege::HostConfigSettings).await?;
    let word = if req.enabled { "Enabled" } else { "Disabled" };
    let done = (
        EventKind::HostLockdownChanged,
        format!("{word} lockdown mode on host {}", host.name),
    );
    as_outside_task(
        &c,
        &caller,
        Operation::HostLockdown,
        (&id, &host.name),
        done,
        async {
            let set = hosts::set_lockdown(&c.db, &id, req.enabled).await;
            Ok(set.map_err(OpError::from)?)
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enters maintenance mode: the host takes no new VMs and no power-on, and
/// every running VM moves by vMotion, one after the other, to the host of
/// the cluster with the most memory left that can take it; with
/// `move_powered_off`, the powered-off VMs then move by cold migration to
/// the host with the most memory left. If one cannot move, the host leaves
/// maintenance mode again and the task fails. Exiting just lifts the mark.
#[utoipa::path(
    put,
    path = "/api/hosts/{id}/maintenance",
    tag = "hosts",
    operation_id = "host_maintenance",
    security(("session" = [])),
    params(("id" = String, Path, description = "The host's object id")),
    request_body = Maintenance,
    responses(
        (status = 202, description = "The task, running", body = hierro_api::Task),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
pub async fn maintenance(
    State(c): State<AppState>,
    caller: Caller,
    fail: FailStep,
    Path(id): Path<String>,
    Body(req): Body<Maintenance>,
) -> ApiResult<(StatusCode, Json<hierro_api::Task>)> {
    let host = managed(&c, &caller, &id, Privilege::HostConfigMaintenance).await?;
    let task = if req.enabled {
        let evacuation = evacuate::plan(&c, &caller, host, req.move_powered_off).await?;
        evacuate::enter(&c, &caller, evacuation, fail.0).await?
    } else {
        evacuate::exit(&c, &caller, &host).await?
    };
    Ok((StatusCode::ACCEPTED, Json(task)))
}

//! The host's virtual network: switches, port groups, VMkernel ports, port
//! counters and captures. Each change is checked as a whole, saved, and
//! applied to vswitchd; a refused change changes nothing.

use axum::body::Body as HttpBody;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::Json;
use hierro_api::{
    CaptureRequest, HostNetwork, HostProxySwitch, MirrorSession, PortGroup, PortList, Task,
    VSwitch, VmkNic,
};
use hierro_vswitch::control::{Request, Response as VsResponse};

use super::{AppState, BadRequest, Body, Caller, Conflict, HostFailed, NotFound, Unauthorized};
use hierro_http::{ApiError, ApiResult, Items, PathArgs};
use uuid::Uuid;

use crate::error::HostError;
use crate::net::{edit, Edit};

#[utoipa::path(
    get,
    path = "/api/network",
    tag = "network",
    operation_id = "network_get",
    description = "The host's switches, port groups, VMkernel ports and mirror sessions.",
    security(("session" = [])),
    responses((status = 200, description = "The configuration", body = HostNetwork), Unauthorized)
)]
pub async fn get(State(host): State<AppState>, _c: Caller) -> Json<HostNetwork> {
    Json(host.network())
}

#[utoipa::path(
    post,
    path = "/api/network/vswitches",
    tag = "network",
    operation_id = "vswitch_add",
    description = "Adds a standard switch.",
    security(("session" = [])),
    request_body = VSwitch,
    responses((status = 201, description = "The host's network configuration, as changed", body = HostNetwork), BadRequest, Unauthorized, Conflict)
)]
pub async fn add_vswitch(
    State(host): State<AppState>,
    c: Caller,
    Body(v): Body<VSwitch>,
) -> ApiResult<(StatusCode, Json<HostNetwork>)> {
    let name = v.name.clone();
    let net = host
        .change_network(&c.user, format!("Added vswitch {name}"), |n| {
            edit(
                &mut n.vswitches,
                &name,
                Edit::Add(v),
                |x| &x.name,
                "vswitch",
            )
        })
        .await?;
    Ok((StatusCode::CREATED, Json(net)))
}

#[utoipa::path(
    put,
    path = "/api/network/vswitches/{name}",
    tag = "network",
    operation_id = "vswitch_set",
    description = "Changes a standard switch: uplinks, MTU, teaming, security.",
    security(("session" = [])),
    params(("name" = String, Path, description = "The switch's name")),
    request_body = VSwitch,
    responses((status = 200, description = "The host's network configuration, as changed", body = HostNetwork), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn set_vswitch(
    State(host): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
    Body(v): Body<VSwitch>,
) -> ApiResult<Json<HostNetwork>> {
    hierro_http::same_name(&name, &v.name)?;
    let net = host
        .change_network(&c.user, format!("Changed vswitch {name}"), |n| {
            edit(
                &mut n.vswitches,
                &name,
                Edit::Set(v),
                |x| &x.name,
                "vswitch",
            )
        })
        .await?;
    Ok(Json(net))
}

#[utoipa::path(
    delete,
    path = "/api/network/vswitches/{name}",
    tag = "network",
    operation_id = "vswitch_remove",
    description = "Removes a standard switch that no port group uses.",
    security(("session" = [])),
    params(("name" = String, Path, description = "The switch's name")),
    responses((status = 200, description = "The host's network configuration, as changed", body = HostNetwork), Unauthorized, NotFound, Conflict)
)]
pub async fn remove_vswitch(
    State(host): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<HostNetwork>> {
    let net = host
        .change_network(&c.user, format!("Removed vswitch {name}"), |n| {
            if let Some(g) = n.portgroups.iter().find(|g| g.vswitch == name) {
                return Err(HostError::conflict(format!(
                    "vswitch {name} still has port group {:?}",
                    g.name
                )));
            }
            edit(
                &mut n.vswitches,
                &name,
                Edit::Remove,
                |x| &x.name,
                "vswitch",
            )
        })
        .await?;
    Ok(Json(net))
}

#[utoipa::path(
    post,
    path = "/api/network/portgroups",
    tag = "network",
    operation_id = "portgroup_add",
    description = "Adds a port group to a standard switch.",
    security(("session" = [])),
    request_body = PortGroup,
    responses((status = 201, description = "The host's network configuration, as changed", body = HostNetwork), BadRequest, Unauthorized, Conflict)
)]
pub async fn add_portgroup(
    State(host): State<AppState>,
    c: Caller,
    Body(mut g): Body<PortGroup>,
) -> ApiResult<(StatusCode, Json<HostNetwork>)> {
    g.name = hierro_api::display_name("port group name", &g.name).map_err(ApiError::bad_request)?;
    let name = g.name.clone();
    let net = host
        .change_network(
            &c.user,
            format!("Added port group {name} (VLAN {})", g.vlan),
            |n| {
                edit(
                    &mut n.portgroups,
                    &name,
                    Edit::Add(g),
                    |x| &x.name,
                    "port group",
                )
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(net)))
}

#[utoipa::path(
    put,
    path = "/api/network/portgroups/{name}",
    tag = "network",
    operation_id = "portgroup_set",
    description = "Changes a port group: VLAN and policy overrides.",
    security(("session" = [])),
    params(("name" = String, Path, description = "The port group's name")),
    request_body = PortGroup,
    responses((status = 200, description = "The host's network configuration, as changed", body = HostNetwork), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn set_portgroup(
    State(host): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
    Body(g): Body<PortGroup>,
) -> ApiResult<Json<HostNetwork>> {
    hierro_http::same_name(&name, &g.name)?;
    let net = host
        .change_network(&c.user, format!("Changed port group {name}"), |n| {
            edit(
                &mut n.portgroups,
                &name,
                Edit::Set(g),
                |x| &x.name,
                "port group",
            )
        })
        .await?;
    Ok(Json(net))
}

#[utoipa::path(
    delete,
    path = "/api/network/portgroups/{name}",
    tag = "network",
    operation_id = "portgroup_remove",
    description = "Removes a port group that no VM uses.",
    security(("session" = [])),
    params(("name" = String, Path, description = "The port group's name")),
    responses((status = 200, description = "The host's network configuration, as changed", body = HostNetwork), Unauthorized, NotFound, Conflict)
)]
pub async fn remove_portgroup(
    State(host): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<HostNetwork>> {
    let net = host
        .change_network(&c.user, format!("Removed port group {name}"), |n| {
            if let Some(k) = n.vmknics.iter().find(|k| k.portgroup == name) {
                return Err(HostError::conflict(format!(
                    "port group {name:?} is in use by {}",
                    k.name
                )));
            }
            edit(
                &mut n.portgroups,
                &name,
                Edit::Remove,
                |x| &x.name,
                "port group",
            )
        })
        .await?;
    Ok(Json(net))
}

#[utoipa::path(
    post,
    path = "/api/network/mirrors",
    tag = "network",
    operation_id = "mirror_add",
    description = "Adds a port mirroring session (SPAN, RSPAN or ERSPAN).",
    security(("session" = [])),
    request_body = MirrorSession,
    responses((status = 201, description = "The host's network configuration, as changed", body = HostNetwork), BadRequest, Unauthorized, Conflict)
)]
pub async fn add_mirror(
    State(host): State<AppState>,
    c: Caller,
    Body(m): Body<MirrorSession>,
) -> ApiResult<(StatusCode, Json<HostNetwork>)> {
    let name = m.name.clone();
    let net = host
        .change_network(&c.user, format!("Added mirror session {name}"), |n| {
            edit(
                &mut n.mirrors,
                &name,
                Edit::Add(m),
                |x| &x.name,
                "mirror session",
            )
        })
        .await?;
    Ok((StatusCode::CREATED, Json(net)))
}

#[utoipa::path(
    put,
    path = "/api/network/mirrors/{name}",
    tag = "network",
    operation_id = "mirror_set",
    description = "Changes a mirroring session.",
    security(("session" = [])),
    params(("name" = String, Path, description = "The session's name")),
    request_body = MirrorSession,
    responses((status = 200, description = "The host's network configuration, as changed", body = HostNetwork), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn set_mirror(
    State(host): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
    Body(m): Body<MirrorSession>,
) -> ApiResult<Json<HostNetwork>> {
    hierro_http::same_name(&name, &m.name)?;
    let net = host
        .change_network(&c.user, format!("Changed mirror session {name}"), |n| {
            edit(
                &mut n.mirrors,
                &name,
                Edit::Set(m),
                |x| &x.name,
                "mirror session",
            )
        })
        .await?;
    Ok(Json(net))
}

#[utoipa::path(
    delete,
    path = "/api/network/mirrors/{name}",
    tag = "network",
    operation_id = "mirror_remove",
    description = "Removes a mirroring session.",
    security(("session" = [])),
    params(("name" = String, Path, description = "The session's name")),
    responses((status = 200, description = "The host's network configuration, as changed", body = HostNetwork), Unauthorized, NotFound)
)]
pub async fn remove_mirror(
    State(host): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<HostNetwork>> {
    let net = host
        .change_network(&c.user, format!("Removed mirror session {name}"), |n| {
            edit(
                &mut n.mirrors,
                &name,
                Edit::Remove,
                |x| &x.name,
                "mirror session",
            )
        })
        .await?;
    Ok(Json(net))
}

/// The distributed switches this host is a member of, as its center wants
/// them: the whole set, replacing what it had.
#[utoipa::path(
    put,
    path = "/api/network/distributed",
    tag = "network",
    operation_id = "distributed_set",
    description = "The distributed switches this host is a member of, as their center pushes them.",
    security(("session" = [])),
    request_body = Vec<HostProxySwitch>,
    responses((status = 200, description = "The host's network configuration, as changed", body = HostNetwork), BadRequest, Unauthorized, Conflict)
)]
pub async fn set_distributed(
    State(host): State<AppState>,
    c: Caller,
    Items(list): Items<HostProxySwitch>,
) -> ApiResult<Json<HostNetwork>> {
    let names: Vec<&str> = list.iter().map(|d| d.switch.name.as_str()).collect();
    let what = format!("Distributed switches now: [{}]", names.join(", "));
    let net = host
        .change_network(&c.user, what, |n| {
            n.distributed = list;
            Ok(())
        })
        .await?;
    Ok(Json(net))
}

#[utoipa::path(
    post,
    path = "/api/network/vmknics",
    tag = "network",
    operation_id = "vmknic_add",
    description = "Adds a VMkernel port (management, vMotion...) on a port group.",
    security(("session" = [])),
    request_body = VmkNic,
    responses((status = 201, description = "The host's network configuration, as changed", body = HostNetwork), BadRequest, Unauthorized, Conflict)
)]
pub async fn add_vmknic(
    State(host): State<AppState>,
    c: Caller,
    Body(mut k): Body<VmkNic>,
) -> ApiResult<(StatusCode, Json<HostNetwork>)> {
    if let Some(mac) = &k.mac {
        k.mac = Some(crate::vm::spec::parse_mac(mac).map_err(ApiError::bad_request)?);
    }
    let name = k.name.clone();
    let net = host
        .change_network(&c.user, format!("Added VMkernel port {name}"), |n| {
            edit(
                &mut n.vmknics,
                &name,
                Edit::Add(k),
                |x| &x.name,
                "VMkernel port",
            )?;
            crate::net::complete(n);
            Ok(())
        })
        .await?;
    Ok((StatusCode::CREATED, Json(net)))
}

#[utoipa::path(
    delete,
    path = "/api/network/vmknics/{name}",
    tag = "network",
    operation_id = "vmknic_remove",
    description = "Removes a VMkernel port.",
    security(("session" = [])),
    params(("name" = String, Path, description = "The VMkernel port's name")),
    responses((status = 200, description = "The host's network configuration, as changed", body = HostNetwork), Unauthorized, NotFound, Conflict)
)]
pub async fn remove_vmknic(
    State(host): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<HostNetwork>> {
    let net = host
        .change_network(&c.user, format!("Removed VMkernel port {name}"), |n| {
            edit(
                &mut n.vmknics,
                &name,
                Edit::Remove,
                |x| &x.name,
                "VMkernel port",
            )
        })
        .await?;
    Ok(Json(net))
}

#[utoipa::path(
    get,
    path = "/api/network/ports",
    tag = "network",
    operation_id = "port_list",
    description = "The switch ports now, with their counters, learned addresses and mirror sessions.",
    security(("session" = [])),
    responses((status = 200, description = "The ports", body = PortList), Unauthorized, HostFailed)
)]
pub async fn ports(State(host): State<AppState>, _c: Caller) -> ApiResult<Json<PortList>> {
    match host
        .vswitchd
        .request(Request::Stats)
        .await
        .map_err(ApiError::backend)?
    {
        VsResponse::Stats {
            ports,
            learned,
            mirrors,
        } => Ok(Json(PortList {
            ports,
            learned,
            mirrors,
        })),
        other => Err(ApiError::backend(format!("vswitchd answered {other:?}"))),
    }
}

/// Starts capturing a port's frames (pktcap-uw) as a task.
#[utoipa::path(
    post,
    path = "/api/network/capture",
    tag = "network",
    operation_id = "port_capture",
    description = "Starts capturing a port's frames into a pcap file, as a task: it ends after `packets` frames or `seconds` seconds (at most 1000000 and 100) or at 512 MiB, and its result says where to download the file (kept an hour). At most 4 captures run at once. Cancelling the task ends it and discards the file.",
    security(("session" = [])),
    request_body = CaptureRequest,
    responses((status = 202, description = "The task, running; its result is a CaptureResult", body = Task), BadRequest, Unauthorized, NotFound, Conflict, HostFailed)
)]
pub async fn capture(
    State(host): State<AppState>,
    c: Caller,
    Body(req): Body<CaptureRequest>,
) -> ApiResult<(StatusCode, Json<Task>)> {
    let task = crate::net::capture::start(&host, req, &c.user).await?;
    Ok((StatusCode::ACCEPTED, Json(task)))
}

/// A finished capture's pcap file.
#[utoipa::path(
    get,
    path = "/api/network/captures/{task}",
    tag = "network",
    operation_id = "capture_download",
    description = "The pcap file of a capture task that succeeded.",
    security(("session" = [])),
    params(("task" = Uuid, Path, description = "The capture task's id")),
    responses((status = 200, description = "The pcap file", content_type = "application/vnd.tcpdump.pcap"), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn capture_download(
    State(host): State<AppState>,
    _c: Caller,
    PathArgs(task): PathArgs<Uuid>,
) -> ApiResult<Response> {
    let path = crate::net::capture::finished(&host, task)?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ApiError::internal(format!("capture {}: {e}", task)))?;
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    Response::builder()
        .header(header::CONTENT_TYPE, "application/vnd.tcpdump.pcap")
        .header(header::CONTENT_LENGTH, len)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"capture-{}.pcap\"", task),
        )
        .body(HttpBody::from_stream(tokio_util::io::ReaderStream::new(
            file,
        )))
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Deletes a finished capture's file.
#[utoipa::path(
    delete,
    path = "/api/network/captures/{task}",
    tag = "network",
    operation_id = "capture_delete",
    description = "Deletes the pcap file of a capture task that succeeded.",
    security(("session" = [])),
    params(("task" = Uuid, Path, description = "The capture task's id")),
    responses((status = 204, description = "Deleted"), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn capture_delete(
    State(host): State<AppState>,
    _c: Caller,
    PathArgs(task): PathArgs<Uuid>,
) -> ApiResult<StatusCode> {
    crate::net::capture::remove(&host, task)?;
    Ok(StatusCode::NO_CONTENT)
}

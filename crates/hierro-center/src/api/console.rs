//! A VM's consoles through the center: the host's serial console and
//! graphical console (VNC) WebSockets relayed, and its screenshots.

use axum::extract::ws::{Message, WebSocket};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::{SinkExt, StreamExt};
use hierro_api::Privilege;
use hierro_api::{ConsoleTicket, TicketAt};
use hierro_http::ApiResult;
use tokio_tungstenite::tungstenite::Message as HostMessage;

use super::privileges::{needs, on, Access};
use super::{
    vm_ref, AppState, BadRequest, Caller, Conflict, Forbidden, HostFailed, NotFound, Session,
    Unauthorized,
};
use crate::hosts;
use crate::ops::OpError;
use hierro_api::Privilege as P;
use hierro_api::VmKey;

/// What each operation of this file needs (the document's "Privilege:" lines).
pub(super) const ACCESS: &[(&str, Access)] = &[
    (
        "vm_console",
        needs(&[on(P::VirtualMachineInteractConsoleInteract, "the VM")]),
    ),
    (
        "vm_console_ticket",
        needs(&[on(P::VirtualMachineInteractConsoleInteract, "the VM")]),
    ),
    (
        "vm_vnc",
        needs(&[on(P::VirtualMachineInteractConsoleInteract, "the VM")
            .when("for the ticket's session, checked again")]),
    ),
    (
        "vm_screenshot",
        needs(&[on(P::VirtualMachineInteractConsoleInteract, "the VM")]),
    ),
];

/// The VM's serial console: the host's console WebSocket, relayed.
#[utoipa::path(
    get,
    path = "/api/vms/{vm}/console",
    tag = "vms",
    operation_id = "vm_console",
    description = "A WebSocket (send the upgrade headers): binary frames carry the console's bytes both ways. Browsers, which cannot set headers on a WebSocket, may give the session as the `session` query parameter instead.",
    security(("session" = [])),
    params(VmKey),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol"),
        BadRequest, Unauthorized, Forbidden, NotFound, HostFailed,
    )
)]
pub async fn console(
    State(c): State<AppState>,
    caller: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
    hierro_http::Upgrade(ws): hierro_http::Upgrade,
) -> ApiResult<Response> {
    let vm = vm_ref(
        &c,
        &caller,
        &key,
        Privilege::VirtualMachineInteractConsoleInteract,
    )
    .await?;
    let client = hosts::client(&c.db, &vm.host).await?;
    // Connected before the upgrade, so that a refusal is a clear answer.
    let host = client.console(&vm.vm_id).await.map_err(OpError::from)?;
    Ok(ws.on_upgrade(move |socket| relay(socket, host)))
}

/// What the VM's display shows now, from its host.
#[utoipa::path(
    get,
    path = "/api/vms/{vm}/screenshot",
    tag = "vms",
    operation_id = "vm_screenshot",
    description = "What the VM's display shows now, as a PNG.",
    security(("session" = [])),
    params(VmKey),
    responses(
        (status = 200, description = "The picture", content_type = "image/png", body = Vec<u8>),
        Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn screenshot(
    State(c): State<AppState>,
    caller: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
) -> ApiResult<Response> {
    let vm = vm_ref(&c, &caller, &key, P::VirtualMachineInteractConsoleInteract).await?;
    let client = hosts::client(&c.db, &vm.host).await?;
    let png = client.screenshot(&vm.vm_id).await.map_err(OpError::from)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// A one-time ticket to the VM's graphical console.
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/console/ticket",
    tag = "vms",
    operation_id = "vm_console_ticket",
    description = "A one-time ticket to the VM's graphical console: `path` opens it once, within a minute, while this session lasts.",
    security(("session" = [])),
    params(VmKey),
    responses(
        (status = 200, description = "The ticket", body = ConsoleTicket),
        Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn ticket(
    State(c): State<AppState>,
    session: Session,
    Path(VmKey { vm: key }): Path<VmKey>,
) -> ApiResult<Json<ConsoleTicket>> {
    let vm = vm_ref(
        &c,
        &session.caller,
        &key,
        P::VirtualMachineInteractConsoleInteract,
    )
    .await?;
    Ok(Json(
        c.console_tickets.console(vm.object.id, &session.token),
    ))
}

/// The VM's graphical console: the host's VNC WebSocket, relayed.
#[utoipa::path(
    get,
    path = "/api/vms/{vm}/vnc",
    tag = "vms",
    operation_id = "vm_vnc",
    description = "The VM's graphical console as a WebSocket (subprotocol `binary`, as noVNC asks): its VNC (RFB) bytes in binary frames both ways. Opened with a ticket from `POST /api/vms/{vm}/console/ticket`, not the session.",
    params(VmKey, TicketAt),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn vnc(
    State(c): State<AppState>,
    Path(VmKey { vm: key }): Path<VmKey>,
    hierro_http::Params(TicketAt { ticket }): hierro_http::Params<TicketAt>,
    hierro_http::Upgrade(ws): hierro_http::Upgrade,
) -> ApiResult<Response> {
    let session = c.console_tickets.open_console(&ticket, &key)?;
    // The session must still be good, and its user still allowed.
    let session = Session::of(&c, session).await?;
    let vm = vm_ref(
        &c,
        &session.caller,
        &key,
        P::VirtualMachineInteractConsoleInteract,
    )
    .await?;
    let client = hosts::client(&c.db, &vm.host).await?;
    let host = client.vnc(&vm.vm_id).await.map_err(OpError::from)?;
    Ok(ws
        .protocols(["binary"])
        .on_upgrade(move |socket| relay(socket, host)))
}

async fn relay<S>(socket: WebSocket, host: tokio_tungstenite::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut to_user, mut from_user) = socket.split();
    let (mut to_host, mut from_host) = host.split();
    let down = async {
        while let Some(Ok(msg)) = from_host.next().await {
            let msg = match msg {
                HostMessage::Binary(b) => Message::Binary(b),
                HostMessage::Text(t) => Message::Text(t.as_str().into()),
                HostMessage::Close(_) => return,
                _ => continue,
            };
            if to_user.send(msg).await.is_err() {
                return;
            }
        }
    };
    let up = async {
        while let Some(Ok(msg)) = from_user.next().await {
            let msg = match msg {
                Message::Binary(b) => HostMessage::Binary(b),
                Message::Text(t) => HostMessage::Text(t.as_str().into()),
                Message::Close(_) => return,
                _ => continue,
            };
            if to_host.send(msg).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = down => {}
        _ = up => {}
    }
}

//! A VM's graphical console: screenshots, and its VNC server relayed over a
//! WebSocket opened with a one-time ticket.

use axum::extract::ws::{Message, WebSocket};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::{SinkExt, StreamExt};
use hierro_api::{ConsoleTicket, TicketAt, VmKey};
use hierro_http::ApiResult;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use super::{AppState, BadRequest, Caller, Conflict, NotFound, Unauthorized};

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
        Unauthorized, NotFound, Conflict
    )
)]
pub async fn screenshot(
    State(host): State<AppState>,
    _c: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
) -> ApiResult<Response> {
    let png = host.vms.find(&key)?.screenshot().await?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

#[utoipa::path(
    post,
    path = "/api/vms/{vm}/console/ticket",
    tag = "vms",
    operation_id = "vm_console_ticket",
    description = "A one-time ticket to the VM's graphical console: `path` opens it once, within a minute, while this session lasts.",
    security(("session" = [])),
    params(VmKey),
    responses((status = 200, description = "The ticket", body = ConsoleTicket), Unauthorized, NotFound, Conflict)
)]
pub async fn ticket(
    State(host): State<AppState>,
    c: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
) -> ApiResult<Json<ConsoleTicket>> {
    let vm = host.vms.find(&key)?;
    // Refused now if there is nothing to open.
    drop(vm.vnc().await?);
    Ok(Json(host.console_tickets.console(vm.id, &c.session)))
}

#[utoipa::path(
    get,
    path = "/api/vms/{vm}/vnc",
    tag = "vms",
    operation_id = "vm_vnc",
    description = "The VM's graphical console as a WebSocket (subprotocol `binary`, as noVNC asks): its VNC (RFB) bytes in binary frames both ways. Opened with a ticket from `POST /api/vms/{vm}/console/ticket`, not the session.",
    params(VmKey, TicketAt),
    responses((status = 101, description = "Switching to the WebSocket"), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn vnc(
    State(host): State<AppState>,
    Path(VmKey { vm: key }): Path<VmKey>,
    hierro_http::Params(TicketAt { ticket }): hierro_http::Params<TicketAt>,
    hierro_http::Upgrade(ws): hierro_http::Upgrade,
) -> ApiResult<Response> {
    let vm = host.vms.find(&key)?;
    let session = host.console_tickets.open_console(&ticket, &vm.id)?;
    // The session that asked must still be good.
    Caller::from_token(&host, session)?;
    let display = vm.vnc().await?;
    Ok(ws
        .protocols(["binary"])
        .on_upgrade(move |socket| relay(socket, display)))
}

/// The WebSocket's binary frames to the VNC socket and back.
async fn relay(socket: WebSocket, display: UnixStream) {
    let (mut to_user, mut from_user) = socket.split();
    let (mut read, mut write) = display.into_split();
    let down = async {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = read.read(&mut buf).await {
            if n == 0
                || to_user
                    .send(Message::Binary(buf[..n].to_vec().into()))
                    .await
                    .is_err()
            {
                return;
            }
        }
    };
    let up = async {
        while let Some(Ok(msg)) = from_user.next().await {
            let bytes = match msg {
                Message::Binary(b) => b,
                Message::Close(_) => return,
                _ => continue,
            };
            if write.write_all(&bytes).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = down => {}
        _ = up => {}
    }
}

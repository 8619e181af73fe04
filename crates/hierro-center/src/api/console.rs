//! A VM's serial console through the center: the host's console
//! WebSocket, relayed.

use axum::extract::ws::{Message, WebSocket};
use axum::extract::{Path, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use hierro_api::Privilege;
use hierro_http::ApiResult;
use tokio_tungstenite::tungstenite::Message as HostMessage;

use super::privileges::{needs, on, Access};
use super::{vm_ref, AppState, BadRequest, Caller, Forbidden, HostFailed, NotFound, Unauthorized};
use crate::hosts;
use crate::ops::OpError;
use hierro_api::Privilege as P;
use hierro_api::VmKey;

/// What each operation of this file needs (the document's "Privilege:" lines).
pub(super) const ACCESS: &[(&str, Access)] = &[(
    "vm_console",
    needs(&[on(P::VirtualMachineInteractConsoleInteract, "the VM")]),
)];

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

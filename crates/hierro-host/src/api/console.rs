//! The serial console over a WebSocket: binary frames both ways.

use axum::extract::ws::{Message, WebSocket};
use axum::extract::{Path, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use hierro_api::PowerState;

use super::{AppState, BadRequest, Caller, Conflict, NotFound, Unauthorized};
use hierro_api::VmKey;
use hierro_http::{ApiError, ApiResult};

#[utoipa::path(
    get,
    path = "/api/vms/{vm}/console",
    tag = "vms",
    operation_id = "vm_console",
    description = "The serial console as a WebSocket, binary frames both ways (the session may be given as the `session` query parameter).",
    security(("session" = [])),
    params(VmKey),
    responses((status = 101, description = "Switching to the WebSocket"), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn connect(
    State(host): State<AppState>,
    _c: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
    hierro_http::Upgrade(ws): hierro_http::Upgrade,
) -> ApiResult<Response> {
    let vm = host.vms.find(&key)?;
    if vm.power() != PowerState::PoweredOn {
        return Err(ApiError::invalid_state(format!(
            "{} is not powered on",
            vm.name()
        )));
    }
    let console = vm.console.clone();
    Ok(ws.on_upgrade(move |socket| pump(socket, console)))
}

async fn pump(socket: WebSocket, console: std::sync::Arc<crate::vm::console::Console>) {
    let (mut tx, mut rx) = socket.split();
    let (history, mut output) = console.subscribe();
    let to_client = async move {
        if !history.is_empty() && tx.send(Message::Binary(history.into())).await.is_err() {
            return;
        }
        loop {
            match output.recv().await {
                Ok(bytes) => {
                    if tx.send(Message::Binary(bytes.into())).await.is_err() {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            }
        }
    };
    let from_client = async move {
        while let Some(Ok(msg)) = rx.next().await {
            let bytes = match msg {
                Message::Binary(b) => b.to_vec(),
                Message::Text(t) => t.as_bytes().to_vec(),
                Message::Close(_) => return,
                _ => continue,
            };
            if !console.send(bytes).await {
                return;
            }
        }
    };
    tokio::select! {
        _ = to_client => {}
        _ = from_client => {}
    }
}

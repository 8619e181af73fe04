//! A VM's consoles over WebSockets: the serial console, and the graphical
//! console (VNC) opened with a one-time ticket.

use hierro_api::{ConsoleTicket, ErrorBody, ErrorCode, ErrorInfo, SESSION_HEADER};
use reqwest::{Method, StatusCode};

use crate::{enc, Client, ClientError, Result};

/// A console's WebSocket.
pub type ConsoleSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Client {
    /// Opens the VM's serial console: binary WebSocket frames both ways.
    pub async fn console(&self, key: &str) -> Result<ConsoleSocket> {
        self.websocket(&format!("/api/vms/{}/console", enc(key)))
            .await
    }

    /// A one-time ticket to the VM's graphical console.
    pub async fn console_ticket(&self, key: &str) -> Result<ConsoleTicket> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/console/ticket", enc(key)),
            None::<&()>,
        )
        .await
    }

    /// Opens the VM's graphical console: its VNC (RFB) bytes in binary
    /// WebSocket frames both ways.
    pub async fn vnc(&self, key: &str) -> Result<ConsoleSocket> {
        let ticket = self.console_ticket(key).await?;
        self.websocket(&ticket.path).await
    }

    /// What the VM's display shows now, as a PNG.
    pub async fn screenshot(&self, key: &str) -> Result<Vec<u8>> {
        let resp = self
            .send(
                Method::GET,
                &format!("/api/vms/{}/screenshot", enc(key)),
                None::<&()>,
            )
            .await?;
        Ok(resp
            .bytes()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?
            .to_vec())
    }

    /// A WebSocket to `path` (with its query), the session in its header.
    pub async fn websocket(&self, path: &str) -> Result<ConsoleSocket> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}{path}", self.base.replacen("https://", "wss://", 1));
        let mut req = url
            .into_client_request()
            .map_err(|e| ClientError::Http(e.to_string()))?;
        if let Some(t) = &self.token {
            req.headers_mut().insert(
                SESSION_HEADER,
                t.parse()
                    .map_err(|_| ClientError::Http("bad token".into()))?,
            );
        }
        let connector = tokio_tungstenite::Connector::Rustls(self.tls.clone());
        match tokio_tungstenite::connect_async_tls_with_config(req, None, false, Some(connector))
            .await
        {
            Ok((ws, _)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                let status =
                    StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
                let info = resp
                    .body()
                    .as_ref()
                    .and_then(|b| serde_json::from_slice::<ErrorBody>(b).ok())
                    .map(|b| b.error)
                    .unwrap_or(ErrorInfo {
                        code: ErrorCode::Http,
                        message: format!("{path} refused: {status}"),
                        details: serde_json::Value::Null,
                    });
                Err(ClientError::Api { status, info })
            }
            Err(e) => Err(ClientError::Http(format!("{path}: {e}"))),
        }
    }
}

//! A VM's serial console over a WebSocket.

use hierro_api::{ErrorBody, ErrorCode, ErrorInfo, SESSION_HEADER};
use reqwest::StatusCode;

use crate::{enc, Client, ClientError, Result};

impl Client {
    /// Opens the VM's serial console: binary WebSocket frames both ways.
    pub async fn console(
        &self,
        key: &str,
    ) -> Result<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
    > {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!(
            "{}/api/vms/{}/console",
            self.base.replacen("https://", "wss://", 1),
            enc(key)
        );
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
                        message: format!("console refused: {status}"),
                        details: serde_json::Value::Null,
                    });
                Err(ClientError::Api { status, info })
            }
            Err(e) => Err(ClientError::Http(format!("console: {e}"))),
        }
    }
}

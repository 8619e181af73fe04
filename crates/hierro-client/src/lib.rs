//! The one client of Hierro's REST APIs, used by the CLI, the lab, the tests
//! and the center (to talk to its hosts): a typed method per operation, one
//! file per resource. Servers use self-signed or center-issued
//! certificates, so trust is a pinned SHA-256 thumbprint, as in vSphere.

mod access;
mod console;
mod datastore;
mod dvswitch;
mod host;
mod inventory;
mod network;
mod session;
mod task;
mod tls;
mod vm;

use std::sync::Arc;
use std::time::Duration;

use hierro_api::*;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use console::ConsoleSocket;
pub use tls::{fetch_certificate, fetch_thumbprint, normalize_thumbprint, Trust};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{status}: {info}")]
    Api { status: StatusCode, info: ErrorInfo },
    #[error("task {operation} failed: {info}")]
    Task {
        operation: Operation,
        info: ErrorInfo,
    },
    #[error("{0}")]
    Http(String),
    #[error("{0}")]
    Tls(String),
}

impl ClientError {
    /// The API or task error code (`not_found`, `invalid_state`...), if any.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { info, .. } | ClientError::Task { info, .. } => Some(info.code),
            _ => None,
        }
    }
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    tls: Arc<rustls::ClientConfig>,
    token: Option<String>,
    /// Tests: the saga step the center is asked to fail.
    fail_step: Option<usize>,
}

impl Client {
    /// `server` is `host[:port]` or an `https://` URL.
    pub fn new(server: &str, trust: Trust) -> Result<Client> {
        let base = normalize_server(server);
        let tls = Arc::new(tls::client_config(trust)?);
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| ClientError::Http(e.to_string()))?;
        Ok(Client {
            base,
            http,
            tls,
            token: None,
            fail_step: None,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Uses a token obtained elsewhere (a service token) instead of a login.
    pub fn with_token(mut self, token: &str) -> Client {
        self.token = Some(token.to_string());
        self
    }

    /// For tests of undo: asks a center that allows it (`fault_injection`)
    /// to make step `n` of each multi-step operation fail.
    pub fn failing_step(mut self, n: usize) -> Client {
        self.fail_step = Some(n);
        self
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<reqwest::Response> {
        self.send_with(method, path, body, None).await
    }

    async fn send_with<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response> {
        let mut req = self.request(method, path);
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        self.execute(req).await
    }

    /// A request to `path` with the session and test headers.
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.header(SESSION_HEADER, t);
        }
        if let Some(n) = self.fail_step {
            req = req.header(FAIL_STEP_HEADER, n.to_string());
        }
        req
    }

    /// Sends it; an answer other than success is the API's error.
    async fn execute(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let resp = req.send().await.map_err(|e| self.transport_error(e))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let info = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| b.error)
            .unwrap_or_else(|_| ErrorInfo {
                code: ErrorCode::Http,
                message: if text.is_empty() {
                    status.to_string()
                } else {
                    text
                },
                details: serde_json::Value::Null,
            });
        Err(ClientError::Api { status, info })
    }

    fn transport_error(&self, e: reqwest::Error) -> ClientError {
        // reqwest hides the TLS cause in the source chain; show it all.
        let mut msg = format!("{}: {e}", self.base);
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(&format!(": {s}"));
            src = s.source();
        }
        ClientError::Http(msg)
    }

    pub async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<R> {
        let resp = self.send(method, path, body).await?;
        resp.json()
            .await
            .map_err(|e| ClientError::Http(format!("decoding {path}: {e}")))
    }

    /// A call whose answer has no body (204).
    async fn call_unit<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<()> {
        self.send(method, path, body).await?;
        Ok(())
    }

    /// Any call, answered as JSON: `null` when the answer is empty (204).
    /// For probing the API itself (tests); programs use the typed methods.
    pub async fn call_json(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value> {
        let resp = self.send(method, path, body).await?;
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::Http(format!("reading {path}: {e}")))?;
        if bytes.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Http(format!("decoding {path}: {e}")))
    }

    async fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R> {
        self.call(Method::GET, path, None::<&()>).await
    }
}

/// The host name or IP address in `host[:port]` or an `https://` URL.
pub fn server_host(server: &str) -> Option<String> {
    let url = reqwest::Url::parse(&normalize_server(server)).ok()?;
    Some(url.host_str()?.trim_matches(['[', ']']).to_string())
}

fn normalize_server(server: &str) -> String {
    let s = server.trim().trim_end_matches('/');
    if s.starts_with("https://") {
        s.to_string()
    } else {
        format!("https://{}", s.trim_start_matches("http://"))
    }
}

/// `path` with the query parameters that have values, encoded.
fn query(path: &str, params: &[(&str, Option<&str>)]) -> String {
    let pairs: Vec<String> = params
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", enc(v))))
        .collect();
    if pairs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

/// A center's path that places a VM: `?placement=` a host or cluster, and
/// `&folder=` when given.
fn placed(path: &str, placement: &str, folder: Option<&str>) -> String {
    query(path, &[("placement", Some(placement)), ("folder", folder)])
}

/// Percent-encodes a path segment or a query value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_and_segments() {
        assert_eq!(normalize_server("10.0.0.1"), "https://10.0.0.1");
        assert_eq!(normalize_server("https://h:8443/"), "https://h:8443");
        assert_eq!(enc("vm 1/x"), "vm%201%2Fx");
    }
}

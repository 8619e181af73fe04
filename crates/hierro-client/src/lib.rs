//! The one client of Hierro's REST APIs, used by the CLI, the lab, the tests
//! and (later) the center. Servers use self-signed or center-issued
//! certificates, so trust is a pinned SHA-256 thumbprint, as in vSphere.

mod tls;

use std::sync::Arc;
use std::time::Duration;

use hierro_api::*;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

pub use tls::{fetch_thumbprint, normalize_thumbprint, Trust};

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

    pub async fn create_service_token(&self, name: &str) -> Result<ServiceTokenResponse> {
        self.call(
            Method::POST,
            "/api/service-tokens",
            Some(&ServiceTokenRequest { name: name.into() }),
        )
        .await
    }

    pub async fn certificate_request(&self) -> Result<CertificateRequest> {
        self.call(Method::POST, "/api/host/certificate/request", None::<&()>)
            .await
    }

    pub async fn install_certificate(
        &self,
        req: &CertificateInstall,
    ) -> Result<CertificateInstalled> {
        self.call(Method::PUT, "/api/host/certificate", Some(req))
            .await
    }

    pub async fn set_lockdown(&self, enabled: bool) -> Result<Lockdown> {
        self.call(
            Method::PUT,
            "/api/host/lockdown",
            Some(&Lockdown { enabled }),
        )
        .await
    }

    pub async fn revoke_service_token(&self, name: &str) -> Result<()> {
        self.send(
            Method::DELETE,
            &format!("/api/service-tokens/{name}"),
            None::<&()>,
        )
        .await?;
        Ok(())
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

    pub async fn login(&mut self, username: &str, password: &str) -> Result<LoginResponse> {
        let r: LoginResponse = self
            .call(
                Method::POST,
                "/api/session",
                Some(&LoginRequest {
                    username: username.into(),
                    password: password.into(),
                }),
            )
            .await?;
        self.token = Some(r.token.clone());
        Ok(r)
    }

    pub async fn logout(&mut self) -> Result<()> {
        self.send(Method::DELETE, "/api/session", None::<&()>)
            .await?;
        self.token = None;
        Ok(())
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
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        if let Some(t) = &self.token {
            req = req.header(SESSION_HEADER, t);
        }
        if let Some(n) = self.fail_step {
            req = req.header(FAIL_STEP_HEADER, n.to_string());
        }
        if let Some(b) = body {
            req = req.json(b);
        }
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

    /// Any call, answered as JSON: `null` when the answer is empty (204).
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

    pub async fn about(&self) -> Result<About> {
        self.get("/api/about").await
    }
    pub async fn host(&self) -> Result<HostInfo> {
        self.get("/api/host").await
    }
    /// The host's performance samples taken after `since` (epoch seconds).
    pub async fn perf(&self, since: i64) -> Result<PerfSamples> {
        self.get(&format!("/api/perf?since={since}")).await
    }
    /// The host's changes since `since`, waiting up to `wait_secs` for one.
    pub async fn updates(&self, since: u64, wait_secs: u64) -> Result<HostUpdates> {
        let path = format!("/api/updates?since={since}&wait={wait_secs}");
        // Longer than the wait, shorter than the default: a host that went
        // silent is noticed soon.
        let timeout = Duration::from_secs(wait_secs + 15);
        let resp = self
            .send_with(Method::GET, &path, None::<&()>, Some(timeout))
            .await?;
        resp.json()
            .await
            .map_err(|e| ClientError::Http(format!("decoding {path}: {e}")))
    }

    pub async fn datastores(&self) -> Result<Vec<Datastore>> {
        self.get("/api/datastores").await
    }
    pub async fn add_datastore(&self, req: &DatastoreCreate) -> Result<Datastore> {
        self.call(Method::POST, "/api/datastores", Some(req)).await
    }
    pub async fn vms(&self) -> Result<Vec<VmInfo>> {
        self.get("/api/vms").await
    }
    /// A VM by id or name, with guest information.
    pub async fn vm(&self, key: &str) -> Result<VmInfo> {
        self.get(&format!("/api/vms/{}", enc(key))).await
    }
    pub async fn create_vm(&self, req: &VmCreate) -> Result<Task> {
        self.call(Method::POST, "/api/vms", Some(req)).await
    }
    /// Through a center: creates the VM on a host or in a cluster
    /// (`placement`, an inventory id), in a folder (the datacenter by default).
    pub async fn create_vm_placed(
        &self,
        req: &VmCreate,
        placement: &str,
        folder: Option<&str>,
    ) -> Result<Task> {
        let path = placed("/api/vms", placement, folder);
        self.call(Method::POST, &path, Some(req)).await
    }

    /// Through a center: clones a powered-off VM or deploys a template onto
    /// a host or cluster (`placement`), in a folder (the datacenter by default).
    pub async fn clone_vm(
        &self,
        key: &str,
        req: &VmClone,
        placement: &str,
        folder: Option<&str>,
    ) -> Result<Task> {
        let path = placed(&format!("/api/vms/{}/clone", enc(key)), placement, folder);
        self.call(Method::POST, &path, Some(req)).await
    }

    pub async fn update_vm(&self, key: &str, update: &VmUpdate) -> Result<Task> {
        self.call(
            Method::PATCH,
            &format!("/api/vms/{}", enc(key)),
            Some(update),
        )
        .await
    }
    pub async fn delete_vm(&self, key: &str) -> Result<Task> {
        self.call(
            Method::DELETE,
            &format!("/api/vms/{}", enc(key)),
            None::<&()>,
        )
        .await
    }
    pub async fn power(&self, key: &str, op: PowerOp) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/power/{}", enc(key), op.as_str()),
            None::<&()>,
        )
        .await
    }
    /// vMotion, the destination's half: get ready to receive a VM.
    pub async fn migrate_incoming(&self, req: &IncomingMigration) -> Result<IncomingReady> {
        self.call(Method::POST, "/api/migrations/incoming", Some(req))
            .await
    }

    /// vMotion, the source's half: send the VM to a ready destination.
    pub async fn migrate(&self, key: &str, req: &MigrateRequest) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/migrate", enc(key)),
            Some(req),
        )
        .await
    }

    /// Cold migration, the source's half: take a powered-off VM off the
    /// host, keeping its files.
    pub async fn unregister_vm(&self, key: &str) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/unregister", enc(key)),
            None::<&()>,
        )
        .await
    }

    /// Cold migration, the destination's half: add a powered-off VM from
    /// its folder.
    pub async fn register_vm(&self, req: &VmRegister) -> Result<VmInfo> {
        self.call(Method::POST, "/api/vms/register", Some(req))
            .await
    }

    /// Through a center: register a VM on a host or cluster, into a folder;
    /// the answer is its inventory object.
    pub async fn register_vm_placed(
        &self,
        req: &VmRegister,
        placement: &str,
        folder: Option<&str>,
    ) -> Result<serde_json::Value> {
        let path = placed("/api/vms/register", placement, folder);
        self.call(Method::POST, &path, Some(req)).await
    }

    /// Through a center: move a VM to another host, live (vMotion) if it
    /// runs, cold if it is powered off.
    pub async fn migrate_to(&self, key: &str, req: &VmMigrate) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/migrate", enc(key)),
            Some(req),
        )
        .await
    }

    pub async fn snapshots(&self, key: &str) -> Result<Vec<Snapshot>> {
        self.get(&format!("/api/vms/{}/snapshots", enc(key))).await
    }
    pub async fn snapshot_create(&self, key: &str, req: &SnapshotCreate) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/snapshots", enc(key)),
            Some(req),
        )
        .await
    }
    pub async fn snapshot_revert(&self, key: &str, name: &str) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/snapshots/{}/revert", enc(key), enc(name)),
            None::<&()>,
        )
        .await
    }
    pub async fn snapshot_delete(&self, key: &str, name: &str) -> Result<Task> {
        self.call(
            Method::DELETE,
            &format!("/api/vms/{}/snapshots/{}", enc(key), enc(name)),
            None::<&()>,
        )
        .await
    }
    pub async fn network(&self) -> Result<HostNetwork> {
        self.get("/api/network").await
    }
    pub async fn add_vswitch(&self, v: &VSwitch) -> Result<HostNetwork> {
        self.call(Method::POST, "/api/network/vswitches", Some(v))
            .await
    }
    pub async fn set_vswitch(&self, v: &VSwitch) -> Result<HostNetwork> {
        self.call(
            Method::PUT,
            &format!("/api/network/vswitches/{}", enc(&v.name)),
            Some(v),
        )
        .await
    }
    pub async fn remove_vswitch(&self, name: &str) -> Result<HostNetwork> {
        self.call(
            Method::DELETE,
            &format!("/api/network/vswitches/{}", enc(name)),
            None::<&()>,
        )
        .await
    }
    pub async fn add_portgroup(&self, g: &PortGroup) -> Result<HostNetwork> {
        self.call(Method::POST, "/api/network/portgroups", Some(g))
            .await
    }
    pub async fn set_portgroup(&self, g: &PortGroup) -> Result<HostNetwork> {
        self.call(
            Method::PUT,
            &format!("/api/network/portgroups/{}", enc(&g.name)),
            Some(g),
        )
        .await
    }
    pub async fn remove_portgroup(&self, name: &str) -> Result<HostNetwork> {
        self.call(
            Method::DELETE,
            &format!("/api/network/portgroups/{}", enc(name)),
            None::<&()>,
        )
        .await
    }
    pub async fn set_distributed(
        &self,
        list: &[hierro_api::HostProxySwitch],
    ) -> Result<HostNetwork> {
        self.call(Method::PUT, "/api/network/distributed", Some(&list))
            .await
    }
    pub async fn add_mirror(&self, m: &hierro_api::MirrorSession) -> Result<HostNetwork> {
        self.call(Method::POST, "/api/network/mirrors", Some(m))
            .await
    }
    pub async fn set_mirror(&self, m: &hierro_api::MirrorSession) -> Result<HostNetwork> {
        self.call(
            Method::PUT,
            &format!("/api/network/mirrors/{}", enc(&m.name)),
            Some(m),
        )
        .await
    }
    pub async fn remove_mirror(&self, name: &str) -> Result<HostNetwork> {
        self.call(
            Method::DELETE,
            &format!("/api/network/mirrors/{}", enc(name)),
            None::<&()>,
        )
        .await
    }
    pub async fn add_vmknic(&self, k: &VmkNic) -> Result<HostNetwork> {
        self.call(Method::POST, "/api/network/vmknics", Some(k))
            .await
    }
    pub async fn remove_vmknic(&self, name: &str) -> Result<HostNetwork> {
        self.call(
            Method::DELETE,
            &format!("/api/network/vmknics/{}", enc(name)),
            None::<&()>,
        )
        .await
    }
    pub async fn ports(&self) -> Result<PortList> {
        self.get("/api/network/ports").await
    }
    /// A capture of a port's frames, as pcap bytes.
    pub async fn capture(&self, req: &CaptureRequest) -> Result<Vec<u8>> {
        let resp = self
            .send(Method::POST, "/api/network/capture", Some(req))
            .await?;
        Ok(resp
            .bytes()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?
            .to_vec())
    }
    pub async fn tasks(&self) -> Result<Vec<Task>> {
        self.get("/api/tasks").await
    }
    pub async fn task(&self, id: Uuid) -> Result<Task> {
        self.get(&format!("/api/tasks/{id}")).await
    }
    /// Asks a running task to stop; it ends in error `cancelled`.
    pub async fn cancel_task(&self, id: Uuid) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/tasks/{id}/cancel"),
            None::<&()>,
        )
        .await
    }
    /// Events after `since` (an event id), optionally for one target.
    pub async fn events(&self, since: Option<u64>, target: Option<&str>) -> Result<Vec<Event>> {
        let mut q = vec![];
        if let Some(s) = since {
            q.push(format!("since={s}"));
        }
        if let Some(t) = target {
            q.push(format!("target={}", enc(t)));
        }
        self.get(&format!("/api/events?{}", q.join("&"))).await
    }

    /// Polls a task until it ends, calling `progress` on every change. A task
    /// that ends in error becomes `ClientError::Task`.
    pub async fn wait(&self, task: &Task, mut progress: impl FnMut(&Task)) -> Result<Task> {
        let mut last = (task.state, task.progress);
        progress(task);
        loop {
            let t = self.task(task.id).await?;
            if (t.state, t.progress) != last {
                last = (t.state, t.progress);
                progress(&t);
            }
            match t.state {
                TaskState::Success => return Ok(t),
                TaskState::Error => {
                    return Err(ClientError::Task {
                        operation: t.operation,
                        info: t.error.clone().unwrap_or(ErrorInfo {
                            code: ErrorCode::Unknown,
                            message: "task failed without a reason".into(),
                            details: serde_json::Value::Null,
                        }),
                    })
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Runs an operation that returns a task and waits for it.
    pub async fn run(&self, task: Result<Task>) -> Result<Task> {
        self.wait(&task?, |_| {}).await
    }

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

/// Percent-encodes a path segment.
/// A center's path that places a VM: `?placement=` a host or cluster, and
/// `&folder=` when given.
fn placed(path: &str, placement: &str, folder: Option<&str>) -> String {
    let mut path = format!("{path}?placement={}", enc(placement));
    if let Some(f) = folder {
        path.push_str(&format!("&folder={}", enc(f)));
    }
    path
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

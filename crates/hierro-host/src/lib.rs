//! The host agent (`hierro host serve`): the ESXi hostd analog. It runs this
//! host's VMs in QEMU, keeps their configuration on datastores, and serves the
//! host REST API over HTTPS.
//!
//! Layers: `api` (thin HTTP handlers) → `vm`, `datastore` (logic) → `state`,
//! the VM folders and QEMU (`hierro-qemu`).

mod api;
pub mod auth;
pub mod config;
mod datastore;
mod error;
mod net;
mod perf;
mod state;
mod tasks;
pub mod tls;
mod updates;
pub mod vm;

use hierro_api::EventKind;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hierro_api::{DatastoreCreate, Severity};
use hierro_qemu::Accel;
use uuid::Uuid;

pub use config::HostConfig;
use error::{HostError, HostResult};
use state::{HostState, StateFile, VmRegistration};
use tasks::{Journal, Target};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub struct Host {
    pub config: HostConfig,
    pub accel: Accel,
    thumbprint: Mutex<String>,
    /// The live TLS configuration, replaced when a new certificate arrives.
    tls: axum_server::tls_rustls::RustlsConfig,
    pub sessions: auth::Sessions,
    /// Tickets to VMs' graphical consoles, by VM.
    pub console_tickets: hierro_http::Tickets<uuid::Uuid>,
    pub journal: Arc<Journal>,
    pub datastores: datastore::Datastores,
    pub vms: vm::Registry,
    pub vswitchd: net::vswitchd::Vswitchd,
    pub net_runtime: net::NetRuntime,
    pub perf: perf::Perf,
    state_file: StateFile,
    state: Mutex<HostState>,
    started: Instant,
}

impl Host {
    pub fn target(&self) -> Target {
        Target {
            id: "host".into(),
            name: self.config.name.clone(),
        }
    }

    pub fn thumbprint(&self) -> String {
        self.thumbprint.lock().clone()
    }

    /// Installs a certificate signed for the pending key and serves it to
    /// new connections at once.
    pub async fn install_certificate(
        &self,
        req: &hierro_api::CertificateInstall,
        user: &str,
    ) -> HostResult<String> {
        let identity = tls::install(&self.config.data_dir, &req.cert_pem, &req.ca_pem)
            .map_err(|e| HostError::invalid(e.to_string()))?;
        self.tls
            .reload_from_pem(
                identity.cert_pem.into_bytes(),
                identity.key_pem.into_bytes(),
            )
            .await
            .map_err(|e| HostError::internal(format!("loading the new certificate: {e}")))?;
        *self.thumbprint.lock() = identity.thumbprint.clone();
        self.journal.event(
            EventKind::HostCertificateReplaced,
            Severity::Info,
            &self.target(),
            user,
            format!(
                "New certificate installed, thumbprint {}",
                identity.thumbprint
            ),
            None,
        );
        Ok(identity.thumbprint)
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Persists a state change; on a write failure nothing changes.
    fn change_state(&self, f: impl FnOnce(&mut HostState)) -> HostResult<()> {
        let mut state = self.state.lock();
        let mut next = state.clone();
        f(&mut next);
        self.state_file
            .save(&next)
            .map_err(|e| HostError::internal(format!("saving host state: {e}")))?;
        *state = next;
        Ok(())
    }

    /// Replaces the service token of that name.
    pub fn add_service_token(&self, name: &str, token: &str) -> HostResult<()> {
        let entry = state::ServiceToken {
            name: name.to_string(),
            sha256: hierro_http::secret_hash(token),
            created: chrono::Utc::now().to_rfc3339(),
        };
        self.change_state(|s| {
            s.service_tokens.retain(|t| t.name != name);
            s.service_tokens.push(entry);
        })
    }

    /// Removes a service token; false when there was none of that name.
    /// Without service tokens the host is no longer managed, so lockdown
    /// ends with the last one.
    pub fn remove_service_token(&self, name: &str) -> HostResult<bool> {
        let mut found = false;
        self.change_state(|s| {
            found = s.service_tokens.iter().any(|t| t.name == name);
            s.service_tokens.retain(|t| t.name != name);
            if s.service_tokens.is_empty() {
                s.lockdown = false;
            }
        })?;
        Ok(found)
    }

    /// Whether a center manages this host (it holds a service token).
    pub fn managed(&self) -> bool {
        !self.state.lock().service_tokens.is_empty()
    }

    pub fn lockdown(&self) -> bool {
        self.state.lock().lockdown
    }

    /// Turns lockdown mode on or off; only a managed host may be locked.
    pub fn set_lockdown(&self, enabled: bool, user: &str) -> HostResult<()> {
        if enabled && !self.managed() {
            return Err(HostError::refused(
                "lockdown needs a center: add the host to one first",
            ));
        }
        self.change_state(|s| s.lockdown = enabled)?;
        self.journal.event(
            if enabled {
                EventKind::HostLockdownEnabled
            } else {
                EventKind::HostLockdownDisabled
            },
            Severity::Info,
            &self.target(),
            user,
            format!(
                "Lockdown mode {} by {user}",
                if enabled { "enabled" } else { "disabled" }
            ),
            None,
        );
        Ok(())
    }

    /// Whether `user` may use the API now: in lockdown only service tokens
    /// and the break-glass account may.
    pub fn may_use_api(&self, user: &str) -> bool {
        !self.lockdown()
            || user.starts_with("service:")
            || self
                .config
                .break_glass
                .as_ref()
                .is_some_and(|b| b.user == user)
    }

    /// `service:<name>` for a valid service token.
    pub fn service_token_user(&self, token: &str) -> Option<String> {
        let hash = hierro_http::secret_hash(token);
        let state = self.state.lock();
        state
            .service_tokens
            .iter()
            .find(|t| t.sha256 == hash)
            .map(|t| format!("service:{}", t.name))
    }

    pub fn register(&self, reg: VmRegistration) -> HostResult<()> {
        self.change_state(|s| s.vms.push(reg))
    }

    pub fn unregister(&self, id: Uuid) -> HostResult<()> {
        self.change_state(|s| s.vms.retain(|r| r.id != id))
    }

    pub fn add_datastore(&self, req: &DatastoreCreate, user: &str) -> HostResult<()> {
        let path = self.datastores.validate(req)?;
        let stored = DatastoreCreate {
            name: req.name.clone(),
            path: path.display().to_string(),
        };
        self.change_state(|s| s.datastores.push(stored))?;
        self.datastores.insert(&req.name, path.clone());
        self.journal.event(
            EventKind::DatastoreAdded,
            Severity::Info,
            &Target {
                id: format!("datastore:{}", req.name),
                name: req.name.clone(),
            },
            user,
            format!("Added datastore {} at {}", req.name, path.display()),
            None,
        );
        Ok(())
    }
}

/// The host's physical memory in MiB (from /proc/meminfo).
pub fn memory_mib() -> u64 {
    let kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0);
    kib / 1024
}

/// Opens the host's state, re-adopts its running VMs and serves the API until
/// the process ends. VMs are separate processes and keep running after it.
pub async fn serve(config: HostConfig) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    hierro_http::keep_private(&[&config.data_dir, &config.run_dir])?;
    std::fs::create_dir_all(config.run_dir.join("vms"))?;
    net::capture::sweep(&config.run_dir)?;
    let accel = Accel::from_setting(&config.accel).map_err(|e| anyhow::anyhow!(e))?;
    let names = vec![config.listen.ip().to_string()];
    let identity = tls::load_or_create(&config.data_dir, &config.name, &names)?;
    let state_file = StateFile::new(&config.data_dir);
    let mut state = state_file.load()?;
    if state.network == hierro_api::HostNetwork::default() {
        state.network = config.network.clone();
        net::complete(&mut state.network);
        net::validate(&state.network).map_err(|e| anyhow::anyhow!("network in the config: {e}"))?;
        state_file.save(&state)?;
    }
    let vswitchd =
        net::vswitchd::Vswitchd::new(std::env::current_exe()?, &config.run_dir, &config.data_dir);
    vswitchd
        .ensure_running()
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem(
        identity.cert_pem.clone().into_bytes(),
        identity.key_pem.clone().into_bytes(),
    )
    .await?;
    let host = Arc::new(Host {
        accel,
        thumbprint: Mutex::new(identity.thumbprint.clone()),
        tls: tls.clone(),
        sessions: auth::Sessions::new(
            config.admin.clone(),
            config.break_glass.clone(),
            Duration::from_secs(config.session_idle_secs),
            config.lockout,
        ),
        console_tickets: Default::default(),
        journal: Journal::open(&config.data_dir)?,
        datastores: datastore::Datastores::new(
            &[
                vec![config.data_dir.clone()],
                config.datastore_roots.clone(),
            ]
            .concat(),
        ),
        vms: Default::default(),
        vswitchd,
        net_runtime: Default::default(),
        perf: perf::Perf::new(Duration::from_secs(config.perf_interval_secs)),
        state_file,
        state: Mutex::new(state.clone()),
        started: Instant::now(),
        config,
    });
    for ds in &state.datastores {
        host.datastores.insert(&ds.name, ds.path.clone().into());
    }
    for ds in &host.config.datastores {
        if state.datastores.iter().all(|d| d.name != ds.name) {
            host.add_datastore(ds, "system")
                .map_err(|e| anyhow::anyhow!("datastore {} in the config: {e}", ds.name))?;
        }
    }
    let swept = vm::staging::sweep(&host.config.name, &host.datastores.roots(), &host.journal);
    if swept > 0 {
        tracing::warn!("removed {swept} VM folders a killed agent left half-made");
    }
    let swept = datastore::upload::sweep(&host.config.name, &host.datastores.roots());
    if swept > 0 {
        tracing::warn!("removed {swept} partial uploads a killed agent left");
    }
    for reg in &state.vms {
        if let Err(e) = vm::load(&host, reg).await {
            tracing::error!("VM {} in [{}] {}: {e}", reg.id, reg.datastore, reg.folder);
        }
    }
    // The network before the API: the management address may be on a
    // VMkernel port that vswitchd provides.
    host.apply_network()
        .await
        .map_err(|e| anyhow::anyhow!("applying the network configuration: {e}"))?;
    tokio::spawn(net::supervise(host.clone()));
    tokio::spawn(perf::run(host.clone()));
    let listen = host.config.listen;
    // Bind first so that the "listening" line means the API answers.
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    listener.set_nonblocking(true)?;
    println!(
        "hierro host {} listening on https://{listen} thumbprint {} accel {}",
        host.config.name,
        host.thumbprint(),
        accel.as_str()
    );
    host.journal.event(
        EventKind::HostAgentStarted,
        Severity::Info,
        &host.target(),
        "system",
        format!(
            "Host agent {VERSION} started ({} VMs running)",
            host.vms
                .list()
                .iter()
                .filter(|v| v.power() == hierro_api::PowerState::PoweredOn)
                .count()
        ),
        None,
    );
    let app = api::router(host);
    axum_server::from_tcp_rustls(listener, tls)?
        .serve(app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await?;
    Ok(())
}

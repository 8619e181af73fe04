//! `host.toml`: the host agent's configuration.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// The host's name in its API and in events.
    pub name: String,
    /// HTTPS address; 443 by default as on ESXi.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Persistent state: certificate, registered datastores and VMs, events.
    pub data_dir: PathBuf,
    /// Runtime files: QMP, guest agent and console sockets, QEMU pidfiles.
    pub run_dir: PathBuf,
    /// `auto` (KVM where it runs stock guests, else TCG), `kvm` or `tcg`.
    #[serde(default = "default_accel")]
    pub accel: String,
    pub admin: AdminAccount,
    /// The account that may still use the host's API in lockdown mode, to
    /// act on the host while its center is down (ESXi's exception user).
    #[serde(default)]
    pub break_glass: Option<AdminAccount>,
    /// Failed logins that lock an account, and how long (ESXi's
    /// `Security.AccountLockFailures` and `AccountUnlockTime`).
    #[serde(default)]
    pub lockout: hierro_http::login::LockoutPolicy,
    /// Seconds of inactivity that end an API session.
    #[serde(default = "default_idle")]
    pub session_idle_secs: u64,
    /// The network at first start (switches, port groups, VMkernel ports);
    /// after that the host state, changed through the API, is what counts.
    #[serde(default)]
    pub network: hierro_api::HostNetwork,
    /// Seconds between performance samples (vSphere's real-time interval).
    #[serde(default = "default_perf_interval")]
    pub perf_interval_secs: u64,
    /// How far powered-on VMs' memory may exceed the host's: power-on is
    /// refused past memory × this (1.0: not at all).
    #[serde(default = "default_overcommit")]
    pub memory_overcommit: f64,
    /// Directories datastores may be in, besides the data directory (none
    /// by default): a datastore's files can be cloned and read through the
    /// API, so not just any directory.
    #[serde(default)]
    pub datastore_roots: Vec<PathBuf>,
    /// Datastores registered at start (more can be added through the API).
    #[serde(default, rename = "datastore")]
    pub datastores: Vec<hierro_api::DatastoreCreate>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminAccount {
    pub user: String,
    /// An argon2id PHC string (`hierro host hash-password` makes one).
    pub password_hash: String,
}

fn default_listen() -> SocketAddr {
    std::net::SocketAddr::from(([0, 0, 0, 0], 443))
}
fn default_accel() -> String {
    "auto".into()
}
fn default_perf_interval() -> u64 {
    20
}
fn default_overcommit() -> f64 {
    1.0
}

fn default_idle() -> u64 {
    1800
}

impl HostConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let cfg: HostConfig =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        hierro_qemu::Accel::from_setting(&cfg.accel).map_err(|e| anyhow::anyhow!(e))?;
        argon2::PasswordHash::new(&cfg.admin.password_hash)
            .map_err(|e| anyhow::anyhow!("admin.password_hash is not a PHC string: {e}"))?;
        cfg.lockout.check().map_err(anyhow::Error::msg)?;
        if !(0.1..=10.0).contains(&cfg.memory_overcommit) {
            anyhow::bail!("memory_overcommit must be 0.1 to 10");
        }
        if cfg.perf_interval_secs == 0 {
            anyhow::bail!("perf_interval_secs must be at least 1");
        }
        if let Some(bg) = &cfg.break_glass {
            argon2::PasswordHash::new(&bg.password_hash).map_err(|e| {
                anyhow::anyhow!("break_glass.password_hash is not a PHC string: {e}")
            })?;
            if bg.user == cfg.admin.user {
                anyhow::bail!("break_glass.user must differ from admin.user");
            }
        }
        Ok(cfg)
    }
}

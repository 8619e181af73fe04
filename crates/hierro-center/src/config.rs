//! `center.toml`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CenterConfig {
    pub name: String,
    /// HTTPS address; 443 by default as vCenter's.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// CA, certificates and (by default) the SQLite database.
    pub data_dir: PathBuf,
    /// `postgres://...` for PostgreSQL; SQLite in `data_dir` when absent.
    #[serde(default)]
    pub database: Option<String>,
    #[serde(default = "default_idle")]
    pub session_idle_secs: u64,
    /// The first administrator, made on first start with the Administrator
    /// role on the root folder.
    pub admin: Admin,
    /// The web client's built files (`web/dist`), served on the same port
    /// at every path outside `/api`; none: no web client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_dir: Option<PathBuf>,
    /// Seconds between collections of the hosts' performance samples.
    #[serde(default = "default_perf_collect")]
    pub perf_collect_secs: u64,
    /// Failed logins that lock an account, and how long (vCenter's
    /// lockout policy).
    #[serde(default)]
    pub lockout: hierro_http::login::LockoutPolicy,
    /// Seconds between checks of the hosts' certificates (`ops::certificates`).
    #[serde(default = "default_certificate_check")]
    pub certificate_check_secs: u64,
    /// A host certificate this many days from its end is renewed.
    #[serde(default = "default_certificate_renew")]
    pub certificate_renew_days: i64,
    /// For tests only: honour the `hierro-fail-step` header, which makes a
    /// step of a multi-step operation fail so that its undo can be checked.
    #[serde(default)]
    pub fault_injection: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    pub user: String,
    /// An argon2id PHC string (`hierro host hash-password` makes one).
    pub password_hash: String,
}

fn default_certificate_check() -> u64 {
    3600
}

fn default_certificate_renew() -> i64 {
    hierro_http::tls::RENEW_DAYS
}

fn default_perf_collect() -> u64 {
    20
}

fn default_listen() -> SocketAddr {
    std::net::SocketAddr::from(([0, 0, 0, 0], 443))
}
fn default_idle() -> u64 {
    1800
}

impl CenterConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let cfg: CenterConfig =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        cfg.lockout
            .check()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if cfg.certificate_check_secs == 0 || cfg.certificate_renew_days < 1 {
            anyhow::bail!(
                "{}: certificate_check_secs and certificate_renew_days must be at least 1",
                path.display()
            );
        }
        if cfg.perf_collect_secs == 0 {
            anyhow::bail!("{}: perf_collect_secs must be at least 1", path.display());
        }
        Ok(cfg)
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, toml::to_string(self)?)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
    }
}

//! What the host must remember across restarts and crashes: its datastores and
//! the VMs registered on it (ESXi's vmInventory). Written atomically (temp
//! file, fsync, rename), so a SIGKILL at any moment leaves either the old or
//! the new file.

use std::path::{Path, PathBuf};

use hierro_api::DatastoreCreate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HostState {
    pub datastores: Vec<DatastoreCreate>,
    pub vms: Vec<VmRegistration>,
    #[serde(default)]
    pub network: hierro_api::HostNetwork,
    /// Long-lived credentials for services (the center's vpxuser analog);
    /// only their SHA-256 is kept.
    #[serde(default)]
    pub service_tokens: Vec<ServiceToken>,
    /// Lockdown mode: the API refuses every account but the break-glass one
    /// and service tokens (the center).
    #[serde(default)]
    pub lockdown: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceToken {
    pub name: String,
    pub sha256: String,
    pub created: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VmRegistration {
    pub id: Uuid,
    pub datastore: String,
    /// The VM folder, relative to the datastore root.
    pub folder: String,
}

pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join("host-state.json"),
        }
    }

    pub fn load(&self) -> anyhow::Result<HostState> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| anyhow::anyhow!("{}: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HostState::default()),
            Err(e) => Err(anyhow::anyhow!("{}: {e}", self.path.display())),
        }
    }

    pub fn save(&self, state: &HostState) -> std::io::Result<()> {
        write_atomic(&self.path, &serde_json::to_vec_pretty(state)?)
    }
}

/// Replaces `path` with `data` so that readers see the old or the new
/// content, never a mix, even across a crash.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

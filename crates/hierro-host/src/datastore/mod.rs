//! Datastores: named directories that hold VM folders (local, or shared by
//! several hosts).

pub mod files;
pub mod upload;

use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hierro_api::{Datastore, DatastoreCreate, DatastorePath};

use crate::error::{HostError, HostResult};

/// Directories no datastore may be or lie in: a datastore's files can be
/// cloned into VM disks and downloaded.
const SYSTEM_DIRS: &[&str] = &[
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/root", "/run", "/sbin",
    "/sys", "/usr",
];

#[derive(Default)]
pub struct Datastores {
    by_name: RwLock<BTreeMap<String, PathBuf>>,
    /// Where datastores may be: the data directory and host.toml's
    /// `datastore_roots`, canonical.
    allowed: Vec<PathBuf>,
}

impl Datastores {
    pub fn new(allowed: &[PathBuf]) -> Self {
        Self {
            by_name: Default::default(),
            allowed: allowed
                .iter()
                .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
                .collect(),
        }
    }

    /// Checks a new datastore against the existing ones; changes nothing.
    pub fn validate(&self, req: &DatastoreCreate) -> HostResult<PathBuf> {
        crate::vm::validate_name("datastore name", &req.name)?;
        if self.by_name.read().contains_key(&req.name) {
            return Err(HostError::conflict(format!(
                "a datastore named {:?} exists already",
                req.name
            )));
        }
        let path = Path::new(&req.path);
        if !path.is_absolute() {
            return Err(HostError::invalid(format!(
                "datastore path {:?} must be absolute",
                req.path
            )));
        }
        if !path.is_dir() {
            return Err(HostError::invalid(format!(
                "datastore path {:?} is not an existing directory",
                req.path
            )));
        }
        let path = path
            .canonicalize()
            .map_err(|e| HostError::invalid(format!("{}: {e}", req.path)))?;
        if path == Path::new("/") || SYSTEM_DIRS.iter().any(|d| path.starts_with(d)) {
            return Err(HostError::invalid(format!(
                "{} is a system directory: a datastore cannot be there",
                path.display()
            )));
        }
        if !self.allowed.iter().any(|root| path.starts_with(root)) {
            return Err(HostError::invalid(format!(
                "{} is outside the directories datastores may be in ({}): add it to datastore_roots in host.toml",
                path.display(),
                self.allowed
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let map = self.by_name.read();
        if let Some((name, _)) = map.iter().find(|(_, p)| **p == path) {
            return Err(HostError::conflict(format!(
                "{} is already the datastore {name:?}",
                path.display()
            )));
        }
        Ok(path)
    }

    pub fn insert(&self, name: &str, path: PathBuf) {
        self.by_name.write().insert(name.to_string(), path);
    }

    pub fn root(&self, name: &str) -> HostResult<PathBuf> {
        self.by_name
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| HostError::not_found(format!("no datastore named {name:?}")))
    }

    /// Every datastore's directory.
    pub fn roots(&self) -> Vec<PathBuf> {
        self.by_name.read().values().cloned().collect()
    }

    /// The host path of a datastore path (`[ds] dir/file`), which must
    /// stay in its datastore: a symbolic link out of it is refused.
    pub fn resolve(&self, dspath: &str) -> HostResult<PathBuf> {
        let p = DatastorePath::parse(dspath).map_err(HostError::invalid)?;
        let root = self.root(&p.datastore)?;
        let path = root.join(&p.path);
        // The deepest part that exists, as the kernel would follow it.
        let real = path
            .ancestors()
            .find_map(|a| a.canonicalize().ok())
            .unwrap_or_else(|| path.clone());
        if !real.starts_with(&root) {
            return Err(HostError::invalid(format!(
                "{dspath} leads out of its datastore (a symbolic link)"
            )));
        }
        Ok(path)
    }

    /// Like `resolve`, and the file must exist.
    pub fn resolve_existing(&self, what: &str, dspath: &str) -> HostResult<PathBuf> {
        let path = self.resolve(dspath)?;
        if !path.is_file() {
            return Err(HostError::invalid(format!("{what} {dspath} not found")));
        }
        Ok(path)
    }

    pub fn list(&self) -> Vec<Datastore> {
        self.by_name
            .read()
            .iter()
            .map(|(name, path)| {
                let stat = nix::sys::statvfs::statvfs(path).ok();
                Datastore {
                    name: name.clone(),
                    path: path.display().to_string(),
                    capacity_bytes: stat
                        .as_ref()
                        .map(|s| s.blocks() * s.fragment_size())
                        .unwrap_or(0),
                    free_bytes: stat
                        .as_ref()
                        .map(|s| s.blocks_available() * s.fragment_size())
                        .unwrap_or(0),
                    accessible: stat.is_some(),
                }
            })
            .collect()
    }
}

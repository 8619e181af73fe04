//! Datastores: named directories that hold VM folders (local, or shared by
//! several hosts).

use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hierro_api::{Datastore, DatastoreCreate, DatastorePath};

use crate::error::{HostError, HostResult};

#[derive(Default)]
pub struct Datastores {
    by_name: RwLock<BTreeMap<String, PathBuf>>,
}

impl Datastores {
    /// Checks a new datastore against the existing ones; changes nothing.
    pub fn validate(&self, req: &DatastoreCreate) -> HostResult<PathBuf> {
        crate::vm::validate_name("datastore name", &req.name)?;
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
        let map = self.by_name.read();
        if map.contains_key(&req.name) {
            return Err(HostError::conflict(format!(
                "a datastore named {:?} exists already",
                req.name
            )));
        }
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

    /// The host path of a datastore path (`[ds] dir/file`).
    pub fn resolve(&self, dspath: &str) -> HostResult<PathBuf> {
        let p = DatastorePath::parse(dspath).map_err(HostError::invalid)?;
        Ok(self.root(&p.datastore)?.join(&p.path))
    }

    /// Like `resolve`, and the file must exist.
    pub fn resolve_existing(&self, what: &str, dspath: &str) -> HostResult<PathBuf> {
        let path = self.resolve(dspath)?;
        if !path.is_file() {
            return Err(HostError::invalid(format!(
                "{what} {dspath} not found ({} does not exist)",
                path.display()
            )));
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

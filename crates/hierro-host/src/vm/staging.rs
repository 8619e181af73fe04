//! A VM folder is made under a temporary name and renamed into place as
//! the last step, so that a VM folder on a datastore is whole or absent:
//! an agent killed while it made one (a long full-copy clone, say) leaves a
//! `.hierro-new-...` folder, which the agent removes when it starts again,
//! recording the interrupted task as failed. The temporary name holds the
//! host's name, so hosts sharing a datastore leave each other's alone.

use std::path::{Path, PathBuf};

use hierro_api::{ErrorCode, ErrorInfo, Operation};
use serde::{Deserialize, Serialize};

use crate::tasks::{Journal, Target};

const PREFIX: &str = ".hierro-new-";
/// What is being made, for the agent that finds the folder half-made.
const MARKER: &str = "making.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Making {
    pub operation: Operation,
    pub target_id: String,
    pub name: String,
    pub user: String,
}

/// A VM folder being made.
pub struct Staging {
    pub dir: PathBuf,
    folder: PathBuf,
}

fn prefix(host: &str) -> String {
    format!("{PREFIX}{host}-")
}

impl Staging {
    /// A fresh temporary folder beside `folder` (the VM's final one).
    pub fn begin(host: &str, folder: &Path, making: &Making) -> std::io::Result<Staging> {
        let parent = folder.parent().unwrap_or(Path::new("/"));
        let dir = parent.join(format!("{}{}", prefix(host), uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir)?;
        let marker = serde_json::to_vec(making).unwrap_or_default();
        let staging = Staging {
            dir,
            folder: folder.to_path_buf(),
        };
        if let Err(e) = crate::state::write_atomic(&staging.dir.join(MARKER), &marker) {
            staging.abandon();
            return Err(e);
        }
        Ok(staging)
    }

    /// Renames the folder into place; refused if something took the name
    /// meanwhile (another host on the same datastore).
    pub fn commit(&self) -> std::io::Result<()> {
        std::fs::remove_file(self.dir.join(MARKER))?;
        nix::fcntl::renameat2(
            nix::fcntl::AT_FDCWD,
            &self.dir,
            nix::fcntl::AT_FDCWD,
            &self.folder,
            nix::fcntl::RenameFlags::RENAME_NOREPLACE,
        )
        .map_err(std::io::Error::from)?;
        if let Some(parent) = self.folder.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
        Ok(())
    }

    pub fn abandon(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Removes the folders this host left half-made on `roots`, and records
/// each interrupted task as failed. How many.
pub fn sweep(host: &str, roots: &[PathBuf], journal: &std::sync::Arc<Journal>) -> usize {
    let mine = prefix(host);
    let mut swept = 0;
    for root in roots {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(&mine) || !entry.path().is_dir() {
                continue;
            }
            let making: Option<Making> = std::fs::read(entry.path().join(MARKER))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            if let Err(e) = std::fs::remove_dir_all(entry.path()) {
                tracing::warn!("removing {}: {e}", entry.path().display());
                continue;
            }
            swept += 1;
            let Some(m) = making else { continue };
            let target = Target {
                id: m.target_id,
                name: m.name.clone(),
            };
            let task = journal.task(m.operation, &target, &m.user);
            task.start();
            task.fail(ErrorInfo::new(
                ErrorCode::Interrupted,
                format!(
                    "the host agent stopped while making VM {}; its half-made folder was removed",
                    m.name
                ),
            ));
        }
    }
    swept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_whole_under_its_name_or_swept_with_its_task_failed() {
        let root = std::env::temp_dir().join(format!("hierro-staging-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&root).unwrap();
        let journal = Journal::open(&root).unwrap();
        let making = Making {
            operation: Operation::VmCreate,
            target_id: "vm:1".into(),
            name: "web".into(),
            user: "root".into(),
        };
        let done = Staging::begin("esx1", &root.join("web"), &making).unwrap();
        std::fs::write(done.dir.join("disk"), b"x").unwrap();
        done.commit().unwrap();
        assert!(root.join("web/disk").exists() && !root.join("web").join(MARKER).exists());
        // The name taken: a second one is refused, not merged.
        let again = Staging::begin("esx1", &root.join("web"), &making).unwrap();
        assert!(again.commit().is_err());
        again.abandon();

        let mine = Staging::begin("esx1", &root.join("db"), &making).unwrap();
        let theirs = Staging::begin("esx2", &root.join("db"), &making).unwrap();
        assert_eq!(sweep("esx1", std::slice::from_ref(&root), &journal), 1);
        assert!(
            !mine.dir.exists() && theirs.dir.exists(),
            "only this host's"
        );
        let tasks = journal.tasks();
        assert_eq!(tasks.len(), 1);
        assert_eq!(
            tasks[0].error.as_ref().unwrap().code,
            ErrorCode::Interrupted
        );
        assert_eq!(tasks[0].target_name, "web");
        std::fs::remove_dir_all(&root).unwrap();
    }
}

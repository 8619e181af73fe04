//! Linked clones read their base disk through qcow2's backing file, so a
//! base must not change (a VM running on it, a snapshot taken or reverted)
//! or go (deleted) while clones use it. Which clones use a disk is found
//! where it is recorded: `disk.clone_of` in each VM folder's `vm.json`, on
//! every datastore this host sees (clones on shared datastores may belong
//! to other hosts).

use std::path::{Path, PathBuf};

use hierro_api::VmConfig;

use crate::error::{HostError, HostResult};
use crate::Host;

/// The names of the VMs whose disks are linked clones of `disk`.
fn of(host: &Host, disk: &Path) -> Vec<String> {
    let Ok(disk) = disk.canonicalize() else {
        return vec![];
    };
    let mut found = vec![];
    for root in host.datastores.roots() {
        let Ok(folders) = std::fs::read_dir(&root) else {
            continue;
        };
        for folder in folders.flatten() {
            let Some(config) = read_config(&folder.path().join("vm.json")) else {
                continue;
            };
            let base = config
                .disk
                .clone_of
                .as_deref()
                .and_then(|p| base_path(host, p));
            if base.as_deref() == Some(disk.as_path()) {
                found.push(config.name);
            }
        }
    }
    found.sort();
    found
}

/// Refuses `op` on the VM whose disk is `disk` while linked clones use it.
pub fn refuse_if_base(host: &Host, disk: &Path, vm: &str, op: &str) -> HostResult<()> {
    let clones = of(host, disk);
    if clones.is_empty() {
        return Ok(());
    }
    Err(HostError::refused(format!(
        "cannot {op} {vm}: its disk is the base of the linked clone{} {} (delete them, or give them full copies, first)",
        if clones.len() == 1 { "" } else { "s" },
        clones.join(", ")
    )))
}

/// The running VM of this host whose disk `disk` is, if any: its data
/// changes, so it can be neither a base nor copied.
pub fn running_owner(host: &Host, disk: &Path) -> Option<String> {
    let disk = disk.canonicalize().ok()?;
    host.vms.list().into_iter().find_map(|vm| {
        let own = vm.folder.join(vm.config().disk.file).canonicalize().ok()?;
        (own == disk && vm.power() == hierro_api::PowerState::PoweredOn).then(|| vm.name())
    })
}

fn read_config(path: &Path) -> Option<VmConfig> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn base_path(host: &Host, dspath: &str) -> Option<PathBuf> {
    host.datastores.resolve(dspath).ok()?.canonicalize().ok()
}

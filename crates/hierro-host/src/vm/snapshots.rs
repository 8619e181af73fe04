//! The snapshot list of a VM (`snapshots.json` in its folder, the .vmsd
//! analog). The snapshot data itself lives inside the qcow2 disk.

use std::path::Path;

use hierro_api::Snapshot;

use crate::state::write_atomic;

pub fn load(folder: &Path) -> Vec<Snapshot> {
    std::fs::read(folder.join("snapshots.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

pub fn save(folder: &Path, snapshots: &[Snapshot]) -> std::io::Result<()> {
    write_atomic(
        &folder.join("snapshots.json"),
        &serde_json::to_vec_pretty(snapshots)?,
    )
}

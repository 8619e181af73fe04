//! The CD-ROM media of a running VM: QEMU's drives made to hold the ISOs
//! its configuration names, with QMP's tray and medium commands (the guest
//! sees a disc ejected and another inserted, even one it had locked).

use hierro_api::VmConfig;
use hierro_qemu::launch::{cdrom_id, cdrom_node, iso_blockdev};
use serde_json::{json, Value};

use super::Actor;
use crate::error::HostResult;

impl Actor {
    /// Each drive of `config` gets its ISO, or is emptied; a drive that
    /// holds the right one already is left alone.
    pub(super) async fn change_media(&mut self, config: &VmConfig) -> HostResult<()> {
        let qmp = self.qmp()?;
        let blocks: Vec<Value> = qmp.execute("query-block", json!({})).await?;
        for (i, cd) in config.cdroms.iter().enumerate() {
            let id = cdrom_id(i);
            let inserted = blocks
                .iter()
                .find(|b| b["qdev"] == json!(id))
                .map(|b| &b["inserted"])
                .filter(|m| m.is_object());
            let want = match &cd.iso {
                Some(iso) => Some(
                    self.host
                        .datastores
                        .resolve_existing(&format!("cdroms[{i}].iso"), iso)?,
                ),
                None => None,
            };
            let held = inserted.and_then(|m| m["file"].as_str());
            if held == want.as_deref().and_then(|p| p.to_str()) {
                continue;
            }
            qmp.execute_value("blockdev-open-tray", json!({"id": id, "force": true}))
                .await?;
            if let Some(node) = inserted.and_then(|m| m["node-name"].as_str()) {
                qmp.execute_value("blockdev-remove-medium", json!({"id": id}))
                    .await?;
                qmp.execute_value("blockdev-del", json!({"node-name": node}))
                    .await?;
            }
            if let Some(path) = want {
                // A name no earlier medium of this QEMU had.
                let generation = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64;
                let node = cdrom_node(i, generation);
                qmp.execute_value("blockdev-add", iso_blockdev(&node, &path))
                    .await?;
                qmp.execute_value(
                    "blockdev-insert-medium",
                    json!({"id": id, "node-name": node}),
                )
                .await?;
            }
            qmp.execute_value("blockdev-close-tray", json!({"id": id}))
                .await?;
        }
        Ok(())
    }
}

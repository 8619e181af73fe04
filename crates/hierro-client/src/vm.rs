//! VMs, with the same paths on a host and on a center: lifecycle, power,
//! snapshots, and the two halves of a migration (a host's) or the whole of
//! one (a center's).

use hierro_api::*;
use reqwest::Method;

use crate::{enc, placed, Client, Result};

impl Client {
    pub async fn vms(&self) -> Result<Vec<VmInfo>> {
        self.get("/api/vms").await
    }

    /// A VM by id or name, with guest information.
    pub async fn vm(&self, key: &str) -> Result<VmInfo> {
        self.get(&format!("/api/vms/{}", enc(key))).await
    }

    pub async fn create_vm(&self, req: &VmCreate) -> Result<Task> {
        self.call(Method::POST, "/api/vms", Some(req)).await
    }

    /// Through a center: creates the VM on a host or in a cluster
    /// (`placement`, an inventory id), in a folder (the datacenter by default).
    pub async fn create_vm_placed(
        &self,
        req: &VmCreate,
        placement: &str,
        folder: Option<&str>,
    ) -> Result<Task> {
        let path = placed("/api/vms", placement, folder);
        self.call(Method::POST, &path, Some(req)).await
    }

    /// Through a center: clones a powered-off VM or deploys a template onto
    /// a host or cluster (`placement`), in a folder (the datacenter by default).
    pub async fn clone_vm(
        &self,
        key: &str,
        req: &VmClone,
        placement: &str,
        folder: Option<&str>,
    ) -> Result<Task> {
        let path = placed(&format!("/api/vms/{}/clone", enc(key)), placement, folder);
        self.call(Method::POST, &path, Some(req)).await
    }

    pub async fn update_vm(&self, key: &str, update: &VmUpdate) -> Result<Task> {
        self.call(
            Method::PATCH,
            &format!("/api/vms/{}", enc(key)),
            Some(update),
        )
        .await
    }

    pub async fn delete_vm(&self, key: &str) -> Result<Task> {
        self.call(
            Method::DELETE,
            &format!("/api/vms/{}", enc(key)),
            None::<&()>,
        )
        .await
    }

    pub async fn power(&self, key: &str, op: PowerOp) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/power/{}", enc(key), op.as_str()),
            None::<&()>,
        )
        .await
    }

    /// vMotion, the destination's half: get ready to receive a VM.
    pub async fn migrate_incoming(&self, req: &IncomingMigration) -> Result<IncomingReady> {
        self.call(Method::POST, "/api/migrations/incoming", Some(req))
            .await
    }

    /// vMotion, the source's half: send the VM to a ready destination.
    pub async fn migrate(&self, key: &str, req: &MigrateRequest) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/migrate", enc(key)),
            Some(req),
        )
        .await
    }

    /// Cold migration, the source's half: take a powered-off VM off the
    /// host, keeping its files.
    pub async fn unregister_vm(&self, key: &str) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/unregister", enc(key)),
            None::<&()>,
        )
        .await
    }

    /// Cold migration, the destination's half: add a powered-off VM from
    /// its folder.
    pub async fn register_vm(&self, req: &VmRegister) -> Result<VmInfo> {
        self.call(Method::POST, "/api/vms/register", Some(req))
            .await
    }

    /// Through a center: register a VM on a host or cluster, into a folder;
    /// the answer is its inventory object.
    pub async fn register_vm_placed(
        &self,
        req: &VmRegister,
        placement: &str,
        folder: Option<&str>,
    ) -> Result<serde_json::Value> {
        let path = placed("/api/vms/register", placement, folder);
        self.call(Method::POST, &path, Some(req)).await
    }

    /// Through a center: move a VM to another host, live (vMotion) if it
    /// runs, cold if it is powered off.
    pub async fn migrate_to(&self, key: &str, req: &VmMigrate) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/migrate", enc(key)),
            Some(req),
        )
        .await
    }

    pub async fn snapshots(&self, key: &str) -> Result<Vec<Snapshot>> {
        self.get(&format!("/api/vms/{}/snapshots", enc(key))).await
    }

    pub async fn snapshot_create(&self, key: &str, req: &SnapshotCreate) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/snapshots", enc(key)),
            Some(req),
        )
        .await
    }

    pub async fn snapshot_revert(&self, key: &str, name: &str) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/vms/{}/snapshots/{}/revert", enc(key), enc(name)),
            None::<&()>,
        )
        .await
    }

    pub async fn snapshot_delete(&self, key: &str, name: &str) -> Result<Task> {
        self.call(
            Method::DELETE,
            &format!("/api/vms/{}/snapshots/{}", enc(key), enc(name)),
            None::<&()>,
        )
        .await
    }
}

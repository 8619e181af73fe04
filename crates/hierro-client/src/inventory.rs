//! A center's inventory (`/api/inventory`).

use hierro_api::*;
use reqwest::Method;

use crate::{enc, query, Client, Result};

impl Client {
    /// Objects by kind and part of a name, those the caller may see.
    pub async fn inventory(&self, q: &InventoryQuery) -> Result<Vec<InventoryObject>> {
        let kind = q.kind.map(|k| k.as_str());
        let path = query(
            "/api/inventory",
            &[("kind", kind), ("name", q.name.as_deref())],
        );
        self.get(&path).await
    }

    /// One object, with its path from the root.
    pub async fn inventory_object(&self, id: &str) -> Result<ObjectView> {
        self.get(&format!("/api/inventory/{}", enc(id))).await
    }

    pub async fn inventory_children(&self, id: &str) -> Result<Vec<InventoryObject>> {
        self.get(&format!("/api/inventory/{}/children", enc(id)))
            .await
    }

    /// Makes a folder, datacenter or cluster.
    pub async fn inventory_create(&self, req: &InventoryCreate) -> Result<InventoryObject> {
        self.call(Method::POST, "/api/inventory", Some(req)).await
    }

    /// Renames or moves an object.
    pub async fn inventory_update(
        &self,
        id: &str,
        req: &InventoryUpdate,
    ) -> Result<InventoryObject> {
        let path = format!("/api/inventory/{}", enc(id));
        self.call(Method::PATCH, &path, Some(req)).await
    }

    pub async fn inventory_delete(&self, id: &str) -> Result<()> {
        let path = format!("/api/inventory/{}", enc(id));
        self.call_unit(Method::DELETE, &path, None::<&()>).await
    }

    /// A host's, VM's or cluster's performance series.
    pub async fn perf_series(&self, id: &str, interval: Option<&str>) -> Result<PerfSeries> {
        let path = query(&format!("/api/perf/{}", enc(id)), &[("interval", interval)]);
        self.get(&path).await
    }
}

//! A center's distributed switches (`/api/dvswitches`).

use hierro_api::*;
use reqwest::Method;

use crate::{enc, query, Client, Result};

impl Client {
    /// Makes a distributed switch in a datacenter, with no member hosts.
    pub async fn create_dvswitch(
        &self,
        datacenter: &str,
        spec: &DistributedSwitch,
    ) -> Result<InventoryObject> {
        let path = query("/api/dvswitches", &[("datacenter", Some(datacenter))]);
        self.call(Method::POST, &path, Some(spec)).await
    }

    /// Changes a switch; every member gets it (or, refused, nothing changes).
    pub async fn update_dvswitch(
        &self,
        id: &str,
        spec: &DistributedSwitch,
    ) -> Result<InventoryObject> {
        let path = format!("/api/dvswitches/{}", enc(id));
        self.call(Method::PUT, &path, Some(spec)).await
    }

    pub async fn delete_dvswitch(&self, id: &str) -> Result<()> {
        let path = format!("/api/dvswitches/{}", enc(id));
        self.call_unit(Method::DELETE, &path, None::<&()>).await
    }

    /// Makes a host a member, its NICs for the switch's uplink ports.
    pub async fn dvswitch_add_host(
        &self,
        id: &str,
        host: &str,
        member: &DvsMember,
    ) -> Result<InventoryObject> {
        let path = format!("/api/dvswitches/{}/hosts/{}", enc(id), enc(host));
        self.call(Method::PUT, &path, Some(member)).await
    }

    pub async fn dvswitch_remove_host(&self, id: &str, host: &str) -> Result<InventoryObject> {
        let path = format!("/api/dvswitches/{}/hosts/{}", enc(id), enc(host));
        self.call(Method::DELETE, &path, None::<&()>).await
    }
}

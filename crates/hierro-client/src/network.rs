//! A host's network configuration (`/api/network`), and through a center
//! a host's port groups.

use hierro_api::*;
use reqwest::Method;

use crate::{enc, Client, ClientError, Result};

impl Client {
    pub async fn network(&self) -> Result<HostNetwork> {
        self.get("/api/network").await
    }

    pub async fn add_vswitch(&self, v: &VSwitch) -> Result<HostNetwork> {
        self.call(Method::POST, "/api/network/vswitches", Some(v))
            .await
    }

    pub async fn set_vswitch(&self, v: &VSwitch) -> Result<HostNetwork> {
        self.call(
            Method::PUT,
            &format!("/api/network/vswitches/{}", enc(&v.name)),
            Some(v),
        )
        .await
    }

    pub async fn remove_vswitch(&self, name: &str) -> Result<HostNetwork> {
        self.call(
            Method::DELETE,
            &format!("/api/network/vswitches/{}", enc(name)),
            None::<&()>,
        )
        .await
    }

    pub async fn add_portgroup(&self, g: &PortGroup) -> Result<HostNetwork> {
        self.call(Method::POST, "/api/network/portgroups", Some(g))
            .await
    }

    pub async fn set_portgroup(&self, g: &PortGroup) -> Result<HostNetwork> {
        self.call(
            Method::PUT,
            &format!("/api/network/portgroups/{}", enc(&g.name)),
            Some(g),
        )
        .await
    }

    pub async fn remove_portgroup(&self, name: &str) -> Result<HostNetwork> {
        self.call(
            Method::DELETE,
            &format!("/api/network/portgroups/{}", enc(name)),
            None::<&()>,
        )
        .await
    }

    pub async fn set_distributed(
        &self,
        list: &[hierro_api::HostProxySwitch],
    ) -> Result<HostNetwork> {
        self.call(Method::PUT, "/api/network/distributed", Some(&list))
            .await
    }

    pub async fn add_mirror(&self, m: &hierro_api::MirrorSession) -> Result<HostNetwork> {
        self.call(Method::POST, "/api/network/mirrors", Some(m))
            .await
    }

    pub async fn set_mirror(&self, m: &hierro_api::MirrorSession) -> Result<HostNetwork> {
        self.call(
            Method::PUT,
            &format!("/api/network/mirrors/{}", enc(&m.name)),
            Some(m),
        )
        .await
    }

    pub async fn remove_mirror(&self, name: &str) -> Result<HostNetwork> {
        self.call(
            Method::DELETE,
            &format!("/api/network/mirrors/{}", enc(name)),
            None::<&()>,
        )
        .await
    }

    pub async fn add_vmknic(&self, k: &VmkNic) -> Result<HostNetwork> {
        self.call(Method::POST, "/api/network/vmknics", Some(k))
            .await
    }

    pub async fn remove_vmknic(&self, name: &str) -> Result<HostNetwork> {
        self.call(
            Method::DELETE,
            &format!("/api/network/vmknics/{}", enc(name)),
            None::<&()>,
        )
        .await
    }

    pub async fn ports(&self) -> Result<PortList> {
        self.get("/api/network/ports").await
    }

    /// A capture of a port's frames, as pcap bytes.
    pub async fn capture(&self, req: &CaptureRequest) -> Result<Vec<u8>> {
        let resp = self
            .send(Method::POST, "/api/network/capture", Some(req))
            .await?;
        Ok(resp
            .bytes()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?
            .to_vec())
    }
}

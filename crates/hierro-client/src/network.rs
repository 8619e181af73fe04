//! A host's network configuration (`/api/network`), and through a center
//! a host's port groups.

use hierro_api::*;
use reqwest::Method;
use uuid::Uuid;

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

    /// Starts capturing a port's frames: a task whose result is a
    /// `CaptureResult`.
    pub async fn start_capture(&self, req: &CaptureRequest) -> Result<Task> {
        self.call(Method::POST, "/api/network/capture", Some(req))
            .await
    }

    /// A capture of a port's frames, as pcap bytes: starts it, waits for
    /// its task, downloads the file and deletes it on the host.
    pub async fn capture(&self, req: &CaptureRequest) -> Result<Vec<u8>> {
        let task = self.start_capture(req).await?;
        self.wait(&task, |_| {}).await?;
        let pcap = self.capture_file(task.id).await?;
        self.delete_capture(task.id).await?;
        Ok(pcap)
    }

    /// The pcap file of a capture task that succeeded.
    pub async fn capture_file(&self, task: Uuid) -> Result<Vec<u8>> {
        let path = format!("/api/network/captures/{task}");
        Ok(self
            .send(Method::GET, &path, None::<&()>)
            .await?
            .bytes()
            .await
            .map_err(|e| ClientError::Http(format!("reading {path}: {e}")))?
            .to_vec())
    }

    pub async fn delete_capture(&self, task: Uuid) -> Result<()> {
        let path = format!("/api/network/captures/{task}");
        self.call_unit(Method::DELETE, &path, None::<&()>).await
    }
}

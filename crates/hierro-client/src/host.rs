//! The host agent's own settings and feeds (`/api/host`, `/api/updates`,
//! `/api/perf`), and, on a center, the hosts it manages (`/api/hosts`).

use std::time::Duration;

use hierro_api::*;
use reqwest::Method;

use crate::{enc, Client, ClientError, Result};

impl Client {
    pub async fn host(&self) -> Result<HostInfo> {
        self.get("/api/host").await
    }

    /// The host's performance samples taken after `since` (epoch seconds).
    pub async fn perf(&self, since: i64) -> Result<PerfSamples> {
        self.get(&format!("/api/perf?since={since}")).await
    }

    /// The host's changes since `since`, waiting up to `wait_secs` for one.
    pub async fn updates(&self, since: u64, wait_secs: u64) -> Result<HostUpdates> {
        let path = format!("/api/updates?since={since}&wait={wait_secs}");
        // Longer than the wait, shorter than the default: a host that went
        // silent is noticed soon.
        let timeout = Duration::from_secs(wait_secs + 15);
        let resp = self
            .send_with(Method::GET, &path, None::<&()>, Some(timeout))
            .await?;
        resp.json()
            .await
            .map_err(|e| ClientError::Http(format!("decoding {path}: {e}")))
    }

    pub async fn certificate_request(&self) -> Result<CertificateRequest> {
        self.call(Method::POST, "/api/host/certificate/request", None::<&()>)
            .await
    }

    pub async fn install_certificate(
        &self,
        req: &CertificateInstall,
    ) -> Result<CertificateInstalled> {
        self.call(Method::PUT, "/api/host/certificate", Some(req))
            .await
    }

    pub async fn set_lockdown(&self, enabled: bool) -> Result<Lockdown> {
        self.call(
            Method::PUT,
            "/api/host/lockdown",
            Some(&Lockdown { enabled }),
        )
        .await
    }
}

/// A center's managed hosts.
impl Client {
    /// Adds a host to a center; without a thumbprint the answer is a
    /// `thumbprint_required` error whose details name the host's.
    pub async fn add_host(&self, req: &AddHost) -> Result<InventoryObject> {
        self.call(Method::POST, "/api/hosts", Some(req)).await
    }

    pub async fn disconnect_host(&self, id: &str) -> Result<()> {
        let path = format!("/api/hosts/{}/disconnect", enc(id));
        self.call_unit(Method::POST, &path, None::<&()>).await
    }

    pub async fn reconnect_host(&self, id: &str, req: &Reconnect) -> Result<()> {
        let path = format!("/api/hosts/{}/reconnect", enc(id));
        self.call_unit(Method::POST, &path, Some(req)).await
    }

    pub async fn remove_host(&self, id: &str) -> Result<()> {
        let path = format!("/api/hosts/{}", enc(id));
        self.call_unit(Method::DELETE, &path, None::<&()>).await
    }

    pub async fn host_lockdown(&self, id: &str, enabled: bool) -> Result<()> {
        let path = format!("/api/hosts/{}/lockdown", enc(id));
        self.call_unit(Method::PUT, &path, Some(&Lockdown { enabled }))
            .await
    }

    /// Enters or leaves maintenance mode: the task that moves the VMs.
    pub async fn host_maintenance(&self, id: &str, req: &Maintenance) -> Result<Task> {
        let path = format!("/api/hosts/{}/maintenance", enc(id));
        self.call(Method::PUT, &path, Some(req)).await
    }

    /// A managed host's network, with its ports' counters.
    pub async fn host_network(&self, id: &str) -> Result<HostNetworkView> {
        self.get(&format!("/api/hosts/{}/network", enc(id))).await
    }
}

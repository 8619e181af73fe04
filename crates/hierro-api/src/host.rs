use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Served without authentication so that a client can see what it talks to
/// and pin the certificate (vSphere's `ServiceContent.about` analog).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct About {
    pub product: String,
    pub version: String,
    pub api: String,
    pub host_name: String,
    /// SHA-256 of the host's TLS certificate (DER), colon-separated hex.
    pub thumbprint: String,
}

/// `POST /api/host/certificate/request`: a signing request for a new key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CertificateRequest {
    pub csr_pem: String,
}

/// `PUT /api/host/certificate`: the signed certificate and its CA.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateInstall {
    pub cert_pem: String,
    pub ca_pem: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CertificateInstalled {
    pub thumbprint: String,
}

/// `GET/PUT /api/host/lockdown`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Lockdown {
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HostInfo {
    pub name: String,
    pub version: String,
    pub thumbprint: String,
    /// The accelerator VMs use: `kvm` or `tcg`.
    pub accel: String,
    /// The CPU's model name and feature flags (`/proc/cpuinfo`): under KVM
    /// guests see this CPU, so a VM moves only to a host with every flag.
    #[serde(default)]
    pub cpu_model: String,
    #[serde(default)]
    pub cpu_flags: Vec<String>,
    pub cpus: u32,
    pub memory_mib: u64,
    pub vms_running: u32,
    pub vms_total: u32,
    pub uptime_secs: u64,
    /// A center manages the host (it holds the center's service token).
    #[serde(default)]
    pub managed: bool,
}

/// `POST /api/hosts` on a center: add a host to manage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddHost {
    /// `address[:port]` of the host agent.
    pub address: String,
    pub username: String,
    pub password: String,
    /// The SHA-256 thumbprint the caller confirms; without it the answer
    /// says what the host presents.
    #[serde(default)]
    pub thumbprint: Option<String>,
    /// A cluster, datacenter or host folder.
    pub parent: String,
    /// Put the host in lockdown mode once added: its API then refuses
    /// everyone but the center and its break-glass account.
    #[serde(default)]
    pub lockdown: bool,
    /// Take the host over from another center that manages it.
    #[serde(default)]
    pub force: bool,
}

/// `POST /api/hosts/{id}/reconnect` on a center.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reconnect {
    /// New admin credentials, for a host that no longer accepts the
    /// center's service token.
    pub username: Option<String>,
    pub password: Option<String>,
    /// A new thumbprint to accept, for a host whose certificate changed.
    pub thumbprint: Option<String>,
}

/// `PUT /api/hosts/{id}/maintenance` on a center.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Maintenance {
    pub enabled: bool,
    /// Entering: also move the powered-off VMs to other hosts of the
    /// cluster (cold migration), as vSphere's "Move powered-off and
    /// suspended virtual machines to other hosts in the cluster". Without
    /// it they stay, registered here.
    #[serde(default)]
    pub move_powered_off: bool,
}

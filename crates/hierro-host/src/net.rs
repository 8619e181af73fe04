//! VM NICs on the host: QEMU creates each NIC's tap device, and the agent
//! plugs it into the network's Linux bridge. (vswitchd replaces the bridge
//! with port groups; the tap stays the VM's port.)

use crate::error::{ApiError, ApiResult};

/// Tap name of a VM's NIC: short (IFNAMSIZ is 16) and derived from the VM id,
/// so a restarted agent knows it again.
pub fn tap_name(vm: &uuid::Uuid, index: usize) -> String {
    format!("hv{}n{index}", &vm.simple().to_string()[..8])
}

async fn ip(args: &[&str]) -> ApiResult<()> {
    let out = tokio::process::Command::new("ip")
        .args(args)
        .output()
        .await
        .map_err(|e| ApiError::internal(format!("cannot run ip: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ApiError::backend(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

pub async fn plug(tap: &str, bridge: &str) -> ApiResult<()> {
    ip(&["link", "set", "dev", tap, "master", bridge, "up"]).await
}

/// A bridge must exist before a VM that uses it powers on.
pub fn bridge_exists(bridge: &str) -> bool {
    std::path::Path::new("/sys/class/net")
        .join(bridge)
        .join("bridge")
        .is_dir()
}

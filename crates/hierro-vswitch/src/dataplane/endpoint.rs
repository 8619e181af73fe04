//! Each port's endpoint on its interface: opened when the interface is
//! there (a VM's tap appears at power-on), its MTU and carrier.

use super::*;

pub(super) fn carrier(iface: &str) -> bool {
    std::fs::read_to_string(format!("/sys/class/net/{iface}/carrier"))
        .is_ok_and(|s| s.trim() == "1")
}

/// Opens the port's endpoint; a missing interface (a VM not running yet) is
/// not an error, it is retried.
pub(super) fn open_endpoint(e: &mut PortEntry) {
    let result = match e.spec.as_ref().map(|s| s.kind) {
        None => PacketSocket::bind(&e.iface, true).map(Endpoint::Packet),
        Some(PortKind::Vm) => PacketSocket::bind(&e.iface, false).map(Endpoint::Packet),
        Some(PortKind::Vmk) => Tap::open(&e.iface).and_then(|t| {
            let mac = e.spec.as_ref().map(|s| s.mac.clone()).unwrap_or_default();
            set_link(
                &e.iface,
                &["address", &mac, "mtu", &e.mtu.to_string(), "up"],
            )?;
            Ok(Endpoint::Tap(t))
        }),
    };
    match result {
        Ok(ep) => {
            if e.spec.as_ref().is_none_or(|s| s.kind == PortKind::Vm) {
                // A switch port, not an interface of the host: the host's
                // own IPv6 chatter must not leak into it.
                let _ = std::fs::write(
                    format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", e.iface),
                    "1",
                );
            }
            if e.spec.as_ref().is_none_or(|s| s.kind == PortKind::Vm) {
                let _ = set_link(&e.iface, &["mtu", &e.mtu.to_string(), "up"]);
            }
            if e.error.take().is_some() {
                tracing::info!(port = %e.key, iface = %e.iface, "port connected");
            }
            e.endpoint = Some(ep);
        }
        Err(err) => {
            let msg = err.to_string();
            if e.error.as_deref() != Some(&msg) {
                tracing::debug!(port = %e.key, iface = %e.iface, "port not connected: {msg}");
                e.error = Some(msg);
            }
        }
    }
}

/// `ip link set dev IFACE ...`.
pub(super) fn set_link(iface: &str, settings: &[&str]) -> std::io::Result<()> {
    let st = std::process::Command::new("ip")
        .args(["link", "set", "dev", iface])
        .args(settings)
        .stderr(std::process::Stdio::null())
        .status()?;
    if !st.success() {
        return Err(std::io::Error::other(format!(
            "ip link set dev {iface} {}: failed",
            settings.join(" ")
        )));
    }
    Ok(())
}

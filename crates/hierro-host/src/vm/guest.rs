//! Guest information from the guest agent.

use std::time::Duration;

use hierro_api::{GuestInfo, GuestInterface};
use hierro_qemu::Qga;
use serde::Deserialize;
use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(3);
/// The first question is short: while a guest boots nobody answers, and
/// `vm info` should not hang on that.
const PROBE: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
struct QgaInterface {
    name: String,
    #[serde(rename = "hardware-address", default)]
    mac: Option<String>,
    #[serde(rename = "ip-addresses", default)]
    addrs: Vec<QgaAddr>,
}

#[derive(Deserialize)]
struct QgaAddr {
    #[serde(rename = "ip-address")]
    ip: String,
    prefix: u8,
}

/// Asks the agent; a guest whose agent does not answer gets
/// `agent_running: false` and nothing else.
pub async fn query(qga: &Qga) -> GuestInfo {
    let Ok(info) = qga.call::<Value>("guest-info", json!({}), PROBE).await else {
        return GuestInfo::default();
    };
    let host_name = qga
        .call::<Value>("guest-get-host-name", json!({}), TIMEOUT)
        .await
        .ok()
        .and_then(|v| v["host-name"].as_str().map(str::to_string));
    let ifaces: Vec<QgaInterface> = qga
        .call("guest-network-get-interfaces", json!({}), TIMEOUT)
        .await
        .unwrap_or_default();
    let interfaces: Vec<GuestInterface> = ifaces
        .into_iter()
        .filter(|i| i.name != "lo")
        .map(|i| GuestInterface {
            name: i.name,
            mac: i.mac,
            ip_addresses: i
                .addrs
                .iter()
                .map(|a| format!("{}/{}", a.ip, a.prefix))
                .collect(),
        })
        .collect();
    GuestInfo {
        agent_running: true,
        agent_version: info["version"].as_str().map(str::to_string),
        host_name,
        ip_addresses: interfaces
            .iter()
            .flat_map(|i| i.ip_addresses.iter())
            .map(|a| a.split('/').next().unwrap_or(a).to_string())
            .collect(),
        interfaces,
    }
}

use axum::extract::State;
use axum::Json;
use hierro_api::{About, HostInfo, PowerState};

use super::{AppState, Caller};

pub async fn about(State(host): State<AppState>) -> Json<About> {
    Json(About {
        product: "Hierro host".into(),
        version: crate::VERSION.into(),
        api: "host/1".into(),
        host_name: host.config.name.clone(),
        thumbprint: host.thumbprint.clone(),
    })
}

pub async fn info(State(host): State<AppState>, _c: Caller) -> Json<HostInfo> {
    let vms = host.vms.list();
    let mem_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0);
    Json(HostInfo {
        name: host.config.name.clone(),
        version: crate::VERSION.into(),
        thumbprint: host.thumbprint.clone(),
        accel: host.accel.as_str().into(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1),
        memory_mib: mem_kib / 1024,
        vms_running: vms
            .iter()
            .filter(|v| v.power() == PowerState::PoweredOn)
            .count() as u32,
        vms_total: vms.len() as u32,
        uptime_secs: host.uptime().as_secs(),
    })
}

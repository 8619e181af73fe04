use axum::extract::State;
use axum::Json;
use hierro_api::{
    About, CertificateInstall, CertificateInstalled, CertificateRequest, HostInfo, HostUpdates,
    Lockdown, PerfSamples, PerfSince, PowerState, UpdatesQuery,
};

use hierro_http::{ApiError, ApiResult};

use super::{AppState, BadRequest, Caller, Forbidden, Unauthorized};

#[utoipa::path(
    get,
    path = "/api/about",
    tag = "session",
    operation_id = "about",
    description = "No session needed.",
    responses((status = 200, description = "What this host is", body = About))
)]
pub async fn about(State(host): State<AppState>) -> Json<About> {
    Json(About {
        product: "Hierro host".into(),
        version: crate::VERSION.into(),
        api: "host/1".into(),
        host_name: host.config.name.clone(),
        thumbprint: host.thumbprint(),
    })
}

#[utoipa::path(
    get,
    path = "/api/host",
    tag = "host",
    operation_id = "host_info",
    description = "The host's hardware, version and counts of VMs.",
    security(("session" = [])),
    responses((status = 200, description = "The host", body = HostInfo), Unauthorized)
)]
pub async fn info(State(host): State<AppState>, _c: Caller) -> Json<HostInfo> {
    let vms = host.vms.list();
    Json(HostInfo {
        name: host.config.name.clone(),
        version: crate::VERSION.into(),
        thumbprint: host.thumbprint(),
        accel: host.accel.as_str().into(),
        cpu_model: cpuinfo("model name").unwrap_or_default(),
        cpu_flags: cpuinfo("flags")
            .map(|f| f.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1),
        memory_mib: crate::memory_mib(),
        vms_running: vms
            .iter()
            .filter(|v| v.power() == PowerState::PoweredOn)
            .count() as u32,
        vms_total: vms.len() as u32,
        uptime_secs: host.uptime().as_secs(),
        managed: host.managed(),
    })
}

/// A field of the first processor in `/proc/cpuinfo`.
fn cpuinfo(field: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == field).then(|| v.trim().to_string())
    })
}

#[utoipa::path(
    get,
    path = "/api/host/lockdown",
    tag = "host",
    operation_id = "lockdown_get",
    description = "Whether lockdown mode is on.",
    security(("session" = [])),
    responses((status = 200, description = "Lockdown mode", body = Lockdown), Unauthorized)
)]
pub async fn lockdown(State(host): State<AppState>, _c: Caller) -> Json<hierro_api::Lockdown> {
    Json(hierro_api::Lockdown {
        enabled: host.lockdown(),
    })
}

/// Enables or disables lockdown (the center, or the break-glass account
/// while the center is down; anyone else is refused in lockdown anyway).
#[utoipa::path(
    put,
    path = "/api/host/lockdown",
    tag = "host",
    operation_id = "lockdown_set",
    description = "Turns lockdown mode on or off (the center, or the break-glass account while the center is down).",
    security(("session" = [])),
    request_body = Lockdown,
    responses((status = 200, description = "Lockdown mode, as set", body = Lockdown), BadRequest, Unauthorized, Forbidden)
)]
pub async fn set_lockdown(
    State(host): State<AppState>,
    c: Caller,
    super::Body(req): super::Body<hierro_api::Lockdown>,
) -> ApiResult<Json<hierro_api::Lockdown>> {
    host.set_lockdown(req.enabled, &c.user)?;
    Ok(Json(req))
}

/// The change feed the center follows: answers at once when something
/// changed since `since`, otherwise at the first change or after `wait`.
#[utoipa::path(
    get,
    path = "/api/updates",
    tag = "host",
    operation_id = "updates",
    description = "The change feed a center follows: answers at once when something changed since `since`, otherwise at the first change or after `wait` seconds (at most 60).",
    security(("session" = [])),
    params(UpdatesQuery),
    responses((status = 200, description = "What changed", body = HostUpdates), BadRequest, Unauthorized)
)]
pub async fn updates(
    State(host): State<AppState>,
    _c: Caller,
    hierro_http::Params(q): hierro_http::Params<UpdatesQuery>,
) -> Json<hierro_api::HostUpdates> {
    let wait = std::time::Duration::from_secs(q.wait.min(60));
    host.journal.wait_past(q.since, wait).await;
    Json(crate::updates::since(&host, q.since).await)
}

/// The performance samples of the last hour after `since`.
#[utoipa::path(
    get,
    path = "/api/perf",
    tag = "host",
    operation_id = "perf_samples",
    description = "The performance samples of the last hour taken after `since`.",
    security(("session" = [])),
    params(PerfSince),
    responses((status = 200, description = "The samples", body = PerfSamples), BadRequest, Unauthorized)
)]
pub async fn perf(
    State(host): State<AppState>,
    _c: Caller,
    hierro_http::Params(q): hierro_http::Params<hierro_api::PerfSince>,
) -> Json<hierro_api::PerfSamples> {
    Json(host.perf.since(q.since))
}

/// A new key and its signing request, for the center's CA to sign.
#[utoipa::path(
    post,
    path = "/api/host/certificate/request",
    tag = "host",
    operation_id = "certificate_request",
    description = "A new key and its signing request, for the center's certificate authority to sign.",
    security(("session" = [])),
    responses((status = 200, description = "The request", body = CertificateRequest), Unauthorized)
)]
pub async fn certificate_request(
    State(host): State<AppState>,
    _c: Caller,
) -> ApiResult<Json<hierro_api::CertificateRequest>> {
    let csr_pem = crate::tls::request(&host.config.data_dir, &host.config.name)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(hierro_api::CertificateRequest { csr_pem }))
}

/// Installs the signed certificate; answers with its thumbprint.
#[utoipa::path(
    put,
    path = "/api/host/certificate",
    tag = "host",
    operation_id = "certificate_install",
    description = "Installs the signed certificate for the key of the last request.",
    security(("session" = [])),
    request_body = CertificateInstall,
    responses((status = 200, description = "The new certificate's thumbprint", body = CertificateInstalled), BadRequest, Unauthorized)
)]
pub async fn install_certificate(
    State(host): State<AppState>,
    c: Caller,
    super::Body(req): super::Body<hierro_api::CertificateInstall>,
) -> ApiResult<Json<hierro_api::CertificateInstalled>> {
    let thumbprint = host.install_certificate(&req, &c.user).await?;
    Ok(Json(hierro_api::CertificateInstalled { thumbprint }))
}

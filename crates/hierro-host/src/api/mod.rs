//! The host REST API: thin handlers that parse, authenticate and call the
//! logic. Every route except `/api/about` and login needs a session.

mod console;
mod datastore;
mod host;
mod network;
mod session;
mod task;
mod vm;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{get, post, put};
use axum::Router;

pub use hierro_http::Body;

use crate::error::ApiError;
use crate::Host;

pub type AppState = Arc<Host>;

pub fn router(host: Arc<Host>) -> Router {
    Router::new()
        .route("/api/about", get(host::about))
        .route("/api/session", post(session::login).delete(session::logout))
        .route("/api/host", get(host::info))
        .route("/api/updates", get(host::updates))
        .route(
            "/api/host/certificate/request",
            post(host::certificate_request),
        )
        .route("/api/host/certificate", put(host::install_certificate))
        .route(
            "/api/host/lockdown",
            get(host::lockdown).put(host::set_lockdown),
        )
        .route("/api/service-tokens", post(session::create_service_token))
        .route(
            "/api/service-tokens/{name}",
            axum::routing::delete(session::revoke_service_token),
        )
        .route("/api/datastores", get(datastore::list).post(datastore::add))
        .route("/api/vms", get(vm::list).post(vm::create))
        .route(
            "/api/vms/{vm}",
            get(vm::info).patch(vm::update).delete(vm::delete),
        )
        .route("/api/vms/{vm}/power/{op}", post(vm::power))
        .route("/api/vms/{vm}/migrate", post(vm::migrate))
        .route("/api/vms/{vm}/unregister", post(vm::unregister))
        .route("/api/vms/register", post(vm::register))
        .route("/api/migrations/incoming", post(vm::incoming))
        .route("/api/vms/{vm}/console", get(console::connect))
        .route(
            "/api/vms/{vm}/snapshots",
            get(vm::snapshots).post(vm::snapshot_create),
        )
        .route(
            "/api/vms/{vm}/snapshots/{name}",
            axum::routing::delete(vm::snapshot_delete),
        )
        .route(
            "/api/vms/{vm}/snapshots/{name}/revert",
            post(vm::snapshot_revert),
        )
        .route("/api/network", get(network::get))
        .route("/api/network/vswitches", post(network::add_vswitch))
        .route(
            "/api/network/vswitches/{name}",
            put(network::set_vswitch).delete(network::remove_vswitch),
        )
        .route("/api/network/portgroups", post(network::add_portgroup))
        .route(
            "/api/network/portgroups/{name}",
            put(network::set_portgroup).delete(network::remove_portgroup),
        )
        .route("/api/network/distributed", put(network::set_distributed))
        .route("/api/network/mirrors", post(network::add_mirror))
        .route(
            "/api/network/mirrors/{name}",
            put(network::set_mirror).delete(network::remove_mirror),
        )
        .route("/api/network/vmknics", post(network::add_vmknic))
        .route(
            "/api/network/vmknics/{name}",
            axum::routing::delete(network::remove_vmknic),
        )
        .route("/api/network/ports", get(network::ports))
        .route("/api/network/capture", post(network::capture))
        .route("/api/perf", get(host::perf))
        .route("/api/tasks", get(task::list))
        .route("/api/tasks/{id}", get(task::get))
        .route("/api/tasks/{id}/cancel", post(task::cancel))
        .route("/api/events", get(task::events))
        .fallback(|| async { ApiError::not_found("no such API endpoint") })
        .with_state(host)
}

pub fn lockdown_refusal() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "lockdown",
        "the host is in lockdown mode: manage it through its center, or use the break-glass account",
    )
}

/// The authenticated caller. Taken from the `hierro-session` header, or from
/// a `session` query parameter for WebSockets (browsers cannot set headers
/// there).
pub struct Caller {
    pub user: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, host: &AppState) -> Result<Self, ApiError> {
        let token = hierro_http::session_token(parts)
            .ok_or_else(|| ApiError::unauthorized("log in first: POST /api/session"))?;
        let user = host
            .sessions
            .store
            .check(&token)
            .or_else(|| host.service_token_user(&token))
            .ok_or_else(|| {
                ApiError::unauthorized("the session is unknown or expired; log in again")
            })?;
        if !host.may_use_api(&user) {
            return Err(lockdown_refusal());
        }
        Ok(Caller { user })
    }
}

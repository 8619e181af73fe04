//! The host REST API: thin handlers that parse, authenticate and call the
//! logic. Every route except `/api/about`, `/api/openapi.json` and login
//! needs a session. Each handler's `#[utoipa::path]` names its route: the
//! router and the OpenAPI document are built from the same list.

mod console;
mod datastore;
mod display;
mod host;
mod network;
mod session;
mod task;
mod vm;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::Router;
use hierro_http::openapi::SessionScheme;
pub use hierro_http::openapi::{
    BadRequest, Conflict, Forbidden, HostFailed, NotFound, TooManyRequests, Unauthorized,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use hierro_http::Body;

use crate::Host;
use hierro_http::ApiError;

pub type AppState = Arc<Host>;

pub fn router(host: Arc<Host>) -> Router {
    let (router, doc) = routes().split_for_parts();
    let router = hierro_http::openapi::router(router, &doc)
        .fallback(|| async { ApiError::not_found("no such API endpoint") });
    hierro_http::secure_headers(router).with_state(host)
}

/// The host API's OpenAPI document (served at `GET /api/openapi.json`,
/// committed as `openapi/host.json`).
#[cfg(test)]
fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// Every route with its OpenAPI operation (`GET /api/openapi.json`), from
/// one list. `routes!` takes the handlers of one path.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(host::about))
        .routes(routes!(hierro_http::openapi::openapi))
        .routes(routes!(session::login, session::logout))
        .routes(routes!(session::create_service_token))
        .routes(routes!(session::revoke_service_token))
        .routes(routes!(host::info))
        .routes(routes!(host::updates))
        .routes(routes!(host::certificate_request))
        .routes(routes!(host::install_certificate))
        .routes(routes!(host::lockdown, host::set_lockdown))
        .routes(routes!(host::perf))
        .routes(routes!(datastore::list, datastore::add))
        .routes(routes!(datastore::browse))
        .routes(routes!(
            datastore::download,
            datastore::upload,
            datastore::delete
        ))
        .routes(routes!(datastore::mkdir))
        .routes(routes!(datastore::move_file))
        .routes(routes!(vm::list, vm::create))
        .routes(routes!(vm::info, vm::update, vm::delete))
        .routes(routes!(vm::power))
        .routes(routes!(vm::migrate))
        .routes(routes!(vm::unregister))
        .routes(routes!(vm::register))
        .routes(routes!(vm::incoming))
        .routes(routes!(console::connect))
        .routes(routes!(display::screenshot))
        .routes(routes!(display::ticket))
        .routes(routes!(display::vnc))
        .routes(routes!(vm::snapshots, vm::snapshot_create))
        .routes(routes!(vm::snapshot_delete))
        .routes(routes!(vm::snapshot_revert))
        .routes(routes!(network::get))
        .routes(routes!(network::add_vswitch))
        .routes(routes!(network::set_vswitch, network::remove_vswitch))
        .routes(routes!(network::add_portgroup))
        .routes(routes!(network::set_portgroup, network::remove_portgroup))
        .routes(routes!(network::set_distributed))
        .routes(routes!(network::add_mirror))
        .routes(routes!(network::set_mirror, network::remove_mirror))
        .routes(routes!(network::add_vmknic))
        .routes(routes!(network::remove_vmknic))
        .routes(routes!(network::ports))
        .routes(routes!(network::capture))
        .routes(routes!(network::capture_download, network::capture_delete))
        .routes(routes!(task::list))
        .routes(routes!(task::get))
        .routes(routes!(task::cancel))
        .routes(routes!(task::events))
}

/// The document's frame; `routes()` adds the paths and schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hierro host API",
        version = crate::VERSION,
        description = "A host agent's REST API: its VMs, datastores, network, tasks and events. Once a center manages the host, lockdown mode keeps everyone else out."
    ),
    modifiers(&SessionScheme),
    // What `routes!` does not collect: the error responses' schema and the
    // path parameters' types.
    components(schemas(hierro_api::ErrorBody, hierro_api::PowerOp)),
    tags(
        (name = "session", description = "What the host is, logging in and out, service tokens"),
        (name = "host", description = "The host: hardware, lockdown, certificate, change feed, performance samples"),
        (name = "datastores", description = "Datastores and their files: browse, upload, download, make folders, delete, move"),
        (name = "vms", description = "VMs: lifecycle, power, snapshots, console, migration"),
        (name = "network", description = "Standard and distributed switches, port groups, VMkernel ports, mirror sessions, ports and captures"),
        (name = "tasks", description = "Tasks and events"),
    )
)]
struct ApiDoc;

pub fn lockdown_refusal() -> ApiError {
    ApiError::new(
        hierro_api::ErrorCode::Lockdown,
        "the host is in lockdown mode: manage it through its center, or use the break-glass account",
    )
}

/// The authenticated caller. Taken from the `hierro-session` header, or from
/// a `session` query parameter for WebSockets (browsers cannot set headers
/// there).
pub struct Caller {
    pub user: String,
    /// The session token (or service token) it came with.
    pub session: String,
}

impl Caller {
    /// Who holds `token`, a live session or service token, if the host lets
    /// them in (lockdown).
    pub fn from_token(host: &AppState, token: String) -> Result<Self, ApiError> {
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
        Ok(Caller {
            user,
            session: token,
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, host: &AppState) -> Result<Self, ApiError> {
        let token = hierro_http::session_token(parts)
            .ok_or_else(|| ApiError::unauthorized("log in first: POST /api/session"))?;
        Caller::from_token(host, token)
    }
}

/// The host's failures as the API's answer: the code says the status.
impl From<crate::error::HostError> for ApiError {
    fn from(e: crate::error::HostError) -> Self {
        ApiError::from(e.info())
    }
}

#[cfg(test)]
mod tests {
    /// The committed document is the code's (`HIERRO_WRITE_OPENAPI=1 cargo
    /// test -p hierro-host openapi` writes it anew).
    /// Every operation lists the statuses its kind of input can bring.
    #[test]
    fn the_openapi_document_lists_the_statuses_answered() {
        let missing =
            hierro_http::openapi::missing_statuses(&super::openapi(), &["DELETE /api/session"]);
        assert!(missing.is_empty(), "{missing:#?}");
    }

    #[test]
    fn the_committed_openapi_document_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/host.json");
        let now = hierro_http::openapi::pretty(&super::openapi());
        if std::env::var_os("HIERRO_WRITE_OPENAPI").is_some() {
            std::fs::write(path, &now).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == now,
            "openapi/host.json differs from the API's document: \
             run HIERRO_WRITE_OPENAPI=1 cargo test -p hierro-host openapi, and commit it"
        );
    }
}

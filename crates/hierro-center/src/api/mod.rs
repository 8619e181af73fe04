//! The center's REST API. Every handler's `#[utoipa::path]` names its route,
//! and its file's `ACCESS` table the privileges it needs and on which
//! object: the router and the OpenAPI document (`GET /api/openapi.json`,
//! committed as `openapi/center.json`) are built from the same list, so
//! they cannot drift apart. Handlers are thin: parse, authorize, call one
//! operation (`ops`) or a store, and map its error to the answer (here
//! only).

mod access;
mod console;
mod datastore;
mod directory;
mod dvswitch;
mod host;
mod inventory;
mod perf;
mod privileges;
mod session;
mod task;
mod vm;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::Router;
use hierro_api::ErrorBody;
use hierro_http::openapi::SessionScheme;
pub use hierro_http::openapi::{
    BadRequest, Conflict, Forbidden, HostFailed, NotFound, TooManyRequests, Unauthorized,
};
use hierro_http::ApiError;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::authz::Subject;
use crate::ops::OpError;
pub use crate::ops::{authorize, rights, vm_ref, Caller};
use crate::Center;

pub type AppState = Arc<Center>;

pub fn router(center: Arc<Center>) -> Router {
    let (router, doc) = routes().split_for_parts();
    let router = hierro_http::openapi::router(router, &document(doc));
    let web = center.config.web_dir.clone();
    let not_found = || async { ApiError::not_found("no such API endpoint") };
    let router = router.route("/api/{*rest}", axum::routing::any(not_found));
    let router = match web {
        // The web client's files; any other path is one of its pages.
        Some(dir) => {
            let index = tower_http::services::ServeFile::new(dir.join("index.html"));
            router.fallback_service(tower_http::services::ServeDir::new(&dir).fallback(index))
        }
        None => router.fallback(not_found),
    };
    hierro_http::secure_headers(router).with_state(center)
}

/// The center API's OpenAPI document (served at `GET /api/openapi.json`,
/// committed as `openapi/center.json`).
#[cfg(test)]
fn openapi() -> utoipa::openapi::OpenApi {
    document(routes().split_for_parts().1)
}

/// Every operation's needs, as each handler file declares them.
const ACCESS: &[&[(&str, privileges::Access)]] = &[
    access::ACCESS,
    console::ACCESS,
    datastore::ACCESS,
    directory::ACCESS,
    dvswitch::ACCESS,
    host::ACCESS,
    inventory::ACCESS,
    perf::ACCESS,
    session::ACCESS,
    task::ACCESS,
    vm::ACCESS,
];

/// The routes' document with each operation's "Privilege:" line.
fn document(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    privileges::write(&mut doc, ACCESS);
    doc
}

/// Every route with its OpenAPI operation. `routes!` takes the handlers of
/// one path (given several paths, it would route every handler on each).
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        // No session needed (DELETE /api/session ends the one it is given).
        .routes(routes!(session::about))
        .routes(routes!(session::health))
        .routes(routes!(session::login, session::logout))
        .routes(routes!(hierro_http::openapi::openapi))
        // A session, and the privilege each handler's description names.
        .routes(routes!(access::privileges))
        .routes(routes!(session::tokens, session::create_token))
        .routes(routes!(session::revoke_token))
        .routes(routes!(inventory::search, inventory::create))
        .routes(routes!(
            inventory::get,
            inventory::update,
            inventory::remove
        ))
        .routes(routes!(inventory::children))
        .routes(routes!(host::add))
        .routes(routes!(host::network))
        .routes(routes!(host::add_portgroup))
        .routes(routes!(host::set_portgroup, host::remove_portgroup))
        .routes(routes!(perf::series))
        .routes(routes!(host::disconnect))
        .routes(routes!(host::reconnect))
        .routes(routes!(host::remove))
        .routes(routes!(host::lockdown))
        .routes(routes!(host::maintenance))
        .routes(routes!(datastore::browse))
        .routes(routes!(
            datastore::download,
            datastore::upload,
            datastore::delete
        ))
        .routes(routes!(datastore::mkdir))
        .routes(routes!(datastore::move_file))
        .routes(routes!(dvswitch::create))
        .routes(routes!(dvswitch::update, dvswitch::delete))
        .routes(routes!(dvswitch::add_host, dvswitch::remove_host))
        .routes(routes!(vm::list, vm::create))
        .routes(routes!(vm::info, vm::update, vm::delete))
        .routes(routes!(vm::power))
        .routes(routes!(vm::migrate))
        .routes(routes!(vm::clone))
        .routes(routes!(vm::unregister))
        .routes(routes!(vm::register))
        .routes(routes!(console::console))
        .routes(routes!(console::screenshot))
        .routes(routes!(console::ticket))
        .routes(routes!(console::vnc))
        .routes(routes!(vm::snapshots, vm::snapshot_create))
        .routes(routes!(vm::snapshot_delete))
        .routes(routes!(vm::snapshot_revert))
        .routes(routes!(directory::users, directory::create_user))
        .routes(routes!(directory::delete_user))
        .routes(routes!(directory::groups, directory::create_group))
        .routes(routes!(directory::delete_group))
        .routes(routes!(directory::add_member, directory::remove_member))
        .routes(routes!(access::roles, access::create_role))
        .routes(routes!(access::update_role, access::delete_role))
        .routes(routes!(
            access::permissions,
            access::set_permission,
            access::remove_permission
        ))
        .routes(routes!(access::effective))
        .routes(routes!(task::tasks))
        .routes(routes!(task::task))
        .routes(routes!(task::cancel_task))
        .routes(routes!(task::events))
        .routes(routes!(task::stream))
}

/// The document's frame; `routes()` adds the paths and schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hierro center API",
        version = crate::VERSION,
        description = "The center's REST API: inventory, hosts, VMs, users, roles and permissions, tasks and events."
    ),
    modifiers(&SessionScheme),
    // What `routes!` does not collect: the schemas of the error responses
    // below and of path and query parameters.
    components(schemas(ErrorBody, hierro_api::PowerOp, crate::inventory::ObjectKind)),
    tags(
        (name = "session", description = "What the center is, logging in and out, API tokens"),
        (name = "inventory", description = "The inventory tree: folders, datacenters, clusters, hosts, VMs, datastores, networks"),
        (name = "hosts", description = "Managed hosts: add, disconnect, reconnect, remove, lockdown"),
        (name = "datastores", description = "Datastores' files, through a host that sees each: browse, upload, download, make folders, delete, move"),
        (name = "vms", description = "VMs through the center, with the host API's paths and bodies"),
        (name = "network", description = "Distributed switches: their port groups, policies, teaming, mirror sessions and member hosts"),
        (name = "directory", description = "Users and groups"),
        (name = "access", description = "Privileges, roles, permissions and effective rights"),
        (name = "tasks", description = "Tasks and events"),
        (name = "perf", description = "Performance counters of hosts and VMs, real-time and rolled up"),
    )
)]
struct ApiDoc;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, center: &AppState) -> Result<Self, ApiError> {
        Ok(Session::from_request_parts(parts, center).await?.caller)
    }
}

/// The caller with the session (or API token) it came with: what a console
/// ticket is tied to.
pub struct Session {
    pub caller: Caller,
    pub token: String,
}

impl Session {
    /// Who holds `token`, if it is a live session or API token.
    pub async fn of(center: &AppState, token: String) -> Result<Self, ApiError> {
        let by_token = token.starts_with(crate::tokens::PREFIX);
        let user = if by_token {
            crate::tokens::user_of(&center.db, &token)
                .await
                .map_err(internal)?
        } else {
            center.sessions.check(&token)
        };
        let user = user.ok_or_else(|| {
            ApiError::unauthorized("the session or token is unknown or expired; log in again")
        })?;
        let groups = crate::directory::groups_of(&center.db, &user)
            .await
            .map_err(internal)?;
        Ok(Session {
            caller: Caller {
                subject: Subject::user(&user, groups),
                user,
                by_token,
            },
            token,
        })
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, center: &AppState) -> Result<Self, ApiError> {
        let token = hierro_http::session_token(parts)
            .ok_or_else(|| ApiError::unauthorized("log in first: POST /api/session"))?;
        Session::of(center, token).await
    }
}

pub fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e.to_string())
}

/// A test's request that step N of a saga fail (`hierro-fail-step: N`),
/// honoured only by a center configured with `fault_injection = true`.
pub struct FailStep(pub Option<usize>);

impl FromRequestParts<AppState> for FailStep {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, center: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(hierro_api::FAIL_STEP_HEADER) else {
            return Ok(FailStep(None));
        };
        if !center.config.fault_injection {
            return Err(ApiError::bad_request(format!(
                "{} is for tests: this center runs without fault_injection",
                hierro_api::FAIL_STEP_HEADER
            )));
        }
        let step = value
            .to_str()
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0);
        match step {
            Some(n) => Ok(FailStep(Some(n))),
            None => Err(ApiError::bad_request(format!(
                "{} takes a step number from 1",
                hierro_api::FAIL_STEP_HEADER
            ))),
        }
    }
}

/// An operation's failure as the API's answer: its code says the status.
impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        if let OpError::Store(crate::error::StoreError::Db(db)) = &e {
            tracing::warn!("database: {db}");
        }
        ApiError::from(e.info())
    }
}

impl From<crate::error::StoreError> for ApiError {
    fn from(e: crate::error::StoreError) -> Self {
        use crate::error::StoreError::*;
        match e {
            NotFound(m) => ApiError::not_found(m),
            Invalid(m) => ApiError::bad_request(m),
            Conflict(m) => ApiError::conflict(m),
            Db(e) => internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation that needs a session says which privileges, and every
    /// entry names an operation.
    #[test]
    fn every_operation_names_its_privileges() {
        let mut doc = routes().split_for_parts().1;
        let (missing, unused) = privileges::write(&mut doc, ACCESS);
        assert!(missing.is_empty(), "no privileges for {missing:?}");
        assert!(unused.is_empty(), "entries for no operation: {unused:?}");
    }

    /// The committed document is the code's (`HIERRO_WRITE_OPENAPI=1 cargo
    /// test -p hierro-center openapi` writes it anew).
    /// Every operation lists the statuses its kind of input can bring.
    #[test]
    fn the_openapi_document_lists_the_statuses_answered() {
        let missing =
            hierro_http::openapi::missing_statuses(&super::openapi(), &["DELETE /api/session"]);
        assert!(missing.is_empty(), "{missing:#?}");
    }

    #[test]
    fn the_committed_openapi_document_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/center.json");
        let now = hierro_http::openapi::pretty(&openapi());
        if std::env::var_os("HIERRO_WRITE_OPENAPI").is_some() {
            std::fs::write(path, &now).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == now,
            "openapi/center.json differs from the API's document: \
             run HIERRO_WRITE_OPENAPI=1 cargo test -p hierro-center openapi, and commit it"
        );
    }
}

//! The center's REST API. Every handler's `#[utoipa::path]` names its route
//! and, in its description, the privilege it needs and on which object: the
//! router and the OpenAPI document (`GET /api/openapi.json`) are built from
//! the same list, so they cannot drift apart. Handlers are thin: parse,
//! authorize, call the store.

mod access;
mod directory;
mod dvswitches;
mod hosts;
mod inventory;
mod journal;
mod perf;
mod session;
mod vms;

use hierro_api::Privilege;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::Router;
use hierro_api::ErrorBody;
use hierro_http::openapi::SessionScheme;
pub use hierro_http::openapi::{
    BadRequest, Conflict, Forbidden, HostFailed, NotFound, Unauthorized,
};
use hierro_http::{ApiError, ApiResult};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::authz::{Decision, Subject};
use crate::inventory::ROOT;
use crate::server::Center;

pub type AppState = Arc<Center>;

pub fn router(center: Arc<Center>) -> Router {
    let router = hierro_http::openapi::router(routes());
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
    router.with_state(center)
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
        .routes(routes!(hosts::add))
        .routes(routes!(hosts::network))
        .routes(routes!(hosts::add_portgroup))
        .routes(routes!(hosts::set_portgroup, hosts::remove_portgroup))
        .routes(routes!(perf::series))
        .routes(routes!(hosts::disconnect))
        .routes(routes!(hosts::reconnect))
        .routes(routes!(hosts::remove))
        .routes(routes!(hosts::lockdown))
        .routes(routes!(hosts::maintenance))
        .routes(routes!(dvswitches::create))
        .routes(routes!(dvswitches::update, dvswitches::delete))
        .routes(routes!(dvswitches::add_host, dvswitches::remove_host))
        .routes(routes!(vms::list, vms::create))
        .routes(routes!(vms::info, vms::update, vms::delete))
        .routes(routes!(vms::power))
        .routes(routes!(vms::migrate))
        .routes(routes!(vms::clone))
        .routes(routes!(vms::unregister))
        .routes(routes!(vms::register))
        .routes(routes!(vms::console))
        .routes(routes!(vms::snapshots, vms::snapshot_create))
        .routes(routes!(vms::snapshot_delete))
        .routes(routes!(vms::snapshot_revert))
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
        .routes(routes!(journal::tasks))
        .routes(routes!(journal::task))
        .routes(routes!(journal::cancel_task))
        .routes(routes!(journal::events))
        .routes(routes!(journal::stream))
}

/// The document's frame; `routes()` adds the paths and schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hierro center API",
        version = crate::server::VERSION,
        description = "The center's REST API: inventory, hosts, VMs, users, roles and permissions, tasks and events."
    ),
    modifiers(&SessionScheme),
    // What `routes!` does not collect: the schemas of the error responses
    // below and of path and query parameters.
    components(schemas(ErrorBody, hierro_api::PowerOp, crate::inventory::Kind)),
    tags(
        (name = "session", description = "What the center is, logging in and out, API tokens"),
        (name = "inventory", description = "The inventory tree: folders, datacenters, clusters, hosts, VMs, datastores, networks"),
        (name = "hosts", description = "Managed hosts: add, disconnect, reconnect, remove, lockdown"),
        (name = "vms", description = "VMs through the center, with the host API's paths and bodies"),
        (name = "network", description = "Distributed switches: their port groups, policies, teaming, mirror sessions and member hosts"),
        (name = "directory", description = "Users and groups"),
        (name = "access", description = "Privileges, roles, permissions and effective rights"),
        (name = "tasks", description = "Tasks and events"),
        (name = "perf", description = "Performance counters of hosts and VMs, real-time and rolled up"),
    )
)]
struct ApiDoc;

/// The authenticated caller and its groups.
pub struct Caller {
    pub user: String,
    pub subject: Subject,
    /// Authenticated by an API token rather than a login session.
    pub by_token: bool,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, center: &AppState) -> Result<Self, ApiError> {
        let token = hierro_http::session_token(parts)
            .ok_or_else(|| ApiError::unauthorized("log in first: POST /api/session"))?;
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
        Ok(Caller {
            subject: Subject::user(&user, groups),
            user,
            by_token,
        })
    }
}

pub fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e.to_string())
}

/// The caller's rights on an object (the object must exist).
pub async fn rights(center: &Center, subject: &Subject, object: &str) -> ApiResult<Decision> {
    let (authz, path) = crate::access::load_path(&center.db, object)
        .await
        .map_err(internal)?;
    if path.is_empty() {
        return Err(ApiError::not_found(format!(
            "no inventory object {object:?}"
        )));
    }
    Ok(authz.effective(subject, &path))
}

/// Refuses unless the caller holds `privilege` on `object`. An object the
/// caller may not even see is reported as missing, as vSphere hides it.
pub async fn authorize(
    center: &Center,
    caller: &Caller,
    object: &str,
    privilege: Privilege,
) -> ApiResult<()> {
    let d = rights(center, &caller.subject, object).await?;
    // (The root is no secret: it always exists.)
    if !d.visible() && object != ROOT {
        return Err(ApiError::not_found(format!(
            "no inventory object {object:?}"
        )));
    }
    if !d.allows(privilege) {
        return Err(ApiError::forbidden(format!(
            "{} lacks the privilege {privilege} on {object}",
            caller.user
        )));
    }
    Ok(())
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

//! The center's REST API. Every route names, next to it, the privilege it
//! needs and on which object: the whole permission surface in one place.
//! Handlers are thin: parse, authorize, call the store.

mod access;
mod directory;
mod hosts;
mod inventory;
mod journal;
mod session;
mod vms;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::Router;
use hierro_http::{ApiError, ApiResult};

use crate::authz::{Decision, Subject};
use crate::inventory::ROOT;
use crate::server::Center;

pub type AppState = Arc<Center>;

pub fn router(center: Arc<Center>) -> Router {
    Router::new()
        // No session needed.
        .route("/api/about", get(session::about))
        .route("/api/health", get(session::health))
        .route("/api/session", post(session::login).delete(session::logout))
        // Any session.
        .route("/api/privileges", get(access::privileges))
        // Own tokens; everyone's with Global.Settings on the root.
        .route(
            "/api/tokens",
            get(session::tokens).post(session::create_token),
        )
        .route("/api/tokens/{id}", delete(session::revoke_token))
        // System.View on each object listed (the others are left out).
        .route(
            "/api/inventory",
            get(inventory::search).post(inventory::create),
        )
        // GET: System.View on it. PATCH: <kind>.Rename / <kind>.Move on it (and
        // Folder.Create on a new parent). DELETE: <kind>.Delete on it.
        .route(
            "/api/inventory/{id}",
            get(inventory::get)
                .patch(inventory::update)
                .delete(inventory::remove),
        )
        .route("/api/inventory/{id}/children", get(inventory::children))
        // Host.Inventory.AddHostToCluster on a cluster, AddStandaloneHost elsewhere.
        .route("/api/hosts", post(hosts::add))
        // Host.Config.Connection on the host.
        .route("/api/hosts/{id}/disconnect", post(hosts::disconnect))
        .route("/api/hosts/{id}/reconnect", post(hosts::reconnect))
        // Host.Inventory.RemoveHostFromCluster on the host.
        .route("/api/hosts/{id}", delete(hosts::remove))
        // Host.Config.Settings on the host.
        .route(
            "/api/hosts/{id}/lockdown",
            axum::routing::put(hosts::lockdown),
        )
        // VMs, with the host API's paths. POST: see vms::create; GET: the
        // visible ones.
        .route("/api/vms", get(vms::list).post(vms::create))
        // GET: System.View; PATCH: see vms::update; DELETE:
        // VirtualMachine.Inventory.Delete (on the VM).
        .route(
            "/api/vms/{vm}",
            get(vms::info).patch(vms::update).delete(vms::delete),
        )
        // VirtualMachine.Interact.PowerOn / PowerOff / Reset on the VM.
        .route("/api/vms/{vm}/power/{op}", post(vms::power))
        // VirtualMachine.Interact.ConsoleInteract on the VM.
        .route("/api/vms/{vm}/console", get(vms::console))
        // GET: System.View; POST: VirtualMachine.State.CreateSnapshot.
        .route(
            "/api/vms/{vm}/snapshots",
            get(vms::snapshots).post(vms::snapshot_create),
        )
        // VirtualMachine.State.RemoveSnapshot on the VM.
        .route(
            "/api/vms/{vm}/snapshots/{name}",
            delete(vms::snapshot_delete),
        )
        // VirtualMachine.State.RevertToSnapshot on the VM.
        .route(
            "/api/vms/{vm}/snapshots/{name}/revert",
            post(vms::snapshot_revert),
        )
        // GET: System.View on the root. Changes: Global.Settings on the root.
        .route(
            "/api/users",
            get(directory::users).post(directory::create_user),
        )
        .route("/api/users/{name}", delete(directory::delete_user))
        .route(
            "/api/groups",
            get(directory::groups).post(directory::create_group),
        )
        .route("/api/groups/{name}", delete(directory::delete_group))
        .route(
            "/api/groups/{name}/members/{user}",
            post(directory::add_member).delete(directory::remove_member),
        )
        // GET: System.View on the root. Changes: Authorization.ModifyRoles on the root.
        .route("/api/roles", get(access::roles).post(access::create_role))
        .route(
            "/api/roles/{id}",
            axum::routing::put(access::update_role).delete(access::delete_role),
        )
        // GET: System.Read on the object. Changes: Authorization.ModifyPermissions on the object.
        .route(
            "/api/permissions",
            get(access::permissions)
                .post(access::set_permission)
                .delete(access::remove_permission),
        )
        // Own rights: System.View on the object; another principal's:
        // Authorization.ModifyPermissions on it.
        .route("/api/effective", get(access::effective))
        // What the caller may see (the objects it has System.View on).
        .route("/api/tasks", get(journal::tasks))
        .route("/api/tasks/{id}", get(journal::task))
        .route("/api/events", get(journal::events))
        .route("/api/events/stream", get(journal::stream))
        .fallback(|| async { ApiError::not_found("no such API endpoint") })
        .with_state(center)
}

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
    privilege: &str,
) -> ApiResult<()> {
    let d = rights(center, &caller.subject, object).await?;
    // (The root is no secret: it always exists.)
    if !d.visible() && object != ROOT {
        return Err(ApiError::not_found(format!(
            "no inventory object {object:?}"
        )));
    }
    if !d.allows(privilege) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "{} lacks the privilege {privilege} on {object}",
                caller.user
            ),
        ));
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

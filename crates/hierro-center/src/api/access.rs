use hierro_api::EventKind;
use hierro_api::Operation;
use hierro_api::{
    Effective, EffectiveQuery, PermissionKey, PermissionQuery, Privilege, PrivilegeInfo, RoleSpec,
};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hierro_http::Params;
use hierro_http::{ApiError, ApiResult, Body};

use super::privileges::{needs, note, on, Access};
use super::task::as_task;
use super::{
    authorize, rights, AppState, BadRequest, Caller, Conflict, Forbidden, NotFound, Unauthorized,
};
use crate::access;
use crate::authz::{Permission, Principal, Role, Subject, VIEW};
use crate::inventory::{self, ROOT};
use crate::ops::admins::{keep_an_administrator, AccessChange};
use hierro_api::Privilege as P;

/// What each operation of this file needs (the document's "Privilege:" lines).
pub(super) const ACCESS: &[(&str, Access)] = &[
    ("privileges", note("none", &[])),
    ("roles", needs(&[on(P::SystemView, "the root")])),
    (
        "create_role",
        needs(&[on(P::AuthorizationModifyRoles, "the root")]),
    ),
    (
        "update_role",
        needs(&[on(P::AuthorizationModifyRoles, "the root")]),
    ),
    (
        "delete_role",
        needs(&[on(P::AuthorizationModifyRoles, "the root")]),
    ),
    (
        "permissions",
        needs(&[
            on(P::SystemRead, "the object"),
            on(P::SystemRead, "each object listed").when("with `all`: the others are left out"),
        ]),
    ),
    (
        "set_permission",
        needs(&[on(P::AuthorizationModifyPermissions, "the object")]),
    ),
    (
        "remove_permission",
        needs(&[on(P::AuthorizationModifyPermissions, "the object")]),
    ),
    (
        "effective",
        needs(&[
            on(P::SystemView, "the object").when("one's own rights"),
            on(P::AuthorizationModifyPermissions, "it").when("another principal's"),
        ]),
    ),
];

/// The privilege catalogue.
#[utoipa::path(
    get,
    path = "/api/privileges",
    tag = "access",
    security(("session" = [])),
    responses((status = 200, description = "The privileges", body = [PrivilegeInfo]), Unauthorized)
)]
pub async fn privileges(_caller: Caller) -> Json<Vec<PrivilegeInfo>> {
    Json(Privilege::catalogue())
}

/// The roles.
#[utoipa::path(
    get,
    path = "/api/roles",
    tag = "access",
    security(("session" = [])),
    responses((status = 200, description = "The roles", body = [Role]), Unauthorized, Forbidden)
)]
pub async fn roles(State(c): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Role>>> {
    authorize(&c, &caller, ROOT, VIEW).await?;
    Ok(Json(access::roles(&c.db).await?))
}

/// Creates a role.
#[utoipa::path(
    post,
    path = "/api/roles",
    tag = "access",
    security(("session" = [])),
    request_body = RoleSpec,
    responses(
        (status = 201, description = "The role, created", body = Role),
        BadRequest, Unauthorized, Forbidden, Conflict,
    )
)]
pub async fn create_role(
    State(c): State<AppState>,
    caller: Caller,
    Body(r): Body<RoleSpec>,
) -> ApiResult<(StatusCode, Json<Role>)> {
    authorize(&c, &caller, ROOT, Privilege::AuthorizationModifyRoles).await?;
    let target = format!("role:{}", r.name);
    let done = (EventKind::RoleAdded, format!("Role {} created", r.name));
    let role = as_task(
        &c,
        &caller,
        Operation::RoleCreate,
        (&target, &r.name),
        (done.0, done.1),
        async { Ok(access::create_role(&c.db, &r.name, &r.privileges).await?) },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(role)))
}

/// Changes a role's privileges (not a system role's).
#[utoipa::path(
    put,
    path = "/api/roles/{id}",
    tag = "access",
    security(("session" = [])),
    params(("id" = String, Path, description = "The role's id")),
    request_body = RoleSpec,
    responses(
        (status = 200, description = "The role, changed", body = Role),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
pub async fn update_role(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(r): Body<RoleSpec>,
) -> ApiResult<Json<Role>> {
    authorize(&c, &caller, ROOT, Privilege::AuthorizationModifyRoles).await?;
    let target = format!("role:{id}");
    let done = (EventKind::RoleUpdated, format!("Role {id} changed"));
    let role = as_task(
        &c,
        &caller,
        Operation::RoleUpdate,
        (&target, &id),
        done,
        async { Ok(access::update_role(&c.db, &id, &r.privileges).await?) },
    )
    .await?;
    Ok(Json(role))
}

/// Deletes a role (not a system role).
#[utoipa::path(
    delete,
    path = "/api/roles/{id}",
    tag = "access",
    security(("session" = [])),
    params(("id" = String, Path, description = "The role's id")),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
pub async fn delete_role(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    authorize(&c, &caller, ROOT, Privilege::AuthorizationModifyRoles).await?;
    let target = format!("role:{id}");
    let done = (EventKind::RoleRemoved, format!("Role {id} deleted"));
    as_task(
        &c,
        &caller,
        Operation::RoleDelete,
        (&target, &id),
        done,
        async { Ok(access::delete_role(&c.db, &id).await?) },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The permissions set on an object (not those it inherits), or with
/// `all=true` on every object (vSphere's RetrieveAllPermissions).
#[utoipa::path(
    get,
    path = "/api/permissions",
    tag = "access",
    security(("session" = [])),
    params(PermissionQuery),
    responses(
        (status = 200, description = "The permissions on the object", body = [Permission]),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
pub async fn permissions(
    State(c): State<AppState>,
    caller: Caller,
    Params(q): Params<PermissionQuery>,
) -> ApiResult<Json<Vec<Permission>>> {
    let all = access::permissions(&c.db).await?;
    if q.all {
        let mut readable = std::collections::HashMap::new();
        let mut shown = vec![];
        for p in all {
            let may = match readable.get(&p.object) {
                Some(may) => *may,
                None => {
                    let d = rights(&c, &caller.subject, &p.object).await?;
                    *readable
                        .entry(p.object.clone())
                        .or_insert(d.allows(Privilege::SystemRead))
                }
            };
            if may {
                shown.push(p);
            }
        }
        return Ok(Json(shown));
    }
    let object = q.object.unwrap_or_else(|| ROOT.to_string());
    authorize(&c, &caller, &object, Privilege::SystemRead).await?;
    Ok(Json(
        all.into_iter().filter(|p| p.object == object).collect(),
    ))
}

/// Gives a principal a role on an object, replacing its permission there.
#[utoipa::path(
    post,
    path = "/api/permissions",
    tag = "access",
    security(("session" = [])),
    request_body = Permission,
    responses((status = 204, description = "Set"), BadRequest, Unauthorized, Forbidden, NotFound)
)]
pub async fn set_permission(
    State(c): State<AppState>,
    caller: Caller,
    Body(p): Body<Permission>,
) -> ApiResult<StatusCode> {
    authorize(
        &c,
        &caller,
        &p.object,
        Privilege::AuthorizationModifyPermissions,
    )
    .await?;
    let name = inventory::get(&c.db, &p.object).await?.name;
    let done = (
        EventKind::PermissionAdded,
        format!(
            "{} given role {} on {name} (propagate: {})",
            p.principal, p.role, p.propagate
        ),
    );
    as_task(
        &c,
        &caller,
        Operation::PermissionSet,
        (&p.object, &name),
        (done.0, done.1),
        async {
            let _held = keep_an_administrator(&c, AccessChange::SetPermission(&p)).await?;
            Ok(access::set_permission(&c.db, &p).await?)
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a principal's permission on an object.
#[utoipa::path(
    delete,
    path = "/api/permissions",
    tag = "access",
    security(("session" = [])),
    params(PermissionKey),
    responses(
        (status = 204, description = "Removed"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
pub async fn remove_permission(
    State(c): State<AppState>,
    caller: Caller,
    Params(k): Params<PermissionKey>,
) -> ApiResult<StatusCode> {
    let principal = k
        .principal
        .parse::<Principal>()
        .map_err(ApiError::bad_request)?;
    authorize(
        &c,
        &caller,
        &k.object,
        Privilege::AuthorizationModifyPermissions,
    )
    .await?;
    let name = inventory::get(&c.db, &k.object).await?.name;
    let done = (
        EventKind::PermissionRemoved,
        format!("Permission of {principal} on {name} removed"),
    );
    as_task(
        &c,
        &caller,
        Operation::PermissionRemove,
        (&k.object, &name),
        (done.0, done.1),
        async {
            let change = AccessChange::RemovePermission {
                principal: &principal,
                object: &k.object,
            };
            let _held = keep_an_administrator(&c, change).await?;
            Ok(access::remove_permission(&c.db, &principal, &k.object).await?)
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a principal may do on an object, and which permissions decided it.
#[utoipa::path(
    get,
    path = "/api/effective",
    tag = "access",
    security(("session" = [])),
    params(EffectiveQuery),
    responses(
        (status = 200, description = "The rights and why", body = Effective),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
pub async fn effective(
    State(c): State<AppState>,
    caller: Caller,
    Params(q): Params<EffectiveQuery>,
) -> ApiResult<Json<Effective>> {
    let (principal, subject) = match &q.principal {
        None => (Principal::User(caller.user.clone()), caller.subject.clone()),
        Some(p) => {
            authorize(
                &c,
                &caller,
                &q.object,
                Privilege::AuthorizationModifyPermissions,
            )
            .await?;
            match p.parse::<Principal>().map_err(ApiError::bad_request)? {
                Principal::User(u) => {
                    let groups = crate::directory::get_user(&c.db, &u).await?.groups;
                    (Principal::User(u.clone()), Subject::user(&u, groups))
                }
                Principal::Group(g) => (Principal::Group(g.clone()), Subject::group(&g)),
            }
        }
    };
    if q.principal.is_none() {
        authorize(&c, &caller, &q.object, VIEW).await?;
    }
    let decision = rights(&c, &subject, &q.object).await?;
    Ok(Json(Effective {
        principal,
        object: q.object,
        decision,
    }))
}

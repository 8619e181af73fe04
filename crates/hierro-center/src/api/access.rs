use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use hierro_http::{ApiError, ApiResult, Body};
use serde::{Deserialize, Serialize};

use super::journal::as_task;
use super::{authorize, rights, AppState, Caller};
use crate::access;
use crate::authz::{Decision, Permission, Principal, Privilege, Role, Subject, PRIVILEGES, VIEW};
use crate::inventory::ROOT;

pub async fn privileges(_caller: Caller) -> Json<&'static [Privilege]> {
    Json(PRIVILEGES)
}

pub async fn roles(State(c): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Role>>> {
    authorize(&c, &caller, ROOT, VIEW).await?;
    Ok(Json(access::roles(&c.db).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    #[serde(default)]
    name: String,
    privileges: BTreeSet<String>,
}

pub async fn create_role(
    State(c): State<AppState>,
    caller: Caller,
    Body(r): Body<RoleBody>,
) -> ApiResult<(StatusCode, Json<Role>)> {
    authorize(&c, &caller, ROOT, "Authorization.ModifyRoles").await?;
    let target = format!("role:{}", r.name);
    let done = ("RoleAddedEvent", format!("Role {} created", r.name));
    let role = as_task(
        &c,
        &caller,
        "role.create",
        (&target, &r.name),
        (done.0, done.1),
        async { Ok(access::create_role(&c.db, &r.name, &r.privileges).await?) },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(role)))
}

pub async fn update_role(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(r): Body<RoleBody>,
) -> ApiResult<Json<Role>> {
    authorize(&c, &caller, ROOT, "Authorization.ModifyRoles").await?;
    Ok(Json(access::update_role(&c.db, &id, &r.privileges).await?))
}

pub async fn delete_role(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    authorize(&c, &caller, ROOT, "Authorization.ModifyRoles").await?;
    access::delete_role(&c.db, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct ObjectQuery {
    object: Option<String>,
}

pub async fn permissions(
    State(c): State<AppState>,
    caller: Caller,
    Query(q): Query<ObjectQuery>,
) -> ApiResult<Json<Vec<Permission>>> {
    let object = q.object.unwrap_or_else(|| ROOT.to_string());
    authorize(&c, &caller, &object, "System.Read").await?;
    let all = access::permissions(&c.db).await?;
    Ok(Json(
        all.into_iter().filter(|p| p.object == object).collect(),
    ))
}

pub async fn set_permission(
    State(c): State<AppState>,
    caller: Caller,
    Body(p): Body<Permission>,
) -> ApiResult<StatusCode> {
    authorize(&c, &caller, &p.object, "Authorization.ModifyPermissions").await?;
    let done = (
        "PermissionAddedEvent",
        format!(
            "{:?} given role {} (propagate: {})",
            p.principal, p.role, p.propagate
        ),
    );
    as_task(
        &c,
        &caller,
        "permission.set",
        (&p.object, &p.object),
        (done.0, done.1),
        async { Ok(access::set_permission(&c.db, &p).await?) },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct PermissionKey {
    /// `user:NAME` or `group:NAME`.
    principal: String,
    object: String,
}

fn parse_principal(s: &str) -> ApiResult<Principal> {
    match s.split_once(':') {
        Some(("user", n)) if !n.is_empty() => Ok(Principal::User(n.into())),
        Some(("group", n)) if !n.is_empty() => Ok(Principal::Group(n.into())),
        _ => Err(ApiError::bad_request(format!(
            "principal {s:?} must be user:NAME or group:NAME"
        ))),
    }
}

pub async fn remove_permission(
    State(c): State<AppState>,
    caller: Caller,
    Query(k): Query<PermissionKey>,
) -> ApiResult<StatusCode> {
    let principal = parse_principal(&k.principal)?;
    authorize(&c, &caller, &k.object, "Authorization.ModifyPermissions").await?;
    let done = (
        "PermissionRemovedEvent",
        format!("Permission of {} removed", k.principal),
    );
    as_task(
        &c,
        &caller,
        "permission.remove",
        (&k.object, &k.object),
        (done.0, done.1),
        async { Ok(access::remove_permission(&c.db, &principal, &k.object).await?) },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct EffectiveQuery {
    object: String,
    /// `user:NAME` or `group:NAME`; the caller when absent.
    principal: Option<String>,
}

#[derive(Serialize)]
pub struct Effective {
    principal: Principal,
    object: String,
    #[serde(flatten)]
    decision: Decision,
}

/// What principal P may do on object O, and which permission decided it.
pub async fn effective(
    State(c): State<AppState>,
    caller: Caller,
    Query(q): Query<EffectiveQuery>,
) -> ApiResult<Json<Effective>> {
    let (principal, subject) = match &q.principal {
        None => (Principal::User(caller.user.clone()), caller.subject.clone()),
        Some(p) => {
            authorize(&c, &caller, &q.object, "Authorization.ModifyPermissions").await?;
            match parse_principal(p)? {
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

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hierro_api::EventKind;
use hierro_api::Operation;
use hierro_api::Privilege;
use hierro_api::{Group, NewGroup, NewUser};
use hierro_http::{ApiResult, Body};

use super::privileges::{needs, on, Access};
use super::task::as_task;
use super::{authorize, AppState, BadRequest, Caller, Conflict, Forbidden, NotFound, Unauthorized};
use crate::authz::VIEW;
use crate::directory::{self, User};
use crate::inventory::ROOT;
use crate::ops::admins::{keep_an_administrator, AccessChange};
use hierro_api::Privilege as P;

/// What each operation of this file needs (the document's "Privilege:" lines).
pub(super) const ACCESS: &[(&str, Access)] = &[
    ("users", needs(&[on(P::SystemView, "the root")])),
    ("create_user", needs(&[on(P::GlobalSettings, "the root")])),
    ("delete_user", needs(&[on(P::GlobalSettings, "the root")])),
    ("groups", needs(&[on(P::SystemView, "the root")])),
    ("create_group", needs(&[on(P::GlobalSettings, "the root")])),
    ("delete_group", needs(&[on(P::GlobalSettings, "the root")])),
    ("add_member", needs(&[on(P::GlobalSettings, "the root")])),
    ("remove_member", needs(&[on(P::GlobalSettings, "the root")])),
];

const MANAGE: Privilege = Privilege::GlobalSettings;

/// The users.
#[utoipa::path(
    get,
    path = "/api/users",
    tag = "directory",
    security(("session" = [])),
    responses((status = 200, description = "The users", body = [User]), Unauthorized, Forbidden)
)]
pub async fn users(State(c): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<User>>> {
    authorize(&c, &caller, ROOT, VIEW).await?;
    Ok(Json(directory::list_users(&c.db).await?))
}

/// Creates a user.
#[utoipa::path(
    post,
    path = "/api/users",
    tag = "directory",
    security(("session" = [])),
    request_body = NewUser,
    responses(
        (status = 201, description = "The user, created", body = User),
        BadRequest, Unauthorized, Forbidden, Conflict,
    )
)]
pub async fn create_user(
    State(c): State<AppState>,
    caller: Caller,
    Body(u): Body<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let done = (
        EventKind::AccountCreated,
        format!("User {} created", u.name),
    );
    let work = directory::create_user(&c.db, &u.name, &u.password, &u.full_name);
    let user = change(
        &c,
        &caller,
        Operation::UserCreate,
        ("user", &u.name),
        done,
        None,
        work,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Deletes a user and ends its sessions.
#[utoipa::path(
    delete,
    path = "/api/users/{name}",
    tag = "directory",
    security(("session" = [])),
    params(("name" = String, Path, description = "The user's name")),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
pub async fn delete_user(
    State(c): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let done = (EventKind::AccountRemoved, format!("User {name} removed"));
    let work = directory::delete_user(&c.db, &name);
    change(
        &c,
        &caller,
        Operation::UserDelete,
        ("user", &name),
        done,
        Some(AccessChange::DeleteUser(&name)),
        work,
    )
    .await?;
    c.sessions.close_user(&name);
    Ok(StatusCode::NO_CONTENT)
}

/// The groups, with their members.
#[utoipa::path(
    get,
    path = "/api/groups",
    tag = "directory",
    security(("session" = [])),
    responses((status = 200, description = "The groups", body = [Group]), Unauthorized, Forbidden)
)]
pub async fn groups(State(c): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Group>>> {
    authorize(&c, &caller, ROOT, VIEW).await?;
    let list = directory::list_groups(&c.db).await?;
    Ok(Json(
        list.into_iter()
            .map(|(name, members)| Group { name, members })
            .collect(),
    ))
}

/// Creates a group.
#[utoipa::path(
    post,
    path = "/api/groups",
    tag = "directory",
    security(("session" = [])),
    request_body = NewGroup,
    responses(
        (status = 201, description = "Created"),
        BadRequest, Unauthorized, Forbidden, Conflict,
    )
)]
pub async fn create_group(
    State(c): State<AppState>,
    caller: Caller,
    Body(g): Body<NewGroup>,
) -> ApiResult<StatusCode> {
    let done = (EventKind::GroupAdded, format!("Group {} created", g.name));
    let work = directory::create_group(&c.db, &g.name, &g.description);
    change(
        &c,
        &caller,
        Operation::GroupCreate,
        ("group", &g.name),
        done,
        None,
        work,
    )
    .await?;
    Ok(StatusCode::CREATED)
}

/// Deletes a group.
#[utoipa::path(
    delete,
    path = "/api/groups/{name}",
    tag = "directory",
    security(("session" = [])),
    params(("name" = String, Path, description = "The group's name")),
    responses(
        (status = 204, description = "Deleted"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
pub async fn delete_group(
    State(c): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let done = (EventKind::GroupRemoved, format!("Group {name} deleted"));
    let work = directory::delete_group(&c.db, &name);
    change(
        &c,
        &caller,
        Operation::GroupDelete,
        ("group", &name),
        done,
        Some(AccessChange::DeleteGroup(&name)),
        work,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a user to a group.
#[utoipa::path(
    post,
    path = "/api/groups/{name}/members/{user}",
    tag = "directory",
    security(("session" = [])),
    params(("name" = String, Path, description = "The group's name"), ("user" = String, Path, description = "The user's name")),
    responses((status = 204, description = "Added"), BadRequest, Unauthorized, Forbidden, NotFound, Conflict)
)]
pub async fn add_member(
    State(c): State<AppState>,
    caller: Caller,
    Path((group, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let done = (
        EventKind::UserAddedToGroup,
        format!("{user} joined group {group}"),
    );
    let work = directory::add_member(&c.db, &group, &user);
    let operation = Operation::GroupAddMember;
    change(&c, &caller, operation, ("group", &group), done, None, work).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a user out of a group.
#[utoipa::path(
    delete,
    path = "/api/groups/{name}/members/{user}",
    tag = "directory",
    security(("session" = [])),
    params(("name" = String, Path, description = "The group's name"), ("user" = String, Path, description = "The user's name")),
    responses(
        (status = 204, description = "Removed"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    )
)]
pub async fn remove_member(
    State(c): State<AppState>,
    caller: Caller,
    Path((group, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let done = (
        EventKind::UserRemovedFromGroup,
        format!("{user} left group {group}"),
    );
    let work = directory::remove_member(&c.db, &group, &user);
    let operation = Operation::GroupRemoveMember;
    let keep = Some(AccessChange::RemoveMember {
        group: &group,
        user: &user,
    });
    change(&c, &caller, operation, ("group", &group), done, keep, work).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A change of the directory as a task on the user or group (`kind:name`);
/// it needs Global.Settings on the root. One that could take the last
/// administrator away (`keep`) is checked, and made before any other such
/// change.
async fn change<T: serde::Serialize>(
    c: &AppState,
    caller: &Caller,
    operation: Operation,
    (kind, name): (&str, &str),
    done: (EventKind, String),
    keep: Option<AccessChange<'_>>,
    work: impl std::future::Future<Output = crate::error::StoreResult<T>>,
) -> ApiResult<T> {
    authorize(c, caller, ROOT, MANAGE).await?;
    let target = format!("{kind}:{name}");
    let work = async {
        let _held = match keep {
            Some(change) => Some(keep_an_administrator(c, change).await?),
            None => None,
        };
        Ok(work.await?)
    };
    as_task(c, caller, operation, (&target, name), done, work).await
}

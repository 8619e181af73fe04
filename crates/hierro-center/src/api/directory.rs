use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hierro_http::{ApiResult, Body};
use serde::{Deserialize, Serialize};

use super::journal::as_task;
use super::{authorize, AppState, Caller};
use crate::authz::VIEW;
use crate::directory::{self, User};
use crate::inventory::ROOT;

const MANAGE: &str = "Global.Settings";

pub async fn users(State(c): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<User>>> {
    authorize(&c, &caller, ROOT, VIEW).await?;
    Ok(Json(directory::list_users(&c.db).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    password: String,
    #[serde(default)]
    full_name: String,
}

pub async fn create_user(
    State(c): State<AppState>,
    caller: Caller,
    Body(u): Body<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    authorize(&c, &caller, ROOT, MANAGE).await?;
    let target = format!("user:{}", u.name);
    let done = ("AccountCreatedEvent", format!("User {} created", u.name));
    let user = as_task(
        &c,
        &caller,
        "user.create",
        (&target, &u.name),
        (done.0, done.1),
        async { Ok(directory::create_user(&c.db, &u.name, &u.password, &u.full_name).await?) },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

pub async fn delete_user(
    State(c): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    authorize(&c, &caller, ROOT, MANAGE).await?;
    let target = format!("user:{name}");
    let done = ("AccountRemovedEvent", format!("User {name} removed"));
    as_task(
        &c,
        &caller,
        "user.delete",
        (&target, &name),
        (done.0, done.1),
        async { Ok(directory::delete_user(&c.db, &name).await?) },
    )
    .await?;
    c.sessions.close_user(&name);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub struct Group {
    name: String,
    members: Vec<String>,
}

pub async fn groups(State(c): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Group>>> {
    authorize(&c, &caller, ROOT, VIEW).await?;
    let list = directory::list_groups(&c.db).await?;
    Ok(Json(
        list.into_iter()
            .map(|(name, members)| Group { name, members })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn create_group(
    State(c): State<AppState>,
    caller: Caller,
    Body(g): Body<NewGroup>,
) -> ApiResult<StatusCode> {
    authorize(&c, &caller, ROOT, MANAGE).await?;
    directory::create_group(&c.db, &g.name, &g.description).await?;
    Ok(StatusCode::CREATED)
}

pub async fn delete_group(
    State(c): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    authorize(&c, &caller, ROOT, MANAGE).await?;
    directory::delete_group(&c.db, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn add_member(
    State(c): State<AppState>,
    caller: Caller,
    Path((group, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    authorize(&c, &caller, ROOT, MANAGE).await?;
    directory::add_member(&c.db, &group, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_member(
    State(c): State<AppState>,
    caller: Caller,
    Path((group, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    authorize(&c, &caller, ROOT, MANAGE).await?;
    directory::remove_member(&c.db, &group, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

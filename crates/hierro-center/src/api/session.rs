use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hierro_api::{About, LoginRequest, LoginResponse};
use hierro_http::{ApiError, ApiResult, Body};

use super::journal::as_task;
use super::{internal, AppState};
use crate::inventory::ROOT;
use crate::tokens;

pub async fn about(State(c): State<AppState>) -> Json<About> {
    Json(About {
        product: "Hierro center".into(),
        version: crate::server::VERSION.into(),
        api: "center/1".into(),
        host_name: c.config.name.clone(),
        thumbprint: c.pki.thumbprint.clone(),
    })
}

/// Healthy when the database answers.
pub async fn health(State(c): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    crate::inventory::get(&c.db, crate::inventory::ROOT)
        .await
        .map_err(internal)?;
    Ok(Json(
        serde_json::json!({"status": "ok", "database": format!("{:?}", c.db.backend).to_lowercase()}),
    ))
}

pub async fn login(
    State(c): State<AppState>,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let user = crate::directory::authenticate(&c.db, &req.username, &req.password)
        .await?
        .ok_or_else(|| ApiError::unauthorized("wrong user name or password"))?;
    Ok(Json(LoginResponse {
        token: c.sessions.open(&user.name),
        username: user.name,
        idle_timeout_secs: c.sessions.idle().as_secs(),
    }))
}

pub async fn logout(State(c): State<AppState>, headers: HeaderMap) -> StatusCode {
    if let Some(t) = headers
        .get(hierro_api::SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        c.sessions.close(t);
    }
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    name: String,
    /// Days until it expires; never when absent.
    #[serde(default)]
    valid_days: Option<u32>,
}

/// A new API token for the caller (shown once). A token cannot make more.
pub async fn create_token(
    State(c): State<AppState>,
    caller: super::Caller,
    Body(req): Body<TokenRequest>,
) -> ApiResult<(StatusCode, Json<tokens::NewToken>)> {
    if caller.by_token {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "an API token cannot make API tokens: log in",
        ));
    }
    let done = (
        "ApiTokenCreatedEvent",
        format!("{} made API token {:?}", caller.user, req.name),
    );
    let target = format!("user:{}", caller.user);
    let made = as_task(
        &c,
        &caller,
        "token.create",
        (&target, &caller.user),
        done,
        async { Ok(tokens::create(&c.db, &caller.user, &req.name, req.valid_days).await?) },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Whether the caller may manage other users' tokens.
async fn token_admin(c: &AppState, caller: &super::Caller) -> ApiResult<bool> {
    Ok(super::rights(c, &caller.subject, ROOT)
        .await?
        .allows("Global.Settings"))
}

pub async fn tokens(
    State(c): State<AppState>,
    caller: super::Caller,
) -> ApiResult<Json<Vec<tokens::ApiToken>>> {
    let mine = (!token_admin(&c, &caller).await?).then_some(caller.user.as_str());
    Ok(Json(tokens::list(&c.db, mine).await?))
}

/// Revokes one of the caller's tokens (anyone's with Global.Settings).
pub async fn revoke_token(
    State(c): State<AppState>,
    caller: super::Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let token = tokens::get(&c.db, &id).await?;
    if token.username != caller.user && !token_admin(&c, &caller).await? {
        // Someone else's token is not even shown to exist.
        return Err(ApiError::not_found(format!("no API token {id:?}")));
    }
    let done = (
        "ApiTokenRevokedEvent",
        format!("Revoked API token {:?} of {}", token.name, token.username),
    );
    let target = format!("user:{}", token.username);
    as_task(
        &c,
        &caller,
        "token.revoke",
        (&target, &token.username),
        done,
        async { Ok(tokens::revoke(&c.db, &id).await?) },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

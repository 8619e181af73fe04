use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hierro_api::{About, LoginRequest, LoginResponse};
use hierro_http::{ApiError, ApiResult, Body};

use super::{internal, AppState};

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

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hierro_api::{LoginRequest, LoginResponse, Severity};

use super::{AppState, Body};
use crate::error::{ApiError, ApiResult};

pub async fn login(
    State(host): State<AppState>,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    if !host.may_use_api(&req.username) {
        host.journal.event(
            "LockdownLoginRefusedEvent",
            Severity::Warning,
            &host.target(),
            &req.username,
            format!("Refused login for {:?}: lockdown mode", req.username),
            None,
        );
        return Err(super::lockdown_refusal());
    }
    let Some(token) = host.sessions.login(&req.username, &req.password) else {
        host.journal.event(
            "BadUsernameSessionEvent",
            Severity::Warning,
            &host.target(),
            &req.username,
            format!("Failed login for {:?}", req.username),
            None,
        );
        return Err(ApiError::unauthorized("wrong user name or password"));
    };
    host.journal.event(
        "UserLoginSessionEvent",
        Severity::Info,
        &host.target(),
        &req.username,
        format!("User {} logged in", req.username),
        None,
    );
    Ok(Json(LoginResponse {
        token,
        username: req.username,
        idle_timeout_secs: host.sessions.store.idle().as_secs(),
    }))
}

pub async fn logout(State(host): State<AppState>, headers: HeaderMap) -> StatusCode {
    if let Some(t) = headers
        .get(hierro_api::SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        host.sessions.store.close(t);
    }
    StatusCode::NO_CONTENT
}

/// A long-lived credential for a service that manages this host (the
/// center); shown once, stored as a hash.
pub async fn create_service_token(
    State(host): State<AppState>,
    c: super::Caller,
    Body(req): Body<hierro_api::ServiceTokenRequest>,
) -> ApiResult<Json<hierro_api::ServiceTokenResponse>> {
    if c.user.starts_with("service:") {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            "a service token cannot make service tokens",
        ));
    }
    crate::vm::validate_name("token name", &req.name)?;
    let token = hierro_http::new_secret();
    host.add_service_token(&req.name, &token)?;
    host.journal.event(
        "ServiceTokenCreatedEvent",
        Severity::Info,
        &host.target(),
        &c.user,
        format!("Service token {:?} created", req.name),
        None,
    );
    Ok(Json(hierro_api::ServiceTokenResponse {
        name: req.name,
        token,
    }))
}

/// Withdraws a service token (a center that lets the host go).
pub async fn revoke_service_token(
    State(host): State<AppState>,
    c: super::Caller,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> ApiResult<StatusCode> {
    if !host.remove_service_token(&name)? {
        return Err(ApiError::not_found(format!("no service token {name:?}")));
    }
    host.journal.event(
        "ServiceTokenRevokedEvent",
        Severity::Info,
        &host.target(),
        &c.user,
        format!("Service token {name:?} revoked"),
        None,
    );
    Ok(StatusCode::NO_CONTENT)
}

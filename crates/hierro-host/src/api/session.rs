use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hierro_api::EventKind;
use hierro_api::{
    LoginRequest, LoginResponse, ServiceTokenRequest, ServiceTokenResponse, Severity,
};

use super::{
    AppState, BadRequest, Body, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized,
};
use hierro_api::shown;
use hierro_http::login::{Outcome, Source};
use hierro_http::{ApiError, ApiResult};

#[utoipa::path(
    post,
    path = "/api/session",
    tag = "session",
    operation_id = "session_login",
    description = "No session needed. In lockdown mode only the center and the break-glass account may log in.",
    request_body = LoginRequest,
    responses((status = 200, description = "The new session", body = LoginResponse), BadRequest, Unauthorized, Forbidden, TooManyRequests)
)]
pub async fn login(
    State(host): State<AppState>,
    Source(from): Source,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let who = shown(&req.username);
    // The event's user: the name given, cut as messages cut it.
    let user = hierro_api::cut(&req.username);
    let event = |kind, severity, message: String| {
        host.journal
            .event(kind, severity, &host.target(), user, message, None)
    };
    if !host.may_use_api(&req.username) {
        event(
            EventKind::LockdownLoginRefused,
            Severity::Warning,
            format!("Refused login for {who} from {from}: lockdown mode"),
        );
        return Err(super::lockdown_refusal());
    }
    let failed = match host
        .sessions
        .login(&req.username, &req.password, from)
        .await?
    {
        Ok(token) => {
            event(
                EventKind::UserLoginSession,
                Severity::Info,
                format!("User {who} logged in from {from}"),
            );
            return Ok(Json(LoginResponse {
                token,
                username: req.username,
                idle_timeout_secs: host.sessions.store.idle().as_secs(),
            }));
        }
        Err(failed) => failed,
    };
    event(
        EventKind::BadUsernameSession,
        Severity::Warning,
        format!("Failed login for {who} from {from}"),
    );
    if failed == (Outcome::Failed { locked: true }) {
        let message = host.sessions.logins.policy().locked_message(&who);
        event(EventKind::AccountLocked, Severity::Warning, message);
    }
    Err(ApiError::unauthorized("wrong user name or password"))
}

#[utoipa::path(
    delete,
    path = "/api/session",
    tag = "session",
    operation_id = "session_logout",
    description = "Answers 204 even for an unknown or expired session.",
    security((), ("session" = [])),
    responses((status = 204, description = "Logged out"))
)]
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
#[utoipa::path(
    post,
    path = "/api/service-tokens",
    tag = "session",
    operation_id = "service_token_create",
    description = "The token is shown once and stored as a hash. A service token cannot make others.",
    security(("session" = [])),
    request_body = ServiceTokenRequest,
    responses((status = 200, description = "The token", body = ServiceTokenResponse), BadRequest, Unauthorized, Forbidden, Conflict)
)]
pub async fn create_service_token(
    State(host): State<AppState>,
    c: super::Caller,
    Body(req): Body<hierro_api::ServiceTokenRequest>,
) -> ApiResult<Json<hierro_api::ServiceTokenResponse>> {
    if c.user.starts_with("service:") {
        return Err(ApiError::forbidden(
            "a service token cannot make service tokens",
        ));
    }
    crate::vm::validate_name("token name", &req.name)?;
    let token = hierro_http::new_secret();
    host.add_service_token(&req.name, &token)?;
    host.journal.event(
        EventKind::ServiceTokenCreated,
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
#[utoipa::path(
    delete,
    path = "/api/service-tokens/{name}",
    tag = "session",
    operation_id = "service_token_revoke",
    description = "Withdraws a service token.",
    security(("session" = [])),
    params(("name" = String, Path, description = "The token's name")),
    responses((status = 204, description = "Revoked"), Unauthorized, NotFound)
)]
pub async fn revoke_service_token(
    State(host): State<AppState>,
    c: super::Caller,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> ApiResult<StatusCode> {
    if !host.remove_service_token(&name)? {
        return Err(ApiError::not_found(format!("no service token {name:?}")));
    }
    host.journal.event(
        EventKind::ServiceTokenRevoked,
        Severity::Info,
        &host.target(),
        &c.user,
        format!("Service token {name:?} revoked"),
        None,
    );
    Ok(StatusCode::NO_CONTENT)
}

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use hierro_api::EventKind;
use hierro_api::Operation;
use hierro_api::Privilege;
use hierro_api::{About, ErrorBody, LoginRequest, LoginResponse};
use hierro_api::{Health, TokenRequest};
use hierro_http::login::Source;
use hierro_http::{ApiError, ApiResult, Body};

use super::privileges::{note, on, Access};
use super::task::as_task;
use super::{
    internal, AppState, BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized,
};
use crate::inventory::ROOT;
use crate::tokens;
use hierro_api::Privilege as P;

/// What each operation of this file needs (the document's "Privilege:" lines).
pub(super) const ACCESS: &[(&str, Access)] = &[
    (
        "logout",
        note(
            "none; answers 204 even for an unknown or expired session",
            &[],
        ),
    ),
    (
        "create_token",
        note(
            "none, but a login session: an API token cannot make API tokens",
            &[],
        ),
    ),
    (
        "tokens",
        note(
            "none for one's own tokens",
            &[on(P::GlobalSettings, "the root").when("to list everyone's")],
        ),
    ),
    (
        "revoke_token",
        note(
            "none for one's own tokens",
            &[on(P::GlobalSettings, "the root")
                .when("for anyone's; others' are otherwise reported missing")],
        ),
    ),
];

/// What this server is: product, version, certificate thumbprint.
#[utoipa::path(
    get,
    path = "/api/about",
    tag = "session",
    description = "No session needed.",
    responses((status = 200, description = "What the server is", body = About))
)]
pub async fn about(State(c): State<AppState>) -> Json<About> {
    Json(About {
        product: "Hierro center".into(),
        version: crate::VERSION.into(),
        api: "center/1".into(),
        host_name: c.config.name.clone(),
        thumbprint: c.pki.thumbprint.clone(),
    })
}

/// Healthy when the database answers.
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "session",
    description = "No session needed.",
    responses(
        (status = 200, description = "Healthy", body = Health),
        (status = 500, description = "The database does not answer", body = ErrorBody),
    )
)]
pub async fn health(State(c): State<AppState>) -> ApiResult<Json<Health>> {
    crate::inventory::get(&c.db, crate::inventory::ROOT)
        .await
        .map_err(internal)?;
    Ok(Json(Health {
        status: "ok".into(),
        database: format!("{:?}", c.db.backend).to_lowercase(),
    }))
}

/// Logs in: the answer's token goes in the `hierro-session` header.
#[utoipa::path(
    post,
    path = "/api/session",
    tag = "session",
    description = "No session needed.",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        BadRequest,
        (status = 401, description = "Wrong user name or password", body = ErrorBody),
        TooManyRequests,
    )
)]
pub async fn login(
    State(c): State<AppState>,
    Source(from): Source,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    Ok(Json(
        crate::ops::login::login(&c, &req.username, &req.password, from).await?,
    ))
}

/// Logs out: ends the session the `hierro-session` header names.
#[utoipa::path(
    delete,
    path = "/api/session",
    tag = "session",
    security((), ("session" = [])),
    responses((status = 204, description = "Logged out"))
)]
pub async fn logout(State(c): State<AppState>, headers: HeaderMap) -> StatusCode {
    if let Some(t) = headers
        .get(hierro_api::SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        c.sessions.close(t);
    }
    StatusCode::NO_CONTENT
}

/// A new API token for the caller (its secret shown once).
#[utoipa::path(
    post,
    path = "/api/tokens",
    tag = "session",
    security(("session" = [])),
    request_body = TokenRequest,
    responses(
        (status = 201, description = "The token, with its secret", body = tokens::NewToken),
        BadRequest, Unauthorized, Forbidden, Conflict,
    )
)]
pub async fn create_token(
    State(c): State<AppState>,
    caller: super::Caller,
    Body(req): Body<TokenRequest>,
) -> ApiResult<(StatusCode, Json<tokens::NewToken>)> {
    if caller.by_token {
        return Err(ApiError::forbidden(
            "an API token cannot make API tokens: log in",
        ));
    }
    let done = (
        EventKind::ApiTokenCreated,
        format!("{} made API token {:?}", caller.user, req.name),
    );
    let target = format!("user:{}", caller.user);
    // The task keeps the token's record; its secret goes to the caller only.
    let mut secret = None;
    let record = as_task(
        &c,
        &caller,
        Operation::TokenCreate,
        (&target, &caller.user),
        done,
        async {
            let made = tokens::create(&c.db, &caller.user, &req.name, req.valid_days).await?;
            secret = Some(made.token);
            Ok(made.record)
        },
    )
    .await?;
    let token = secret.ok_or_else(|| internal("the token was made without its secret"))?;
    Ok((
        StatusCode::CREATED,
        Json(tokens::NewToken { record, token }),
    ))
}

/// Whether the caller may manage other users' tokens.
async fn token_admin(c: &AppState, caller: &super::Caller) -> ApiResult<bool> {
    Ok(super::rights(c, &caller.subject, ROOT)
        .await?
        .allows(Privilege::GlobalSettings))
}

/// The caller's API tokens, or everyone's.
#[utoipa::path(
    get,
    path = "/api/tokens",
    tag = "session",
    security(("session" = [])),
    responses(
        (status = 200, description = "The tokens, without their secrets", body = [tokens::ApiToken]),
        Unauthorized,
    )
)]
pub async fn tokens(
    State(c): State<AppState>,
    caller: super::Caller,
) -> ApiResult<Json<Vec<tokens::ApiToken>>> {
    let mine = (!token_admin(&c, &caller).await?).then_some(caller.user.as_str());
    Ok(Json(tokens::list(&c.db, mine).await?))
}

/// Revokes an API token.
#[utoipa::path(
    delete,
    path = "/api/tokens/{id}",
    tag = "session",
    security(("session" = [])),
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked"), Unauthorized, NotFound)
)]
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
        EventKind::ApiTokenRevoked,
        format!("Revoked API token {:?} of {}", token.name, token.username),
    );
    let target = format!("user:{}", token.username);
    as_task(
        &c,
        &caller,
        Operation::TokenRevoke,
        (&target, &token.username),
        done,
        async { Ok(tokens::revoke(&c.db, &id).await?) },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

//! What Hierro's HTTPS servers share: the JSON error type, the request body
//! extractor that names bad fields, session tokens with idle expiry,
//! certificate thumbprints, the registry of cancelable tasks, and what the
//! OpenAPI documents share.

mod body;
mod cancels;
mod error;
pub mod login;
pub mod openapi;
mod sessions;
mod tickets;
pub mod tls;

pub use body::{same_name, Body, Items, Params, PathArgs, Upgrade, Upload};
pub use cancels::Cancels;
pub use error::{ApiError, ApiResult};
pub use sessions::{new_secret, secret_hash, SessionStore};
pub use tickets::{Tickets, TICKET_LIFE};

/// The session token of a request: the `hierro-session` header, or a
/// `session` query parameter for WebSockets (browsers cannot set headers
/// there).
pub fn session_token(parts: &axum::http::request::Parts) -> Option<String> {
    let header = parts
        .headers
        .get(hierro_api::SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    header.or_else(|| {
        parts.uri.query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("session=").map(str::to_string))
        })
    })
}

/// The headers every answer carries, for browsers: HTTPS only (HSTS), no
/// script but the server's own files (the web client's), never framed, no
/// guessing of content types, no referrer. And a handler that panics
/// answers a JSON 500 (logged), not a dropped connection; and every body is
/// read before its handler runs (`body::read_first`).
pub fn secure_headers<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
) -> axum::Router<S> {
    use axum::http::{header, HeaderValue};
    use tower_http::set_header::SetResponseHeaderLayer;
    let set = |name, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        .layer(set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"))
        .layer(set(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
        ))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
        .layer(axum::middleware::from_fn(body::read_first))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            // The panic itself went to the log through the panic hook.
            |_: Box<dyn std::any::Any + Send>| {
                axum::response::IntoResponse::into_response(ApiError::internal(
                    "the server failed while answering; the request may not have been carried out",
                ))
            },
        ))
}

/// What a daemon keeps to itself: every file it (and what it starts) makes
/// from now on is its own only (umask 077), and `dirs` are made and made
/// 0700, those that existed included (files in them from an older version
/// are then out of others' reach too).
pub fn keep_private(dirs: &[&std::path::Path]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    for dir in dirs {
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

//! What Hierro's HTTPS servers share: the JSON error type, the request body
//! extractor that names bad fields, session tokens with idle expiry,
//! certificate thumbprints, the registry of cancelable tasks, and what the
//! OpenAPI documents share.

mod body;
mod cancels;
mod error;
pub mod openapi;
mod sessions;
pub mod tls;

pub use body::{Body, Params, PathArgs};
pub use cancels::Cancels;
pub use error::{ApiError, ApiResult};
pub use sessions::{new_secret, secret_hash, SessionStore};

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

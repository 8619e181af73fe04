//! Request bodies, query strings and path segments, whose errors come back
//! as our JSON errors (axum's own answers are plain text).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use hierro_api::ErrorCode;

use crate::error::ApiError;

/// A JSON object body whose errors come back as our JSON errors, naming
/// the field. (serde would take an array for a struct, field by field.)
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let value = json(req).await?;
        if !value.is_object() {
            return Err(ApiError::bad_request(
                "invalid request body: a JSON object is expected",
            ));
        }
        decode(value).map(Body)
    }
}

/// A JSON array body (a list of items), whose errors come back as our JSON
/// errors.
pub struct Items<T>(pub Vec<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Items<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let value = json(req).await?;
        if !value.is_array() {
            return Err(ApiError::bad_request(
                "invalid request body: a JSON array is expected",
            ));
        }
        decode(value).map(Items)
    }
}

/// The largest JSON body taken.
const MAX_BODY: usize = 2 << 20;
/// How much of a body over the limit is still read before the 413, so that
/// the client, still sending, gets the answer rather than a broken pipe.
const DRAINED: usize = 16 << 20;

/// The body as JSON: a `content-type` other than JSON is 415, a body over
/// the size limit 413, bad JSON 400.
async fn json(req: Request) -> Result<serde_json::Value, ApiError> {
    let json_type = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false);
    if !json_type {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the request body as JSON (content-type: application/json)",
        ));
    }
    let too_large = || {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the request body is over {} MiB", MAX_BODY >> 20),
        )
    };
    let bytes = axum::body::to_bytes(req.into_body(), DRAINED)
        .await
        .map_err(|_| too_large())?;
    if bytes.len() > MAX_BODY {
        return Err(too_large());
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

fn decode<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

/// Query parameters whose errors come back as our JSON errors, naming the
/// parameter (axum's own answer is plain text).
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(e) => Err(ApiError::bad_request(format!(
                "invalid query: {}",
                std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.body_text())
            ))),
        }
    }
}

/// Path segments (a task's id, say) whose errors come back as our JSON
/// errors.
pub struct PathArgs<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(PathArgs(v)),
            Err(e) => Err(ApiError::bad_request(format!(
                "invalid path: {}",
                e.body_text()
            ))),
        }
    }
}

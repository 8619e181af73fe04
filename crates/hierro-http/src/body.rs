//! Request bodies, query strings and path segments, whose errors come back
//! as our JSON errors (axum's own answers are plain text).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::Serialize;

use hierro_api::ErrorCode;

use crate::error::ApiError;

/// A JSON object body whose errors come back as our JSON errors, naming
/// the field. (serde would take an array for a struct, field by field.)
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + Serialize, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        read(req, "a JSON object", serde_json::Value::is_object)
            .await
            .map(Body)
    }
}

/// serde takes an array for a struct, field by field; the documents say an
/// object. What was read (`read`, the value as it serializes) has an object
/// wherever `sent` needed one: an array there is refused.
fn objects_as_objects(
    sent: &serde_json::Value,
    read: &serde_json::Value,
    at: &str,
) -> Result<(), ApiError> {
    use serde_json::Value;
    match (sent, read) {
        (Value::Array(_), Value::Object(_)) => Err(ApiError::bad_request(format!(
            "invalid request body: {} must be an object, not an array",
            if at.is_empty() { "the body" } else { at }
        ))),
        (Value::Object(sent), Value::Object(read)) => {
            for (key, value) in read {
                if let Some(given) = sent.get(key) {
                    objects_as_objects(given, value, &format!("{at}.{key}"))?;
                }
            }
            Ok(())
        }
        (Value::Array(sent), Value::Array(read)) => {
            for (i, (given, value)) in sent.iter().zip(read).enumerate() {
                objects_as_objects(given, value, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A JSON array body (a list of items), whose errors come back as our JSON
/// errors.
pub struct Items<T>(pub Vec<T>);

impl<T: DeserializeOwned + Serialize, S: Send + Sync> FromRequest<S> for Items<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        read(req, "a JSON array", serde_json::Value::is_array)
            .await
            .map(Items)
    }
}

/// The body as `T`: JSON of the shape expected (`what`, which `is` tells),
/// whole numbers taken as integers, and an object wherever `T` reads one.
async fn read<T: DeserializeOwned + Serialize>(
    req: Request,
    what: &str,
    is: fn(&serde_json::Value) -> bool,
) -> Result<T, ApiError> {
    let mut value = json(req).await?;
    if !is(&value) {
        return Err(ApiError::bad_request(format!(
            "invalid request body: {what} is expected"
        )));
    }
    let body: T = decode(&mut value)?;
    let read = serde_json::to_value(&body)
        .map_err(|e| ApiError::internal(format!("the request body read back: {e}")))?;
    objects_as_objects(&value, &read, "")?;
    Ok(body)
}

/// The largest JSON body taken.
const MAX_BODY: usize = 2 << 20;
/// How much of a body over the limit is still read before the 413, so that
/// the client, still sending, gets the answer rather than a broken pipe.
const DRAINED: usize = 16 << 20;

/// Reads each request's body before its handler runs (up to `DRAINED`;
/// over `MAX_BODY` is 413 at once). A handler that answers without reading
/// it (a bad query, no session) would otherwise leave the client sending
/// into a closed connection, with no answer to read.
///
/// A file's bytes (`application/octet-stream`, an upload) are left to the
/// handler, which streams them to disk (`Upload`): see `stream_through`.
pub async fn read_first(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    if axum::body::HttpBody::size_hint(req.body()).exact() == Some(0) {
        return next.run(req).await;
    }
    if is_octets(&req) {
        return stream_through(req, next).await;
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, DRAINED).await {
        Ok(bytes) if bytes.len() <= MAX_BODY => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        _ => too_large().into_response(),
    }
}

/// Hands an upload's bytes to the handler as they come. When the answer
/// is a refusal (no session, a name taken, a failure half way), what the
/// handler left unread is read and dropped before it is sent, up to
/// `UNREAD` bytes and while the client keeps sending (`IDLE`): a client
/// still sending would otherwise meet a closed connection and never see why.
async fn stream_through(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use futures_util::StreamExt;
    use std::sync::Arc;
    let (parts, body) = req.into_parts();
    let shared = Arc::new(tokio::sync::Mutex::new(body.into_data_stream()));
    let fed = futures_util::stream::unfold(shared.clone(), |shared| async move {
        let next = shared.lock().await.next().await;
        next.map(|chunk| (chunk, shared))
    });
    let answer = next
        .run(Request::from_parts(
            parts,
            axum::body::Body::from_stream(fed),
        ))
        .await;
    if !answer.status().is_success() {
        let mut rest = shared.lock().await;
        let mut dropped = 0u64;
        while let Ok(Some(Ok(chunk))) = tokio::time::timeout(IDLE, rest.next()).await {
            dropped += chunk.len() as u64;
            if dropped > UNREAD {
                break;
            }
        }
    }
    answer
}

/// The most of a refused upload read after its refusal.
const UNREAD: u64 = 64 << 30;
/// How long a refused upload's client may pause before it gets its answer.
const IDLE: std::time::Duration = std::time::Duration::from_secs(5);

fn is_octets(req: &Request) -> bool {
    req.headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(OCTETS))
}

const OCTETS: &str = "application/octet-stream";

/// A file's bytes as the request body (an upload), streamed to the
/// handler as they arrive: content-type `application/octet-stream` (else
/// 415), of any length. `length` is the `content-length` the client sent.
pub struct Upload {
    pub body: axum::body::Body,
    pub length: Option<u64>,
}

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        if !is_octets(&req) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!("send the file's bytes as the body (content-type: {OCTETS})"),
            ));
        }
        let length = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        Ok(Upload {
            body: req.into_body(),
            length,
        })
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("the request body is over {} MiB", MAX_BODY >> 20),
    )
}

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
    // `read_first` answered 413 to a larger one already.
    let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
        .await
        .map_err(|_| too_large())?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

fn decode<T: DeserializeOwned>(value: &mut serde_json::Value) -> Result<T, ApiError> {
    whole_numbers(value);
    T::deserialize(&*value).map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

/// JSON has one kind of number: `5.0` is the integer 5 (as JSON Schema
/// says), and an integer field takes it.
fn whole_numbers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
                *v = Value::from(f as i64);
            } else if f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64 {
                *v = Value::from(f as u64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
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

/// A WebSocket's upgrade request; without the handshake (a plain GET, or
/// HTTP/2) the answer is our JSON 400, not axum's plain text.
pub struct Upgrade(pub axum::extract::ws::WebSocketUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::ws::WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map(Upgrade)
            .map_err(|e| {
                ApiError::bad_request(format!(
                    "this is a WebSocket: connect with an HTTP/1.1 upgrade handshake ({})",
                    e.body_text()
                ))
            })
    }
}

/// A PUT names what it changes in its path; a body that names something
/// else (a rename, which these do not do) is refused, not ignored.
pub fn same_name(path: &str, body: &str) -> Result<(), ApiError> {
    if path == body {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "the body names {}, the path {}: they must be the same (renaming is not supported)",
            hierro_api::shown(body),
            hierro_api::shown(path)
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn whole_floats_are_integers_and_others_stay() {
        let mut v = serde_json::json!({"a": 5.0, "b": [1.5, -2.0], "c": 7, "d": 1e300});
        super::whole_numbers(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": 5, "b": [1.5, -2], "c": 7, "d": 1e300})
        );
        let n: u16 = super::decode(&mut serde_json::json!(4094.0)).unwrap();
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Pair {
            a: Option<u8>,
            b: Option<u8>,
        }
        let sent = serde_json::json!({"pairs": [{"a": 1, "b": 2}, [3, 4]]});
        let read: std::collections::BTreeMap<String, Vec<Pair>> =
            super::decode(&mut sent.clone()).unwrap();
        let read = serde_json::to_value(read).unwrap();
        let e = super::objects_as_objects(&sent, &read, "").unwrap_err();
        assert!(
            e.info.message.contains(".pairs[1] must be an object"),
            "{}",
            e.info.message
        );
        let fine = serde_json::json!({"pairs": [{"a": 1}]});
        let read: std::collections::BTreeMap<String, Vec<Pair>> =
            super::decode(&mut fine.clone()).unwrap();
        assert!(super::objects_as_objects(&fine, &serde_json::to_value(read).unwrap(), "").is_ok());
        assert_eq!(n, 4094);
        assert!(super::decode::<u16>(&mut serde_json::json!(4094.5)).is_err());
    }
}

//! What the center's and the host's OpenAPI documents share: the session's
//! security scheme, the error answers handlers list, and the route that
//! serves the document.

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::{Extension, Router};
use hierro_api::ErrorBody;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::OpenApi;

/// The session's security scheme, which operations name (as a literal, the
/// only form `security(...)` takes) in `security(("session" = []))`.
pub const SESSION_SCHEME: &str = "session";

/// The `hierro-session` header as a security scheme: `modifiers(&SessionScheme)`.
pub struct SessionScheme;

impl utoipa::Modify for SessionScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let header = ApiKeyValue::with_description(
            hierro_api::SESSION_HEADER,
            "A login session's token (POST /api/session) or an API token",
        );
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                SESSION_SCHEME,
                SecurityScheme::ApiKey(ApiKey::Header(header)),
            );
    }
}

/// `router`, serving `doc` at `GET /api/openapi.json` (route `openapi`
/// must be among its routes).
/// A path asked with a method it does not take answers a JSON 405.
pub fn router<S: Clone + Send + Sync + 'static>(router: Router<S>, doc: &OpenApi) -> Router<S> {
    let doc = serde_json::to_vec(&as_json(doc)).expect("the OpenAPI document serializes");
    router
        .method_not_allowed_fallback(|| async {
            crate::ApiError::new(
                hierro_api::ErrorCode::MethodNotAllowed,
                "this path does not take that method",
            )
        })
        .layer(Extension(OpenApiJson(doc.into())))
}

/// The document as committed in the repository (`openapi/*.json`): pretty,
/// with a final newline, so that a change shows as a readable diff.
pub fn pretty(doc: &OpenApi) -> String {
    let mut text =
        serde_json::to_string_pretty(&as_json(doc)).expect("the OpenAPI document serializes");
    text.push('\n');
    text
}

/// The document as JSON, with every integer's bounds written out: utoipa
/// names Rust's integer types by format (`uint16`, `int8`...), which
/// validators do not know, so each gets its `minimum` and `maximum`, and the
/// document says exactly which numbers the API takes.
fn as_json(doc: &OpenApi) -> serde_json::Value {
    let mut v = serde_json::to_value(doc).expect("the OpenAPI document serializes");
    bound_integers(&mut v);
    body_refusals(&mut v);
    close_variants(&mut v);
    v
}

/// Enums whose variants take no other field, though utoipa leaves their
/// objects open: `Principal` (serde's externally tagged form takes one
/// key) and `MirrorDestination` (`deny_unknown_fields`).
const CLOSED_ENUMS: &[&str] = &["Principal", "MirrorDestination"];

fn close_variants(doc: &mut serde_json::Value) {
    for name in CLOSED_ENUMS {
        let variants = doc
            .pointer_mut(&format!("/components/schemas/{name}/oneOf"))
            .and_then(|v| v.as_array_mut());
        for variant in variants.into_iter().flatten() {
            if let Some(v) = variant.as_object_mut() {
                v.insert("additionalProperties".into(), false.into());
            }
        }
    }
}

/// Every operation that takes a JSON body answers 413 to one too large
/// and 415 to another content type (`body.rs`), whatever its handler lists.
fn body_refusals(doc: &mut serde_json::Value) {
    use serde_json::json;
    let answer = |description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        })
    };
    let paths = doc["paths"].as_object_mut().into_iter().flatten();
    for (_, op) in paths.flat_map(|(_, item)| item.as_object_mut().into_iter().flatten()) {
        if !op["requestBody"].is_object() {
            continue;
        }
        if let Some(responses) = op["responses"].as_object_mut() {
            responses
                .entry("413")
                .or_insert_with(|| answer("The body is larger than 2 MiB."));
            responses.entry("415").or_insert_with(|| {
                answer("The body is not JSON (Content-Type: application/json).")
            });
        }
    }
}

fn bound_integers(v: &mut serde_json::Value) {
    use serde_json::{json, Value};
    match v {
        Value::Object(map) => {
            // utoipa spells the unsigned formats "u-int16"...
            let format = map
                .get("format")
                .and_then(Value::as_str)
                .map(|f| f.replace("u-int", "uint"));
            let bounds = match format.as_deref() {
                Some("uint8") => Some((json!(0), json!(u8::MAX))),
                Some("uint16") => Some((json!(0), json!(u16::MAX))),
                Some("uint32") => Some((json!(0), json!(u32::MAX))),
                Some("uint64") => Some((json!(0), json!(u64::MAX))),
                Some("int8") => Some((json!(i8::MIN), json!(i8::MAX))),
                Some("int16") => Some((json!(i16::MIN), json!(i16::MAX))),
                _ => None,
            };
            // `#[schema(pattern = "text")]`: free text (utoipa takes only a
            // literal there).
            if map.get("pattern").and_then(Value::as_str) == Some("text") {
                map.insert("pattern".into(), json!(hierro_api::TEXT_PATTERN));
            }
            if let Some((min, max)) = bounds {
                map.insert("format".into(), json!(format));
                map.entry("minimum").or_insert(min);
                map.entry("maximum").or_insert(max);
            }
            map.values_mut().for_each(bound_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// Operations whose document omits a status the code answers with: 400
/// where the request has a body, query parameters or a typed path segment
/// (a bad value), 401 where it needs a session (but those in `always`,
/// which answer whatever the session). `(method path, status)`.
pub fn missing_statuses(doc: &OpenApi, always: &[&str]) -> Vec<(String, &'static str)> {
    let doc = as_json(doc);
    let mut missing = vec![];
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let has = |status: &str| op["responses"].get(status).is_some();
            // A path segment that is any string cannot be malformed.
            let parsed = |p: &serde_json::Value| {
                p["in"] == "query"
                    || p["schema"]["type"] != "string"
                    || p["schema"]["format"].is_string()
            };
            let takes_input = op["requestBody"].is_object()
                || op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(parsed));
            let name = format!("{} {path}", method.to_uppercase());
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty())
                && !always.contains(&name.as_str());
            if takes_input && !has("400") {
                missing.push((name.clone(), "400"));
            }
            if secured && !has("401") {
                missing.push((name, "401"));
            }
        }
    }
    missing
}

/// The document as served, serialized once.
#[derive(Clone)]
pub struct OpenApiJson(Bytes);

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "session",
    description = "No session needed.",
    responses((status = 200, description = "The document", body = serde_json::Value))
)]
pub async fn openapi(Extension(doc): Extension<OpenApiJson>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], doc.0)
}

// The error answers, for handlers to list in `responses(...)`: each is an
// `ErrorBody` with its status.

/// The request is malformed or names something unusable; the message says what.
#[derive(utoipa::IntoResponses)]
#[response(status = 400)]
pub struct BadRequest(pub ErrorBody);

/// No session, or an unknown or expired one: log in (POST /api/session).
#[derive(utoipa::IntoResponses)]
#[response(status = 401)]
pub struct Unauthorized(pub ErrorBody);

/// The caller may not do this (lacking the privilege, or the host is in
/// lockdown mode).
#[derive(utoipa::IntoResponses)]
#[response(status = 403)]
pub struct Forbidden(pub ErrorBody);

/// No such object, or one the caller may not see.
#[derive(utoipa::IntoResponses)]
#[response(status = 404)]
pub struct NotFound(pub ErrorBody);

/// The name is taken, or the object is in the wrong state for the operation.
#[derive(utoipa::IntoResponses)]
#[response(status = 409)]
pub struct Conflict(pub ErrorBody);

/// Too many failed logins (the account is locked, or this address must
/// wait), or too many at once: try again after `Retry-After` seconds.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 429,
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
pub struct TooManyRequests(pub ErrorBody);

/// The host does not answer, or failed.
#[derive(utoipa::IntoResponses)]
#[response(status = 502)]
pub struct HostFailed(pub ErrorBody);

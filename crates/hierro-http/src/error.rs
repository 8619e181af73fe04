//! The one error type of the host agent's logic and API: an HTTP status and
//! the JSON body `{error: {code, message, details}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hierro_api::{ErrorBody, ErrorInfo};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub info: ErrorInfo,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            info: ErrorInfo {
                code: code.to_string(),
                message: message.into(),
                details: serde_json::Value::Null,
            },
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_argument", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
    /// The object exists but is in the wrong state for the operation
    /// (vSphere's InvalidPowerState / InvalidState).
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "invalid_state", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
    /// The task was stopped on request (vSphere's RequestCanceled).
    pub fn cancelled(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "cancelled", message)
    }
    /// QEMU or another program the host runs failed.
    pub fn backend(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, "backend_failed", message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.info.fmt(f)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(ErrorBody { error: self.info })).into_response()
    }
}

//! The error both daemons answer with at their edge: the JSON body
//! `{error: {code, message, details}}`, whose code gives the HTTP status.
//! Their logic fails with its own types (the host's `HostError`, the
//! center's `OpError`), converted into this in each `api` module.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hierro_api::{ErrorBody, ErrorCode, ErrorInfo};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub info: ErrorInfo,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            info: ErrorInfo::new(code, message),
        }
    }
    /// The HTTP status: the code's.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.info.code.status()).unwrap_or(StatusCode::BAD_GATEWAY)
    }
    /// With machine-readable details (`details` in the body).
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.info.details = details;
        self
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
    /// The object exists but is in the wrong state for the operation
    /// (vSphere's InvalidPowerState / InvalidState).
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidState, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
    /// The task was stopped on request (vSphere's RequestCanceled).
    pub fn cancelled(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Cancelled, message)
    }
    /// QEMU or another program the host runs failed.
    pub fn backend(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BackendFailed, message)
    }
}

impl From<ErrorInfo> for ApiError {
    fn from(info: ErrorInfo) -> Self {
        ApiError { info }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.info.fmt(f)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.info.details["retry_after_secs"].as_u64();
        let mut resp = (self.status(), axum::Json(ErrorBody { error: self.info })).into_response();
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of every API error: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct ErrorInfo {
    /// Stable machine-readable code; the HTTP status follows from it.
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

impl ErrorInfo {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorInfo {
        ErrorInfo {
            code,
            message: message.into(),
            details: serde_json::Value::Null,
        }
    }
}

impl std::fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// What went wrong, for programs: both APIs answer with these codes, and
/// the center matches a host's refusals on them (never on messages). Each
/// code has one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or names something impossible (400).
    InvalidArgument,
    /// Adding a host: confirm its certificate; `details.thumbprint` is it (400).
    ThumbprintRequired,
    /// Adding a host: its certificate is not the one confirmed (400).
    ThumbprintMismatch,
    /// Adding a host: its account or password is wrong (400).
    BadCredentials,
    /// No session, or an expired one (401).
    Unauthenticated,
    /// The caller lacks a privilege (403).
    Forbidden,
    /// The host is in lockdown mode: manage it through its center (403).
    Lockdown,
    /// No such object, or one the caller may not see (404).
    NotFound,
    /// The path exists, not with this method (405).
    MethodNotAllowed,
    /// It clashes with what exists: a name taken, an object in use (409).
    Conflict,
    /// The object is in the wrong state for it, e.g. a running VM (409;
    /// vSphere's InvalidState, InvalidPowerState).
    InvalidState,
    /// The task was stopped on request (409; vSphere's RequestCanceled).
    Cancelled,
    /// Adding a host that another center manages (409).
    ManagedElsewhere,
    /// A fault of the server's own (500).
    Internal,
    /// The task was running when its server stopped (500).
    Interrupted,
    /// QEMU, a host or another program the server relies on failed (502).
    BackendFailed,
    /// The server answered without an error body (seen by clients only).
    Http,
    /// Too many failed logins, or too many at once: try again after
    /// `details.retry_after_secs` (429).
    TooManyRequests,
    /// The request body is over the size limit (413).
    PayloadTooLarge,
    /// The request body is not JSON (415).
    UnsupportedMediaType,
    /// A code this program does not know (a newer server's).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The HTTP status of an error with this code.
    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidArgument | ThumbprintRequired | ThumbprintMismatch | BadCredentials => 400,
            Unauthenticated => 401,
            Forbidden | Lockdown => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            TooManyRequests => 429,
            Conflict | InvalidState | Cancelled | ManagedElsewhere => 409,
            Internal | Interrupted => 500,
            BackendFailed | Http | Unknown => 502,
        }
    }

    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidArgument => "invalid_argument",
            ThumbprintRequired => "thumbprint_required",
            ThumbprintMismatch => "thumbprint_mismatch",
            BadCredentials => "bad_credentials",
            Unauthenticated => "unauthenticated",
            Forbidden => "forbidden",
            Lockdown => "lockdown",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            TooManyRequests => "too_many_requests",
            Conflict => "conflict",
            InvalidState => "invalid_state",
            Cancelled => "cancelled",
            ManagedElsewhere => "managed_elsewhere",
            Internal => "internal",
            Interrupted => "interrupted",
            BackendFailed => "backend_failed",
            Http => "http",
            Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_their_names() {
        for code in [ErrorCode::InvalidState, ErrorCode::ThumbprintRequired] {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str());
            assert_eq!(serde_json::from_value::<ErrorCode>(json).unwrap(), code);
        }
        let newer: ErrorCode = serde_json::from_str("\"quota_exceeded\"").unwrap();
        assert_eq!(newer, ErrorCode::Unknown);
    }
}

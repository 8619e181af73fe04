//! The host agent's errors are the shared API errors.
pub use hierro_http::error::{ApiError, ApiResult};

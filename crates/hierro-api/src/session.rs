use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Send it back in the `hierro-session` header.
    pub token: String,
    pub username: String,
    /// Seconds of inactivity after which the session ends.
    pub idle_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceTokenRequest {
    #[schema(pattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,79}$")]
    pub name: String,
}

/// The token is shown only here; send it as a session token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceTokenResponse {
    pub name: String,
    pub token: String,
}

/// A user's API token for scripts (`/api/tokens`), as listed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub username: String,
    pub name: String,
    pub created: String,
    pub expires: Option<String>,
    pub last_used: Option<String>,
}

/// A new token: the record and, once only, the secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewToken {
    #[serde(flatten)]
    pub record: ApiToken,
    pub token: String,
}

/// `POST /api/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// Days until it expires (at most ten years); never when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub valid_days: Option<u32>,
}

/// The longest an API token may be valid, in days.
pub const TOKEN_MAX_DAYS: u32 = 3650;

/// `GET /api/health`: the center answers and so does its database.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

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
    pub name: String,
}

/// The token is shown only here; send it as a session token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceTokenResponse {
    pub name: String,
    pub token: String,
}

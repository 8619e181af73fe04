//! The center's users and groups (`/api/users`, `/api/groups`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct User {
    pub name: String,
    pub full_name: String,
    pub disabled: bool,
    pub groups: Vec<String>,
}

/// `POST /api/users`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    pub name: String,
    #[schema(min_length = 8)]
    pub password: String,
    #[serde(default)]
    #[schema(pattern = "text", max_length = 256)]
    pub full_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct Group {
    pub name: String,
    pub members: Vec<String>,
}

/// `POST /api/groups`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    pub name: String,
    #[serde(default)]
    #[schema(pattern = "text", max_length = 1024)]
    pub description: String,
}

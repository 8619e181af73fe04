//! vSphere's authorization through the center's API: roles (sets of
//! privileges), permissions (a role for a principal on an object), and the
//! effective rights they give.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::Privilege;

/// A named set of privileges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub privileges: BTreeSet<Privilege>,
    /// System roles (Administrator, Read-only, No access) come with the
    /// center and cannot be edited or deleted.
    pub system: bool,
}

/// `POST /api/roles`, `PUT /api/roles/{id}`: a custom role's privileges
/// (by id; the base `System.*` ones are always added).
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    /// Needed to create a role; a change keeps the name.
    #[serde(default)]
    pub name: String,
    #[schema(value_type = Vec<crate::Privilege>)]
    pub privileges: BTreeSet<String>,
}

/// Who a permission is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Principal {
    User(String),
    Group(String),
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::User(n) => write!(f, "user {n}"),
            Principal::Group(n) => write!(f, "group {n}"),
        }
    }
}

impl Principal {
    /// As query parameters name it: `user:NAME` or `group:NAME`.
    pub fn key(&self) -> String {
        match self {
            Principal::User(n) => format!("user:{n}"),
            Principal::Group(n) => format!("group:{n}"),
        }
    }
}

/// `user:NAME` or `group:NAME`.
impl std::str::FromStr for Principal {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            Some(("user", n)) if !n.is_empty() => Ok(Principal::User(n.into())),
            Some(("group", n)) if !n.is_empty() => Ok(Principal::Group(n.into())),
            _ => Err(format!("principal {s:?} must be user:NAME or group:NAME")),
        }
    }
}

/// A role given to a principal on an object (`POST /api/permissions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    pub principal: Principal,
    /// The role's id.
    pub role: String,
    /// The inventory object's id.
    pub object: String,
    /// Whether it also applies to the object's subtree.
    pub propagate: bool,
}

/// `GET /api/permissions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PermissionQuery {
    /// The object's id; the root when absent.
    pub object: Option<String>,
    /// Every permission on every object the caller may read, instead: who
    /// has what where.
    #[serde(default)]
    pub all: bool,
}

/// `DELETE /api/permissions`: whose permission on what.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PermissionKey {
    /// `user:NAME` or `group:NAME`.
    #[param(pattern = "^(user|group):.+$")]
    pub principal: String,
    /// The object's id.
    pub object: String,
}

/// One permission that took part in a decision, for explanations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    pub principal: Principal,
    pub role_id: String,
    pub role: String,
    pub object: String,
    pub propagate: bool,
}

/// The effective rights of a subject on an object, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    pub privileges: BTreeSet<Privilege>,
    /// The object whose permissions decided; `None` when no permission
    /// applies anywhere on the path (then there are no privileges).
    pub decided_at: Option<String>,
    /// The permissions that decided: the user's own, or the matching groups'
    /// (only the No access ones when No access applied).
    pub permissions: Vec<Reason>,
    /// Whether No access decided (then there are no privileges).
    pub no_access: bool,
}

impl Decision {
    /// Whether the decision grants `privilege`.
    pub fn allows(&self, privilege: Privilege) -> bool {
        self.privileges.contains(&privilege)
    }

    /// Whether the object appears in the subject's listings.
    pub fn visible(&self) -> bool {
        self.allows(Privilege::SystemView)
    }
}

/// `GET /api/effective`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EffectiveQuery {
    /// The object's id.
    pub object: String,
    /// `user:NAME` or `group:NAME`; the caller when absent.
    #[param(pattern = "^(user|group):.+$")]
    pub principal: Option<String>,
}

/// What a principal may do on an object, and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Effective {
    pub principal: Principal,
    pub object: String,
    #[serde(flatten)]
    pub decision: Decision,
}

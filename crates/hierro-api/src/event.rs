use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::EventKind;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Something that happened (vSphere's `Event`): kept, listable, never changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: u64,
    pub time: DateTime<Utc>,
    /// Event type, e.g. `VmPoweredOnEvent`.
    pub kind: EventKind,
    pub severity: Severity,
    pub target: String,
    pub target_name: String,
    pub user: String,
    pub message: String,
    #[serde(default)]
    pub task: Option<Uuid>,
}

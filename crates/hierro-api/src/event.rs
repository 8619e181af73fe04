use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Something that happened (vSphere's `Event`): kept, listable, never changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: u64,
    pub time: DateTime<Utc>,
    /// Event type, e.g. `VmPoweredOnEvent`.
    pub kind: String,
    pub severity: Severity,
    pub target: String,
    pub target_name: String,
    pub user: String,
    pub message: String,
    #[serde(default)]
    pub task: Option<Uuid>,
}

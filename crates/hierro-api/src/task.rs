use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{ErrorInfo, Operation};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Queued,
    Running,
    Success,
    Error,
}

impl TaskState {
    pub fn is_done(self) -> bool {
        matches!(self, TaskState::Success | TaskState::Error)
    }
}

/// Every state change is a task (vSphere's `Task`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Task {
    pub id: Uuid,
    /// What it does, e.g. `VirtualMachine.powerOn`.
    pub operation: Operation,
    /// The object it acts on: `vm:<id>`, `datastore:<name>`, `host`.
    pub target: String,
    pub target_name: String,
    pub state: TaskState,
    pub progress: u8,
    pub user: String,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub result: Option<serde_json::Value>,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
    /// Whether `POST /api/tasks/{id}/cancel` can stop it now.
    #[serde(default)]
    pub cancelable: bool,
}

/// `GET /api/tasks` on a center.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// Only the tasks on this object (`vm:<id>`, an object id...).
    pub target: Option<String>,
    /// Only the tasks of this operation, e.g. `VirtualMachine.create`.
    pub operation: Option<Operation>,
    /// Only the tasks queued at or after this time (RFC 3339).
    pub after: Option<DateTime<Utc>>,
    /// Only the tasks queued before this time (RFC 3339).
    pub before: Option<DateTime<Utc>>,
    /// At most this many: 200 by default, 5000 at most.
    pub limit: Option<i64>,
}

/// `GET /api/tasks` on a host.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HostTaskQuery {
    /// Only the tasks on this object (its id, e.g. `vm:UUID`, or its name).
    pub target: Option<String>,
}

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

/// One message of the event stream (`GET /api/events/stream`, server-sent
/// events), as a client reads it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventMessage {
    /// Always `event`.
    pub event: String,
    /// The event's sequence number.
    pub id: String,
    /// The Event, as JSON.
    pub data: String,
}

/// `GET /api/events` (and its stream) on a center.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events after this sequence number.
    pub since: Option<i64>,
    /// The newest `limit` events (still oldest first) rather than the
    /// first `limit` after `since`: what an events view shows.
    #[serde(default)]
    pub newest: bool,
    /// Only the events about this object.
    pub target: Option<String>,
    /// Only events of this type, e.g. `VmPoweredOnEvent`.
    pub kind: Option<EventKind>,
    /// Only events at or after this time (RFC 3339).
    pub after: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    pub before: Option<DateTime<Utc>>,
    /// At most this many: 1000 by default, 10000 at most.
    pub limit: Option<i64>,
}

/// `GET /api/events` on a host.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HostEventQuery {
    /// Only events with a larger id (for following the stream).
    pub since: Option<u64>,
    /// Only the events of this object (its id, e.g. `vm:UUID`, or its name).
    pub target: Option<String>,
    /// Only events of this kind, e.g. `VmPoweredOnEvent`.
    pub kind: Option<EventKind>,
    /// At most this many: the newest.
    pub limit: Option<usize>,
}

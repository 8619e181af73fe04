use axum::extract::State;
use axum::Json;
use hierro_api::{Event, Task};
use hierro_http::{Params, PathArgs};
use serde::Deserialize;
use uuid::Uuid;

use super::{AppState, Caller};
use crate::error::{ApiError, ApiResult};

#[derive(Deserialize)]
pub struct TaskQuery {
    target: Option<String>,
}

pub async fn list(
    State(host): State<AppState>,
    _c: Caller,
    Params(q): Params<TaskQuery>,
) -> Json<Vec<Task>> {
    let mut tasks = host.journal.tasks();
    if let Some(t) = q.target {
        tasks.retain(|x| x.target == t || x.target_name == t);
    }
    Json(tasks)
}

pub async fn get(
    State(host): State<AppState>,
    _c: Caller,
    PathArgs(id): PathArgs<Uuid>,
) -> ApiResult<Json<Task>> {
    host.journal
        .get_task(id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no task {id}")))
}

/// Asks a running task to stop (only those that can, e.g. a migration);
/// the answer is the task, still running: it ends as `cancelled`.
pub async fn cancel(
    State(host): State<AppState>,
    c: Caller,
    PathArgs(id): PathArgs<Uuid>,
) -> ApiResult<(axum::http::StatusCode, Json<Task>)> {
    let task = host.journal.cancel(id, &c.user)?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(task)))
}

#[derive(Deserialize)]
pub struct EventQuery {
    /// Only events with a larger id (for following the stream).
    since: Option<u64>,
    target: Option<String>,
    kind: Option<String>,
    limit: Option<usize>,
}

pub async fn events(
    State(host): State<AppState>,
    _c: Caller,
    Params(q): Params<EventQuery>,
) -> Json<Vec<Event>> {
    let mut events: Vec<Event> = host
        .journal
        .events()
        .into_iter()
        .filter(|e| q.since.is_none_or(|s| e.id > s))
        .filter(|e| {
            q.target
                .as_ref()
                .is_none_or(|t| &e.target == t || &e.target_name == t)
        })
        .filter(|e| q.kind.as_ref().is_none_or(|k| &e.kind == k))
        .collect();
    if let Some(limit) = q.limit {
        let skip = events.len().saturating_sub(limit);
        events.drain(..skip);
    }
    Json(events)
}

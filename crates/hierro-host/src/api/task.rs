use axum::extract::State;
use axum::Json;
use hierro_api::{Event, Task};
use hierro_api::{HostEventQuery, HostTaskQuery};
use hierro_http::{Params, PathArgs};
use uuid::Uuid;

use super::{AppState, BadRequest, Caller, Conflict, NotFound, Unauthorized};
use hierro_http::{ApiError, ApiResult};

#[utoipa::path(
    get,
    path = "/api/tasks",
    tag = "tasks",
    operation_id = "task_list",
    description = "The host's recent tasks.",
    security(("session" = [])),
    params(HostTaskQuery),
    responses((status = 200, description = "The tasks", body = [Task]), BadRequest, Unauthorized)
)]
pub async fn list(
    State(host): State<AppState>,
    _c: Caller,
    Params(q): Params<HostTaskQuery>,
) -> Json<Vec<Task>> {
    let mut tasks = host.journal.tasks();
    if let Some(t) = q.target {
        tasks.retain(|x| x.target == t || x.target_name == t);
    }
    Json(tasks)
}

#[utoipa::path(
    get,
    path = "/api/tasks/{id}",
    tag = "tasks",
    operation_id = "task_get",
    description = "One task.",
    security(("session" = [])),
    params(("id" = Uuid, Path, description = "The task's id")),
    responses((status = 200, description = "The task", body = Task), BadRequest, Unauthorized, NotFound)
)]
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
#[utoipa::path(
    post,
    path = "/api/tasks/{id}/cancel",
    tag = "tasks",
    operation_id = "task_cancel",
    description = "Asks a running task to stop (only those that can, e.g. a migration); it ends as `cancelled`.",
    security(("session" = [])),
    params(("id" = Uuid, Path, description = "The task's id")),
    responses((status = 202, description = "The task, still running", body = Task), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn cancel(
    State(host): State<AppState>,
    c: Caller,
    PathArgs(id): PathArgs<Uuid>,
) -> ApiResult<(axum::http::StatusCode, Json<Task>)> {
    let task = host.journal.cancel(id, &c.user)?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(task)))
}

#[utoipa::path(
    get,
    path = "/api/events",
    tag = "tasks",
    operation_id = "event_list",
    description = "The host's recent events, oldest first.",
    security(("session" = [])),
    params(HostEventQuery),
    responses((status = 200, description = "The events", body = [Event]), BadRequest, Unauthorized)
)]
pub async fn events(
    State(host): State<AppState>,
    _c: Caller,
    Params(q): Params<HostEventQuery>,
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
        .filter(|e| q.kind.is_none_or(|k| e.kind == k))
        .collect();
    if let Some(limit) = q.limit {
        let skip = events.len().saturating_sub(limit);
        events.drain(..skip);
    }
    Json(events)
}

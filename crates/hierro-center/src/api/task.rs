//! Tasks and events through the API. A caller sees the tasks and events of
//! the objects it may see (and those about users and roles if it may see
//! the root).

use hierro_api::Privilege;
use hierro_api::{EventKind, Operation};
use hierro_api::{EventQuery, TaskQuery};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use futures_util::Stream;
use hierro_api::{Event, Task};
use hierro_http::ApiResult;
use hierro_http::{Params, PathArgs};
use serde::Serialize;
use uuid::Uuid;

use super::privileges::{needs, note, on, Access};
use super::{internal, AppState, BadRequest, Caller, Conflict, Forbidden, NotFound, Unauthorized};
use crate::journal;
use crate::ops::TaskRun;
use crate::Center;
use hierro_api::Privilege as P;

/// What each operation of this file needs (the document's "Privilege:" lines).
pub(super) const ACCESS: &[(&str, Access)] = &[
    (
        "tasks",
        note(
            "the others are left out",
            &[
                on(P::SystemView, "the object each task acts on"),
                on(P::SystemView, "the root").when("tasks on users, roles and tokens"),
            ],
        ),
    ),
    (
        "task",
        needs(&[
            on(P::SystemView, "the object it acts on"),
            on(P::SystemView, "the root").when("tasks on users, roles and tokens"),
        ]),
    ),
    (
        "cancel_task",
        needs(&[on(P::GlobalCancelTask, "the object the task acts on")]),
    ),
    (
        "events",
        note(
            "the others are left out",
            &[
                on(P::SystemView, "the object each event is about"),
                on(P::SystemView, "the root").when("events on users, roles and tokens"),
            ],
        ),
    ),
    (
        "event_stream",
        note(
            "as for GET /api/events: only the events the caller may see",
            &[],
        ),
    ),
];

/// Runs a change of the center's own data as a task: recorded running,
/// then the change, its success with the result and an event in one
/// transaction (`TaskRun::atomically`), or error with the reason.
pub async fn as_task<T: Serialize>(
    c: &AppState,
    caller: &Caller,
    operation: Operation,
    target: (&str, &str),
    done: (EventKind, String),
    work: impl std::future::Future<Output = ApiResult<T>>,
) -> ApiResult<T> {
    let run = TaskRun::begin(c, caller, operation, target).await?;
    run.atomically(caught(work), done).await
}

/// The work's outcome, or an internal error when it panicked: its task
/// ends either way (and the panic is logged).
async fn caught<T>(work: impl std::future::Future<Output = ApiResult<T>>) -> ApiResult<T> {
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .unwrap_or_else(|_| {
            Err(internal(
                "the work failed unexpectedly (a bug: see the center's log)",
            ))
        })
}

/// Runs a change that reaches beyond the database (a host, the followers)
/// as a task: recorded running, then success with its result and an
/// event, or error with the reason. What a host did cannot roll back with
/// a transaction, so each is recorded as it happens.
pub async fn as_outside_task<T: Serialize>(
    c: &AppState,
    caller: &Caller,
    operation: Operation,
    target: (&str, &str),
    done: (EventKind, String),
    work: impl std::future::Future<Output = ApiResult<T>>,
) -> ApiResult<T> {
    let run = TaskRun::begin(c, caller, operation, target).await?;
    let result = caught(work).await;
    run.end(result, done).await
}

/// Whether the caller may see what happened to `target`.
fn may_see(
    caller: &Caller,
    authz: &(crate::authz::Authz, crate::authz::Tree),
    target: &str,
) -> bool {
    let (authz, tree) = authz;
    let object = if tree.parent(target).is_some() || target == crate::inventory::ROOT {
        target
    } else {
        crate::inventory::ROOT
    };
    authz.visible(&caller.subject, &tree.path(object))
}

/// Tasks, newest first.
#[utoipa::path(
    get,
    path = "/api/tasks",
    tag = "tasks",
    security(("session" = [])),
    params(TaskQuery),
    responses((status = 200, description = "The tasks", body = [Task]), BadRequest, Unauthorized)
)]
pub async fn tasks(
    State(c): State<AppState>,
    caller: Caller,
    Params(q): Params<TaskQuery>,
) -> ApiResult<Json<Vec<Task>>> {
    let filter = journal::Filter {
        target: q.target,
        kind: q.operation.map(|o| o.to_string()),
        after: q.after,
        before: q.before,
        since: 0,
        limit: q.limit.unwrap_or(200).clamp(1, 5000),
        newest: false,
    };
    let all = journal::tasks(&c.db, &filter).await?;
    let authz = crate::access::load(&c.db).await.map_err(internal)?;
    let mut out = vec![];
    for t in all {
        if may_see(&caller, &authz, &t.target) {
            out.push(with_cancelable(&c, t));
        }
    }
    Ok(Json(out))
}

fn with_cancelable(c: &Center, mut t: Task) -> Task {
    t.cancelable = c.cancels.cancelable(t.id);
    t
}

/// One task, to follow its progress.
#[utoipa::path(
    get,
    path = "/api/tasks/{id}",
    tag = "tasks",
    security(("session" = [])),
    params(("id" = Uuid, Path, description = "The task's id")),
    responses(
        (status = 200, description = "The task", body = Task),
        BadRequest, Unauthorized, NotFound,
    )
)]
pub async fn task(
    State(c): State<AppState>,
    caller: Caller,
    PathArgs(id): PathArgs<Uuid>,
) -> ApiResult<Json<Task>> {
    let t = journal::task(&c.db, id).await?;
    let authz = crate::access::load(&c.db).await.map_err(internal)?;
    if !may_see(&caller, &authz, &t.target) {
        return Err(hierro_http::ApiError::not_found(format!("no task {id}")));
    }
    Ok(Json(with_cancelable(&c, t)))
}

/// Asks a running task to stop: a migration goes back to its source, a
/// host entering maintenance mode stops moving VMs and stays out of it. The
/// answer is the task, still running; it ends in error `cancelled`.
#[utoipa::path(
    post,
    path = "/api/tasks/{id}/cancel",
    tag = "tasks",
    security(("session" = [])),
    params(("id" = Uuid, Path, description = "The task's id")),
    responses(
        (status = 202, description = "Cancelling: the task, still running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    )
)]
pub async fn cancel_task(
    State(c): State<AppState>,
    caller: Caller,
    PathArgs(id): PathArgs<Uuid>,
) -> ApiResult<(axum::http::StatusCode, Json<Task>)> {
    let t = journal::task(&c.db, id).await?;
    // Tasks on users and roles are the root's.
    let object = if crate::inventory::get(&c.db, &t.target).await.is_ok() {
        t.target.clone()
    } else {
        crate::inventory::ROOT.to_string()
    };
    super::authorize(&c, &caller, &object, Privilege::GlobalCancelTask).await?;
    if t.finished_at.is_some() {
        return Err(hierro_http::ApiError::invalid_state(format!(
            "task {id} ({}) has ended",
            t.operation
        )));
    }
    if !c.cancels.cancel(id, &caller.user) {
        return Err(hierro_http::ApiError::invalid_state(format!(
            "task {id} ({}) cannot be cancelled",
            t.operation
        )));
    }
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(with_cancelable(&c, t)),
    ))
}

async fn visible_events(
    c: &Center,
    caller: &Caller,
    q: &EventQuery,
    since: i64,
) -> ApiResult<Vec<Event>> {
    let filter = journal::Filter {
        target: q.target.clone(),
        kind: q.kind.map(|k| k.to_string()),
        after: q.after,
        before: q.before,
        since,
        limit: q.limit.unwrap_or(1000).clamp(1, 10000),
        newest: q.newest,
    };
    let all = journal::events(&c.db, &filter).await?;
    let authz = crate::access::load(&c.db).await.map_err(internal)?;
    let mut out = vec![];
    for e in all {
        if may_see(caller, &authz, &e.target) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Events, oldest first.
#[utoipa::path(
    get,
    path = "/api/events",
    tag = "tasks",
    security(("session" = [])),
    params(EventQuery),
    responses((status = 200, description = "The events", body = [Event]), BadRequest, Unauthorized)
)]
pub async fn events(
    State(c): State<AppState>,
    caller: Caller,
    Params(q): Params<EventQuery>,
) -> ApiResult<Json<Vec<Event>>> {
    Ok(Json(
        visible_events(&c, &caller, &q, q.since.unwrap_or(0)).await?,
    ))
}

/// The event stream (server-sent events): what is new, as it happens.
#[utoipa::path(
    get,
    path = "/api/events/stream",
    tag = "tasks",
    operation_id = "event_stream",
    description = "Server-sent events that do not end: each is an `event` whose `id` is the event's sequence number and whose `data` is the Event as JSON; `limit` applies to each poll.",
    security(("session" = [])),
    params(EventQuery),
    responses(
        (
            status = 200,
            description = "A stream of `event` messages whose data is an Event",
            content_type = "text/event-stream",
            body = hierro_api::EventMessage,
        ),
        BadRequest, Unauthorized,
    )
)]
pub async fn stream(
    State(c): State<AppState>,
    caller: Caller,
    Params(q): Params<EventQuery>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let mut since = q.since.unwrap_or(0);
    let stream = async_stream(move |tx| async move {
        loop {
            match visible_events(&c, &caller, &q, since).await {
                Ok(list) => {
                    for e in list {
                        since = since.max(e.id as i64);
                        let data = serde_json::to_string(&e).unwrap_or_default();
                        if tx
                            .send(Ok(SseEvent::default()
                                .id(e.id.to_string())
                                .event("event")
                                .data(data)))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                }
                Err(_) => return,
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// A stream fed by a task through a channel.
fn async_stream<F, Fut>(f: F) -> impl Stream<Item = Result<SseEvent, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<SseEvent, Infallible>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(f(tx));
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

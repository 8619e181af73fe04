//! Tasks and events in the database: every change through the center is a
//! task and leaves events, queryable by object, time and type.

use chrono::{DateTime, Utc};
use hierro_api::{ErrorInfo, Event, Severity, Task, TaskState};
use hierro_api::{EventKind, Operation};
use sqlx::Row;
use uuid::Uuid;

use crate::db::Db;
use crate::error::{StoreError, StoreResult};

fn text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A stored name of a vocabulary (migrations rename retired ones).
fn parse<T: std::str::FromStr<Err = hierro_api::vocab::Unknown>>(s: String) -> StoreResult<T> {
    s.parse().map_err(|e: hierro_api::vocab::Unknown| {
        StoreError::Invalid(format!("{e} in the database"))
    })
}

fn parse_time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Records a running task.
pub async fn begin(
    db: &Db,
    operation: Operation,
    target: &str,
    target_name: &str,
    user: &str,
) -> StoreResult<Uuid> {
    let id = Uuid::new_v4();
    let now = Utc::now().to_rfc3339();
    sqlx::query(
        "INSERT INTO tasks (id, operation, target, target_name, state, progress, username, queued_at, started_at) \
         VALUES ($1, $2, $3, $4, 'running', 0, $5, $6, $6)",
    )
    .bind(id.to_string())
    .bind(operation.as_str())
    .bind(target)
    .bind(target_name)
    .bind(user)
    .bind(now)
    .execute(&mut *db.conn().await?)
    .await?;
    Ok(id)
}

/// Fails the tasks an earlier center process left running: their work
/// stopped with it (what it had committed stays). Returns how many.
pub async fn fail_interrupted(db: &Db) -> StoreResult<usize> {
    let rows = sqlx::query("SELECT id, operation, target, target_name, username FROM tasks WHERE state IN ('queued', 'running')")
        .fetch_all(&mut *db.conn().await?)
        .await?;
    let info = ErrorInfo::new(
        hierro_api::ErrorCode::Interrupted,
        "the center stopped while the task ran",
    );
    for r in &rows {
        let id: String = r.try_get("id")?;
        let operation: String = r.try_get("operation")?;
        finish(db, id.parse().unwrap_or_default(), Err(info.clone())).await?;
        event(
            db,
            EventKind::TaskFailed,
            Severity::Error,
            &r.try_get::<String, _>("target")?,
            &r.try_get::<String, _>("target_name")?,
            &r.try_get::<String, _>("username")?,
            &format!("{operation} failed: {}", info.message),
            id.parse().ok(),
        )
        .await?;
    }
    Ok(rows.len())
}

/// Records how far a running task is (0-99; success makes it 100).
pub async fn progress(db: &Db, id: Uuid, pct: u8) -> StoreResult<()> {
    sqlx::query("UPDATE tasks SET progress = $1 WHERE id = $2 AND state = 'running'")
        .bind(pct.min(99) as i64)
        .bind(id.to_string())
        .execute(&mut *db.conn().await?)
        .await?;
    Ok(())
}

/// Ends a task with its result or its error.
pub async fn finish(
    db: &Db,
    id: Uuid,
    outcome: Result<Option<serde_json::Value>, ErrorInfo>,
) -> StoreResult<()> {
    let (state, result, error) = match outcome {
        Ok(r) => ("success", r.map(|r| r.to_string()), None),
        Err(e) => (
            "error",
            None,
            Some(serde_json::to_string(&e).unwrap_or_default()),
        ),
    };
    sqlx::query("UPDATE tasks SET state = $1, progress = 100, finished_at = $2, result = $3, error = $4 WHERE id = $5")
        .bind(state)
        .bind(Utc::now().to_rfc3339())
        .bind(result)
        .bind(error)
        .bind(id.to_string())
        .execute(&mut *db.conn().await?)
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn event(
    db: &Db,
    kind: EventKind,
    severity: Severity,
    target: &str,
    target_name: &str,
    user: &str,
    message: &str,
    task: Option<Uuid>,
) -> StoreResult<()> {
    // The next sequence number; two writers racing on PostgreSQL collide on
    // the primary key, and the loser takes the next one. Each try is a
    // transaction of its own (a savepoint in a change's transaction, which
    // the collision would otherwise abort).
    let mut conn = db.conn().await?;
    for _ in 0..10 {
        let mut attempt = sqlx::Connection::begin(&mut *conn).await?;
        let done = sqlx::query(
            "INSERT INTO events (seq, time, kind, severity, target, target_name, username, message, task) \
             SELECT COALESCE(MAX(seq), 0) + 1, $1, $2, $3, $4, $5, $6, $7, $8 FROM events",
        )
        .bind(Utc::now().to_rfc3339())
        .bind(kind.as_str())
        .bind(text(&severity))
        .bind(target)
        .bind(target_name)
        .bind(user)
        .bind(message)
        .bind(task.map(|t| t.to_string()))
        .execute(&mut *attempt)
        .await;
        match done {
            Ok(_) => return Ok(attempt.commit().await?),
            Err(e) if Db::is_unique_violation(&e) => attempt.rollback().await?,
            Err(e) => return Err(e.into()),
        }
    }
    Err(crate::error::StoreError::Conflict(
        "could not number an event".into(),
    ))
}

fn row_to_task(r: &sqlx::any::AnyRow) -> StoreResult<Task> {
    let state: String = r.try_get("state")?;
    Ok(Task {
        id: r.try_get::<String, _>("id")?.parse().unwrap_or_default(),
        operation: parse(r.try_get("operation")?)?,
        target: r.try_get("target")?,
        target_name: r.try_get("target_name")?,
        state: serde_json::from_value(serde_json::Value::String(state)).unwrap_or(TaskState::Error),
        progress: r.try_get::<i64, _>("progress")? as u8,
        user: r.try_get("username")?,
        queued_at: parse_time(r.try_get("queued_at")?).unwrap_or_default(),
        started_at: parse_time(r.try_get("started_at")?),
        finished_at: parse_time(r.try_get("finished_at")?),
        result: r
            .try_get::<Option<String>, _>("result")?
            .and_then(|s| serde_json::from_str(&s).ok()),
        error: r
            .try_get::<Option<String>, _>("error")?
            .and_then(|s| serde_json::from_str(&s).ok()),
        // Known only to the running center (Center::cancels).
        cancelable: false,
    })
}

const TASK_COLUMNS: &str = "id, operation, target, target_name, state, progress, username, queued_at, started_at, finished_at, result, error";

/// The newest tasks first, optionally for one target.
/// Which tasks or events to read; every field given narrows the choice.
#[derive(Debug, Default)]
pub struct Filter {
    /// The object they concern.
    pub target: Option<String>,
    /// A task's operation, or an event's kind.
    pub kind: Option<String>,
    /// Queued (tasks) or happened (events) at or after, and before.
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    /// Events only: after this sequence number.
    pub since: i64,
    pub limit: i64,
    /// Events only: the newest `limit` (still oldest first), instead of the
    /// first `limit` after `since`.
    pub newest: bool,
}

impl Filter {
    /// The WHERE clause over the columns named, and its values in order.
    fn clause(&self, target: &str, kind: &str, time: &str) -> (String, Vec<String>) {
        let mut conds = vec![];
        let mut values = vec![];
        let mut add = |cond: String, value: String| {
            values.push(value);
            conds.push(cond.replace('?', &format!("${}", values.len())));
        };
        if let Some(t) = &self.target {
            add(format!("{target} = ?"), t.clone());
        }
        if let Some(k) = &self.kind {
            add(format!("{kind} = ?"), k.clone());
        }
        // Times are stored as UTC RFC 3339 text, which sorts as time does.
        if let Some(a) = self.after {
            add(format!("{time} >= ?"), a.to_rfc3339());
        }
        if let Some(b) = self.before {
            add(format!("{time} < ?"), b.to_rfc3339());
        }
        let clause = if conds.is_empty() {
            "1 = 1".to_string()
        } else {
            conds.join(" AND ")
        };
        (clause, values)
    }
}

/// Tasks, newest first.
pub async fn tasks(db: &Db, f: &Filter) -> StoreResult<Vec<Task>> {
    let (clause, values) = f.clause("target", "operation", "queued_at");
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE {clause} ORDER BY queued_at DESC LIMIT {}",
        f.limit.max(1)
    );
    let mut query = sqlx::query(&sql);
    for v in values {
        query = query.bind(v);
    }
    let rows = query.fetch_all(&mut *db.conn().await?).await?;
    rows.iter().map(row_to_task).collect()
}

pub async fn task(db: &Db, id: Uuid) -> StoreResult<Task> {
    let row = sqlx::query(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *db.conn().await?)
        .await?
        .ok_or_else(|| crate::error::StoreError::NotFound(format!("no task {id}")))?;
    row_to_task(&row)
}

/// Events after `since` (a sequence number), oldest first.
pub async fn events(db: &Db, f: &Filter) -> StoreResult<Vec<Event>> {
    let (clause, values) = f.clause("target", "kind", "time");
    let sql = format!(
        "SELECT seq, time, kind, severity, target, target_name, username, message, task FROM events \
         WHERE seq > {} AND {clause} ORDER BY seq {} LIMIT {}",
        f.since,
        if f.newest { "DESC" } else { "ASC" },
        f.limit.max(1)
    );
    let mut query = sqlx::query(&sql);
    for v in values {
        query = query.bind(v);
    }
    let mut rows = query.fetch_all(&mut *db.conn().await?).await?;
    if f.newest {
        rows.reverse();
    }
    rows.iter()
        .map(|r| {
            let severity: String = r.try_get("severity")?;
            Ok(Event {
                id: r.try_get::<i64, _>("seq")? as u64,
                time: parse_time(r.try_get("time")?).unwrap_or_default(),
                kind: parse(r.try_get("kind")?)?,
                severity: serde_json::from_value(serde_json::Value::String(severity))
                    .unwrap_or(Severity::Info),
                target: r.try_get("target")?,
                target_name: r.try_get("target_name")?,
                user: r.try_get("username")?,
                message: r.try_get("message")?,
                task: r
                    .try_get::<Option<String>, _>("task")?
                    .and_then(|t| t.parse().ok()),
            })
        })
        .collect()
}

//! Every change is a task: recorded running, then ended with its result and
//! an event, or with its error and a `TaskFailedEvent`. `TaskRun` is a task
//! in progress.

use std::sync::Arc;

use hierro_api::{ErrorInfo, EventKind, Operation, Severity, Task};
use serde::Serialize;
use uuid::Uuid;

use super::{Caller, OpError, OpResult};
use crate::journal;
use crate::Center;

/// An error a task can end with.
pub trait TaskError {
    fn task_error(&self) -> ErrorInfo;
}

impl TaskError for OpError {
    fn task_error(&self) -> ErrorInfo {
        self.info()
    }
}

impl TaskError for hierro_http::ApiError {
    fn task_error(&self) -> ErrorInfo {
        self.info.clone()
    }
}

/// A task in progress.
#[derive(Clone)]
pub struct TaskRun {
    pub id: Uuid,
    center: Arc<Center>,
    operation: Operation,
    target: String,
    name: String,
    user: String,
}

impl TaskRun {
    /// Records a running task on `target` (an object id, and its name).
    pub async fn begin(
        center: &Arc<Center>,
        caller: &Caller,
        operation: Operation,
        (target, name): (&str, &str),
    ) -> OpResult<TaskRun> {
        let id = journal::begin(&center.db, operation, target, name, &caller.user).await?;
        Ok(TaskRun {
            id,
            center: center.clone(),
            operation,
            target: target.to_string(),
            name: name.to_string(),
            user: caller.user.clone(),
        })
    }

    /// The task as recorded now.
    pub async fn snapshot(&self) -> OpResult<Task> {
        Ok(journal::task(&self.center.db, self.id).await?)
    }

    /// Runs the work in the background and answers at once with the
    /// running task, which the caller follows through /api/tasks/{id}. On
    /// success the event `kind` says what `message` makes of the result.
    pub async fn spawn<T, E, F, M>(self, work: F, kind: EventKind, message: M) -> OpResult<Task>
    where
        T: Serialize + Send + 'static,
        E: TaskError + From<OpError> + Send + 'static,
        F: std::future::Future<Output = Result<T, E>> + Send + 'static,
        M: FnOnce(&T) -> String + Send + 'static,
    {
        let task = self.snapshot().await?;
        tokio::spawn(async move {
            let result = work.await;
            let text = result.as_ref().map(message).unwrap_or_default();
            let _ = self.end(result, (kind, text)).await;
        });
        Ok(task)
    }

    /// Makes the task cancelable (`POST /api/tasks/{id}/cancel`) until it
    /// ends; the token fires when a user cancels it.
    pub fn cancellation(&self) -> tokio_util::sync::CancellationToken {
        self.center.cancels.register(self.id)
    }

    /// The error of a task stopped by `cancellation`'s token.
    pub fn cancelled(&self) -> OpError {
        OpError::Cancelled(self.center.cancels.by(self.id))
    }

    pub async fn progress(&self, pct: u8) {
        if let Err(e) = journal::progress(&self.center.db, self.id, pct).await {
            tracing::warn!("recording task progress: {e}");
        }
    }

    /// Records the outcome: the result and the `done` event, or the error
    /// and a TaskFailedEvent.
    pub async fn end<T, E>(self, result: Result<T, E>, done: (EventKind, String)) -> Result<T, E>
    where
        T: Serialize,
        E: TaskError + From<OpError>,
    {
        let ending = self.ending(&result, done);
        self.record(ending).await?;
        result
    }

    /// Runs `work`, a change of the center's own data, and ends the task
    /// with it in one transaction: what it changed, the task's success and
    /// the `done` event commit together, so that a crash leaves all three
    /// or none (then the task is failed as interrupted at the next start).
    /// A failed work changes nothing and its failure is recorded after.
    pub async fn atomically<T, E>(
        self,
        work: impl std::future::Future<Output = Result<T, E>>,
        done: (EventKind, String),
    ) -> Result<T, E>
    where
        T: Serialize,
        E: TaskError + From<OpError>,
    {
        enum Ran<E> {
            Work(E),
            Db(sqlx::Error),
        }
        impl<E> From<sqlx::Error> for Ran<E> {
            fn from(e: sqlx::Error) -> Self {
                Ran::Db(e)
            }
        }
        let db = self.center.db.clone();
        let ran = db
            .atomic(async {
                let value = work.await.map_err(Ran::Work)?;
                let ending = self.ending(&Ok::<&T, E>(&value), done.clone());
                self.record(ending)
                    .await
                    .map_err(|e| Ran::Work(E::from(e)))?;
                Ok(value)
            })
            .await;
        match ran {
            Ok(value) => Ok(value),
            Err(Ran::Work(e)) => self.end(Err(e), done).await,
            Err(Ran::Db(e)) => {
                let e = E::from(OpError::from(crate::error::StoreError::from(e)));
                self.end(Err(e), done).await
            }
        }
    }

    /// What the task's end records: its outcome, and the event's kind,
    /// severity and message.
    fn ending<T: Serialize, E: TaskError>(
        &self,
        result: &Result<T, E>,
        done: (EventKind, String),
    ) -> Ending {
        match result {
            Ok(v) => Ending {
                outcome: Ok(serde_json::to_value(v).ok()),
                kind: done.0,
                severity: Severity::Info,
                message: done.1,
            },
            Err(e) => {
                let info = e.task_error();
                Ending {
                    message: format!("{} failed: {}", self.operation, info.message),
                    outcome: Err(info),
                    kind: EventKind::TaskFailed,
                    severity: Severity::Error,
                }
            }
        }
    }

    async fn record(&self, end: Ending) -> OpResult<()> {
        let db = &self.center.db;
        self.center.cancels.settle(self.id);
        journal::finish(db, self.id, end.outcome).await?;
        journal::event(
            db,
            end.kind,
            end.severity,
            &self.target,
            &self.name,
            &self.user,
            &end.message,
            Some(self.id),
        )
        .await?;
        Ok(())
    }
}

struct Ending {
    outcome: Result<Option<serde_json::Value>, ErrorInfo>,
    kind: EventKind,
    severity: Severity,
    message: String,
}

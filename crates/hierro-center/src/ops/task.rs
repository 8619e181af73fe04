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
        let db = &self.center.db;
        self.center.cancels.settle(self.id);
        let (outcome, kind, severity, message) = match &result {
            Ok(v) => (
                Ok(serde_json::to_value(v).ok()),
                done.0,
                Severity::Info,
                done.1,
            ),
            Err(e) => {
                let info = e.task_error();
                let message = format!("{} failed: {}", self.operation, info.message);
                (Err(info), EventKind::TaskFailed, Severity::Error, message)
            }
        };
        journal::finish(db, self.id, outcome)
            .await
            .map_err(OpError::from)?;
        journal::event(
            db,
            kind,
            severity,
            &self.target,
            &self.name,
            &self.user,
            &message,
            Some(self.id),
        )
        .await
        .map_err(OpError::from)?;
        result
    }
}

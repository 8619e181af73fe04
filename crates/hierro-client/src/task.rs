//! Tasks and events, and waiting for a task to end.

use std::time::Duration;

use hierro_api::*;
use reqwest::Method;
use uuid::Uuid;

use crate::{enc, Client, ClientError, Result};

impl Client {
    pub async fn tasks(&self) -> Result<Vec<Task>> {
        self.get("/api/tasks").await
    }

    pub async fn task(&self, id: Uuid) -> Result<Task> {
        self.get(&format!("/api/tasks/{id}")).await
    }

    /// Asks a running task to stop; it ends in error `cancelled`.
    pub async fn cancel_task(&self, id: Uuid) -> Result<Task> {
        self.call(
            Method::POST,
            &format!("/api/tasks/{id}/cancel"),
            None::<&()>,
        )
        .await
    }

    /// Events after `since` (an event id), optionally for one target.
    pub async fn events(&self, since: Option<u64>, target: Option<&str>) -> Result<Vec<Event>> {
        let mut q = vec![];
        if let Some(s) = since {
            q.push(format!("since={s}"));
        }
        if let Some(t) = target {
            q.push(format!("target={}", enc(t)));
        }
        self.get(&format!("/api/events?{}", q.join("&"))).await
    }

    /// Polls a task until it ends, calling `progress` on every change. A task
    /// that ends in error becomes `ClientError::Task`.
    pub async fn wait(&self, task: &Task, mut progress: impl FnMut(&Task)) -> Result<Task> {
        let mut last = (task.state, task.progress);
        progress(task);
        loop {
            let t = self.task(task.id).await?;
            if (t.state, t.progress) != last {
                last = (t.state, t.progress);
                progress(&t);
            }
            match t.state {
                TaskState::Success => return Ok(t),
                TaskState::Error => {
                    return Err(ClientError::Task {
                        operation: t.operation,
                        info: t.error.clone().unwrap_or(ErrorInfo {
                            code: ErrorCode::Unknown,
                            message: "task failed without a reason".into(),
                            details: serde_json::Value::Null,
                        }),
                    })
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Runs an operation that returns a task and waits for it.
    pub async fn run(&self, task: Result<Task>) -> Result<Task> {
        self.wait(&task?, |_| {}).await
    }
}

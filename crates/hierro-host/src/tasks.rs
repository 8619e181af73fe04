//! Tasks and events. Every state change runs as a task and leaves events;
//! events are appended to `events.jsonl` in the data directory so they
//! outlive the agent, tasks are kept in memory (the last `MAX_TASKS`).

use hierro_api::{EventKind, Operation};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use hierro_api::{ErrorInfo, Event, Severity, Task, TaskState};
use hierro_http::Cancels;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::error::{HostError, HostResult};

const MAX_TASKS: usize = 2000;
const MAX_EVENTS_IN_MEMORY: usize = 20000;

pub struct Journal {
    tasks: Mutex<VecDeque<Task>>,
    cancels: Cancels,
    events: Mutex<EventLog>,
    /// The id of the latest event: the host's change version, which
    /// `GET /api/updates` waits on.
    version: tokio::sync::watch::Sender<u64>,
}

struct EventLog {
    file: PathBuf,
    next_id: u64,
    recent: VecDeque<Event>,
}

/// Who and what a task or event concerns.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    pub name: String,
}

impl Journal {
    pub fn open(data_dir: &Path) -> anyhow::Result<Arc<Journal>> {
        let file = data_dir.join("events.jsonl");
        let mut recent = VecDeque::new();
        if let Ok(text) = std::fs::read_to_string(&file) {
            // A crash can leave a torn last line; it is skipped, not fatal.
            for line in text.lines() {
                if let Ok(ev) = serde_json::from_str::<Event>(line) {
                    recent.push_back(ev);
                    if recent.len() > MAX_EVENTS_IN_MEMORY {
                        recent.pop_front();
                    }
                }
            }
        }
        let next_id = recent.back().map(|e| e.id + 1).unwrap_or(1);
        Ok(Arc::new(Journal {
            version: tokio::sync::watch::Sender::new(next_id - 1),
            tasks: Mutex::default(),
            cancels: Cancels::default(),
            events: Mutex::new(EventLog {
                file,
                next_id,
                recent,
            }),
        }))
    }

    pub fn task(self: &Arc<Self>, operation: Operation, target: &Target, user: &str) -> TaskHandle {
        let task = Task {
            id: Uuid::new_v4(),
            operation,
            target: target.id.clone(),
            target_name: target.name.clone(),
            state: TaskState::Queued,
            progress: 0,
            user: user.to_string(),
            queued_at: Utc::now(),
            started_at: None,
            finished_at: None,
            result: None,
            error: None,
            cancelable: false,
        };
        let id = task.id;
        let mut tasks = self.tasks.lock();
        tasks.push_back(task);
        if tasks.len() > MAX_TASKS {
            tasks.pop_front();
        }
        TaskHandle {
            id,
            journal: self.clone(),
            target: target.clone(),
            user: user.to_string(),
        }
    }

    pub fn get_task(&self, id: Uuid) -> Option<Task> {
        self.tasks.lock().iter().find(|t| t.id == id).cloned()
    }

    pub fn tasks(&self) -> Vec<Task> {
        self.tasks.lock().iter().cloned().collect()
    }

    /// Asks a running task to stop; it ends in error `cancelled` once it
    /// has undone what it started. Too late (it ended) or not possible (it
    /// cannot be cancelled) is refused.
    pub fn cancel(&self, id: Uuid, user: &str) -> HostResult<Task> {
        let task = self
            .get_task(id)
            .ok_or_else(|| HostError::not_found(format!("no task {id}")))?;
        if matches!(task.state, TaskState::Success | TaskState::Error) {
            return Err(HostError::refused(format!(
                "task {id} ({}) has ended",
                task.operation
            )));
        }
        if !self.cancels.cancel(id, user) {
            return Err(HostError::refused(format!(
                "task {id} ({}) cannot be cancelled",
                task.operation
            )));
        }
        Ok(task)
    }

    fn update(&self, id: Uuid, f: impl FnOnce(&mut Task)) {
        if let Some(t) = self.tasks.lock().iter_mut().find(|t| t.id == id) {
            f(t)
        }
    }

    pub fn event(
        &self,
        kind: EventKind,
        severity: Severity,
        target: &Target,
        user: &str,
        message: String,
        task: Option<Uuid>,
    ) {
        let mut log = self.events.lock();
        let ev = Event {
            id: log.next_id,
            time: Utc::now(),
            kind,
            severity,
            target: target.id.clone(),
            target_name: target.name.clone(),
            user: user.to_string(),
            message,
            task,
        };
        log.next_id += 1;
        let line = serde_json::to_string(&ev).expect("events serialize");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log.file)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            tracing::error!("cannot append to {}: {e}", log.file.display());
        }
        tracing::info!(kind = kind.as_str(), target = %ev.target_name, "{}", ev.message);
        let id = ev.id;
        log.recent.push_back(ev);
        if log.recent.len() > MAX_EVENTS_IN_MEMORY {
            log.recent.pop_front();
        }
        drop(log);
        self.version.send_replace(id);
    }

    pub fn version(&self) -> u64 {
        *self.version.borrow()
    }

    /// Waits until the version differs from `since` (it passed it, or the
    /// caller's version is from a journal this host no longer has), for at
    /// most `wait`.
    pub async fn wait_past(&self, since: u64, wait: std::time::Duration) {
        let mut rx = self.version.subscribe();
        let _ = tokio::time::timeout(wait, rx.wait_for(|v| *v != since)).await;
    }

    /// The events after `since`, or `None` when some of them are no longer
    /// in memory (the caller then needs the whole picture).
    pub fn events_since(&self, since: u64) -> Option<Vec<Event>> {
        let log = self.events.lock();
        let oldest = log.recent.front().map(|e| e.id).unwrap_or(log.next_id);
        if since + 1 < oldest {
            return None;
        }
        Some(
            log.recent
                .iter()
                .filter(|e| e.id > since)
                .cloned()
                .collect(),
        )
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().recent.iter().cloned().collect()
    }
}

/// The running side of a task: whoever does the work reports through it.
pub struct TaskHandle {
    pub id: Uuid,
    journal: Arc<Journal>,
    target: Target,
    user: String,
}

impl TaskHandle {
    pub fn snapshot(&self) -> Task {
        self.journal
            .get_task(self.id)
            .expect("task was just created")
    }

    pub fn start(&self) {
        self.journal.update(self.id, |t| {
            t.state = TaskState::Running;
            t.started_at = Some(Utc::now());
        });
    }

    pub fn progress(&self, pct: u8) {
        self.journal.update(self.id, |t| t.progress = pct.min(99));
    }

    /// Makes the task cancelable; the token fires when a user cancels it.
    pub fn cancellation(&self) -> CancellationToken {
        let token = self.journal.cancels.register(self.id);
        self.journal.update(self.id, |t| t.cancelable = true);
        token
    }

    /// The error of a task stopped by `cancellation`'s token.
    pub fn cancelled(&self) -> HostError {
        let by = self.journal.cancels.by(self.id);
        HostError::Cancelled(format!("the task was cancelled by {by}"))
    }

    fn settle(&self) {
        self.journal.cancels.settle(self.id);
    }

    /// An event tied to this task's target and user.
    pub fn event(&self, kind: EventKind, severity: Severity, message: String) {
        self.journal.event(
            kind,
            severity,
            &self.target,
            &self.user,
            message,
            Some(self.id),
        );
    }

    pub fn succeed(self, result: Option<serde_json::Value>) {
        self.settle();
        self.journal.update(self.id, |t| {
            t.cancelable = false;
            t.state = TaskState::Success;
            t.progress = 100;
            t.finished_at = Some(Utc::now());
            t.result = result;
        });
    }

    pub fn fail(self, error: ErrorInfo) {
        self.settle();
        self.event(
            EventKind::TaskFailed,
            Severity::Error,
            format!("{} failed: {}", self.snapshot().operation, error.message),
        );
        self.journal.update(self.id, |t| {
            t.state = TaskState::Error;
            t.cancelable = false;
            t.finished_at = Some(Utc::now());
            t.error = Some(error);
        });
    }
}

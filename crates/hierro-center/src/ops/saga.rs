//! Multi-step operations as sagas: a list of steps, each with its undo, run
//! by one executor. The executor records the task's progress step by step
//! and, when a step fails (or the user cancels), undoes the steps that ran,
//! newest first, so that nothing stays half-done: the task then fails with
//! the step's reason.
//!
//! The first steps may be `inline`: they run before the request is
//! answered, so a refusal there (a host saying no) is the request's answer
//! (the task is recorded as failed too). The rest run in the background.
//!
//! Tests make each step fail in turn (`hierro-fail-step: N`, honoured when
//! the center runs with `fault_injection = true`) and check that the undo
//! left nothing behind.

use hierro_api::{EventKind, Task};
use std::future::Future;
use tokio_util::sync::CancellationToken;

use super::{OpError, OpResult, TaskRun};

/// One step of a saga.
pub trait Step: Copy + Send + Sync + 'static {
    /// What it does, for the task's error ("step 3 (send the VM) failed").
    fn name(&self) -> String;
    /// Its share of the task's progress, against the other steps'.
    fn weight(&self) -> u32 {
        1
    }
    /// Whether it runs before the request is answered.
    fn inline(&self) -> bool {
        false
    }
}

/// A multi-step operation: its state, its steps and their undos.
pub trait Saga: Send + 'static {
    type Step: Step;

    /// The steps, in the order they run.
    fn steps(&self) -> Vec<Self::Step>;

    /// A step in words, for errors and logs (its name unless the saga
    /// knows better, e.g. which VM it moves).
    fn describe(&self, step: Self::Step) -> String {
        step.name()
    }

    /// Runs a step. A step that fails must leave nothing of its own behind
    /// (its undo does not run); the steps before it are undone.
    fn run(&mut self, step: Self::Step, cx: &Cx) -> impl Future<Output = OpResult<()>> + Send;

    /// Undoes a step that ran.
    fn undo(&mut self, step: Self::Step, cx: &Cx) -> impl Future<Output = OpResult<()>> + Send;

    /// What the task ends with once every step has run.
    fn done(self) -> Done;
}

/// A finished saga's result (the task's `result`) and its event.
pub struct Done {
    pub result: serde_json::Value,
    pub event: EventKind,
    pub message: String,
}

/// What a running step may use: the center, its share of the task's
/// progress, and the user's cancellation.
#[derive(Clone)]
pub struct Cx {
    progress: Progress,
    cancel: Option<CancellationToken>,
}

impl Cx {
    /// The context of work that is the whole of `task`.
    pub fn of(task: &TaskRun) -> Cx {
        Cx {
            progress: Progress {
                task: Some(task.clone()),
                lo: 0.0,
                hi: 100.0,
            },
            cancel: None,
        }
    }

    /// Reports how far the step is, 0 to 100 of its own share.
    pub async fn progress(&self, pct: u8) {
        self.progress.set(pct).await;
    }

    /// Fires when a user cancels the task (never, if it cannot be).
    pub async fn cancelled(&self) {
        match &self.cancel {
            Some(token) => token.cancelled().await,
            None => std::future::pending().await,
        }
    }

    /// The error of a task a user cancelled.
    pub fn cancelled_error(&self) -> OpError {
        match &self.progress.task {
            Some(task) => task.cancelled(),
            None => OpError::Cancelled("a user".into()),
        }
    }

    /// The task the step belongs to.
    pub fn task_id(&self) -> Option<uuid::Uuid> {
        self.progress.task.as_ref().map(|t| t.id)
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|t| t.is_cancelled())
    }
}

/// A share `[lo, hi)` of a task's progress.
#[derive(Clone)]
struct Progress {
    task: Option<TaskRun>,
    lo: f32,
    hi: f32,
}

impl Progress {
    async fn set(&self, pct: u8) {
        if let Some(task) = &self.task {
            let at = self.lo + (self.hi - self.lo) * f32::from(pct.min(100)) / 100.0;
            task.progress(at as u8).await;
        }
    }
}

/// How to run a saga as a task.
pub struct Run {
    pub task: TaskRun,
    /// The user may cancel it (checked between steps; a step may watch too).
    pub cancelable: bool,
    /// A test's request that step N (from 1) fail instead of running.
    pub fail_step: Option<usize>,
}

/// Runs `saga` as the task `run.task`: its inline steps now (a failure
/// there, undone, is the answer), the rest in the background. Answers with
/// the running task.
pub async fn start<S: Saga>(mut saga: S, run: Run) -> OpResult<Task> {
    let steps = saga.steps();
    let mut exec = Exec::new(&steps, &run);
    let inline = steps.iter().take_while(|s| s.inline()).count();
    if let Err(e) = exec.forward(&mut saga, &steps, 0..inline).await {
        let e = exec.back(&mut saga, &steps, e).await;
        return Err(failed(end(run.task, Err(e)).await));
    }
    let task = run.task.snapshot().await?;
    tokio::spawn(async move {
        let outcome = match exec.forward(&mut saga, &steps, inline..steps.len()).await {
            Ok(()) => Ok(saga.done()),
            Err(e) => Err(exec.back(&mut saga, &steps, e).await),
        };
        let _ = end(run.task, outcome).await;
    });
    Ok(task)
}

/// Runs every step of `saga` before answering, as the task `run.task`
/// (a change whose outcome is the answer); the task's result.
pub async fn finish<S: Saga>(mut saga: S, run: Run) -> OpResult<serde_json::Value> {
    let steps = saga.steps();
    let mut exec = Exec::new(&steps, &run);
    let outcome = match exec.forward(&mut saga, &steps, 0..steps.len()).await {
        Ok(()) => Ok(saga.done()),
        Err(e) => Err(exec.back(&mut saga, &steps, e).await),
    };
    end(run.task, outcome).await
}

/// The error of a task that ended failed.
fn failed(ended: OpResult<serde_json::Value>) -> OpError {
    ended
        .err()
        .unwrap_or_else(|| OpError::Internal("a failed step ended its task in success".into()))
}

/// Runs every step of `saga` inside a step of another (no task of its own;
/// its progress is within `cx`'s share). On failure its steps are undone
/// before the error comes back.
pub async fn run_nested<S: Saga>(mut saga: S, cx: &Cx) -> OpResult<Done> {
    let steps = saga.steps();
    let mut exec = Exec {
        weights: steps.iter().map(|s| s.weight()).collect(),
        done: vec![],
        fail_step: None,
        cx: cx.clone(),
    };
    match exec.forward(&mut saga, &steps, 0..steps.len()).await {
        Ok(()) => Ok(saga.done()),
        Err(e) => Err(exec.back(&mut saga, &steps, e).await),
    }
}

async fn end(task: TaskRun, outcome: OpResult<Done>) -> OpResult<serde_json::Value> {
    match outcome {
        Ok(done) => {
            let result = Ok::<_, OpError>(done.result);
            task.end(result, (done.event, done.message)).await
        }
        Err(e) => {
            let failed: OpResult<serde_json::Value> = Err(e);
            task.end(failed, (EventKind::TaskFailed, String::new()))
                .await
        }
    }
}

struct Exec {
    weights: Vec<u32>,
    /// The steps that ran, by index.
    done: Vec<usize>,
    fail_step: Option<usize>,
    cx: Cx,
}

impl Exec {
    fn new<T: Step>(steps: &[T], run: &Run) -> Exec {
        let cancel = run.cancelable.then(|| run.task.cancellation());
        Exec {
            weights: steps.iter().map(|s| s.weight()).collect(),
            done: vec![],
            fail_step: run.fail_step,
            cx: Cx {
                cancel,
                ..Cx::of(&run.task)
            },
        }
    }

    /// The context of step `i`: its share of the progress.
    fn step_cx(&self, i: usize) -> Cx {
        let total: u32 = self.weights.iter().sum::<u32>().max(1);
        let before: u32 = self.weights[..i].iter().sum();
        let span = self.cx.progress.hi - self.cx.progress.lo;
        let at = |w: u32| self.cx.progress.lo + span * w as f32 / total as f32;
        Cx {
            progress: Progress {
                lo: at(before),
                hi: at(before + self.weights[i]),
                task: self.cx.progress.task.clone(),
            },
            ..self.cx.clone()
        }
    }

    async fn forward<S: Saga>(
        &mut self,
        saga: &mut S,
        steps: &[S::Step],
        range: std::ops::Range<usize>,
    ) -> OpResult<()> {
        for i in range {
            let step = steps[i];
            if self.cx.is_cancelled() {
                return Err(self.cx.cancelled_error());
            }
            if self.fail_step == Some(i + 1) {
                return Err(OpError::Injected {
                    number: i + 1,
                    name: saga.describe(step),
                });
            }
            let cx = self.step_cx(i);
            saga.run(step, &cx).await?;
            self.done.push(i);
            cx.progress(100).await;
        }
        Ok(())
    }

    /// Undoes the steps that ran, newest first; `error` is why, and stays
    /// the outcome (with any undo that failed added to it).
    async fn back<S: Saga>(&mut self, saga: &mut S, steps: &[S::Step], error: OpError) -> OpError {
        let mut failed = vec![];
        while let Some(i) = self.done.pop() {
            let step = steps[i];
            let cx = self.step_cx(i);
            if let Err(e) = saga.undo(step, &cx).await {
                let what = saga.describe(step);
                tracing::warn!("undoing {what} failed: {e}");
                failed.push(format!("{what}: {e}"));
            }
        }
        if failed.is_empty() {
            error
        } else {
            OpError::Undo {
                error: Box::new(error),
                undo: failed.join("; "),
            }
        }
    }
}

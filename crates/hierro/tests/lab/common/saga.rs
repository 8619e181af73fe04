//! The test of every multi-step operation's undo: make each step fail in
//! turn (`hierro-fail-step`, which a lab center with fault injection
//! honours) and check after each that nothing is left half-done.

use std::future::Future;
use std::time::{Duration, Instant};

use hierro_api::Task;
use hierro_client::{Client, ClientError};

/// Runs `op` (given a client that asks for step `n` to fail) with step 1,
/// 2, ... failing in turn; after each failure checks that its error names
/// the step and that `undone(n)` holds, until `op` succeeds because it has
/// no step `n`. `op` answers with its task, or none when the answer is the
/// outcome. Returns how many steps it has; its last run did the work.
pub async fn fail_each_step<Op, OpFut, Check, CheckFut>(
    center: &Client,
    what: &str,
    mut op: Op,
    mut undone: Check,
) -> usize
where
    Op: FnMut(Client) -> OpFut,
    OpFut: Future<Output = Result<Option<Task>, ClientError>>,
    Check: FnMut(usize) -> CheckFut,
    CheckFut: Future<Output = ()>,
{
    for n in 1..50 {
        let failing = center.clone().failing_step(n);
        // An inline step's failure is the request's answer; a later one's,
        // the task's error.
        let error = match op(failing).await {
            Err(e) => e,
            Ok(None) => return n - 1,
            Ok(Some(task)) => match center.wait(&task, |_| {}).await {
                Ok(_) => return n - 1,
                Err(e) => e,
            },
        };
        let said = format!("step {n} (");
        assert!(
            error.to_string().contains(&said),
            "{what}: step {n} should have failed: {error}"
        );
        undone(n).await;
    }
    panic!("{what}: more than 50 steps?");
}

/// Polls `check` (which says what is still wrong, if anything) until it
/// passes, for at most 30 s: the center follows hosts' changes a moment
/// after they happen.
pub async fn settles<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<String>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let Some(wrong) = check().await else {
            return;
        };
        assert!(Instant::now() < deadline, "{what}: {wrong}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

//! Watching and ending processes by pid (QEMU daemons are not our children,
//! so there is no handle to wait on).

use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// True while the process exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses.
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Waits until the process is gone; false if it still runs after `limit`.
pub async fn wait_gone(pid: u32, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while alive(pid) {
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// Asks the process to end (SIGTERM), if `grace` is given, then kills it
/// (SIGKILL) and waits until it is gone.
pub async fn stop(pid: u32, grace: Option<Duration>) {
    let p = Pid::from_raw(pid as i32);
    if let Some(grace) = grace {
        let _ = kill(p, Signal::SIGTERM);
        if wait_gone(pid, grace).await {
            return;
        }
    }
    if alive(pid) {
        let _ = kill(p, Signal::SIGKILL);
        wait_gone(pid, Duration::from_secs(10)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sees_and_stops_a_process() {
        let child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(alive(pid));
        // Our own child becomes a zombie until reaped: that counts as gone.
        let reaper = std::thread::spawn(move || {
            let mut child = child;
            child.wait()
        });
        stop(pid, Some(Duration::from_secs(2))).await;
        assert!(!alive(pid));
        reaper.join().unwrap().unwrap();
        assert!(!alive(u32::MAX / 2));
    }
}

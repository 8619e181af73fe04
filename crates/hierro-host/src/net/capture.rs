//! Port captures (ESXi's pktcap-uw) as tasks: vswitchd writes a port's
//! frames to a pcap file in the run directory, and the task's result says
//! where to download it. A capture holds no request open; the file is kept
//! an hour after the task ends (or until deleted), and none outlives an
//! agent restart (the tasks that name them do not either).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hierro_api::{CaptureRequest, CaptureResult, Operation, Task, TaskState};
use hierro_vswitch::control::{Request, Response};
use uuid::Uuid;

use crate::error::{HostError, HostResult};
use crate::Host;

/// The most a capture may ask for; vswitchd also ends one at 512 MiB.
pub const MAX_SECONDS: u64 = 100;
pub const MAX_PACKETS: u64 = 1_000_000;
/// Captures running at once.
pub const MAX_RUNNING: usize = 4;
/// How long a finished capture waits for its download.
const KEEP: Duration = Duration::from_secs(3600);

fn dir(host: &Host) -> PathBuf {
    host.config.run_dir.join("captures")
}

fn file(host: &Host, task: Uuid) -> PathBuf {
    dir(host).join(format!("{task}.pcap"))
}

/// Where a capture task's file can be downloaded.
pub fn download_path(task: Uuid) -> String {
    format!("/api/network/captures/{task}")
}

/// Empties the captures directory: at start, the tasks that made its
/// files are gone.
pub fn sweep(run_dir: &Path) -> std::io::Result<()> {
    let dir = run_dir.join("captures");
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::create_dir_all(&dir)
}

/// Removes the files whose wait for a download is over.
fn expire(host: &Host) {
    let Ok(entries) = std::fs::read_dir(dir(host)) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > KEEP);
        let running = e
            .path()
            .file_stem()
            .and_then(|s| s.to_str()?.parse::<Uuid>().ok())
            .and_then(|id| host.journal.get_task(id))
            .is_some_and(|t| !matches!(t.state, TaskState::Success | TaskState::Error));
        if old && !running {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Starts capturing: the port must exist now, the limits hold and fewer
/// than `MAX_RUNNING` captures run. Answers the task.
pub async fn start(host: &Arc<Host>, req: CaptureRequest, user: &str) -> HostResult<Task> {
    if req.seconds == 0
        || req.seconds > MAX_SECONDS
        || req.packets == 0
        || req.packets > MAX_PACKETS
    {
        return Err(HostError::invalid(format!(
            "a capture takes 1 to {MAX_SECONDS} s and 1 to {MAX_PACKETS} frames"
        )));
    }
    let running = host
        .journal
        .tasks()
        .iter()
        .filter(|t| t.operation == Operation::HostCapture)
        .filter(|t| !matches!(t.state, TaskState::Success | TaskState::Error))
        .count();
    if running >= MAX_RUNNING {
        return Err(HostError::refused(format!(
            "{running} captures are running, the most there may be; wait for one to end or cancel it"
        )));
    }
    match host.vswitchd.request(Request::Stats).await {
        Ok(Response::Stats { ports, .. }) if ports.iter().any(|p| p.port == req.port) => {}
        Ok(Response::Stats { .. }) => {
            return Err(HostError::not_found(format!(
                "no port {} on this host",
                hierro_api::shown(&req.port)
            )))
        }
        Ok(other) => return Err(HostError::backend(format!("vswitchd answered {other:?}"))),
        Err(e) => return Err(HostError::backend(e)),
    }
    expire(host);
    let task = host
        .journal
        .task(Operation::HostCapture, &host.target(), user);
    let snapshot = task.snapshot();
    let cancel = task.cancellation();
    let host = host.clone();
    tokio::spawn(async move {
        task.start();
        let path = file(&host, task.id);
        let capture = host.vswitchd.request(Request::Capture {
            port: req.port.clone(),
            file: path.clone(),
            packets: req.packets,
            seconds: req.seconds,
        });
        tokio::pin!(capture);
        let answer = tokio::select! {
            a = &mut capture => Some(a),
            _ = cancel.cancelled() => None,
        };
        let answer = match answer {
            Some(a) => a,
            None => {
                // Ends it in vswitchd, so that the file is closed, then
                // throws it away.
                let _ = host
                    .vswitchd
                    .request(Request::StopCapture { file: path.clone() })
                    .await;
                let _ = capture.await;
                let _ = std::fs::remove_file(&path);
                let cancelled = task.cancelled().info();
                return task.fail(cancelled);
            }
        };
        match answer {
            Ok(Response::Captured { packets }) => {
                let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                let result = CaptureResult {
                    packets,
                    bytes,
                    download: download_path(task.id),
                };
                task.succeed(serde_json::to_value(result).ok());
            }
            Ok(Response::Error { message }) => {
                let _ = std::fs::remove_file(&path);
                task.fail(HostError::backend(format!("vswitchd: {message}")).info())
            }
            Ok(other) => {
                let _ = std::fs::remove_file(&path);
                task.fail(HostError::backend(format!("vswitchd answered {other:?}")).info())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                task.fail(HostError::backend(e).info())
            }
        }
    });
    Ok(snapshot)
}

/// The file of a capture task that succeeded and was not deleted.
pub fn finished(host: &Host, task: Uuid) -> HostResult<PathBuf> {
    let gone = || HostError::not_found(format!("no capture {task} to download"));
    let t = host.journal.get_task(task).ok_or_else(gone)?;
    if t.operation != Operation::HostCapture {
        return Err(gone());
    }
    match t.state {
        TaskState::Success => {}
        TaskState::Error => return Err(gone()),
        _ => {
            return Err(HostError::refused(format!(
                "capture {task} is still running"
            )))
        }
    }
    let path = file(host, task);
    if !path.exists() {
        return Err(gone());
    }
    Ok(path)
}

/// Deletes a finished capture's file.
pub fn remove(host: &Host, task: Uuid) -> HostResult<()> {
    let path = finished(host, task)?;
    std::fs::remove_file(&path).map_err(|e| HostError::internal(format!("{}: {e}", path.display())))
}

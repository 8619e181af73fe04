//! Running vswitchd: started by the agent, in its own session so it
//! outlives the agent (forwarding goes on while the agent restarts), found
//! again through its pidfile, and restarted when it dies.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hierro_vswitch::control::{self, Request, Response};

pub struct Vswitchd {
    exe: PathBuf,
    pub socket: PathBuf,
    pidfile: PathBuf,
    log: PathBuf,
}

impl Vswitchd {
    pub fn new(exe: PathBuf, run_dir: &Path, data_dir: &Path) -> Vswitchd {
        Vswitchd {
            exe,
            socket: run_dir.join("vswitchd.sock"),
            pidfile: run_dir.join("vswitchd.pid"),
            log: data_dir.join("vswitchd.log"),
        }
    }

    pub fn pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(&self.pidfile)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        hierro_qemu::process::alive(pid).then_some(pid)
    }

    /// One request over the control socket.
    pub async fn request(&self, req: Request) -> Result<Response, String> {
        let socket = self.socket.clone();
        tokio::task::spawn_blocking(move || control::request(&socket, &req))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("vswitchd: {e}"))
    }

    pub async fn answers(&self) -> bool {
        matches!(self.request(Request::Ping).await, Ok(Response::Ok { .. }))
    }

    /// Makes sure vswitchd runs: adopts the one that answers, else starts a
    /// new one. True when it had to start one.
    pub async fn ensure_running(&self) -> Result<bool, String> {
        if self.pid().is_some() && self.answers().await {
            return Ok(false);
        }
        if let Some(pid) = self.pid() {
            // Alive but deaf: replace it.
            hierro_qemu::process::stop(pid, Some(Duration::from_secs(2))).await;
        }
        let pid = self.spawn()?;
        std::fs::write(&self.pidfile, pid.to_string()).map_err(|e| e.to_string())?;
        for _ in 0..100 {
            if self.answers().await {
                return Ok(true);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(format!(
            "vswitchd did not answer on {}; see {}",
            self.socket.display(),
            self.log.display()
        ))
    }

    fn spawn(&self) -> Result<u32, String> {
        use std::os::unix::process::CommandExt;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("{}: {e}", self.log.display()))?;
        let mut cmd = std::process::Command::new(&self.exe);
        cmd.args(["vswitchd", "--socket"])
            .arg(&self.socket)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        // SAFETY: setsid is async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| format!("starting vswitchd: {e}"))?;
        let pid = child.id();
        // Reap it if it dies while we run; after our exit, init does.
        std::thread::spawn(move || {
            let mut child = child;
            let _ = child.wait();
        });
        Ok(pid)
    }
}

//! Looking into lab guests from outside: the guest image's TCP counter
//! service, and shell commands through the guest agent. Tests and
//! benchmarks use these.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use serde_json::{json, Value};

/// One TCP connection to a guest's counter service (port 7777), which
/// answers every line with the next number: a client proves the guest runs,
/// and a broken connection shows.
pub struct Counter {
    reader: BufReader<TcpStream>,
}

impl Counter {
    /// Connects, allowing the service a few seconds to start listening.
    pub fn connect(ip: Ipv4Addr) -> std::io::Result<Counter> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let s = loop {
            match TcpStream::connect_timeout(&(ip, 7777).into(), Duration::from_secs(5)) {
                Err(e)
                    if e.kind() == std::io::ErrorKind::ConnectionRefused
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(100))
                }
                other => break other?,
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.set_nodelay(true)?;
        Ok(Counter {
            reader: BufReader::new(s),
        })
    }

    /// Connects once the guest has booted far enough, within `limit`.
    pub fn connect_within(ip: Ipv4Addr, limit: Duration) -> std::io::Result<Counter> {
        let deadline = Instant::now() + limit;
        loop {
            match Counter::connect(ip) {
                Ok(c) => return Ok(c),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    pub fn read(&mut self) -> std::io::Result<u64> {
        self.reader.get_mut().write_all(b"\n")?;
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        line.trim()
            .parse()
            .map_err(|_| std::io::Error::other(format!("counter said {line:?}")))
    }
}

/// A client outside a guest that reads its counter every 10 ms in a thread,
/// checking that the numbers only go up, and keeps the largest gap between
/// answers: how long the guest was out of reach (e.g. across a vMotion).
pub struct GapReader {
    stop: Arc<AtomicBool>,
    reads: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<Result<Duration, String>>,
}

impl GapReader {
    pub fn start(mut counter: Counter) -> GapReader {
        let stop = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicU64::new(0));
        let (flag, count) = (stop.clone(), reads.clone());
        let thread = std::thread::spawn(move || {
            let mut last_value = counter.read().map_err(|e| e.to_string())?;
            let (mut gap, mut last) = (Duration::ZERO, Instant::now());
            while !flag.load(Ordering::Relaxed) {
                let v = counter.read().map_err(|e| e.to_string())?;
                if v <= last_value {
                    return Err(format!("the counter went from {last_value} to {v}"));
                }
                last_value = v;
                gap = gap.max(last.elapsed());
                last = Instant::now();
                count.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(gap)
        });
        GapReader {
            stop,
            reads,
            thread,
        }
    }

    /// Waits until `n` more answers have come (within `limit`), so that a
    /// measurement covers time before and after what it measures.
    pub async fn more_answers(&self, n: u64, limit: Duration) -> anyhow::Result<()> {
        let target = self.reads.load(Ordering::Relaxed) + n;
        let deadline = Instant::now() + limit;
        while self.reads.load(Ordering::Relaxed) < target {
            anyhow::ensure!(
                !self.thread.is_finished() && Instant::now() < deadline,
                "the guest's counter stopped answering"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// Stops reading; the largest gap, or why the connection broke.
    pub fn finish(self) -> anyhow::Result<Duration> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the reader panicked"))?
            .map_err(|e| anyhow::anyhow!("the client lost the guest: {e}"))
    }
}

/// Starts `hierro-guest dirty --mib N` in the guest, detached, and returns
/// once it has rewritten its whole block the first time.
pub async fn start_dirtying(qga_socket: &Path, mib: u64) -> anyhow::Result<()> {
    let script = format!(
        "setsid hierro-guest dirty --mib {mib} >/tmp/dirty 2>&1 </dev/null & \
         for i in $(seq 300); do [ -s /tmp/dirty ] && break; sleep 0.1; done; cat /tmp/dirty"
    );
    let out = guest_sh(qga_socket, &script).await?;
    anyhow::ensure!(
        out.starts_with("dirtying"),
        "the workload did not start: {out:?}"
    );
    Ok(())
}

/// Runs a shell command in a guest through its agent's socket
/// (guest-exec); returns its stdout.
pub async fn guest_sh(qga_socket: &Path, script: &str) -> anyhow::Result<String> {
    let qga = hierro_qemu::Qga::new(qga_socket);
    // Generous: TCG guests on a loaded two-core machine can be slow to answer.
    let started: Value = qga
        .call(
            "guest-exec",
            json!({"path": "/bin/sh", "arg": ["-c", script], "capture-output": true}),
            Duration::from_secs(30),
        )
        .await
        .context("guest-exec")?;
    let pid = started["pid"].as_i64().context("guest-exec gave no pid")?;
    loop {
        // Asking again is harmless, and a conversation that a loaded guest
        // drops is then simply retried on a fresh connection.
        let mut status = None;
        for _ in 0..3 {
            match qga
                .call::<Value>(
                    "guest-exec-status",
                    json!({ "pid": pid }),
                    Duration::from_secs(10),
                )
                .await
            {
                Ok(v) => {
                    status = Some(v);
                    break;
                }
                Err(e) => tracing::warn!("guest-exec-status, retrying: {e}"),
            }
        }
        let status = status.context("guest-exec-status answered none of three tries")?;
        if status["exited"] == json!(true) {
            let out = status["out-data"].as_str().unwrap_or("");
            let bytes = base64::engine::general_purpose::STANDARD.decode(out)?;
            return Ok(String::from_utf8_lossy(&bytes).into_owned());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

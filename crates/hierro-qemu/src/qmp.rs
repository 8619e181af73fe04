//! A small typed QMP client over the VM's QMP unix socket.
//!
//! One reader task owns the read half: replies go to the waiting caller by
//! `id`, events go to a broadcast channel. When QEMU exits the socket closes,
//! every pending call fails and `closed()` resolves: that is how the host
//! agent learns that a VM stopped.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::UnixStream;
use tokio::sync::{broadcast, oneshot, watch};

#[derive(Debug, thiserror::Error)]
pub enum QmpError {
    #[error("QMP connection failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("QMP protocol error: {0}")]
    Protocol(String),
    #[error("QEMU refused {command}: {class}: {desc}")]
    Command {
        command: String,
        class: String,
        desc: String,
    },
    #[error("QEMU closed the QMP connection (the VM process ended)")]
    Closed,
    #[error("QMP command {0} timed out")]
    Timeout(String),
}

#[derive(Debug, Clone)]
pub struct QmpEvent {
    pub event: String,
    pub data: Value,
    /// When QEMU emitted it: microseconds since the Unix epoch.
    pub at_us: u64,
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, QmpError>>>>>;

pub struct Qmp {
    writer: tokio::sync::Mutex<OwnedWriteHalf>,
    pending: Pending,
    next_id: AtomicU64,
    events: broadcast::Sender<QmpEvent>,
    closed: watch::Receiver<bool>,
}

impl Qmp {
    /// Connects, reads the greeting and leaves capabilities negotiation mode.
    pub async fn connect(path: &Path) -> Result<Arc<Qmp>, QmpError> {
        let stream = UnixStream::connect(path).await?;
        let (read, write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let greeting = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
            .await
            .map_err(|_| QmpError::Timeout("greeting".into()))??
            .ok_or(QmpError::Closed)?;
        let greeting: Value =
            serde_json::from_str(&greeting).map_err(|e| QmpError::Protocol(e.to_string()))?;
        if greeting.get("QMP").is_none() {
            return Err(QmpError::Protocol(format!(
                "unexpected greeting {greeting}"
            )));
        }

        let pending: Pending = Arc::default();
        let (events, _) = broadcast::channel(256);
        let (closed_tx, closed) = watch::channel(false);
        let qmp = Arc::new(Qmp {
            writer: tokio::sync::Mutex::new(write),
            pending: pending.clone(),
            next_id: AtomicU64::new(1),
            events: events.clone(),
            closed,
        });
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                dispatch(&line, &pending, &events);
            }
            for (_, tx) in pending.lock().drain() {
                let _ = tx.send(Err(QmpError::Closed));
            }
            let _ = closed_tx.send(true);
        });
        qmp.execute_value("qmp_capabilities", json!({})).await?;
        Ok(qmp)
    }

    /// Runs a command and decodes its `return` value.
    pub async fn execute<R: DeserializeOwned>(
        &self,
        command: &str,
        arguments: Value,
    ) -> Result<R, QmpError> {
        let v = self.execute_value(command, arguments).await?;
        serde_json::from_value(v).map_err(|e| QmpError::Protocol(format!("{command}: {e}")))
    }

    pub async fn execute_value(&self, command: &str, arguments: Value) -> Result<Value, QmpError> {
        if *self.closed.borrow() {
            return Err(QmpError::Closed);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().insert(id, tx);
        let mut msg = json!({ "execute": command, "id": id });
        if !arguments.is_null() && arguments != json!({}) {
            msg["arguments"] = arguments;
        }
        let mut line = msg.to_string();
        line.push('\n');
        let written = self.writer.lock().await.write_all(line.as_bytes()).await;
        if let Err(e) = written {
            self.pending.lock().remove(&id);
            return Err(e.into());
        }
        match tokio::time::timeout(Duration::from_secs(60), rx).await {
            Ok(Ok(reply)) => reply.map_err(|e| match e {
                QmpError::Command { class, desc, .. } => QmpError::Command {
                    command: command.to_string(),
                    class,
                    desc,
                },
                other => other,
            }),
            Ok(Err(_)) => Err(QmpError::Closed),
            Err(_) => {
                self.pending.lock().remove(&id);
                Err(QmpError::Timeout(command.to_string()))
            }
        }
    }

    /// Has a QEMU started with `-incoming defer` listen for a migration on
    /// `address`, on a port it picks; that port.
    pub async fn listen_for_migration(&self, address: &str) -> Result<u16, QmpError> {
        let uri = format!("tcp:{address}:0");
        self.execute_value("migrate-incoming", serde_json::json!({ "uri": uri }))
            .await?;
        let info = self
            .execute_value("query-migrate", serde_json::json!({}))
            .await?;
        // QAPI's SocketAddress gives the port as a string.
        let port = &info["socket-address"][0]["port"];
        port.as_str()
            .and_then(|p| p.parse().ok())
            .or_else(|| port.as_u64().and_then(|p| u16::try_from(p).ok()))
            .ok_or_else(|| QmpError::Protocol(format!("no listening port in {info}")))
    }

    pub fn events(&self) -> broadcast::Receiver<QmpEvent> {
        self.events.subscribe()
    }

    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Resolves when the connection ends, i.e. when QEMU has exited.
    pub async fn closed(&self) {
        let mut rx = self.closed.clone();
        let _ = rx.wait_for(|c| *c).await;
    }

    /// Runs a background job command (`snapshot-save`, ...) and waits until it
    /// concludes; a job that failed becomes a command error.
    pub async fn run_job(&self, command: &str, mut arguments: Value) -> Result<(), QmpError> {
        let job_id = format!("{command}-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        arguments["job-id"] = json!(job_id);
        self.execute_value(command, arguments).await?;
        loop {
            let jobs: Vec<Value> = self.execute("query-jobs", json!({})).await?;
            let job = jobs
                .into_iter()
                .find(|j| j["id"] == json!(job_id))
                .ok_or_else(|| QmpError::Protocol(format!("job {job_id} vanished")))?;
            if job["status"] == "concluded" {
                self.execute_value("job-dismiss", json!({ "id": job_id }))
                    .await?;
                return match job.get("error").and_then(|e| e.as_str()) {
                    Some(desc) => Err(QmpError::Command {
                        command: command.to_string(),
                        class: "JobError".into(),
                        desc: desc.to_string(),
                    }),
                    None => Ok(()),
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn dispatch(line: &str, pending: &Pending, events: &broadcast::Sender<QmpEvent>) {
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        tracing::warn!(line, "unparseable QMP line");
        return;
    };
    if let Some(event) = v.get("event").and_then(|e| e.as_str()) {
        let _ = events.send(QmpEvent {
            event: event.to_string(),
            data: v.get("data").cloned().unwrap_or(Value::Null),
            at_us: v["timestamp"]["seconds"].as_u64().unwrap_or(0) * 1_000_000
                + v["timestamp"]["microseconds"].as_u64().unwrap_or(0),
        });
        return;
    }
    let Some(id) = v.get("id").and_then(|i| i.as_u64()) else {
        return;
    };
    let Some(tx) = pending.lock().remove(&id) else {
        return;
    };
    let reply = if let Some(ret) = v.get("return") {
        Ok(ret.clone())
    } else if let Some(err) = v.get("error") {
        Err(QmpError::Command {
            command: String::new(),
            class: err["class"].as_str().unwrap_or("").to_string(),
            desc: err["desc"].as_str().unwrap_or("").to_string(),
        })
    } else {
        Err(QmpError::Protocol(format!(
            "reply without return or error: {line}"
        )))
    };
    let _ = tx.send(reply);
}

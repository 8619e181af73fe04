//! Client of the guest agent (qemu-guest-agent protocol over virtio-serial,
//! exposed by QEMU as a unix socket on the host).
//!
//! Each call opens the socket, resynchronises with `guest-sync-delimited`
//! (the guest may hold half a request from an earlier client) and closes it,
//! so nothing stale survives between calls.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

#[derive(Debug, thiserror::Error)]
pub enum QgaError {
    #[error("guest agent socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("guest agent did not answer within {0:?}")]
    Timeout(Duration),
    #[error("guest agent refused {command}: {desc}")]
    Command { command: String, desc: String },
    #[error("guest agent protocol error: {0}")]
    Protocol(String),
}

#[derive(Debug, Clone)]
pub struct Qga {
    path: PathBuf,
}

impl Qga {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
        }
    }

    /// Runs one command and decodes its `return` value.
    pub async fn call<R: DeserializeOwned>(
        &self,
        command: &str,
        arguments: Value,
        timeout: Duration,
    ) -> Result<R, QgaError> {
        let v = tokio::time::timeout(timeout, self.exchange(command, arguments, true))
            .await
            .map_err(|_| QgaError::Timeout(timeout))??;
        serde_json::from_value(v).map_err(|e| QgaError::Protocol(format!("{command}: {e}")))
    }

    /// Sends a command that gets no reply (`guest-shutdown`).
    pub async fn send(
        &self,
        command: &str,
        arguments: Value,
        timeout: Duration,
    ) -> Result<(), QgaError> {
        tokio::time::timeout(timeout, self.exchange(command, arguments, false))
            .await
            .map_err(|_| QgaError::Timeout(timeout))?
            .map(|_| ())
    }

    pub async fn ping(&self, timeout: Duration) -> Result<(), QgaError> {
        self.call::<Value>("guest-ping", json!({}), timeout)
            .await
            .map(|_| ())
    }

    async fn exchange(
        &self,
        command: &str,
        arguments: Value,
        reply: bool,
    ) -> Result<Value, QgaError> {
        let mut stream = UnixStream::connect(&self.path).await?;
        let mut buf = Vec::new();

        let sync_id: u32 = rand::random::<u32>() >> 1;
        // The leading 0xFF tells the guest to drop any partial input.
        let mut sync = vec![0xFFu8];
        sync.extend(
            json!({"execute": "guest-sync-delimited", "arguments": {"id": sync_id}})
                .to_string()
                .bytes(),
        );
        sync.push(b'\n');
        stream.write_all(&sync).await?;
        // The reply follows a 0xFF marker; anything before it is stale, and
        // so is a sync reply with another id (a reply the agent held back
        // for an earlier client that gave up before reading it).
        loop {
            match buf.iter().position(|b| *b == 0xFF) {
                Some(pos) => {
                    buf.drain(..=pos);
                    if read_value(&mut stream, &mut buf).await?["return"] == json!(sync_id) {
                        break;
                    }
                }
                None => {
                    buf.clear();
                    read_more(&mut stream, &mut buf).await?;
                }
            }
        }

        let mut msg = json!({ "execute": command });
        if arguments != json!({}) && !arguments.is_null() {
            msg["arguments"] = arguments;
        }
        stream.write_all(format!("{msg}\n").as_bytes()).await?;
        if !reply {
            return Ok(Value::Null);
        }
        let v = read_value(&mut stream, &mut buf).await?;
        if let Some(ret) = v.get("return") {
            Ok(ret.clone())
        } else if let Some(err) = v.get("error") {
            Err(QgaError::Command {
                command: command.to_string(),
                desc: err["desc"].as_str().unwrap_or("unknown error").to_string(),
            })
        } else {
            Err(QgaError::Protocol(format!("{command}: {v}")))
        }
    }
}

async fn read_more(stream: &mut UnixStream, buf: &mut Vec<u8>) -> Result<(), QgaError> {
    let mut chunk = [0u8; 4096];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(QgaError::Protocol("guest agent socket closed".into()));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// Reads one JSON value from the stream, keeping what follows it in `buf`.
async fn read_value(stream: &mut UnixStream, buf: &mut Vec<u8>) -> Result<Value, QgaError> {
    loop {
        let start = buf
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(buf.len());
        buf.drain(..start);
        if !buf.is_empty() {
            let mut it = serde_json::Deserializer::from_slice(buf).into_iter::<Value>();
            match it.next() {
                Some(Ok(v)) => {
                    let used = it.byte_offset();
                    buf.drain(..used);
                    return Ok(v);
                }
                Some(Err(e)) if !e.is_eof() => {
                    return Err(QgaError::Protocol(format!("bad reply: {e}")));
                }
                _ => {}
            }
        }
        read_more(stream, buf).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio::net::UnixListener;

    /// An agent that first sends what an earlier client left behind (bytes
    /// before any marker, then a sync reply with another id), then answers.
    #[tokio::test]
    async fn stale_replies_before_the_sync_answer_are_skipped() {
        let dir = std::env::temp_dir().join(format!("hierro-qga-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("qga.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let agent = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let mut read = BufReader::new(read);
            let mut line = Vec::new();
            read.read_until(b'\n', &mut line).await.unwrap();
            assert_eq!(line[0], 0xFF, "the sync request starts with 0xFF");
            let sync: Value = serde_json::from_slice(&line[1..]).unwrap();
            let id = sync["arguments"]["id"].clone();
            let mut out = b"{\"return\": {\"pid\": 7}}\n".to_vec();
            out.push(0xFF);
            out.extend_from_slice(b"{\"return\": 12345}\n");
            out.push(0xFF);
            out.extend_from_slice(format!("{{\"return\": {id}}}\n").as_bytes());
            write.write_all(&out).await.unwrap();
            line.clear();
            read.read_until(b'\n', &mut line).await.unwrap();
            let request: Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(request["execute"], "guest-ping");
            write.write_all(b"{\"return\": {}}\n").await.unwrap();
        });
        Qga::new(&path)
            .ping(Duration::from_secs(5))
            .await
            .expect("the answer after the stale ones");
        agent.await.unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

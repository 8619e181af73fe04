//! A VM's serial console: one connection to QEMU's console socket, shared by
//! any number of WebSocket viewers. Recent output is kept so that a viewer
//! who connects late still sees the prompt.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::{broadcast, mpsc};

const HISTORY: usize = 64 * 1024;

pub struct Console {
    output: broadcast::Sender<Vec<u8>>,
    history: Mutex<VecDeque<u8>>,
    input: Mutex<Option<mpsc::Sender<Vec<u8>>>>,
}

impl Default for Console {
    fn default() -> Self {
        Self {
            output: broadcast::channel(1024).0,
            history: Mutex::default(),
            input: Mutex::default(),
        }
    }
}

impl Console {
    /// Connects to the console socket of a running VM (replacing an earlier
    /// connection) and pumps its bytes until QEMU closes it.
    pub fn attach(self: &std::sync::Arc<Self>, socket: PathBuf) {
        let console = self.clone();
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
        *self.input.lock() = Some(tx);
        tokio::spawn(async move {
            let mut stream = None;
            for _ in 0..50 {
                if let Ok(s) = UnixStream::connect(&socket).await {
                    stream = Some(s);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let Some(stream) = stream else {
                tracing::warn!("cannot connect to console {}", socket.display());
                return;
            };
            let (mut read, mut write) = stream.into_split();
            let writer = tokio::spawn(async move {
                while let Some(bytes) = rx.recv().await {
                    if write.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
            });
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = read.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                console.record(&buf[..n]);
            }
            writer.abort();
        });
    }

    fn record(&self, bytes: &[u8]) {
        {
            let mut h = self.history.lock();
            h.extend(bytes);
            let excess = h.len().saturating_sub(HISTORY);
            h.drain(..excess);
        }
        let _ = self.output.send(bytes.to_vec());
    }

    /// The recent output and a receiver for what follows, taken together so
    /// that nothing falls between them.
    pub fn subscribe(&self) -> (Vec<u8>, broadcast::Receiver<Vec<u8>>) {
        let h = self.history.lock();
        (h.iter().copied().collect(), self.output.subscribe())
    }

    /// Sends keystrokes to the guest; false when no console is attached.
    pub async fn send(&self, bytes: Vec<u8>) -> bool {
        let tx = self.input.lock().clone();
        match tx {
            Some(tx) => tx.send(bytes).await.is_ok(),
            None => false,
        }
    }
}

//! The control socket: the host agent's only way to configure vswitchd.
//! JSON, one request and one response per line, over a unix socket.

use parking_lot::Mutex;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hierro_api::{LearnedMac, MirrorStats, PortStats};
use serde::{Deserialize, Serialize};

use base64::Engine;

use crate::config::DataplaneConfig;
use crate::dataplane::Dataplane;
use crate::vmtap;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    Ping,
    /// Make the dataplane match this configuration.
    Apply(DataplaneConfig),
    Stats,
    /// Capture a port's frames into a pcap file; answers when done.
    Capture {
        port: String,
        file: PathBuf,
        packets: u64,
        seconds: u64,
    },
    /// End the capture into `file` now; its `Capture` answers with what it
    /// took. Answers `Ok`, or an error when no capture writes that file.
    StopCapture {
        file: PathBuf,
    },
    /// Keep a copy of what goes out of these ports, with the time it went
    /// (their VM is migrating), until `Recorded` or `RECORD_LIMIT`.
    Record {
        ports: Vec<String>,
    },
    /// Answers `Frames` with the copies of what went out at or after
    /// `since_us` (microseconds since the Unix epoch) and forgets them all;
    /// the recording stops, or with `keep` goes on (the next answer has
    /// only what went out since this one).
    Recorded {
        ports: Vec<String>,
        since_us: u64,
        #[serde(default)]
        keep: bool,
    },
    /// Announce these ports' MACs (RARP from their uplinks, where their
    /// port groups notify switches): their VM powered on.
    Announce {
        ports: Vec<String>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Ok {
        pid: u32,
    },
    Stats {
        ports: Vec<PortStats>,
        learned: Vec<LearnedMac>,
        #[serde(default)]
        mirrors: Vec<MirrorStats>,
    },
    Captured {
        packets: u64,
    },
    /// Frames: base64 of `vmtap::encode`.
    Frames {
        frames: String,
    },
    Error {
        message: String,
    },
}

/// Serves the control socket until the process ends.
pub fn serve(path: &Path, dp: Arc<Mutex<Dataplane>>) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let dp = dp.clone();
        std::thread::spawn(move || {
            if let Err(e) = session(conn, &dp) {
                tracing::debug!("control session ended: {e}");
            }
        });
    }
    Ok(())
}

fn session(conn: UnixStream, dp: &Mutex<Dataplane>) -> std::io::Result<()> {
    let mut writer = conn.try_clone()?;
    for line in BufReader::new(conn).lines() {
        let line = line?;
        let response = match serde_json::from_str::<Request>(&line) {
            Ok(req) => handle(req, dp),
            Err(e) => Response::Error {
                message: format!("bad request: {e}"),
            },
        };
        let mut text = serde_json::to_string(&response)?;
        text.push('\n');
        writer.write_all(text.as_bytes())?;
    }
    Ok(())
}

fn handle(req: Request, dp: &Mutex<Dataplane>) -> Response {
    let ok = Response::Ok {
        pid: std::process::id(),
    };
    match req {
        Request::Ping => ok,
        Request::Apply(cfg) => match dp.lock().apply(&cfg) {
            Ok(()) => ok,
            Err(message) => Response::Error { message },
        },
        Request::Stats => {
            let dp = dp.lock();
            Response::Stats {
                ports: dp.stats(),
                mirrors: dp.mirror_stats(),
                learned: dp
                    .learned()
                    .into_iter()
                    .map(|(vswitch, vlan, mac, uplink)| LearnedMac {
                        vswitch,
                        vlan,
                        mac,
                        uplink,
                    })
                    .collect(),
            }
        }
        Request::Announce { ports } => match dp.lock().announce(&ports) {
            Ok(()) => ok,
            Err(message) => Response::Error { message },
        },
        Request::Record { ports } => match dp.lock().record(&ports) {
            Ok(()) => ok,
            Err(message) => Response::Error { message },
        },
        Request::Recorded {
            ports,
            since_us,
            keep,
        } => {
            // Beyond any clock (u64::MAX): none.
            let since =
                std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_micros(since_us));
            let frames = dp.lock().recorded(&ports, since, keep);
            Response::Frames {
                frames: base64::engine::general_purpose::STANDARD.encode(vmtap::encode(&frames)),
            }
        }
        Request::Capture {
            port,
            file,
            packets,
            seconds,
        } => {
            let rx = dp.lock().capture(&port, &file, packets, seconds);
            match rx {
                Ok(rx) => match rx.recv() {
                    Ok(packets) => Response::Captured { packets },
                    Err(_) => Response::Error {
                        message: "capture ended early".into(),
                    },
                },
                Err(message) => Response::Error { message },
            }
        }
        Request::StopCapture { file } => {
            if dp.lock().stop_capture(&file) {
                ok
            } else {
                Response::Error {
                    message: format!("no capture into {}", file.display()),
                }
            }
        }
    }
}

/// The client side, for the host agent and tests.
pub fn request(socket: &Path, req: &Request) -> std::io::Result<Response> {
    let mut conn = UnixStream::connect(socket)?;
    let mut text = serde_json::to_string(req)?;
    text.push('\n');
    conn.write_all(text.as_bytes())?;
    let mut line = String::new();
    BufReader::new(conn).read_line(&mut line)?;
    serde_json::from_str(&line).map_err(std::io::Error::other)
}

//! `hierro-guest agent`: serves the QGA protocol (see qga.rs) on the
//! virtio-serial port named `org.qemu.guest_agent.0`.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::opts::Opts;
use crate::qga::Agent;

const PORT_NAME: &str = "org.qemu.guest_agent.0";

pub fn main(args: &[String]) -> crate::Result<()> {
    let opts = Opts::parse(args, &["device"], &["stdio"])?;
    if opts.has("stdio") {
        return serve_stdio();
    }
    let device = opts.get("device").map(PathBuf::from);
    let mut complained = false;
    // Never exit: wait for the port to appear, and reopen it after errors.
    loop {
        let path = match device.clone().or_else(find_port) {
            Some(p) => p,
            None => {
                if !complained {
                    eprintln!("hierro-guest agent: no virtio port named {PORT_NAME} yet, waiting");
                    complained = true;
                }
                sleep(Duration::from_secs(1));
                continue;
            }
        };
        // Non-blocking, so that a reply to a host that went away is dropped
        // rather than blocking the agent until the next host connects.
        match OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
        {
            Ok(port) => {
                eprintln!("hierro-guest agent: serving on {}", path.display());
                complained = false;
                let e = serve_port(&port, &mut Agent::new(true));
                eprintln!("hierro-guest agent: {}: {e}, reopening", path.display());
            }
            Err(e) if !complained => {
                eprintln!("hierro-guest agent: cannot open {}: {e}", path.display());
                complained = true;
            }
            Err(_) => {}
        }
        sleep(Duration::from_secs(1));
    }
}

/// Finds /dev/vportNpM whose /sys/class/virtio-ports/vportNpM/name is PORT_NAME.
fn find_port() -> Option<PathBuf> {
    let entries = std::fs::read_dir("/sys/class/virtio-ports").ok()?;
    entries.flatten().find_map(|e| {
        let name = std::fs::read_to_string(e.path().join("name")).ok()?;
        (name.trim() == PORT_NAME).then(|| PathBuf::from("/dev").join(e.file_name()))
    })
}

/// Serves one open port until an unexpected error.
fn serve_port(mut port: &File, agent: &mut Agent) -> io::Error {
    let mut buf = [0u8; 4096];
    loop {
        match port.read(&mut buf) {
            // The host side is not connected: the port reads as EOF. A new
            // client starts from a clean slate.
            Ok(0) => {
                agent.reset();
                sleep(Duration::from_millis(100));
            }
            Ok(n) => {
                let reply = agent.feed(&buf[..n]);
                write_port(port, &reply);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                poll(port, libc::POLLIN, -1);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return e,
        }
    }
}

/// Writes a reply; drops it if the host has not read it within 5 s.
///
/// The port can read as disconnected for a moment while a host *is*
/// connected: virtio-serial delivers the host's bytes on the data queue at
/// once but its "host connected" notice on the control queue later, from a
/// kernel worker, so a request can be read before its host is known to be
/// there. Hence a disconnected port is retried until the deadline instead of
/// dropping the reply at once.
fn write_port(mut port: &File, mut data: &[u8]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !data.is_empty() {
        match port.write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    eprintln!("hierro-guest agent: host not reading, reply dropped");
                    return;
                }
                let ms = left.as_millis().min(5000) as libc::c_int;
                if poll(port, libc::POLLOUT, ms) & libc::POLLOUT == 0 {
                    // POLLHUP comes back at once: wait for the notice.
                    sleep(Duration::from_millis(10));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("hierro-guest agent: write: {e}, reply dropped");
                return;
            }
        }
    }
}

/// Waits for `events` on `file`; returns the events that occurred (0 on timeout).
fn poll(file: &File, events: libc::c_short, timeout_ms: libc::c_int) -> libc::c_short {
    let mut fds = libc::pollfd {
        fd: file.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut fds, 1, timeout_ms) };
    if n > 0 {
        fds.revents
    } else {
        0
    }
}

/// `--stdio`: the protocol on stdin/stdout, for trying the agent on a host.
/// Commands that would power off or freeze this machine are refused.
fn serve_stdio() -> crate::Result<()> {
    let mut agent = Agent::new(false);
    let (mut stdin, mut stdout) = (io::stdin().lock(), io::stdout().lock());
    let mut buf = [0u8; 4096];
    loop {
        let n = stdin.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        stdout.write_all(&agent.feed(&buf[..n]))?;
        stdout.flush()?;
    }
}

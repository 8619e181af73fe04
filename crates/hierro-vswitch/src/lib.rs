//! vswitchd: Hierro's userspace Layer 2 switch. `switch` is the forwarding
//! logic (pure, unit-tested against vSphere's semantics); `dataplane` moves
//! frames between it and the host's interfaces (`io`); `control` is the
//! socket through which the host agent configures it.

mod config;
pub mod control;
mod dataplane;
mod erspan;
pub mod frame;
pub mod io;
mod link;
mod mirror;
mod pcap;
mod switch;
mod team;
pub mod vmtap;

#[cfg(test)]
mod switch_tests;

use parking_lot::Mutex;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use config::{DataplaneConfig, PortKind, PortSpec};
pub use dataplane::Dataplane;

/// Runs vswitchd: the control socket at `socket` and the forwarding loop,
/// until the process is killed. It starts empty; the host agent applies the
/// configuration.
pub fn run(socket: &Path) -> anyhow::Result<std::convert::Infallible> {
    let dp = Arc::new(Mutex::new(Dataplane::default()));
    let control_dp = dp.clone();
    let path = socket.to_path_buf();
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            if let Err(e) = control::serve(&path, control_dp) {
                tracing::error!("control socket {}: {e}", path.display());
                std::process::exit(1);
            }
        })?;
    forward(&dp)
}

/// The forwarding loop: wait for any port (or a link change), switch what
/// it has.
fn forward(dp: &Mutex<Dataplane>) -> ! {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    // Without it, carriers are still read every housekeeping round.
    let links = link::LinkEvents::open()
        .map_err(|e| tracing::warn!("link events: {e}; carriers are polled only"))
        .ok();
    loop {
        let fds = dp.lock().fds();
        let pollfd = |fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let mut pollfds: Vec<libc::pollfd> = fds.iter().map(|(fd, _)| pollfd(*fd)).collect();
        if let Some(l) = &links {
            pollfds.push(pollfd(l.fd()));
        }
        // SAFETY: poll over our own array; a short timeout picks up new ports.
        let n = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, 50) };
        let mut dp = dp.lock();
        if n > 0 {
            for (pfd, (_, port)) in pollfds.iter().zip(&fds) {
                if pfd.revents & (libc::POLLIN | libc::POLLERR) != 0 {
                    dp.service(*port, &mut buf, &mut out);
                }
            }
            if links.as_ref().is_some_and(|l| l.drain()) {
                dp.follow_carriers();
            }
        }
        dp.housekeeping();
        drop(dp);
        if n < 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

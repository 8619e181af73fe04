//! Link changes from the kernel: a netlink socket subscribed to the link
//! group (RTMGRP_LINK) wakes the forwarding loop when any interface's state
//! changes, so that an uplink that loses its carrier fails over at once
//! instead of at the next carrier poll.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::sys::socket::{
    bind, socket, AddressFamily, NetlinkAddr, SockFlag, SockProtocol, SockType,
};

/// The rtnetlink multicast group of link messages (`RTMGRP_LINK`).
const RTMGRP_LINK: u32 = 1;

pub struct LinkEvents {
    fd: OwnedFd,
}

impl LinkEvents {
    pub fn open() -> io::Result<LinkEvents> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkRoute,
        )?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, RTMGRP_LINK))?;
        Ok(LinkEvents { fd })
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Reads every waiting message; whether there was any. What changed is
    /// read from sysfs afterwards, so the messages themselves are not parsed
    /// (an overrun, ENOBUFS, counts as a change too).
    pub fn drain(&self) -> bool {
        let mut buf = [0u8; 8192];
        let mut any = false;
        loop {
            // SAFETY: recv(2) into our own buffer.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 {
                any = true;
                continue;
            }
            let overrun = n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOBUFS);
            return any || overrun;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn ip(args: &[&str]) -> bool {
        Command::new("ip")
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    }

    #[test]
    fn hears_a_link_change() {
        let events = LinkEvents::open().unwrap();
        assert!(!events.drain(), "nothing has changed yet");
        // A veth made and removed here (the tests run as root).
        let name = format!("hlk{}", std::process::id() % 100_000);
        let made = ip(&[
            "link",
            "add",
            &name,
            "type",
            "veth",
            "peer",
            "name",
            &format!("{name}p"),
        ]);
        ip(&["link", "del", &name]);
        assert!(made, "ip link add {name}");
        // Wait on the socket itself (5 s at most), then read it.
        let mut pfd = libc::pollfd {
            fd: events.fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll(2) over one descriptor we own.
        let ready = unsafe { libc::poll(&mut pfd, 1, 5000) };
        assert!(ready == 1 && events.drain(), "no link message");
    }
}

//! How frames enter and leave the host: AF_PACKET sockets on existing
//! interfaces (VM taps that QEMU holds, uplink NICs), and tap devices that
//! vswitchd itself holds for VMkernel ports.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// One port's way in and out.
pub enum Endpoint {
    Packet(PacketSocket),
    Tap(Tap),
}

impl Endpoint {
    pub fn fd(&self) -> RawFd {
        match self {
            Endpoint::Packet(p) => p.fd.as_raw_fd(),
            Endpoint::Tap(t) => t.fd.as_raw_fd(),
        }
    }

    /// Reads one frame; `Ok(None)` when none is waiting.
    pub fn recv(&self, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
        match self {
            Endpoint::Packet(p) => p.recv(buf),
            Endpoint::Tap(t) => t.recv(buf),
        }
    }

    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        let fd = self.fd();
        // SAFETY: writes `frame.len()` bytes from a live slice to our fd.
        let n = unsafe { libc::send(fd, frame.as_ptr().cast(), frame.len(), libc::MSG_DONTWAIT) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ENOTSOCK) {
                // A tap fd is a file, not a socket.
                // SAFETY: as above.
                let n = unsafe { libc::write(fd, frame.as_ptr().cast(), frame.len()) };
                return if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                };
            }
            return Err(e);
        }
        Ok(())
    }
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

pub fn ifindex(name: &str) -> io::Result<i32> {
    let c = CString::new(name).map_err(|_| io::Error::other("bad interface name"))?;
    // SAFETY: a valid C string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no interface {name}"),
        ))
    } else {
        Ok(i as i32)
    }
}

/// An AF_PACKET socket bound to one interface.
pub struct PacketSocket {
    fd: OwnedFd,
}

const TP_STATUS_CSUMNOTREADY: u32 = 0x8;
const TP_STATUS_VLAN_VALID: u32 = 0x10;
const TP_STATUS_VLAN_TPID_VALID: u32 = 0x40;

impl PacketSocket {
    /// Binds to `iface`. With `promiscuous`, the NIC accepts frames for any
    /// MAC (an uplink must: it carries the VMs' addresses).
    pub fn bind(iface: &str, promiscuous: bool) -> io::Result<PacketSocket> {
        let index = ifindex(iface)?;
        let proto = (libc::ETH_P_ALL as u16).to_be() as i32;
        // SAFETY: plain socket(2).
        let fd = cvt(unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                proto,
            )
        })?;
        // SAFETY: we own the new descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let one: libc::c_int = 1;
        // The kernel strips VLAN tags into metadata; auxdata gives them back.
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_AUXDATA, &one)?;
        // Our own transmissions would otherwise come back to us.
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &one)?;
        if promiscuous {
            let mreq = libc::packet_mreq {
                mr_ifindex: index,
                mr_type: libc::PACKET_MR_PROMISC as u16,
                mr_alen: 0,
                mr_address: [0; 8],
            };
            setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq)?;
        }
        // SAFETY: zeroed sockaddr_ll is valid; we fill the fields bind needs.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto as u16;
        sll.sll_ifindex = index;
        // SAFETY: a valid sockaddr_ll of the right size.
        cvt(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        })?;
        Ok(PacketSocket { fd })
    }

    fn recv(&self, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
        // Room for a tag we may have to put back.
        let cap = buf.capacity().max(65536 + 4);
        buf.resize(cap, 0);
        let mut iov = libc::iovec {
            iov_base: buf[4..].as_mut_ptr().cast(),
            iov_len: cap - 4,
        };
        let mut control = [0u64; 16];
        // SAFETY: zeroed msghdr is valid; pointers set below outlive the call.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control);
        // SAFETY: recvmsg into the buffers described by msg.
        let n = unsafe {
            libc::recvmsg(
                self.fd.as_raw_fd(),
                &mut msg,
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(None)
            } else {
                Err(e)
            };
        }
        let n = (n as usize).min(cap - 4);
        let mut tag = None;
        let mut partial_csum = false;
        // SAFETY: walking the control messages recvmsg filled in.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == libc::PACKET_AUXDATA {
                    let aux = std::ptr::read_unaligned(
                        libc::CMSG_DATA(c) as *const libc::tpacket_auxdata
                    );
                    partial_csum = aux.tp_status & TP_STATUS_CSUMNOTREADY != 0;
                    if aux.tp_status & TP_STATUS_VLAN_VALID != 0 {
                        let tpid = if aux.tp_status & TP_STATUS_VLAN_TPID_VALID != 0 {
                            aux.tp_vlan_tpid
                        } else {
                            0x8100
                        };
                        tag = Some((tpid, aux.tp_vlan_tci));
                    }
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let len = match tag {
            Some((tpid, tci)) if n >= 12 => {
                // The frame sits at buf[4..4+n]; move the addresses forward and
                // write the tag between them and the EtherType.
                buf.copy_within(4..16, 0);
                buf[12..14].copy_from_slice(&tpid.to_be_bytes());
                buf[14..16].copy_from_slice(&tci.to_be_bytes());
                n + 4
            }
            _ => {
                buf.copy_within(4..4 + n, 0);
                n
            }
        };
        if partial_csum {
            crate::frame::complete_l4_checksum(&mut buf[..len]);
        }
        Ok(Some(len))
    }
}

fn setsockopt<T>(fd: &OwnedFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: passes a pointer to a live T and its size.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as u32,
        )
    })?;
    Ok(())
}

/// A persistent tap device held by vswitchd (a VMkernel port): what the
/// host sends on it we read, what we write the host receives. Persistent, so
/// the interface and its IP survive a vswitchd restart.
pub struct Tap {
    fd: OwnedFd,
}

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const TUNSETPERSIST: libc::c_ulong = 0x4004_54cb;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;

impl Tap {
    pub fn open(name: &str) -> io::Result<Tap> {
        if name.len() >= libc::IFNAMSIZ {
            return Err(io::Error::other(format!(
                "interface name {name:?} is too long"
            )));
        }
        // SAFETY: open(2) of a fixed path.
        let fd = cvt(unsafe {
            libc::open(
                c"/dev/net/tun".as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        })?;
        // SAFETY: we own the new descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: zeroed ifreq is valid; the name fits (checked above).
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (i, b) in name.bytes().enumerate() {
            req.ifr_name[i] = b as libc::c_char;
        }
        req.ifr_ifru.ifru_flags = IFF_TAP | IFF_NO_PI;
        // SAFETY: TUNSETIFF takes a pointer to an ifreq.
        cvt(unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF, &mut req) })?;
        // SAFETY: TUNSETPERSIST takes an integer.
        cvt(unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETPERSIST, 1 as libc::c_ulong) })?;
        Ok(Tap { fd })
    }

    fn recv(&self, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
        buf.resize(buf.capacity().max(65536), 0);
        // SAFETY: reads into our buffer of buf.len() bytes.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(None)
            } else {
                Err(e)
            };
        }
        Ok(Some(n as usize))
    }
}

/// Removes a persistent tap (a VMkernel port that was deleted).
pub fn delete_tap(name: &str) -> io::Result<()> {
    let tap = Tap::open(name)?;
    // SAFETY: TUNSETPERSIST takes an integer.
    cvt(unsafe { libc::ioctl(tap.fd.as_raw_fd(), TUNSETPERSIST, 0 as libc::c_ulong) })?;
    Ok(())
}

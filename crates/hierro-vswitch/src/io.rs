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

/// Room left before a received frame, for a VLAN tag the kernel took out.
pub const HEADROOM: usize = 4;
/// The largest frame we read: a 64 KiB GSO super-frame and its headers.
/// Anything longer is dropped whole rather than cut.
pub const MAX_FRAME: usize = 65536 + 256;

/// The virtio-net header the kernel puts before each frame on our packet
/// sockets and taps (`PACKET_VNET_HDR`, `IFF_VNET_HDR`). It lets a TCP
/// super-frame of up to 64 KiB pass through the switch as one frame, with
/// its segmentation and checksum left to whoever sends it on the wire, as a
/// NIC's offloads would.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VnetHdr {
    pub flags: u8,
    pub gso_type: u8,
    pub hdr_len: u16,
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
}

const VNET_HDR_F_NEEDS_CSUM: u8 = 1;
const VNET_HDR_GSO_NONE: u8 = 0;

impl VnetHdr {
    /// The segment size of a GSO super-frame; `None` for a plain frame.
    pub fn gso_size(&self) -> Option<u16> {
        (self.gso_type != VNET_HDR_GSO_NONE).then_some(self.gso_size)
    }

    /// The header for the same frame after `delta` bytes were inserted (or
    /// removed) before its network header: a VLAN tag added or taken out.
    pub fn shifted(mut self, delta: isize) -> VnetHdr {
        let shift = |v: u16| (v as isize + delta).clamp(0, u16::MAX as isize) as u16;
        if self.flags & VNET_HDR_F_NEEDS_CSUM != 0 {
            self.csum_start = shift(self.csum_start);
        }
        if self.hdr_len != 0 {
            self.hdr_len = shift(self.hdr_len);
        }
        self
    }

    /// The header as the kernel lays it out (fields in little endian).
    pub fn to_bytes(&self) -> [u8; 10] {
        let mut b = [0u8; 10];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_le_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_le_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_le_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_le_bytes());
        b
    }

    pub fn from_bytes(b: &[u8]) -> VnetHdr {
        let u16at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        VnetHdr {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u16at(2),
            gso_size: u16at(4),
            csum_start: u16at(6),
            csum_offset: u16at(8),
        }
    }

    pub(crate) fn iovec(&mut self) -> libc::iovec {
        libc::iovec {
            iov_base: (self as *mut VnetHdr).cast(),
            iov_len: std::mem::size_of::<VnetHdr>(),
        }
    }
}

/// A frame read from a port: `buf[start..start + len]`, with its offloads.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub start: usize,
    pub len: usize,
    pub vnet: VnetHdr,
}

impl Endpoint {
    pub fn fd(&self) -> RawFd {
        match self {
            Endpoint::Packet(p) => p.fd.as_raw_fd(),
            Endpoint::Tap(t) => t.fd.as_raw_fd(),
        }
    }

    /// Reads one frame; `Ok(None)` when none is waiting.
    pub fn recv(&self, buf: &mut Vec<u8>) -> io::Result<Option<Received>> {
        buf.resize(HEADROOM + MAX_FRAME, 0);
        loop {
            let got = match self {
                Endpoint::Packet(p) => p.recv(buf),
                Endpoint::Tap(t) => t.recv(buf),
            };
            match got {
                // A frame the kernel could not describe (a GSO type without
                // a virtio-net equivalent) or that was too long is gone;
                // the port is fine.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => continue,
                Ok(Some(r)) if r.len > MAX_FRAME => continue,
                other => return other,
            }
        }
    }

    /// Sends one frame, given in pieces, with its header: the kernel
    /// segments a super-frame and completes checksums as the interface
    /// needs.
    /// At most three pieces (see `frame::retag`).
    pub fn send(&self, frame: &[&[u8]], vnet: &VnetHdr) -> io::Result<()> {
        let mut vnet = *vnet;
        let mut iov = [vnet.iovec(); 4];
        for (v, p) in iov[1..].iter_mut().zip(frame) {
            *v = libc::iovec {
                iov_base: p.as_ptr() as *mut libc::c_void,
                iov_len: p.len(),
            };
        }
        let count = 1 + frame.len().min(3);
        // SAFETY: writev(2) from live buffers; the kernel only reads.
        let n = unsafe { libc::writev(self.fd(), iov.as_ptr(), count as libc::c_int) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

pub(crate) fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
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

/// The receive buffer of a packet socket, in bytes: 30 super-frames. In
/// bench/vmotion 1, 2 and 8 MiB did about as well (2 MiB a little
/// better); deeper only adds to the wait of what queues behind a burst.
const RECEIVE_BUFFER: libc::c_int = 2 << 20;

/// An AF_PACKET socket bound to one interface.
pub struct PacketSocket {
    fd: OwnedFd,
}

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
        // Super-frames and partial checksums, described by a VnetHdr.
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_VNET_HDR, &one)?;
        // Room for a burst while vswitchd waits for a core: the default
        // (net.core.rmem_default, ~200 KiB) holds three 64 KiB super-frames,
        // and each one dropped costs TCP a resend and half its window.
        // FORCE passes rmem_max (vswitchd runs as root).
        let bytes = RECEIVE_BUFFER;
        if setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &bytes).is_err() {
            setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &bytes)?;
        }
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

    /// Reads one frame into `buf[HEADROOM..]`, and puts back in front of
    /// its EtherType the VLAN tag the kernel kept aside.
    fn recv(&self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        let mut vnet = VnetHdr::default();
        let mut iov = [
            vnet.iovec(),
            libc::iovec {
                iov_base: buf[HEADROOM..].as_mut_ptr().cast(),
                iov_len: buf.len() - HEADROOM,
            },
        ];
        let mut control = [0u64; 16];
        // SAFETY: zeroed msghdr is valid; pointers set below outlive the call.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = 2;
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
        // With MSG_TRUNC, n is the whole frame's length even when cut.
        let n = (n as usize).saturating_sub(std::mem::size_of::<VnetHdr>());
        if n > buf.len() - HEADROOM {
            return Ok(Some(Received {
                start: HEADROOM,
                len: n,
                vnet,
            }));
        }
        let mut tag = None;
        // SAFETY: walking the control messages recvmsg filled in.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == libc::PACKET_AUXDATA {
                    let aux = std::ptr::read_unaligned(
                        libc::CMSG_DATA(c) as *const libc::tpacket_auxdata
                    );
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
        Ok(Some(match tag {
            Some((tpid, tci)) if n >= 12 => {
                // Move the addresses into the headroom and write the tag
                // between them and the EtherType.
                buf.copy_within(HEADROOM..HEADROOM + 12, 0);
                buf[12..14].copy_from_slice(&tpid.to_be_bytes());
                buf[14..16].copy_from_slice(&tci.to_be_bytes());
                Received {
                    start: 0,
                    len: n + 4,
                    vnet: vnet.shifted(4),
                }
            }
            _ => Received {
                start: HEADROOM,
                len: n,
                vnet,
            },
        }))
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
pub(crate) const IFF_TAP: libc::c_short = 0x0002;
pub(crate) const IFF_NO_PI: libc::c_short = 0x1000;
pub(crate) const IFF_VNET_HDR: libc::c_short = 0x4000;
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const TUN_F_CSUM: libc::c_ulong = 0x01;
const TUN_F_TSO4: libc::c_ulong = 0x02;
const TUN_F_TSO6: libc::c_ulong = 0x04;
const TUN_F_TSO_ECN: libc::c_ulong = 0x08;

impl Tap {
    pub fn open(name: &str) -> io::Result<Tap> {
        let fd = open_tun(name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, true)?;
        // The host's stack may hand us TCP super-frames with partial
        // checksums, as to a NIC with TSO: one frame per 64 KiB, not per MTU.
        let offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
        // SAFETY: TUNSETOFFLOAD takes an integer.
        cvt(unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETOFFLOAD, offloads) })?;
        // SAFETY: TUNSETPERSIST takes an integer.
        cvt(unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETPERSIST, 1 as libc::c_ulong) })?;
        Ok(Tap { fd })
    }

    fn recv(&self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        let mut vnet = VnetHdr::default();
        let iov = [
            vnet.iovec(),
            libc::iovec {
                iov_base: buf[HEADROOM..].as_mut_ptr().cast(),
                iov_len: buf.len() - HEADROOM,
            },
        ];
        // SAFETY: readv(2) into our header and buffer.
        let n = unsafe { libc::readv(self.fd.as_raw_fd(), iov.as_ptr(), 2) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(None)
            } else {
                Err(e)
            };
        }
        Ok(Some(Received {
            start: HEADROOM,
            len: (n as usize).saturating_sub(std::mem::size_of::<VnetHdr>()),
            vnet,
        }))
    }
}

/// Opens `/dev/net/tun` and attaches it to the tap `name` (made if missing)
/// with `flags` (`IFF_*`).
pub(crate) fn open_tun(name: &str, flags: libc::c_short, nonblocking: bool) -> io::Result<OwnedFd> {
    if name.len() >= libc::IFNAMSIZ {
        return Err(io::Error::other(format!(
            "interface name {name:?} is too long"
        )));
    }
    let nonblock = if nonblocking { libc::O_NONBLOCK } else { 0 };
    // SAFETY: open(2) of a fixed path.
    let fd = cvt(unsafe {
        libc::open(
            c"/dev/net/tun".as_ptr(),
            libc::O_RDWR | libc::O_CLOEXEC | nonblock,
        )
    })?;
    // SAFETY: we own the new descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: zeroed ifreq is valid; the name fits (checked above).
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (i, b) in name.bytes().enumerate() {
        req.ifr_name[i] = b as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = flags;
    // SAFETY: TUNSETIFF takes a pointer to an ifreq.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF, &mut req) })?;
    Ok(fd)
}

/// Removes a persistent tap (a VMkernel port that was deleted).
pub fn delete_tap(name: &str) -> io::Result<()> {
    let tap = Tap::open(name)?;
    // SAFETY: TUNSETPERSIST takes an integer.
    cvt(unsafe { libc::ioctl(tap.fd.as_raw_fd(), TUNSETPERSIST, 0 as libc::c_ulong) })?;
    Ok(())
}

/// A send-only raw IPv4 socket tied to one interface: the host's stack
/// routes what it sends and resolves the next hop, as for any packet of
/// that interface (ERSPAN leaves from a VMkernel port this way).
pub struct RawIp {
    fd: OwnedFd,
}

impl RawIp {
    pub fn bind(iface: &str) -> io::Result<RawIp> {
        // SAFETY: plain socket(2). IPPROTO_RAW sockets only send.
        let fd = cvt(unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                libc::IPPROTO_RAW,
            )
        })?;
        // SAFETY: we own the new descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let name = CString::new(iface).map_err(|_| io::Error::other("bad interface name"))?;
        let bytes = name.as_bytes_with_nul();
        // SAFETY: the option takes the name's bytes.
        cvt(unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_BINDTODEVICE,
                bytes.as_ptr().cast(),
                bytes.len() as libc::socklen_t,
            )
        })?;
        Ok(RawIp { fd })
    }

    /// Sends an IPv4 packet of protocol `proto` to `to`, given in pieces
    /// after the IP header. The kernel fills in the source address, the
    /// length, the id and the checksum.
    pub fn send(&self, to: std::net::Ipv4Addr, proto: u8, parts: &[&[u8]]) -> io::Result<()> {
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[8] = 64; // TTL
        ip[9] = proto;
        ip[16..].copy_from_slice(&to.octets());
        let mut iov = vec![libc::iovec {
            iov_base: ip.as_mut_ptr().cast(),
            iov_len: ip.len(),
        }];
        iov.extend(parts.iter().map(|p| libc::iovec {
            iov_base: p.as_ptr() as *mut libc::c_void,
            iov_len: p.len(),
        }));
        // SAFETY: a zeroed sockaddr_in is valid; we fill family and address.
        let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        sin.sin_family = libc::AF_INET as u16;
        sin.sin_addr.s_addr = u32::from(to).to_be();
        // SAFETY: zeroed msghdr is valid; the pointers outlive the call.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&mut sin as *mut libc::sockaddr_in).cast();
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len();
        // SAFETY: sendmsg from the buffers described by msg.
        cvt(unsafe { libc::sendmsg(self.fd.as_raw_fd(), &msg, 0) } as libc::c_int)?;
        Ok(())
    }
}

//! `hierro-guest frame`: raw Ethernet frames for testing a virtual switch's
//! security policies (forged source MACs, VLAN tags, promiscuous mode).
//!
//! - `send` writes frames with any source MAC and an optional 802.1Q tag
//!   through an AF_PACKET socket, bypassing the IP stack.
//! - `count` listens on one interface and counts the frames matching filters.
//!   It never enables promiscuous mode itself: tests do that with
//!   `ip link set IFACE promisc on` when they want it.

use std::ffi::CString;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::opts::Opts;

/// IEEE 802 "local experimental" ethertype, the default.
const DEFAULT_ETHERTYPE: u16 = 0x88b5;
/// The 802.1Q tag protocol identifier.
const TPID_8021Q: u16 = 0x8100;
/// Ethernet's minimum payload (60-byte frame without FCS).
const MIN_PAYLOAD: usize = 46;

pub type Mac = [u8; 6];

pub fn main(args: &[String]) -> crate::Result<()> {
    match args.first().map(String::as_str) {
        Some("send") => send(&Opts::parse(
            &args[1..],
            &[
                "iface",
                "dst",
                "src",
                "vlan",
                "count",
                "interval-ms",
                "ethertype",
            ],
            &[],
        )?),
        Some("count") => count(&Opts::parse(
            &args[1..],
            &["iface", "dst", "src", "ethertype", "seconds"],
            &[],
        )?),
        _ => Err("frame: expected `send` or `count`".into()),
    }
}

/// Parses `aa:bb:cc:dd:ee:ff` (or with `-`), case-insensitive.
pub fn parse_mac(s: &str) -> Result<Mac, String> {
    let bad = || format!("bad MAC address {s:?}");
    let mut mac = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for byte in &mut mac {
        let p = parts.next().ok_or_else(bad)?;
        if p.len() != 2 {
            return Err(bad());
        }
        *byte = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    match parts.next() {
        None => Ok(mac),
        Some(_) => Err(bad()),
    }
}

/// Parses an ethertype, hex with `0x` or decimal; at least 0x0600, so it is
/// an ethertype and not an 802.3 length.
fn parse_ethertype(s: &str) -> Result<u16, String> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => s.parse(),
    };
    v.ok()
        .filter(|&t| t >= 0x0600)
        .ok_or(format!("bad ethertype {s:?}"))
}

/// Builds one frame (without FCS): dst, src, optional 802.1Q tag (priority
/// 0), ethertype, then `hierro-frame <seq>` zero-padded to 46 bytes.
pub fn build_frame(dst: Mac, src: Mac, vlan: Option<u16>, ethertype: u16, seq: u64) -> Vec<u8> {
    let mut f = Vec::with_capacity(64);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    if let Some(id) = vlan {
        f.extend_from_slice(&TPID_8021Q.to_be_bytes());
        f.extend_from_slice(&(id & 0x0fff).to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    let header = f.len();
    f.extend_from_slice(format!("hierro-frame {seq}").as_bytes());
    f.resize(f.len().max(header + MIN_PAYLOAD), 0);
    f
}

/// What `count` looks for; `None` matches anything.
#[derive(Default)]
pub struct Filter {
    pub dst: Option<Mac>,
    pub src: Option<Mac>,
    pub ethertype: Option<u16>,
}

impl Filter {
    /// Whether a received frame matches. The kernel moves a received VLAN
    /// tag into metadata, so bytes 12..14 are the (inner) ethertype.
    pub fn matches(&self, frame: &[u8]) -> bool {
        if frame.len() < 14 {
            return false;
        }
        self.dst.is_none_or(|m| frame[0..6] == m)
            && self.src.is_none_or(|m| frame[6..12] == m)
            && self
                .ethertype
                .is_none_or(|t| frame[12..14] == t.to_be_bytes())
    }
}

/// An AF_PACKET raw socket bound to `iface`. With `proto` 0 it only sends;
/// with ETH_P_ALL it also receives everything on `iface` (only, since the
/// protocol is set at bind time: a socket created with ETH_P_ALL would see
/// other interfaces' frames until bound).
fn packet_socket(iface: &str, proto: u16) -> io::Result<OwnedFd> {
    let name = CString::new(iface).map_err(io::Error::other)?;
    // SAFETY: `name` is a valid NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(io::Error::other(format!("no interface {iface:?}")));
    }
    // SAFETY: plain system call; the descriptor is owned right away.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = proto.to_be();
    addr.sll_ifindex = index as i32;
    // SAFETY: `addr` is a valid sockaddr_ll of the size passed.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

fn print_line(line: serde_json::Value) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn send(opts: &Opts) -> crate::Result<()> {
    let iface: String = opts.require("iface")?;
    let dst = parse_mac(&opts.require::<String>("dst")?)?;
    let src = parse_mac(&opts.require::<String>("src")?)?;
    let vlan = match opts.get("vlan") {
        Some(_) => Some(opts.require::<u16>("vlan")?),
        None => None,
    };
    if vlan.is_some_and(|v| v > 4094) {
        return Err("--vlan must be 0..4094".into());
    }
    let count: u64 = opts.get_or("count", 1)?;
    let interval = Duration::from_millis(opts.get_or("interval-ms", 100)?);
    let ethertype = opts
        .get("ethertype")
        .map_or(Ok(DEFAULT_ETHERTYPE), parse_ethertype)?;

    let fd = packet_socket(&iface, 0)?;
    for seq in 1..=count {
        if seq > 1 {
            std::thread::sleep(interval);
        }
        let frame = build_frame(dst, src, vlan, ethertype, seq);
        loop {
            // SAFETY: the buffer is valid for its length.
            let n = unsafe { libc::send(fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
            if n >= 0 {
                break;
            }
            let e = io::Error::last_os_error();
            // A full transmit queue: wait a little and retry the same frame.
            if !matches!(e.raw_os_error(), Some(libc::ENOBUFS | libc::EAGAIN)) {
                return Err(format!("send on {iface}: {e}").into());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    print_line(json!({ "sent": count }));
    Ok(())
}

fn count(opts: &Opts) -> crate::Result<()> {
    let iface: String = opts.require("iface")?;
    let seconds: f64 = opts.require("seconds")?;
    let mac = |name| opts.get(name).map(parse_mac).transpose();
    let filter = Filter {
        dst: mac("dst")?,
        src: mac("src")?,
        ethertype: opts.get("ethertype").map(parse_ethertype).transpose()?,
    };
    let deadline = Instant::now() + Duration::try_from_secs_f64(seconds)?;

    let fd = packet_socket(&iface, libc::ETH_P_ALL as u16)?;
    // Only the header matters: longer frames are silently truncated.
    let mut buf = [0u8; 256];
    let (mut matched, mut seen) = (0u64, 0u64);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // Round up so the last partial millisecond is still waited for.
        let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, ms) } <= 0 {
            continue; // timeout (loop ends) or EINTR
        }
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut from_len = size_of::<libc::sockaddr_ll>() as u32;
        // SAFETY: the buffer and address are valid for the lengths passed.
        let n = unsafe {
            libc::recvfrom(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
                (&mut from as *mut libc::sockaddr_ll).cast(),
                &mut from_len,
            )
        };
        // Our own transmissions are looped back to packet sockets: skip them.
        if n < 0 || from.sll_pkttype == libc::PACKET_OUTGOING {
            continue;
        }
        seen += 1;
        if filter.matches(&buf[..n as usize]) {
            matched += 1;
        }
    }
    print_line(json!({ "matched": matched, "seen": seen }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Mac = [0x02, 0, 0, 0, 0, 1];
    const B: Mac = [0xff; 6];

    #[test]
    fn parses_macs() {
        assert_eq!(parse_mac("02:00:00:00:00:01").unwrap(), A);
        assert_eq!(parse_mac("FF-ff-FF-ff-FF-ff").unwrap(), B);
        for bad in [
            "",
            "02:00:00:00:00",
            "02:00:00:00:00:01:02",
            "2:0:0:0:0:1",
            "zz:00:00:00:00:01",
        ] {
            assert!(parse_mac(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_ethertypes() {
        assert_eq!(parse_ethertype("0x88b5").unwrap(), 0x88b5);
        assert_eq!(parse_ethertype("2048").unwrap(), 0x0800);
        assert!(parse_ethertype("0x05dc").is_err()); // an 802.3 length
        assert!(parse_ethertype("0x10000").is_err());
    }

    #[test]
    fn builds_untagged_frames() {
        let f = build_frame(B, A, None, 0x88b5, 7);
        assert_eq!(f.len(), 14 + MIN_PAYLOAD);
        assert_eq!(&f[0..6], &B);
        assert_eq!(&f[6..12], &A);
        assert_eq!(&f[12..14], &[0x88, 0xb5]);
        assert!(f[14..].starts_with(b"hierro-frame 7\0"));
        assert!(f[14 + 14..].iter().all(|&b| b == 0));
    }

    #[test]
    fn builds_tagged_frames() {
        let f = build_frame(B, A, Some(101), 0x88b5, 1);
        assert_eq!(f.len(), 18 + MIN_PAYLOAD);
        assert_eq!(&f[12..16], &[0x81, 0x00, 0x00, 101]);
        assert_eq!(&f[16..18], &[0x88, 0xb5]);
        assert!(f[18..].starts_with(b"hierro-frame 1\0"));
    }

    #[test]
    fn long_sequence_numbers_still_pad() {
        let f = build_frame(B, A, None, 0x88b5, u64::MAX);
        assert_eq!(f.len(), 14 + MIN_PAYLOAD);
    }

    #[test]
    fn filters_frames() {
        let f = build_frame(B, A, None, 0x88b5, 1);
        assert!(Filter::default().matches(&f));
        let all = Filter {
            dst: Some(B),
            src: Some(A),
            ethertype: Some(0x88b5),
        };
        assert!(all.matches(&f));
        let wrong_src = Filter {
            src: Some(B),
            ..Filter::default()
        };
        assert!(!wrong_src.matches(&f));
        let wrong_type = Filter {
            ethertype: Some(0x0800),
            ..Filter::default()
        };
        assert!(!wrong_type.matches(&f));
        // A tagged frame as sent (tag inline) has 0x8100 at offset 12; as
        // received, the kernel has stripped it, leaving the inner type there.
        let tagged = build_frame(B, A, Some(5), 0x88b5, 1);
        assert!(!all.matches(&tagged));
        let untagged: Vec<u8> = [&tagged[..12], &tagged[16..]].concat();
        assert!(all.matches(&untagged));
        assert!(!Filter::default().matches(&f[..13]));
    }
}

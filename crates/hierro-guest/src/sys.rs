//! The system calls behind the agent's commands.

use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::time::Duration;

use serde_json::{json, Value};

/// `_IOWR('X', 119, int)` and `_IOWR('X', 120, int)` from linux/fs.h.
const FIFREEZE: libc::c_ulong = 0xC004_5877;
const FITHAW: libc::c_ulong = 0xC004_5878;

pub fn hostname() -> io::Result<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; the result is NUL-terminated
    // because we pass one byte less than the buffer size.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let name = CStr::from_bytes_until_nul(&buf).map_err(io::Error::other)?;
    Ok(name.to_string_lossy().into_owned())
}

/// One interface of guest-network-get-interfaces, built up from getifaddrs.
struct Iface {
    name: String,
    hwaddr: Option<String>,
    addrs: Vec<Value>,
}

/// guest-network-get-interfaces: every interface with its MAC, IP addresses and counters.
pub fn interfaces() -> io::Result<Value> {
    let mut ifaces: Vec<Iface> = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we walk read-only and free below.
    // Each ifa_addr/ifa_netmask is a sockaddr of the family given in sa_family.
    unsafe {
        if libc::getifaddrs(&mut head) != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut p = head;
        while let Some(ifa) = p.as_ref() {
            p = ifa.ifa_next;
            let name = CStr::from_ptr(ifa.ifa_name).to_string_lossy().into_owned();
            let idx = match ifaces.iter().position(|i| i.name == name) {
                Some(i) => i,
                None => {
                    ifaces.push(Iface {
                        name,
                        hwaddr: None,
                        addrs: Vec::new(),
                    });
                    ifaces.len() - 1
                }
            };
            let iface = &mut ifaces[idx];
            let Some(addr) = ifa.ifa_addr.as_ref() else {
                continue;
            };
            let mask = ifa.ifa_netmask;
            match addr.sa_family as libc::c_int {
                libc::AF_INET => {
                    let sin = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                    let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                    let prefix = mask.as_ref().map_or(0, |_| {
                        let m = &*(mask as *const libc::sockaddr_in);
                        m.sin_addr.s_addr.count_ones()
                    });
                    iface.addrs.push(json!({"ip-address-type": "ipv4", "ip-address": ip.to_string(), "prefix": prefix}));
                }
                libc::AF_INET6 => {
                    let sin6 = &*(ifa.ifa_addr as *const libc::sockaddr_in6);
                    let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                    let prefix = mask.as_ref().map_or(0, |_| {
                        let m = &*(mask as *const libc::sockaddr_in6);
                        m.sin6_addr
                            .s6_addr
                            .iter()
                            .map(|b| b.count_ones())
                            .sum::<u32>()
                    });
                    iface.addrs.push(json!({"ip-address-type": "ipv6", "ip-address": ip.to_string(), "prefix": prefix}));
                }
                libc::AF_PACKET => {
                    let sll = &*(ifa.ifa_addr as *const libc::sockaddr_ll);
                    let len = (sll.sll_halen as usize).min(sll.sll_addr.len());
                    let mac: Vec<String> = sll.sll_addr[..len]
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    iface.hwaddr = Some(mac.join(":"));
                }
                _ => {}
            }
        }
        libc::freeifaddrs(head);
    }
    let list: Vec<Value> = ifaces
        .into_iter()
        .map(|i| {
            let mut v = json!({"name": i.name, "ip-addresses": i.addrs});
            if let Some(mac) = i.hwaddr {
                v["hardware-address"] = json!(mac);
            }
            if let Some(stats) = statistics(&i.name) {
                v["statistics"] = stats;
            }
            v
        })
        .collect();
    Ok(Value::Array(list))
}

/// The interface counters, from sysfs (QGA names on the left).
fn statistics(name: &str) -> Option<Value> {
    const FIELDS: &[(&str, &str)] = &[
        ("rx-bytes", "rx_bytes"),
        ("rx-packets", "rx_packets"),
        ("rx-errs", "rx_errors"),
        ("rx-dropped", "rx_dropped"),
        ("tx-bytes", "tx_bytes"),
        ("tx-packets", "tx_packets"),
        ("tx-errs", "tx_errors"),
        ("tx-dropped", "tx_dropped"),
    ];
    let mut stats = serde_json::Map::new();
    for (key, file) in FIELDS {
        let text =
            std::fs::read_to_string(format!("/sys/class/net/{name}/statistics/{file}")).ok()?;
        stats.insert(key.to_string(), json!(text.trim().parse::<u64>().ok()?));
    }
    Some(Value::Object(stats))
}

/// Mount points of filesystems on block devices, in /proc/mounts order.
fn block_mounts() -> io::Result<Vec<String>> {
    let mounts = std::fs::read_to_string("/proc/mounts")?;
    Ok(mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (dev, dir) = (f.next()?, f.next()?);
            // /proc/mounts escapes spaces etc. as \040 octal.
            dev.starts_with("/dev/").then(|| unescape_octal(dir))
        })
        .collect())
}

fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .and_then(|d| u8::from_str_radix(std::str::from_utf8(d).ok()?, 8).ok());
        match (b[i], oct) {
            (b'\\', Some(c)) => {
                out.push(c);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn fs_ioctl(dir: &str, request: libc::c_ulong) -> io::Result<()> {
    let f = File::open(dir)?;
    // SAFETY: FIFREEZE/FITHAW take no pointer argument worth the name (ignored).
    if unsafe { libc::ioctl(f.as_raw_fd(), request as _, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Freezes every block-device filesystem; returns how many were frozen. Nested
/// mounts go first (reverse mount order). On a real error, thaws what was frozen.
pub fn freeze() -> io::Result<usize> {
    let mut frozen = Vec::new();
    for dir in block_mounts()?.into_iter().rev() {
        match fs_ioctl(&dir, FIFREEZE) {
            Ok(()) => frozen.push(dir),
            // EBUSY: the same filesystem, already frozen through another mount.
            // EOPNOTSUPP: a filesystem that cannot be frozen.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY | libc::EOPNOTSUPP)) => {}
            Err(e) => {
                for d in frozen.iter().rev() {
                    let _ = fs_ioctl(d, FITHAW);
                }
                return Err(io::Error::new(
                    e.kind(),
                    format!("failed to freeze {dir}: {e}"),
                ));
            }
        }
    }
    Ok(frozen.len())
}

/// Thaws every block-device filesystem; returns how many were thawed.
pub fn thaw() -> usize {
    let dirs = block_mounts().unwrap_or_default();
    dirs.iter().filter(|d| fs_ioctl(d, FITHAW).is_ok()).count()
}

/// Syncs and powers off / halts / reboots (`how` is an RB_* constant) after a
/// short delay, in the background.
pub fn reboot_soon(how: libc::c_int) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: plain system calls without pointers.
        unsafe {
            libc::sync();
            libc::reboot(how);
        }
        eprintln!(
            "hierro-guest: reboot failed: {}",
            io::Error::last_os_error()
        );
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn unescapes_mount_points() {
        assert_eq!(super::unescape_octal(r"/mnt/a\040b"), "/mnt/a b");
        assert_eq!(super::unescape_octal(r"/x\"), r"/x\");
    }
}

//! A VM NIC's tap as the host agent makes it for QEMU, and the frames left
//! in it at a vMotion switchover.
//!
//! The agent opens the tap and hands QEMU a copy of the descriptor
//! (`-netdev tap,fd=N`), so both share one queue. Frames that arrive for the
//! guest while the source pauses it for the switchover wait in that queue,
//! and QEMU never reads them. Once the guest runs on the destination, the
//! source reads them from its copy and sends them there (`encode`), where
//! they are put on the VM's tap: the guest gets them instead of its peers
//! having to send them again (a TCP retransmission costs at least 200 ms).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use crate::io::{cvt, open_tun, VnetHdr, IFF_NO_PI, IFF_TAP, IFF_VNET_HDR, MAX_FRAME};

const TUNGETVNETHDRSZ: libc::c_ulong = 0x8004_54d7;

/// Makes the tap `name` for a VM NIC: gone when QEMU and the agent have both
/// closed it. QEMU sets its offloads from what the guest supports.
pub fn create(name: &str) -> io::Result<OwnedFd> {
    open_tun(name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, false)
}

/// A frame and its offloads, as read from a tap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub vnet: VnetHdr,
    pub bytes: Vec<u8>,
}

/// Reads every frame waiting in the tap's queue, without blocking. Only
/// while QEMU does not read it (its guest is paused or gone).
pub fn drain(fd: &OwnedFd) -> io::Result<Vec<Frame>> {
    let mut hdr_len: libc::c_int = 0;
    // SAFETY: TUNGETVNETHDRSZ writes an int.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), TUNGETVNETHDRSZ, &mut hdr_len) })?;
    // QEMU may use the 12-byte header (with num_buffers); the first 10
    // bytes are the same.
    let hdr_len = (hdr_len as usize).max(std::mem::size_of::<VnetHdr>());
    let mut buf = vec![0u8; hdr_len + MAX_FRAME];
    let mut frames = vec![];
    loop {
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll on one descriptor, no waiting.
        if unsafe { libc::poll(&mut pfd, 1, 0) } <= 0 || pfd.revents & libc::POLLIN == 0 {
            return Ok(frames);
        }
        // SAFETY: reads into our buffer of buf.len() bytes.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(frames),
                _ => Err(e),
            };
        }
        let n = n as usize;
        if n <= hdr_len {
            continue;
        }
        frames.push(Frame {
            vnet: VnetHdr::from_bytes(&buf[..10]),
            bytes: buf[hdr_len..n].to_vec(),
        });
    }
}

/// The frames as sent to the destination: for each, its length (u32, big
/// endian), its header (10 bytes, little endian fields) and the frame.
pub fn encode(frames: &[Frame]) -> Vec<u8> {
    let mut out = vec![];
    for f in frames {
        out.extend_from_slice(&(10 + f.bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(&f.vnet.to_bytes());
        out.extend_from_slice(&f.bytes);
    }
    out
}

/// The frames `encode` made; an incomplete last one is an error.
pub fn decode(mut data: &[u8]) -> Result<Vec<Frame>, String> {
    let mut frames = vec![];
    while !data.is_empty() {
        if data.len() < 4 {
            return Err("a cut frame length".into());
        }
        let len = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
        if !(10..=10 + MAX_FRAME).contains(&len) || data.len() < 4 + len {
            return Err(format!("a frame of {len} bytes does not fit"));
        }
        frames.push(Frame {
            vnet: VnetHdr::from_bytes(&data[4..14]),
            bytes: data[14..4 + len].to_vec(),
        });
        data = &data[4 + len..];
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_the_trip() {
        let frames = vec![
            Frame {
                vnet: VnetHdr::default(),
                bytes: vec![1; 60],
            },
            Frame {
                vnet: VnetHdr {
                    flags: 1,
                    gso_type: 1,
                    hdr_len: 66,
                    gso_size: 1448,
                    csum_start: 34,
                    csum_offset: 16,
                },
                bytes: vec![2; 65000],
            },
        ];
        let data = encode(&frames);
        assert_eq!(decode(&data).unwrap(), frames);
        assert!(decode(&data[..data.len() - 1]).is_err(), "cut");
        assert!(
            decode(&[0, 0, 0, 3, 1, 2, 3]).is_err(),
            "shorter than a header"
        );
        assert_eq!(decode(&[]).unwrap(), vec![]);
    }
}

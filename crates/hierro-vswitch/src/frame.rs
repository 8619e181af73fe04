//! Ethernet frames: addresses, the 802.1Q tag, and adding or removing it.

use std::fmt;

pub const ETH_HEADER: usize = 14;
pub const TPID_8021Q: u16 = 0x8100;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub const BROADCAST: Mac = Mac([0xff; 6]);

    /// Broadcast and multicast have the group bit set.
    pub fn is_group(&self) -> bool {
        self.0[0] & 1 == 1
    }

    fn at(f: &[u8], off: usize) -> Mac {
        let mut m = [0u8; 6];
        m.copy_from_slice(&f[off..off + 6]);
        Mac(m)
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Mac {
    type Err = String;
    fn from_str(s: &str) -> Result<Mac, String> {
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != 6 || parts.iter().any(|p| p.len() != 2) {
            return Err(format!("{s:?} is not a MAC address"));
        }
        let mut m = [0u8; 6];
        for (i, p) in parts.iter().enumerate() {
            m[i] = u8::from_str_radix(p, 16).map_err(|_| format!("{s:?} is not a MAC address"))?;
        }
        Ok(Mac(m))
    }
}

/// The parts of a frame's header the switch looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub dst: Mac,
    pub src: Mac,
    /// The 802.1Q tag's VLAN id and the whole TCI, if tagged.
    pub vlan: Option<u16>,
    pub tci: u16,
    /// Bytes before the payload: 14, or 18 when tagged.
    pub len: usize,
}

/// Parses the header; `None` for a frame too short to be Ethernet.
pub fn parse(f: &[u8]) -> Option<Header> {
    if f.len() < ETH_HEADER {
        return None;
    }
    let ethertype = u16::from_be_bytes([f[12], f[13]]);
    let (vlan, tci, len) = if ethertype == TPID_8021Q {
        if f.len() < ETH_HEADER + 4 {
            return None;
        }
        let tci = u16::from_be_bytes([f[14], f[15]]);
        (Some(tci & 0x0fff), tci, ETH_HEADER + 4)
    } else {
        (None, 0, ETH_HEADER)
    };
    Some(Header {
        dst: Mac::at(f, 0),
        src: Mac::at(f, 6),
        vlan,
        tci,
        len,
    })
}

/// The frame without its 802.1Q tag.
pub fn untag(f: &[u8], h: &Header) -> Vec<u8> {
    if h.vlan.is_none() {
        return f.to_vec();
    }
    let mut out = Vec::with_capacity(f.len() - 4);
    out.extend_from_slice(&f[..12]);
    out.extend_from_slice(&f[16..]);
    out
}

/// An untagged frame with a tag for `vlan` inserted after the addresses.
pub fn tag(untagged: &[u8], vlan: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(untagged.len() + 4);
    out.extend_from_slice(&untagged[..12]);
    out.extend_from_slice(&TPID_8021Q.to_be_bytes());
    out.extend_from_slice(&(vlan & 0x0fff).to_be_bytes());
    out.extend_from_slice(&untagged[12..]);
    out
}

/// Fills in the TCP or UDP checksum of an IPv4 or IPv6 frame. Frames that
/// another part of this host sent may carry only a partial checksum (the NIC
/// was to finish it); once the frame leaves through us, we must.
pub fn complete_l4_checksum(f: &mut [u8]) {
    let Some(h) = parse(f) else { return };
    let l3 = h.len;
    if f.len() < l3 + 20 {
        return;
    }
    let ethertype = u16::from_be_bytes([f[l3 - 2], f[l3 - 1]]);
    let (proto, l4, pseudo) = match ethertype {
        0x0800 => {
            let ihl = (f[l3] & 0x0f) as usize * 4;
            let total = u16::from_be_bytes([f[l3 + 2], f[l3 + 3]]) as usize;
            let frag = u16::from_be_bytes([f[l3 + 6], f[l3 + 7]]) & 0x3fff;
            if ihl < 20 || frag != 0 || l3 + total > f.len() || total < ihl {
                return;
            }
            let proto = f[l3 + 9];
            let len = (total - ihl) as u32;
            let mut sum = sum16(&f[l3 + 12..l3 + 20]);
            sum += proto as u32 + len;
            (proto, (l3 + ihl, l3 + total), sum)
        }
        0x86dd => {
            if f.len() < l3 + 40 {
                return;
            }
            let proto = f[l3 + 6]; // extension headers: left as they are
            let len = u16::from_be_bytes([f[l3 + 4], f[l3 + 5]]) as usize;
            if l3 + 40 + len > f.len() {
                return;
            }
            let mut sum = sum16(&f[l3 + 8..l3 + 40]);
            sum += proto as u32 + len as u32;
            (proto, (l3 + 40, l3 + 40 + len), sum)
        }
        _ => return,
    };
    let at = match proto {
        6 => 16,
        17 => 6,
        _ => return,
    };
    let (start, end) = l4;
    if end < start + at + 2 {
        return;
    }
    f[start + at] = 0;
    f[start + at + 1] = 0;
    let mut sum = pseudo + sum16(&f[start..end]);
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let mut csum = !(sum as u16);
    if proto == 17 && csum == 0 {
        csum = 0xffff;
    }
    f[start + at..start + at + 2].copy_from_slice(&csum.to_be_bytes());
}

/// Ones' complement sum of 16-bit words (odd length padded with zero).
fn sum16(b: &[u8]) -> u32 {
    let mut sum = 0u32;
    let mut chunks = b.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [last] = chunks.remainder() {
        sum += (*last as u32) << 8;
    }
    sum
}

#[cfg(test)]
pub fn build(dst: Mac, src: Mac, vlan: Option<u16>, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    if let Some(v) = vlan {
        f.extend_from_slice(&TPID_8021Q.to_be_bytes());
        f.extend_from_slice(&v.to_be_bytes());
    }
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_tag_untag() {
        let a: Mac = "52:54:00:00:00:01".parse().unwrap();
        let b: Mac = "52:54:00:00:00:02".parse().unwrap();
        let plain = build(b, a, None, b"hello");
        let h = parse(&plain).unwrap();
        assert_eq!((h.dst, h.src, h.vlan, h.len), (b, a, None, 14));
        let tagged = tag(&plain, 100);
        let h = parse(&tagged).unwrap();
        assert_eq!(h.vlan, Some(100));
        assert_eq!(h.len, 18);
        assert_eq!(untag(&tagged, &h), plain);
        assert_eq!(tagged, build(b, a, Some(100), b"hello"));
        assert!(parse(&plain[..13]).is_none());
        assert!(
            parse(&tagged[..16]).is_none(),
            "a cut VLAN header is malformed"
        );
        assert!(Mac::BROADCAST.is_group() && !a.is_group());
        assert_eq!(a.to_string(), "52:54:00:00:00:01");

        // A UDP/IPv4 datagram whose checksum was left for the NIC (a
        // well-known example: checksum 0x8a1f below is what Linux computes).
        let mut ip = vec![
            0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
            0x30, 0x39, 0x00, 0x35, 0, 12, 0xde, 0xad, // UDP 12345 -> 53, len 12, junk csum
            b'p', b'i', b'n', b'g',
        ];
        let mut f = build(b, a, None, &[]);
        f.truncate(12);
        f.extend_from_slice(&[0x08, 0x00]);
        f.append(&mut ip);
        complete_l4_checksum(&mut f);
        let (l4, end) = (14 + 20, f.len());
        // Verifying: the sum over pseudo-header and segment is all ones.
        let mut sum = sum16(&f[14 + 12..14 + 20]) + 17 + 12 + sum16(&f[l4..end]);
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        assert_eq!(sum, 0xffff);
        assert!("52:54:00:00:00".parse::<Mac>().is_err());
    }
}

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

/// `f` (tagged or not, as `h` says) as it leaves a port: tagged for `vlan`,
/// or untagged for `None`. Three pieces (the addresses, the new tag or
/// nothing, the rest) that go out with one writev, so the frame is never
/// copied; `tag` holds the new tag's bytes.
pub fn retag<'a>(
    f: &'a [u8],
    h: &Header,
    vlan: Option<u16>,
    tag: &'a mut [u8; 4],
) -> [&'a [u8]; 3] {
    let rest = &f[if h.vlan.is_some() { 16 } else { 12 }..];
    let tag: &[u8] = match vlan {
        Some(v) => {
            tag[..2].copy_from_slice(&TPID_8021Q.to_be_bytes());
            tag[2..].copy_from_slice(&(v & 0x0fff).to_be_bytes());
            tag
        }
        None => &[],
    };
    [&f[..12], tag, rest]
}

/// An untagged frame with a tag for `vlan` inserted after the addresses.
pub fn tag(untagged: &[u8], vlan: u16) -> Vec<u8> {
    let h = parse(untagged).expect("an Ethernet frame");
    retag(untagged, &h, Some(vlan), &mut [0; 4]).concat()
}

/// The length of the IP and TCP or UDP headers that follow `l2` bytes of
/// Ethernet header: what every segment of a GSO super-frame repeats.
/// `None` when they are cut or not IP/TCP/UDP.
pub fn l3l4_len(f: &[u8], l2: usize) -> Option<usize> {
    let ethertype = u16::from_be_bytes([*f.get(l2 - 2)?, *f.get(l2 - 1)?]);
    let (l3, proto) = match ethertype {
        0x0800 => ((*f.get(l2)? & 0x0f) as usize * 4, *f.get(l2 + 9)?),
        // Extension headers are not followed: a super-frame has none.
        0x86dd => (40, *f.get(l2 + 6)?),
        _ => return None,
    };
    let l4 = match proto {
        6 => (*f.get(l2 + l3 + 12)? >> 4) as usize * 4,
        17 => 8,
        _ => return None,
    };
    (f.len() >= l2 + l3 + l4).then_some(l3 + l4)
}

/// The shortest Ethernet frame, without its checksum.
const MIN_FRAME: usize = 60;

/// A RARP request announcing `mac` (what QEMU and ESXi send so that the
/// physical switches learn where a MAC is), tagged for `vlan` if given.
pub fn rarp(mac: Mac, vlan: Option<u16>) -> Vec<u8> {
    let mut f = Vec::with_capacity(MIN_FRAME);
    f.extend_from_slice(&Mac::BROADCAST.0);
    f.extend_from_slice(&mac.0);
    f.extend_from_slice(&0x8035u16.to_be_bytes());
    // Ethernet, IPv4, address lengths 6 and 4, "reverse request".
    f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 3]);
    for _ in 0..2 {
        f.extend_from_slice(&mac.0);
        f.extend_from_slice(&[0; 4]);
    }
    f.resize(MIN_FRAME, 0);
    match vlan {
        Some(v) => tag(&f, v),
        None => f,
    }
}

/// The EtherType of the beacons teams send between their uplinks (IEEE's
/// "local experimental" type: the beacons are ours).
pub const BEACON_ETHERTYPE: u16 = 0x88b5;

/// A beacon from uplink `port` of the switch `switch` (a random id, so
/// another host's beacons are told apart), broadcast from a locally
/// administered MAC of its own.
pub fn beacon(switch: u64, port: u32) -> Vec<u8> {
    let mut f = Vec::with_capacity(MIN_FRAME);
    f.extend_from_slice(&Mac::BROADCAST.0);
    f.push(0x02);
    f.extend_from_slice(&(switch as u32).to_be_bytes());
    f.push(port as u8);
    f.extend_from_slice(&BEACON_ETHERTYPE.to_be_bytes());
    f.extend_from_slice(&switch.to_be_bytes());
    f.extend_from_slice(&port.to_be_bytes());
    f.resize(MIN_FRAME, 0);
    f
}

/// A beacon's switch and uplink, if the frame is one.
pub fn parse_beacon(f: &[u8], h: &Header) -> Option<(u64, u32)> {
    let ethertype = u16::from_be_bytes([f[h.len - 2], f[h.len - 1]]);
    let body = f.get(h.len..h.len + 12)?;
    (ethertype == BEACON_ETHERTYPE).then(|| {
        let switch = u64::from_be_bytes(body[..8].try_into().expect("8 bytes"));
        let port = u32::from_be_bytes(body[8..].try_into().expect("4 bytes"));
        (switch, port)
    })
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
        assert_eq!(retag(&tagged, &h, None, &mut [0; 4]).concat(), plain);
        let retagged = retag(&tagged, &h, Some(200), &mut [0; 4]).concat();
        assert_eq!(retagged, build(b, a, Some(200), b"hello"));
        assert_eq!(tagged, build(b, a, Some(100), b"hello"));
        assert!(parse(&plain[..13]).is_none());
        assert!(
            parse(&tagged[..16]).is_none(),
            "a cut VLAN header is malformed"
        );
        assert!(Mac::BROADCAST.is_group() && !a.is_group());
        assert_eq!(a.to_string(), "52:54:00:00:00:01");

        // IPv4 (20 bytes) + TCP with 12 bytes of options (32 bytes).
        let mut tcp = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
        tcp.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        tcp.extend_from_slice(&[0; 12]);
        tcp.push(0x80); // data offset 8 words
        tcp.extend_from_slice(&[0; 19]);
        let f = build(b, a, None, &tcp);
        assert_eq!(l3l4_len(&f, 14), Some(52));
        assert_eq!(l3l4_len(&tag(&f, 7), 18), Some(52));
        assert_eq!(l3l4_len(&f[..60], 14), None, "cut TCP header");
        assert!("52:54:00:00:00".parse::<Mac>().is_err());
    }

    #[test]
    fn rarp_and_beacons() {
        let a: Mac = "52:54:00:00:00:01".parse().unwrap();
        let r = rarp(a, None);
        assert_eq!(r.len(), 60);
        assert_eq!(&r[..6], &[0xff; 6]);
        assert_eq!(&r[12..14], &[0x80, 0x35]);
        assert_eq!(&r[20..22], &[0, 3], "reverse request");
        assert_eq!((&r[22..28], &r[32..38]), (&a.0[..], &a.0[..]));
        let tagged = rarp(a, Some(100));
        assert_eq!(parse(&tagged).unwrap().vlan, Some(100));
        let b = beacon(0x1234_5678_9abc, 7);
        let h = parse(&b).unwrap();
        assert!(!h.src.is_group());
        assert_eq!(parse_beacon(&b, &h), Some((0x1234_5678_9abc, 7)));
        assert_eq!(parse_beacon(&r, &parse(&r).unwrap()), None);
    }
}

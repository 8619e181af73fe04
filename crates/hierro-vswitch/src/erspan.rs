//! ERSPAN, as draft-foschiano-erspan lays it out: a GRE header with a
//! sequence number, then the ERSPAN type II or type III header, then the
//! mirrored frame. The IPv4 header in front is the host stack's (see
//! `io::RawIp`).

use hierro_api::ErspanVersion;

/// GRE's protocol numbers for the two types.
pub const GRE_PROTO_TYPE_II: u16 = 0x88be;
pub const GRE_PROTO_TYPE_III: u16 = 0x22eb;
/// GRE flags: the sequence number is present (S), version 0.
const GRE_SEQUENCE: u16 = 0x1000;

/// Bytes ahead of the mirrored frame: GRE with sequence, then ERSPAN.
pub fn overhead(v: ErspanVersion) -> usize {
    8 + match v {
        ErspanVersion::TypeII => 8,
        ErspanVersion::TypeIII => 12,
    }
}

/// What an ERSPAN header says about one copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Copy {
    /// 10 bits.
    pub session_id: u16,
    /// The frame's 802.1Q VLAN and priority, if it carries a tag.
    pub vlan: Option<u16>,
    pub cos: u8,
    /// The copy is shorter than the frame.
    pub truncated: bool,
    /// Egress (the switch delivered it to the source port), not ingress.
    pub egress: bool,
    /// Type II's index: the source port.
    pub index: u32,
    /// Type III's timestamp, in 100 µs units (granularity 00).
    pub timestamp: u32,
}

/// GRE and ERSPAN headers for a copy, `seq` the session's sequence number.
pub fn header(v: ErspanVersion, seq: u32, c: &Copy) -> Vec<u8> {
    let mut h = Vec::with_capacity(overhead(v));
    let proto = match v {
        ErspanVersion::TypeII => GRE_PROTO_TYPE_II,
        ErspanVersion::TypeIII => GRE_PROTO_TYPE_III,
    };
    h.extend_from_slice(&GRE_SEQUENCE.to_be_bytes());
    h.extend_from_slice(&proto.to_be_bytes());
    h.extend_from_slice(&seq.to_be_bytes());
    let vlan = c.vlan.unwrap_or(0) as u32 & 0xfff;
    let cos = (c.cos as u32 & 7) << 13;
    let t = (c.truncated as u32) << 10;
    let session = c.session_id as u32 & 0x3ff;
    match v {
        ErspanVersion::TypeII => {
            // En: 00 the frame had no tag, 11 the tag is kept in the frame.
            let en = if c.vlan.is_some() { 3 } else { 0 } << 11;
            let word0 = 1 << 28 | vlan << 16 | cos | en | t | session;
            h.extend_from_slice(&word0.to_be_bytes());
            h.extend_from_slice(&(c.index & 0xf_ffff).to_be_bytes());
        }
        ErspanVersion::TypeIII => {
            // BSO 00: good frame (no bad or short frames reach a mirror).
            let word0 = 2 << 28 | vlan << 16 | cos | t | session;
            h.extend_from_slice(&word0.to_be_bytes());
            h.extend_from_slice(&c.timestamp.to_be_bytes());
            // SGT 0, P 0 (Ethernet), FT 0 (Ethernet), HW ID 0, D, Gra 00
            // (100 µs), O 0 (no platform sub-header).
            let word2 = (c.egress as u32) << 3;
            h.extend_from_slice(&word2.to_be_bytes());
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_ii_and_type_iii_headers() {
        let c = Copy {
            session_id: 0x2a5,
            vlan: Some(100),
            cos: 5,
            truncated: true,
            egress: true,
            index: 0x12345,
            timestamp: 0xdead_beef,
        };
        let h = header(ErspanVersion::TypeII, 7, &c);
        assert_eq!(h.len(), overhead(ErspanVersion::TypeII));
        assert_eq!(&h[..8], &[0x10, 0, 0x88, 0xbe, 0, 0, 0, 7]);
        // ver 1, VLAN 100 (0x064), COS 5, En 3, T 1, session 0x2a5.
        let w0 = u32::from_be_bytes(h[8..12].try_into().unwrap());
        assert_eq!(w0 >> 28, 1);
        assert_eq!(w0 >> 16 & 0xfff, 100);
        assert_eq!((w0 >> 13 & 7, w0 >> 11 & 3, w0 >> 10 & 1), (5, 3, 1));
        assert_eq!(w0 & 0x3ff, 0x2a5);
        assert_eq!(&h[12..16], &[0, 0x01, 0x23, 0x45]);

        let h = header(ErspanVersion::TypeIII, 8, &c);
        assert_eq!(h.len(), overhead(ErspanVersion::TypeIII));
        assert_eq!(&h[2..4], &[0x22, 0xeb]);
        let w0 = u32::from_be_bytes(h[8..12].try_into().unwrap());
        assert_eq!((w0 >> 28, w0 >> 16 & 0xfff, w0 & 0x3ff), (2, 100, 0x2a5));
        assert_eq!(&h[12..16], &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(&h[16..20], &[0, 0, 0, 0b1000], "D: egress");
        let untagged = header(ErspanVersion::TypeII, 0, &Copy::default());
        assert_eq!(&untagged[8..12], &[0x10, 0, 0, 0], "ver 1, En 00");
    }
}

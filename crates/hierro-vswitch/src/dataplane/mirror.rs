//! Port mirroring in the dataplane: each frame's copies, cut and sampled,
//! sent to ports, a VLAN on the uplinks, or in GRE to an ERSPAN collector.

use super::*;

impl Dataplane {
    /// What each mirror session copied.
    pub fn mirror_stats(&self) -> Vec<MirrorStats> {
        self.mirrors
            .sessions
            .iter()
            .map(|s| s.stats.clone())
            .collect()
    }

    /// Sends the copies of a frame that came in on `ingress` and went to
    /// `outs`, as the mirror sessions want them.
    pub(super) fn mirror(
        &mut self,
        ingress: PortId,
        frame: &[u8],
        h: &Header,
        vnet: VnetHdr,
        outs: &[Out],
    ) {
        let mut copies = std::mem::take(&mut self.copies);
        self.mirrors.select(ingress, h.vlan, outs, &mut copies);
        for &(session, which) in &copies {
            // The frame as the source port saw it: its tag as it came in,
            // as it went out, or none.
            let (vlan, egress, source) = match which {
                Which::Ingress => (h.vlan, false, ingress),
                Which::Egress(n) => (outs[n].vlan, true, outs[n].port),
                Which::Untagged => (None, false, ingress),
            };
            let copy = Copy {
                frame,
                h,
                vlan,
                vnet,
                egress,
                source,
            };
            self.send_copy(session, &copy);
        }
        self.copies = copies;
    }

    /// Sends one copy to a session's destination, cut to its snap length
    /// (and, for ERSPAN, to what fits the source's MTU). No bytes are
    /// copied: the pieces go out with one writev (or sendmsg).
    fn send_copy(&mut self, session: usize, c: &Copy) {
        let mtu = self.ports.get(&c.source).map_or(1500, |e| e.mtu as usize);
        let s = &mut self.mirrors.sessions[session];
        let snap = s.cfg.snap_length.map_or(usize::MAX, usize::from);
        let (mut sent, mut tried) = (0, 0);
        let mut tag = [0; 4];
        match &s.cfg.destination {
            MirrorDestination::Ports { .. } => {
                let (parts, vnet, len, _) = c.cut(c.vlan, snap, &mut tag);
                s.stats.frames += 1;
                s.stats.bytes += len as u64;
                for p in &s.to_ports {
                    tried += 1;
                    record(&mut self.captures, *p, &parts);
                    let ep = self.ports.get(p).and_then(|e| e.endpoint.as_ref());
                    if ep.is_some_and(|ep| ep.send(&parts, &vnet).is_ok()) {
                        sent += 1;
                    }
                }
            }
            MirrorDestination::Rspan { vlan, .. } => {
                // The frame's own tag gives way to the RSPAN VLAN's.
                let (parts, vnet, len, _) = c.cut(Some(*vlan), snap, &mut tag);
                s.stats.frames += 1;
                s.stats.bytes += len as u64;
                for u in &s.to_uplinks {
                    tried += 1;
                    record(&mut self.captures, *u, &parts);
                    let ep = self.ports.get(u).and_then(|e| e.endpoint.as_ref());
                    if ep.is_some_and(|ep| ep.send(&parts, &vnet).is_ok()) {
                        sent += 1;
                    }
                }
            }
            MirrorDestination::Erspan {
                address,
                version,
                session_id,
                ..
            } => {
                // The IPv4 header, GRE and ERSPAN go in front.
                let room = mtu - 20 - crate::erspan::overhead(*version);
                let (parts, _, len, truncated) = c.cut(c.vlan, snap.min(room), &mut tag);
                s.stats.frames += 1;
                s.stats.bytes += len as u64;
                tried = 1;
                let e = crate::erspan::Copy {
                    session_id: *session_id,
                    vlan: c.vlan,
                    cos: if c.vlan.is_some() {
                        (c.h.tci >> 13) as u8
                    } else {
                        0
                    },
                    truncated,
                    egress: c.egress,
                    index: c.source,
                    timestamp: erspan_timestamp(),
                };
                let header = crate::erspan::header(*version, s.sequence, &e);
                s.sequence = s.sequence.wrapping_add(1);
                if let Some((socket, _)) = &s.erspan {
                    let all = [&header[..], parts[0], parts[1], parts[2]];
                    if socket.send(*address, GRE, &all).is_ok() {
                        sent = 1;
                    }
                }
            }
        }
        s.stats.dropped += tried - sent;
    }

    /// Sends what the switches themselves send (beacons, announcements).
    pub(super) fn send_outgoing(&mut self) {
        let frames: Vec<(PortId, Vec<u8>)> = self
            .switches
            .values_mut()
            .flat_map(|sw| sw.take_outgoing())
            .collect();
        for (port, f) in frames {
            record(&mut self.captures, port, &[&f]);
            if let Some(ep) = self.ports.get(&port).and_then(|e| e.endpoint.as_ref()) {
                let _ = ep.send(&[&f], &crate::io::VnetHdr::default());
            }
        }
    }
}

/// A frame a mirror session copies, and how it looked at the source port.
struct Copy<'a> {
    frame: &'a [u8],
    h: &'a Header,
    /// The tag it had at the source port.
    vlan: Option<u16>,
    vnet: VnetHdr,
    egress: bool,
    source: PortId,
}

impl<'a> Copy<'a> {
    /// The frame tagged for `vlan` (or not), at most `limit` bytes long,
    /// in pieces (`tag` holds a new tag's bytes); its header, its length,
    /// and whether it was cut. A cut super-frame is no longer one: it goes
    /// as a plain frame.
    fn cut<'b>(
        &self,
        vlan: Option<u16>,
        limit: usize,
        tag: &'b mut [u8; 4],
    ) -> ([&'b [u8]; 3], VnetHdr, usize, bool)
    where
        'a: 'b,
    {
        let mut parts = crate::frame::retag(self.frame, self.h, vlan, tag);
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total <= limit {
            let vnet = self
                .vnet
                .shifted(total as isize - self.frame.len() as isize);
            return (parts, vnet, total, false);
        }
        let mut left = limit;
        for p in &mut parts {
            *p = &p[..p.len().min(left)];
            left -= p.len();
        }
        (parts, VnetHdr::default(), limit, true)
    }
}

/// IP protocol number of GRE.
const GRE: u8 = 47;

/// ERSPAN type III's timestamp: 100 µs units (granularity 00), wrapping.
pub(super) fn erspan_timestamp() -> u32 {
    let now = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now.as_micros() / 100) as u32
}

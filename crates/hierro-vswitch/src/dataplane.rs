//! The running dataplane: the switches, each port's endpoint, and the loop
//! that moves frames. One thread runs the loop; the control socket's threads
//! change the configuration under the same lock between batches.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::os::fd::RawFd;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use hierro_api::{MirrorDestination, MirrorStats, PortStats};

use crate::config::{DataplaneConfig, PortKind, PortSpec};
use crate::frame::{Header, Mac};
use crate::io::{Endpoint, PacketSocket, Tap, VnetHdr};
use crate::mirror::{Mirrors, Which};
use crate::pcap::PcapWriter;
use crate::switch::{Out, PortId, Role, Switch};
use crate::vmtap::Frame;

/// Frames read from one port before looking at the others.
const BATCH: usize = 64;
/// How often missing endpoints are retried and uplink carriers read.
const HOUSEKEEPING: Duration = Duration::from_millis(100);
/// The longest a port's output is recorded (see `record`).
pub const RECORD_LIMIT: Duration = Duration::from_secs(3600);
/// The most recent frames a recording keeps per port.
const RECORD_FRAMES: usize = 4096;

struct PortEntry {
    key: String,
    switch: String,
    id: PortId,
    /// What it is: an uplink NIC, or a local port's spec.
    spec: Option<PortSpec>,
    iface: String,
    /// The switch's MTU, which the interface gets too.
    mtu: u16,
    endpoint: Option<Endpoint>,
    /// Why the endpoint is missing, for the logs (said once).
    error: Option<String>,
}

struct Capture {
    port: PortId,
    writer: PcapWriter,
    remaining: u64,
    taken: u64,
    until: Instant,
    done: mpsc::Sender<u64>,
}

#[derive(Default)]
pub struct Dataplane {
    switches: HashMap<String, Switch>,
    ports: HashMap<PortId, PortEntry>,
    next_id: PortId,
    captures: Vec<Capture>,
    last_housekeeping: Option<Instant>,
    /// Each switch's MTU.
    mtus: HashMap<String, u16>,
    /// Ports whose output is recorded: since when, and the latest frames
    /// with the time each went out.
    recording: HashMap<PortId, (Instant, VecDeque<(SystemTime, Frame)>)>,
    mirrors: Mirrors,
    /// Scratch: the copies one frame makes.
    copies: Vec<(usize, Which)>,
}

impl Dataplane {
    /// Makes the dataplane match `cfg`. Invalid configurations change nothing.
    pub fn apply(&mut self, cfg: &DataplaneConfig) -> Result<(), String> {
        cfg.validate()?;
        for s in &cfg.switches {
            for u in &s.uplinks {
                if crate::io::ifindex(u).is_err() {
                    return Err(format!(
                        "switch {}: uplink {u} does not exist on this host",
                        s.name
                    ));
                }
            }
        }
        // Ports first out of switches that go away or that they leave.
        // In key order, so that new ports get their ids (which pick their
        // uplinks) in a stable order.
        let wanted: BTreeMap<String, (String, Option<&PortSpec>, String)> = cfg
            .switches
            .iter()
            .flat_map(|s| {
                s.uplinks
                    .iter()
                    .map(move |u| (format!("uplink:{u}"), (s.name.clone(), None, u.clone())))
            })
            .chain(cfg.ports.iter().map(|p| {
                let sw = cfg
                    .portgroups
                    .iter()
                    .find(|g| g.name == p.portgroup)
                    .expect("validated")
                    .vswitch
                    .clone();
                (p.key.clone(), (sw, Some(p), p.iface.clone()))
            }))
            .collect();
        let stale: Vec<PortId> = self
            .ports
            .values()
            .filter(|e| match wanted.get(&e.key) {
                None => true,
                Some((sw, spec, iface)) => {
                    *sw != e.switch
                        || *iface != e.iface
                        || spec.map(|s| s.kind) != e.spec.as_ref().map(|s| s.kind)
                }
            })
            .map(|e| e.id)
            .collect();
        for id in stale {
            self.remove_port(id);
        }
        self.switches
            .retain(|name, _| cfg.switches.iter().any(|s| &s.name == name));
        for s in &cfg.switches {
            match self.switches.get_mut(&s.name) {
                Some(sw) => sw.configure(s, &cfg.portgroups),
                None => {
                    self.switches
                        .insert(s.name.clone(), Switch::new(s, &cfg.portgroups));
                }
            }
        }
        self.mtus = cfg
            .switches
            .iter()
            .map(|s| (s.name.clone(), s.mtu))
            .collect();
        for e in self.ports.values_mut() {
            let mtu = self.mtus[&e.switch];
            if e.mtu != mtu {
                e.mtu = mtu;
                if e.endpoint.is_some() {
                    let _ = set_link(&e.iface, &["mtu", &mtu.to_string()]);
                }
            }
        }
        for (key, (sw, spec, iface)) in wanted {
            let existing = self.port_id(&key);
            match (existing, spec) {
                (Some(id), Some(spec)) => {
                    let (mac, effective) = macs(spec);
                    self.switches
                        .get_mut(&sw)
                        .expect("made above")
                        .update_local(id, &spec.portgroup, mac, effective);
                    self.ports.get_mut(&id).expect("exists").spec = Some(spec.clone());
                }
                (Some(_), None) => {}
                (None, spec) => self.add_port(&key, &sw, spec.cloned(), &iface),
            }
        }
        let old = std::mem::take(&mut self.mirrors);
        let mirrors = Mirrors::build(
            &cfg.mirrors,
            |key| self.port_id(key),
            |switch| {
                let mut ids: Vec<PortId> = self
                    .ports
                    .values()
                    .filter(|e| e.switch == switch && e.spec.is_none())
                    .map(|e| e.id)
                    .collect();
                ids.sort();
                ids
            },
            old,
        );
        self.mirrors = mirrors;
        self.send_outgoing();
        Ok(())
    }

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
    fn mirror(&mut self, ingress: PortId, frame: &[u8], h: &Header, vnet: VnetHdr, outs: &[Out]) {
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
    fn send_outgoing(&mut self) {
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

    fn add_port(&mut self, key: &str, switch: &str, spec: Option<PortSpec>, iface: &str) {
        self.next_id += 1;
        let id = self.next_id;
        let role = match &spec {
            None => Role::Uplink {
                link_up: carrier(iface),
            },
            Some(s) => {
                let (mac, effective) = macs(s);
                Role::Local {
                    portgroup: s.portgroup.clone(),
                    mac,
                    effective,
                }
            }
        };
        self.switches
            .get_mut(switch)
            .expect("switch exists")
            .add_port(id, key, role);
        let mut entry = PortEntry {
            key: key.to_string(),
            switch: switch.to_string(),
            id,
            spec,
            iface: iface.to_string(),
            mtu: self.mtus.get(switch).copied().unwrap_or(1500),
            endpoint: None,
            error: None,
        };
        open_endpoint(&mut entry);
        self.ports.insert(id, entry);
    }

    /// Announces these ports' MACs from their uplinks (their VM powered
    /// on). A VM that arrives by vMotion announces itself (QEMU does, once
    /// it runs here): its port must not draw its traffic sooner.
    pub fn announce(&mut self, keys: &[String]) -> Result<(), String> {
        for key in keys {
            let id = self
                .port_id(key)
                .ok_or_else(|| format!("no port {key:?}"))?;
            let e = &self.ports[&id];
            if let Some(sw) = self.switches.get_mut(&e.switch) {
                sw.announce(id);
            }
        }
        self.send_outgoing();
        Ok(())
    }

    fn remove_port(&mut self, id: PortId) {
        self.recording.remove(&id);
        if let Some(e) = self.ports.remove(&id) {
            if let Some(sw) = self.switches.get_mut(&e.switch) {
                sw.remove_port(id);
            }
            if e.spec.as_ref().is_some_and(|s| s.kind == PortKind::Vmk) {
                drop(e.endpoint);
                let _ = crate::io::delete_tap(&e.iface);
            }
        }
    }

    /// Counters of every port.
    pub fn stats(&self) -> Vec<PortStats> {
        let mut v: Vec<PortStats> = self
            .ports
            .values()
            .filter_map(|e| {
                let sw = self.switches.get(&e.switch)?;
                let port = sw.port(e.id)?;
                let uplink = sw
                    .uplink_of(e.id)
                    .and_then(|u| self.ports.get(&u))
                    .map(|u| u.iface.clone());
                Some(PortStats {
                    port: e.key.clone(),
                    vswitch: e.switch.clone(),
                    portgroup: e.spec.as_ref().map(|s| s.portgroup.clone()),
                    effective_mac: e.spec.as_ref().and_then(|s| s.effective_mac.clone()),
                    uplink,
                    link_up: e.spec.is_none().then(|| sw.usable(e.id, Instant::now())),
                    counters: match e.spec.as_ref().and_then(|s| s.counted_before.as_ref()) {
                        Some(before) => port.counters.plus(before),
                        None => port.counters,
                    },
                })
            })
            .collect();
        v.sort_by(|a, b| a.port.cmp(&b.port));
        v
    }

    /// MACs learned on uplinks: (switch, VLAN, MAC, uplink port key).
    pub fn learned(&self) -> Vec<(String, u16, String, String)> {
        let now = Instant::now();
        let mut v = vec![];
        for (name, sw) in &self.switches {
            for (vlan, mac, port) in sw.learned(now) {
                let key = self
                    .ports
                    .get(&port)
                    .map(|e| e.key.clone())
                    .unwrap_or_default();
                v.push((name.clone(), vlan, mac.to_string(), key));
            }
        }
        v
    }

    /// Starts capturing a port's frames (both directions) into a pcap file;
    /// the receiver gets the number of frames once it is done.
    pub fn capture(
        &mut self,
        key: &str,
        file: &std::path::Path,
        packets: u64,
        seconds: u64,
    ) -> Result<mpsc::Receiver<u64>, String> {
        let id = self
            .port_id(key)
            .ok_or_else(|| format!("no port {key:?}"))?;
        let writer = PcapWriter::create(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let (tx, rx) = mpsc::channel();
        self.captures.push(Capture {
            port: id,
            writer,
            remaining: packets.max(1),
            taken: 0,
            until: Instant::now() + Duration::from_secs(seconds.max(1)),
            done: tx,
        });
        Ok(rx)
    }

    /// Keeps a copy of the latest frames that go out of these ports (by
    /// key), with when each went, until `recorded`: their VM is migrating,
    /// and what reaches it once its QEMU paused for the switchover never
    /// reaches the guest there. Unknown ports are refused and nothing starts.
    pub fn record(&mut self, keys: &[String]) -> Result<(), String> {
        let ids = keys
            .iter()
            .map(|k| self.port_id(k).ok_or_else(|| format!("no port {k:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        let now = Instant::now();
        for id in ids {
            self.recording.insert(id, (now, VecDeque::new()));
        }
        Ok(())
    }

    /// The frames that went out of these ports at or after `since` (none
    /// for `None`), oldest first; the rest is forgotten too. The recording
    /// ends, or with `keep` starts afresh.
    pub fn recorded(
        &mut self,
        keys: &[String],
        since: Option<SystemTime>,
        keep: bool,
    ) -> Vec<Frame> {
        let ids: Vec<PortId> = keys.iter().filter_map(|k| self.port_id(k)).collect();
        let mut frames = vec![];
        for id in ids {
            let kept = if keep {
                self.recording.get_mut(&id).map(|(_, q)| std::mem::take(q))
            } else {
                self.recording.remove(&id).map(|(_, q)| q)
            };
            frames.extend(
                kept.into_iter()
                    .flatten()
                    .filter(|(at, _)| since.is_some_and(|s| *at >= s))
                    .map(|(_, f)| f),
            );
        }
        frames
    }

    fn port_id(&self, key: &str) -> Option<PortId> {
        self.ports.values().find(|e| e.key == key).map(|e| e.id)
    }

    /// The descriptors to wait on, with their port ids.
    pub fn fds(&self) -> Vec<(RawFd, PortId)> {
        self.ports
            .values()
            .filter_map(|e| e.endpoint.as_ref().map(|ep| (ep.fd(), e.id)))
            .collect()
    }

    /// Reads what is waiting on `port` and switches it.
    pub fn service(&mut self, port: PortId, buf: &mut Vec<u8>, out: &mut Vec<Out>) {
        for _ in 0..BATCH {
            let Some(entry) = self.ports.get_mut(&port) else {
                return;
            };
            let Some(ep) = &entry.endpoint else { return };
            let got = match ep.recv(buf) {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(e) => {
                    // The interface went away (a VM powered off): retry later.
                    entry.error = Some(e.to_string());
                    entry.endpoint = None;
                    return;
                }
            };
            let switch = entry.switch.clone();
            let frame = &buf[got.start..got.start + got.len];
            record(&mut self.captures, port, &[frame]);
            out.clear();
            let Some(sw) = self.switches.get_mut(&switch) else {
                continue;
            };
            if self.mirrors.silences(port) {
                sw.drop_from_mirror_destination(port, frame.len());
                continue;
            }
            sw.process(port, frame, got.vnet.gso_size(), Instant::now(), out);
            let Some(h) = crate::frame::parse(frame) else {
                continue; // malformed: the switch sent it nowhere
            };
            self.forward(frame, &h, got.vnet, out);
            // After the frame: a copy never goes before the original.
            if !self.mirrors.is_empty() {
                self.mirror(port, frame, &h, got.vnet, out);
            }
        }
    }

    /// Sends a switched frame out of the ports the switch chose.
    fn forward(&mut self, frame: &[u8], h: &Header, vnet: VnetHdr, outs: &[Out]) {
        for o in outs {
            let mut tag = [0; 4];
            let parts = crate::frame::retag(frame, h, o.vlan, &mut tag);
            record(&mut self.captures, o.port, &parts);
            if let Some(ep) = self.ports.get(&o.port).and_then(|e| e.endpoint.as_ref()) {
                // The switch only adds or removes a tag, in front of the
                // offsets the header gives.
                let len: usize = parts.iter().map(|p| p.len()).sum();
                let vnet = vnet.shifted(len as isize - frame.len() as isize);
                if let Some((_, kept)) = self.recording.get_mut(&o.port) {
                    if kept.len() == RECORD_FRAMES {
                        kept.pop_front();
                    }
                    let copy = Frame {
                        vnet,
                        bytes: parts.concat(),
                    };
                    kept.push_back((SystemTime::now(), copy));
                }
                // A full queue drops the frame, as a busy NIC would.
                let _ = ep.send(&parts, &vnet);
            }
        }
    }

    /// Tells each switch whether its uplinks have a carrier: at every
    /// housekeeping round, and at once when the kernel reports a link change.
    pub fn follow_carriers(&mut self) {
        for e in self.ports.values().filter(|e| e.spec.is_none()) {
            if let Some(sw) = self.switches.get_mut(&e.switch) {
                sw.set_link(e.id, e.endpoint.is_some() && carrier(&e.iface));
            }
        }
    }

    /// Retries missing endpoints, follows uplink carriers, ends captures.
    pub fn housekeeping(&mut self) {
        let now = Instant::now();
        if self
            .last_housekeeping
            .is_some_and(|t| now.duration_since(t) < HOUSEKEEPING)
        {
            return;
        }
        self.last_housekeeping = Some(now);
        for e in self.ports.values_mut() {
            if e.endpoint.is_none() {
                open_endpoint(e);
            }
        }
        self.follow_carriers();
        for sw in self.switches.values_mut() {
            sw.age(now);
            sw.tick(now);
        }
        self.send_outgoing();
        // A recording nobody collected (its agent died mid-migration).
        self.recording
            .retain(|_, (since, _)| now.duration_since(*since) < RECORD_LIMIT);
        let (done, running): (Vec<_>, Vec<_>) = self
            .captures
            .drain(..)
            .partition(|c| c.remaining == 0 || now >= c.until);
        self.captures = running;
        for c in done {
            let _ = c.writer.finish();
            let _ = c.done.send(c.taken);
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
fn erspan_timestamp() -> u32 {
    let now = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now.as_micros() / 100) as u32
}

/// Copies a frame, given in pieces, to the captures of `port`.
fn record(captures: &mut [Capture], port: PortId, parts: &[&[u8]]) {
    let mut frame = None;
    for c in captures
        .iter_mut()
        .filter(|c| c.port == port && c.remaining > 0)
    {
        let frame = frame.get_or_insert_with(|| parts.concat());
        if c.writer.write(frame).is_ok() {
            c.remaining -= 1;
            c.taken += 1;
        }
    }
}

fn macs(spec: &PortSpec) -> (Mac, Mac) {
    let mac: Mac = spec.mac.parse().expect("validated");
    let effective = spec
        .effective_mac
        .as_ref()
        .and_then(|m| m.parse().ok())
        .unwrap_or(mac);
    (mac, effective)
}

fn carrier(iface: &str) -> bool {
    std::fs::read_to_string(format!("/sys/class/net/{iface}/carrier"))
        .is_ok_and(|s| s.trim() == "1")
}

/// Opens the port's endpoint; a missing interface (a VM not running yet) is
/// not an error, it is retried.
fn open_endpoint(e: &mut PortEntry) {
    let result = match e.spec.as_ref().map(|s| s.kind) {
        None => PacketSocket::bind(&e.iface, true).map(Endpoint::Packet),
        Some(PortKind::Vm) => PacketSocket::bind(&e.iface, false).map(Endpoint::Packet),
        Some(PortKind::Vmk) => Tap::open(&e.iface).and_then(|t| {
            let mac = e.spec.as_ref().map(|s| s.mac.clone()).unwrap_or_default();
            set_link(
                &e.iface,
                &["address", &mac, "mtu", &e.mtu.to_string(), "up"],
            )?;
            Ok(Endpoint::Tap(t))
        }),
    };
    match result {
        Ok(ep) => {
            if e.spec.as_ref().is_none_or(|s| s.kind == PortKind::Vm) {
                // A switch port, not an interface of the host: the host's
                // own IPv6 chatter must not leak into it.
                let _ = std::fs::write(
                    format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", e.iface),
                    "1",
                );
            }
            if e.spec.as_ref().is_none_or(|s| s.kind == PortKind::Vm) {
                let _ = set_link(&e.iface, &["mtu", &e.mtu.to_string(), "up"]);
            }
            if e.error.take().is_some() {
                tracing::info!(port = %e.key, iface = %e.iface, "port connected");
            }
            e.endpoint = Some(ep);
        }
        Err(err) => {
            let msg = err.to_string();
            if e.error.as_deref() != Some(&msg) {
                tracing::debug!(port = %e.key, iface = %e.iface, "port not connected: {msg}");
                e.error = Some(msg);
            }
        }
    }
}

/// `ip link set dev IFACE ...`.
fn set_link(iface: &str, settings: &[&str]) -> std::io::Result<()> {
    let st = std::process::Command::new("ip")
        .args(["link", "set", "dev", iface])
        .args(settings)
        .stderr(std::process::Stdio::null())
        .status()?;
    if !st.success() {
        return Err(std::io::Error::other(format!(
            "ip link set dev {iface} {}: failed",
            settings.join(" ")
        )));
    }
    Ok(())
}

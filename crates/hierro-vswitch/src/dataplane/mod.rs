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

mod capture;
mod config;
mod endpoint;
mod mirror;
mod stats;

use capture::record;
use capture::Capture;
use endpoint::{carrier, open_endpoint, set_link};

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
        self.end_captures(now);
    }
}

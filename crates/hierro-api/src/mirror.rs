//! Port mirroring sessions (vSphere's distributed port mirroring, on
//! standard switches too): copies of chosen ports' frames to other ports
//! (SPAN), to a VLAN on uplinks (RSPAN) or to an IP address in GRE
//! (ERSPAN). A mirror never changes what the mirrored ports send or receive.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Which of a source port's frames a session copies, as the switch sees
/// them: ingress is what the port sends into the switch, egress what the
/// switch delivers to it.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MirrorDirection {
    Ingress,
    Egress,
    #[default]
    Both,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MirrorSource {
    /// A port key, as the port list shows it (`vm:<id>:0`, `vmk0`,
    /// `uplink:eth0`).
    pub port: String,
    #[serde(default)]
    pub direction: MirrorDirection,
}

/// The ERSPAN header a session writes (draft-foschiano-erspan).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub enum ErspanVersion {
    /// Type II: GRE protocol 0x88BE, an 8-byte header.
    #[default]
    #[serde(rename = "type2")]
    TypeII,
    /// Type III: GRE protocol 0x22EB, a 12-byte header with a timestamp
    /// and the frame's direction.
    #[serde(rename = "type3")]
    TypeIII,
}

/// Where a session's copies go.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum MirrorDestination {
    /// SPAN: ports of the same switch.
    Ports { ports: Vec<String> },
    /// RSPAN source: out of these uplinks, tagged with this VLAN (the
    /// frame's own tag replaced), for a switch elsewhere to pick up.
    Rspan { vlan: u16, uplinks: Vec<String> },
    /// ERSPAN: in GRE to this IPv4 address, sent from a VMkernel port of
    /// the switch (the host's stack routes it and resolves the address).
    Erspan {
        #[schema(value_type = String, format = Ipv4)]
        address: std::net::Ipv4Addr,
        #[serde(default)]
        version: ErspanVersion,
        /// 0 to 1023.
        session_id: u16,
        /// The VMkernel port it leaves from (`vmk1`).
        vmknic: String,
    },
}

/// A port mirroring session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MirrorSession {
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    pub vswitch: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The ports whose frames are copied.
    #[serde(default)]
    pub sources: Vec<MirrorSource>,
    /// RSPAN destination: frames tagged with this VLAN that arrive on the
    /// switch's uplinks are copied, untagged (to `ports` destinations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 4094)]
    pub source_vlan: Option<u16>,
    pub destination: MirrorDestination,
    /// Copy at most this many bytes of each frame (vSphere's mirrored
    /// packet length); none: whole frames.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snap_length: Option<u16>,
    /// Copy one frame in this many (1: every frame).
    #[serde(default = "one")]
    pub sampling_rate: u32,
    /// Whether the destination ports may send frames of their own into the
    /// switch (vSphere's "normal I/O on destination ports"); off, what
    /// they send is dropped, so a capture box cannot talk.
    #[serde(default)]
    pub allow_normal_io: bool,
}

impl MirrorSession {
    /// Every port key the session names: sources and destination ports.
    pub fn ports(&self) -> impl Iterator<Item = &str> {
        let to: &[String] = match &self.destination {
            MirrorDestination::Ports { ports } => ports,
            _ => &[],
        };
        self.sources
            .iter()
            .map(|s| s.port.as_str())
            .chain(to.iter().map(String::as_str))
    }
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

/// What a session has copied, and what it could not send.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct MirrorStats {
    pub name: String,
    pub frames: u64,
    pub bytes: u64,
    pub dropped: u64,
}

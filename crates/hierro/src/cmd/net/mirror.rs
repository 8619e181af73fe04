//! `hierro host net mirror ...`: port mirroring sessions (SPAN, RSPAN,
//! ERSPAN), on a host's standard switches (and, through `hierro dvs`, on
//! distributed ones).

use clap::{Args, Subcommand};
use hierro_api::{
    ErspanVersion, HostNetwork, MirrorDestination, MirrorDirection, MirrorSession, MirrorSource,
};
use hierro_client::Client;

#[derive(Subcommand)]
pub enum MirrorCmd {
    Add {
        name: String,
        #[command(flatten)]
        spec: MirrorArgs,
    },
    Enable {
        name: String,
    },
    Disable {
        name: String,
    },
    Rm {
        name: String,
    },
}

/// One session: its sources, and one destination (--to-port, --rspan-vlan
/// or --erspan).
#[derive(Args)]
pub struct MirrorArgs {
    #[arg(long, default_value = "vSwitch0")]
    vswitch: String,
    /// A source port, as `host net ports` shows it (a VM's may name the VM:
    /// `vm:NAME:0`), optionally ending in :ingress, :egress or :both (the
    /// default); repeat for more.
    #[arg(long = "source")]
    sources: Vec<String>,
    /// RSPAN destination session: the frames of this VLAN that arrive on
    /// the uplinks, delivered untagged to --to-port.
    #[arg(long)]
    source_vlan: Option<u16>,
    /// SPAN: a destination port (`vm:NAME:0` too); repeat for more.
    #[arg(long = "to-port")]
    to_ports: Vec<String>,
    /// RSPAN: the VLAN the copies leave tagged with...
    #[arg(long)]
    rspan_vlan: Option<u16>,
    /// ...out of this uplink; repeat for more.
    #[arg(long)]
    rspan_uplink: Vec<String>,
    /// ERSPAN: the collector's IPv4 address...
    #[arg(long)]
    erspan: Option<std::net::Ipv4Addr>,
    /// ...the ERSPAN type, 2 or 3...
    #[arg(long, default_value_t = 2)]
    erspan_type: u8,
    /// ...the session id (0 to 1023)...
    #[arg(long, default_value_t = 0)]
    session_id: u16,
    /// ...and the VMkernel port the copies leave from.
    #[arg(long)]
    vmknic: Option<String>,
    /// Copy at most this many bytes of each frame.
    #[arg(long)]
    snap_length: Option<u16>,
    /// Copy one frame in this many.
    #[arg(long, default_value_t = 1)]
    sampling_rate: u32,
    /// Let the destination ports send frames of their own.
    #[arg(long)]
    allow_normal_io: bool,
    /// Add the session turned off.
    #[arg(long)]
    disabled: bool,
}

impl MirrorArgs {
    pub(crate) fn session(self, name: String) -> anyhow::Result<MirrorSession> {
        let sources = self
            .sources
            .iter()
            .map(|s| {
                let (port, direction) = match s.rsplit_once(':') {
                    Some((p, "ingress")) => (p, MirrorDirection::Ingress),
                    Some((p, "egress")) => (p, MirrorDirection::Egress),
                    Some((p, "both")) => (p, MirrorDirection::Both),
                    _ => (s.as_str(), MirrorDirection::Both),
                };
                MirrorSource {
                    port: port.to_string(),
                    direction,
                }
            })
            .collect();
        let destination = match (self.to_ports.is_empty(), self.rspan_vlan, self.erspan) {
            (false, None, None) => MirrorDestination::Ports {
                ports: self.to_ports,
            },
            (true, Some(vlan), None) => MirrorDestination::Rspan {
                vlan,
                uplinks: self.rspan_uplink,
            },
            (true, None, Some(address)) => MirrorDestination::Erspan {
                address,
                version: match self.erspan_type {
                    2 => ErspanVersion::TypeII,
                    3 => ErspanVersion::TypeIII,
                    n => anyhow::bail!("the ERSPAN type is 2 or 3, not {n}"),
                },
                session_id: self.session_id,
                vmknic: self
                    .vmknic
                    .ok_or_else(|| anyhow::anyhow!("ERSPAN needs --vmknic"))?,
            },
            _ => anyhow::bail!("give one destination: --to-port, --rspan-vlan or --erspan"),
        };
        Ok(MirrorSession {
            name,
            vswitch: self.vswitch,
            enabled: !self.disabled,
            sources,
            source_vlan: self.source_vlan,
            destination,
            snap_length: self.snap_length,
            sampling_rate: self.sampling_rate,
            allow_normal_io: self.allow_normal_io,
        })
    }
}

pub(super) async fn run(cmd: MirrorCmd, client: &Client) -> anyhow::Result<HostNetwork> {
    Ok(match cmd {
        MirrorCmd::Add { name, spec } => {
            let mut session = spec.session(name)?;
            name_vm_ports(&mut session, client).await?;
            client.add_mirror(&session).await?
        }
        MirrorCmd::Enable { name } => set_enabled(client, &name, true).await?,
        MirrorCmd::Disable { name } => set_enabled(client, &name, false).await?,
        MirrorCmd::Rm { name } => client.remove_mirror(&name).await?,
    })
}

async fn set_enabled(
    client: &hierro_client::Client,
    name: &str,
    enabled: bool,
) -> anyhow::Result<HostNetwork> {
    let mut m = client
        .network()
        .await?
        .mirrors
        .into_iter()
        .find(|m| m.name == name)
        .ok_or_else(|| anyhow::anyhow!("no mirror session {name:?}"))?;
    m.enabled = enabled;
    Ok(client.set_mirror(&m).await?)
}

/// Puts VMs' ids in place of their names in a session's ports
/// (`vm:web1:0` becomes `vm:<id>:0`), from the VMs a host or the center
/// lists (both answer `GET /api/vms`).
pub(crate) async fn name_vm_ports(
    session: &mut MirrorSession,
    client: &hierro_client::Client,
) -> anyhow::Result<()> {
    let vms: Vec<(uuid::Uuid, String)> = client
        .vms()
        .await?
        .into_iter()
        .map(|v| (v.id, v.config.name))
        .collect();
    let resolve = |port: &mut String| -> anyhow::Result<()> {
        let Some((vm, nic)) = port
            .strip_prefix("vm:")
            .and_then(|rest| rest.rsplit_once(':'))
        else {
            return Ok(());
        };
        if vm.parse::<uuid::Uuid>().is_ok() {
            return Ok(());
        }
        let ids: Vec<_> = vms.iter().filter(|(_, n)| n == vm).collect();
        match ids[..] {
            [(id, _)] => {
                *port = format!("vm:{id}:{nic}");
                Ok(())
            }
            [] => anyhow::bail!("port {port:?}: no VM named {vm:?}"),
            _ => anyhow::bail!("port {port:?}: more than one VM is named {vm:?}: give its id"),
        }
    };
    for s in &mut session.sources {
        resolve(&mut s.port)?;
    }
    if let MirrorDestination::Ports { ports } = &mut session.destination {
        for p in ports {
            resolve(p)?;
        }
    }
    Ok(())
}

/// One line for a mirror session: its state, sources and destination.
pub(super) fn mirror_line(m: &MirrorSession) -> String {
    let sources: Vec<String> = m
        .sources
        .iter()
        .map(|s| {
            format!(
                "{} ({})",
                s.port,
                serde_json::json!(s.direction).as_str().unwrap_or("")
            )
        })
        .chain(m.source_vlan.map(|v| format!("VLAN {v} from the uplinks")))
        .collect();
    let to = match &m.destination {
        MirrorDestination::Ports { ports } => format!("SPAN to {}", ports.join(", ")),
        MirrorDestination::Rspan { vlan, uplinks } => {
            format!("RSPAN to VLAN {vlan} on {}", uplinks.join(", "))
        }
        MirrorDestination::Erspan {
            address,
            version,
            session_id,
            vmknic,
        } => format!(
            "ERSPAN {} session {session_id} to {address} from {vmknic}",
            serde_json::json!(version).as_str().unwrap_or("")
        ),
    };
    format!(
        "mirror {} ({}): {} -> {to}; snap {}, 1 in {}",
        m.name,
        if m.enabled { "enabled" } else { "disabled" },
        sources.join(", "),
        m.snap_length
            .map_or("whole frames".into(), |n| format!("{n} bytes")),
        m.sampling_rate
    )
}

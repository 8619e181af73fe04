//! `hierro host net ...`: standard switches, port groups, VMkernel ports,
//! port counters and captures (esxcli network / pktcap-uw).

use clap::{Args, Subcommand, ValueEnum};
use hierro_api::{
    CaptureRequest, ErspanVersion, FailoverOrder, FailureDetection, HostNetwork, LoadBalancing,
    MirrorDestination, MirrorDirection, MirrorSession, MirrorSource, PortGroup, SecurityOverride,
    SecurityPolicy, TeamingOverride, TeamingPolicy, VSwitch, VmkNic, VmkService,
};

use crate::output::Output;

#[derive(Subcommand)]
pub enum NetCmd {
    /// Show switches, port groups and VMkernel ports.
    Ls,
    #[command(subcommand)]
    Vswitch(VswitchCmd),
    #[command(subcommand)]
    Portgroup(PortgroupCmd),
    #[command(subcommand)]
    Vmknic(VmknicCmd),
    /// Port mirroring sessions (SPAN, RSPAN, ERSPAN).
    #[command(subcommand)]
    Mirror(MirrorCmd),
    /// Per-port counters (and drops by reason), and MACs learned on uplinks.
    Ports,
    /// Capture a port's frames to a pcap file (pktcap-uw).
    Capture {
        /// Port key, as `hierro host net ports` shows it.
        port: String,
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long, default_value_t = 100)]
        packets: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Setting {
    Accept,
    Reject,
    /// Port groups only: take the switch's setting.
    Inherit,
}

impl Setting {
    fn value(self) -> Option<bool> {
        match self {
            Setting::Accept => Some(true),
            Setting::Reject => Some(false),
            Setting::Inherit => None,
        }
    }
}

#[derive(Args)]
pub struct Policy {
    #[arg(long)]
    promiscuous: Option<Setting>,
    #[arg(long)]
    mac_changes: Option<Setting>,
    #[arg(long)]
    forged_transmits: Option<Setting>,
}

/// NIC teaming and failover (esxcli's `policy failover set`).
#[derive(Args)]
pub struct Teaming {
    #[arg(long, value_enum)]
    load_balancing: Option<Balancing>,
    /// Active uplinks, in order (comma-separated); with --standby, the
    /// switch's other uplinks are unused.
    #[arg(long, value_delimiter = ',')]
    active: Option<Vec<String>>,
    /// Standby uplinks, in order (comma-separated).
    #[arg(long, value_delimiter = ',')]
    standby: Option<Vec<String>>,
    #[arg(long, value_enum)]
    failure_detection: Option<Detection>,
    /// Send RARPs when a port's uplink changes (true or false).
    #[arg(long)]
    notify_switches: Option<bool>,
    /// A recovered active uplink takes its traffic back (true or false).
    #[arg(long)]
    failback: Option<bool>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Balancing {
    OriginatingPort,
    SourceMac,
    IpHash,
    FailoverOrder,
}

impl From<Balancing> for LoadBalancing {
    fn from(b: Balancing) -> Self {
        match b {
            Balancing::OriginatingPort => LoadBalancing::OriginatingPort,
            Balancing::SourceMac => LoadBalancing::SourceMac,
            Balancing::IpHash => LoadBalancing::IpHash,
            Balancing::FailoverOrder => LoadBalancing::FailoverOrder,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Detection {
    LinkStatus,
    BeaconProbing,
}

impl From<Detection> for FailureDetection {
    fn from(d: Detection) -> Self {
        match d {
            Detection::LinkStatus => FailureDetection::LinkStatus,
            Detection::BeaconProbing => FailureDetection::BeaconProbing,
        }
    }
}

impl Teaming {
    /// The failover order these flags give, if they give one: the active
    /// uplinks default to the switch's uplinks that are not standby.
    fn order(&self, uplinks: &[String]) -> Option<FailoverOrder> {
        if self.active.is_none() && self.standby.is_none() {
            return None;
        }
        let standby = self.standby.clone().unwrap_or_default();
        let active = self.active.clone().unwrap_or_else(|| {
            let rest = uplinks.iter().filter(|u| !standby.contains(u));
            rest.cloned().collect()
        });
        Some(FailoverOrder { active, standby })
    }

    pub(crate) fn switch(&self, mut t: TeamingPolicy, uplinks: &[String]) -> TeamingPolicy {
        t.load_balancing = self.load_balancing.map_or(t.load_balancing, Into::into);
        t.failover_order = self.order(uplinks).or(t.failover_order);
        t.failure_detection = self
            .failure_detection
            .map_or(t.failure_detection, Into::into);
        t.notify_switches = self.notify_switches.unwrap_or(t.notify_switches);
        t.failback = self.failback.unwrap_or(t.failback);
        t
    }

    pub(crate) fn group(&self, mut t: TeamingOverride, uplinks: &[String]) -> TeamingOverride {
        t.load_balancing = self.load_balancing.map(Into::into).or(t.load_balancing);
        t.failover_order = self.order(uplinks).or(t.failover_order);
        t.failure_detection = self
            .failure_detection
            .map(Into::into)
            .or(t.failure_detection);
        t.notify_switches = self.notify_switches.or(t.notify_switches);
        t.failback = self.failback.or(t.failback);
        t
    }
}

#[derive(Subcommand)]
pub enum VswitchCmd {
    Add {
        name: String,
        #[arg(long, default_value_t = 1500)]
        mtu: u16,
        /// A physical NIC; repeat for more (failover order).
        #[arg(long)]
        uplink: Vec<String>,
        #[command(flatten)]
        policy: Policy,
        #[command(flatten)]
        teaming: Teaming,
    },
    Set {
        name: String,
        #[arg(long)]
        mtu: Option<u16>,
        /// Replaces the uplinks when given.
        #[arg(long)]
        uplink: Vec<String>,
        #[command(flatten)]
        policy: Policy,
        #[command(flatten)]
        teaming: Teaming,
    },
    Rm {
        name: String,
    },
}

#[derive(Subcommand)]
pub enum PortgroupCmd {
    Add {
        name: String,
        #[arg(long)]
        vswitch: String,
        /// 0 none, 1-4094 tagged, 4095 trunk.
        #[arg(long, default_value_t = 0)]
        vlan: u16,
        #[command(flatten)]
        policy: Policy,
        #[command(flatten)]
        teaming: Teaming,
    },
    Set {
        name: String,
        #[arg(long)]
        vlan: Option<u16>,
        #[command(flatten)]
        policy: Policy,
        /// Drop every teaming override first: the switch's teaming applies.
        #[arg(long)]
        use_vswitch_teaming: bool,
        #[command(flatten)]
        teaming: Teaming,
    },
    Rm {
        name: String,
    },
}

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

#[derive(Subcommand)]
pub enum VmknicCmd {
    Add {
        name: String,
        #[arg(long)]
        portgroup: String,
        #[arg(long)]
        ip: Option<String>,
        #[arg(long)]
        mac: Option<String>,
        #[arg(long, value_enum)]
        service: Vec<Service>,
    },
    Rm {
        name: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Service {
    Management,
    Vmotion,
    FtLogging,
    IpStorage,
    Vsan,
}

impl From<Service> for VmkService {
    fn from(s: Service) -> Self {
        match s {
            Service::Management => VmkService::Management,
            Service::Vmotion => VmkService::Vmotion,
            Service::FtLogging => VmkService::FtLogging,
            Service::IpStorage => VmkService::IpStorage,
            Service::Vsan => VmkService::Vsan,
        }
    }
}

pub(crate) fn switch_policy(base: SecurityPolicy, p: &Policy) -> anyhow::Result<SecurityPolicy> {
    let pick = |s: Option<Setting>, now: bool| match s {
        Some(Setting::Inherit) => anyhow::bail!("a switch has no setting to inherit"),
        Some(s) => Ok(s.value().unwrap_or(now)),
        None => Ok(now),
    };
    Ok(SecurityPolicy {
        allow_promiscuous: pick(p.promiscuous, base.allow_promiscuous)?,
        allow_mac_changes: pick(p.mac_changes, base.allow_mac_changes)?,
        allow_forged_transmits: pick(p.forged_transmits, base.allow_forged_transmits)?,
    })
}

pub(crate) fn group_policy(base: SecurityOverride, p: &Policy) -> SecurityOverride {
    let pick = |s: Option<Setting>, now: Option<bool>| s.map(Setting::value).unwrap_or(now);
    SecurityOverride {
        allow_promiscuous: pick(p.promiscuous, base.allow_promiscuous),
        allow_mac_changes: pick(p.mac_changes, base.allow_mac_changes),
        allow_forged_transmits: pick(p.forged_transmits, base.allow_forged_transmits),
    }
}

pub async fn run(cmd: NetCmd, client: &hierro_client::Client, out: Output) -> anyhow::Result<()> {
    let net = match cmd {
        NetCmd::Ls => client.network().await?,
        NetCmd::Vswitch(VswitchCmd::Add {
            name,
            mtu,
            uplink,
            policy,
            teaming,
        }) => {
            let security = switch_policy(SecurityPolicy::STANDARD, &policy)?;
            client
                .add_vswitch(&VSwitch {
                    teaming: teaming.switch(TeamingPolicy::default(), &uplink),
                    name,
                    mtu,
                    uplinks: uplink,
                    security,
                })
                .await?
        }
        NetCmd::Vswitch(VswitchCmd::Set {
            name,
            mtu,
            uplink,
            policy,
            teaming,
        }) => {
            let mut v = client
                .network()
                .await?
                .vswitches
                .into_iter()
                .find(|v| v.name == name)
                .ok_or_else(|| anyhow::anyhow!("no vswitch {name:?}"))?;
            v.mtu = mtu.unwrap_or(v.mtu);
            if !uplink.is_empty() {
                v.uplinks = uplink;
            }
            v.security = switch_policy(v.security, &policy)?;
            v.teaming = teaming.switch(v.teaming, &v.uplinks);
            client.set_vswitch(&v).await?
        }
        NetCmd::Vswitch(VswitchCmd::Rm { name }) => client.remove_vswitch(&name).await?,
        NetCmd::Portgroup(PortgroupCmd::Add {
            name,
            vswitch,
            vlan,
            policy,
            teaming,
        }) => {
            let security = group_policy(SecurityOverride::default(), &policy);
            let uplinks = uplinks_of(&client.network().await?, &vswitch);
            client
                .add_portgroup(&PortGroup {
                    teaming: teaming.group(TeamingOverride::default(), &uplinks),
                    name,
                    vswitch,
                    vlan,
                    security,
                })
                .await?
        }
        NetCmd::Portgroup(PortgroupCmd::Set {
            name,
            vlan,
            policy,
            use_vswitch_teaming,
            teaming,
        }) => {
            let net = client.network().await?;
            let mut g = net
                .portgroups
                .iter()
                .find(|g| g.name == name)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("no port group {name:?}"))?;
            g.vlan = vlan.unwrap_or(g.vlan);
            g.security = group_policy(g.security, &policy);
            if use_vswitch_teaming {
                g.teaming = TeamingOverride::default();
            }
            g.teaming = teaming.group(g.teaming, &uplinks_of(&net, &g.vswitch));
            client.set_portgroup(&g).await?
        }
        NetCmd::Portgroup(PortgroupCmd::Rm { name }) => client.remove_portgroup(&name).await?,
        NetCmd::Vmknic(VmknicCmd::Add {
            name,
            portgroup,
            ip,
            mac,
            service,
        }) => {
            let services = service.into_iter().map(Into::into).collect();
            client
                .add_vmknic(&VmkNic {
                    name,
                    portgroup,
                    mac,
                    ip,
                    services,
                })
                .await?
        }
        NetCmd::Vmknic(VmknicCmd::Rm { name }) => client.remove_vmknic(&name).await?,
        NetCmd::Mirror(MirrorCmd::Add { name, spec }) => {
            let mut session = spec.session(name)?;
            name_vm_ports(&mut session, client).await?;
            client.add_mirror(&session).await?
        }
        NetCmd::Mirror(MirrorCmd::Enable { name }) => set_enabled(client, &name, true).await?,
        NetCmd::Mirror(MirrorCmd::Disable { name }) => set_enabled(client, &name, false).await?,
        NetCmd::Mirror(MirrorCmd::Rm { name }) => client.remove_mirror(&name).await?,
        NetCmd::Ports => {
            let list = client.ports().await?;
            out.show(
                &list,
                &[
                    "PORT",
                    "VSWITCH",
                    "PORTGROUP",
                    "UPLINK",
                    "IN",
                    "OUT",
                    "DROPS",
                ],
                |l| {
                    l.ports
                        .iter()
                        .map(|p| {
                            let c = &p.counters;
                            let drops = [
                                ("vlan", c.drop_vlan),
                                ("forged", c.drop_forged),
                                ("mac-change", c.drop_mac_change),
                                ("promiscuous", c.drop_promiscuous),
                                ("no-uplink", c.drop_no_uplink),
                                ("malformed", c.drop_malformed),
                                ("oversize", c.drop_oversize),
                            ]
                            .iter()
                            .filter(|(_, n)| *n > 0)
                            .map(|(k, n)| format!("{k} {n}"))
                            .collect::<Vec<_>>()
                            .join(", ");
                            vec![
                                p.port.clone(),
                                p.vswitch.clone(),
                                p.portgroup.clone().unwrap_or_default(),
                                // A local port's uplink now; an uplink's state.
                                match (&p.uplink, p.link_up) {
                                    (Some(u), _) => u.clone(),
                                    (None, Some(true)) => "up".into(),
                                    (None, Some(false)) => "failed".into(),
                                    (None, None) => "none".into(),
                                },
                                format!("{} pkts / {} B", c.in_packets, c.in_bytes),
                                format!("{} pkts / {} B", c.out_packets, c.out_bytes),
                                drops,
                            ]
                        })
                        .collect()
                },
            );
            if !out.json && !list.mirrors.is_empty() {
                out.show(
                    &list.mirrors,
                    &["MIRROR SESSION", "FRAMES", "BYTES", "DROPPED"],
                    |m| {
                        m.iter()
                            .map(|m| {
                                let n = [m.frames, m.bytes, m.dropped];
                                let mut row = vec![m.name.clone()];
                                row.extend(n.iter().map(u64::to_string));
                                row
                            })
                            .collect()
                    },
                );
            }
            return Ok(());
        }
        NetCmd::Capture {
            port,
            out: file,
            packets,
            seconds,
        } => {
            let pcap = client
                .capture(&CaptureRequest {
                    port,
                    packets,
                    seconds,
                })
                .await?;
            std::fs::write(&file, &pcap)?;
            eprintln!("wrote {} ({} bytes)", file.display(), pcap.len());
            return Ok(());
        }
    };
    show(&net, out);
    Ok(())
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

/// The uplinks of the switch of this name (none if there is no such
/// switch: the host then refuses the port group).
fn uplinks_of(net: &HostNetwork, vswitch: &str) -> Vec<String> {
    net.vswitches
        .iter()
        .find(|s| s.name == vswitch)
        .map(|s| s.uplinks.clone())
        .unwrap_or_default()
}

/// One line for a team: its policy and which uplinks do what.
fn teaming_line(t: &TeamingPolicy, uplinks: &[String]) -> String {
    let order = t.order(uplinks);
    let unused: Vec<&String> = uplinks
        .iter()
        .filter(|u| !order.active.contains(u) && !order.standby.contains(u))
        .collect();
    // As the API spells them: "originating_port", "beacon_probing".
    let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
    format!(
        "teaming {} / active [{}] standby [{}] unused [{}] / {} / notify switches {} / failback {}",
        name(serde_json::json!(t.load_balancing)),
        order.active.join(", "),
        order.standby.join(", "),
        unused
            .iter()
            .map(|u| u.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        name(serde_json::json!(t.failure_detection)),
        t.notify_switches,
        t.failback
    )
}

fn show(net: &HostNetwork, out: Output) {
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(net).expect("serializable")
        );
        return;
    }
    let yes = |b: bool| if b { "accept" } else { "reject" };
    for s in &net.vswitches {
        println!(
            "vswitch {}  mtu {}  uplinks [{}]  promiscuous {} / mac changes {} / forged transmits {}",
            s.name,
            s.mtu,
            s.uplinks.join(", "),
            yes(s.security.allow_promiscuous),
            yes(s.security.allow_mac_changes),
            yes(s.security.allow_forged_transmits)
        );
        println!("  {}", teaming_line(&s.teaming, &s.uplinks));
        for g in net.portgroups.iter().filter(|g| g.vswitch == s.name) {
            let p = s.security.with(&g.security);
            println!(
                "  port group {:24} vlan {:4}  promiscuous {} / mac changes {} / forged transmits {}",
                g.name,
                g.vlan,
                yes(p.allow_promiscuous),
                yes(p.allow_mac_changes),
                yes(p.allow_forged_transmits)
            );
            if g.teaming != TeamingOverride::default() {
                let t = s.teaming.with(&g.teaming);
                println!("    {}", teaming_line(&t, &s.uplinks));
            }
            for k in net.vmknics.iter().filter(|k| k.portgroup == g.name) {
                println!(
                    "    {} {} {}",
                    k.name,
                    k.mac.clone().unwrap_or_default(),
                    k.ip.clone().unwrap_or_default()
                );
            }
        }
        for m in net.mirrors.iter().filter(|m| m.vswitch == s.name) {
            println!("  {}", mirror_line(m));
        }
    }
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
fn mirror_line(m: &MirrorSession) -> String {
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

//! `hierro host net ...`: standard switches, port groups, VMkernel ports,
//! port counters and captures (esxcli network / pktcap-uw).

use clap::{Args, Subcommand, ValueEnum};
use hierro_api::{
    CaptureRequest, HostNetwork, PortGroup, SecurityOverride, SecurityPolicy, VSwitch, VmkNic,
    VmkService,
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
    },
    Set {
        name: String,
        #[arg(long)]
        vlan: Option<u16>,
        #[command(flatten)]
        policy: Policy,
    },
    Rm {
        name: String,
    },
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

fn switch_policy(base: SecurityPolicy, p: &Policy) -> anyhow::Result<SecurityPolicy> {
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

fn group_policy(base: SecurityOverride, p: &Policy) -> SecurityOverride {
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
        }) => {
            let security = switch_policy(SecurityPolicy::STANDARD, &policy)?;
            client
                .add_vswitch(&VSwitch {
                    teaming: Default::default(),
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
            client.set_vswitch(&v).await?
        }
        NetCmd::Vswitch(VswitchCmd::Rm { name }) => client.remove_vswitch(&name).await?,
        NetCmd::Portgroup(PortgroupCmd::Add {
            name,
            vswitch,
            vlan,
            policy,
        }) => {
            let security = group_policy(SecurityOverride::default(), &policy);
            client
                .add_portgroup(&PortGroup {
                    teaming: Default::default(),
                    name,
                    vswitch,
                    vlan,
                    security,
                })
                .await?
        }
        NetCmd::Portgroup(PortgroupCmd::Set { name, vlan, policy }) => {
            let mut g = client
                .network()
                .await?
                .portgroups
                .into_iter()
                .find(|g| g.name == name)
                .ok_or_else(|| anyhow::anyhow!("no port group {name:?}"))?;
            g.vlan = vlan.unwrap_or(g.vlan);
            g.security = group_policy(g.security, &policy);
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
        NetCmd::Ports => {
            let list = client.ports().await?;
            out.show(
                &list,
                &["PORT", "VSWITCH", "PORTGROUP", "IN", "OUT", "DROPS"],
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
                                format!("{} pkts / {} B", c.in_packets, c.in_bytes),
                                format!("{} pkts / {} B", c.out_packets, c.out_bytes),
                                drops,
                            ]
                        })
                        .collect()
                },
            );
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
            for k in net.vmknics.iter().filter(|k| k.portgroup == g.name) {
                println!(
                    "    {} {} {}",
                    k.name,
                    k.mac.clone().unwrap_or_default(),
                    k.ip.clone().unwrap_or_default()
                );
            }
        }
    }
}

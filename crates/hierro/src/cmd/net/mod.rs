//! `hierro host net ...`: standard switches, port groups, VMkernel ports,
//! mirror sessions, port counters and captures (esxcli network /
//! pktcap-uw); one file each.

mod mirror;
mod policy;
mod portgroup;
mod ports;
mod show;
mod vmknic;
mod vswitch;

use clap::Subcommand;

pub use mirror::MirrorCmd;
pub(crate) use mirror::{name_vm_ports, MirrorArgs};
pub(crate) use policy::{group_policy, switch_policy, Policy, Teaming};
pub use portgroup::PortgroupCmd;
pub use vmknic::VmknicCmd;
pub use vswitch::VswitchCmd;

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

pub async fn run(cmd: NetCmd, client: &hierro_client::Client, out: Output) -> anyhow::Result<()> {
    let net = match cmd {
        NetCmd::Ls => client.network().await?,
        NetCmd::Vswitch(cmd) => vswitch::run(cmd, client).await?,
        NetCmd::Portgroup(cmd) => portgroup::run(cmd, client).await?,
        NetCmd::Vmknic(cmd) => vmknic::run(cmd, client).await?,
        NetCmd::Mirror(cmd) => mirror::run(cmd, client).await?,
        NetCmd::Ports => return ports::show(client, out).await,
        NetCmd::Capture {
            port,
            out: file,
            packets,
            seconds,
        } => return ports::capture(client, port, &file, packets, seconds).await,
    };
    show::show(&net, out);
    Ok(())
}

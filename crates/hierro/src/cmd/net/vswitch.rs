//! `hierro host net vswitch ...`: standard switches.

use clap::Subcommand;
use hierro_api::{HostNetwork, SecurityPolicy, TeamingPolicy, VSwitch};
use hierro_client::Client;

use super::policy::{switch_policy, Policy, Teaming};

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

pub(super) async fn run(cmd: VswitchCmd, client: &Client) -> anyhow::Result<HostNetwork> {
    Ok(match cmd {
        VswitchCmd::Add {
            name,
            mtu,
            uplink,
            policy,
            teaming,
        } => {
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
        VswitchCmd::Set {
            name,
            mtu,
            uplink,
            policy,
            teaming,
        } => {
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
        VswitchCmd::Rm { name } => client.remove_vswitch(&name).await?,
    })
}

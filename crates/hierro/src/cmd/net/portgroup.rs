//! `hierro host net portgroup ...`: a host's standard port groups.

use clap::Subcommand;
use hierro_api::{HostNetwork, PortGroup, SecurityOverride, TeamingOverride};
use hierro_client::Client;

use super::policy::{group_policy, Policy, Teaming};

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

pub(super) async fn run(cmd: PortgroupCmd, client: &Client) -> anyhow::Result<HostNetwork> {
    Ok(match cmd {
        PortgroupCmd::Add {
            name,
            vswitch,
            vlan,
            policy,
            teaming,
        } => {
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
        PortgroupCmd::Set {
            name,
            vlan,
            policy,
            use_vswitch_teaming,
            teaming,
        } => {
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
        PortgroupCmd::Rm { name } => client.remove_portgroup(&name).await?,
    })
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

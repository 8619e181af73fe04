//! `hierro dvs ...`: distributed switches on the center (their port groups,
//! policies, teaming, mirror sessions and member hosts). Switches and hosts
//! are named by inventory id or by name.

use std::collections::BTreeMap;

use clap::Subcommand;
use hierro_api::{
    DistributedSwitch, DvPortGroup, DvsMember, InventoryObject, InventoryQuery, ObjectKind,
    SecurityOverride, SecurityPolicy, TeamingOverride,
};
use hierro_client::Client;

use super::find;

use super::net::{group_policy, switch_policy, MirrorArgs, Policy, Teaming};
use crate::output::Output;

#[derive(Subcommand)]
pub enum DvsCmd {
    /// Distributed switches: port groups and member hosts.
    Ls,
    Create {
        name: String,
        /// The datacenter (id or name).
        #[arg(long)]
        datacenter: String,
        /// How many uplink ports ("Uplink 1"...).
        #[arg(long, default_value_t = 2)]
        uplinks: u32,
        #[arg(long, default_value_t = 1500)]
        mtu: u16,
    },
    /// Change the switch's MTU, security policy or teaming.
    Set {
        dvs: String,
        #[arg(long)]
        mtu: Option<u16>,
        #[command(flatten)]
        policy: Policy,
        #[command(flatten)]
        teaming: Teaming,
    },
    Rm {
        dvs: String,
    },
    /// A host joins, giving NICs to the uplink ports.
    AddHost {
        dvs: String,
        host: String,
        /// `UPLINK=NIC`, as `--nic 'Uplink 1=eth2'`; repeat for more.
        #[arg(long = "nic")]
        nics: Vec<String>,
    },
    RemoveHost {
        dvs: String,
        host: String,
    },
    #[command(subcommand)]
    Portgroup(DvPortgroupCmd),
    #[command(subcommand)]
    Mirror(DvMirrorCmd),
}

#[derive(Subcommand)]
pub enum DvPortgroupCmd {
    Add {
        dvs: String,
        name: String,
        /// 0 none, 1-4094 tagged, 4095 trunk.
        #[arg(long, default_value_t = 0)]
        vlan: u16,
        #[command(flatten)]
        policy: Policy,
        #[command(flatten)]
        teaming: Teaming,
    },
    Rm {
        dvs: String,
        name: String,
    },
}

#[derive(Subcommand)]
pub enum DvMirrorCmd {
    Add {
        dvs: String,
        name: String,
        #[command(flatten)]
        spec: MirrorArgs,
    },
    Rm {
        dvs: String,
        name: String,
    },
}

/// Changes a switch's configuration as `f` says and sends it.
async fn change(
    c: &Client,
    dvs: &str,
    f: impl FnOnce(&mut DistributedSwitch) -> anyhow::Result<()>,
) -> anyhow::Result<InventoryObject> {
    let o = find(c, ObjectKind::DvSwitch, dvs).await?;
    let mut spec: DistributedSwitch = serde_json::from_value(o.data["spec"].clone())?;
    f(&mut spec)?;
    Ok(c.update_dvswitch(&o.id, &spec).await?)
}

pub async fn run(cmd: DvsCmd, c: &Client, out: Output) -> anyhow::Result<()> {
    let changed = match cmd {
        DvsCmd::Ls => {
            let q = InventoryQuery {
                kind: Some(ObjectKind::DvSwitch),
                name: None,
            };
            let list = c.inventory(&q).await?;
            out.show(&list, &["ID", "NAME", "PORT GROUPS", "HOSTS"], |rows| {
                rows.iter()
                    .map(|o| {
                        let groups = o.data["spec"]["portgroups"].as_array();
                        let names: Vec<String> = groups
                            .into_iter()
                            .flatten()
                            .map(|g| {
                                format!("{} (VLAN {})", g["name"].as_str().unwrap_or(""), g["vlan"])
                            })
                            .collect();
                        let hosts = o.data["members"].as_object().map_or(0, |m| m.len());
                        vec![
                            o.id.clone(),
                            o.name.clone(),
                            names.join(", "),
                            hosts.to_string(),
                        ]
                    })
                    .collect()
            });
            return Ok(());
        }
        DvsCmd::Create {
            name,
            datacenter,
            uplinks,
            mtu,
        } => {
            let dc = find(c, ObjectKind::Datacenter, &datacenter).await?;
            let spec = DistributedSwitch {
                name,
                mtu,
                uplinks: (1..=uplinks).map(|n| format!("Uplink {n}")).collect(),
                security: SecurityPolicy::DISTRIBUTED,
                teaming: Default::default(),
                portgroups: vec![],
                mirrors: vec![],
            };
            c.create_dvswitch(&dc.id, &spec).await?
        }
        DvsCmd::Set {
            dvs,
            mtu,
            policy,
            teaming,
        } => {
            change(c, &dvs, |s| {
                s.mtu = mtu.unwrap_or(s.mtu);
                s.security = switch_policy(s.security, &policy)?;
                s.teaming = teaming.switch(s.teaming.clone(), &s.uplinks);
                Ok(())
            })
            .await?
        }
        DvsCmd::Rm { dvs } => {
            let o = find(c, ObjectKind::DvSwitch, &dvs).await?;
            c.delete_dvswitch(&o.id).await?;
            eprintln!("deleted {dvs}");
            return Ok(());
        }
        DvsCmd::AddHost { dvs, host, nics } => {
            let mut map = BTreeMap::new();
            for n in nics {
                let (uplink, nic) = n
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("--nic {n:?}: give UPLINK=NIC"))?;
                map.insert(uplink.trim().to_string(), nic.trim().to_string());
            }
            let (d, h) = member(c, &dvs, &host).await?;
            c.dvswitch_add_host(&d, &h, &DvsMember { nics: map })
                .await?
        }
        DvsCmd::RemoveHost { dvs, host } => {
            let (d, h) = member(c, &dvs, &host).await?;
            c.dvswitch_remove_host(&d, &h).await?
        }
        DvsCmd::Portgroup(DvPortgroupCmd::Add {
            dvs,
            name,
            vlan,
            policy,
            teaming,
        }) => {
            change(c, &dvs, |s| {
                let uplinks = s.uplinks.clone();
                s.portgroups.push(DvPortGroup {
                    name,
                    vlan,
                    security: group_policy(SecurityOverride::default(), &policy),
                    teaming: teaming.group(TeamingOverride::default(), &uplinks),
                });
                Ok(())
            })
            .await?
        }
        DvsCmd::Portgroup(DvPortgroupCmd::Rm { dvs, name }) => {
            change(c, &dvs, |s| remove(&mut s.portgroups, &name, |g| &g.name)).await?
        }
        DvsCmd::Mirror(DvMirrorCmd::Add { dvs, name, spec }) => {
            let mut m = spec.session(name)?;
            super::net::name_vm_ports(&mut m, c).await?;
            change(c, &dvs, |s| {
                m.vswitch = s.name.clone();
                s.mirrors.push(m);
                Ok(())
            })
            .await?
        }
        DvsCmd::Mirror(DvMirrorCmd::Rm { dvs, name }) => {
            change(c, &dvs, |s| remove(&mut s.mirrors, &name, |m| &m.name)).await?
        }
    };
    out.show_fields(&changed, |o| {
        vec![
            ("id", o.id.clone()),
            ("name", o.name.clone()),
            ("hosts", o.data["members"].to_string()),
        ]
    });
    Ok(())
}

/// Takes the item of this name out of the list.
fn remove<T>(list: &mut Vec<T>, name: &str, name_of: impl Fn(&T) -> &String) -> anyhow::Result<()> {
    let before = list.len();
    list.retain(|x| name_of(x) != name);
    anyhow::ensure!(list.len() < before, "no {name:?} here");
    Ok(())
}

/// The switch's and the host's ids, by id or name.
async fn member(c: &Client, dvs: &str, host: &str) -> anyhow::Result<(String, String)> {
    let d = find(c, ObjectKind::DvSwitch, dvs).await?;
    let h = find(c, ObjectKind::Host, host).await?;
    Ok((d.id, h.id))
}

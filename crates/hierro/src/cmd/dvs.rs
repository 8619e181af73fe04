//! `hierro dvs ...`: distributed switches on the center (their port groups,
//! policies, teaming, mirror sessions and member hosts). Switches and hosts
//! are named by inventory id or by name.

use std::collections::BTreeMap;

use clap::Subcommand;
use hierro_api::{
    DistributedSwitch, DvPortGroup, SecurityOverride, SecurityPolicy, TeamingOverride,
};
use hierro_client::Client;
use reqwest::Method;
use serde_json::{json, Value};

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

/// An object of `kind` by id, or else by name.
pub(crate) async fn find(c: &Client, kind: &str, key: &str) -> anyhow::Result<Value> {
    let by_id = c
        .call_json(Method::GET, &format!("/api/inventory/{key}"), None)
        .await;
    if let Ok(o) = by_id {
        if o["kind"] == kind {
            return Ok(o);
        }
    }
    let path = format!(
        "/api/inventory?kind={kind}&name={}",
        hierro_client::enc(key)
    );
    let found = c.call_json(Method::GET, &path, None).await?;
    // The search matches parts of names: only the whole name counts.
    let named: Vec<&Value> = found
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["name"] == key)
        .collect();
    match named[..] {
        [one] => Ok(one.clone()),
        [] => anyhow::bail!("no {kind} {key:?}"),
        _ => anyhow::bail!("more than one {kind} is named {key:?}: give its id"),
    }
}

/// Changes a switch's configuration as `f` says and sends it.
async fn change(
    c: &Client,
    dvs: &str,
    f: impl FnOnce(&mut DistributedSwitch) -> anyhow::Result<()>,
) -> anyhow::Result<Value> {
    let o = find(c, "dvswitch", dvs).await?;
    let mut spec: DistributedSwitch = serde_json::from_value(o["data"]["spec"].clone())?;
    f(&mut spec)?;
    let id = o["id"].as_str().unwrap_or_default();
    let path = format!("/api/dvswitches/{id}");
    Ok(c.call_json(Method::PUT, &path, Some(&json!(spec))).await?)
}

pub async fn run(cmd: DvsCmd, c: &Client, out: Output) -> anyhow::Result<()> {
    let changed = match cmd {
        DvsCmd::Ls => {
            let list = c
                .call_json(Method::GET, "/api/inventory?kind=dvswitch", None)
                .await?;
            out.show(&list, &["ID", "NAME", "PORT GROUPS", "HOSTS"], |l| {
                let rows = l.as_array().map(Vec::as_slice).unwrap_or_default();
                rows.iter()
                    .map(|o| {
                        let groups = o["data"]["spec"]["portgroups"].as_array();
                        let names: Vec<String> = groups
                            .into_iter()
                            .flatten()
                            .map(|g| {
                                format!("{} (VLAN {})", g["name"].as_str().unwrap_or(""), g["vlan"])
                            })
                            .collect();
                        let hosts = o["data"]["members"].as_object().map_or(0, |m| m.len());
                        vec![
                            o["id"].as_str().unwrap_or("").into(),
                            o["name"].as_str().unwrap_or("").into(),
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
            let dc = find(c, "datacenter", &datacenter).await?;
            let spec = DistributedSwitch {
                name,
                mtu,
                uplinks: (1..=uplinks).map(|n| format!("Uplink {n}")).collect(),
                security: SecurityPolicy::DISTRIBUTED,
                teaming: Default::default(),
                portgroups: vec![],
                mirrors: vec![],
            };
            let path = format!(
                "/api/dvswitches?datacenter={}",
                dc["id"].as_str().unwrap_or("")
            );
            c.call_json(Method::POST, &path, Some(&json!(spec))).await?
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
            let o = find(c, "dvswitch", &dvs).await?;
            let path = format!("/api/dvswitches/{}", o["id"].as_str().unwrap_or(""));
            c.call_json(Method::DELETE, &path, None).await?;
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
            member(c, &dvs, &host, Method::PUT, Some(json!({"nics": map}))).await?
        }
        DvsCmd::RemoveHost { dvs, host } => member(c, &dvs, &host, Method::DELETE, None).await?,
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
            ("id", o["id"].as_str().unwrap_or("").into()),
            ("name", o["name"].as_str().unwrap_or("").into()),
            ("hosts", o["data"]["members"].to_string()),
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

/// Adds (PUT) or removes (DELETE) a member host.
async fn member(
    c: &Client,
    dvs: &str,
    host: &str,
    method: Method,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let d = find(c, "dvswitch", dvs).await?;
    let h = find(c, "host", host).await?;
    let path = format!(
        "/api/dvswitches/{}/hosts/{}",
        d["id"].as_str().unwrap_or(""),
        h["id"].as_str().unwrap_or("")
    );
    Ok(c.call_json(method, &path, body.as_ref()).await?)
}

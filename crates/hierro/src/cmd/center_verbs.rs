//! Client verbs for the center: inventory, users, roles, permissions, and
//! adding hosts. (Tasks and events use `hierro task` / `hierro event`, which
//! work against a host or a center alike.)

use clap::Subcommand;
use hierro_api::{
    AddHost, EffectiveQuery, InventoryCreate, InventoryObject, InventoryQuery, Maintenance,
    NewGroup, NewUser, ObjectKind, Permission, PermissionKey, PermissionQuery, Principal,
    Reconnect, RoleSpec, TokenRequest,
};
use hierro_client::Client;

use crate::output::Output;

#[derive(Subcommand)]
pub enum InventoryCmd {
    /// Objects you may see, optionally of one kind or matching a name.
    Ls {
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Make a folder, datacenter or cluster.
    Mk {
        kind: String,
        name: String,
        #[arg(long, default_value = "root")]
        parent: String,
    },
}

#[derive(Subcommand)]
pub enum UserCmd {
    Ls,
    Add {
        name: String,
        /// (Not --password: that one logs you in.)
        #[arg(long, env = "HIERRO_NEW_PASSWORD")]
        new_password: String,
        #[arg(long, default_value = "")]
        full_name: String,
    },
    /// Delete a user (its sessions, tokens and permissions go with it).
    Rm {
        name: String,
    },
}

#[derive(Subcommand)]
pub enum GroupCmd {
    Ls,
    Add {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    Rm {
        name: String,
    },
    /// Put a user in a group.
    Join {
        group: String,
        user: String,
    },
    /// Take a user out of a group.
    Leave {
        group: String,
        user: String,
    },
}

#[derive(Subcommand)]
pub enum TokenCmd {
    /// Your API tokens (everyone's with Global.Settings on the root).
    Ls,
    /// Make an API token for scripts; it is printed once.
    Add {
        name: String,
        /// Days until it expires; never when absent.
        #[arg(long)]
        valid_days: Option<u32>,
    },
    /// Revoke a token by id.
    Rm { id: String },
}

#[derive(Subcommand)]
pub enum RoleCmd {
    Ls,
    Add {
        name: String,
        /// A privilege id (`VirtualMachine.Interact.PowerOn`); repeat for more.
        #[arg(long)]
        privilege: Vec<String>,
    },
    /// Replace a custom role's privileges.
    Set {
        id: String,
        #[arg(long)]
        privilege: Vec<String>,
    },
    /// Delete a custom role no permission uses.
    Rm {
        id: String,
    },
}

#[derive(Subcommand)]
pub enum PermissionCmd {
    /// The permissions set on an object.
    Ls {
        #[arg(long, default_value = "root")]
        object: String,
    },
    /// Give a user or group a role on an object (replacing its earlier one there).
    Set {
        #[arg(long)]
        object: String,
        /// `user:NAME` or `group:NAME`.
        #[arg(long)]
        principal: String,
        /// Role id (`administrator`, `read-only`, `no-access`, or a custom role's id).
        #[arg(long)]
        role: String,
        /// Apply to the object only, not its subtree.
        #[arg(long)]
        no_propagate: bool,
    },
    /// Remove a principal's permission on an object.
    Rm {
        #[arg(long)]
        object: String,
        /// `user:NAME` or `group:NAME`.
        #[arg(long)]
        principal: String,
    },
    /// What a principal (you, by default) may do on an object, and which permission decided it.
    Check {
        #[arg(long)]
        object: String,
        #[arg(long)]
        principal: Option<String>,
    },
}

fn s<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn kind(k: &str) -> anyhow::Result<ObjectKind> {
    ObjectKind::parse(k).ok_or_else(|| {
        anyhow::anyhow!("kind {k:?} must be folder, datacenter, cluster, host, vm, datastore, network or dvswitch")
    })
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub async fn inventory(cmd: InventoryCmd, c: &Client, out: Output) -> anyhow::Result<()> {
    let objects = match cmd {
        InventoryCmd::Ls { kind: k, name } => {
            let kind = k.as_deref().map(kind).transpose()?;
            c.inventory(&InventoryQuery { kind, name }).await?
        }
        InventoryCmd::Mk {
            kind: k,
            name,
            parent,
        } => {
            let kind = kind(&k)?;
            vec![
                c.inventory_create(&InventoryCreate { kind, name, parent })
                    .await?,
            ]
        }
    };
    out.show(
        &objects,
        &["ID", "KIND", "NAME", "PARENT", "STATE"],
        |list| {
            list.iter()
                .map(|o| {
                    vec![
                        o.id.clone(),
                        o.kind.as_str().into(),
                        o.name.clone(),
                        s(o.parent.as_ref()),
                        text(&o.data["state"]),
                    ]
                })
                .collect()
        },
    );
    Ok(())
}

pub async fn user(cmd: UserCmd, c: &Client, out: Output) -> anyhow::Result<()> {
    let users = match cmd {
        UserCmd::Ls => c.users().await?,
        UserCmd::Add {
            name,
            new_password: password,
            full_name,
        } => vec![
            c.create_user(&NewUser {
                name,
                password,
                full_name,
            })
            .await?,
        ],
        UserCmd::Rm { name } => return Ok(c.delete_user(&name).await?),
    };
    out.show(
        &users,
        &["NAME", "FULL NAME", "GROUPS", "DISABLED"],
        |list| {
            list.iter()
                .map(|u| {
                    vec![
                        u.name.clone(),
                        u.full_name.clone(),
                        u.groups.join(" "),
                        u.disabled.to_string(),
                    ]
                })
                .collect()
        },
    );
    Ok(())
}

pub async fn role(cmd: RoleCmd, c: &Client, out: Output) -> anyhow::Result<()> {
    let roles = match cmd {
        RoleCmd::Ls => c.roles().await?,
        RoleCmd::Add { name, privilege } => {
            let spec = RoleSpec {
                name,
                privileges: privilege.into_iter().collect(),
            };
            vec![c.create_role(&spec).await?]
        }
        RoleCmd::Set { id, privilege } => {
            let spec = RoleSpec {
                name: String::new(),
                privileges: privilege.into_iter().collect(),
            };
            vec![c.update_role(&id, &spec).await?]
        }
        RoleCmd::Rm { id } => return Ok(c.delete_role(&id).await?),
    };
    out.show(&roles, &["ID", "NAME", "SYSTEM", "PRIVILEGES"], |list| {
        list.iter()
            .map(|r| {
                let n = r.privileges.len();
                vec![
                    r.id.clone(),
                    r.name.clone(),
                    r.system.to_string(),
                    n.to_string(),
                ]
            })
            .collect()
    });
    Ok(())
}

pub async fn permission(cmd: PermissionCmd, c: &Client, out: Output) -> anyhow::Result<()> {
    let principal = |p: &str| p.parse::<Principal>().map_err(anyhow::Error::msg);
    match cmd {
        PermissionCmd::Ls { object } => {
            let q = PermissionQuery {
                object: Some(object),
                all: false,
            };
            let list = c.permissions(&q).await?;
            out.show(
                &list,
                &["PRINCIPAL", "ROLE", "OBJECT", "PROPAGATE"],
                |list| {
                    list.iter()
                        .map(|p| {
                            vec![
                                p.principal.key(),
                                p.role.clone(),
                                p.object.clone(),
                                p.propagate.to_string(),
                            ]
                        })
                        .collect()
                },
            );
        }
        PermissionCmd::Set {
            object,
            principal: p,
            role,
            no_propagate,
        } => {
            let permission = Permission {
                principal: principal(&p)?,
                role,
                object,
                propagate: !no_propagate,
            };
            c.set_permission(&permission).await?;
        }
        PermissionCmd::Rm {
            object,
            principal: p,
        } => {
            let principal = principal(&p)?.key();
            c.remove_permission(&PermissionKey { principal, object })
                .await?;
        }
        PermissionCmd::Check {
            object,
            principal: p,
        } => {
            let principal = p.as_deref().map(principal).transpose()?;
            let q = EffectiveQuery {
                object,
                principal: principal.map(|p| p.key()),
            };
            let e = c.effective(&q).await?;
            out.show_fields(&e, |e| {
                let by: Vec<String> = e
                    .decision
                    .permissions
                    .iter()
                    .map(|r| format!("{} as {} on {}", r.principal, r.role, r.object))
                    .collect();
                let privileges: Vec<&str> =
                    e.decision.privileges.iter().map(|p| p.as_str()).collect();
                vec![
                    ("principal", e.principal.to_string()),
                    ("object", e.object.clone()),
                    ("decided at", s(e.decision.decided_at.as_ref())),
                    ("no access", e.decision.no_access.to_string()),
                    ("by", by.join("; ")),
                    ("privileges", privileges.join(" ")),
                ]
            });
        }
    }
    Ok(())
}

pub async fn group(cmd: GroupCmd, c: &Client, out: Output) -> anyhow::Result<()> {
    match cmd {
        GroupCmd::Ls => {
            let groups = c.groups().await?;
            out.show(&groups, &["NAME", "MEMBERS"], |list| {
                list.iter()
                    .map(|g| vec![g.name.clone(), g.members.join(" ")])
                    .collect()
            });
        }
        GroupCmd::Add { name, description } => {
            c.create_group(&NewGroup { name, description }).await?;
        }
        GroupCmd::Rm { name } => c.delete_group(&name).await?,
        GroupCmd::Join { group, user } => c.add_member(&group, &user).await?,
        GroupCmd::Leave { group, user } => c.remove_member(&group, &user).await?,
    }
    Ok(())
}

pub async fn token(cmd: TokenCmd, c: &Client, out: Output) -> anyhow::Result<()> {
    let tokens = match cmd {
        TokenCmd::Ls => c.api_tokens().await?,
        TokenCmd::Add { name, valid_days } => {
            let made = c
                .create_api_token(&TokenRequest { name, valid_days })
                .await?;
            if !out.json {
                println!(
                    "token {} (shown once; send it as the hierro-session header)",
                    made.token
                );
            }
            vec![made.record]
        }
        TokenCmd::Rm { id } => return Ok(c.revoke_api_token(&id).await?),
    };
    out.show(
        &tokens,
        &["ID", "USER", "NAME", "EXPIRES", "LAST USED"],
        |list| {
            list.iter()
                .map(|t| {
                    vec![
                        t.id.clone(),
                        t.username.clone(),
                        t.name.clone(),
                        s(t.expires.as_ref()),
                        s(t.last_used.as_ref()),
                    ]
                })
                .collect()
        },
    );
    Ok(())
}

/// `hierro host ...` verbs that act through the center.
pub async fn host(c: &Client, cmd: super::host::HostCmd, out: Output) -> anyhow::Result<()> {
    use super::host::HostCmd;
    let show = |h: &InventoryObject| {
        vec![
            ("id", h.id.clone()),
            ("name", h.name.clone()),
            ("address", text(&h.data["address"])),
            ("state", text(&h.data["state"])),
            ("lockdown", text(&h.data["lockdown"])),
            ("reason", text(&h.data["state_reason"])),
        ]
    };
    match cmd {
        HostCmd::Add {
            address,
            parent,
            host_user,
            host_password,
            host_thumbprint,
            lockdown,
            force,
        } => {
            // Without a thumbprint the center answers with the one to confirm.
            let req = AddHost {
                address,
                username: host_user,
                password: host_password,
                thumbprint: host_thumbprint,
                parent,
                lockdown,
                force,
            };
            let host = c.add_host(&req).await?;
            out.show_fields(&host, show);
        }
        HostCmd::Ls => {
            let q = InventoryQuery {
                kind: Some(ObjectKind::Host),
                name: None,
            };
            let hosts = c.inventory(&q).await?;
            let header = ["ID", "NAME", "ADDRESS", "STATE", "LOCKDOWN", "REASON"];
            out.show(&hosts, &header, |list| {
                list.iter()
                    .map(|h| show(h).into_iter().map(|(_, v)| v).collect())
                    .collect()
            });
        }
        HostCmd::Disconnect { id } => c.disconnect_host(&id).await?,
        HostCmd::Reconnect {
            id,
            host_user,
            host_password,
            host_thumbprint,
        } => {
            let req = Reconnect {
                username: host_user,
                password: host_password,
                thumbprint: host_thumbprint,
            };
            c.reconnect_host(&id, &req).await?;
        }
        HostCmd::Remove { id } => c.remove_host(&id).await?,
        HostCmd::Lockdown { id, mode } => c.host_lockdown(&id, mode == "on").await?,
        HostCmd::Maintenance {
            id,
            mode,
            move_powered_off,
        } => {
            let req = Maintenance {
                enabled: mode == "on",
                move_powered_off,
            };
            let task = c.host_maintenance(&id, &req).await?;
            crate::output::wait_task(c, task, out).await?;
        }
        _ => unreachable!("not a center verb"),
    }
    Ok(())
}

//! Client verbs for the center: inventory, users, roles, permissions, and
//! adding hosts. (Tasks and events use `hierro task` / `hierro event`, which
//! work against a host or a center alike.)

use clap::Subcommand;
use reqwest::Method;
use serde_json::{json, Value};

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

fn principal(p: &str) -> anyhow::Result<Value> {
    match p.split_once(':') {
        Some(("user", n)) => Ok(json!({ "user": n })),
        Some(("group", n)) => Ok(json!({ "group": n })),
        _ => anyhow::bail!("principal {p:?} must be user:NAME or group:NAME"),
    }
}

async fn call(
    c: &hierro_client::Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    Ok(c.call_json(method, path, body.as_ref()).await?)
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub async fn inventory(
    cmd: InventoryCmd,
    c: &hierro_client::Client,
    out: Output,
) -> anyhow::Result<()> {
    let v = match cmd {
        InventoryCmd::Ls { kind, name } => {
            let mut q = vec![];
            if let Some(k) = kind {
                q.push(format!("kind={k}"));
            }
            if let Some(n) = name {
                q.push(format!("name={n}"));
            }
            call(
                c,
                Method::GET,
                &format!("/api/inventory?{}", q.join("&")),
                None,
            )
            .await?
        }
        InventoryCmd::Mk { kind, name, parent } => {
            let obj = call(
                c,
                Method::POST,
                "/api/inventory",
                Some(json!({"kind": kind, "name": name, "parent": parent})),
            )
            .await?;
            Value::Array(vec![obj])
        }
    };
    out.show(&v, &["ID", "KIND", "NAME", "PARENT", "STATE"], |v| {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|o| {
                vec![
                    s(&o["id"]),
                    s(&o["kind"]),
                    s(&o["name"]),
                    s(&o["parent"]),
                    s(&o["data"]["state"]),
                ]
            })
            .collect()
    });
    Ok(())
}

pub async fn user(cmd: UserCmd, c: &hierro_client::Client, out: Output) -> anyhow::Result<()> {
    let v = match cmd {
        UserCmd::Ls => call(c, Method::GET, "/api/users", None).await?,
        UserCmd::Add {
            name,
            new_password: password,
            full_name,
        } => Value::Array(vec![
            call(
                c,
                Method::POST,
                "/api/users",
                Some(json!({"name": name, "password": password, "full_name": full_name})),
            )
            .await?,
        ]),
        UserCmd::Rm { name } => {
            return call(c, Method::DELETE, &format!("/api/users/{name}"), None)
                .await
                .map(drop)
        }
    };
    out.show(&v, &["NAME", "FULL NAME", "GROUPS", "DISABLED"], |v| {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|u| {
                vec![
                    s(&u["name"]),
                    s(&u["full_name"]),
                    s(&u["groups"]),
                    s(&u["disabled"]),
                ]
            })
            .collect()
    });
    Ok(())
}

pub async fn role(cmd: RoleCmd, c: &hierro_client::Client, out: Output) -> anyhow::Result<()> {
    let v = match cmd {
        RoleCmd::Ls => call(c, Method::GET, "/api/roles", None).await?,
        RoleCmd::Add { name, privilege } => Value::Array(vec![
            call(
                c,
                Method::POST,
                "/api/roles",
                Some(json!({"name": name, "privileges": privilege})),
            )
            .await?,
        ]),
        RoleCmd::Set { id, privilege } => Value::Array(vec![
            call(
                c,
                Method::PUT,
                &format!("/api/roles/{id}"),
                Some(json!({"privileges": privilege})),
            )
            .await?,
        ]),
        RoleCmd::Rm { id } => {
            return call(c, Method::DELETE, &format!("/api/roles/{id}"), None)
                .await
                .map(drop)
        }
    };
    out.show(&v, &["ID", "NAME", "SYSTEM", "PRIVILEGES"], |v| {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let n = r["privileges"].as_array().map(|p| p.len()).unwrap_or(0);
                vec![s(&r["id"]), s(&r["name"]), s(&r["system"]), n.to_string()]
            })
            .collect()
    });
    Ok(())
}

pub async fn permission(
    cmd: PermissionCmd,
    c: &hierro_client::Client,
    out: Output,
) -> anyhow::Result<()> {
    match cmd {
        PermissionCmd::Ls { object } => {
            let v = call(
                c,
                Method::GET,
                &format!("/api/permissions?object={object}"),
                None,
            )
            .await?;
            out.show(&v, &["PRINCIPAL", "ROLE", "OBJECT", "PROPAGATE"], |v| {
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        vec![
                            s(&p["principal"]),
                            s(&p["role"]),
                            s(&p["object"]),
                            s(&p["propagate"]),
                        ]
                    })
                    .collect()
            });
        }
        PermissionCmd::Set {
            object,
            principal: p,
            role,
            no_propagate,
        } => {
            let body = json!({"principal": principal(&p)?, "role": role, "object": object, "propagate": !no_propagate});
            call(c, Method::POST, "/api/permissions", Some(body)).await?;
        }
        PermissionCmd::Rm {
            object,
            principal: p,
        } => {
            principal(&p)?;
            let path = format!("/api/permissions?object={object}&principal={p}");
            call(c, Method::DELETE, &path, None).await?;
        }
        PermissionCmd::Check {
            object,
            principal: p,
        } => {
            let mut path = format!("/api/effective?object={object}");
            if let Some(p) = p {
                principal(&p)?;
                path.push_str(&format!("&principal={p}"));
            }
            let v = call(c, Method::GET, &path, None).await?;
            out.show_fields(&v, |v| {
                vec![
                    ("principal", s(&v["principal"])),
                    ("object", s(&v["object"])),
                    ("decided at", s(&v["decided_at"])),
                    ("no access", s(&v["no_access"])),
                    ("by", s(&v["permissions"])),
                    (
                        "privileges",
                        v["privileges"]
                            .as_array()
                            .map(|p| p.iter().map(s).collect::<Vec<_>>().join(" "))
                            .unwrap_or_default(),
                    ),
                ]
            });
        }
    }
    Ok(())
}

pub async fn group(cmd: GroupCmd, c: &hierro_client::Client, out: Output) -> anyhow::Result<()> {
    let members = |g: &str, u: &str| format!("/api/groups/{g}/members/{u}");
    match cmd {
        GroupCmd::Ls => {
            let v = call(c, Method::GET, "/api/groups", None).await?;
            out.show(&v, &["NAME", "MEMBERS"], |v| {
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|g| vec![s(&g["name"]), s(&g["members"])])
                    .collect()
            });
        }
        GroupCmd::Add { name, description } => {
            let body = json!({"name": name, "description": description});
            call(c, Method::POST, "/api/groups", Some(body)).await?;
        }
        GroupCmd::Rm { name } => {
            call(c, Method::DELETE, &format!("/api/groups/{name}"), None).await?;
        }
        GroupCmd::Join { group, user } => {
            call(c, Method::POST, &members(&group, &user), None).await?;
        }
        GroupCmd::Leave { group, user } => {
            call(c, Method::DELETE, &members(&group, &user), None).await?;
        }
    }
    Ok(())
}

pub async fn token(cmd: TokenCmd, c: &hierro_client::Client, out: Output) -> anyhow::Result<()> {
    let v = match cmd {
        TokenCmd::Ls => call(c, Method::GET, "/api/tokens", None).await?,
        TokenCmd::Add { name, valid_days } => {
            let body = json!({"name": name, "valid_days": valid_days});
            let made = call(c, Method::POST, "/api/tokens", Some(body)).await?;
            if !out.json {
                println!(
                    "token {} (shown once; send it as the hierro-session header)",
                    s(&made["token"])
                );
            }
            Value::Array(vec![made])
        }
        TokenCmd::Rm { id } => {
            return call(c, Method::DELETE, &format!("/api/tokens/{id}"), None)
                .await
                .map(drop)
        }
    };
    out.show(&v, &["ID", "USER", "NAME", "EXPIRES", "LAST USED"], |v| {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                vec![
                    s(&t["id"]),
                    s(&t["username"]),
                    s(&t["name"]),
                    s(&t["expires"]),
                    s(&t["last_used"]),
                ]
            })
            .collect()
    });
    Ok(())
}

/// `hierro host ...` verbs that act through the center.
pub async fn host(
    c: &hierro_client::Client,
    cmd: super::host::HostCmd,
    out: Output,
) -> anyhow::Result<()> {
    use super::host::HostCmd;
    let show = |h: &Value| {
        vec![
            ("id", s(&h["id"])),
            ("name", s(&h["name"])),
            ("address", s(&h["data"]["address"])),
            ("state", s(&h["data"]["state"])),
            ("lockdown", s(&h["data"]["lockdown"])),
            ("reason", s(&h["data"]["state_reason"])),
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
            let body = json!({"address": address, "username": host_user, "password": host_password, "thumbprint": host_thumbprint, "parent": parent, "lockdown": lockdown, "force": force});
            let host = call(c, Method::POST, "/api/hosts", Some(body)).await?;
            out.show_fields(&host, show);
        }
        HostCmd::Ls => {
            let hosts = call(c, Method::GET, "/api/inventory?kind=host", None).await?;
            out.show(
                &hosts,
                &["ID", "NAME", "ADDRESS", "STATE", "LOCKDOWN", "REASON"],
                |v| {
                    v.as_array()
                        .into_iter()
                        .flatten()
                        .map(|h| show(h).into_iter().map(|(_, v)| v).collect())
                        .collect()
                },
            );
        }
        HostCmd::Disconnect { id } => {
            call(
                c,
                Method::POST,
                &format!("/api/hosts/{id}/disconnect"),
                None,
            )
            .await?;
        }
        HostCmd::Reconnect {
            id,
            host_user,
            host_password,
            host_thumbprint,
        } => {
            let body = json!({"username": host_user, "password": host_password, "thumbprint": host_thumbprint});
            call(
                c,
                Method::POST,
                &format!("/api/hosts/{id}/reconnect"),
                Some(body),
            )
            .await?;
        }
        HostCmd::Remove { id } => {
            call(c, Method::DELETE, &format!("/api/hosts/{id}"), None).await?;
        }
        HostCmd::Lockdown { id, mode } => {
            let body = json!({"enabled": mode == "on"});
            call(
                c,
                Method::PUT,
                &format!("/api/hosts/{id}/lockdown"),
                Some(body),
            )
            .await?;
        }
        HostCmd::Maintenance {
            id,
            mode,
            move_powered_off,
        } => {
            let body = json!({"enabled": mode == "on", "move_powered_off": move_powered_off});
            let path = format!("/api/hosts/{id}/maintenance");
            let task = serde_json::from_value(call(c, Method::PUT, &path, Some(body)).await?)?;
            crate::output::wait_task(c, task, out).await?;
        }
        _ => unreachable!("not a center verb"),
    }
    Ok(())
}

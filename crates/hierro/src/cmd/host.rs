use std::path::PathBuf;

use clap::Subcommand;

use super::connect::ConnArgs;
use crate::output::Output;

#[derive(Subcommand)]
pub enum HostCmd {
    /// Run the host agent.
    Serve {
        #[arg(long, default_value = "/etc/hierro/host.toml")]
        config: PathBuf,
    },
    /// Print the argon2id hash of a password, for host.toml's admin.password_hash.
    HashPassword {
        #[arg(long, env = "HIERRO_NEW_PASSWORD")]
        password: String,
    },
    /// Add a host to the center (--server is the center).
    Add {
        /// The host agent's address.
        address: String,
        /// The cluster, datacenter or folder id to add it to.
        #[arg(long)]
        parent: String,
        #[arg(long, default_value = "root")]
        host_user: String,
        #[arg(long, env = "HIERRO_HOST_PASSWORD")]
        host_password: String,
        /// The host certificate's thumbprint you confirm.
        #[arg(long)]
        host_thumbprint: Option<String>,
        /// Put the host in lockdown mode: its API then answers only the
        /// center and its break-glass account.
        #[arg(long)]
        lockdown: bool,
        /// Take the host over from another center that manages it.
        #[arg(long)]
        force: bool,
    },
    /// The center's hosts and their connection state (--server is the center).
    Ls,
    /// Stop managing a host for now; it stays in the inventory (center).
    Disconnect { id: String },
    /// Manage a disconnected host again (center). Credentials renew the
    /// center's token; a thumbprint accepts a host's new certificate.
    Reconnect {
        id: String,
        #[arg(long)]
        host_user: Option<String>,
        #[arg(long, env = "HIERRO_HOST_PASSWORD")]
        host_password: Option<String>,
        #[arg(long)]
        host_thumbprint: Option<String>,
    },
    /// Take a host and its VMs out of the center's inventory (center).
    Remove { id: String },
    /// Turn a managed host's lockdown mode on or off (center).
    Lockdown {
        id: String,
        #[arg(value_parser = ["on", "off"])]
        mode: String,
    },
    /// Enter maintenance mode (its running VMs move to the cluster's other
    /// hosts) or leave it (center).
    Maintenance {
        id: String,
        #[arg(value_parser = ["on", "off"])]
        mode: String,
        /// Entering: move the powered-off VMs to other hosts too.
        #[arg(long)]
        move_powered_off: bool,
    },
    /// Show the host's summary.
    Info,
    /// The host's virtual network.
    #[command(subcommand)]
    Net(super::net::NetCmd),
    /// Show the SHA-256 thumbprint the server's certificate has (to pin it).
    Thumbprint,
}

pub async fn run(cmd: HostCmd, conn: &ConnArgs, out: Output) -> anyhow::Result<()> {
    match cmd {
        HostCmd::Serve { config } => {
            let config = hierro_host::HostConfig::load(&config)?;
            hierro_host::serve(config).await
        }
        HostCmd::HashPassword { password } => {
            println!("{}", hierro_host::auth::hash_password(&password));
            Ok(())
        }
        HostCmd::Info => {
            let h = conn.client().await?.host().await?;
            out.show_fields(&h, |h| {
                vec![
                    ("name", h.name.clone()),
                    ("version", h.version.clone()),
                    ("thumbprint", h.thumbprint.clone()),
                    ("accel", h.accel.clone()),
                    ("cpus", h.cpus.to_string()),
                    ("memory", format!("{} MiB", h.memory_mib)),
                    (
                        "vms",
                        format!("{} running of {}", h.vms_running, h.vms_total),
                    ),
                    ("uptime", format!("{} s", h.uptime_secs)),
                ]
            });
            Ok(())
        }
        cmd @ (HostCmd::Add { .. }
        | HostCmd::Ls
        | HostCmd::Disconnect { .. }
        | HostCmd::Reconnect { .. }
        | HostCmd::Remove { .. }
        | HostCmd::Lockdown { .. }
        | HostCmd::Maintenance { .. }) => {
            super::center_verbs::host(&conn.client().await?, cmd, out).await
        }
        HostCmd::Net(cmd) => super::net::run(cmd, &conn.client().await?, out).await,
        HostCmd::Thumbprint => {
            let server = conn
                .server
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("no server"))?;
            println!("{}", hierro_client::fetch_thumbprint(server).await?);
            Ok(())
        }
    }
}

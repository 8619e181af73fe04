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
        HostCmd::Add {
            address,
            parent,
            host_user,
            host_password,
            host_thumbprint,
        } => {
            let client = conn.client().await?;
            super::center_verbs::add_host(
                &client,
                &address,
                &parent,
                &host_user,
                &host_password,
                host_thumbprint.as_deref(),
                out,
            )
            .await
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

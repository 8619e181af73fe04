//! Server, credentials and trust for client verbs, from flags or environment.

use anyhow::{bail, Context};
use clap::Args;
use hierro_client::{Client, Trust};

#[derive(Args, Clone)]
pub struct ConnArgs {
    /// Host (later: center) to talk to: `host[:port]` or an https URL.
    #[arg(long, env = "HIERRO_SERVER", global = true)]
    pub server: Option<String>,
    #[arg(long, env = "HIERRO_USER", global = true, default_value = "root")]
    pub user: String,
    #[arg(long, env = "HIERRO_PASSWORD", global = true, hide_env_values = true)]
    pub password: Option<String>,
    /// SHA-256 thumbprint of the server's certificate to trust.
    #[arg(long, env = "HIERRO_THUMBPRINT", global = true)]
    pub thumbprint: Option<String>,
    /// Trust any certificate (never in production).
    #[arg(long, env = "HIERRO_INSECURE", global = true)]
    pub insecure: bool,
}

impl ConnArgs {
    /// A logged-in client.
    pub async fn client(&self) -> anyhow::Result<Client> {
        let server = self
            .server
            .as_deref()
            .context("no server: pass --server or set HIERRO_SERVER")?;
        let trust = match (&self.thumbprint, self.insecure) {
            (Some(t), _) => Trust::Thumbprint(t.clone()),
            (None, true) => Trust::Insecure,
            (None, false) => {
                let seen = hierro_client::fetch_thumbprint(server).await?;
                bail!(
                    "the certificate of {server} is not trusted yet; its SHA-256 thumbprint is\n  {seen}\n\
                     check it against the one the host printed, then pass --thumbprint {seen} (or set HIERRO_THUMBPRINT)"
                );
            }
        };
        let mut client = Client::new(server, trust)?;
        let password = self
            .password
            .as_deref()
            .context("no password: pass --password or set HIERRO_PASSWORD")?;
        client.login(&self.user, password).await?;
        Ok(client)
    }
}

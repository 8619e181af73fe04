use std::path::PathBuf;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum CenterCmd {
    /// Run the center.
    Serve {
        #[arg(long, default_value = "/etc/hierro/center.toml")]
        config: PathBuf,
    },
}

pub async fn run(cmd: CenterCmd) -> anyhow::Result<()> {
    match cmd {
        CenterCmd::Serve { config } => {
            hierro_center::server::serve(hierro_center::config::CenterConfig::load(&config)?).await
        }
    }
}

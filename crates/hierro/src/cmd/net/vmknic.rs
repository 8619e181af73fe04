//! `hierro host net vmknic ...`: VMkernel ports.

use clap::{Subcommand, ValueEnum};
use hierro_api::{HostNetwork, VmkNic, VmkService};
use hierro_client::Client;

#[derive(Subcommand)]
pub enum VmknicCmd {
    Add {
        name: String,
        #[arg(long)]
        portgroup: String,
        #[arg(long)]
        ip: Option<String>,
        #[arg(long)]
        mac: Option<String>,
        #[arg(long, value_enum)]
        service: Vec<Service>,
    },
    Rm {
        name: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Service {
    Management,
    Vmotion,
    FtLogging,
    IpStorage,
    Vsan,
}

impl From<Service> for VmkService {
    fn from(s: Service) -> Self {
        match s {
            Service::Management => VmkService::Management,
            Service::Vmotion => VmkService::Vmotion,
            Service::FtLogging => VmkService::FtLogging,
            Service::IpStorage => VmkService::IpStorage,
            Service::Vsan => VmkService::Vsan,
        }
    }
}

pub(super) async fn run(cmd: VmknicCmd, client: &Client) -> anyhow::Result<HostNetwork> {
    Ok(match cmd {
        VmknicCmd::Add {
            name,
            portgroup,
            ip,
            mac,
            service,
        } => {
            let services = service.into_iter().map(Into::into).collect();
            client
                .add_vmknic(&VmkNic {
                    name,
                    portgroup,
                    mac,
                    ip,
                    services,
                })
                .await?
        }
        VmknicCmd::Rm { name } => client.remove_vmknic(&name).await?,
    })
}

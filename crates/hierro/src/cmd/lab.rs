use std::path::PathBuf;

use clap::Subcommand;

use crate::output::Output;

const DEFAULT_DIR: &str = "/var/lib/hierro/lab";

#[derive(Subcommand)]
pub enum LabCmd {
    /// Build a lab: fabric, host agents in namespaces, shared datastore, running VMs.
    Up {
        #[arg(long, default_value_t = 2)]
        hosts: u32,
        #[arg(long, default_value_t = 1)]
        vms_per_host: u32,
        /// Memory of each VM in MiB.
        #[arg(long, default_value_t = 256)]
        vm_memory: u64,
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// Lab number: subnet 10.99.<id>.0/24 (several labs can coexist).
        #[arg(long, default_value_t = 1)]
        id: u8,
        /// The guest image directory.
        #[arg(long, default_value = "image")]
        image: PathBuf,
        /// Keep the center's database on this PostgreSQL server (a URL as
        /// scripts/postgres.sh prints) instead of SQLite.
        #[arg(long)]
        postgres: Option<String>,
        /// The web client's built files (`npm run build` in web/), which
        /// the center serves; web/dist when it exists.
        #[arg(long)]
        web_dir: Option<PathBuf>,
        /// Seconds between performance samples (vSphere's real-time 20 s).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
        perf_interval: u64,
    },
    /// Show the lab's hosts and VMs.
    Status {
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Stop everything the lab started and remove what it made.
    Down {
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
    },
}

pub async fn run(cmd: LabCmd, out: Output) -> anyhow::Result<()> {
    match cmd {
        LabCmd::Up {
            hosts,
            vms_per_host,
            vm_memory,
            dir,
            id,
            image,
            postgres,
            web_dir,
            perf_interval: perf_interval_secs,
        } => {
            let web_dir = web_dir.or_else(|| {
                let built = PathBuf::from("web/dist");
                built.join("index.html").exists().then_some(built)
            });
            // The center runs in its own namespace, from another directory.
            let web_dir = web_dir.map(std::path::absolute).transpose()?;
            let opts = hierro_lab::LabOptions {
                dir,
                id,
                hosts,
                vms_per_host,
                vm_memory_mib: vm_memory,
                image_dir: image,
                hierro_bin: std::env::current_exe()?,
                center: true,
                postgres,
                web_dir,
                perf_interval_secs,
                fault_injection: false,
            };
            let lab = hierro_lab::up(&opts).await?;
            if out.json {
                println!("{}", serde_json::to_string_pretty(&lab)?);
                return Ok(());
            }
            println!(
                "lab {} is up ({}), user {} password {}",
                lab.id, lab.subnet, lab.user, lab.password
            );
            if let Some(c) = &lab.center {
                println!(
                    "center  {}  user {} password {}  thumbprint {}  database {}",
                    c.url, c.user, lab.password, c.thumbprint, c.database
                );
                if opts.web_dir.is_some() {
                    println!("web client  {}/  (the same user and password)", c.url);
                }
            }
            for h in &lab.hosts {
                println!("host {}  {}  thumbprint {}", h.name, h.url, h.thumbprint);
                for v in &h.vms {
                    println!(
                        "  vm {}  {}  (counter service: {}:7777)",
                        v.name, v.ip, v.ip
                    );
                }
            }
            if let Some(h) = lab.hosts.first() {
                println!("\ntry:\n  export HIERRO_SERVER={} HIERRO_USER={} HIERRO_PASSWORD={} HIERRO_THUMBPRINT={}\n  hierro vm ls",
                    h.url, lab.user, lab.password, h.thumbprint);
            }
        }
        LabCmd::Status { dir } => {
            let (lab, hosts) = hierro_lab::status(&dir).await?;
            if out.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({"lab": lab, "hosts": hosts}))?
                );
                return Ok(());
            }
            if let Some(c) = &lab.center {
                let answers = hierro_lab::center::client(&lab).await.is_ok();
                println!(
                    "center {}  {}",
                    c.url,
                    if answers { "running" } else { "not answering" }
                );
            }
            for h in hosts {
                println!("host {}  {}  agent {}", h.name, h.url, h.agent);
                for v in h.vms {
                    println!(
                        "  vm {:12} {:11} {:18} guest agent {}",
                        v.name,
                        v.power,
                        v.ip,
                        if v.guest_agent {
                            "answering"
                        } else {
                            "not answering"
                        }
                    );
                }
            }
        }
        LabCmd::Down { dir } => {
            hierro_lab::down(&dir).await?;
            if !out.json {
                println!("lab in {} is down", dir.display());
            }
        }
    }
    Ok(())
}

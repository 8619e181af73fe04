use anyhow::Context;
use clap::{Args, Subcommand};
use hierro_api::{
    Boot, BootDevice, Cdrom, DiskSpec, Display, NicSpec, PowerOp, SnapshotCreate, VmCreate, VmInfo,
    VmUpdate,
};

use super::connect::ConnArgs;
use crate::output::{time, wait_task, Output};

#[derive(Subcommand)]
pub enum VmCmd {
    /// List VMs.
    Ls,
    /// Show a VM, with guest information from its agent.
    Info { vm: String },
    /// Create a VM (from flags, or from a JSON spec with --spec).
    Create(CreateArgs),
    /// Power on.
    PowerOn { vm: String },
    /// Power off (hard, like pulling the plug).
    PowerOff { vm: String },
    /// Reset (hard).
    Reset { vm: String },
    /// Shut the guest down cleanly through its agent.
    Shutdown { vm: String },
    /// Change a VM: CPU, memory and NICs while off; a NIC's port group any time.
    Set {
        vm: String,
        #[arg(long)]
        cpus: Option<u32>,
        /// Memory in MiB.
        #[arg(long)]
        memory: Option<u64>,
        /// The NICs, all of them, as in `vm create` (a NIC keeps its MAC
        /// unless mac= is given).
        #[arg(long)]
        nic: Vec<String>,
    },
    /// Delete a powered-off VM and its files.
    Delete { vm: String },
    /// Make a powered-off VM a template: it can then only be cloned.
    MarkTemplate { vm: String },
    /// Make a template a VM again.
    MarkVm { vm: String },
    /// Through a center: a new VM from a template or a powered-off VM, with
    /// its hardware and a full copy of its disk.
    Clone {
        /// The template or VM to copy.
        source: String,
        /// The new VM's name.
        name: String,
        /// The host or cluster (inventory id) to run it on.
        #[arg(long)]
        placement: String,
        /// The folder (inventory id) to put it in; the datacenter by default.
        #[arg(long)]
        folder: Option<String>,
        /// The datastore for its folder; the source's by default.
        #[arg(long)]
        datastore: Option<String>,
        /// Its NICs, as in `vm create`; by default the source's port groups
        /// with new MACs and no addresses.
        #[arg(long)]
        nic: Vec<String>,
        /// Power it on once made.
        #[arg(long)]
        power_on: bool,
    },
    /// Take a powered-off VM off its host (and out of a center's
    /// inventory), keeping its files.
    Unregister { vm: String },
    /// Add a VM from its folder on a datastore, powered off.
    Register {
        /// The datastore that holds the VM's folder.
        #[arg(long)]
        datastore: String,
        /// The VM's folder on the datastore.
        #[arg(long)]
        path: String,
        /// Through a center: the host or cluster (inventory id) to put it on.
        #[arg(long)]
        placement: Option<String>,
        /// Through a center: the folder (inventory id) to put it in.
        #[arg(long, requires = "placement")]
        folder: Option<String>,
    },
    /// Move a VM to another host: live if it runs (vMotion), else cold
    /// (--server is the center).
    Migrate {
        vm: String,
        /// The destination host's inventory id.
        #[arg(long)]
        host: String,
        /// The longest pause of the guest allowed at switchover.
        #[arg(long, default_value_t = 500)]
        downtime_ms: u64,
        /// Do not slow down a guest that dirties memory faster than it is sent.
        #[arg(long)]
        no_auto_converge: bool,
        /// At most this many MiB/s on the vMotion network.
        #[arg(long)]
        max_bandwidth_mib: Option<u64>,
    },
    /// Attach to the serial console (Ctrl-] leaves); with --vnc, serve the
    /// graphical console on a local port for a VNC viewer.
    Console {
        vm: String,
        /// Listen on 127.0.0.1:PORT (0: any free port) and relay each VNC
        /// viewer that connects to the VM's display.
        #[arg(long, num_args = 0..=1, default_missing_value = "0")]
        vnc: Option<u16>,
    },
    /// Save what the VM's display shows as a PNG.
    Screenshot {
        vm: String,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// The CD-ROM drives' ISOs: changed at once on a running VM.
    #[command(subcommand)]
    Cdrom(CdromCmd),
    /// The firmware's boot order, or a device to boot from once.
    Boot {
        vm: String,
        /// The devices in order, like cdrom,disk,network.
        #[arg(long, value_delimiter = ',')]
        order: Vec<BootDevice>,
        /// Boot from this device at the next power-on only.
        #[arg(long)]
        once: Option<BootDevice>,
    },
    /// Snapshots.
    #[command(subcommand)]
    Snapshot(SnapshotCmd),
}

#[derive(Subcommand)]
pub enum CdromCmd {
    /// Put an ISO ("[datastore] path") in a drive.
    Insert {
        vm: String,
        iso: String,
        /// The drive, from 0.
        #[arg(long, default_value_t = 0)]
        drive: usize,
    },
    /// Empty a drive.
    Eject {
        vm: String,
        #[arg(long, default_value_t = 0)]
        drive: usize,
    },
}

#[derive(Subcommand)]
pub enum SnapshotCmd {
    Ls {
        vm: String,
    },
    Create {
        vm: String,
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    Revert {
        vm: String,
        name: String,
    },
    Rm {
        vm: String,
        name: String,
    },
}

#[derive(Args)]
pub struct CreateArgs {
    /// The VM's name (unique on the host).
    name: Option<String>,
    /// A JSON file with the whole request (the API's VmCreate body).
    #[arg(long, conflicts_with_all = ["datastore", "kernel"])]
    spec: Option<std::path::PathBuf>,
    #[arg(long)]
    datastore: Option<String>,
    #[arg(long, default_value_t = 1)]
    cpus: u32,
    /// Memory in MiB.
    #[arg(long, default_value_t = 256)]
    memory: u64,
    /// Disk size in MiB.
    #[arg(long)]
    disk_size: Option<u64>,
    /// Make the disk a linked clone of this disk: "[datastore] path".
    #[arg(long)]
    clone_from: Option<String>,
    /// With --clone-from: copy the disk's data instead, so the new disk
    /// depends on nothing.
    #[arg(long, requires = "clone_from")]
    full_copy: bool,
    /// Boot this kernel ("[datastore] path") instead of the disk.
    #[arg(long)]
    kernel: Option<String>,
    #[arg(long, requires = "kernel")]
    initrd: Option<String>,
    #[arg(long, default_value = "", requires = "kernel")]
    cmdline: String,
    /// A NIC: NETWORK[,ip=CIDR][,gw=IP][,mac=MAC][,model=virtio|e1000e];
    /// repeat for more.
    #[arg(long)]
    nic: Vec<String>,
    /// What the guest runs (linux, windows, other): picks the NICs' model
    /// when not given (e1000e for windows, else virtio).
    #[arg(long, default_value = "other")]
    guest_os: hierro_api::GuestOs,
    /// A CD-ROM drive holding this ISO ("[datastore] path", or "" for an
    /// empty drive); repeat for more.
    #[arg(long)]
    cdrom: Vec<String>,
    /// The firmware's boot order, like cdrom,disk (disk,cdrom by default).
    #[arg(long, value_delimiter = ',')]
    boot: Vec<BootDevice>,
    /// The graphics adapter: vga, virtio-gpu or none.
    #[arg(long, default_value = "vga", value_parser = parse_display)]
    display: Display,
    /// Power it on once created.
    #[arg(long)]
    power_on: bool,
    /// Through a center: the host or cluster (inventory id) to run it on.
    #[arg(long)]
    placement: Option<String>,
    /// Through a center: the folder (inventory id) to put it in.
    #[arg(long, requires = "placement")]
    folder: Option<String>,
}

/// The name and id of the VM a finished task made. A host answers with the
/// VM, a center with its inventory object: both have a name and an id.
fn print_created(task: &hierro_api::Task, out: Output) {
    if let (false, Some(r)) = (out.json, &task.result) {
        let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        println!("created {} ({})", field("name"), field("id"));
    }
}

/// `--nic` flags as a whole new list of NICs; none given: `None` (keep).
fn parse_nics(flags: &[String]) -> anyhow::Result<Option<Vec<NicSpec>>> {
    if flags.is_empty() {
        return Ok(None);
    }
    flags
        .iter()
        .map(|n| parse_nic(n))
        .collect::<anyhow::Result<_>>()
        .map(Some)
}

fn parse_nic(s: &str) -> anyhow::Result<NicSpec> {
    let mut parts = s.split(',');
    let network = parts.next().unwrap_or_default().to_string();
    let mut nic = NicSpec {
        network,
        mac: None,
        ip: None,
        gateway: None,
        model: None,
    };
    for p in parts {
        match p.split_once('=') {
            Some(("ip", v)) => nic.ip = Some(v.into()),
            Some(("gw", v)) => nic.gateway = Some(v.into()),
            Some(("mac", v)) => nic.mac = Some(v.into()),
            Some(("model", v)) => {
                nic.model = Some(
                    serde_json::from_value(serde_json::Value::String(v.into()))
                        .map_err(|_| anyhow::anyhow!("--nic {s:?}: model is virtio or e1000e"))?,
                )
            }
            _ => anyhow::bail!("--nic {s:?}: unknown part {p:?} (use ip=, gw=, mac=, model=)"),
        }
    }
    Ok(nic)
}

impl CreateArgs {
    fn request(&self) -> anyhow::Result<VmCreate> {
        if let Some(path) = &self.spec {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
            return serde_json::from_str(&text).with_context(|| format!("{}", path.display()));
        }
        Ok(VmCreate {
            name: self.name.clone().context("a VM name is needed")?,
            datastore: self.datastore.clone().context("--datastore is needed")?,
            cpus: self.cpus,
            memory_mib: self.memory,
            disk: DiskSpec {
                size_mib: self.disk_size,
                clone_from: self.clone_from.clone(),
                full_copy: self.full_copy,
            },
            boot: match &self.kernel {
                Some(k) => Boot::Kernel {
                    kernel: k.clone(),
                    initrd: self.initrd.clone(),
                    cmdline: self.cmdline.clone(),
                },
                None => Boot::Disk,
            },
            nics: self
                .nic
                .iter()
                .map(|n| parse_nic(n))
                .collect::<anyhow::Result<_>>()?,
            cdroms: self
                .cdrom
                .iter()
                .map(|iso| Cdrom {
                    iso: (!iso.is_empty()).then(|| iso.clone()),
                    start_connected: true,
                })
                .collect(),
            boot_order: match self.boot.is_empty() {
                true => hierro_api::default_boot_order(),
                false => self.boot.clone(),
            },
            display: self.display,
            guest_os: self.guest_os,
        })
    }
}

fn parse_display(s: &str) -> Result<Display, String> {
    serde_json::from_value(serde_json::Value::String(s.into()))
        .map_err(|_| format!("unknown display {s:?}: use vga, virtio-gpu or none"))
}

/// The VM's drives with drive `drive` holding `iso` (or emptied).
async fn with_media(
    client: &hierro_client::Client,
    vm: &str,
    drive: usize,
    iso: Option<String>,
) -> anyhow::Result<VmUpdate> {
    let mut cdroms = client.vm(vm).await?.config.cdroms;
    let count = cdroms.len();
    let cd = cdroms
        .get_mut(drive)
        .with_context(|| format!("{vm} has {count} CD-ROM drive(s): there is no drive {drive}"))?;
    cd.iso = iso;
    Ok(VmUpdate {
        cdroms: Some(cdroms),
        ..Default::default()
    })
}

pub async fn run(cmd: VmCmd, conn: &ConnArgs, out: Output) -> anyhow::Result<()> {
    let client = conn.client().await?;
    let power = |vm: String, op: PowerOp| {
        let client = client.clone();
        async move {
            wait_task(&client, client.power(&vm, op).await?, out)
                .await
                .map(|_| ())
        }
    };
    let mark = |vm: String, template: bool| {
        let client = client.clone();
        async move {
            let update = VmUpdate {
                template: Some(template),
                ..Default::default()
            };
            wait_task(&client, client.update_vm(&vm, &update).await?, out)
                .await
                .map(|_| ())
        }
    };
    match cmd {
        VmCmd::Ls => {
            let vms = client.vms().await?;
            out.show(
                &vms,
                &["NAME", "POWER", "CPUS", "MEMORY", "DATASTORE", "IP", "ID"],
                |l| {
                    l.iter()
                        .map(|v| {
                            // A template is never on: say what it is.
                            let state = match v.config.template {
                                true => "template".to_string(),
                                false => v.power_state.to_string(),
                            };
                            vec![
                                v.name.clone(),
                                state,
                                v.config.cpus.to_string(),
                                format!("{} MiB", v.config.memory_mib),
                                v.datastore.clone(),
                                v.config
                                    .nics
                                    .iter()
                                    .filter_map(|n| n.ip.clone())
                                    .collect::<Vec<_>>()
                                    .join(" "),
                                v.id.to_string(),
                            ]
                        })
                        .collect()
                },
            );
        }
        VmCmd::Info { vm } => {
            let v = client.vm(&vm).await?;
            out.show_fields(&v, info_fields);
        }
        VmCmd::Create(args) => {
            let req = args.request()?;
            let started = match &args.placement {
                Some(p) => {
                    client
                        .create_vm_placed(&req, p, args.folder.as_deref())
                        .await?
                }
                None => client.create_vm(&req).await?,
            };
            let task = wait_task(&client, started, out).await?;
            if args.power_on {
                wait_task(&client, client.power(&req.name, PowerOp::On).await?, out).await?;
            }
            print_created(&task, out);
        }
        VmCmd::PowerOn { vm } => power(vm, PowerOp::On).await?,
        VmCmd::PowerOff { vm } => power(vm, PowerOp::Off).await?,
        VmCmd::Reset { vm } => power(vm, PowerOp::Reset).await?,
        VmCmd::Shutdown { vm } => power(vm, PowerOp::Shutdown).await?,
        VmCmd::Set {
            vm,
            cpus,
            memory,
            nic,
        } => {
            let update = VmUpdate {
                cpus,
                memory_mib: memory,
                nics: parse_nics(&nic)?,
                ..Default::default()
            };
            wait_task(&client, client.update_vm(&vm, &update).await?, out).await?;
        }
        VmCmd::MarkTemplate { vm } => mark(vm, true).await?,
        VmCmd::MarkVm { vm } => mark(vm, false).await?,
        VmCmd::Clone {
            source,
            name,
            placement,
            folder,
            datastore,
            nic,
            power_on,
        } => {
            let req = hierro_api::VmClone {
                name: name.clone(),
                datastore,
                nics: parse_nics(&nic)?,
            };
            let started = client
                .clone_vm(&source, &req, &placement, folder.as_deref())
                .await?;
            let task = wait_task(&client, started, out).await?;
            if power_on {
                wait_task(&client, client.power(&name, PowerOp::On).await?, out).await?;
            }
            print_created(&task, out);
        }
        VmCmd::Delete { vm } => {
            wait_task(&client, client.delete_vm(&vm).await?, out).await?;
        }
        VmCmd::Unregister { vm } => {
            wait_task(&client, client.unregister_vm(&vm).await?, out).await?;
        }
        VmCmd::Register {
            datastore,
            path,
            placement,
            folder,
        } => {
            let req = hierro_api::VmRegister {
                datastore,
                folder: path,
            };
            // A host answers with the VM, a center with its inventory
            // object: both have a name and an id.
            let r = match &placement {
                Some(p) => {
                    client
                        .register_vm_placed(&req, p, folder.as_deref())
                        .await?
                }
                None => serde_json::to_value(client.register_vm(&req).await?)?,
            };
            if out.json {
                println!("{r}");
            } else {
                let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                println!("registered {} ({})", field("name"), field("id"));
            }
        }
        VmCmd::Migrate {
            vm,
            host,
            downtime_ms,
            no_auto_converge,
            max_bandwidth_mib,
        } => {
            let req = hierro_api::VmMigrate {
                host,
                downtime_ms,
                auto_converge: !no_auto_converge,
                max_bandwidth_mib,
            };
            let task = wait_task(&client, client.migrate_to(&vm, &req).await?, out).await?;
            if !out.json {
                if let Some(s) = task
                    .result
                    .and_then(|r| serde_json::from_value::<hierro_api::MigrationStats>(r).ok())
                {
                    println!("migrated {vm}: {s}");
                }
            }
        }
        VmCmd::Console { vm, vnc: None } => super::console::attach(&client, &vm).await?,
        VmCmd::Console {
            vm,
            vnc: Some(port),
        } => super::console::serve_vnc(&client, &vm, port).await?,
        VmCmd::Screenshot { vm, out: file } => {
            let png = client.screenshot(&vm).await?;
            std::fs::write(&file, png).with_context(|| format!("{}", file.display()))?;
        }
        VmCmd::Cdrom(CdromCmd::Insert { vm, iso, drive }) => {
            let update = with_media(&client, &vm, drive, Some(iso)).await?;
            wait_task(&client, client.update_vm(&vm, &update).await?, out).await?;
        }
        VmCmd::Cdrom(CdromCmd::Eject { vm, drive }) => {
            let update = with_media(&client, &vm, drive, None).await?;
            wait_task(&client, client.update_vm(&vm, &update).await?, out).await?;
        }
        VmCmd::Boot { vm, order, once } => {
            if order.is_empty() && once.is_none() {
                anyhow::bail!("give --order, --once or both");
            }
            let update = VmUpdate {
                boot_order: (!order.is_empty()).then_some(order),
                boot_once: once,
                ..Default::default()
            };
            wait_task(&client, client.update_vm(&vm, &update).await?, out).await?;
        }
        VmCmd::Snapshot(s) => match s {
            SnapshotCmd::Ls { vm } => {
                let list = client.snapshots(&vm).await?;
                out.show(&list, &["NAME", "CREATED", "MEMORY", "DESCRIPTION"], |l| {
                    l.iter()
                        .map(|s| {
                            vec![
                                s.name.clone(),
                                time(&s.created),
                                s.memory.to_string(),
                                s.description.clone(),
                            ]
                        })
                        .collect()
                });
            }
            SnapshotCmd::Create {
                vm,
                name,
                description,
            } => {
                let req = SnapshotCreate { name, description };
                wait_task(&client, client.snapshot_create(&vm, &req).await?, out).await?;
            }
            SnapshotCmd::Revert { vm, name } => {
                wait_task(&client, client.snapshot_revert(&vm, &name).await?, out).await?;
            }
            SnapshotCmd::Rm { vm, name } => {
                wait_task(&client, client.snapshot_delete(&vm, &name).await?, out).await?;
            }
        },
    }
    Ok(())
}

fn info_fields(v: &VmInfo) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("name", v.name.clone()),
        ("id", v.id.to_string()),
        ("power", v.power_state.to_string()),
        ("folder", v.folder.clone()),
        ("cpus", v.config.cpus.to_string()),
        ("memory", format!("{} MiB", v.config.memory_mib)),
        (
            "disk",
            format!(
                "{} ({} MiB{})",
                v.config.disk.file,
                v.config.disk.size_mib,
                v.config
                    .disk
                    .clone_of
                    .as_ref()
                    .map(|c| format!(", linked clone of {c}"))
                    .unwrap_or_default()
            ),
        ),
    ];
    for (i, c) in v.config.cdroms.iter().enumerate() {
        f.push((
            "cdrom",
            format!(
                "{i}: {}{}",
                c.iso.as_deref().unwrap_or("(empty)"),
                if c.start_connected {
                    ""
                } else {
                    " (not connected at power on)"
                }
            ),
        ));
    }
    let order: Vec<String> = v
        .config
        .boot_order
        .iter()
        .map(|d| format!("{d:?}").to_lowercase())
        .collect();
    f.push(("boot order", order.join(",")));
    if let Some(once) = v.config.boot_once {
        f.push(("boot once", format!("{once:?}").to_lowercase()));
    }
    f.push((
        "display",
        serde_json::to_value(v.config.display)
            .ok()
            .and_then(|d| d.as_str().map(str::to_string))
            .unwrap_or_default(),
    ));
    for n in &v.config.nics {
        f.push((
            "nic",
            format!(
                "{} {} {} {}",
                n.network,
                n.mac,
                format!("{:?}", n.model).to_lowercase(),
                n.ip.clone().unwrap_or_default()
            ),
        ));
    }
    if let Some(r) = &v.runtime {
        f.push(("qemu pid", r.pid.to_string()));
        f.push(("qemu status", format!("{} ({})", r.qemu_status, r.accel)));
    }
    if let Some(g) = &v.guest {
        f.push((
            "guest agent",
            if g.agent_running {
                "running".into()
            } else {
                "not answering".into()
            },
        ));
        if let Some(h) = &g.host_name {
            f.push(("guest host name", h.clone()));
        }
        if !g.ip_addresses.is_empty() {
            f.push(("guest IPs", g.ip_addresses.join(" ")));
        }
    }
    f.push((
        "snapshots",
        v.snapshots
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
            .join(", "),
    ));
    f
}

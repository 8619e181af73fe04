//! `bench/vmotion`: live migration of 256 MiB and 1 GiB guests, idle and
//! dirtying memory, through the center between two lab hosts (over the
//! vMotion VMkernel ports and vswitchd), side by side with a plain
//! QEMU-to-QEMU migration of the same guest started by hand between the same
//! two host namespaces, over the kernel instead of vswitchd (a veth from
//! each host into the lab's fabric bridge), with the same settings: 500 ms
//! downtime goal, auto-converge, no bandwidth cap. For each: QEMU's downtime, the largest gap a client
//! reading the guest's TCP counter every 10 ms sees, the total time, and
//! the memory sent.
//!
//! Run: `scripts/bench-vmotion.sh` (root, after scripts/build-image.sh).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use hierro_api::{MigrationStats, PowerOp, VmMigrate};
use hierro_client::Client;
use hierro_lab::probe::{start_dirtying, Counter, GapReader};
use hierro_lab::Lab;
use hierro_qemu::{LaunchSpec, NicLaunch, Qmp, RunPaths};
use serde_json::{json, Value};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "image")]
    image: PathBuf,
    /// The `hierro` binary (host agents and center).
    #[arg(long, default_value = "target/release/hierro")]
    hierro: PathBuf,
    #[arg(long, default_value = "/tmp/hierro-bench-vmotion")]
    dir: PathBuf,
    /// Which cases: 256, 256-dirty, 1024, 1024-dirty (all by default).
    #[arg(long, value_delimiter = ',')]
    cases: Vec<String>,
    /// Runs of each case, ours and plain alternating; every run is a row.
    /// TCG guests on a small machine vary from run to run.
    #[arg(long, default_value_t = 1)]
    repeat: u32,
}

const LAB_ID: u8 = 31;

/// A guest size, and how much memory its workload rewrites (none: idle).
#[derive(Clone)]
struct Case {
    memory_mib: u64,
    dirty_mib: Option<u64>,
}

impl Case {
    /// As `--cases` names it.
    fn name(&self) -> String {
        match self.dirty_mib {
            Some(_) => format!("{}-dirty", self.memory_mib),
            None => self.memory_mib.to_string(),
        }
    }
}

/// One migration's figures.
struct Figures {
    stats: MigrationStats,
    gap: Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    if args.dir.join("lab.json").exists() {
        hierro_lab::down(&args.dir).await?;
    }
    let lab = hierro_lab::up(&hierro_lab::LabOptions {
        dir: args.dir.clone(),
        id: LAB_ID,
        hosts: 2,
        vms_per_host: 0,
        vm_memory_mib: 256,
        image_dir: args.image.clone(),
        hierro_bin: std::fs::canonicalize(&args.hierro).context("the hierro binary")?,
        center: true,
        postgres: None,
        web_dir: None,
        perf_interval_secs: 20,
        fault_injection: false,
    })
    .await?;
    let result = run(&args, &lab).await;
    hierro_lab::down(&args.dir).await?;
    let rows = result?;
    println!("\nvMotion through the center against plain QEMU-to-QEMU migration (TCG guests)\n");
    println!("| guest | workload | ours: downtime / client gap (ms) | ours: total (ms), MiB, passes | ours: guest paused (ms) | ours: frames handed over | plain QEMU: downtime / client gap (ms) | plain: total (ms), MiB, passes | total, ours / plain |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (case, ours, plain) in &rows {
        let workload = match case.dirty_mib {
            Some(m) => format!("rewrites {m} MiB"),
            None => "idle".into(),
        };
        let cell = |f: &Figures| {
            (
                format!("{} / {}", f.stats.downtime_ms, f.gap.as_millis()),
                format!(
                    "{}, {}, {}",
                    f.stats.total_ms,
                    f.stats.bytes >> 20,
                    f.stats.passes
                ),
            )
        };
        let (o1, o2) = cell(ours);
        let (p1, p2) = cell(plain);
        // From the source's STOP to the destination's RESUME.
        let paused = ours
            .stats
            .paused_ms
            .map_or("?".to_string(), |p| p.to_string());
        println!(
            "| {} MiB | {workload} | {o1} | {o2} | {paused} | {} | {p1} | {p2} | {:.2} |",
            case.memory_mib,
            ours.stats.frames_forwarded,
            ours.stats.total_ms as f64 / plain.stats.total_ms.max(1) as f64
        );
    }
    Ok(())
}

async fn run(args: &Args, lab: &Lab) -> anyhow::Result<Vec<(Case, Figures, Figures)>> {
    let center = hierro_lab::center::client(lab).await?;
    let ids = hierro_lab::center::host_ids(lab).await?;
    let (h1, h2) = (ids[0].clone(), ids[1].clone());
    let cases = [
        Case {
            memory_mib: 256,
            dirty_mib: None,
        },
        Case {
            memory_mib: 256,
            dirty_mib: Some(96),
        },
        Case {
            memory_mib: 1024,
            dirty_mib: None,
        },
        Case {
            memory_mib: 1024,
            dirty_mib: Some(384),
        },
    ];
    let cases: Vec<Case> = cases
        .into_iter()
        .filter(|c| args.cases.is_empty() || args.cases.contains(&c.name()))
        .collect();
    anyhow::ensure!(
        !cases.is_empty(),
        "no case named {:?}: use 256, 256-dirty, 1024 or 1024-dirty",
        args.cases
    );
    // Each run has its own VM addresses: ours from .0, plain ones from .50.
    anyhow::ensure!(
        cases.len() as u32 * args.repeat <= 50,
        "at most 50 runs in all"
    );
    let plain_path = plain_link(lab).await?;
    let mut rows = vec![];
    let mut n = 0;
    for case in cases {
        for run in 1..=args.repeat {
            eprintln!("case {}, run {run} of {}", case.name(), args.repeat);
            let ours = ours(lab, &center, (&h1, &h2), &case, n).await?;
            let plain = plain(args, lab, &plain_path, &case, n).await?;
            rows.push((case.clone(), ours, plain));
            n += 1;
        }
    }
    Ok(rows)
}

/// A client reading the guest's counter, from its first answers on.
async fn start_reader(ip: Ipv4Addr) -> anyhow::Result<GapReader> {
    let counter =
        tokio::task::spawn_blocking(move || Counter::connect_within(ip, Duration::from_secs(180)))
            .await??;
    let reader = GapReader::start(counter);
    reader.more_answers(20, ANSWERS).await?;
    Ok(reader)
}

/// How long a reader may wait for its answers.
const ANSWERS: Duration = Duration::from_secs(60);

/// The largest gap, once the guest has answered a while after the move too.
async fn gap_after(reader: GapReader) -> anyhow::Result<Duration> {
    reader.more_answers(20, ANSWERS).await?;
    reader.finish()
}

/// Ours: a VM made through the center on h1, moved to h2 by the center.
async fn ours(
    lab: &Lab,
    center: &Client,
    (h1, h2): (&str, &str),
    case: &Case,
    n: u32,
) -> anyhow::Result<Figures> {
    let name = format!("bench{n}");
    let ip = lab.vm_ip(n);
    let spec = lab.vm_spec(&name, ip, case.memory_mib);
    center
        .run(center.create_vm_placed(&spec, h1, None).await)
        .await?;
    center.run(center.power(&name, PowerOp::On).await).await?;
    let reader = start_reader(ip).await?;
    if let Some(mib) = case.dirty_mib {
        let id = center.vm(&name).await?.id.to_string();
        let qga = lab.hosts[0].run_dir.join("vms").join(id).join("qga.sock");
        start_dirtying(&qga, mib).await?;
    }
    let req = VmMigrate::to(h2);
    let done = center
        .wait(&center.migrate_to(&name, &req).await?, |_| {})
        .await?;
    let stats: MigrationStats =
        serde_json::from_value(done.result.context("the migration's figures")?)?;
    let gap = gap_after(reader).await?;
    center.run(center.power(&name, PowerOp::Off).await).await?;
    center.run(center.delete_vm(&name).await).await?;
    Ok(Figures { stats, gap })
}

/// The kernel path between the two lab hosts for the plain migration: a
/// veth from each host's namespace into the fabric bridge, untagged, with
/// the veths' default offloads. Returns the destination's address.
async fn plain_link(lab: &Lab) -> anyhow::Result<Ipv4Addr> {
    let mut last = Ipv4Addr::UNSPECIFIED;
    for (i, host) in lab.hosts.iter().take(2).enumerate() {
        let name = format!("hl{LAB_ID}-pq{i}");
        hierro_lab::netns::veth_to_bridge(
            &name,
            Some((&host.namespace, "pq0")),
            &lab.fabric_ns,
            "fabric0",
        )
        .await?;
        last = Ipv4Addr::new(10, 95, LAB_ID, 1 + i as u8);
        hierro_lab::netns::ip(&[
            "-n",
            &host.namespace,
            "addr",
            "add",
            &format!("{last}/24"),
            "dev",
            "pq0",
        ])
        .await?;
    }
    Ok(last)
}

/// The peer: the same guest in two QEMUs started by hand, one in each lab
/// host's namespace (taps on the fabric bridge, as the VMs' uplinks are),
/// migrated with QMP over `plain_link`.
async fn plain(
    args: &Args,
    lab: &Lab,
    to: &Ipv4Addr,
    case: &Case,
    n: u32,
) -> anyhow::Result<Figures> {
    let dir = args.dir.join(format!("plain{n}"));
    std::fs::create_dir_all(&dir)?;
    let disk = dir.join("disk.qcow2");
    hierro_qemu::img::create(&disk, 64)
        .await
        .map_err(anyhow::Error::msg)?;
    let ip = lab.vm_ip(50 + n);
    let mac = format!("52:54:00:99:00:{n:02x}");
    let config = hierro_api::VmConfig {
        id: uuid::Uuid::new_v4(),
        name: format!("plain{n}"),
        cpus: 1,
        memory_mib: case.memory_mib,
        disk: hierro_api::DiskConfig {
            file: "disk.qcow2".into(),
            size_mib: 64,
            clone_of: None,
        },
        boot: hierro_api::Boot::Disk,
        nics: vec![hierro_api::Nic {
            network: String::new(),
            mac: mac.clone(),
            ip: Some(format!("{ip}/24")),
            gateway: Some(lab.gateway.to_string()),
            model: Default::default(),
        }],
        created: chrono::Utc::now(),
        template: false,
        cdroms: vec![],
        boot_order: hierro_api::default_boot_order(),
        boot_once: None,
        display: Default::default(),
        guest_os: Default::default(),
    };
    let images = lab.datastore_dir.join("images");
    let spec = |tap: &str, incoming: bool| LaunchSpec {
        name: config.name.clone(),
        uuid: config.id.to_string(),
        accel: hierro_qemu::accel::detect(),
        cpus: 1,
        memory_mib: case.memory_mib,
        disk: disk.clone(),
        // The same hardware as a Hierro VM's by default.
        disk_bootindex: Some(1),
        cdroms: vec![],
        graphics: Some(hierro_qemu::Graphics::Vga),
        kernel: Some((
            images.join("vmlinuz"),
            Some(images.join("initrd.img")),
            hierro_host::vm::actor::kernel_cmdline(&config, ""),
        )),
        nics: vec![NicLaunch {
            tap: tap.into(),
            mac: mac.clone(),
            fd: None,
            bootindex: None,
            device: "virtio-net-pci",
        }],
        serial_log: dir.join("serial.log"),
        loadvm: None,
        incoming,
    };
    let fabric = lab.fabric_ns.as_str();
    let (src_ns, dst_ns) = (&lab.hosts[0].namespace, &lab.hosts[1].namespace);
    let (src_run, dst_run) = (
        RunPaths::new(dir.join("src")),
        RunPaths::new(dir.join("dst")),
    );
    let (src_tap, dst_tap) = (format!("plain{n}s"), format!("plain{n}d"));
    start_in(src_ns, fabric, &spec(&src_tap, false), &src_run, &src_tap).await?;
    let result = async {
        let reader = start_reader(ip).await?;
        if let Some(mib) = case.dirty_mib {
            start_dirtying(&src_run.qga(), mib).await?;
        }
        start_in(dst_ns, fabric, &spec(&dst_tap, true), &dst_run, &dst_tap).await?;
        let dst = Qmp::connect(&dst_run.qmp()).await?;
        let port = dst.listen_for_migration(&to.to_string()).await?;
        let src = Qmp::connect(&src_run.qmp()).await?;
        src.execute_value(
            "migrate-set-capabilities",
            json!({"capabilities": [{"capability": "auto-converge", "state": true}]}),
        )
        .await?;
        src.execute_value(
            "migrate-set-parameters",
            json!({"downtime-limit": 500, "max-bandwidth": 10u64 << 30}),
        )
        .await?;
        src.execute_value("migrate", json!({"uri": format!("tcp:{to}:{port}")}))
            .await?;
        let mut throttled = 0;
        let info = loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let info = src.execute_value("query-migrate", json!({})).await?;
            throttled = throttled.max(number(&info["cpu-throttle-percentage"]));
            match info["status"].as_str().unwrap_or("") {
                "completed" => break info,
                s @ ("failed" | "cancelled") => anyhow::bail!("plain migration {s}: {info}"),
                _ => {}
            }
        };
        let stats = MigrationStats::from_query_migrate(&info, throttled);
        let gap = gap_after(reader).await?;
        Ok(Figures { stats, gap })
    }
    .await;
    for run in [&src_run, &dst_run] {
        if let Some(pid) = run.live_pid() {
            hierro_qemu::process::stop(pid, None).await;
        }
    }
    result
}

fn number(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// Starts QEMU in a host's namespace and plugs its tap into the fabric's
/// bridge (a tap moves between namespaces while QEMU holds it).
async fn start_in(
    ns: &str,
    fabric: &str,
    spec: &LaunchSpec,
    run: &RunPaths,
    tap: &str,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&run.dir)?;
    run.clear();
    let out = tokio::process::Command::new("ip")
        .args(["netns", "exec", ns, hierro_qemu::launch::QEMU])
        .args(spec.args(run))
        .output()
        .await?;
    anyhow::ensure!(
        out.status.success(),
        "plain QEMU: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    hierro_lab::netns::ip(&["-n", ns, "link", "set", tap, "netns", fabric]).await?;
    hierro_lab::netns::ip(&["-n", fabric, "link", "set", tap, "master", "fabric0", "up"]).await
}

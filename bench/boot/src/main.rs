//! `bench/boot`: how long from the API's power-on to the guest agent's first
//! answer, against plain `qemu-system-x86_64` started by hand with the same
//! kernel, initramfs and machine options to the same point; and the host
//! agent's memory per running VM.
//!
//! Run: `scripts/bench-boot.sh` (root, after scripts/build-image.sh).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use hierro_api::PowerOp;
use hierro_qemu::{LaunchSpec, NicLaunch, Qga, RunPaths};

#[derive(Parser)]
struct Args {
    /// Boots of each kind.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// VMs running at once for the memory figure.
    #[arg(long, default_value_t = 3)]
    memory_vms: u32,
    #[arg(long, default_value = "image")]
    image: PathBuf,
    /// The `hierro` binary (the host agent).
    #[arg(long, default_value = "target/release/hierro")]
    hierro: PathBuf,
    #[arg(long, default_value = "/tmp/hierro-bench-boot")]
    dir: PathBuf,
}

const LAB_ID: u8 = 30;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.dir.join("lab.json").exists() {
        hierro_lab::down(&args.dir).await?;
    }
    let lab = hierro_lab::up(&hierro_lab::LabOptions {
        dir: args.dir.clone(),
        id: LAB_ID,
        hosts: 1,
        vms_per_host: 0,
        vm_memory_mib: 256,
        image_dir: args.image.clone(),
        hierro_bin: std::fs::canonicalize(&args.hierro).context("the hierro binary")?,
        // The benchmark measures the host agent alone.
        center: false,
        postgres: None,
        web_dir: None,
        perf_interval_secs: 20,
        fault_injection: false,
    })
    .await?;
    let result = run(&args, &lab).await;
    hierro_lab::down(&args.dir).await?;
    result
}

async fn run(args: &Args, lab: &hierro_lab::Lab) -> anyhow::Result<()> {
    let host = &lab.hosts[0];
    let client = lab.client(host).await?;
    let spec = lab.vm_spec("bench", lab.vm_ip(0), 256);
    let task = client.run(client.create_vm(&spec).await).await?;
    let id = task.target.trim_start_matches("vm:").to_string();
    let vm = client.vm("bench").await?;

    // The plain QEMU gets the very command line the agent would use, in
    // the same namespace, with its own files.
    let plain_dir = args.dir.join("plain");
    std::fs::create_dir_all(&plain_dir)?;
    let plain_disk = plain_dir.join("disk.qcow2");
    hierro_qemu::img::create(&plain_disk, 64)
        .await
        .map_err(anyhow::Error::msg)?;
    let plain_run = RunPaths::new(plain_dir.join("run"));
    std::fs::create_dir_all(&plain_run.dir)?;
    let images = lab.datastore_dir.join("images");
    let launch = LaunchSpec {
        name: "plain".into(),
        uuid: "00000000-0000-4000-8000-000000000001".into(),
        accel: hierro_qemu::accel::detect(),
        cpus: 1,
        memory_mib: 256,
        disk: plain_disk,
        // The same hardware as a Hierro VM's by default.
        disk_bootindex: Some(1),
        cdroms: vec![],
        graphics: Some(hierro_qemu::Graphics::Vga),
        kernel: Some((
            images.join("vmlinuz"),
            Some(images.join("initrd.img")),
            hierro_host::vm::actor::kernel_cmdline(&vm.config, ""),
        )),
        nics: vec![NicLaunch {
            tap: "plaintap0".into(),
            mac: "52:54:00:00:00:99".into(),
            fd: None,
            bootindex: None,
            device: "virtio-net-pci",
        }],
        serial_log: plain_dir.join("serial.log"),
        loadvm: None,
        incoming: false,
    };
    let qemu_args = launch.args(&plain_run);

    let mut ours = vec![];
    let mut plain = vec![];
    for i in 0..args.runs {
        eprintln!("run {}/{}", i + 1, args.runs);
        // Ours: API call to guest agent answer.
        let run = RunPaths::new(host.run_dir.join("vms").join(&id));
        let t0 = Instant::now();
        let task = client.power("bench", PowerOp::On).await?;
        client.wait(&task, |_| {}).await?;
        wait_agent(&Qga::new(&run.qga())).await?;
        ours.push(t0.elapsed());
        client
            .run(client.power("bench", PowerOp::Off).await)
            .await?;

        // Plain: `qemu-system-x86_64 ...` to guest agent answer.
        let t0 = Instant::now();
        let st = tokio::process::Command::new("ip")
            .args(["netns", "exec", &host.namespace, hierro_qemu::launch::QEMU])
            .args(&qemu_args)
            .status()
            .await?;
        anyhow::ensure!(st.success(), "plain QEMU failed to start");
        wait_agent(&Qga::new(&plain_run.qga())).await?;
        plain.push(t0.elapsed());
        let pid: i32 = std::fs::read_to_string(plain_run.pidfile())?
            .trim()
            .parse()?;
        stop(pid).await;
    }

    // Memory: the agent's resident set with K VMs running, against none.
    let agent_pid = host.agent_pid.context("agent pid")?;
    let rss0 = rss_kib(agent_pid)?;
    let mut names = vec![];
    for k in 0..args.memory_vms {
        let name = format!("mem{k}");
        client
            .run(
                client
                    .create_vm(&lab.vm_spec(&name, lab.vm_ip(1 + k), 256))
                    .await,
            )
            .await?;
        client.run(client.power(&name, PowerOp::On).await).await?;
        names.push(name);
    }
    for n in &names {
        hierro_lab::wait_for_guest(&client, n, Duration::from_secs(180)).await?;
    }
    let rss_k = rss_kib(agent_pid)?;
    let per_vm = (rss_k as f64 - rss0 as f64) / args.memory_vms as f64;

    let mo = median(&mut ours);
    let mp = median(&mut plain);
    println!();
    println!(
        "boot to guest agent answer, median of {} runs ({}):",
        args.runs,
        hierro_qemu::accel::detect().as_str()
    );
    println!("| {:<28} | {:>10} |", "", "median");
    println!("|{:-<30}|{:->12}|", "", "");
    println!(
        "| {:<28} | {:>7.0} ms |",
        "hierro (API power-on)",
        mo.as_secs_f64() * 1e3
    );
    println!(
        "| {:<28} | {:>7.0} ms |",
        "plain qemu-system-x86_64",
        mp.as_secs_f64() * 1e3
    );
    println!(
        "| {:<28} | {:>9.3}x |",
        "ratio hierro / plain",
        mo.as_secs_f64() / mp.as_secs_f64()
    );
    println!(
        "| {:<28} | {:>+8.1} % |",
        "overhead",
        (mo.as_secs_f64() / mp.as_secs_f64() - 1.0) * 100.0
    );
    println!();
    println!("host agent memory: {rss0} KiB RSS with no VM running, {rss_k} KiB with {} running: {per_vm:.0} KiB per running VM", args.memory_vms);
    println!(
        "all runs (ms): hierro {:?}",
        ours.iter().map(|d| d.as_millis()).collect::<Vec<_>>()
    );
    println!(
        "               plain  {:?}",
        plain.iter().map(|d| d.as_millis()).collect::<Vec<_>>()
    );
    Ok(())
}

/// Polls guest-ping until the agent answers.
async fn wait_agent(qga: &Qga) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(180);
    while qga.ping(Duration::from_millis(200)).await.is_err() {
        anyhow::ensure!(Instant::now() < deadline, "guest agent never answered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

async fn stop(pid: i32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("VmRSS")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmRSS value")?
        .parse()?)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

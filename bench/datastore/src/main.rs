//! `bench/datastore`: uploading a large file to a lab host's datastore
//! through the host API (`PUT /api/datastores/{ds}/file`) and through the
//! center (which relays it to the host), side by side in one run with
//! `scp` to the same directory: sshd runs in the host's namespace, so scp
//! takes the same network path as the host API (this machine to the host
//! over the lab's fabric bridge). Each run is timed from the first byte
//! sent to the answer (ours: once the file is fsynced and named; scp: once
//! it exits, its data possibly still in the page cache, so a `sync` after
//! it is timed apart).
//!
//! Run: `scripts/bench-datastore.sh` (root).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use hierro_lab::Lab;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "image")]
    image: PathBuf,
    /// The `hierro` binary (host agent and center).
    #[arg(long, default_value = "target/release/hierro")]
    hierro: PathBuf,
    #[arg(long, default_value = "/tmp/hierro-bench-datastore")]
    dir: PathBuf,
    /// The file's size in MiB.
    #[arg(long, default_value_t = 2048)]
    size_mib: u64,
    /// Runs of each way, alternating.
    #[arg(long, default_value_t = 3)]
    repeat: u32,
}

const LAB_ID: u8 = 29;
const SSH_PORT: u16 = 2222;

#[derive(Clone, Copy, PartialEq)]
enum Way {
    HostApi,
    Center,
    Scp,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::HostApi => "host API (HTTPS PUT)",
            Way::Center => "center (relayed to the host)",
            Way::Scp => "scp (sshd in the host's namespace)",
        }
    }
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
        hosts: 1,
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
    let mut sshd = None;
    let result = run(&args, &lab, &mut sshd).await;
    if let Some(mut child) = sshd {
        let _ = child.kill();
        let _ = child.wait();
    }
    hierro_lab::down(&args.dir).await?;
    let rows = result?;

    let mib = args.size_mib as f64;
    let rate = |d: &Duration| mib / d.as_secs_f64();
    println!(
        "\nUpload of a {} MiB file to a lab host's datastore ({} runs each, alternating)\n",
        args.size_mib, args.repeat
    );
    println!("| way | runs (MiB/s) | median MiB/s | median / scp |");
    println!("|---|---|---|---|");
    let median = |way: Way| {
        let mut r: Vec<f64> = rows
            .iter()
            .filter(|(w, _)| *w == way)
            .map(|(_, d)| rate(d))
            .collect();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    let scp = median(Way::Scp);
    for way in [Way::HostApi, Way::Center, Way::Scp] {
        let runs: Vec<String> = rows
            .iter()
            .filter(|(w, _)| *w == way)
            .map(|(_, d)| format!("{:.0}", rate(d)))
            .collect();
        println!(
            "| {} | {} | {:.0} | {:.2} |",
            way.name(),
            runs.join(", "),
            median(way),
            median(way) / scp
        );
    }
    Ok(())
}

async fn run(
    args: &Args,
    lab: &Lab,
    sshd: &mut Option<std::process::Child>,
) -> anyhow::Result<Vec<(Way, Duration)>> {
    let host = &lab.hosts[0];
    let on_host = lab.client(host).await?;
    let center = hierro_lab::center::client(lab).await?;
    let work = args.dir.join("bench");
    std::fs::create_dir_all(&work)?;
    let file = work.join("upload.bin");
    make_file(&file, args.size_mib)?;
    let target = lab.datastore_dir.join("bench");
    std::fs::create_dir_all(&target)?;
    let key = start_sshd(lab, &work, sshd)?;

    let mut rows = vec![];
    for _ in 0..args.repeat {
        for way in [Way::HostApi, Way::Center, Way::Scp] {
            let name = format!("bench/{}.bin", rows.len());
            let started = Instant::now();
            match way {
                Way::HostApi => {
                    on_host
                        .upload_file("shared", &name, false, &file, |_| {})
                        .await?;
                }
                Way::Center => {
                    center
                        .upload_file("shared", &name, false, &file, |_| {})
                        .await?;
                }
                Way::Scp => {
                    let out = Command::new("scp")
                        .args(["-q", "-i"])
                        .arg(&key)
                        .args(["-P", &SSH_PORT.to_string()])
                        .args([
                            "-o",
                            "StrictHostKeyChecking=no",
                            "-o",
                            "UserKnownHostsFile=/dev/null",
                        ])
                        .arg(&file)
                        .arg(format!(
                            "root@{}:{}",
                            host.ip,
                            lab.datastore_dir.join(&name).display()
                        ))
                        .output()?;
                    if !out.status.success() {
                        bail!("scp: {}", String::from_utf8_lossy(&out.stderr));
                    }
                }
            }
            let took = started.elapsed();
            let sync = Instant::now();
            Command::new("sync").status()?;
            eprintln!(
                "{}: {:.1} s (then sync {:.1} s)",
                way.name(),
                took.as_secs_f64(),
                sync.elapsed().as_secs_f64()
            );
            std::fs::remove_file(lab.datastore_dir.join(&name))?;
            rows.push((way, took));
        }
    }
    Ok(rows)
}

/// `size_mib` MiB of random bytes (nothing to compress).
fn make_file(file: &Path, size_mib: u64) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..size_mib {
        rand::fill(&mut chunk[..]);
        out.write_all(&chunk)?;
    }
    out.flush()?;
    Ok(())
}

/// sshd in the host's namespace on its address, for root with a key made
/// here; returns the client's key.
fn start_sshd(
    lab: &Lab,
    work: &Path,
    sshd: &mut Option<std::process::Child>,
) -> anyhow::Result<PathBuf> {
    let host = &lab.hosts[0];
    let keygen = |path: &Path| -> anyhow::Result<()> {
        let _ = std::fs::remove_file(path);
        let ok = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(path)
            .status()?
            .success();
        if !ok {
            bail!("ssh-keygen failed");
        }
        Ok(())
    };
    let host_key = work.join("ssh_host_key");
    let client_key = work.join("client_key");
    keygen(&host_key)?;
    keygen(&client_key)?;
    let authorized = work.join("authorized_keys");
    std::fs::copy(client_key.with_extension("pub"), &authorized)?;
    let config = work.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "ListenAddress {}:{SSH_PORT}\nHostKey {}\nAuthorizedKeysFile {}\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nStrictModes no\nUsePAM no\nPidFile {}\nSubsystem sftp internal-sftp\n",
            host.ip,
            host_key.display(),
            authorized.display(),
            work.join("sshd.pid").display()
        ),
    )?;
    std::fs::create_dir_all("/run/sshd")?;
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &host.namespace,
            "/usr/sbin/sshd",
            "-D",
            "-e",
            "-f",
        ])
        .arg(&config)
        .spawn()
        .context("sshd (package openssh-server)")?;
    *sshd = Some(child);
    // Wait until it listens.
    for _ in 0..100 {
        if std::net::TcpStream::connect((host.ip, SSH_PORT)).is_ok() {
            return Ok(client_key);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("sshd did not start listening on {}:{SSH_PORT}", host.ip)
}

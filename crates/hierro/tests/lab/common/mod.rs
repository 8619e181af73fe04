//! What the integration tests share: a real lab (namespaces, host agents,
//! QEMU under TCG or KVM) that is torn down when the test ends, and small
//! probes into the guests.
#![allow(dead_code, unused_imports)]

pub mod center;
pub mod netns;
pub mod openapi;
pub mod saga;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use hierro_client::Client;
use hierro_lab::{Lab, LabOptions};
use serde_json::json;

pub const HIERRO: &str = env!("CARGO_BIN_EXE_hierro");

pub fn image_dir() -> PathBuf {
    std::env::var_os("HIERRO_IMAGE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../image")))
}

/// The web client's built files (scripts/test.sh builds them).
pub fn web_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/dist"))
}

/// These tests need root, QEMU and the guest image; without them they fail
/// with a clear message rather than pass by skipping.
pub fn require_environment() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "integration tests need root (network namespaces, taps): run them as root (scripts/test.sh)"
    );
    assert!(
        std::process::Command::new("qemu-system-x86_64")
            .arg("--version")
            .output()
            .is_ok(),
        "qemu-system-x86_64 is missing: run scripts/setup.sh"
    );
    assert!(
        image_dir().join("vmlinuz").is_file() && image_dir().join("initrd.img").is_file(),
        "the guest image is missing in {}: run scripts/build-image.sh",
        image_dir().display()
    );
}

/// A lab for one test; `down` runs when it is dropped, pass or fail.
pub struct TestLab {
    pub lab: Lab,
}

impl TestLab {
    /// `id` must be unique among tests that may run at the same time.
    pub async fn up(id: u8, hosts: u32, vms_per_host: u32) -> TestLab {
        Self::start(id, hosts, vms_per_host, true, false).await
    }

    /// A lab whose hosts no center manages yet.
    pub async fn without_center(id: u8, hosts: u32, vms_per_host: u32) -> TestLab {
        Self::start(id, hosts, vms_per_host, false, false).await
    }

    /// A lab whose center honours `hierro-fail-step`, for tests of undo.
    pub async fn with_fault_injection(id: u8, hosts: u32, vms_per_host: u32) -> TestLab {
        Self::start(id, hosts, vms_per_host, true, true).await
    }

    async fn start(
        id: u8,
        hosts: u32,
        vms_per_host: u32,
        center: bool,
        fault_injection: bool,
    ) -> TestLab {
        require_environment();
        let dir = std::env::temp_dir().join(format!("hierro-test-lab-{id}"));
        // A lab left behind by an earlier, killed run.
        if dir.join("lab.json").exists() {
            let _ = hierro_lab::down(&dir).await;
        }
        let _ = std::fs::remove_dir_all(&dir);
        let lab = hierro_lab::up(&LabOptions {
            dir,
            id,
            hosts,
            vms_per_host,
            vm_memory_mib: 256,
            image_dir: image_dir(),
            hierro_bin: HIERRO.into(),
            center,
            postgres: None,
            web_dir: Some(web_dir()),
            // Samples every 2 s, so charts fill within a test.
            perf_interval_secs: 2,
            fault_injection,
        })
        .await
        .expect("lab up");
        TestLab { lab }
    }

    pub async fn client(&self, host: usize) -> Client {
        self.lab.client(&self.lab.hosts[host]).await.expect("login")
    }
}

impl Drop for TestLab {
    fn drop(&mut self) {
        let dir = self.lab.dir.clone();
        // Drop may run inside the test's runtime: tear down on a fresh one.
        let result = std::thread::spawn(move || {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(hierro_lab::down(&dir))
        })
        .join();
        if let Ok(Err(e)) = result {
            eprintln!("lab down failed: {e:#}");
        }
    }
}

pub use hierro_lab::probe::Counter;

/// Runs a shell command in a lab VM through its agent; returns stdout.
pub async fn guest_sh(lab: &Lab, host: usize, vm_id: &str, script: &str) -> String {
    let socket = lab.hosts[host]
        .run_dir
        .join("vms")
        .join(vm_id)
        .join("qga.sock");
    hierro_lab::probe::guest_sh(&socket, script)
        .await
        .expect("a command in the guest")
}

/// The environment that points the CLI at the lab's center as its
/// administrator.
pub fn center_env(lab: &Lab) -> [(&'static str, &str); 4] {
    let c = lab.center.as_ref().expect("the lab has a center");
    [
        ("HIERRO_SERVER", c.url.as_str()),
        ("HIERRO_USER", c.user.as_str()),
        ("HIERRO_PASSWORD", lab.password.as_str()),
        ("HIERRO_THUMBPRINT", c.thumbprint.as_str()),
    ]
}

/// Runs the `hierro` CLI with these environment variables: whether it
/// succeeded, its output and its errors.
pub fn cli(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = std::process::Command::new(HIERRO)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Polls `ready` until it holds; fails naming `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until a tshark started with `-w file` captures: it writes the
/// file's header once the interface is open.
pub fn wait_capture_started(file: &std::path::Path) {
    wait_until("tshark to start capturing", Duration::from_secs(15), || {
        std::fs::metadata(file).is_ok_and(|m| m.len() > 0)
    });
}

pub async fn wait_power(client: &Client, vm: &str, want: hierro_api::PowerState) {
    for _ in 0..300 {
        if client.vm(vm).await.unwrap().power_state == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{vm} never became {want}");
}

pub use hierro_qemu::process::alive as process_alive;

/// SIGKILLs a lab host's agent and waits until the process is gone.
pub fn kill_agent(lab: &Lab, host: usize) {
    let agent = lab.hosts[host].agent_pid.expect("the agent's pid");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(agent as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_until("the agent to die", Duration::from_secs(10), || {
        !process_alive(agent)
    });
}

/// Writes a 4 KiB pattern (bytes 0x5a, "Z") at the start of a qcow2 disk
/// that no VM runs, with qemu-io.
pub fn write_pattern(disk: &std::path::Path) {
    let out = std::process::Command::new("qemu-io")
        .args(["-f", "qcow2", "-c", "write -P 0x5a 0 4k"])
        .arg(disk)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether the disk still starts with that pattern; qemu-io's answer too.
pub fn has_pattern(disk: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new("qemu-io")
        .args(["-f", "qcow2", "-r", "-c", "read -P 0x5a 0 4k"])
        .arg(disk)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        said.contains("read 4096/4096") && !said.contains("failed"),
        said,
    )
}

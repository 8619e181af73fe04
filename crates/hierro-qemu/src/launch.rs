//! The QEMU command line of a VM, and starting it as a daemon.
//!
//! QEMU runs detached (`-daemonize`, own session, a pidfile), so it survives
//! the host agent stopping or crashing; the agent finds it again through the
//! pidfile and the QMP socket (see `RunPaths`).

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use command_fds::{CommandFdExt, FdMapping};

use crate::Accel;

pub const QEMU: &str = "qemu-system-x86_64";

/// Where a VM's runtime files live on this host (host-local, not on the
/// datastore: a socket is meaningless to another host).
#[derive(Debug, Clone)]
pub struct RunPaths {
    pub dir: PathBuf,
}

impl RunPaths {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
    pub fn pidfile(&self) -> PathBuf {
        self.dir.join("qemu.pid")
    }
    pub fn qmp(&self) -> PathBuf {
        self.dir.join("qmp.sock")
    }
    pub fn qga(&self) -> PathBuf {
        self.dir.join("qga.sock")
    }
    pub fn console(&self) -> PathBuf {
        self.dir.join("console.sock")
    }
    /// The VNC server of the VM's display: a unix socket only the host
    /// agent reaches (never a TCP port).
    pub fn vnc(&self) -> PathBuf {
        self.dir.join("vnc.sock")
    }

    /// The pid of the QEMU that the pidfile names, if it is still alive.
    pub fn live_pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(self.pidfile())
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
        let name = exe.file_name()?.to_string_lossy().into_owned();
        // A recycled pid that now belongs to another program is not our VM.
        name.starts_with("qemu-system").then_some(pid)
    }

    /// Removes the runtime files of a VM that is not running.
    pub fn clear(&self) {
        for p in [
            self.pidfile(),
            self.qmp(),
            self.qga(),
            self.console(),
            self.vnc(),
        ] {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[derive(Debug, Clone)]
pub struct NicLaunch {
    /// The host tap device QEMU attaches to.
    pub tap: String,
    pub mac: String,
    /// The tap, opened by the caller with a vnet header: QEMU gets a copy
    /// of the descriptor and the caller keeps one (see
    /// `hierro_vswitch::vmtap`). `None`: QEMU opens `tap` itself.
    pub fd: Option<Arc<OwnedFd>>,
    /// Its place in the firmware's boot order (PXE), if it is in it.
    pub bootindex: Option<u32>,
    /// The adapter the guest sees: QEMU's device, `virtio-net-pci` or `e1000e`.
    pub device: &'static str,
}

/// A CD-ROM drive: SATA port `i` of the machine's AHCI controller, QEMU
/// device `cd<i>`.
#[derive(Debug, Clone, Default)]
pub struct CdromLaunch {
    /// The ISO in the drive at start; `None`: empty.
    pub iso: Option<PathBuf>,
    pub bootindex: Option<u32>,
}

/// The graphics adapter; the display is served over VNC on `RunPaths::vnc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Graphics {
    Vga,
    VirtioGpu,
}

/// The QEMU device id of CD-ROM drive `i`.
pub fn cdrom_id(i: usize) -> String {
    format!("cd{i}")
}

/// The block node of an ISO inserted in drive `i`: `generation` tells
/// apart the media one drive has held, as node names must differ.
pub fn cdrom_node(i: usize, generation: u64) -> String {
    format!("cd{i}-m{generation}")
}

/// The `-blockdev`/`blockdev-add` options of a read-only ISO.
pub fn iso_blockdev(node: &str, iso: &Path) -> serde_json::Value {
    serde_json::json!({
        "driver": "raw",
        "node-name": node,
        "read-only": true,
        "file": {"driver": "file", "filename": iso.to_string_lossy(), "read-only": true},
    })
}

/// The descriptor number of NIC i's tap in QEMU: FIRST_TAP_FD + i.
const FIRST_TAP_FD: i32 = 3;

#[derive(Debug, Clone)]
pub struct LaunchSpec {
    pub name: String,
    pub uuid: String,
    pub accel: Accel,
    pub cpus: u32,
    pub memory_mib: u64,
    pub disk: PathBuf,
    pub disk_bootindex: Option<u32>,
    pub cdroms: Vec<CdromLaunch>,
    pub graphics: Option<Graphics>,
    /// Kernel, initrd and command line for a direct kernel boot; `None` boots the disk.
    pub kernel: Option<(PathBuf, Option<PathBuf>, String)>,
    pub nics: Vec<NicLaunch>,
    /// The serial console is also appended to this file.
    pub serial_log: PathBuf,
    /// Start from this internal snapshot (revert of a powered-off VM).
    pub loadvm: Option<String>,
    /// Wait for an incoming live migration (`migrate-incoming` over QMP)
    /// instead of booting.
    pub incoming: bool,
}

impl LaunchSpec {
    pub fn args(&self, run: &RunPaths) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        let mut push = |s: &[&str]| a.extend(s.iter().map(|x| x.to_string()));
        push(&["-name", &format!("guest={},debug-threads=on", self.name)]);
        push(&["-uuid", &self.uuid]);
        push(&["-machine", &format!("q35,accel={}", self.accel.as_str())]);
        if self.accel == Accel::Kvm {
            push(&["-cpu", "host"]);
        }
        push(&[
            "-smp",
            &self.cpus.to_string(),
            "-m",
            &self.memory_mib.to_string(),
        ]);
        push(&["-nodefaults", "-no-user-config", "-display", "none"]);
        // Only the devices in the boot order are tried.
        push(&["-boot", "strict=on"]);
        if let Some(graphics) = self.graphics {
            let device = match graphics {
                Graphics::Vga => "VGA,id=video0",
                Graphics::VirtioGpu => "virtio-gpu-pci,id=video0",
            };
            push(&["-device", device]);
            push(&["-vnc", &format!("unix:{}", path(&run.vnc()))]);
        }
        push(&["-daemonize", "-pidfile", &path(&run.pidfile())]);
        push(&[
            "-qmp",
            &format!("unix:{},server=on,wait=off", path(&run.qmp())),
        ]);
        push(&[
            "-chardev",
            &format!(
                "socket,id=serial0,path={},server=on,wait=off,logfile={},logappend=on",
                path(&run.console()),
                path(&self.serial_log)
            ),
            "-serial",
            "chardev:serial0",
        ]);
        push(&["-device", "virtio-serial-pci,id=vser0"]);
        push(&[
            "-chardev",
            &format!(
                "socket,id=qga0,path={},server=on,wait=off",
                path(&run.qga())
            ),
            "-device",
            "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0",
        ]);
        push(&["-device", "pvpanic-pci"]);
        push(&[
            "-blockdev",
            &format!(
                "driver=file,filename={},node-name=disk0-file",
                path(&self.disk)
            ),
            "-blockdev",
            "driver=qcow2,file=disk0-file,node-name=disk0",
            "-device",
            &format!(
                "virtio-blk-pci,drive=disk0,id=disk0-dev{}",
                bootindex(self.disk_bootindex)
            ),
        ]);
        for (i, cd) in self.cdroms.iter().enumerate() {
            let mut device = format!("ide-cd,bus=ide.{i},id={}", cdrom_id(i));
            if let Some(iso) = &cd.iso {
                let node = cdrom_node(i, 0);
                push(&["-blockdev", &iso_blockdev(&node, iso).to_string()]);
                device.push_str(&format!(",drive={node}"));
            }
            device.push_str(&bootindex(cd.bootindex));
            push(&["-device", &device]);
        }
        for (i, nic) in self.nics.iter().enumerate() {
            // The vnet header lets the guest hand off segmentation and
            // checksums: vswitchd passes super-frames through. (With fd=,
            // QEMU finds it on the descriptor.)
            let tap = match nic.fd {
                Some(_) => format!("fd={}", FIRST_TAP_FD + i as i32),
                None => format!("ifname={},script=no,downscript=no,vnet_hdr=on", nic.tap),
            };
            push(&[
                "-netdev",
                &format!("tap,id=net{i},{tap}"),
                "-device",
                &format!(
                    "{},netdev=net{i},mac={},id=nic{i}{}",
                    nic.device,
                    nic.mac,
                    bootindex(nic.bootindex)
                ),
            ]);
        }
        if let Some((kernel, initrd, cmdline)) = &self.kernel {
            push(&["-kernel", &path(kernel), "-append", cmdline]);
            if let Some(initrd) = initrd {
                push(&["-initrd", &path(initrd)]);
            }
        }
        if let Some(tag) = &self.loadvm {
            push(&["-loadvm", tag]);
        }
        if self.incoming {
            push(&["-incoming", "defer"]);
        }
        push(&["-msg", "timestamp=on"]);
        a
    }

    /// Starts QEMU and returns its pid once the daemon runs. QEMU's parent
    /// process exits only after the sockets exist, so QMP can be connected
    /// right away. A QEMU that fails to start returns its own error text.
    pub async fn spawn(&self, run: &RunPaths) -> Result<u32, LaunchError> {
        std::fs::create_dir_all(&run.dir).map_err(|source| LaunchError::File {
            path: run.dir.clone(),
            source,
        })?;
        run.clear();
        // QEMU daemonized sets umask 027: the log it appends to is made
        // here, the VM's own (0600).
        {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&self.serial_log)
                .map_err(|source| LaunchError::File {
                    path: self.serial_log.clone(),
                    source,
                })?;
        }
        let mut taps = vec![];
        for (i, nic) in self.nics.iter().enumerate() {
            if let Some(fd) = &nic.fd {
                taps.push(FdMapping {
                    parent_fd: fd
                        .try_clone()
                        .map_err(|e| LaunchError::Tap(nic.tap.clone(), e))?,
                    child_fd: FIRST_TAP_FD + i as i32,
                });
            }
        }
        let mut command = tokio::process::Command::new(QEMU);
        command
            .args(self.args(run))
            .stdin(Stdio::null())
            .kill_on_drop(false)
            .fd_mappings(taps)
            .map_err(|e| LaunchError::Fds(e.to_string()))?;
        let out = command.output().await.map_err(LaunchError::Spawn)?;
        if !out.status.success() {
            run.clear();
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(LaunchError::Failed(stderr.trim().to_string()));
        }
        run.live_pid().ok_or(LaunchError::NoProcess)
    }
}

/// Why QEMU did not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tap {0}: {1}")]
    Tap(String, #[source] std::io::Error),
    #[error("handing QEMU its taps: {0}")]
    Fds(String),
    #[error("cannot run {QEMU}: {0}")]
    Spawn(#[source] std::io::Error),
    /// QEMU refused its command line or its files, in its own words.
    #[error("QEMU failed to start: {0}")]
    Failed(String),
    #[error("QEMU started but its pidfile names no live process")]
    NoProcess,
}

fn bootindex(index: Option<u32>) -> String {
    index.map(|i| format!(",bootindex={i}")).unwrap_or_default()
}

fn path(p: &Path) -> String {
    // QEMU's option parser splits on commas; a doubled comma is a literal one.
    p.to_string_lossy().replace(',', ",,")
}

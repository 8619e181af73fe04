//! Builds Hierro's guest test image: Debian's kernel (`vmlinuz`) and an
//! initramfs (`initrd.img`) holding busybox, the virtio modules, the
//! `hierro-guest` binary and a shell-script /init (src/init.sh), plus a
//! `manifest.json` recording what went in. A build whose inputs are unchanged
//! is skipped.
//!
//! The guest reads `hierro.ip=`, `hierro.gw=` and `hierro.hostname=` from its
//! kernel command line (the host agent writes them) and prints
//! `hierro-guest: ready` on the serial console once its agent and counter run.
//!
//! It also makes `disk.qcow2`, a bootable disk (GRUB, then the same kernel and
//! initramfs), for VMs that boot from disk.

mod cpio;
mod disk;
mod elf;
mod kernel;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Modules the guest needs (with their dependencies, resolved at build time).
pub const MODULES: &[&str] = &[
    "virtio_pci",
    "virtio_net",
    // The NIC model of guests typed windows.
    "e1000e",
    "virtio_blk",
    "virtio_console",
    "net_failover",
    "failover",
    // 802.1Q, so a guest can create VLAN interfaces (`ip link add ... type vlan`).
    "8021q",
    // The CD-ROM drives (SATA on q35's AHCI) and what ISOs hold.
    "ahci",
    "sr_mod",
    "isofs",
];
/// The guest's /init.
pub const INIT_SCRIPT: &str = include_str!("init.sh");
/// Where the static busybox comes from (Debian's busybox-static).
pub const BUSYBOX: &str = "/bin/busybox";

/// Bump when the image layout changes, so cached images are rebuilt.
const FORMAT: u32 = 2;
/// Busybox applets /init needs.
const APPLETS: &[&str] = &[
    "sh", "mount", "mkdir", "insmod", "cat", "hostname", "ip", "sleep", "grep", "setsid",
    "cttyhack", "sync",
];

pub struct BuildOptions {
    /// The static `hierro-guest` binary.
    pub guest_bin: PathBuf,
    /// Where vmlinuz, initrd.img and manifest.json go.
    pub out_dir: PathBuf,
    /// A persistent scratch directory; the kernel .deb is kept here.
    pub work_dir: PathBuf,
}

#[derive(Debug, Clone)]
pub struct ImageInfo {
    /// True if the image was already up to date and nothing was done.
    pub cached: bool,
    pub vmlinuz: PathBuf,
    pub initrd: PathBuf,
    /// A bootable disk (GRUB, then the same kernel and initramfs).
    pub disk: PathBuf,
    pub manifest: Manifest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub kernel: KernelInfo,
    /// Modules in the initramfs, in load order.
    pub modules: Vec<String>,
    /// Requested modules that are built into the kernel.
    pub builtin_modules: Vec<String>,
    /// sha256 of each input: kernel-deb, busybox, guest-bin, init-script, module-list.
    pub inputs: BTreeMap<String, String>,
    /// sha256 of each output file in the output directory.
    pub outputs: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelInfo {
    /// E.g. "linux-image-6.1.0-56-amd64".
    pub package: String,
    /// The package version, e.g. "6.1.192-2".
    pub version: String,
    /// The kernel release (`uname -r`), e.g. "6.1.0-56-amd64".
    pub release: String,
}

/// Builds the image into `opts.out_dir`, unless it is already up to date.
pub fn build(opts: &BuildOptions) -> Result<ImageInfo> {
    let (out, work) = (&opts.out_dir, &opts.work_dir);
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    check_static(&opts.guest_bin)?;
    check_static(Path::new(BUSYBOX)).context("install busybox-static")?;
    let deb = kernel::fetch(work)?;

    let inputs = BTreeMap::from([
        ("kernel-deb".to_string(), sha256_file(&deb.path)?),
        ("busybox".to_string(), sha256_file(Path::new(BUSYBOX))?),
        ("guest-bin".to_string(), sha256_file(&opts.guest_bin)?),
        ("init-script".to_string(), sha256(INIT_SCRIPT.as_bytes())),
        ("grub-cfg".to_string(), sha256(disk::GRUB_CFG.as_bytes())),
        (
            "module-list".to_string(),
            sha256(MODULES.join("\n").as_bytes()),
        ),
    ]);
    let info = |cached, manifest| ImageInfo {
        cached,
        vmlinuz: out.join("vmlinuz"),
        initrd: out.join("initrd.img"),
        disk: out.join("disk.qcow2"),
        manifest,
    };
    if let Some(manifest) = up_to_date(out, &inputs)? {
        return Ok(info(true, manifest));
    }

    // Unpack the kernel package (about 400 MB) only for the duration of the
    // build. Per-process scratch names let concurrent builds coexist.
    let tag = std::process::id();
    let extract = work.join(format!("extract-{tag}"));
    let _ = fs::remove_dir_all(&extract);
    run(Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb.path)
        .arg(&extract))?;
    let result = assemble(opts, &extract, tag);
    let _ = fs::remove_dir_all(&extract);
    let (release, modules) = result?;
    disk::make(out, work, tag)?;

    let mut outputs = BTreeMap::new();
    for name in ["vmlinuz", "initrd.img", "disk.qcow2"] {
        outputs.insert(name.to_string(), sha256_file(&out.join(name))?);
    }
    let manifest = Manifest {
        format: FORMAT,
        kernel: KernelInfo {
            package: deb.package,
            version: deb.version,
            release,
        },
        modules: modules.order.iter().map(|(name, _)| name.clone()).collect(),
        builtin_modules: modules.builtin,
        inputs,
        outputs,
    };
    let mut text = serde_json::to_string_pretty(&manifest)?;
    text.push('\n');
    write_atomic(&out.join("manifest.json"), text.as_bytes(), tag)?;
    Ok(info(false, manifest))
}

/// Writes vmlinuz and initrd.img from the unpacked kernel package; returns the
/// kernel release and the modules.
fn assemble(opts: &BuildOptions, extract: &Path, tag: u32) -> Result<(String, kernel::Modules)> {
    let boot = extract.join("boot");
    let vmlinuz = fs::read_dir(&boot)?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .with_context(|| format!("no vmlinuz-* in {}", boot.display()))?;
    let name = vmlinuz.file_name().unwrap_or_default().to_string_lossy();
    let release = name.trim_start_matches("vmlinuz-").to_string();
    let modules = kernel::resolve_modules(&extract.join("lib/modules").join(&release), MODULES)?;

    let cpio = initramfs(opts, &modules, tag)?;
    let cpio_path = opts.work_dir.join(format!("initrd-{tag}.cpio"));
    fs::write(&cpio_path, cpio)?;
    let initrd_tmp = opts.out_dir.join(format!("initrd.img.tmp-{tag}"));
    // -n: no name or timestamp in the header, for reproducible output.
    let gzip = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .stdin(File::open(&cpio_path)?)
        .stdout(File::create(&initrd_tmp)?)
        .status()
        .context("running gzip")?;
    fs::remove_file(&cpio_path)?;
    if !gzip.success() {
        bail!("gzip failed: {gzip}");
    }
    fs::rename(&initrd_tmp, opts.out_dir.join("initrd.img"))?;
    write_atomic(&opts.out_dir.join("vmlinuz"), &fs::read(&vmlinuz)?, tag)?;
    Ok((release, modules))
}

/// The initramfs as a cpio archive.
fn initramfs(opts: &BuildOptions, modules: &kernel::Modules, tag: u32) -> Result<Vec<u8>> {
    let mut a = cpio::Archive::default();
    for dir in [
        "dev", "etc", "proc", "root", "run", "sys", "tmp", "var", "bin", "sbin", "usr/bin",
        "usr/sbin",
    ] {
        a.dir(dir);
    }
    // The kernel opens /dev/console for init before devtmpfs is mounted.
    a.char_dev("dev/console", 0o600, 5, 1);
    a.file(
        "etc/passwd",
        0o644,
        b"root:x:0:0:root:/root:/bin/sh\n".to_vec(),
    );
    a.file("etc/group", 0o644, b"root:x:0:\n".to_vec());
    a.file("init", 0o755, INIT_SCRIPT.as_bytes().to_vec());

    a.file("bin/busybox", 0o755, fs::read(BUSYBOX)?);
    let list = String::from_utf8(run(Command::new(BUSYBOX).arg("--list-full"))?)?;
    let applets: Vec<&str> = list
        .lines()
        .filter(|l| !l.is_empty() && *l != "bin/busybox")
        .collect();
    for needed in APPLETS {
        if !applets.iter().any(|a| a.rsplit('/').next() == Some(needed)) {
            bail!("{BUSYBOX} lacks the applet {needed}");
        }
    }
    for applet in applets {
        a.symlink(applet, "/bin/busybox");
    }

    a.file(
        "bin/hierro-guest",
        0o755,
        stripped(&opts.guest_bin, &opts.work_dir, tag)?,
    );

    let mut order = String::new();
    for (name, data) in &modules.order {
        a.file(&format!("lib/modules/{name}.ko"), 0o644, data.clone());
        order.push_str(name);
        order.push('\n');
    }
    a.file("lib/modules/load-order", 0o644, order.into_bytes());
    Ok(a.finish())
}

/// The binary without its symbols and debug info (7 MB -> about 1 MB), or as
/// is if `strip` is missing.
fn stripped(bin: &Path, work: &Path, tag: u32) -> Result<Vec<u8>> {
    let tmp = work.join(format!("hierro-guest-{tag}"));
    let ok = Command::new("strip")
        .arg("-o")
        .arg(&tmp)
        .arg(bin)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let data = fs::read(if ok { &tmp } else { bin })?;
    let _ = fs::remove_file(&tmp);
    Ok(data)
}

/// The manifest in `out`, if it matches `inputs` and the outputs are intact.
fn up_to_date(out: &Path, inputs: &BTreeMap<String, String>) -> Result<Option<Manifest>> {
    let Ok(text) = fs::read_to_string(out.join("manifest.json")) else {
        return Ok(None);
    };
    let Ok(manifest) = serde_json::from_str::<Manifest>(&text) else {
        return Ok(None);
    };
    if manifest.format != FORMAT || manifest.inputs != *inputs {
        return Ok(None);
    }
    for (name, hash) in &manifest.outputs {
        let path = out.join(name);
        if !path.exists() || sha256_file(&path)? != *hash {
            return Ok(None);
        }
    }
    Ok(Some(manifest))
}

fn check_static(bin: &Path) -> Result<()> {
    let data = fs::read(bin).with_context(|| format!("reading {}", bin.display()))?;
    if elf::Elf::parse(&data)
        .and_then(|e| e.is_dynamic())
        .with_context(|| bin.display().to_string())?
    {
        bail!(
            "{} is dynamically linked; the guest needs a static binary",
            bin.display()
        );
    }
    Ok(())
}

fn write_atomic(path: &Path, data: &[u8], tag: u32) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{tag}"));
    fs::write(&tmp, data).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path)?;
    Ok(())
}

fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Runs a command; its stdout, or an error with its stderr.
pub(crate) fn run(cmd: &mut Command) -> Result<Vec<u8>> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busybox_is_static_if_present() {
        // busybox-static is a setup dependency: missing, the test fails.
        check_static(Path::new(BUSYBOX)).expect("busybox-static (scripts/setup.sh installs it)");
        // A dynamically linked binary is refused.
        assert!(check_static(Path::new("/bin/ls")).is_err());
    }
}

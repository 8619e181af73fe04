//! A bootable disk holding the same guest: GRUB (BIOS) loads the kernel and
//! initramfs from it. `grub-mkrescue` makes a hybrid ISO, which SeaBIOS boots
//! as a hard disk; `qemu-img convert` turns it into a qcow2 template that VMs
//! clone.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

/// GRUB's menu: straight to the guest, on the serial console.
pub const GRUB_CFG: &str = "\
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
menuentry \"hierro guest\" {
    linux /boot/vmlinuz console=ttyS0 panic=-1 hierro.hostname=disk-guest
    initrd /boot/initrd.img
}
";

/// Writes `out/disk.qcow2` from `out/vmlinuz` and `out/initrd.img`.
pub fn make(out: &Path, work: &Path, tag: u32) -> Result<()> {
    let stage = work.join(format!("disk-{tag}"));
    let _ = fs::remove_dir_all(&stage);
    fs::create_dir_all(stage.join("boot/grub"))?;
    fs::copy(out.join("vmlinuz"), stage.join("boot/vmlinuz"))?;
    fs::copy(out.join("initrd.img"), stage.join("boot/initrd.img"))?;
    fs::write(stage.join("boot/grub/grub.cfg"), GRUB_CFG)?;
    let iso = work.join(format!("disk-{tag}.iso"));
    let result = (|| {
        super::run(
            Command::new("grub-mkrescue")
                .args(["--compress=xz", "-o"])
                .arg(&iso)
                .arg(&stage),
        )
        .context("grub-mkrescue (packages grub-pc-bin, grub-common, xorriso)")?;
        let tmp = out.join(format!("disk.qcow2.tmp-{tag}"));
        super::run(
            Command::new("qemu-img")
                .args(["convert", "-f", "raw", "-O", "qcow2"])
                .arg(&iso)
                .arg(&tmp),
        )?;
        fs::rename(&tmp, out.join("disk.qcow2"))?;
        Ok(())
    })();
    let _ = fs::remove_dir_all(&stage);
    let _ = fs::remove_file(&iso);
    result
}

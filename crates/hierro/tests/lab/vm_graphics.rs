//! CD-ROM drives, boot order and the graphical console through the lab's
//! center: Debian's installer, on an ISO uploaded to the datastore, boots
//! from a VM's CD-ROM to its first screen (read from the screenshot with
//! OCR); the VM's VNC server answers through a one-time ticket, which
//! opens it once; ISOs are inserted and ejected while a guest runs and the
//! guest sees it; bad drives and boot orders are refused; and an OS is
//! installed from an ISO onto an empty disk, which then boots by itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::common::{center_env, cli, guest_sh, wait_until, TestLab};
use futures_util::{SinkExt, StreamExt};
use hierro_api::{Boot, BootDevice, Cdrom, PowerOp, VmCreate};
use tokio_tungstenite::tungstenite::Message;

const BOOT: Duration = Duration::from_secs(180);
const INSTALLER: &str = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64";

/// An ISO that boots Debian's installer (package
/// debian-installer-12-netboot-amd64) with GRUB, as its mini.iso does.
fn installer_iso(work: &Path) -> PathBuf {
    let stage = work.join("installer-iso");
    std::fs::create_dir_all(stage.join("boot/grub")).unwrap();
    for f in ["linux", "initrd.gz"] {
        std::fs::copy(Path::new(INSTALLER).join(f), stage.join(f)).unwrap();
    }
    std::fs::write(
        stage.join("boot/grub/grub.cfg"),
        "set timeout=0\nmenuentry \"Install\" {\n  linux /linux priority=high ---\n  initrd /initrd.gz\n}\n",
    )
    .unwrap();
    let iso = work.join("debian-installer.iso");
    let made = Command::new("grub-mkrescue")
        .arg("-o")
        .arg(&iso)
        .arg(&stage)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    iso
}

/// An installer ISO (GRUB, the test guest's kernel and initrd in installer
/// mode) that writes a bootable system, a disk image with its partition
/// table and boot loader (the guest image's own disk), onto the VM's first
/// disk and powers off.
fn hierro_installer_iso(work: &Path) -> PathBuf {
    let stage = work.join("hierro-installer");
    std::fs::create_dir_all(stage.join("boot/grub")).unwrap();
    let image = crate::common::image_dir();
    for f in ["vmlinuz", "initrd.img"] {
        std::fs::copy(image.join(f), stage.join("boot").join(f)).unwrap();
    }
    let raw = Command::new("qemu-img")
        .args(["convert", "-f", "qcow2", "-O", "raw"])
        .arg(image.join("disk.qcow2"))
        .arg(stage.join("system.img"))
        .output()
        .unwrap();
    assert!(
        raw.status.success(),
        "{}",
        String::from_utf8_lossy(&raw.stderr)
    );
    std::fs::write(
        stage.join("boot/grub/grub.cfg"),
        "set timeout=0\nserial --unit=0 --speed=115200\nterminal_output serial console\n\
         menuentry \"Install\" {\n  linux /boot/vmlinuz console=ttyS0 hierro.hostname=installer hierro.install=system.img\n  initrd /boot/initrd.img\n}\n",
    )
    .unwrap();
    let iso = work.join("hierro-installer.iso");
    let made = Command::new("grub-mkrescue")
        .arg("-o")
        .arg(&iso)
        .arg(&stage)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    iso
}

/// The words OCR finds in a PNG.
fn ocr(png: &[u8], work: &Path) -> String {
    let file = work.join("screen.png");
    std::fs::write(&file, png).unwrap();
    let out = Command::new("tesseract")
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_lowercase()
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

#[tokio::test(flavor = "multi_thread")]
async fn cdrom_boot_and_graphical_console() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t = TestLab::up(34, 1, 0).await;
    let admin = hierro_lab::center::client(&t.lab).await.unwrap();
    let host = hierro_lab::center::host_ids(&t.lab).await.unwrap()[0].clone();
    let env: Vec<(&str, String)> = center_env(&t.lab)
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let work = t.lab.dir.join("graphics");
    std::fs::create_dir_all(&work).unwrap();

    // The installer's ISO, uploaded through the center.
    let iso = installer_iso(&work);
    admin.make_folder("shared", "iso").await.unwrap();
    admin
        .upload_file("shared", "iso/debian-installer.iso", false, &iso, |_| {})
        .await
        .unwrap();
    let iso_path = "[shared] iso/debian-installer.iso";

    // A VM with that CD, an empty disk, no NIC: the CD boots first.
    let mut spec = t.lab.vm_spec("installer", t.lab.vm_ip(0), 1024);
    spec.boot = Boot::Disk;
    spec.nics = vec![];
    spec.cdroms = vec![Cdrom {
        iso: Some(iso_path.into()),
        start_connected: true,
    }];
    spec.boot_order = vec![BootDevice::Cdrom, BootDevice::Disk];

    // Refused, and nothing made: an ISO that is not there, too many
    // drives, a device twice in the boot order.
    let refused = |s: &VmCreate| {
        let admin = admin.clone();
        let host = host.clone();
        let s = s.clone();
        async move { admin.create_vm_placed(&s, &host, None).await.unwrap_err() }
    };
    let mut bad = spec.clone();
    bad.cdroms[0].iso = Some("[shared] iso/nothing.iso".into());
    let e = refused(&bad).await;
    assert!(
        e.status().unwrap() == 400
            && e.to_string()
                .contains("cdroms[0].iso [shared] iso/nothing.iso not found"),
        "{e}"
    );
    let mut bad = spec.clone();
    bad.cdroms = vec![bad.cdroms[0].clone(); 5];
    let e = refused(&bad).await;
    assert!(
        e.status().unwrap() == 400 && e.to_string().contains("at most 4"),
        "{e}"
    );
    let mut bad = spec.clone();
    bad.boot_order = vec![BootDevice::Disk, BootDevice::Disk];
    let e = refused(&bad).await;
    assert!(
        e.status().unwrap() == 400 && e.to_string().contains("twice"),
        "{e}"
    );
    assert!(admin.vms().await.unwrap().is_empty());

    admin
        .run(admin.create_vm_placed(&spec, &host, None).await)
        .await
        .unwrap();
    // No screen while off.
    let e = admin.screenshot("installer").await.unwrap_err();
    assert_eq!(e.status().unwrap(), 409, "{e}");
    admin
        .run(admin.power("installer", PowerOp::On).await)
        .await
        .unwrap();

    // Debian's installer on the display: its first dialog, read by OCR.
    let mut seen = String::new();
    wait_until("the installer's first screen", BOOT, || {
        let png = block_on(admin.screenshot("installer")).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        seen = ocr(&png, &work);
        seen.contains("language") || seen.contains("low memory")
    });
    let (ok, _, err) = cli(
        &[
            "vm",
            "screenshot",
            "installer",
            "--out",
            work.join("cli.png").to_str().unwrap(),
        ],
        &env,
    );
    assert!(ok, "{err}");
    assert!(std::fs::read(work.join("cli.png"))
        .unwrap()
        .starts_with(b"\x89PNG"));

    // The VNC server through the center: RFB's handshake to the server's
    // init, which names the VM and gives its screen's size.
    let ticket = admin.console_ticket("installer").await.unwrap();
    let (w, h, name) = rfb_init(&admin, &ticket.path).await;
    assert!(w >= 640 && h >= 400, "{w}x{h}");
    assert_eq!(name, "QEMU (installer)");
    // The ticket is spent.
    let e = admin.websocket(&ticket.path).await.unwrap_err();
    assert_eq!(e.status().unwrap(), 401, "{e}");
    // A made-up one opens nothing.
    let forged = ticket.path.replace(&ticket.ticket, &"0".repeat(64));
    assert_eq!(
        admin
            .websocket(&forged)
            .await
            .unwrap_err()
            .status()
            .unwrap(),
        401
    );
    // The VM's own client call does all of it again.
    drop(admin.vnc("installer").await.unwrap());

    admin
        .run(admin.power("installer", PowerOp::Off).await)
        .await
        .unwrap();

    // ISOs in and out of a running guest's drive.
    let mut guest = t.lab.vm_spec("reader", t.lab.vm_ip(1), 256);
    guest.cdroms = vec![Cdrom {
        iso: None,
        start_connected: true,
    }];
    admin
        .run(admin.create_vm_placed(&guest, &host, None).await)
        .await
        .unwrap();
    admin
        .run(admin.power("reader", PowerOp::On).await)
        .await
        .unwrap();
    let vm_id = admin.vm("reader").await.unwrap().id.to_string();
    hierro_lab::wait_for_guest(&admin, "reader", BOOT)
        .await
        .unwrap();
    // What the guest finds on the disc in its drive: the files, mounted.
    // (The first read after a change of medium reports the change.)
    let disc = || async {
        guest_sh(
            &t.lab,
            0,
            &vm_id,
            "mkdir -p /mnt/cd; m() { mount -t iso9660 -o ro /dev/sr0 /mnt/cd 2>/dev/null; }; (m || m) && ls /mnt/cd; umount /mnt/cd 2>/dev/null; true",
        )
        .await
        .split_whitespace()
        .map(str::to_string)
        .collect::<Vec<String>>()
    };
    assert!(disc().await.is_empty(), "an empty drive");
    let (ok, _, err) = cli(&["vm", "cdrom", "insert", "reader", iso_path], &env);
    assert!(ok, "{err}");
    let files = disc().await;
    assert!(
        files.contains(&"linux".to_string()) && files.contains(&"initrd.gz".to_string()),
        "the ISO's files: {files:?}"
    );
    assert_eq!(
        admin.vm("reader").await.unwrap().config.cdroms[0]
            .iso
            .as_deref(),
        Some(iso_path)
    );
    // While it is in a running VM's drive, the ISO stays.
    let e = admin
        .delete_file("shared", "iso/debian-installer.iso")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("VM reader uses"), "{e}");
    let (ok, _, err) = cli(&["vm", "cdrom", "eject", "reader"], &env);
    assert!(ok, "{err}");
    assert!(disc().await.is_empty(), "ejected");
    assert_eq!(admin.vm("reader").await.unwrap().config.cdroms[0].iso, None);
    // Refused while it runs: a drive more, an ISO that is not there; the
    // drive stays as it was.
    let (ok, _, err) = cli(
        &["vm", "cdrom", "insert", "reader", "[shared] iso/none.iso"],
        &env,
    );
    assert!(!ok && err.contains("not found"), "{err}");
    let mut two = admin.vm("reader").await.unwrap().config.cdroms;
    two.push(two[0].clone());
    let e = admin
        .update_vm(
            "reader",
            &hierro_api::VmUpdate {
                cdroms: Some(two),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("only while it is off"), "{e}");
    assert!(disc().await.is_empty());

    // Boot once from the CD: set, then spent by the next power-on.
    let (ok, _, err) = cli(&["vm", "boot", "reader", "--once", "cdrom"], &env);
    assert!(ok, "{err}");
    assert_eq!(
        admin.vm("reader").await.unwrap().config.boot_once,
        Some(BootDevice::Cdrom)
    );
    admin
        .run(admin.power("reader", PowerOp::Off).await)
        .await
        .unwrap();
    admin
        .run(admin.power("reader", PowerOp::On).await)
        .await
        .unwrap();
    assert_eq!(admin.vm("reader").await.unwrap().config.boot_once, None);
    admin
        .run(admin.power("reader", PowerOp::Off).await)
        .await
        .unwrap();

    // A guest typed windows gets NICs a Windows installer drives (e1000e),
    // which carry its traffic through vswitchd as virtio's do.
    let mut win = t.lab.vm_spec("win", t.lab.vm_ip(3), 256);
    win.guest_os = hierro_api::GuestOs::Windows;
    admin
        .run(admin.create_vm_placed(&win, &host, None).await)
        .await
        .unwrap();
    let info = admin.vm("win").await.unwrap();
    assert_eq!(info.config.nics[0].model, hierro_api::NicModel::E1000e);
    assert_eq!(info.config.guest_os, hierro_api::GuestOs::Windows);
    admin
        .run(admin.power("win", PowerOp::On).await)
        .await
        .unwrap();
    hierro_lab::wait_for_guest(&admin, "win", BOOT)
        .await
        .unwrap();
    let win_id = admin.vm("win").await.unwrap().id.to_string();
    let driver = guest_sh(
        &t.lab,
        0,
        &win_id,
        "basename $(readlink /sys/class/net/eth0/device/driver)",
    )
    .await;
    assert_eq!(driver.trim(), "e1000e");
    hierro_lab::probe::Counter::connect_within(t.lab.vm_ip(3), BOOT)
        .expect("the guest's counter service over its e1000e NIC");
    // Its model stays while it runs.
    let mut nics: Vec<hierro_api::NicSpec> = vec![];
    for n in &info.config.nics {
        nics.push(hierro_api::NicSpec {
            network: n.network.clone(),
            mac: Some(n.mac.clone()),
            ip: n.ip.clone(),
            gateway: n.gateway.clone(),
            model: Some(hierro_api::NicModel::Virtio),
        });
    }
    let e = admin
        .update_vm(
            "win",
            &hierro_api::VmUpdate {
                nics: Some(nics),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("models change only while it is off"),
        "{e}"
    );
    admin
        .run(admin.power("win", PowerOp::Off).await)
        .await
        .unwrap();

    // An OS installed from an ISO: uploaded, booted from the CD-ROM on an
    // empty disk (which the firmware passes over), written to the disk;
    // the installer powers the VM off; ejected, the VM boots its own disk.
    let installer = hierro_installer_iso(&work);
    admin
        .upload_file(
            "shared",
            "iso/hierro-installer.iso",
            false,
            &installer,
            |_| {},
        )
        .await
        .unwrap();
    let mut target = t.lab.vm_spec("installed", t.lab.vm_ip(2), 256);
    target.boot = Boot::Disk;
    target.nics = vec![];
    target.disk.size_mib = Some(256);
    target.cdroms = vec![Cdrom {
        iso: Some("[shared] iso/hierro-installer.iso".into()),
        start_connected: true,
    }];
    admin
        .run(admin.create_vm_placed(&target, &host, None).await)
        .await
        .unwrap();
    admin
        .run(admin.power("installed", PowerOp::On).await)
        .await
        .unwrap();
    wait_until("the installer to power the VM off", BOOT, || {
        block_on(admin.vm("installed")).unwrap().power_state == hierro_api::PowerState::PoweredOff
    });
    let (ok, _, err) = cli(&["vm", "cdrom", "eject", "installed"], &env);
    assert!(ok, "{err}");
    admin
        .run(admin.power("installed", PowerOp::On).await)
        .await
        .unwrap();
    let booted = hierro_lab::wait_for_guest(&admin, "installed", BOOT)
        .await
        .unwrap();
    // The installed system's name, not the installer's.
    assert_eq!(
        booted.guest.unwrap().host_name.as_deref(),
        Some("disk-guest")
    );
}

/// Opens the VNC WebSocket at `path` and runs RFB 3.8's handshake (no
/// authentication: the ticket was it) to the server's init message:
/// the screen's width, height and the desktop's name.
async fn rfb_init(client: &hierro_client::Client, path: &str) -> (u16, u16, String) {
    let ws = client.websocket(path).await.unwrap();
    let (mut tx, mut rx) = ws.split();
    let mut got: Vec<u8> = vec![];
    let mut need = async |n: usize, got: &mut Vec<u8>| -> Vec<u8> {
        while got.len() < n {
            match rx.next().await.unwrap().unwrap() {
                Message::Binary(b) => got.extend_from_slice(&b),
                other => panic!("unexpected {other:?}"),
            }
        }
        got.drain(..n).collect()
    };
    assert_eq!(need(12, &mut got).await, b"RFB 003.008\n");
    tx.send(Message::Binary(b"RFB 003.008\n".to_vec().into()))
        .await
        .unwrap();
    let count = need(1, &mut got).await[0] as usize;
    let types = need(count, &mut got).await;
    assert!(types.contains(&1), "security types {types:?}");
    tx.send(Message::Binary(vec![1u8].into())).await.unwrap();
    assert_eq!(need(4, &mut got).await, [0, 0, 0, 0], "security result");
    tx.send(Message::Binary(vec![1u8].into())).await.unwrap();
    let init = need(24, &mut got).await;
    let w = u16::from_be_bytes([init[0], init[1]]);
    let h = u16::from_be_bytes([init[2], init[3]]);
    let len = u32::from_be_bytes([init[20], init[21], init[22], init[23]]) as usize;
    let name = String::from_utf8_lossy(&need(len, &mut got).await).into_owned();
    (w, h, name)
}

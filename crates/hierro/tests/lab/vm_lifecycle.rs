//! A real host agent running real QEMU VMs in a lab: power operations,
//! snapshots, linked clones, the console, and surviving an agent SIGKILL.

use std::time::{Duration, Instant};

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use hierro_api::{DiskSpec, PowerOp, PowerState, SnapshotCreate};
use hierro_lab::wait_for_guest;
use tokio_tungstenite::tungstenite::Message;

const BOOT: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread")]
async fn power_cycle_reset_and_guest_shutdown() {
    let t = TestLab::up(11, 1, 1).await;
    let c = t.client(0).await;
    let vm = t.lab.hosts[0].vms[0].clone();

    // Booted to the guest agent, with guest info from it.
    let info = c.vm(&vm.name).await.unwrap();
    assert_eq!(info.power_state, PowerState::PoweredOn);
    let guest = info.guest.expect("guest info");
    assert!(guest.agent_running);
    assert_eq!(guest.host_name.as_deref(), Some(vm.name.as_str()));
    assert!(
        guest.ip_addresses.contains(&vm.ip.to_string()),
        "{:?}",
        guest.ip_addresses
    );
    let runtime = info.runtime.expect("runtime");
    assert_eq!(runtime.accel, hierro_qemu::accel::detect().as_str());
    let first_pid = runtime.pid;
    assert!(process_alive(first_pid));

    let mut counter = Counter::connect(vm.ip).unwrap();
    let before: Vec<u64> = (0..20).map(|_| counter.read().unwrap()).collect();
    assert!(before.windows(2).all(|w| w[1] > w[0]), "{before:?}");

    // Reset: same QEMU, a fresh guest (its counter starts again).
    c.run(c.power(&vm.name, PowerOp::Reset).await)
        .await
        .unwrap();
    wait_for_guest(&c, &vm.name, BOOT).await.unwrap();
    assert_eq!(
        c.vm(&vm.name).await.unwrap().runtime.unwrap().pid,
        first_pid
    );
    let mut counter = Counter::connect(vm.ip).unwrap();
    assert_eq!(
        counter.read().unwrap(),
        0,
        "the guest restarted, so its counter did"
    );

    // Power off: QEMU is gone, as are its sockets.
    c.run(c.power(&vm.name, PowerOp::Off).await).await.unwrap();
    let info = c.vm(&vm.name).await.unwrap();
    assert_eq!(info.power_state, PowerState::PoweredOff);
    assert!(info.runtime.is_none());
    assert!(!process_alive(first_pid));
    let run_dir = t.lab.hosts[0].run_dir.join("vms").join(&vm.id);
    assert!(!run_dir.join("qmp.sock").exists() && !run_dir.join("qemu.pid").exists());

    // An operation that the power state forbids is refused and changes nothing.
    let err = c.power(&vm.name, PowerOp::Off).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));
    assert_eq!(err.code(), Some(hierro_api::ErrorCode::InvalidState));

    // Power on again, then a clean guest shutdown through the agent.
    c.run(c.power(&vm.name, PowerOp::On).await).await.unwrap();
    let info = wait_for_guest(&c, &vm.name, BOOT).await.unwrap();
    let second_pid = info.runtime.unwrap().pid;
    assert_ne!(second_pid, first_pid);
    c.run(c.power(&vm.name, PowerOp::Shutdown).await)
        .await
        .unwrap();
    assert_eq!(
        c.vm(&vm.name).await.unwrap().power_state,
        PowerState::PoweredOff
    );
    assert!(!process_alive(second_pid));

    // Every change was a task and left events.
    let tasks = c.tasks().await.unwrap();
    for op in [
        "VirtualMachine.reset",
        "VirtualMachine.powerOff",
        "VirtualMachine.shutdownGuest",
    ] {
        assert!(
            tasks.iter().any(|t| t.operation == op
                && t.state == hierro_api::TaskState::Success
                && t.user == "root"),
            "no successful {op} task"
        );
    }
    let kinds: Vec<String> = c
        .events(None, Some(&vm.name))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind.to_string())
        .collect();
    for k in [
        "VmCreatedEvent",
        "VmPoweredOnEvent",
        "VmResettingEvent",
        "VmPoweredOffEvent",
        "VmGuestShutdownEvent",
    ] {
        assert!(kinds.iter().any(|x| x == k), "no {k} in {kinds:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshots_revert_memory_and_disk_state() {
    let t = TestLab::up(12, 1, 1).await;
    let c = t.client(0).await;
    let vm = t.lab.hosts[0].vms[0].clone();

    // A snapshot of the running VM holds its memory: the guest's tmpfs
    // (which lives in RAM) comes back as it was.
    guest_sh(&t.lab, 0, &vm.id, "echo before > /tmp/marker").await;
    let snap = |name: &str| SnapshotCreate {
        name: name.into(),
        description: "test".into(),
    };
    c.run(c.snapshot_create(&vm.name, &snap("running")).await)
        .await
        .unwrap();
    guest_sh(&t.lab, 0, &vm.id, "echo after > /tmp/marker").await;
    assert_eq!(
        guest_sh(&t.lab, 0, &vm.id, "cat /tmp/marker").await,
        "after\n"
    );
    c.run(c.snapshot_revert(&vm.name, "running").await)
        .await
        .unwrap();
    assert_eq!(
        c.vm(&vm.name).await.unwrap().power_state,
        PowerState::PoweredOn
    );
    assert_eq!(
        guest_sh(&t.lab, 0, &vm.id, "cat /tmp/marker").await,
        "before\n"
    );

    // Bad snapshot requests are refused.
    let dup = c
        .snapshot_create(&vm.name, &snap("running"))
        .await
        .unwrap_err();
    assert_eq!(dup.status().map(|s| s.as_u16()), Some(409));
    let missing = c.snapshot_revert(&vm.name, "nope").await.unwrap_err();
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404));

    // A snapshot of the powered-off VM holds its disk only.
    guest_sh(
        &t.lab,
        0,
        &vm.id,
        "printf disk-A | dd of=/dev/vda conv=fsync 2>/dev/null; sync",
    )
    .await;
    c.run(c.power(&vm.name, PowerOp::Off).await).await.unwrap();
    c.run(c.snapshot_create(&vm.name, &snap("off")).await)
        .await
        .unwrap();
    c.run(c.power(&vm.name, PowerOp::On).await).await.unwrap();
    wait_for_guest(&c, &vm.name, BOOT).await.unwrap();
    assert_eq!(
        guest_sh(&t.lab, 0, &vm.id, "head -c 6 /dev/vda").await,
        "disk-A"
    );
    guest_sh(
        &t.lab,
        0,
        &vm.id,
        "printf disk-B | dd of=/dev/vda conv=fsync 2>/dev/null; sync",
    )
    .await;
    c.run(c.power(&vm.name, PowerOp::Off).await).await.unwrap();
    c.run(c.snapshot_revert(&vm.name, "off").await)
        .await
        .unwrap();
    assert_eq!(
        c.vm(&vm.name).await.unwrap().power_state,
        PowerState::PoweredOff
    );
    c.run(c.power(&vm.name, PowerOp::On).await).await.unwrap();
    wait_for_guest(&c, &vm.name, BOOT).await.unwrap();
    assert_eq!(
        guest_sh(&t.lab, 0, &vm.id, "head -c 6 /dev/vda").await,
        "disk-A"
    );

    // Reverting a powered-off VM to a memory snapshot resumes it there.
    c.run(c.power(&vm.name, PowerOp::Off).await).await.unwrap();
    c.run(c.snapshot_revert(&vm.name, "running").await)
        .await
        .unwrap();
    assert_eq!(
        c.vm(&vm.name).await.unwrap().power_state,
        PowerState::PoweredOn
    );
    assert_eq!(
        guest_sh(&t.lab, 0, &vm.id, "cat /tmp/marker").await,
        "before\n"
    );

    // Delete: gone from the list and from the disk image.
    c.run(c.snapshot_delete(&vm.name, "running").await)
        .await
        .unwrap();
    let names: Vec<String> = c
        .snapshots(&vm.name)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, vec!["off".to_string()]);
    let disk = t
        .lab
        .datastore_dir
        .join(&vm.name)
        .join(format!("{}.qcow2", vm.name));
    let img = hierro_qemu::img::info(&disk).await.unwrap();
    let tags: Vec<String> = img.snapshots.into_iter().map(|s| s.name).collect();
    assert_eq!(tags, vec!["off".to_string()]);

    // Two operations at once run one after the other, in arrival order: a
    // snapshot queued before a power-off completes with memory.
    let racing = snap("racing");
    let (snap_task, off_task) = tokio::join!(
        c.snapshot_create(&vm.name, &racing),
        c.power(&vm.name, PowerOp::Off)
    );
    let (snap_task, off_task) = (snap_task.unwrap(), off_task.unwrap());
    c.wait(&snap_task, |_| {}).await.unwrap();
    c.wait(&off_task, |_| {}).await.unwrap();
    let racing = c
        .snapshots(&vm.name)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name == "racing")
        .unwrap();
    assert_eq!(racing.memory, snap_task.queued_at < off_task.queued_at);
    assert_eq!(
        c.vm(&vm.name).await.unwrap().power_state,
        PowerState::PoweredOff
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn agent_sigkill_keeps_vms_and_connections() {
    let mut t = TestLab::up(13, 1, 1).await;
    let c = t.client(0).await;
    let vm = t.lab.hosts[0].vms[0].clone();
    let pid = c.vm(&vm.name).await.unwrap().runtime.unwrap().pid;

    // A client reads the guest's counter every 50 ms over one connection.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        let mut counter = Counter::connect(vm.ip).unwrap();
        std::thread::spawn(move || {
            let mut values = vec![];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                values.push(counter.read().map_err(|e| e.to_string())?);
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok::<_, String>(values)
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;

    kill_agent(&t.lab, 0);
    assert!(
        c.vm(&vm.name).await.is_err(),
        "the API is down while the agent is"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(process_alive(pid), "the VM outlives its agent");

    t.lab.restart_agent(0, HIERRO.as_ref()).await.unwrap();
    let c = t.client(0).await;
    let info = c.vm(&vm.name).await.unwrap();
    assert_eq!(info.power_state, PowerState::PoweredOn);
    assert_eq!(info.runtime.unwrap().pid, pid, "the same QEMU was adopted");
    assert!(info.guest.unwrap().agent_running);
    assert_eq!(
        c.datastores().await.unwrap().len(),
        1,
        "configuration survived"
    );
    assert!(c
        .events(None, Some(&vm.name))
        .await
        .unwrap()
        .iter()
        .any(|e| e.kind == "VmReconnectedEvent"));
    tokio::time::sleep(Duration::from_secs(1)).await;

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let values = reader
        .join()
        .unwrap()
        .expect("the client's connection never dropped");
    assert!(values.len() >= 30, "only {} reads", values.len());
    assert!(
        values.windows(2).all(|w| w[1] > w[0]),
        "the counter went back: the guest restarted"
    );

    // The adopted VM is fully managed: console and power work.
    let mut ws = c.console(&vm.name).await.unwrap();
    ws.send(Message::Binary(
        b"echo readopted-$((40+2))\n".to_vec().into(),
    ))
    .await
    .unwrap();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    // The command's output, then the shell's next prompt.
    let done = |s: &str| {
        s.split_once("readopted-42")
            .is_some_and(|(_, after)| after.contains("# "))
    };
    while !done(&seen) {
        assert!(
            Instant::now() < deadline,
            "console never echoed; saw {seen:?}"
        );
        if let Ok(Some(Ok(Message::Binary(b)))) =
            tokio::time::timeout(Duration::from_secs(1), ws.next()).await
        {
            seen.push_str(&String::from_utf8_lossy(&b));
        }
    }
    c.run(c.power(&vm.name, PowerOp::Off).await).await.unwrap();
    assert!(!process_alive(pid));
    half_made_vms_are_swept(&mut t).await;
}

/// An agent killed while it makes a VM (a full copy of a large disk) leaves
/// no half-made VM: the folder never had the VM's name, and when the agent
/// starts again its temporary folder is gone, the task is recorded failed
/// as interrupted, and the name is free.
async fn half_made_vms_are_swept(t: &mut TestLab) {
    // 300 MiB that do not compress: qemu-img takes a while to copy them.
    let big = t.lab.datastore_dir.join("big.raw");
    let mut random = std::fs::File::open("/dev/urandom").unwrap();
    let mut out = std::fs::File::create(&big).unwrap();
    std::io::copy(&mut std::io::Read::take(&mut random, 300 << 20), &mut out).unwrap();
    let c = t.client(0).await;
    let mut spec = t.lab.vm_spec("half", t.lab.vm_ip(5), 256);
    spec.disk = DiskSpec {
        size_mib: None,
        clone_from: Some("[shared] big.raw".into()),
        full_copy: true,
    };
    c.create_vm(&spec).await.unwrap();
    let datastore = t.lab.datastore_dir.clone();
    let staged = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&datastore)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".hierro-new-"))
            .map(|e| e.path())
            .collect()
    };
    // The copy has begun: the disk is in the temporary folder.
    wait_until("the copy to begin", Duration::from_secs(30), || {
        staged().iter().any(|d| d.join("half.qcow2").exists())
    });
    kill_agent(&t.lab, 0);
    assert!(
        !t.lab.datastore_dir.join("half").exists(),
        "a half-made folder under the VM's name"
    );
    t.lab.restart_agent(0, HIERRO.as_ref()).await.unwrap();
    assert_eq!(
        staged(),
        Vec::<std::path::PathBuf>::new(),
        "the half-made folder was left"
    );
    let c = t.client(0).await;
    let failed = c.tasks().await.unwrap();
    let failed = failed
        .iter()
        .find(|t| t.target_name == "half")
        .expect("the interrupted task is recorded");
    assert_eq!(failed.error.as_ref().unwrap().code, "interrupted");
    assert!(c.vm("half").await.is_err());
    spec.disk = DiskSpec::default();
    spec.disk.size_mib = Some(16);
    c.run(c.create_vm(&spec).await)
        .await
        .expect("the name is free");
    std::fs::remove_file(&big).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn linked_clone_and_disk_boot() {
    let t = TestLab::up(15, 1, 0).await;
    let c = t.client(0).await;
    let templates = t.lab.datastore_dir.join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let tmpl = templates.join("base.qcow2");
    hierro_qemu::img::create(&tmpl, 64).await.unwrap();
    write_pattern(&tmpl);

    let mut spec = t.lab.vm_spec("clone1", t.lab.vm_ip(0), 256);
    spec.disk = DiskSpec {
        size_mib: Some(128),
        clone_from: Some("[shared] templates/base.qcow2".into()),
        ..Default::default()
    };
    let task = c.run(c.create_vm(&spec).await).await.unwrap();
    let id = task.target.trim_start_matches("vm:").to_string();
    let disk = t.lab.datastore_dir.join("clone1/clone1.qcow2");
    let img = hierro_qemu::img::info(&disk).await.unwrap();
    assert_eq!(
        img.backing_filename.as_deref(),
        Some("../templates/base.qcow2")
    );
    assert_eq!(img.virtual_size, 128 << 20);

    c.run(c.power("clone1", PowerOp::On).await).await.unwrap();
    wait_for_guest(&c, "clone1", BOOT).await.unwrap();
    assert_eq!(
        guest_sh(&t.lab, 0, &id, "head -c 4096 /dev/vda | tr -d Z | wc -c")
            .await
            .trim(),
        "0"
    );
    // The clone's writes stay in the clone.
    guest_sh(
        &t.lab,
        0,
        &id,
        "printf mine | dd of=/dev/vda conv=fsync 2>/dev/null; sync",
    )
    .await;
    c.run(c.power("clone1", PowerOp::Off).await).await.unwrap();
    let (unchanged, said) = has_pattern(&tmpl);
    assert!(unchanged, "template unchanged: {said}");
    c.run(c.delete_vm("clone1").await).await.unwrap();
    assert!(!disk.exists());
    assert!(tmpl.exists(), "deleting a clone keeps its template");

    // A VM that boots from its disk: a clone of the image's boot disk (GRUB,
    // then the guest), with no kernel given by the host.
    let mut spec = t.lab.vm_spec("diskboot", t.lab.vm_ip(1), 256);
    spec.boot = hierro_api::Boot::Disk;
    spec.disk = DiskSpec {
        size_mib: None,
        clone_from: Some("[shared] images/disk.qcow2".into()),
        ..Default::default()
    };
    c.run(c.create_vm(&spec).await).await.unwrap();
    c.run(c.power("diskboot", PowerOp::On).await).await.unwrap();
    let info = wait_for_guest(&c, "diskboot", BOOT).await.unwrap();
    assert_eq!(
        info.guest.unwrap().host_name.as_deref(),
        Some("disk-guest"),
        "the disk's own boot entry ran"
    );
}

//! vMotion through the lab's center, with real VMs on two lab hosts: a
//! running VM moves while a client outside reads its TCP counter every
//! 10 ms (the connection survives, the VM keeps its object and folder, the
//! destination announces its MAC on the physical network); a
//! destination that dies mid-migration leaves the VM running on the source;
//! a destination without the VM's port group is refused before anything
//! moves; a guest dirtying memory needs auto-converge; a cancelled migration
//! leaves the VM where it was. Maintenance mode moves running VMs, and
//! powered-off ones when asked (cold migration); a cold migration the
//! destination refuses leaves the VM registered where it was.

use std::time::{Duration, Instant};

use crate::common::center::{call, status};
use crate::common::{Counter, TestLab};
use hierro_api::{MigrationStats, PortGroup, PowerOp, PowerState, TaskState, VmMigrate};
use hierro_client::Client;
use hierro_lab::probe::{start_dirtying, GapReader};
use reqwest::Method;
use serde_json::Value;

/// A client of a lab host, pinned to what it presents now.
async fn direct(t: &TestLab, host: usize) -> Client {
    t.lab.client(&t.lab.hosts[host]).await.unwrap()
}

fn migrate_to(host: &str) -> VmMigrate {
    VmMigrate::to(host)
}

#[tokio::test(flavor = "multi_thread")]
async fn vmotion_keeps_tcp_survives_a_dead_destination_and_refuses_early() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t = TestLab::up(23, 2, 1).await;
    let center = hierro_lab::center::client(&t.lab).await.unwrap();
    let ids = hierro_lab::center::host_ids(&t.lab).await.unwrap();
    let (h1, h2) = (ids[0].clone(), ids[1].clone());
    let vm = t.lab.hosts[0].vms[0].clone();
    let object = |c: &Client| {
        let (c, name) = (c.clone(), vm.name.clone());
        async move { crate::common::center::vm_object(&c, &name).await }
    };
    let before = object(&center).await;
    assert_eq!(before["data"]["host"], Value::String(h1.clone()));

    // Refused before anything moves: the same host, and a host without the
    // VM's port group.
    let e = center
        .migrate_to(&vm.name, &migrate_to(&h1))
        .await
        .unwrap_err();
    assert_eq!(status(Err(e)), 400);
    let only_h1 = PortGroup {
        teaming: Default::default(),
        name: "Only H1".into(),
        vswitch: "vSwitch0".into(),
        vlan: 300,
        security: Default::default(),
    };
    let c1 = direct(&t, 0).await;
    c1.add_portgroup(&only_h1).await.unwrap();
    let mut spec = t.lab.vm_spec("pinned", t.lab.vm_ip(50), 128);
    spec.nics[0].network = only_h1.name.clone();
    spec.nics[0].ip = None;
    c1.run(c1.create_vm(&spec).await).await.unwrap();
    c1.run(c1.power("pinned", PowerOp::On).await).await.unwrap();
    crate::common::center::wait_for(
        &center,
        "/api/inventory?kind=vm&name=pinned",
        "the pinned VM running",
        |v| v[0]["data"]["power_state"] == "poweredOn",
    )
    .await;
    let e = center
        .migrate_to("pinned", &migrate_to(&h2))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Only H1"), "{e}");
    assert_eq!(status(Err(e)), 409);
    assert!(
        direct(&t, 1).await.vm("pinned").await.is_err(),
        "nothing moved"
    );
    assert_eq!(
        c1.vm("pinned").await.unwrap().power_state,
        PowerState::PoweredOn
    );

    // Live, with a client reading the guest's counter every 10 ms, from a
    // while before the move to a while after it.
    // tshark on the lab's fabric (the physical switch) waits for the first
    // RARP: the destination announcing the VM's MAC.
    let mac = c1.vm(&vm.name).await.unwrap().config.nics[0].mac.clone();
    let announced = std::env::temp_dir().join(format!("vmotion-rarp-{}.pcap", std::process::id()));
    let mut tshark = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &t.lab.fabric_ns,
            "tshark",
            "-q",
            "-i",
            "fabric0",
        ])
        .args(["-f", "rarp", "-c", "1", "-a", "duration:120", "-w"])
        .arg(&announced)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    crate::common::wait_capture_started(&announced);
    let reader = GapReader::start(Counter::connect(vm.ip).unwrap());
    let enough = Duration::from_secs(30);
    reader.more_answers(20, enough).await.unwrap();
    let task = center.migrate_to(&vm.name, &migrate_to(&h2)).await.unwrap();
    let done = center.wait(&task, |_| {}).await.unwrap();
    let stats: MigrationStats = serde_json::from_value(done.result.unwrap()).unwrap();
    reader.more_answers(20, enough).await.unwrap();
    let gap = reader.finish().expect("the TCP connection survives");
    assert!(tshark.wait().unwrap().success());
    let senders = std::process::Command::new("tshark")
        .args([
            "-r",
            announced.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "eth.src",
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&announced);
    assert_eq!(
        String::from_utf8_lossy(&senders.stdout).trim(),
        mac,
        "the destination announced the VM's MAC"
    );
    eprintln!(
        "vMotion of {}: client's largest gap {} ms; {stats}",
        vm.name,
        gap.as_millis(),
    );
    assert!(stats.bytes > 0 && stats.passes > 0, "{stats:?}");
    // The destination said when the guest resumed there: after it stopped
    // here (one clock in the lab).
    assert!(stats.paused_ms.is_some(), "{stats:?}");
    // It runs on h2 only, and keeps its inventory object.
    let c2 = direct(&t, 1).await;
    assert_eq!(
        c2.vm(&vm.name).await.unwrap().power_state,
        PowerState::PoweredOn
    );
    assert!(c1.vm(&vm.name).await.is_err(), "gone from the source");
    // The lease of the VM's folder went with it.
    let folder = t.lab.datastore_dir.join(&vm.name);
    assert_eq!(
        hierro_host::vm::lease::holder(&folder).as_deref(),
        Some(t.lab.hosts[1].name.as_str())
    );
    let after = object(&center).await;
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["parent"], before["parent"]);
    assert_eq!(after["data"]["host"], Value::String(h2.clone()));

    // The destination dies in the middle: the VM goes on running where it was.
    let id = vm.id.clone();
    let pidfile = t.lab.hosts[0]
        .run_dir
        .join("vms")
        .join(&id)
        .join("qemu.pid");
    let task = center.migrate_to(&vm.name, &migrate_to(&h1)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let incoming = loop {
        if let Some(pid) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "the destination's QEMU never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(incoming),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let failed = center.wait(&task, |_| {}).await;
    assert!(failed.is_err(), "the migration cannot succeed");
    assert_eq!(center.task(task.id).await.unwrap().state, TaskState::Error);
    assert_eq!(
        c2.vm(&vm.name).await.unwrap().power_state,
        PowerState::PoweredOn
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while c1.vm(&vm.name).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the dead destination let the VM go"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut counter = Counter::connect(vm.ip).unwrap();
    assert!(counter.read().unwrap() < counter.read().unwrap());
    assert_eq!(
        object(&center).await["data"]["host"],
        Value::String(h2.clone())
    );
    assert_eq!(
        hierro_host::vm::lease::holder(&folder).as_deref(),
        Some(t.lab.hosts[1].name.as_str()),
        "the lease stays with the source"
    );

    // A guest that rewrites 96 MiB over and over outruns a vMotion network
    // capped at 100 MiB/s; auto-converge slows its vCPUs until the rest can
    // be sent within the 500 ms switchover goal.
    let qga = t.lab.hosts[1]
        .run_dir
        .join("vms")
        .join(&id)
        .join("qga.sock");
    start_dirtying(&qga, 96).await.expect("the workload runs");
    let tight = |host: &str, auto_converge| VmMigrate {
        auto_converge,
        max_bandwidth_mib: Some(100),
        ..VmMigrate::to(host)
    };
    let task = center
        .migrate_to(&vm.name, &tight(&h1, true))
        .await
        .unwrap();
    let done = center.wait(&task, |_| {}).await.unwrap();
    let stats: MigrationStats = serde_json::from_value(done.result.unwrap()).unwrap();
    eprintln!("vMotion of a guest dirtying 96 MiB: {stats:?}");
    assert!(
        stats.cpu_throttle_pct > 0,
        "auto-converge throttled: {stats:?}"
    );
    assert_eq!(
        c1.vm(&vm.name).await.unwrap().power_state,
        PowerState::PoweredOn
    );

    // Without auto-converge that migration does not end; a user cancels it
    // and the VM goes on running on the source, its connection intact.
    let reader = GapReader::start(Counter::connect(vm.ip).unwrap());
    reader.more_answers(5, enough).await.unwrap();
    let task = center
        .migrate_to(&vm.name, &tight(&h2, false))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = center.task(task.id).await.unwrap();
        assert!(now.cancelable, "a running migration can be cancelled");
        if now.progress > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the pre-copy never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cancelling = center.cancel_task(task.id).await.unwrap();
    assert_eq!(cancelling.state, TaskState::Running);
    match center.wait(&task, |_| {}).await.unwrap_err() {
        hierro_client::ClientError::Task { info, .. } => {
            assert_eq!(info.code, "cancelled", "{info:?}");
            let user = &t.lab.center.as_ref().unwrap().user;
            assert!(info.message.contains(user.as_str()), "{info:?}");
        }
        e => panic!("the task should end cancelled, not {e}"),
    }
    let ended = center.task(task.id).await.unwrap();
    assert!(!ended.cancelable);
    let e = center.cancel_task(task.id).await.unwrap_err();
    assert_eq!(status(Err(e)), 409, "an ended task cannot be cancelled");
    reader.more_answers(20, enough).await.unwrap();
    reader
        .finish()
        .expect("the TCP connection survives the cancel");
    assert_eq!(
        c1.vm(&vm.name).await.unwrap().power_state,
        PowerState::PoweredOn
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while c2.vm(&vm.name).await.is_ok() {
        assert!(Instant::now() < deadline, "the destination kept a copy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(object(&center).await["data"]["host"], Value::String(h1));
    assert_eq!(
        hierro_host::vm::lease::holder(&folder).as_deref(),
        Some(t.lab.hosts[0].name.as_str())
    );
    // A switchover goal or a bandwidth cap out of range is refused before
    // anything starts.
    for bad in [
        VmMigrate {
            downtime_ms: 0,
            ..VmMigrate::to(&h2)
        },
        VmMigrate {
            max_bandwidth_mib: Some(0),
            ..VmMigrate::to(&h2)
        },
    ] {
        let e = center.migrate_to(&vm.name, &bad).await.unwrap_err();
        assert_eq!(status(Err(e)), 400);
    }
    assert!(c2.vm(&vm.name).await.is_err(), "nothing moved");
}

/// The inventory's VM objects: (object id, name, host id).
async fn inventory_vms(center: &Client) -> Vec<(String, String, String)> {
    let vms = call(center, Method::GET, "/api/inventory?kind=vm", Value::Null)
        .await
        .unwrap();
    vms.as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (s(&v["id"]), s(&v["name"]), s(&v["data"]["host"]))
        })
        .collect()
}

async fn set_maintenance(center: &Client, host: &str, body: Value) -> hierro_api::Task {
    let path = format!("/api/hosts/{host}/maintenance");
    let task =
        serde_json::from_value(call(center, Method::PUT, &path, body).await.unwrap()).unwrap();
    center.wait(&task, |_| {}).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn maintenance_mode_empties_a_host_and_cold_migration_moves_powered_off_vms() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t = TestLab::up(24, 2, 0).await;
    let center = hierro_lab::center::client(&t.lab).await.unwrap();
    let ids = hierro_lab::center::host_ids(&t.lab).await.unwrap();
    let (h1, h2) = (ids[0].clone(), ids[1].clone());
    // Three running VMs on h1, placed there through the center.
    let names = ["m1", "m2", "m3"];
    for (i, name) in names.iter().enumerate() {
        let spec = t.lab.vm_spec(name, t.lab.vm_ip(10 + i as u32), 128);
        center
            .run(center.create_vm_placed(&spec, &h1, None).await)
            .await
            .unwrap();
        center
            .run(center.power(name, PowerOp::On).await)
            .await
            .unwrap();
    }
    // And one powered off.
    let spec = t.lab.vm_spec("cold1", t.lab.vm_ip(13), 128);
    center
        .run(center.create_vm_placed(&spec, &h1, None).await)
        .await
        .unwrap();
    // A client of m1, once it has booted.
    let mut counter = Counter::connect_within(t.lab.vm_ip(10), Duration::from_secs(120)).unwrap();
    counter.read().unwrap();

    // The powered-off VM moves too when asked: running ones by vMotion
    // first, then it by cold migration.
    let done = set_maintenance(
        &center,
        &h1,
        serde_json::json!({"enabled": true, "move_powered_off": true}),
    )
    .await;
    assert_eq!(done.result, Some(serde_json::json!(4)));
    // h1 has nothing; h2 runs all three and has the powered-off one; the
    // inventory says so.
    let c1 = direct(&t, 0).await;
    assert!(c1.vms().await.unwrap().is_empty());
    let c2 = direct(&t, 1).await;
    for name in names {
        assert_eq!(
            c2.vm(name).await.unwrap().power_state,
            PowerState::PoweredOn
        );
    }
    assert_eq!(
        c2.vm("cold1").await.unwrap().power_state,
        PowerState::PoweredOff
    );
    let vms = inventory_vms(&center).await;
    assert_eq!(vms.len(), 4, "{vms:?}");
    assert!(vms.iter().all(|(_, _, host)| *host == h2), "{vms:?}");
    assert!(
        counter.read().unwrap() < counter.read().unwrap(),
        "a VM's TCP connection survived"
    );
    let events = center.events(None, None).await.unwrap();
    let moved: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == "VmMigratedEvent")
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(moved.len(), 4, "one migration event each: {moved:?}");
    assert_eq!(
        moved.iter().filter(|m| m.contains("downtime")).count(),
        3,
        "the live ones with their figures: {moved:?}"
    );
    assert!(
        moved.iter().any(|m| m.contains("cold1 (powered off)")),
        "{moved:?}"
    );
    // In maintenance mode h1 takes no new VM.
    let spec = t.lab.vm_spec("late", t.lab.vm_ip(20), 128);
    let e = center.create_vm_placed(&spec, &h1, None).await.unwrap_err();
    assert!(e.to_string().contains("maintenance"), "{e}");
    // Out of it, it does again.
    set_maintenance(&center, &h1, serde_json::json!({"enabled": false})).await;
    center
        .run(center.create_vm_placed(&spec, &h1, None).await)
        .await
        .unwrap();
    // Without the flag, a powered-off VM stays, registered, on a host in
    // maintenance mode (as in vSphere).
    let done = set_maintenance(&center, &h1, serde_json::json!({"enabled": true})).await;
    assert_eq!(done.result, Some(serde_json::json!(0)));
    assert_eq!(
        c1.vm("late").await.unwrap().power_state,
        PowerState::PoweredOff
    );

    // A destination that refuses the VM (a VM there has its MAC): nothing
    // changes, the VM stays registered on h1 and the inventory says so.
    let mac = c1.vm("late").await.unwrap().config.nics[0].mac.clone();
    let mut twin = t.lab.vm_spec("twin", t.lab.vm_ip(21), 128);
    twin.nics[0].mac = Some(mac);
    c2.run(c2.create_vm(&twin).await).await.unwrap();
    let (late, _, _) = inventory_vms(&center)
        .await
        .into_iter()
        .find(|(_, name, host)| name == "late" && *host == h1)
        .unwrap();
    let e = center
        .run(center.migrate_to(&late, &migrate_to(&h2)).await)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already in use"), "{e}");
    assert_eq!(
        c1.vm("late").await.unwrap().power_state,
        PowerState::PoweredOff
    );
    assert!(inventory_vms(&center)
        .await
        .contains(&(late.clone(), "late".into(), h1.clone())));
    c2.run(c2.delete_vm("twin").await).await.unwrap();

    // Cold migration out of a host in maintenance mode: the same object
    // and folder on h2, where it powers on and boots.
    let folder = c1.vm("late").await.unwrap().folder;
    let done = center
        .run(center.migrate_to(&late, &migrate_to(&h2)).await)
        .await
        .unwrap();
    assert_eq!(done.state, TaskState::Success);
    assert!(c1.vm("late").await.is_err(), "gone from h1");
    assert_eq!(c2.vm("late").await.unwrap().folder, folder);
    assert!(inventory_vms(&center)
        .await
        .contains(&(late.clone(), "late".into(), h2.clone())));
    center
        .run(center.power(&late, PowerOp::On).await)
        .await
        .unwrap();
    let mut counter = Counter::connect_within(t.lab.vm_ip(20), Duration::from_secs(120)).unwrap();
    counter.read().unwrap();
    // Remove from inventory and register again, through the center: the
    // files stay, the VM comes back powered off where it is placed.
    let folder = c2.vm("cold1").await.unwrap().folder;
    center
        .run(center.unregister_vm("cold1").await)
        .await
        .unwrap();
    assert!(c2.vm("cold1").await.is_err(), "gone from h2");
    assert!(!inventory_vms(&center)
        .await
        .iter()
        .any(|(_, name, _)| name == "cold1"));
    let path = hierro_api::DatastorePath::parse(&folder).unwrap();
    let register = hierro_api::VmRegister {
        datastore: path.datastore.clone(),
        folder: path.path.clone(),
    };
    let obj = center
        .register_vm_placed(&register, &h2, None)
        .await
        .unwrap();
    assert_eq!(obj["name"], "cold1");
    assert_eq!(obj["data"]["host"], Value::String(h2.clone()));
    assert_eq!(
        c2.vm("cold1").await.unwrap().power_state,
        PowerState::PoweredOff
    );
    // Twice is refused, and a folder without a VM too; nothing changes.
    let e = center
        .register_vm_placed(&register, &h2, None)
        .await
        .unwrap_err();
    assert_eq!(status(Err(e)), 409);
    let empty = hierro_api::VmRegister {
        datastore: path.datastore.clone(),
        folder: "images".into(),
    };
    let e = center
        .register_vm_placed(&empty, &h2, None)
        .await
        .unwrap_err();
    assert_eq!(status(Err(e)), 400);
    assert_eq!(
        inventory_vms(&center)
            .await
            .iter()
            .filter(|(_, name, _)| name == "cold1")
            .count(),
        1
    );
}

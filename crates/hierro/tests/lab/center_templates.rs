//! Templates and clones through the lab's center: a powered-off VM becomes
//! a template, which refuses to power on, take snapshots or change its
//! hardware; a VM deployed from it on the other host boots with a full copy
//! of its disk that writes nothing back; a running VM cannot be cloned; a
//! user who may clone VMs but not deploy templates is refused; the template
//! becomes a VM again and powers on. The CLI marks, clones and unmarks. A
//! disk that linked clones read may neither run nor go; a running VM's
//! disk is no base.

use crate::common::center::{call, status, user_with_role, vm_object};
use crate::common::{center_env, cli, guest_sh, has_pattern, write_pattern, TestLab};
use hierro_api::{DiskSpec, PowerOp, SnapshotCreate, TaskState, VmClone, VmUpdate};
use hierro_lab::wait_for_guest;
use reqwest::Method;
use serde_json::{json, Value};

const BOOT: std::time::Duration = std::time::Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread")]
async fn templates_deploy_full_copies_and_refuse_what_templates_cannot_do() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t = TestLab::up(28, 2, 0).await;
    let center = hierro_lab::center::client(&t.lab).await.unwrap();
    let ids = hierro_lab::center::host_ids(&t.lab).await.unwrap();
    let (h1, h2) = (ids[0].clone(), ids[1].clone());

    // The source: a VM on h1 whose disk starts with a known pattern.
    let spec = t.lab.vm_spec("golden", t.lab.vm_ip(0), 256);
    center
        .run(center.create_vm_placed(&spec, &h1, None).await)
        .await
        .unwrap();
    let golden_disk = t.lab.datastore_dir.join("golden/golden.qcow2");
    write_pattern(&golden_disk);

    // A running VM is neither made a template nor cloned.
    center
        .run(center.power("golden", PowerOp::On).await)
        .await
        .unwrap();
    let mark = |template: bool| VmUpdate {
        template: Some(template),
        ..Default::default()
    };
    let e = center.update_vm("golden", &mark(true)).await;
    let e = center.run(e).await.unwrap_err();
    assert!(e.to_string().contains("power it off"), "{e}");
    let clone = |name: &str| VmClone {
        name: name.into(),
        datastore: None,
        nics: None,
    };
    let e = center.clone_vm("golden", &clone("hot"), &h2, None).await;
    assert_eq!(status(e.map(|_| Value::Null)), 409);
    center
        .run(center.power("golden", PowerOp::Off).await)
        .await
        .unwrap();

    // A template: in the inventory as one, and refusing to run or change.
    center
        .run(center.update_vm("golden", &mark(true)).await)
        .await
        .unwrap();
    let object = vm_object(&center, "golden").await;
    assert_eq!(object["data"]["template"], true);
    let e = center.run(center.power("golden", PowerOp::On).await).await;
    assert!(e.unwrap_err().to_string().contains("is a template"));
    let snap = SnapshotCreate {
        name: "s1".into(),
        description: String::new(),
    };
    let e = center
        .run(center.snapshot_create("golden", &snap).await)
        .await;
    assert!(e.unwrap_err().to_string().contains("is a template"));
    let bigger = VmUpdate {
        memory_mib: Some(384),
        ..Default::default()
    };
    let e = center.run(center.update_vm("golden", &bigger).await).await;
    assert!(e.unwrap_err().to_string().contains("is a template"));

    // Deployed on h2: the template's hardware, its disk's data in a copy
    // that depends on nothing, and its writes stay its own.
    let mut req = clone("from-golden");
    req.nics = Some(vec![hierro_api::NicSpec {
        network: spec.nics[0].network.clone(),
        mac: None,
        ip: Some(format!("{}/24", t.lab.vm_ip(1))),
        gateway: None,
        model: None,
    }]);
    let task = center
        .run(center.clone_vm("golden", &req, &h2, None).await)
        .await
        .unwrap();
    assert_eq!(task.state, TaskState::Success);
    assert_eq!(task.operation, "VirtualMachine.deploy");
    let info = center.vm("from-golden").await.unwrap();
    assert_eq!(info.config.memory_mib, 256);
    assert!(!info.config.template);
    assert_eq!(info.config.disk.clone_of, None);
    let copy = t.lab.datastore_dir.join("from-golden/from-golden.qcow2");
    let img = hierro_qemu::img::info(&copy).await.unwrap();
    assert_eq!(
        img.backing_filename, None,
        "a full copy has no backing file"
    );
    let placed = vm_object(&center, "from-golden").await;
    assert_eq!(placed["data"]["host"], Value::String(h2.clone()));
    center
        .run(center.power("from-golden", PowerOp::On).await)
        .await
        .unwrap();
    wait_for_guest(&center, "from-golden", BOOT).await.unwrap();
    let vm_id = info.id.to_string();
    assert_eq!(
        guest_sh(&t.lab, 1, &vm_id, "head -c 4096 /dev/vda | tr -d Z | wc -c")
            .await
            .trim(),
        "0",
        "the copy starts with the template's data"
    );
    guest_sh(
        &t.lab,
        1,
        &vm_id,
        "printf mine | dd of=/dev/vda conv=fsync 2>/dev/null; sync",
    )
    .await;
    let (unchanged, said) = has_pattern(&golden_disk);
    assert!(unchanged, "the template is unchanged: {said}");
    let events = call(
        &center,
        Method::GET,
        "/api/events?kind=VmDeployedEvent",
        Value::Null,
    )
    .await
    .unwrap();
    assert!(
        events.as_array().unwrap().iter().any(|e| e["message"]
            .as_str()
            .unwrap()
            .contains("from template golden")),
        "{events}"
    );

    // May clone VMs, may not deploy templates: refused, nothing made.
    let role = call(
        &center,
        Method::POST,
        "/api/roles",
        json!({"name": "Cloner", "privileges": [
            "VirtualMachine.Provisioning.Clone", "VirtualMachine.Inventory.Create",
            "Resource.AssignVMToPool", "Datastore.AllocateSpace", "Network.Assign"]}),
    )
    .await
    .unwrap();
    user_with_role(&center, "cloner", role["id"].as_str().unwrap(), "root").await;
    let cloner = hierro_lab::center::login(&t.lab, "cloner", "cloner password")
        .await
        .unwrap();
    let e = cloner.clone_vm("golden", &clone("sneaky"), &h1, None).await;
    assert_eq!(status(e.map(|_| Value::Null)), 403);
    assert!(!t.lab.datastore_dir.join("sneaky").exists());

    // The CLI: the template becomes a VM again, which runs; then a VM clone
    // of it (powered off) by name, and back to a template.
    let env = center_env(&t.lab);
    let (ok, _, err) = cli(&["vm", "mark-vm", "golden"], &env);
    assert!(ok, "{err}");
    center
        .run(center.power("golden", PowerOp::On).await)
        .await
        .unwrap();
    center
        .run(center.power("golden", PowerOp::Off).await)
        .await
        .unwrap();
    let (ok, stdout, err) = cli(
        &["vm", "clone", "golden", "copy2", "--placement", &h1],
        &env,
    );
    assert!(ok && stdout.contains("created copy2"), "{stdout} {err}");
    let copy2 = center.vm("copy2").await.unwrap();
    assert_eq!(copy2.config.nics.len(), 1);
    assert_ne!(copy2.config.nics[0].mac, spec_mac(&center, "golden").await);
    assert_eq!(copy2.config.nics[0].ip, None);
    let (ok, _, err) = cli(&["vm", "mark-template", "golden"], &env);
    assert!(ok, "{err}");
    assert!(center.vm("golden").await.unwrap().config.template);
    let (ok, listing, err) = cli(&["vm", "ls"], &env);
    assert!(ok, "{err}");
    let line = listing.lines().find(|l| l.contains(" golden ")).unwrap();
    assert!(line.contains(" template "), "{listing}");
    let (ok, _, err) = cli(&["vm", "clone", "nope", "copy3", "--placement", &h1], &env);
    assert!(!ok && err.contains("nope"), "{err}");

    // A linked clone of the template's disk pins it: made a VM again, the
    // base may neither run nor go until the clone does.
    let mut linked = t.lab.vm_spec("linked", t.lab.vm_ip(2), 256);
    linked.disk = DiskSpec {
        clone_from: Some("[shared] golden/golden.qcow2".into()),
        ..Default::default()
    };
    center
        .run(center.create_vm_placed(&linked, &h2, None).await)
        .await
        .unwrap();
    center
        .run(center.update_vm("golden", &mark(false)).await)
        .await
        .unwrap();
    for refused in [
        center.power("golden", PowerOp::On).await,
        center.delete_vm("golden").await,
    ] {
        let e = refused.unwrap_err();
        assert!(
            e.to_string().contains("base of the linked clone linked"),
            "{e}"
        );
    }
    // Nor is a running VM's disk a base.
    let mut hot = t.lab.vm_spec("linked-hot", t.lab.vm_ip(3), 256);
    hot.disk = DiskSpec {
        clone_from: Some("[shared] from-golden/from-golden.qcow2".into()),
        ..Default::default()
    };
    let e = center.create_vm_placed(&hot, &h2, None).await.unwrap_err();
    assert!(e.to_string().contains("which is running"), "{e}");
    assert!(!t.lab.datastore_dir.join("linked-hot").exists());
    center.run(center.delete_vm("linked").await).await.unwrap();
    center
        .run(center.power("golden", PowerOp::On).await)
        .await
        .unwrap();
}

/// The MAC of a VM's first NIC.
async fn spec_mac(c: &hierro_client::Client, vm: &str) -> String {
    c.vm(vm).await.unwrap().config.nics[0].mac.clone()
}

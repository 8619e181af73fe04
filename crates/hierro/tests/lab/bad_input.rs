//! Bad input and failing backends: a clear error with the right status, and
//! nothing left half made.

use crate::common::*;
use hierro_api::{Boot, DiskSpec, PowerState, VmCreate};
use hierro_client::{Client, ClientError, Trust};
use reqwest::Method;

fn assert_refused(r: Result<hierro_api::Task, ClientError>, status: u16, needle: &str) {
    match r {
        Err(ClientError::Api { status: s, info }) => {
            assert_eq!(s.as_u16(), status, "{info}");
            assert!(
                info.message.contains(needle),
                "{:?} does not mention {needle:?}",
                info.message
            );
        }
        other => panic!("expected a {status} error mentioning {needle:?}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_refused_and_change_nothing() {
    let t = TestLab::up(14, 1, 0).await;
    let host = &t.lab.hosts[0];
    let c = t.client(0).await;

    // No session, a wrong password, a wrong certificate pin.
    let anon = Client::new(&host.url, Trust::Thumbprint(host.thumbprint.clone())).unwrap();
    assert_eq!(
        anon.vms().await.unwrap_err().status().map(|s| s.as_u16()),
        Some(401)
    );
    let mut wrong = Client::new(&host.url, Trust::Thumbprint(host.thumbprint.clone())).unwrap();
    assert_eq!(
        wrong
            .login("root", "nope")
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(401)
    );
    let mut mitm = Client::new(&host.url, Trust::Thumbprint("AA:BB".into())).unwrap();
    let err = mitm.login(&t.lab.user, &t.lab.password).await.unwrap_err();
    assert!(err.to_string().contains("thumbprint"), "{err}");

    let good = t.lab.vm_spec("good", t.lab.vm_ip(0), 256);
    let with = |f: &dyn Fn(&mut VmCreate)| {
        let mut s = good.clone();
        f(&mut s);
        s
    };
    let cases: Vec<(VmCreate, u16, &str)> = vec![
        (with(&|s| s.cpus = 0), 400, "cpus"),
        (with(&|s| s.memory_mib = 1), 400, "memory_mib"),
        (with(&|s| s.name = "../etc".into()), 400, "name"),
        (with(&|s| s.datastore = "nope".into()), 404, "nope"),
        (with(&|s| s.disk = DiskSpec::default()), 400, "disk"),
        (
            with(&|s| {
                s.disk = DiskSpec {
                    size_mib: Some(64),
                    full_copy: true,
                    ..Default::default()
                }
            }),
            400,
            "full_copy",
        ),
        (
            with(&|s| s.disk.clone_from = Some("[shared] no/such.qcow2".into())),
            400,
            "disk.clone_from",
        ),
        (
            with(&|s| {
                s.boot = Boot::Kernel {
                    kernel: "[shared] images/missing".into(),
                    initrd: None,
                    cmdline: String::new(),
                }
            }),
            400,
            "boot.kernel",
        ),
        (
            with(&|s| s.nics[0].network = "Nowhere".into()),
            400,
            "nics[0].network",
        ),
        (
            with(&|s| s.nics[0].ip = Some("10.1.2.3".into())),
            400,
            "nics[0].ip",
        ),
        (
            with(&|s| s.nics[0].mac = Some("01:00:5e:00:00:01".into())),
            400,
            "multicast",
        ),
    ];
    for (spec, status, needle) in cases {
        assert_refused(c.create_vm(&spec).await, status, needle);
    }
    // An unknown field is named.
    let mut raw = serde_json::to_value(&good).unwrap();
    raw["colour"] = "red".into();
    let r: Result<hierro_api::Task, _> = c.call(Method::POST, "/api/vms", Some(&raw)).await;
    assert_refused(r, 400, "colour");
    // Nothing was made.
    assert!(c.vms().await.unwrap().is_empty());
    let folders: Vec<_> = std::fs::read_dir(&t.lab.datastore_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(folders, vec![std::ffi::OsString::from("images")]);

    // Duplicate names: one create wins, also when two race.
    c.run(c.create_vm(&good).await).await.unwrap();
    assert_refused(c.create_vm(&good).await, 409, "exists already");
    let race = t.lab.vm_spec("race", t.lab.vm_ip(1), 256);
    let (a, b) = tokio::join!(c.create_vm(&race), c.create_vm(&race));
    assert_eq!(
        [a.is_ok(), b.is_ok()].iter().filter(|x| **x).count(),
        1,
        "{a:?} {b:?}"
    );
    let ok = if a.is_ok() { a } else { b };
    c.run(ok).await.unwrap();
    // A MAC already in use is refused.
    let used = c.vm("good").await.unwrap().config.nics[0].mac.clone();
    let mut dup_mac = t.lab.vm_spec("dupmac", t.lab.vm_ip(2), 256);
    dup_mac.nics[0].mac = Some(used);
    assert_refused(c.create_vm(&dup_mac).await, 409, "in use");

    // A template that is not a qcow2: the task fails and leaves no folder.
    std::fs::write(
        t.lab.datastore_dir.join("images/junk.qcow2"),
        b"not a disk image",
    )
    .unwrap();
    let mut junk = t.lab.vm_spec("badclone", t.lab.vm_ip(3), 256);
    junk.disk.clone_from = Some("[shared] images/junk.qcow2".into());
    let err = c.run(c.create_vm(&junk).await).await.unwrap_err();
    assert!(matches!(err, ClientError::Task { .. }), "{err}");
    assert!(
        !t.lab.datastore_dir.join("badclone").exists(),
        "half-made VM left behind"
    );
    assert!(c.vm("badclone").await.is_err());

    // A QEMU that cannot start: the power-on task says why, the VM stays off
    // and nothing of the attempt remains.
    // (A Linux boot header of protocol 1.0, too old for an initrd: QEMU
    // refuses it at start.)
    let mut old_kernel = vec![0u8; 4096];
    old_kernel[0x202..0x206].copy_from_slice(b"HdrS");
    old_kernel[0x206..0x208].copy_from_slice(&0x0100u16.to_le_bytes());
    std::fs::write(t.lab.datastore_dir.join("images/old-kernel"), old_kernel).unwrap();
    let mut bad_kernel = t.lab.vm_spec("badkernel", t.lab.vm_ip(4), 256);
    bad_kernel.boot = Boot::Kernel {
        kernel: "[shared] images/old-kernel".into(),
        initrd: Some("[shared] images/initrd.img".into()),
        cmdline: String::new(),
    };
    let task = c.run(c.create_vm(&bad_kernel).await).await.unwrap();
    let id = task.target.trim_start_matches("vm:").to_string();
    let err = c
        .run(c.power("badkernel", hierro_api::PowerOp::On).await)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("QEMU failed to start"), "{err}");
    assert_eq!(
        c.vm("badkernel").await.unwrap().power_state,
        PowerState::PoweredOff
    );
    let run = t.lab.hosts[0].run_dir.join("vms").join(&id);
    assert!(!run.join("qemu.pid").exists() && !run.join("qmp.sock").exists());

    // Unknown operations and objects.
    let r: Result<hierro_api::Task, _> = c
        .call(Method::POST, "/api/vms/good/power/explode", None::<&()>)
        .await;
    assert_refused(r, 400, "explode");
    // A query parameter of the wrong type: our JSON error (not axum's
    // plain text, which the client would call "http"), naming it.
    let r: Result<hierro_api::Task, _> = c
        .call(Method::GET, "/api/events?since=yesterday", None::<&()>)
        .await;
    assert_eq!(
        r.as_ref().err().and_then(|e| e.code()),
        Some(hierro_api::ErrorCode::InvalidArgument),
        "{r:?}"
    );
    assert_refused(r, 400, "since");
    let r: Result<hierro_api::Task, _> = c
        .call(Method::GET, "/api/tasks/not-a-task", None::<&()>)
        .await;
    assert_eq!(
        r.as_ref().err().and_then(|e| e.code()),
        Some(hierro_api::ErrorCode::InvalidArgument),
        "{r:?}"
    );
    assert_eq!(
        c.vm("ghost")
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(404)
    );
    assert_eq!(
        c.power("good", hierro_api::PowerOp::Shutdown)
            .await
            .unwrap_err()
            .code(),
        Some(hierro_api::ErrorCode::InvalidState)
    );

    // Admission: a VM with more memory than the host has is made, but
    // its power-on is refused with the reason, and it stays off.
    let mut huge = t.lab.vm_spec("huge", t.lab.vm_ip(8), 512 * 1024);
    huge.disk = DiskSpec {
        size_mib: Some(16),
        ..Default::default()
    };
    c.run(c.create_vm(&huge).await).await.unwrap();
    let e = c
        .run(c.power("huge", hierro_api::PowerOp::On).await)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("memory_overcommit"), "{e}");
    assert_eq!(
        c.vm("huge").await.unwrap().power_state,
        PowerState::PoweredOff
    );
    c.run(c.delete_vm("huge").await).await.unwrap();

    // Datastores: a path that is not a directory, a name that is taken.
    let ds = |name: &str, path: &str| hierro_api::DatastoreCreate {
        name: name.into(),
        path: path.into(),
    };
    let e = c
        .add_datastore(&ds("d2", "/nonexistent"))
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(400));
    let e = c.add_datastore(&ds("shared", "/tmp")).await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(409));
    // Not the root, not a system directory, not outside datastore_roots.
    for path in ["/", "/etc", "/usr/share", "/tmp"] {
        let e = c.add_datastore(&ds("d3", path)).await.unwrap_err();
        assert_eq!(e.status().map(|s| s.as_u16()), Some(400), "{path}: {e}");
    }
    assert_eq!(c.datastores().await.unwrap().len(), 1);
    // A symbolic link out of the datastore is not a way out: a clone of
    // it is refused, naming the datastore path, not the host's.
    let link = t.lab.datastore_dir.join("shadow.qcow2");
    std::os::unix::fs::symlink("/etc/shadow", &link).unwrap();
    let mut spec = t.lab.vm_spec("stolen", t.lab.vm_ip(7), 128);
    spec.disk = DiskSpec {
        size_mib: None,
        clone_from: Some("[shared] shadow.qcow2".into()),
        full_copy: true,
    };
    assert_refused(
        c.create_vm(&spec).await,
        400,
        "[shared] shadow.qcow2 leads out",
    );
    std::fs::remove_file(&link).unwrap();
    assert!(c.vm("stolen").await.is_err());

    // Network: bad changes are refused and the configuration stays as it was.
    let net = c.network().await.unwrap();
    let vmk_mac = net.vmknics[0].mac.clone().unwrap();
    let pg = |name: &str, vlan: u16| hierro_api::PortGroup {
        teaming: Default::default(),
        name: name.into(),
        vswitch: "vSwitch0".into(),
        vlan,
        security: Default::default(),
    };
    let status = |e: ClientError| (e.status().map(|s| s.as_u16()).unwrap_or(0), e.to_string());
    let (code, msg) = status(c.add_portgroup(&pg("Bad", 4096)).await.unwrap_err());
    assert!(code == 400 && msg.contains("VLAN"), "{msg}");
    // (A valid one is accepted, and removed again.)
    c.add_portgroup(&pg("Orphan", 5)).await.unwrap();
    c.remove_portgroup("Orphan").await.unwrap();
    // Names: no control or invisible characters, at most 80, and one name
    // however its accents are encoded.
    for bad in [
        "a\u{0}b".to_string(),
        "zero\u{200B}width".into(),
        "p".repeat(10_000),
    ] {
        let (code, msg) = status(c.add_portgroup(&pg(&bad, 5)).await.unwrap_err());
        assert!(code == 400 && msg.len() < 300, "{code} {msg}");
    }
    c.add_portgroup(&pg("Café", 7)).await.unwrap();
    assert_eq!(
        status(c.add_portgroup(&pg("Cafe\u{301}", 7)).await.unwrap_err()).0,
        409
    );
    c.remove_portgroup("Café").await.unwrap();
    let mut sw = net.vswitches[0].clone();
    sw.uplinks.push("nosuchnic".into());
    let (code, msg) = status(c.set_vswitch(&sw).await.unwrap_err());
    assert!(code == 400 && msg.contains("nosuchnic"), "{msg}");
    let mut sw = net.vswitches[0].clone();
    sw.mtu = 9001;
    assert_eq!(status(c.set_vswitch(&sw).await.unwrap_err()).0, 400);
    let (code, msg) = status(c.remove_portgroup("VM Network").await.unwrap_err());
    assert!(code == 409 && msg.contains("in use"), "{msg}");
    let (code, msg) = status(c.remove_portgroup("Management Network").await.unwrap_err());
    assert!(code == 409 && msg.contains("vmk0"), "{msg}");
    let dup_vmk = hierro_api::VmkNic {
        name: "vmk0".into(),
        portgroup: "VM Network".into(),
        mac: None,
        ip: None,
        services: vec![],
    };
    assert_eq!(status(c.add_vmknic(&dup_vmk).await.unwrap_err()).0, 409);
    let mut vmk_clash = t.lab.vm_spec("clash", t.lab.vm_ip(5), 256);
    vmk_clash.nics[0].mac = Some(vmk_mac);
    assert_refused(c.create_vm(&vmk_clash).await, 409, "in use");
    assert_eq!(
        c.network().await.unwrap(),
        net,
        "refused changes changed nothing"
    );

    // A center without fault injection refuses a test's request to fail
    // a step, and does nothing.
    let center = hierro_lab::center::client(&t.lab).await.unwrap();
    let h1 = hierro_lab::center::host_ids(&t.lab).await.unwrap()[0].clone();
    let spec = t.lab.vm_spec("injected", t.lab.vm_ip(6), 128);
    let failing = center.clone().failing_step(1);
    assert_refused(
        failing.create_vm_placed(&spec, &h1, None).await,
        400,
        "fault_injection",
    );
    assert!(c.vm("injected").await.is_err(), "nothing was made");

    // What a hostile client sends the center gets the right status and a
    // JSON error: an array for an object, another content type, a body
    // over the limit, a method the path does not take, an empty address.
    let url = &t.lab.center.as_ref().unwrap().url;
    let token = center.token();
    let json = "application/json";
    let raw = |method: Method, path: &'static str, ctype: &'static str, body: Vec<u8>| {
        crate::common::center::raw(url, token, method, path, ctype, body)
    };
    let (code, e) = raw(
        Method::PATCH,
        "/api/inventory/root",
        json,
        b"[null,null]".to_vec(),
    )
    .await;
    assert!(
        code == 400
            && e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("JSON object"),
        "{e}"
    );
    let body = br#"{"kind": "folder", "name": "x", "parent": "root"}"#.to_vec();
    let (code, e) = raw(Method::POST, "/api/inventory", "text/plain", body).await;
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(3 << 20)).into_bytes();
    let (code, e) = raw(Method::POST, "/api/groups", json, big).await;
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    let (code, e) = raw(Method::PATCH, "/api/tasks", json, b"{}".to_vec()).await;
    assert_eq!(
        (code, e["error"]["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    // Names on the center as on the host; free text is bounded too.
    for body in [
        r#"{"kind": "folder", "name": "a\u0000b", "parent": "root"}"#.to_string(),
        r#"{"kind": "folder", "name": "bidi\u202eexe.txt", "parent": "root"}"#.to_string(),
        format!(r#"{{"name": "{}", "privileges": []}}"#, "r".repeat(10_000)),
        format!(
            r#"{{"name": "eve", "password": "long enough", "full_name": "{}"}}"#,
            "f".repeat(10_000)
        ),
    ] {
        let path = if body.contains("kind") {
            "/api/inventory"
        } else if body.contains("password") {
            "/api/users"
        } else {
            "/api/roles"
        };
        let (code, e) = raw(Method::POST, path, json, body.into_bytes()).await;
        let message = e["error"]["message"].as_str().unwrap_or_default();
        assert!(code == 400 && message.len() < 300, "{code} {e}");
    }
    let cafe = |name: &str| {
        format!(r#"{{"kind": "folder", "name": "{name}", "parent": "root"}}"#).into_bytes()
    };
    let (code, e) = raw(Method::POST, "/api/inventory", json, cafe("Café")).await;
    assert_eq!(code, 201, "{e}");
    let (code, e) = raw(Method::POST, "/api/inventory", json, cafe("Cafe\u{301}")).await;
    assert_eq!(code, 409, "one name, however encoded: {e}");

    let cluster = hierro_lab::center::cluster_id(&t.lab).await.unwrap();
    let add = hierro_api::AddHost {
        address: String::new(),
        username: "root".into(),
        password: "x".into(),
        thumbprint: None,
        parent: cluster,
        lockdown: false,
        force: false,
    };
    let e = center.add_host(&add).await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(400), "{e}");
    let (_, folders) = raw(Method::GET, "/api/inventory?kind=folder", json, vec![]).await;
    assert!(
        folders.as_array().unwrap().iter().all(|f| f["name"] != "x"),
        "nothing was made: {folders}"
    );

    // Delete removes the VM and its folder.
    c.run(c.delete_vm("good").await).await.unwrap();
    assert!(!t.lab.datastore_dir.join("good").exists());
    let names: Vec<String> = c.vms().await.unwrap().into_iter().map(|v| v.name).collect();
    assert_eq!(names, vec!["badkernel".to_string(), "race".to_string()]);
}

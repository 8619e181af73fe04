//! VMs through a center, on SQLite and then on PostgreSQL, with two real
//! lab hosts in a cluster: a VM placed by the cluster into a folder, power,
//! console, snapshots and delete as tasks that follow the hosts' tasks;
//! refusals at once; privileges; and a center SIGKILLed in the middle of
//! a task that comes back with everything it had committed.

use std::time::Duration;

use crate::common::center::{call, create, login, start, status, wait_for, Center};
use crate::common::TestLab;
use futures_util::StreamExt;
use hierro_api::{PowerOp, PowerState, SnapshotCreate, TaskState};
use hierro_client::ClientError;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn vms_through_the_center_on_sqlite_and_postgresql() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pg_server = std::env::var("HIERRO_TEST_POSTGRES")
        .expect("HIERRO_TEST_POSTGRES is not set: scripts/test.sh starts PostgreSQL");
    let pg_url = hierro_center::db::Db::create_database(&pg_server, "hierro_center_vms")
        .await
        .unwrap();
    let t = TestLab::without_center(22, 2, 0).await;
    for (round, database) in [None, Some(pg_url)].into_iter().enumerate() {
        let mut center = start(database).await;
        exercise(&t, &mut center, round as u32).await;
    }
    let _ = hierro_center::db::Db::drop_database(&pg_server, "hierro_center_vms").await;
}

fn code(e: &ClientError) -> String {
    match e {
        ClientError::Api { info, .. } | ClientError::Task { info, .. } => info.code.to_string(),
        _ => String::new(),
    }
}

async fn exercise(t: &TestLab, center: &mut Center, round: u32) {
    let admin = login(center, "administrator", "admin password").await;
    let post = |path: &'static str, body: Value| call(&admin, Method::POST, path, body);
    let dc = create(&admin, "datacenter", "DC", "root").await;
    let cluster = create(&admin, "cluster", "Cluster", &dc).await;
    let apps = create(&admin, "folder", "Apps", &dc).await;
    let mut hosts = vec![];
    for h in &t.lab.hosts {
        let address = h.ip.to_string();
        let thumbprint = hierro_client::fetch_thumbprint(&address).await.unwrap();
        let added = post(
            "/api/hosts",
            json!({"address": address, "username": t.lab.user, "password": t.lab.password, "thumbprint": thumbprint, "parent": cluster}),
        )
        .await
        .unwrap();
        hosts.push(added["id"].as_str().unwrap().to_string());
    }

    // Bad requests change nothing.
    let name = format!("web{round}");
    let spec = t.lab.vm_spec(&name, t.lab.vm_ip(round), 128);
    let e = admin.create_vm(&spec).await.unwrap_err();
    assert_eq!(status(Err(e)), 400, "no placement");
    let mut bad = spec.clone();
    bad.datastore = "nowhere".into();
    let e = admin
        .create_vm_placed(&bad, &cluster, None)
        .await
        .unwrap_err();
    assert_eq!(status(Err(e)), 400, "unknown datastore");
    let e = admin
        .create_vm_placed(&spec, &apps, None)
        .await
        .unwrap_err();
    assert_eq!(status(Err(e)), 400, "a folder is no placement");
    let vms = call(&admin, Method::GET, "/api/inventory?kind=vm", Value::Null)
        .await
        .unwrap();
    assert!(vms.as_array().unwrap().is_empty());

    // Placed by the cluster on one of its hosts, into the folder asked for.
    let task = admin
        .create_vm_placed(&spec, &cluster, Some(&apps))
        .await
        .unwrap();
    assert_eq!(task.state, TaskState::Running);
    assert_eq!(task.operation, "VirtualMachine.create");
    let done = admin.wait(&task, |_| {}).await.unwrap();
    let vm = done.result.unwrap();
    assert_eq!(vm["parent"], json!(apps));
    assert!(hosts.contains(&vm["data"]["host"].as_str().unwrap().to_string()));
    let vm_id = vm["id"].as_str().unwrap().to_string();
    let path = format!("/api/inventory/{vm_id}");

    // Power on, by name: the inventory shows it when the task ends.
    admin
        .run(admin.power(&name, PowerOp::On).await)
        .await
        .unwrap();
    let obj = call(&admin, Method::GET, &path, Value::Null).await.unwrap();
    assert_eq!(obj["data"]["power_state"], "poweredOn");
    assert_eq!(
        admin.vm(&name).await.unwrap().power_state,
        PowerState::PoweredOn
    );
    // The host refuses at once what cannot be done, and no task is made.
    let before = admin.tasks().await.unwrap().len();
    let e = admin.power(&name, PowerOp::On).await.unwrap_err();
    assert_eq!(code(&e), "invalid_state", "{e}");
    assert_eq!(admin.tasks().await.unwrap().len(), before);

    // The console, relayed by the center: the guest's boot output arrives.
    let mut console = admin.console(&vm_id).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(20), console.next())
        .await
        .expect("console output")
        .unwrap()
        .unwrap();
    assert!(!first.into_data().is_empty());
    drop(console);

    // A read-only user sees the VM but may not act on it; with No access
    // on the folder, it does not even see it.
    post(
        "/api/users",
        json!({"name": "viewer", "password": "viewer password"}),
    )
    .await
    .unwrap();
    post(
        "/api/permissions",
        json!({"principal": {"user": "viewer"}, "role": "read-only", "object": "root", "propagate": true}),
    )
    .await
    .unwrap();
    let viewer = login(center, "viewer", "viewer password").await;
    assert_eq!(viewer.vm(&name).await.unwrap().name, name);
    let e = viewer.power(&name, PowerOp::Off).await.unwrap_err();
    assert_eq!(status(Err(e)), 403);
    post(
        "/api/permissions",
        json!({"principal": {"user": "viewer"}, "role": "no-access", "object": apps, "propagate": true}),
    )
    .await
    .unwrap();
    let e = viewer.vm(&vm_id).await.unwrap_err();
    assert_eq!(status(Err(e)), 404);
    assert!(viewer.vms().await.unwrap().is_empty());
    assert_eq!(admin.vms().await.unwrap().len(), 1);

    // SIGKILL in the middle of a task: the center comes back with all it
    // had committed, the interrupted task is failed, not left running, and
    // the host's change feed brings the VM's real state.
    let task = admin.power(&name, PowerOp::Off).await.unwrap();
    center.kill_and_restart().await;
    let admin = login(center, "administrator", "admin password").await;
    let after = admin.task(task.id).await.unwrap();
    assert_ne!(after.state, TaskState::Running);
    if after.state == TaskState::Error {
        assert_eq!(after.error.unwrap().code, "interrupted");
    }
    wait_for(&admin, &path, "the VM powered off after the restart", |o| {
        o["data"]["power_state"] == "poweredOff" && o["parent"] == json!(apps)
    })
    .await;
    let viewer = login(center, "viewer", "viewer password").await;
    assert!(viewer.vms().await.unwrap().is_empty());
    secrets_are_kept(t, center, &name).await;

    // Snapshots (disk-only while off).
    let snap = SnapshotCreate {
        name: "before".into(),
        description: String::new(),
    };
    admin
        .run(admin.snapshot_create(&name, &snap).await)
        .await
        .unwrap();
    assert_eq!(admin.snapshots(&name).await.unwrap()[0].name, "before");
    admin
        .run(admin.snapshot_revert(&name, "before").await)
        .await
        .unwrap();
    admin
        .run(admin.snapshot_delete(&name, "before").await)
        .await
        .unwrap();
    assert!(admin.snapshots(&name).await.unwrap().is_empty());

    // Delete: gone from the host and from the inventory.
    admin.run(admin.delete_vm(&name).await).await.unwrap();
    let e = call(&admin, Method::GET, &path, Value::Null)
        .await
        .unwrap_err();
    assert_eq!(status(Err(e)), 404);
    for h in &t.lab.hosts {
        // Pinned to what the host presents now: the center gave it a new certificate.
        let thumbprint = hierro_client::fetch_thumbprint(&h.url).await.unwrap();
        let mut direct =
            hierro_client::Client::new(&h.url, hierro_client::Trust::Thumbprint(thumbprint))
                .unwrap();
        direct.login(&t.lab.user, &t.lab.password).await.unwrap();
        assert!(direct.vms().await.unwrap().is_empty());
    }
    let kinds: Vec<String> = admin
        .events(None, None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind.to_string())
        .collect();
    for k in ["VmCreatedEvent", "VmPoweredOnEvent", "VmRemovedEvent"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }

    // Let the hosts go for the next round.
    for h in &hosts {
        call(
            &admin,
            Method::DELETE,
            &format!("/api/hosts/{h}"),
            Value::Null,
        )
        .await
        .unwrap();
    }
}

/// The center's data is its own (0700, its database and keys 0600), the
/// hosts' service tokens are sealed in the database (what is stored does
/// not open a host; the center, restarted, still drives them: the
/// snapshots after this), and a VM's files are its host's only.
async fn secrets_are_kept(t: &TestLab, center: &Center, vm: &str) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&center.dir), 0o700);
    for f in [
        "secrets.key",
        "ca.key",
        "center.key",
        "center.db",
        "center.db-wal",
    ] {
        let path = center.dir.join(f);
        if f.starts_with("center.db") && !path.exists() {
            continue; // on PostgreSQL
        }
        assert_eq!(mode(&path), 0o600, "{f}");
    }
    let folder = t.lab.datastore_dir.join(vm);
    assert_eq!(mode(&folder), 0o700);
    for f in std::fs::read_dir(&folder).unwrap() {
        let path = f.unwrap().path();
        assert_eq!(mode(&path) & 0o077, 0, "{}", path.display());
    }
    let db = hierro_center::db::Db::open(&center.database_url())
        .await
        .unwrap();
    let rows = sqlx::query("SELECT address, token FROM host_connections")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), t.lab.hosts.len());
    for row in rows {
        use sqlx::Row;
        let (address, stored): (String, String) = (row.get("address"), row.get("token"));
        assert!(stored.starts_with("sealed:v1:"), "{stored}");
        let pin = hierro_client::fetch_thumbprint(&address).await.unwrap();
        let host = hierro_client::Client::new(&address, hierro_client::Trust::Thumbprint(pin))
            .unwrap()
            .with_token(&stored);
        assert_eq!(
            status(host.tasks().await.map(|_| Value::Null)),
            401,
            "the stored token opens {address}"
        );
    }
}

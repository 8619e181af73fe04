//! The datastore browser through the lab's center: folders made, listed,
//! moved and deleted; a 1 GiB file uploaded with the CLI and downloaded
//! back whole; an upload's task shows its progress; an upload broken off by
//! its client, or by the host agent's death, leaves nothing under its name
//! (and the agent clears its partial file when it starts again); names
//! that leave the datastore (`..`, absolute, NUL, a symbolic link out) are
//! refused; a user without Datastore.FileManagement gets 403 and changes
//! nothing; a VM's folder is neither deleted nor moved.

use std::path::Path;
use std::time::Duration;

use crate::common::center::{call, status, user_with_role, wait_for};
use crate::common::{center_env, cli, kill_agent, wait_until, TestLab, HIERRO};
use hierro_api::{FileKind, FileMove, TaskState};
use reqwest::Method;
use serde_json::{json, Value};

const MIB: usize = 1 << 20;

/// The partial files of uploads in the datastore's folder `dir`.
fn partials(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".hierro-upload-"))
        .collect()
}

/// An upload whose bytes the test sends one chunk at a time.
fn fed_upload() -> (
    tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    (tx, stream)
}

#[tokio::test(flavor = "multi_thread")]
async fn datastore_browser_streams_uploads_and_keeps_names_inside() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut t = TestLab::up(33, 1, 0).await;
    let admin = hierro_lab::center::client(&t.lab).await.unwrap();
    let env: Vec<(&str, String)> = center_env(&t.lab)
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ds_dir = t.lab.datastore_dir.clone();
    let work = t.lab.dir.join("browser");
    std::fs::create_dir_all(&work).unwrap();

    // Folders: made, refused twice, listed.
    let (ok, _, err) = cli(&["datastore", "mkdir", "shared", "iso"], &env);
    assert!(ok, "{err}");
    assert!(ds_dir.join("iso").is_dir());
    let (ok, _, err) = cli(&["datastore", "mkdir", "shared", "iso"], &env);
    assert!(!ok && err.contains("exists already"), "{err}");
    let (ok, _, err) = cli(&["datastore", "mkdir", "shared", "no/such/parent"], &env);
    assert!(!ok && err.contains("does not exist"), "{err}");

    // A 1 GiB file with the CLI: random bytes at both ends, a hole between.
    let big = work.join("big.img");
    let head: Vec<u8> = (0..MIB).map(|_| rand::random()).collect();
    let tail: Vec<u8> = (0..MIB).map(|_| rand::random()).collect();
    {
        use std::io::{Seek, Write};
        let mut f = std::fs::File::create(&big).unwrap();
        f.write_all(&head).unwrap();
        f.seek(std::io::SeekFrom::Start((1 << 30) - MIB as u64))
            .unwrap();
        f.write_all(&tail).unwrap();
    }
    let big_arg = big.to_str().unwrap();
    let (ok, out, err) = cli(&["datastore", "upload", "shared", big_arg, "iso/"], &env);
    assert!(ok, "{err}");
    assert!(out.contains("[shared] iso/big.img"), "{out}");
    let listing = admin.browse("shared", "iso").await.unwrap();
    let entry = listing
        .entries
        .iter()
        .find(|e| e.name == "big.img")
        .unwrap();
    assert_eq!(
        (entry.kind, entry.size_bytes, entry.path.as_str()),
        (FileKind::File, 1 << 30, "iso/big.img")
    );
    let (ok, out, _) = cli(&["datastore", "ls", "shared", "iso"], &env);
    assert!(
        ok && out.contains("big.img") && out.contains("1.0 GiB"),
        "{out}"
    );
    // The same name again: refused unless replaced, by the CLI before it
    // sends anything, and by the host when a client sends it all the same.
    let (ok, _, err) = cli(&["datastore", "upload", "shared", big_arg, "iso/"], &env);
    assert!(
        !ok && err.contains("exists already: --overwrite replaces it"),
        "{err}"
    );
    let e = admin
        .upload_file("shared", "iso/big.img", false, &big, |_| {})
        .await
        .unwrap_err();
    assert!(
        e.status().unwrap() == 409 && e.to_string().contains("exists already"),
        "{e}"
    );
    // Downloaded back, byte for byte.
    let back = work.join("back.img");
    let (ok, _, err) = cli(
        &[
            "datastore",
            "download",
            "shared",
            "iso/big.img",
            back.to_str().unwrap(),
        ],
        &env,
    );
    assert!(ok, "{err}");
    assert!(
        same_file(&big, &back),
        "the download differs from the upload"
    );
    std::fs::remove_file(&back).unwrap();
    std::fs::remove_file(&big).unwrap();
    // The center recorded both uploads as tasks: the second one failed.
    let tasks = admin.tasks().await.unwrap();
    let ups: Vec<TaskState> = tasks
        .iter()
        .filter(|t| t.operation == hierro_api::Operation::DatastoreUpload)
        .map(|t| t.state)
        .collect();
    assert_eq!(ups, [TaskState::Error, TaskState::Success]);

    // An upload held half way: its task shows the progress, its partial
    // file sits beside the final name, which does not exist yet.
    let (tx, stream) = fed_upload();
    let c2 = admin.clone();
    let upload = tokio::spawn(async move {
        c2.upload(
            "shared",
            "iso/half.iso",
            false,
            stream,
            Some(64 * MIB as u64),
        )
        .await
    });
    for _ in 0..32 {
        tx.send(Ok(bytes::Bytes::from(vec![7u8; MIB])))
            .await
            .unwrap();
    }
    let mut seen = 0;
    wait_until("the upload's progress", Duration::from_secs(30), || {
        let tasks = futures_block(admin.tasks());
        seen = tasks
            .iter()
            .find(|t| {
                t.operation == hierro_api::Operation::DatastoreUpload
                    && t.state == TaskState::Running
            })
            .map(|t| t.progress)
            .unwrap_or(0);
        seen >= 40
    });
    assert!(seen < 100, "{seen}");
    assert!(!ds_dir.join("iso/half.iso").exists());
    assert_eq!(partials(&ds_dir.join("iso")).len(), 1);
    // The client goes away: the partial file goes too, nothing is named.
    upload.abort();
    drop(tx);
    wait_until("the partial file to go", Duration::from_secs(30), || {
        partials(&ds_dir.join("iso")).is_empty()
    });
    assert!(!ds_dir.join("iso/half.iso").exists());
    wait_until(
        "the center's upload task to fail",
        Duration::from_secs(30),
        || {
            futures_block(admin.tasks())
                .iter()
                .filter(|t| t.operation == hierro_api::Operation::DatastoreUpload)
                .any(|t| t.state == TaskState::Error)
        },
    );

    // The host agent killed during an upload: nothing under the name, and
    // the agent removes the partial file when it starts again.
    let (tx, stream) = fed_upload();
    let c2 = admin.clone();
    let upload = tokio::spawn(async move {
        c2.upload(
            "shared",
            "iso/killed.iso",
            false,
            stream,
            Some(64 * MIB as u64),
        )
        .await
    });
    for _ in 0..8 {
        tx.send(Ok(bytes::Bytes::from(vec![9u8; MIB])))
            .await
            .unwrap();
    }
    wait_until("the partial file", Duration::from_secs(30), || {
        partials(&ds_dir.join("iso")).len() == 1
    });
    kill_agent(&t.lab, 0);
    assert!(upload.await.unwrap().is_err());
    assert!(!ds_dir.join("iso/killed.iso").exists());
    assert_eq!(partials(&ds_dir.join("iso")).len(), 1);
    let host = format!(
        "/api/inventory/{}",
        hierro_lab::center::host_ids(&t.lab).await.unwrap()[0]
    );
    wait_for(&admin, &host, "the host disconnected", |h| {
        h["data"]["state"] == "disconnected"
    })
    .await;
    t.lab.restart_agent(0, HIERRO.as_ref()).await.unwrap();
    assert!(partials(&ds_dir.join("iso")).is_empty());
    wait_for(&admin, &host, "the host connected again", |h| {
        h["data"]["state"] == "connected"
    })
    .await;

    // Moves: rename, refused onto an existing name, replaced on request.
    std::fs::write(ds_dir.join("iso/a.txt"), b"a").unwrap();
    std::fs::write(ds_dir.join("iso/b.txt"), b"b").unwrap();
    let mv = |from: &str, to: &str, overwrite| FileMove {
        from: from.into(),
        to: to.into(),
        overwrite,
    };
    let e = admin
        .move_file("shared", &mv("iso/a.txt", "iso/b.txt", false))
        .await
        .unwrap_err();
    assert_eq!(e.status().unwrap(), 409, "{e}");
    assert_eq!(std::fs::read(ds_dir.join("iso/b.txt")).unwrap(), b"b");
    let moved = admin
        .move_file("shared", &mv("iso/a.txt", "iso/b.txt", true))
        .await
        .unwrap();
    assert_eq!(moved.path, "iso/b.txt");
    assert_eq!(std::fs::read(ds_dir.join("iso/b.txt")).unwrap(), b"a");
    let (ok, _, err) = cli(&["datastore", "mv", "shared", "iso", "images-iso"], &env);
    assert!(ok, "{err}");
    assert!(ds_dir.join("images-iso/b.txt").is_file() && !ds_dir.join("iso").exists());

    // Names that leave the datastore are refused, and nothing changes.
    std::os::unix::fs::symlink("/etc", ds_dir.join("escape")).unwrap();
    std::fs::write(work.join("x"), b"x").unwrap();
    for path in [
        "../x",
        "/etc/x",
        "escape/x",
        "images-iso/../../x",
        "a\0b",
        "escape",
    ] {
        let e = admin.browse("shared", path).await.unwrap_err();
        assert_eq!(e.status().unwrap(), 400, "browse {path:?}: {e}");
        let e = admin
            .download("shared", &format!("{path}/passwd"))
            .await
            .unwrap_err();
        assert_eq!(e.status().unwrap(), 400, "download {path:?}: {e}");
        let local = work.join("x");
        let e = admin
            .upload_file("shared", &format!("{path}/evil"), false, &local, |_| {})
            .await
            .unwrap_err();
        assert_eq!(e.status().unwrap(), 400, "upload {path:?}: {e}");
        let e = admin
            .delete_file("shared", &format!("{path}/passwd"))
            .await
            .unwrap_err();
        assert_eq!(e.status().unwrap(), 400, "delete {path:?}: {e}");
    }
    assert!(!Path::new("/etc/evil").exists() && Path::new("/etc/passwd").exists());
    let e = admin.browse("shared", "escape").await.unwrap_err();
    assert!(e.to_string().contains("leads out of its datastore"), "{e}");
    // The link itself shows in no listing (it leads nowhere inside).
    let top = admin.browse("shared", "").await.unwrap();
    assert!(top.entries.iter().all(|e| e.name != "escape"), "{top:?}");

    // A user who may browse but not manage files: 403, nothing changes.
    let role = call(
        &admin,
        Method::POST,
        "/api/roles",
        json!({"name": "Browser", "privileges": ["Datastore.Browse"]}),
    )
    .await
    .unwrap();
    let ds_id = datastore_id(&admin).await;
    user_with_role(&admin, "browser", role["id"].as_str().unwrap(), &ds_id).await;
    let browser = hierro_lab::center::login(&t.lab, "browser", "browser password")
        .await
        .unwrap();
    assert!(browser.browse(&ds_id, "images-iso").await.is_ok());
    let before = std::fs::read_dir(&ds_dir).unwrap().count();
    let denied = [
        status(
            browser
                .make_folder(&ds_id, "denied")
                .await
                .map(|_| Value::Null),
        ),
        status(
            browser
                .delete_file(&ds_id, "images-iso/b.txt")
                .await
                .map(|_| Value::Null),
        ),
        status(
            browser
                .move_file(&ds_id, &mv("images-iso", "moved", false))
                .await
                .map(|_| Value::Null),
        ),
        status(
            browser
                .upload_file(&ds_id, "denied.txt", false, &work.join("x"), |_| {})
                .await
                .map(|_| Value::Null),
        ),
        status(
            browser
                .download(&ds_id, "images-iso/b.txt")
                .await
                .map(|_| Value::Null),
        ),
    ];
    assert_eq!(denied, [403; 5]);
    assert_eq!(std::fs::read_dir(&ds_dir).unwrap().count(), before);
    assert!(ds_dir.join("images-iso/b.txt").is_file());

    // A VM's folder is neither deleted nor moved.
    let ids = hierro_lab::center::host_ids(&t.lab).await.unwrap();
    let spec = t.lab.vm_spec("kept", t.lab.vm_ip(0), 128);
    admin
        .run(admin.create_vm_placed(&spec, &ids[0], None).await)
        .await
        .unwrap();
    let e = admin.delete_file("shared", "kept").await.unwrap_err();
    assert!(e.to_string().contains("VM kept uses"), "{e}");
    let e = admin
        .move_file("shared", &mv("kept", "elsewhere", false))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("VM kept uses"), "{e}");
    assert!(ds_dir.join("kept/vm.json").is_file());
    // What no VM uses goes.
    let (ok, _, err) = cli(&["datastore", "rm", "shared", "images-iso"], &env);
    assert!(ok, "{err}");
    assert!(!ds_dir.join("images-iso").exists());
}

/// The datastore's inventory id.
async fn datastore_id(admin: &hierro_client::Client) -> String {
    let found = call(
        admin,
        Method::GET,
        "/api/inventory?kind=datastore&name=shared",
        Value::Null,
    )
    .await
    .unwrap();
    found[0]["id"].as_str().unwrap().to_string()
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (mut a, mut b) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut x, mut y) = (vec![0u8; 4 * MIB], vec![0u8; 4 * MIB]);
    loop {
        let n = a.read(&mut x).unwrap();
        let mut got = 0;
        while got < n {
            let m = b.read(&mut y[got..n]).unwrap();
            if m == 0 {
                return false;
            }
            got += m;
        }
        if x[..n] != y[..n] {
            return false;
        }
        if n == 0 {
            return b.read(&mut y).unwrap() == 0;
        }
    }
}

/// Runs a future to its end from a synchronous poll (`wait_until`).
fn futures_block<T: Send + 'static>(
    f: impl std::future::Future<Output = hierro_client::Result<T>> + Send,
) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f)).unwrap()
}

//! The web client in a real browser: the lab's center serves it, and
//! `web/tests/e2e.mjs` drives headless Chromium through it: log in, find a
//! VM in the tree, power it off and on and watch the task; a snapshot taken
//! and deleted; the console shows the guest's prompt; performance charts
//! fill and update; the VM migrated live to the other host; a VM made by the wizard (two NICs tried) runs and is
//! deleted; permissions added, changed and removed; the host's networking;
//! roles listed, one made and deleted; a read-only user sees no action and
//! the API refuses it. Screenshots of the main pages, at laptop and large
//! widths, go to target/web-screenshots.

use std::path::PathBuf;
use std::process::Command;

use crate::common::center::user_with_role;
use crate::common::{web_dir, TestLab};

#[tokio::test(flavor = "multi_thread")]
async fn the_web_client_in_chromium() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    assert!(
        web_dir().join("index.html").is_file(),
        "the web client is not built: run scripts/build-web.sh"
    );
    assert!(
        std::path::Path::new("/usr/bin/chromium").is_file(),
        "Chromium is missing: run scripts/setup.sh"
    );
    let t = TestLab::up(26, 2, 1).await;
    let center = hierro_lab::center::client(&t.lab).await.unwrap();
    user_with_role(&center, "viewer", "read-only", "root").await;

    let c = t.lab.center.as_ref().unwrap();
    let shots = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/web-screenshots"
    ));
    std::fs::create_dir_all(&shots).unwrap();
    let web = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web"));
    let out = Command::new("node")
        .arg("tests/e2e.mjs")
        .current_dir(&web)
        .env("HIERRO_URL", &c.url)
        .env("HIERRO_USER", &c.user)
        .env("HIERRO_PASSWORD", &t.lab.password)
        .env("HIERRO_RO_USER", "viewer")
        .env("HIERRO_RO_PASSWORD", "viewer password")
        .env("HIERRO_VM", &t.lab.hosts[0].vms[0].name)
        .env("HIERRO_VM_IP", t.lab.hosts[0].vms[0].ip.to_string())
        .env("HIERRO_HOST", &t.lab.hosts[0].name)
        .env("HIERRO_OTHER_HOST", &t.lab.hosts[1].name)
        .env("HIERRO_NEW_VM", "from-wizard")
        .env("HIERRO_SCREENSHOTS", &shots)
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{log}");
    assert!(out.status.success(), "the browser test failed:\n{log}");
    for page in [
        "login",
        "vm-summary",
        "vm-powered-off",
        "inventory-large",
        "snapshots",
        "vm-performance",
        "host-performance",
        "networking",
        "roles",
        "read-only",
    ] {
        assert!(
            shots.join(format!("{page}.png")).is_file(),
            "no screenshot of {page}"
        );
    }
}

//! Performance counters end to end: the lab's host samples itself and its
//! VM every 2 s, the center collects them, and `GET /api/perf/{id}` shows
//! what the guest really did: disk writes, network traffic, its memory.
//! Charts are only for hosts and VMs; a user sees them where they may see
//! the object, and nowhere else.

use crate::common::center::{call, status, wait_for};
use crate::common::{center_env, cli, guest_sh, TestLab};
use reqwest::Method;
use serde_json::{json, Value};

/// The object of that kind and name (the search matches parts of names).
async fn object(c: &hierro_client::Client, kind: &str, name: &str) -> String {
    let list = call(
        c,
        Method::GET,
        &format!("/api/inventory?kind={kind}&name={name}"),
        Value::Null,
    )
    .await
    .unwrap();
    let found = list.as_array().unwrap().iter().find(|o| o["name"] == name);
    found.unwrap()["id"].as_str().unwrap().to_string()
}

/// The values a counter had, leaving out the times it was not measured.
fn measured(series: &Value, counter: &str) -> Vec<f64> {
    series["values"][counter]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn counters_show_what_the_guest_did() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t = TestLab::up(16, 1, 1).await;
    let center = hierro_lab::center::client(&t.lab).await.unwrap();
    let lab_vm = &t.lab.hosts[0].vms[0];
    let host = object(&center, "host", &t.lab.hosts[0].name).await;
    let vm = object(&center, "vm", &lab_vm.name).await;

    // The guest writes 8 MiB to its disk and pings the lab's gateway.
    let out = guest_sh(
        &t.lab,
        0,
        &lab_vm.id,
        &format!(
            "dd if=/dev/urandom of=/dev/vda bs=64k count=128 conv=fsync 2>&1 && \
             ping -c 20 -i 0.1 -s 1000 {} >/dev/null && echo done",
            t.lab.gateway
        ),
    )
    .await;
    assert!(out.contains("done"), "the guest's load: {out}");

    // Its series shows the writes and the traffic: 8 MiB and 20 KB of
    // pings over some samples, counted once each. (Rates are per measured
    // interval, a little longer than the nominal step: 5 % slack.)
    let path = format!("/api/perf/{vm}?interval=realtime");
    let series = wait_for(&center, &path, "the VM's disk writes and traffic", |s| {
        let step = s["step_secs"].as_f64().unwrap_or(0.0);
        let written: f64 = measured(s, "disk.write").iter().sum::<f64>() * step;
        let received: f64 = measured(s, "net.received").iter().sum::<f64>() * step;
        written >= 0.95 * 8.0 * 1024.0 && received >= 0.95 * 20.0
    })
    .await;
    assert_eq!(series["entity"], vm);
    assert_eq!(series["interval"], "realtime");
    let step = series["step_secs"].as_i64().unwrap();
    assert!((1..=4).contains(&step), "samples every 2 s: {step}");
    // The whole write happened once: the sum of rates over the samples is
    // the 8 MiB written, not more than the disk's size (64 MiB).
    let written = measured(&series, "disk.write").iter().sum::<f64>() * step as f64;
    assert!(written < 64.0 * 1024.0, "{written} KB written");
    let names: Vec<&str> = series["counters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for c in [
        "cpu.usage",
        "mem.consumed",
        "mem.usage",
        "net.received",
        "disk.read",
    ] {
        assert!(names.contains(&c), "{c} in {names:?}");
    }
    // The VM's process holds some of its 256 MiB (and QEMU's own).
    let rss = measured(&series, "mem.consumed");
    assert!(rss.iter().all(|b| *b > 1e6 && *b < 2e9), "{rss:?}");
    let cpu = measured(&series, "cpu.usage");
    assert!(
        !cpu.is_empty() && cpu.iter().all(|p| (0.0..=150.0).contains(p)),
        "{cpu:?}"
    );
    let times = series["times"].as_array().unwrap();
    assert!(times.windows(2).all(|w| w[0].as_i64() < w[1].as_i64()));

    // The host: CPU and memory as percentages, the VM's disk writes in its
    // total, the traffic on its uplinks.
    let host_series = wait_for(
        &center,
        &format!("/api/perf/{host}"),
        "the host's counters",
        |s| measured(s, "disk.write").iter().any(|w| *w > 0.0),
    )
    .await;
    for pct in ["cpu.usage", "mem.usage"] {
        let v = measured(&host_series, pct);
        assert!(
            !v.is_empty() && v.iter().all(|p| (0.0..=100.0).contains(p)),
            "{pct}: {v:?}"
        );
    }
    assert!(measured(&host_series, "mem.consumed")
        .iter()
        .all(|b| *b > 0.0));
    assert!(!measured(&host_series, "net.transmitted").is_empty());

    // The cluster: its one host's figures, in buckets of the collection
    // interval.
    let cluster = object(&center, "cluster", "Cluster").await;
    let cluster_series = call(
        &center,
        Method::GET,
        &format!("/api/perf/{cluster}"),
        Value::Null,
    )
    .await
    .unwrap();
    assert_eq!(cluster_series["step_secs"], 2);
    let used = measured(&cluster_series, "mem.consumed");
    assert!(
        !used.is_empty() && used.iter().all(|b| *b > 0.0),
        "{used:?}"
    );

    // The rolled-up intervals answer (empty until a bucket completes).
    for interval in ["day", "week", "month", "year"] {
        let s = call(
            &center,
            Method::GET,
            &format!("/api/perf/{vm}?interval={interval}"),
            Value::Null,
        )
        .await
        .unwrap();
        assert_eq!(s["interval"], interval);
        assert!(s["step_secs"].as_i64().unwrap() >= 300);
    }

    // The CLI prints the newest samples, by the VM's name; the JSON is the
    // API's series.
    let env = center_env(&t.lab);
    let (ok, out, err) = cli(&["perf", &lab_vm.name, "--last", "3"], &env);
    assert!(ok, "{err}");
    assert!(
        out.contains("CPU %") && out.contains("DISK W KBps"),
        "{out}"
    );
    let year = chrono::Utc::now().format("%Y-").to_string();
    let rows = out.lines().filter(|l| l.contains(&year)).count();
    assert_eq!(rows, 3, "{out}");
    let (ok, out, err) = cli(&["--json", "perf", &t.lab.hosts[0].name], &env);
    assert!(ok, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["entity"], host);
    let (ok, _, err) = cli(&["perf", &lab_vm.name, "--interval", "hourly"], &env);
    assert!(!ok && err.contains("hourly"), "{err}");
    let (ok, _, err) = cli(&["perf", "no-such-vm"], &env);
    assert!(!ok && err.contains("no VM or host"), "{err}");

    // Refusals: a datastore has no counters (none to find), an interval
    // must be known, an unknown object is missing.
    let ds = object(&center, "datastore", hierro_lab::DATASTORE).await;
    let e = call(
        &center,
        Method::GET,
        &format!("/api/perf/{ds}"),
        Value::Null,
    )
    .await;
    assert_eq!(status(e), 404);
    let e = call(
        &center,
        Method::GET,
        &format!("/api/perf/{vm}?interval=hourly"),
        Value::Null,
    )
    .await;
    assert_eq!(status(e), 400);
    let e = call(&center, Method::GET, "/api/perf/no-such-id", Value::Null).await;
    assert_eq!(status(e), 404);

    // A user with no permission does not see the VM's counters; with
    // Read-only on the VM they do.
    call(
        &center,
        Method::POST,
        "/api/users",
        json!({"name": "watcher", "password": "watcher password"}),
    )
    .await
    .unwrap();
    let c = t.lab.center.as_ref().unwrap();
    let mut watcher = hierro_client::Client::new(
        &c.url,
        hierro_client::Trust::Thumbprint(c.thumbprint.clone()),
    )
    .unwrap();
    watcher.login("watcher", "watcher password").await.unwrap();
    let e = call(&watcher, Method::GET, &path, Value::Null).await;
    assert_eq!(status(e), 404);
    call(
        &center,
        Method::POST,
        "/api/permissions",
        json!({"principal": {"user": "watcher"}, "role": "read-only", "object": vm, "propagate": false}),
    )
    .await
    .unwrap();
    let s = call(&watcher, Method::GET, &path, Value::Null)
        .await
        .unwrap();
    assert!(!measured(&s, "cpu.usage").is_empty());
    let e = call(
        &watcher,
        Method::GET,
        &format!("/api/perf/{host}"),
        Value::Null,
    )
    .await;
    assert_eq!(status(e), 404);
}

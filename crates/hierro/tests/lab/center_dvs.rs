//! A distributed switch owned by the lab's center, run by both lab hosts on
//! their spare NICs (eth2, eth3): created on the datacenter, joined by the
//! hosts, changed everywhere at once, caught up by a host that was
//! disconnected, carrying a VM's traffic, and refusing what a host cannot
//! run without changing anything.

use std::time::Duration;

use crate::common::center::{call, wait_for};
use crate::common::{center_env, cli, Counter, TestLab};
use hierro_api::{HostNetwork, PowerState};
use hierro_client::Client;
use reqwest::Method;
use serde_json::{json, Value};

/// The distributed switches host `i` runs, as its own API says.
async fn on_host(t: &TestLab, i: usize) -> HostNetwork {
    let c = t.lab.client(&t.lab.hosts[i]).await.unwrap();
    c.network().await.unwrap()
}

/// Waits until host `i` runs something `check` accepts.
async fn wait_host(t: &TestLab, i: usize, what: &str, check: impl Fn(&HostNetwork) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let net = on_host(t, i).await;
        if check(&net) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "host {i}: timed out waiting for {what}; it runs {:?}",
            net.distributed
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn vlan_of(net: &HostNetwork, group: &str) -> Option<u16> {
    net.distributed
        .iter()
        .flat_map(|d| &d.switch.portgroups)
        .find(|g| g.name == group)
        .map(|g| g.vlan)
}

async fn put(c: &Client, path: &str, body: Value) -> Result<Value, hierro_client::ClientError> {
    call(c, Method::PUT, path, body).await
}

/// The HTTP status and text of a refusal.
fn refusal(e: hierro_client::ClientError) -> (u16, String) {
    (e.status().map_or(0, |s| s.as_u16()), e.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_distributed_switch_reaches_every_member_host() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let t = TestLab::up(25, 2, 0).await;
    let center = hierro_lab::center::client(&t.lab).await.unwrap();
    let hosts = hierro_lab::center::host_ids(&t.lab).await.unwrap();
    let mut names = vec![];
    for h in &hosts {
        let o = call(
            &center,
            Method::GET,
            &format!("/api/inventory/{h}"),
            Value::Null,
        )
        .await
        .unwrap();
        names.push(o["name"].as_str().unwrap().to_string());
    }
    let dcs = call(
        &center,
        Method::GET,
        "/api/inventory?kind=datacenter",
        Value::Null,
    )
    .await
    .unwrap();
    let dc = dcs[0]["id"].as_str().unwrap().to_string();
    let create = format!("/api/dvswitches?datacenter={dc}");
    let mut spec = json!({
        "name": "dvs1",
        "portgroups": [{"name": "DV-0"}, {"name": "DV-100", "vlan": 100}],
    });

    // Refused before anything exists: beacon probing with two uplinks.
    let mut bad = spec.clone();
    bad["teaming"] = json!({"failure_detection": "beacon_probing"});
    let (code, e) = refusal(call(&center, Method::POST, &create, bad).await.unwrap_err());
    assert_eq!(code, 400);
    assert!(e.contains("beacon probing needs 3"), "{e}");
    let listed = call(
        &center,
        Method::GET,
        "/api/inventory?kind=dvswitch",
        Value::Null,
    );
    assert_eq!(listed.await.unwrap(), json!([]));

    let dvs = call(&center, Method::POST, &create, spec.clone())
        .await
        .unwrap();
    let dvs = dvs["id"].as_str().unwrap().to_string();
    let member = |h: &str| format!("/api/dvswitches/{dvs}/hosts/{h}");
    let nics = json!({"nics": {"Uplink 1": "eth2", "Uplink 2": "eth3"}});
    for h in &hosts {
        put(&center, &member(h), nics.clone()).await.unwrap();
    }

    // Both hosts run it, with a distributed switch's defaults (reject all
    // three), on their spare NICs; the port groups show in the inventory
    // with both hosts.
    for i in 0..2 {
        let net = on_host(&t, i).await;
        assert_eq!(net.distributed.len(), 1, "{:?}", net.distributed);
        let d = &net.distributed[0];
        assert_eq!(d.switch.name, "dvs1");
        assert_eq!(d.switch.security, hierro_api::SecurityPolicy::DISTRIBUTED);
        let ports = t
            .lab
            .client(&t.lab.hosts[i])
            .await
            .unwrap()
            .ports()
            .await
            .unwrap();
        let eth2 = ports
            .ports
            .iter()
            .find(|p| p.port == "uplink:eth2")
            .unwrap();
        assert_eq!(eth2.vswitch, "dvs1");
    }
    let group = wait_for(
        &center,
        "/api/inventory?kind=network&name=DV-100",
        "DV-100 on both hosts",
        |v| {
            v[0]["data"]["hosts"]
                .as_object()
                .is_some_and(|h| h.len() == 2)
        },
    )
    .await;
    assert_eq!(group[0]["data"]["hosts"][&hosts[0]]["distributed"], true);

    // A change reaches every member.
    spec["portgroups"][1]["vlan"] = json!(200);
    put(&center, &format!("/api/dvswitches/{dvs}"), spec.clone())
        .await
        .unwrap();
    for i in 0..2 {
        assert_eq!(vlan_of(&on_host(&t, i).await, "DV-100"), Some(200));
    }

    // What a host cannot run is refused, naming it, and nothing changes:
    // a NIC it does not have.
    let e = put(
        &center,
        &member(&hosts[1]),
        json!({"nics": {"Uplink 1": "eth9"}}),
    )
    .await
    .unwrap_err();
    let (code, e) = refusal(e);
    assert_eq!(code, 409);
    assert!(
        e.contains(&format!("host {}", names[1])) && e.contains("eth9"),
        "{e}"
    );
    let net = on_host(&t, 1).await;
    assert_eq!(net.distributed[0].nics["Uplink 1"], "eth2");
    let obj = call(
        &center,
        Method::GET,
        &format!("/api/inventory/{dvs}"),
        Value::Null,
    )
    .await
    .unwrap();
    assert_eq!(obj["data"]["members"][&hosts[1]]["Uplink 1"], "eth2");

    // A disconnected host catches up when it comes back.
    let h2 = &hosts[1];
    call(
        &center,
        Method::POST,
        &format!("/api/hosts/{h2}/disconnect"),
        Value::Null,
    )
    .await
    .unwrap();
    spec["portgroups"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "DV-300", "vlan": 300}));
    put(&center, &format!("/api/dvswitches/{dvs}"), spec.clone())
        .await
        .unwrap();
    assert_eq!(vlan_of(&on_host(&t, 0).await, "DV-300"), Some(300));
    assert_eq!(
        vlan_of(&on_host(&t, 1).await, "DV-300"),
        None,
        "h2 was away"
    );
    call(
        &center,
        Method::POST,
        &format!("/api/hosts/{h2}/reconnect"),
        json!({}),
    )
    .await
    .unwrap();
    wait_host(&t, 1, "DV-300", |n| vlan_of(n, "DV-300") == Some(300)).await;

    // A VM on a distributed port group: its traffic crosses dvs1's uplinks.
    let ip = t.lab.vm_ip(7);
    let mut vm = t.lab.vm_spec("dv-vm", ip, 128);
    vm.nics[0].network = "DV-0".into();
    let task = center.create_vm_placed(&vm, &hosts[0], None).await.unwrap();
    center.wait(&task, |_| {}).await.unwrap();
    let task = center
        .power("dv-vm", hierro_api::PowerOp::On)
        .await
        .unwrap();
    center.wait(&task, |_| {}).await.unwrap();
    crate::common::wait_power(&center, "dv-vm", PowerState::PoweredOn).await;
    let mut counter = Counter::connect_within(ip, Duration::from_secs(60)).unwrap();
    counter.read().unwrap();
    // As the center shows h1's network: the switch it runs and the VM's
    // port on it, with live counters.
    let view: hierro_api::HostNetworkView = serde_json::from_value(
        call(
            &center,
            Method::GET,
            &format!("/api/hosts/{}/network", hosts[0]),
            Value::Null,
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert!(view
        .network
        .distributed
        .iter()
        .any(|d| d.switch.name == "dvs1"));
    let vm_port = view
        .ports
        .ports
        .iter()
        .find(|p| p.portgroup.as_deref() == Some("DV-0"))
        .unwrap();
    assert_eq!(vm_port.vswitch, "dvs1");
    assert!(vm_port.counters.out_packets > 0);
    let e = call(
        &center,
        Method::GET,
        &format!("/api/hosts/{dc}/network"),
        Value::Null,
    )
    .await
    .unwrap_err();
    // A datacenter is no host: there is no host by that id.
    let (code, text) = refusal(e);
    assert!(
        code == 404 && text.contains("is a datacenter"),
        "{code} {text}"
    );
    // h1's standard port groups change through the center too: added,
    // refused out of range (the host's own check), removed; the inventory
    // follows the host.
    let groups = format!("/api/hosts/{}/network/portgroups", hosts[0]);
    let net = call(
        &center,
        Method::POST,
        &groups,
        json!({"name": "API-PG", "vswitch": "vSwitch0", "vlan": 7}),
    )
    .await
    .unwrap();
    assert!(net["portgroup"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "API-PG" && g["vlan"] == 7));
    wait_for(
        &center,
        "/api/inventory?kind=network&name=API-PG",
        "API-PG in the inventory",
        |v| {
            v.as_array()
                .is_some_and(|a| a.iter().any(|o| o["name"] == "API-PG"))
        },
    )
    .await;
    let e = put(
        &center,
        &format!("{groups}/API-PG"),
        json!({"name": "API-PG", "vswitch": "vSwitch0", "vlan": 5000}),
    )
    .await
    .unwrap_err();
    let (status, text) = refusal(e);
    assert!(status == 400 && text.contains("5000"), "{status} {text}");
    call(
        &center,
        Method::DELETE,
        &format!("{groups}/API-PG"),
        Value::Null,
    )
    .await
    .unwrap();
    let e = call(
        &center,
        Method::DELETE,
        &format!("{groups}/API-PG"),
        Value::Null,
    )
    .await
    .unwrap_err();
    assert_eq!(refusal(e).0, 404);

    // A port group in use cannot go: h1 refuses, and h2 keeps it too.
    let mut without = spec.clone();
    without["portgroups"].as_array_mut().unwrap().remove(0);
    let e = put(&center, &format!("/api/dvswitches/{dvs}"), without)
        .await
        .unwrap_err();
    let (code, e) = refusal(e);
    assert_eq!(code, 409);
    assert!(
        e.contains(&format!("host {}", names[0])) && e.contains("in use"),
        "{e}"
    );
    for i in 0..2 {
        assert_eq!(vlan_of(&on_host(&t, i).await, "DV-0"), Some(0));
    }

    // The CLI against the center: a port group with its own teaming, the
    // listing, and a refusal.
    let env = center_env(&t.lab);
    let add = ["dvs", "portgroup", "add", "dvs1", "DV-CLI", "--vlan", "42"];
    let (ok, _, err) = cli(
        &[&add[..], &["--load-balancing", "source-mac"]].concat(),
        &env,
    );
    assert!(ok, "{err}");
    assert_eq!(vlan_of(&on_host(&t, 0).await, "DV-CLI"), Some(42));
    let (ok, out, err) = cli(&["dvs", "ls"], &env);
    assert!(ok && out.contains("DV-CLI (VLAN 42)"), "{out}{err}");
    let set = [
        "dvs",
        "set",
        "dvs1",
        "--failure-detection",
        "beacon-probing",
    ];
    let (ok, _, err) = cli(&set, &env);
    assert!(!ok && err.contains("beacon probing needs 3"), "{err}");
    // A mirror session naming the VM: the switch keeps its id. Only what
    // the VM sends: the lab's physical switch learns MACs across VLANs, so
    // RSPAN copies of frames the VM receives would teach it their senders'
    // MACs on this uplink (a host's own, which then drops out of reach
    // until it next sends a frame).
    let rspan = ["--rspan-vlan", "999", "--rspan-uplink", "Uplink 1"];
    let add = [
        "dvs",
        "mirror",
        "add",
        "dvs1",
        "watch",
        "--source",
        "vm:dv-vm:0:ingress",
    ];
    let (ok, _, err) = cli(&[&add[..], &rspan].concat(), &env);
    assert!(ok, "{err}");
    let o = call(
        &center,
        Method::GET,
        &format!("/api/inventory/{dvs}"),
        Value::Null,
    )
    .await
    .unwrap();
    let dv_vm = &call(&center, Method::GET, "/api/vms/dv-vm", Value::Null)
        .await
        .unwrap()["id"];
    assert_eq!(
        o["data"]["spec"]["mirrors"][0]["sources"][0]["port"],
        format!("vm:{}:0", dv_vm.as_str().unwrap())
    );
    let typo = [
        "dvs",
        "mirror",
        "add",
        "dvs1",
        "typo",
        "--source",
        "vm:dv-vn:0",
    ];
    let (ok, _, err) = cli(&[&typo[..], &rspan].concat(), &env);
    assert!(!ok && err.contains("no VM named \"dv-vn\""), "{err}");
    let (ok, _, err) = cli(&["dvs", "mirror", "rm", "dvs1", "watch"], &env);
    assert!(ok, "{err}");

    // The VM's distributed port: an id on the switch that it keeps through
    // vMotion, and counters that come along.
    let vm = crate::common::center::vm_object(&center, "dv-vm").await;
    let key = format!("vm:{}:0", vm["data"]["vm_id"].as_str().unwrap());
    let dvs_path = format!("/api/inventory/{dvs}");
    let port_of = |v: &Value| v["data"]["ports"][&key]["id"].as_u64();
    let before = wait_for(&center, &dvs_path, "dv-vm's port", |v| port_of(v).is_some()).await;
    let id = port_of(&before).unwrap();
    let counted = |i: usize| {
        let key = key.clone();
        let host = t.lab.hosts[i].clone();
        let lab = &t.lab;
        async move {
            let ports = lab.client(&host).await.unwrap().ports().await.unwrap();
            ports
                .ports
                .into_iter()
                .find(|p| p.port == key)
                .unwrap()
                .counters
        }
    };
    counter.read().unwrap();
    let on_h1 = counted(0).await;
    let task = center
        .migrate_to("dv-vm", &hierro_api::VmMigrate::to(h2))
        .await
        .unwrap();
    center.wait(&task, |_| {}).await.unwrap();
    counter.read().unwrap();
    let on_h2 = counted(1).await;
    assert!(
        on_h2.in_packets > on_h1.in_packets && on_h2.out_packets > on_h1.out_packets,
        "the counters went on from h1's: {on_h1:?} then {on_h2:?}"
    );
    let after = wait_for(&center, &dvs_path, "dv-vm's port after vMotion", |v| {
        port_of(v).is_some()
    })
    .await;
    assert_eq!(port_of(&after), Some(id), "the same port on h2");

    // A host that leaves stops running it.
    call(&center, Method::DELETE, &member(&hosts[0]), Value::Null)
        .await
        .unwrap();
    assert!(on_host(&t, 0).await.distributed.is_empty());
    counter.read().unwrap();

    // Deleting the switch: refused while the VM uses it (naming h2), done
    // once the VM is gone; h2 drops it.
    let e = call(
        &center,
        Method::DELETE,
        &format!("/api/dvswitches/{dvs}"),
        Value::Null,
    )
    .await
    .unwrap_err();
    let (code, e) = refusal(e);
    assert_eq!(code, 409);
    assert!(e.contains(&format!("host {}", names[1])), "{e}");
    assert_eq!(on_host(&t, 1).await.distributed.len(), 1);
    drop(counter);
    let task = center
        .power("dv-vm", hierro_api::PowerOp::Off)
        .await
        .unwrap();
    center.wait(&task, |_| {}).await.unwrap();
    let task = center.delete_vm("dv-vm").await.unwrap();
    center.wait(&task, |_| {}).await.unwrap();
    call(
        &center,
        Method::DELETE,
        &format!("/api/dvswitches/{dvs}"),
        Value::Null,
    )
    .await
    .unwrap();
    assert!(on_host(&t, 1).await.distributed.is_empty());
    let listed = call(
        &center,
        Method::GET,
        "/api/inventory?kind=dvswitch",
        Value::Null,
    );
    assert_eq!(listed.await.unwrap(), json!([]));
}

//! The virtual switch with real VMs in the lab: VLANs across hosts and
//! trunks, the security policies shown with frames guests send, and traffic
//! that survives vswitchd and host agent restarts. tshark on the fabric (the
//! physical switch) checks what is on the wire.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;
use hierro_api::{PortCounters, PortGroup, PowerOp, SecurityOverride};
use hierro_client::Client;
use hierro_lab::wait_for_guest;

const BOOT: Duration = Duration::from_secs(240);

async fn counters(c: &Client, vm_id: &str) -> PortCounters {
    let key = format!("vm:{vm_id}:0");
    c.ports()
        .await
        .unwrap()
        .ports
        .into_iter()
        .find(|p| p.port == key)
        .expect("VM port")
        .counters
}

/// Creates and powers on VMs `(name, port group, ip)` on one host, waits for
/// all their guest agents, and returns their ids.
async fn vms(c: &Client, lab: &hierro_lab::Lab, list: &[(&str, &str, &str)]) -> Vec<String> {
    let mut ids = vec![];
    for (name, pg, ip) in list {
        let mut spec = lab.vm_spec(name, "10.0.0.1".parse().unwrap(), 256);
        spec.nics[0].network = pg.to_string();
        spec.nics[0].ip = (!ip.is_empty()).then(|| ip.to_string());
        spec.nics[0].gateway = None;
        let t = c.run(c.create_vm(&spec).await).await.unwrap();
        ids.push(t.target.trim_start_matches("vm:").to_string());
        c.run(c.power(name, PowerOp::On).await).await.unwrap();
    }
    for (name, _, _) in list {
        wait_for_guest(c, name, BOOT).await.unwrap();
    }
    ids
}

async fn ping(lab: &hierro_lab::Lab, host: usize, vm: &str, to: &str) -> bool {
    guest_sh(
        lab,
        host,
        vm,
        &format!("ping -c 2 -W 2 {to} >/dev/null 2>&1 && echo ok"),
    )
    .await
    .trim()
        == "ok"
}

async fn set_policy(c: &Client, pg: &str, f: impl FnOnce(&mut SecurityOverride)) {
    let mut g: PortGroup = c
        .network()
        .await
        .unwrap()
        .portgroups
        .into_iter()
        .find(|g| g.name == pg)
        .unwrap();
    f(&mut g.security);
    c.set_portgroup(&g).await.unwrap();
}

/// tshark on the physical switch, for the life of the value.
struct Wire {
    child: std::process::Child,
    file: std::path::PathBuf,
}

impl Wire {
    fn start(lab: &hierro_lab::Lab, name: &str) -> Wire {
        let file = lab.dir.join(format!("{name}.pcap"));
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.fabric_ns,
                "tshark",
                "-q",
                "-i",
                "fabric0",
                "-w",
            ])
            .arg(&file)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("tshark");
        wait_capture_started(&file);
        Wire { child, file }
    }

    /// Stops the capture; returns (VLAN id or "", source MAC, destination MAC) per frame.
    fn frames(mut self) -> Vec<(String, String, String)> {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
        let _ = self.child.wait();
        read_pcap(&self.file)
    }
}

fn read_pcap(file: &Path) -> Vec<(String, String, String)> {
    let out = Command::new("tshark")
        .args([
            "-r",
            file.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "vlan.id",
            "-e",
            "eth.src",
            "-e",
            "eth.dst",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].to_string(),
                f.get(1).unwrap_or(&"").to_string(),
                f.get(2).unwrap_or(&"").to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn traffic_survives_vswitchd_and_agent_restarts() {
    let mut t = TestLab::up(19, 1, 1).await;
    let c = t.client(0).await;
    let vm = t.lab.hosts[0].vms[0].clone();
    let pidfile = t.lab.hosts[0].run_dir.join("vswitchd.pid");
    let pid = || {
        std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse::<u32>()
            .unwrap()
    };

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        let mut counter = Counter::connect(vm.ip).unwrap();
        std::thread::spawn(move || {
            let (mut values, mut gap, mut last) = (vec![], Duration::ZERO, Instant::now());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                values.push(counter.read().map_err(|e| e.to_string())?);
                gap = gap.max(last.elapsed());
                last = Instant::now();
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok::<_, String>((values, gap))
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;

    // vswitchd dies: the agent starts a new one and gives it the configuration.
    let first = pid();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&pidfile)
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        == Some(first)
    {
        assert!(Instant::now() < deadline, "vswitchd was not restarted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !c
        .events(None, None)
        .await
        .unwrap()
        .iter()
        .any(|e| e.kind == "VswitchdRestartedEvent")
    {
        assert!(Instant::now() < deadline, "no VswitchdRestartedEvent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The reader's next request (every 50 ms) goes through the new vswitchd.
    let deadline = Instant::now() + Duration::from_secs(10);
    while counters(&c, &vm.id).await.in_packets == 0 {
        assert!(
            Instant::now() < deadline,
            "the new vswitchd forwards the VM's frames"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The agent dies: vswitchd (not its child in any way that matters) goes on.
    let second = pid();
    kill_agent(&t.lab, 0);
    assert!(process_alive(second));
    t.lab.restart_agent(0, HIERRO.as_ref()).await.unwrap();
    assert_eq!(
        pid(),
        second,
        "the restarted agent adopted the running vswitchd"
    );
    // An observation window: the client keeps reading after both restarts.
    tokio::time::sleep(Duration::from_secs(1)).await;

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (values, gap) = reader
        .join()
        .unwrap()
        .expect("the TCP connection to the guest survived both restarts");
    assert!(values.windows(2).all(|w| w[1] > w[0]));
    eprintln!("largest gap between counter reads across both restarts: {gap:?}");

    // Lab down ends every process, including the vswitchd the restarted
    // agent started.
    let current = pid();
    drop(t);
    assert!(
        !process_alive(current),
        "vswitchd {current} outlived lab down"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn vlans_across_hosts_isolation_and_trunks() {
    let t = TestLab::up(17, 2, 0).await;
    let (c1, c2) = (t.client(0).await, t.client(1).await);
    let a = vms(
        &c1,
        &t.lab,
        &[("a101", "VLAN 101", "10.98.1.1/24"), ("trunk", "Trunk", "")],
    )
    .await;
    let b = vms(
        &c2,
        &t.lab,
        &[
            ("b101", "VLAN 101", "10.98.1.2/24"),
            ("c102", "VLAN 102", "10.98.1.3/24"),
        ],
    )
    .await;
    let mac = |c: &Client, name: &str| {
        let (c, name) = (c.clone(), name.to_string());
        async move { c.vm(&name).await.unwrap().config.nics[0].mac.clone() }
    };
    let (a_mac, c_mac) = (mac(&c1, "a101").await, mac(&c2, "c102").await);

    let wire = Wire::start(&t.lab, "vlans");
    // Same VLAN on two hosts: through both vswitchds and the physical switch.
    assert!(ping(&t.lab, 0, &a[0], "10.98.1.2").await);
    // Another VLAN, same subnet: nothing crosses.
    assert!(
        !ping(&t.lab, 0, &a[0], "10.98.1.3").await,
        "VLAN 101 reached VLAN 102"
    );
    // A trunk port group passes the guest's own tags: its VLAN interface
    // reaches VLAN 101.
    let up = guest_sh(
        &t.lab,
        0,
        &a[1],
        "ip link add link eth0 name eth0.101 type vlan id 101 && ip addr add 10.98.1.4/24 dev eth0.101 && ip link set eth0.101 up && echo up",
    )
    .await;
    assert_eq!(up.trim(), "up");
    assert!(
        ping(&t.lab, 0, &a[1], "10.98.1.2").await,
        "trunk to VLAN 101"
    );
    assert!(
        ping(&t.lab, 1, &b[1], "10.98.1.3").await,
        "c102 reaches itself only"
    );
    let frames = wire.frames();

    assert!(
        frames.iter().any(|(v, src, _)| v == "101" && *src == a_mac),
        "a101's frames tagged 101 on the wire"
    );
    assert!(
        frames.iter().all(|(v, src, _)| *src != a_mac || v == "101"),
        "a101 never untagged or other VLAN"
    );
    assert!(
        frames.iter().all(|(v, src, _)| *src != c_mac || v == "102"),
        "c102 only in VLAN 102"
    );
    assert!(
        !frames.iter().any(|(v, _, dst)| *dst == a_mac && v != "101"),
        "nothing from another VLAN to a101"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn security_policies_with_guest_frames() {
    let t = TestLab::up(18, 1, 0).await;
    let c = t.client(0).await;
    let ip = |n: u8| format!("10.99.18.{n}/24");
    let ids = vms(
        &c,
        &t.lab,
        &[
            ("s1", "VM Network", &ip(100)),
            ("s2", "VM Network", &ip(101)),
            ("s3", "VM Network", &ip(102)),
        ],
    )
    .await;
    let (s1, s2, s3) = (&ids[0], &ids[1], &ids[2]);
    let s1_mac = c.vm("s1").await.unwrap().config.nics[0].mac.clone();
    let s2_mac = c.vm("s2").await.unwrap().config.nics[0].mac.clone();
    let lab = &t.lab;

    // Forged transmits. s1 sends broadcast frames with a source MAC that is
    // not its own; s2 counts them arriving.
    const FORGED: &str = "02:00:00:00:00:99";
    let forge = format!("hierro-guest frame send --iface eth0 --dst ff:ff:ff:ff:ff:ff --src {FORGED} --count 5 --interval-ms 100");
    let count_forged = format!(
        "hierro-guest frame count --iface eth0 --src {FORGED} --ethertype 0x88b5 --seconds 3"
    );
    let forged_seen = || async {
        let (seen, _) = tokio::join!(guest_sh(lab, 0, s2, &count_forged), async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            guest_sh(lab, 0, s1, &forge).await
        });
        let v: serde_json::Value = serde_json::from_str(seen.trim()).expect("count output");
        v["matched"].as_u64().unwrap()
    };
    // Accepted (a standard switch's default): they arrive, and leave on the wire.
    let wire = Wire::start(lab, "forged");
    assert_eq!(forged_seen().await, 5);
    assert!(wire.frames().iter().any(|(_, src, _)| src == FORGED));
    // Rejected: dropped and counted, and not on the wire.
    set_policy(&c, "VM Network", |s| s.allow_forged_transmits = Some(false)).await;
    let before = counters(&c, s1).await.drop_forged;
    let wire = Wire::start(lab, "forged-rejected");
    assert_eq!(forged_seen().await, 0);
    assert!(!wire.frames().iter().any(|(_, src, _)| src == FORGED));
    assert_eq!(counters(&c, s1).await.drop_forged - before, 5);
    set_policy(&c, "VM Network", |s| s.allow_forged_transmits = None).await;

    // MAC address changes. s1's guest changes its MAC; QEMU tells the agent,
    // the agent tells vswitchd.
    const CHANGED: &str = "52:54:00:de:ad:01";
    let (cc, configured) = (&c, &s1_mac);
    let change = |mac: String| async move {
        guest_sh(
            lab,
            0,
            s1,
            &format!("ip link set eth0 address {mac} && echo done"),
        )
        .await;
        // Wait until QEMU's rx-filter event has reached vswitchd.
        let expected = (mac != *configured).then_some(mac);
        let key = format!("vm:{s1}:0");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let ports = cc.ports().await.unwrap().ports;
            if ports
                .iter()
                .any(|p| p.port == key && p.effective_mac == expected)
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "vswitchd never saw the guest's MAC {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        guest_sh(lab, 0, s2, "ip neigh flush all").await;
    };
    // Accepted: traffic follows the new MAC.
    change(CHANGED.to_string()).await;
    assert!(
        ping(lab, 0, s2, "10.99.18.100").await,
        "reaches the changed MAC"
    );
    change(s1_mac.clone()).await;
    // Rejected: inbound frames to the changed MAC are dropped and counted...
    set_policy(&c, "VM Network", |s| s.allow_mac_changes = Some(false)).await;
    change(CHANGED.to_string()).await;
    let before = counters(&c, s1).await.drop_mac_change;
    assert!(
        !ping(lab, 0, s2, "10.99.18.100").await,
        "MAC change rejected, yet frames arrived"
    );
    assert!(counters(&c, s1).await.drop_mac_change > before);
    // ...until the guest changes back.
    change(s1_mac.clone()).await;
    assert!(ping(lab, 0, s2, "10.99.18.100").await);
    set_policy(&c, "VM Network", |s| s.allow_mac_changes = None).await;

    // Promiscuous mode. s3 puts its NIC in promiscuous mode and counts the
    // frames s1 sends to s2.
    // (The guest's driver waits for QEMU to apply it: no wait needed.)
    guest_sh(lab, 0, s3, "ip link set eth0 promisc on").await;
    let unicast = format!("hierro-guest frame send --iface eth0 --dst {s2_mac} --src {s1_mac} --count 5 --interval-ms 100");
    // Only the test frames (EtherType 0x88b5), not the guests' own traffic to s2.
    let count_s3 = format!(
        "hierro-guest frame count --iface eth0 --dst {s2_mac} --ethertype 0x88b5 --seconds 3"
    );
    let overheard = || async {
        let (seen, _) = tokio::join!(guest_sh(lab, 0, s3, &count_s3), async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            guest_sh(lab, 0, s1, &unicast).await
        });
        let v: serde_json::Value = serde_json::from_str(seen.trim()).expect("count output");
        v["matched"].as_u64().unwrap()
    };
    // Rejected (the default): s3 gets none of it; its port counts them.
    let before = counters(&c, s3).await.drop_promiscuous;
    assert_eq!(overheard().await, 0);
    assert!(counters(&c, s3).await.drop_promiscuous - before >= 5);
    // Accepted, on the running switch: s3 sees all five.
    set_policy(&c, "VM Network", |s| s.allow_promiscuous = Some(true)).await;
    assert_eq!(overheard().await, 5);

    // MTU: jumbo frames pass a 9000-byte switch and are dropped (and
    // counted) by a 1500-byte one.
    let mut sw = c.network().await.unwrap().vswitches[0].clone();
    let jumbo_ping = || async {
        guest_sh(
            lab,
            0,
            s1,
            "ping -c 2 -W 2 -s 8000 10.99.18.101 >/dev/null 2>&1 && echo ok",
        )
        .await
        .trim()
            == "ok"
    };
    sw.mtu = 9000;
    c.set_vswitch(&sw).await.unwrap();
    for vm in [s1, s2] {
        guest_sh(lab, 0, vm, "ip link set eth0 mtu 9000").await;
    }
    assert!(
        jumbo_ping().await,
        "8000-byte pings through a 9000-byte switch"
    );
    sw.mtu = 1500;
    c.set_vswitch(&sw).await.unwrap();
    let before = counters(&c, s1).await.drop_oversize;
    assert!(!jumbo_ping().await);
    assert!(counters(&c, s1).await.drop_oversize > before);
}

#[tokio::test(flavor = "multi_thread")]
async fn reconfigure_moves_a_running_nic_and_resizes_when_off() {
    let t = TestLab::up(20, 1, 1).await;
    let c = t.client(0).await;
    let vm = t.lab.hosts[0].vms[0].clone();
    let nic = |pg: &str| hierro_api::NicSpec {
        network: pg.into(),
        mac: None,
        ip: Some(format!("{}/24", vm.ip)),
        gateway: None,
        model: None,
    };
    let reachable = || {
        std::net::TcpStream::connect_timeout(&(vm.ip, 7777).into(), Duration::from_secs(2)).is_ok()
    };
    assert!(reachable());
    let mac = c.vm(&vm.name).await.unwrap().config.nics[0].mac.clone();

    // (The task ends once vswitchd has the new port: no wait after it.)
    // A running VM's NIC moves to a tagged port group: this machine, on the
    // untagged network, no longer reaches it; moved back, it does again.
    let to = |pg: &str| hierro_api::VmUpdate {
        nics: Some(vec![nic(pg)]),
        ..Default::default()
    };
    c.run(c.update_vm(&vm.name, &to("VLAN 101")).await)
        .await
        .unwrap();
    assert!(!reachable(), "still on the untagged network");
    c.run(c.update_vm(&vm.name, &to("VM Network")).await)
        .await
        .unwrap();
    assert!(reachable());
    assert_eq!(
        c.vm(&vm.name).await.unwrap().config.nics[0].mac,
        mac,
        "the NIC kept its MAC"
    );

    // CPU and memory change only while powered off.
    let bigger = hierro_api::VmUpdate {
        cpus: Some(2),
        memory_mib: Some(320),
        ..Default::default()
    };
    let err = c.update_vm(&vm.name, &bigger).await.unwrap_err();
    assert_eq!(
        err.code(),
        Some(hierro_api::ErrorCode::InvalidState),
        "{err}"
    );
    let bad = hierro_api::VmUpdate {
        nics: Some(vec![nic("Nowhere")]),
        ..Default::default()
    };
    assert_eq!(
        c.update_vm(&vm.name, &bad)
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(400)
    );
    c.run(c.power(&vm.name, PowerOp::Off).await).await.unwrap();
    c.run(c.update_vm(&vm.name, &bigger).await).await.unwrap();
    c.run(c.power(&vm.name, PowerOp::On).await).await.unwrap();
    wait_for_guest(&c, &vm.name, BOOT).await.unwrap();
    assert_eq!(
        guest_sh(&t.lab, 0, &vm.id, "grep -c ^processor /proc/cpuinfo")
            .await
            .trim(),
        "2"
    );
    let stored: hierro_api::VmConfig = serde_json::from_slice(
        &std::fs::read(t.lab.datastore_dir.join(&vm.name).join("vm.json")).unwrap(),
    )
    .unwrap();
    assert_eq!((stored.cpus, stored.memory_mib), (2, 320));
}

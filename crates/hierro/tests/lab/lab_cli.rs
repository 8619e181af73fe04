//! The lab and the CLI as a user runs them: `hierro lab up` builds hosts in
//! namespaces with running VMs, client verbs work against a host with flags
//! from the environment, and `hierro lab down` leaves nothing behind.

use std::process::Command;

use crate::common::*;

fn leftovers(prefix: &str, dir: &std::path::Path) -> Vec<String> {
    let mut found = vec![];
    let ns = Command::new("ip").args(["netns", "list"]).output().unwrap();
    found.extend(
        String::from_utf8_lossy(&ns.stdout)
            .lines()
            .filter(|l| l.starts_with(prefix))
            .map(|l| format!("netns {l}")),
    );
    let links = Command::new("ip").args(["-o", "link"]).output().unwrap();
    found.extend(
        String::from_utf8_lossy(&links.stdout)
            .lines()
            .filter(|l| {
                l.split(':')
                    .nth(1)
                    .is_some_and(|n| n.trim().starts_with(prefix.trim_end_matches('-')))
            })
            .map(|l| format!("link {l}")),
    );
    for p in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(&*dir.to_string_lossy()) {
            found.push(format!("process {cmdline}"));
        }
    }
    if dir.exists() {
        found.push(format!("dir {}", dir.display()));
    }
    found
}

#[test]
fn lab_up_cli_and_down_leave_nothing() {
    require_environment();
    let dir = std::env::temp_dir().join("hierro-test-lab-16");
    let d = dir.to_str().unwrap();
    if dir.join("lab.json").exists() {
        cli(&["lab", "down", "--dir", d], &[]);
    }
    let image = image_dir();
    let (ok, out, err) = cli(
        &[
            "lab",
            "up",
            "--hosts",
            "2",
            "--vms-per-host",
            "1",
            "--id",
            "16",
            "--dir",
            d,
            "--image",
            image.to_str().unwrap(),
            "--json",
        ],
        &[],
    );
    assert!(ok, "lab up failed: {err}");
    let lab: hierro_lab::Lab = serde_json::from_str(&out).expect("lab up --json");
    assert_eq!(lab.hosts.len(), 2);
    assert!(lab
        .hosts
        .iter()
        .all(|h| h.vms.len() == 1 && !h.thumbprint.is_empty()));

    // The center runs, with both hosts and their VMs in its inventory.
    let center = lab.center.as_ref().expect("the lab's center");
    let rt0 = tokio::runtime::Runtime::new().unwrap();
    let (hosts, vms) = rt0.block_on(async {
        let c = hierro_lab::center::client(&lab).await.unwrap();
        let get = |path: &'static str| {
            let c = c.clone();
            async move {
                c.call::<(), serde_json::Value>(reqwest::Method::GET, path, None)
                    .await
                    .unwrap()
            }
        };
        (
            get("/api/inventory?kind=host").await,
            get("/api/inventory?kind=vm").await,
        )
    });
    assert!(center.url.starts_with("https://10.99.16."));
    assert_eq!(hosts.as_array().unwrap().len(), 2, "{hosts}");
    assert_eq!(vms.as_array().unwrap().len(), 2, "{vms}");
    assert!(hosts
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["data"]["state"] == "connected"));

    // The same through the CLI against the center.
    let cenv = center_env(&lab);
    let json_of = |args: &[&str]| {
        let (ok, out, err) = cli(args, &cenv);
        assert!(ok, "hierro {args:?}: {err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap_or(serde_json::Value::Null)
    };
    assert_eq!(
        json_of(&["inventory", "ls", "--kind", "host", "--json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let cluster = json_of(&["inventory", "ls", "--kind", "cluster", "--json"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    json_of(&[
        "user",
        "add",
        "carol",
        "--new-password",
        "carol password",
        "--json",
    ]);
    json_of(&[
        "permission",
        "set",
        "--object",
        &cluster,
        "--principal",
        "user:carol",
        "--role",
        "read-only",
    ]);
    let check = json_of(&[
        "permission",
        "check",
        "--object",
        &cluster,
        "--principal",
        "user:carol",
        "--json",
    ]);
    let privileges: Vec<&str> = check["privileges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        privileges.contains(&"System.Read") && !privileges.contains(&"Host.Inventory.EditCluster"),
        "{check}"
    );
    // The VM verbs work against the center too.
    assert_eq!(
        json_of(&["vm", "ls", "--json"]).as_array().unwrap().len(),
        2
    );
    let hosts = json_of(&["host", "ls", "--json"]);
    assert!(hosts
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["data"]["state"] == "connected"));
    json_of(&[
        "vm",
        "create",
        "cli-vm",
        "--placement",
        &cluster,
        "--datastore",
        "shared",
        "--kernel",
        "[shared] images/vmlinuz",
        "--initrd",
        "[shared] images/initrd.img",
        "--memory",
        "128",
        "--disk-size",
        "64",
        "--json",
    ]);
    json_of(&["vm", "set", "cli-vm", "--memory", "192", "--json"]);
    let info = json_of(&["vm", "info", "cli-vm", "--json"]);
    assert_eq!(info["power_state"], "poweredOff", "{info}");
    assert_eq!(info["config"]["memory_mib"], 192, "{info}");
    json_of(&["vm", "delete", "cli-vm", "--json"]);
    assert_eq!(
        json_of(&["inventory", "ls", "--kind", "vm", "--json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let tasks = json_of(&["task", "ls", "--json"]);
    assert!(tasks
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["operation"] == "host.add" && t["state"] == "success"));

    // Each VM answers on its address from outside the hosts.
    for h in &lab.hosts {
        let mut c = Counter::connect(h.vms[0].ip).expect("counter reachable");
        assert!(c.read().unwrap() < c.read().unwrap());
    }
    // VMs on different hosts reach each other over the fabric.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let other = lab.hosts[1].vms[0].ip;
    let ping = rt.block_on(guest_sh(
        &lab,
        0,
        &lab.hosts[0].vms[0].id,
        &format!("ping -c 1 -W 5 {other} >/dev/null && echo reached"),
    ));
    assert_eq!(ping.trim(), "reached");

    let (ok, out, err) = cli(&["lab", "status", "--dir", d, "--json"], &[]);
    assert!(ok, "{err}");
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    for h in status["hosts"].as_array().unwrap() {
        assert_eq!(h["agent"], "running");
        assert_eq!(h["vms"][0]["power"], "poweredOn");
        assert_eq!(h["vms"][0]["guest_agent"], true);
    }

    // Client verbs against host 1, credentials from the environment.
    let h1 = &lab.hosts[0];
    let env = [
        ("HIERRO_SERVER", h1.url.as_str()),
        ("HIERRO_USER", lab.user.as_str()),
        ("HIERRO_PASSWORD", lab.password.as_str()),
        ("HIERRO_THUMBPRINT", h1.thumbprint.as_str()),
    ];
    let (ok, out, err) = cli(&["vm", "ls", "--json"], &env);
    assert!(ok, "{err}");
    let vms: Vec<hierro_api::VmInfo> = serde_json::from_str(&out).unwrap();
    assert_eq!(vms.len(), 1);
    assert_eq!(vms[0].name, h1.vms[0].name);
    let (ok, out, _) = cli(&["vm", "info", &h1.vms[0].name], &env);
    assert!(
        ok && out.contains("guest agent") && out.contains(&h1.vms[0].ip.to_string()),
        "{out}"
    );
    // The host's network through the CLI: the lab's switch, and counters
    // that show the VM's traffic.
    let (ok, out, err) = cli(&["host", "net", "ls", "--json"], &env);
    assert!(ok, "{err}");
    let net: hierro_api::HostNetwork = serde_json::from_str(&out).unwrap();
    assert_eq!(
        net.vswitches[0].uplinks,
        vec!["eth0".to_string(), "eth1".to_string()]
    );
    assert_eq!(
        net.vmknics[0].ip.as_deref(),
        Some(format!("{}/24", h1.ip).as_str())
    );
    let (ok, out, err) = cli(&["host", "net", "ports", "--json"], &env);
    assert!(ok, "{err}");
    let ports: hierro_api::PortList = serde_json::from_str(&out).unwrap();
    let vm_port = ports
        .ports
        .iter()
        .find(|p| p.port == format!("vm:{}:0", h1.vms[0].id))
        .expect("the VM's port");
    assert!(vm_port.counters.in_packets > 0 && vm_port.counters.out_packets > 0);
    // Teaming through the CLI: the VM network's port group overrides the
    // switch's failover order, and the VM's port moves to eth1.
    let vm_uplink = |env: &[(&str, &str)]| {
        let (ok, out, err) = cli(&["host", "net", "ports", "--json"], env);
        assert!(ok, "{err}");
        let ports: hierro_api::PortList = serde_json::from_str(&out).unwrap();
        let key = format!("vm:{}:0", h1.vms[0].id);
        ports
            .ports
            .into_iter()
            .find(|p| p.port == key)
            .unwrap()
            .uplink
    };
    let set_vm_network = |flags: &[&str]| {
        let mut args = vec!["host", "net", "portgroup", "set", hierro_lab::VM_NETWORK];
        args.extend(flags);
        cli(&args, &env)
    };
    let (ok, _, err) = set_vm_network(&[
        "--load-balancing",
        "failover-order",
        "--active",
        "eth1",
        "--standby",
        "eth0",
    ]);
    assert!(ok, "{err}");
    assert_eq!(vm_uplink(&env).as_deref(), Some("eth1"));
    let (ok, out, _) = cli(&["host", "net", "ls"], &env);
    assert!(
        ok && out.contains("teaming failover_order / active [eth1] standby [eth0] unused []"),
        "{out}"
    );
    let (ok, _, err) = set_vm_network(&["--load-balancing", "ip-hash"]);
    assert!(
        !ok && err.contains("IP hash") && err.contains("eth0 is standby"),
        "{err}"
    );
    assert_eq!(vm_uplink(&env).as_deref(), Some("eth1"), "nothing changed");
    let (ok, _, err) = set_vm_network(&["--use-vswitch-teaming"]);
    assert!(ok, "{err}");
    let (_, out, _) = cli(&["host", "net", "ls", "--json"], &env);
    let net: hierro_api::HostNetwork = serde_json::from_str(&out).unwrap();
    let g = net
        .portgroups
        .iter()
        .find(|g| g.name == hierro_lab::VM_NETWORK);
    assert_eq!(g.unwrap().teaming, Default::default());
    // A mirror session through the CLI: the VM's frames (the VM named, not
    // its id) in ERSPAN to the other host, from vmk0 (RSPAN would need a
    // physical switch that learns per VLAN, which the lab's bridge does
    // not); a typo, a port the host lacks and a loop are refused.
    let vm_port = format!("vm:{}:0", h1.vms[0].id);
    let mirror = |flags: &[&str]| {
        let mut args = vec!["host", "net", "mirror", "add"];
        args.extend(flags);
        cli(&args, &env)
    };
    let h2_ip = lab.hosts[1].ip.to_string();
    let (ok, _, err) = mirror(&[
        "watch",
        "--source",
        &format!("vm:{}:0:egress", h1.vms[0].name),
        "--erspan",
        &h2_ip,
        "--erspan-type",
        "3",
        "--session-id",
        "7",
        "--vmknic",
        "vmk0",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = mirror(&["typo", "--source", "vm:nope:0", "--to-port", "vmk1"]);
    assert!(!ok && err.contains("no VM named \"nope\""), "{err}");
    let missing = format!("vm:{}:0", uuid::Uuid::new_v4());
    let (ok, _, err) = mirror(&["gone", "--source", &missing, "--to-port", "vmk1"]);
    assert!(
        !ok && err.contains(&format!("no port \"{missing}\" on this host")),
        "{err}"
    );
    let (ok, _, err) = mirror(&["loop", "--source", &vm_port, "--to-port", &vm_port]);
    assert!(
        !ok && err.contains("both a source and the destination"),
        "{err}"
    );
    Counter::connect(h1.vms[0].ip).unwrap().read().unwrap();
    let (_, out, _) = cli(&["host", "net", "ports", "--json"], &env);
    let ports: hierro_api::PortList = serde_json::from_str(&out).unwrap();
    assert_eq!(ports.mirrors.len(), 1, "{:?}", ports.mirrors);
    let m = &ports.mirrors[0];
    assert!(m.frames > 0 && m.dropped == 0, "{m:?}");
    let (ok, out, _) = cli(&["host", "net", "ls"], &env);
    assert!(
        ok && out.contains("mirror watch (enabled)")
            && out.contains(&format!("{vm_port} (egress)"))
            && out.contains(&format!("ERSPAN type3 session 7 to {h2_ip} from vmk0")),
        "{out}"
    );
    let (ok, _, err) = cli(&["host", "net", "mirror", "rm", "watch"], &env);
    assert!(ok, "{err}");
    let (ok, _, err) = cli(
        &[
            "host",
            "net",
            "portgroup",
            "add",
            "Bad",
            "--vswitch",
            "vSwitch0",
            "--vlan",
            "4096",
        ],
        &env,
    );
    assert!(!ok && err.contains("VLAN"), "{err}");
    let pcap = dir.join("vmk0.pcap");
    let counter_ip = h1.vms[0].ip;
    // Traffic for as long as the capture runs (it stops after 4 frames).
    let capturing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let traffic = std::thread::spawn({
        let capturing = capturing.clone();
        move || {
            let mut c = Counter::connect(counter_ip).unwrap();
            while capturing.load(std::sync::atomic::Ordering::Relaxed) {
                c.read().unwrap();
            }
        }
    });
    let (ok, _, err) = cli(
        &[
            "host",
            "net",
            "capture",
            &format!("vm:{}:0", h1.vms[0].id),
            "--out",
            pcap.to_str().unwrap(),
            "--packets",
            "4",
            "--seconds",
            "10",
        ],
        &env,
    );
    capturing.store(false, std::sync::atomic::Ordering::Relaxed);
    traffic.join().unwrap();
    assert!(ok, "{err}");
    let read = Command::new("tshark")
        .args(["-r", pcap.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&read.stdout).lines().count(),
        4,
        "tshark reads the 4 captured frames"
    );
    // A capture is a task that holds no request open: the answer comes at
    // once, the file waits for its download (then for nothing: deleted, it
    // is gone), and a cancelled one leaves no file. Bad limits and unknown
    // ports are refused before anything starts.
    rt.block_on(async {
        let api = lab.client(h1).await.unwrap();
        let code = |e: &hierro_client::ClientError| e.status().map(|s| s.as_u16());
        let port = format!("vm:{}:0", h1.vms[0].id);
        let asked = |packets, seconds| hierro_api::CaptureRequest {
            port: port.clone(),
            packets,
            seconds,
        };
        let before = api.tasks().await.unwrap().len();
        for (req, status) in [
            (asked(10, 0), 400),
            (asked(10, 101), 400),
            (asked(0, 10), 400),
            (asked(1_000_001, 10), 400),
            (
                hierro_api::CaptureRequest {
                    port: "vm:nope:0".into(),
                    packets: 1,
                    seconds: 1,
                },
                404,
            ),
        ] {
            let e = api.start_capture(&req).await.unwrap_err();
            assert_eq!(code(&e), Some(status), "{e}");
        }
        assert_eq!(api.tasks().await.unwrap().len(), before, "nothing started");
        let long = api.start_capture(&asked(1_000_000, 100)).await.unwrap();
        assert_eq!(long.operation, hierro_api::Operation::HostCapture);
        let e = api.capture_file(long.id).await.unwrap_err();
        assert_eq!(code(&e), Some(409), "not finished yet: {e}");
        api.cancel_task(long.id).await.unwrap();
        let e = api.wait(&long, |_| {}).await.unwrap_err();
        assert!(e.to_string().contains("cancelled"), "{e}");
        let e = api.capture_file(long.id).await.unwrap_err();
        assert_eq!(
            code(&e),
            Some(404),
            "a cancelled capture keeps no file: {e}"
        );
        let short = api.start_capture(&asked(1_000_000, 1)).await.unwrap();
        let done = api.wait(&short, |_| {}).await.unwrap();
        let result: hierro_api::CaptureResult =
            serde_json::from_value(done.result.unwrap()).unwrap();
        assert_eq!(
            result.download,
            format!("/api/network/captures/{}", short.id)
        );
        let pcap = api.capture_file(short.id).await.unwrap();
        assert_eq!(pcap.len() as u64, result.bytes);
        assert_eq!(&pcap[..4], &0xa1b2_c3d4u32.to_le_bytes(), "a pcap file");
        api.delete_capture(short.id).await.unwrap();
        let e = api.capture_file(short.id).await.unwrap_err();
        assert_eq!(code(&e), Some(404), "{e}");
    });

    // A command that fails says why and exits non-zero.
    let (ok, _, err) = cli(
        &[
            "vm",
            "create",
            "x",
            "--datastore",
            "nope",
            "--disk-size",
            "8",
        ],
        &env,
    );
    assert!(!ok && err.contains("no datastore named \"nope\""), "{err}");
    let (ok, _, err) = cli(&["vm", "power-on", &h1.vms[0].name], &env);
    assert!(!ok && err.contains("poweredOn"), "{err}");
    // An unpinned certificate is not trusted; the error shows its thumbprint.
    let (ok, _, err) = cli(&["vm", "ls"], &env[..3]);
    assert!(!ok && err.contains(&h1.thumbprint), "{err}");
    // The console works from a pipe too.
    let mut child = Command::new(HIERRO)
        .args(["vm", "console", &h1.vms[0].name])
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"echo from-cli-$((2*21))\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("from-cli-42"));

    let (ok, _, err) = cli(&["lab", "down", "--dir", d], &[]);
    assert!(ok, "{err}");
    let left = leftovers("hl16-", &dir);
    assert!(left.is_empty(), "lab down left: {left:#?}");
}

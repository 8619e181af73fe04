//! vswitchd moving real frames between network namespaces: veths stand in
//! for VM taps and the uplink, `ping` makes the traffic, tshark on the
//! outside of the uplink checks what goes on the wire.

use std::path::Path;
use std::time::{Duration, Instant};

use hierro_api::{PortGroup, SecurityOverride, VSwitch};
use hierro_vswitch::control::{request, Request, Response};
use hierro_vswitch::{DataplaneConfig, PortKind};

use crate::common::netns::{
    guest, must, ping, port_spec, tshark, tshark_fields, veth, Netns, Vswitchd,
};

fn setup() -> (Netns, Vswitchd) {
    let mut b = Netns::new(&["vst-h", "vst-a", "vst-b", "vst-c", "vst-x"]);
    guest(
        "vst-h",
        "vst-a",
        "vsta",
        "52:54:00:77:00:01",
        "10.77.0.1/24",
    );
    guest(
        "vst-h",
        "vst-b",
        "vstb",
        "52:54:00:77:00:02",
        "10.77.0.2/24",
    );
    guest(
        "vst-h",
        "vst-c",
        "vstc",
        "52:54:00:77:00:03",
        "10.77.0.3/24",
    );
    // The uplink, and the outside world behind it (no IP: we only listen).
    veth("vst-h", "vstup", "vst-x", "eth0");
    let vs = b.start_vswitchd("vst-h");
    (b, vs)
}

fn config(forged: Option<bool>) -> DataplaneConfig {
    let pg = |name: &str, vlan: u16| PortGroup {
        teaming: Default::default(),
        name: name.into(),
        vswitch: "vSwitch0".into(),
        vlan,
        security: SecurityOverride {
            allow_forged_transmits: forged,
            ..Default::default()
        },
    };
    let port =
        |key: &str, pg: &str, iface: &str, mac: &str| port_spec(key, PortKind::Vm, pg, iface, mac);
    DataplaneConfig {
        switches: vec![VSwitch {
            teaming: Default::default(),
            name: "vSwitch0".into(),
            mtu: 1500,
            uplinks: vec!["vstup".into()],
            security: Default::default(),
        }],
        portgroups: vec![pg("Net0", 0), pg("Net100", 100)],
        ports: vec![
            port("vm:a:0", "Net0", "vsta", "52:54:00:77:00:01"),
            port("vm:b:0", "Net0", "vstb", "52:54:00:77:00:02"),
            port("vm:c:0", "Net100", "vstc", "52:54:00:77:00:03"),
        ],
        mirrors: vec![],
    }
}

fn counters(vs: &Vswitchd, port: &str) -> hierro_api::PortCounters {
    vs.port(port).counters
}

/// (VLAN id or "", source MAC) of every frame in a capture file, via tshark.
fn tshark_frames(file: &Path) -> Vec<(String, String)> {
    tshark_fields(file, &["vlan.id", "eth.src"])
        .into_iter()
        .map(|r| (r[0].clone(), r.get(1).cloned().unwrap_or_default()))
        .collect()
}

#[test]
fn vswitchd_switches_real_frames() {
    let (b, vs) = setup();
    vs.apply(&config(None)).unwrap();

    // Same port group: they reach each other. Another VLAN: they do not.
    assert!(ping("vst-a", "10.77.0.2"));
    assert!(
        !ping("vst-a", "10.77.0.3"),
        "a frame crossed from VLAN 0 to VLAN 100"
    );
    let a = counters(&vs, "vm:a:0");
    assert!(a.in_packets >= 2 && a.out_packets >= 1, "{a:?}");

    // On the wire, C's traffic leaves tagged 100 and A's untagged, as tshark
    // on the far side of the uplink sees it.
    let wire = b.dir.join("wire.pcap");
    let mut tshark = tshark("vst-x", "eth0", 4, &wire);
    ping("vst-c", "10.77.0.99");
    ping("vst-a", "10.77.0.98");
    tshark.wait().unwrap();
    let frames = tshark_frames(&wire);
    assert!(
        frames.contains(&("100".into(), "52:54:00:77:00:03".into())),
        "{frames:?}"
    );
    assert!(
        frames.contains(&("".into(), "52:54:00:77:00:01".into())),
        "{frames:?}"
    );
    assert!(
        !frames
            .iter()
            .any(|(v, src)| src == "52:54:00:77:00:03" && v != "100"),
        "{frames:?}"
    );

    // A capture of a port (pktcap-uw) is a pcap that tshark reads.
    let cap = b.dir.join("port-a.pcap");
    let sock = vs.socket.clone();
    let capture = std::thread::spawn({
        let cap = cap.clone();
        move || {
            request(
                &sock,
                &Request::Capture {
                    port: "vm:a:0".into(),
                    file: cap,
                    packets: 4,
                    seconds: 10,
                },
            )
        }
    });
    // Traffic until the capture has its frames (it may start after a first ping).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !capture.is_finished() {
        assert!(ping("vst-a", "10.77.0.2"));
        assert!(Instant::now() < deadline, "the capture never filled");
    }
    match capture.join().unwrap().unwrap() {
        Response::Captured { packets } => assert!(packets >= 2),
        other => panic!("{other:?}"),
    }
    let captured = tshark_frames(&cap);
    assert!(
        captured.iter().any(|(_, src)| src == "52:54:00:77:00:01"),
        "{captured:?}"
    );
    assert!(
        captured.iter().any(|(_, src)| src == "52:54:00:77:00:02"),
        "{captured:?}"
    );

    // A recording (the frames of a vMotion switchover) keeps copies of what
    // goes out of a port with their times; what went before `since_us` is
    // left out; a recording ends when it is collected, or goes on with
    // `keep`.
    let ask = |req: Request| vs.ask(&req);
    let record = |port: &str| {
        ask(Request::Record {
            ports: vec![port.to_string()],
        })
    };
    let recorded = |since_us: u64, keep: bool| match ask(Request::Recorded {
        ports: vec!["vm:b:0".into()],
        since_us,
        keep,
    }) {
        Response::Frames { frames } => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(frames)
                .unwrap();
            hierro_vswitch::vmtap::decode(&bytes).unwrap()
        }
        other => panic!("{other:?}"),
    };
    let from_a = |frames: Vec<hierro_vswitch::vmtap::Frame>| {
        frames
            .iter()
            .filter(|f| f.bytes[6..12] == [0x52, 0x54, 0, 0x77, 0, 1])
            .count()
    };
    assert!(matches!(record("vm:nosuch:0"), Response::Error { .. }));
    assert!(matches!(record("vm:b:0"), Response::Ok { .. }));
    assert!(ping("vst-a", "10.77.0.2"));
    assert!(
        from_a(recorded(0, true)) >= 1,
        "the ping's request to B was recorded"
    );
    assert!(ping("vst-a", "10.77.0.2"));
    assert!(
        from_a(recorded(0, false)) >= 1,
        "the recording went on after a collection with keep"
    );
    assert!(
        recorded(0, false).is_empty(),
        "the recording ended when collected"
    );
    assert!(matches!(record("vm:b:0"), Response::Ok { .. }));
    assert!(ping("vst-a", "10.77.0.2"));
    assert!(
        recorded(u64::MAX, false).is_empty(),
        "nothing went after the end of time"
    );

    // Forged transmits, rejected on the running switch: A's guest changes its
    // MAC and sends from it; every such frame is dropped and counted.
    vs.apply(&config(Some(false))).unwrap();
    must(&[
        "ip",
        "-n",
        "vst-a",
        "link",
        "set",
        "eth0",
        "address",
        "52:54:00:77:00:aa",
    ]);
    let before = counters(&vs, "vm:a:0").drop_forged;
    assert!(!ping("vst-a", "10.77.0.2"));
    assert!(counters(&vs, "vm:a:0").drop_forged > before);
    // Accepted: the same frames pass. (The host agent reports the MAC the
    // guest now uses, from QEMU; here the test does.)
    let mut accept = config(Some(true));
    accept.ports[0].effective_mac = Some("52:54:00:77:00:aa".into());
    vs.apply(&accept).unwrap();
    must(&["ip", "-n", "vst-b", "neigh", "flush", "all"]);
    assert!(ping("vst-a", "10.77.0.2"));

    // Bad configurations are refused and change nothing.
    let mut bad = config(None);
    bad.portgroups[1].vlan = 5000;
    assert!(vs.apply(&bad).unwrap_err().contains("VLAN"));
    let mut bad = config(None);
    bad.switches[0].uplinks.push("nosuchnic".into());
    assert!(vs.apply(&bad).unwrap_err().contains("nosuchnic"));
    assert!(
        ping("vst-a", "10.77.0.2"),
        "still forwarding after refused changes"
    );
}

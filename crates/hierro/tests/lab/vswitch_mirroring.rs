//! Port mirroring with real frames: two vswitchds (hosts h and g) on one
//! physical switch (a Linux bridge that floods like a hub, so every host
//! sees RSPAN's VLAN), guests a, b and s on h, r on g, and a collector x.
//! tshark checks every copy against the frames it copies.

use std::path::Path;

use hierro_api::{
    ErspanVersion, MirrorDestination, MirrorDirection, MirrorSession, MirrorSource, PortGroup,
    VSwitch,
};
use hierro_vswitch::{DataplaneConfig, PortKind, PortSpec};

use crate::common::netns::{
    guest, must, ping, ping_flood, port_spec, sh, tshark, tshark_fields, veth, Netns, Vswitchd,
};

const A: &str = "10.79.0.1";
const B: &str = "10.79.0.2";
const X: &str = "10.79.0.100";
const A_MAC: &str = "52:54:00:79:00:0a";
const B_MAC: &str = "52:54:00:79:00:0b";
const RSPAN_VLAN: u16 = 999;

fn port(key: &str, iface: &str, mac: &str, kind: PortKind) -> PortSpec {
    port_spec(key, kind, "Net", iface, mac)
}

fn config(ports: Vec<PortSpec>, mirrors: Vec<MirrorSession>) -> DataplaneConfig {
    DataplaneConfig {
        switches: vec![VSwitch {
            name: "vSwitch0".into(),
            mtu: 1500,
            uplinks: vec!["up0".into()],
            security: Default::default(),
            teaming: Default::default(),
        }],
        portgroups: vec![PortGroup {
            name: "Net".into(),
            vswitch: "vSwitch0".into(),
            vlan: 0,
            security: Default::default(),
            teaming: Default::default(),
        }],
        ports,
        mirrors,
    }
}

/// Host h: guests a, b, the sink s and the VMkernel port vmk1.
fn h_config(mirrors: Vec<MirrorSession>) -> DataplaneConfig {
    let ports = vec![
        port("vm:a:0", "pa", A_MAC, PortKind::Vm),
        port("vm:b:0", "pb", B_MAC, PortKind::Vm),
        port("vm:s:0", "ps", "52:54:00:79:00:0c", PortKind::Vm),
        port("vmk1", "vmk1", "02:79:00:00:00:11", PortKind::Vmk),
    ];
    config(ports, mirrors)
}

/// A session copying a's frames (both directions) to `to`.
fn of_a(name: &str, to: MirrorDestination) -> MirrorSession {
    MirrorSession {
        name: name.into(),
        vswitch: "vSwitch0".into(),
        enabled: true,
        sources: vec![MirrorSource {
            port: "vm:a:0".into(),
            direction: MirrorDirection::Both,
        }],
        source_vlan: None,
        destination: to,
        snap_length: None,
        sampling_rate: 1,
        allow_normal_io: false,
    }
}

fn span_to_s() -> MirrorDestination {
    MirrorDestination::Ports {
        ports: vec!["vm:s:0".into()],
    }
}

/// (ICMP type, sequence) of the echo frames in a capture, with the
/// given fields of each appended.
fn echoes(file: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut all = vec!["icmp.type", "icmp.seq"];
    all.extend(fields);
    tshark_fields(file, &all)
        .into_iter()
        .filter(|r| r[0] == "8" || r[0] == "0")
        .collect()
}

/// Runs `count` pings from a to b while tshark captures on `iface` in
/// `ns`; every ping is answered (a mirror changes nothing).
fn capture_pings(net: &Netns, ns: &str, iface: &str, name: &str, count: u32) -> std::path::PathBuf {
    let file = net.dir.join(format!("{name}.pcap"));
    let mut cap = tshark(ns, iface, 3, &file);
    assert_eq!(
        ping_flood("mr-a", B, count),
        count,
        "{name}: a mirror changed the traffic"
    );
    cap.wait().unwrap();
    file
}

#[test]
fn span_rspan_and_erspan_copy_frames_exactly() {
    let mut net = Netns::new(&[
        "mr-h", "mr-g", "mr-f", "mr-x", "mr-a", "mr-b", "mr-s", "mr-r",
    ]);
    must(&[
        "ip",
        "-n",
        "mr-f",
        "link",
        "add",
        "br0",
        "type",
        "bridge",
        "ageing_time",
        "0",
    ]);
    must(&["ip", "-n", "mr-f", "link", "set", "br0", "up"]);
    for (ns, far) in [("mr-h", "h0f"), ("mr-g", "g0f"), ("mr-x", "xf")] {
        let near = if ns == "mr-x" { "eth0" } else { "up0" };
        veth(ns, near, "mr-f", far);
        must(&["ip", "-n", "mr-f", "link", "set", far, "master", "br0"]);
    }
    must(&[
        "ip",
        "-n",
        "mr-x",
        "addr",
        "add",
        &format!("{X}/24"),
        "dev",
        "eth0",
    ]);
    guest("mr-h", "mr-a", "pa", A_MAC, &format!("{A}/24"));
    guest("mr-h", "mr-b", "pb", B_MAC, &format!("{B}/24"));
    guest("mr-h", "mr-s", "ps", "52:54:00:79:00:0c", "10.79.0.3/24");
    guest("mr-g", "mr-r", "pr", "52:54:00:79:00:0d", "10.79.0.4/24");
    let h: Vswitchd = net.start_vswitchd("mr-h");
    let g: Vswitchd = net.start_vswitchd("mr-g");

    h.apply(&h_config(vec![])).unwrap();
    // The host agent gives VMkernel ports their address; here the test.
    crate::common::wait_until("vmk1", std::time::Duration::from_secs(5), || {
        sh(&["ip", "-n", "mr-h", "link", "show", "vmk1"])
    });
    must(&[
        "ip",
        "-n",
        "mr-h",
        "addr",
        "add",
        "10.79.0.11/24",
        "dev",
        "vmk1",
    ]);
    assert!(ping("mr-a", B) && ping("mr-a", X) && ping("mr-h", X));

    // SPAN: s gets a copy of every frame a sends and receives, exactly as
    // a's own capture has them.
    h.apply(&h_config(vec![of_a("span", span_to_s())])).unwrap();
    let at_a = net.dir.join("at-a.pcap");
    let mut cap_a = tshark("mr-a", "eth0", 3, &at_a);
    let at_s = capture_pings(&net, "mr-s", "eth0", "span", 10);
    cap_a.wait().unwrap();
    let fields = ["eth.src", "eth.dst", "ip.id"];
    let (mut seen_a, mut seen_s) = (echoes(&at_a, &fields), echoes(&at_s, &fields));
    seen_a.sort();
    seen_s.sort();
    assert_eq!(seen_a.len(), 20, "{seen_a:?}");
    assert_eq!(
        seen_s, seen_a,
        "the copies at s are a's frames, one for one"
    );
    // s may not send (normal I/O off); its frames are counted as dropped.
    assert!(!ping("mr-s", X));
    assert!(h.port("vm:s:0").counters.drop_mirror_destination > 0);
    let (_, stats) = h.stats();
    assert!(
        stats
            .iter()
            .any(|m| m.name == "span" && m.frames >= 20 && m.dropped == 0),
        "{stats:?}"
    );

    // Snap length and sampling: 100 bytes of one copy in two.
    let mut cut = of_a("span", span_to_s());
    cut.snap_length = Some(100);
    cut.sampling_rate = 2;
    cut.allow_normal_io = true;
    h.apply(&h_config(vec![cut])).unwrap();
    let file = net.dir.join("cut.pcap");
    let mut cap = tshark("mr-s", "eth0", 3, &file);
    assert!(sh(&[
        "ip", "netns", "exec", "mr-a", "ping", "-q", "-c", "10", "-i", "0.05", "-s", "500", B
    ]));
    cap.wait().unwrap();
    let copies: Vec<Vec<String>> = tshark_fields(&file, &["frame.len", "ip.src", "ip.dst"])
        .into_iter()
        .filter(|r| r.get(1).is_some_and(|s| s == A || s == B) && r[2] != X)
        .collect();
    assert!(
        (5..=15).contains(&copies.len()),
        "one in two of 20: {copies:?}"
    );
    assert!(copies.iter().all(|r| r[0] == "100"), "{copies:?}");
    assert!(ping("mr-s", X), "normal I/O allowed");

    // RSPAN: a's frames leave h's uplink tagged 999; g's RSPAN destination
    // session hands that VLAN to r, untagged.
    let to_vlan = MirrorDestination::Rspan {
        vlan: RSPAN_VLAN,
        uplinks: vec!["up0".into()],
    };
    h.apply(&h_config(vec![of_a("rspan", to_vlan)])).unwrap();
    let rspan_in = MirrorSession {
        sources: vec![],
        source_vlan: Some(RSPAN_VLAN),
        ..of_a(
            "rspan-in",
            MirrorDestination::Ports {
                ports: vec!["vm:r:0".into()],
            },
        )
    };
    let r_port = port("vm:r:0", "pr", "52:54:00:79:00:0d", PortKind::Vm);
    g.apply(&config(vec![r_port], vec![rspan_in])).unwrap();
    let wire = net.dir.join("wire.pcap");
    let mut cap_wire = tshark("mr-f", "h0f", 3, &wire);
    let at_r = capture_pings(&net, "mr-r", "eth0", "rspan", 10);
    cap_wire.wait().unwrap();
    let tagged = echoes(&wire, &["vlan.id", "eth.src"]);
    assert_eq!(tagged.len(), 20, "{tagged:?}");
    assert!(
        tagged.iter().all(|r| r[2] == RSPAN_VLAN.to_string()),
        "{tagged:?}"
    );
    let untagged = echoes(&at_r, &["vlan.id", "eth.src"]);
    assert_eq!(untagged.len(), 20, "{untagged:?}");
    assert!(untagged.iter().all(|r| r[2].is_empty()), "{untagged:?}");

    // ERSPAN type II from vmk1 to x: GRE 0x88BE, version 1, session 42.
    let erspan = |version, session_id| MirrorDestination::Erspan {
        address: X.parse().unwrap(),
        version,
        session_id,
        vmknic: "vmk1".into(),
    };
    h.apply(&h_config(vec![of_a(
        "erspan",
        erspan(ErspanVersion::TypeII, 42),
    )]))
    .unwrap();
    let at_x = capture_pings(&net, "mr-x", "eth0", "erspan2", 10);
    let fields = [
        "gre.proto",
        "erspan.version",
        "erspan.spanid",
        "erspan.encap",
        "ip.src",
    ];
    let copies = echoes(&at_x, &fields);
    assert_eq!(copies.len(), 20, "{copies:?}");
    for c in &copies {
        assert_eq!(&c[2..6], ["0x88be", "1", "42", "0"], "{c:?}");
        assert!(c[6].starts_with("10.79.0.11,"), "sent from vmk1: {c:?}");
    }

    // Type III, egress only: GRE 0x22EB, version 2, session 43, direction
    // egress, and only what a received (the replies).
    let mut egress = of_a("erspan", erspan(ErspanVersion::TypeIII, 43));
    egress.sources[0].direction = MirrorDirection::Egress;
    h.apply(&h_config(vec![egress])).unwrap();
    let at_x = capture_pings(&net, "mr-x", "eth0", "erspan3", 10);
    let fields = [
        "gre.proto",
        "erspan.version",
        "erspan.spanid",
        "erspan.direction",
    ];
    let copies = echoes(&at_x, &fields);
    assert_eq!(copies.len(), 10, "{copies:?}");
    for c in &copies {
        assert_eq!(c[0], "0", "an echo reply: {c:?}");
        assert_eq!(&c[2..6], ["0x22eb", "2", "43", "1"], "{c:?}");
    }

    // Bad sessions are refused with the reason, and change nothing.
    let mut looped = of_a("bad", span_to_s());
    looped.sources.push(MirrorSource {
        port: "vm:s:0".into(),
        direction: MirrorDirection::Both,
    });
    let e = h.apply(&h_config(vec![looped])).unwrap_err();
    assert!(e.contains("both a source and the destination"), "{e}");
    let e = h
        .apply(&h_config(vec![of_a(
            "bad",
            erspan(ErspanVersion::TypeII, 2000),
        )]))
        .unwrap_err();
    assert!(e.contains("session id must be 0 to 1023"), "{e}");
    let elsewhere = MirrorDestination::Rspan {
        vlan: RSPAN_VLAN,
        uplinks: vec!["eth9".into()],
    };
    let e = h
        .apply(&h_config(vec![of_a("bad", elsewhere)]))
        .unwrap_err();
    assert!(e.contains("eth9 is not an uplink"), "{e}");
    let (_, stats) = h.stats();
    assert_eq!(stats.len(), 1, "the type III session still runs: {stats:?}");
    assert!(ping("mr-a", B));
}

//! The switch's semantics, frame by frame.

use std::time::Instant;

use hierro_api::{PortGroup, SecurityOverride, SecurityPolicy, VSwitch};

use crate::frame::{build, Mac};
use crate::switch::{Out, PortId, Role, Switch};

const UP1: PortId = 1;
const UP2: PortId = 2;
// Local port ids; with two uplinks up, even ids pin to UP1 and odd to UP2.
const A: PortId = 10; // VLAN100
const B: PortId = 11; // VLAN100
const C: PortId = 12; // VLAN200
const T: PortId = 13; // trunk
const D: PortId = 14; // no VLAN
const P: PortId = 16; // VLAN100, promiscuous accepted
const X: Mac = Mac([0x02, 0, 0, 0, 0, 0x99]); // outside the host

fn mac(id: PortId) -> Mac {
    Mac([0x52, 0x54, 0, 0, 0, id as u8])
}

fn pg(name: &str, vlan: u16, security: SecurityOverride) -> PortGroup {
    PortGroup {
        teaming: Default::default(),
        name: name.into(),
        vswitch: "vSwitch0".into(),
        vlan,
        security,
    }
}

fn groups(extra: SecurityOverride) -> Vec<PortGroup> {
    vec![
        pg("VLAN100", 100, extra),
        pg("VLAN200", 200, SecurityOverride::default()),
        pg("Trunk", 4095, SecurityOverride::default()),
        pg("VM Network", 0, SecurityOverride::default()),
        pg(
            "Promisc100",
            100,
            SecurityOverride {
                allow_promiscuous: Some(true),
                ..Default::default()
            },
        ),
    ]
}

fn vswitch(mtu: u16) -> VSwitch {
    VSwitch {
        teaming: Default::default(),
        name: "vSwitch0".into(),
        mtu,
        uplinks: vec!["eth0".into(), "eth1".into()],
        security: SecurityPolicy::STANDARD,
    }
}

fn switch_with(extra: SecurityOverride) -> Switch {
    let mut s = Switch::new(&vswitch(1500), &groups(extra));
    s.add_port(UP1, "uplink:eth0", Role::Uplink { link_up: true });
    s.add_port(UP2, "uplink:eth1", Role::Uplink { link_up: true });
    for (id, group) in [
        (A, "VLAN100"),
        (B, "VLAN100"),
        (C, "VLAN200"),
        (T, "Trunk"),
        (D, "VM Network"),
        (P, "Promisc100"),
    ] {
        s.add_port(
            id,
            &format!("vm:{id}"),
            Role::Local {
                portgroup: group.into(),
                mac: mac(id),
                effective: mac(id),
            },
        );
    }
    s
}

fn tagged(f: &[u8], vlan: u16) -> Vec<u8> {
    crate::frame::tag(f, vlan)
}

fn switch() -> Switch {
    switch_with(SecurityOverride::default())
}

fn send(s: &mut Switch, port: PortId, f: &[u8]) -> Vec<Out> {
    let mut out = vec![];
    s.process(port, f, None, Instant::now(), &mut out);
    out
}

/// (port, VLAN tag on the wire) of every output.
fn wire(out: &[Out]) -> Vec<(PortId, Option<u16>)> {
    let mut v: Vec<_> = out.iter().map(|o| (o.port, o.vlan)).collect();
    v.sort();
    v
}

#[test]
fn unicast_between_local_ports_stays_local() {
    let mut s = switch();
    let out = send(&mut s, A, &build(mac(B), mac(A), None, b"x"));
    assert_eq!(
        wire(&out),
        vec![(B, None), (P, None)],
        "B, and the promiscuous port"
    );
    assert_eq!(s.port(B).unwrap().counters.out_packets, 1);
    assert_eq!(s.port(A).unwrap().counters.in_packets, 1);
}

#[test]
fn vlans_are_isolated_and_tagged_on_uplinks() {
    let mut s = switch();
    // C is on VLAN 200: for A (VLAN 100) that MAC is unknown, so the frame
    // leaves by A's uplink tagged 100, and never reaches C.
    let out = send(&mut s, A, &build(mac(C), mac(A), None, b"x"));
    assert_eq!(wire(&out), vec![(UP1, Some(100)), (P, None)]);
    // Broadcast floods within VLAN 100 only: trunk ports see the tag.
    let out = send(&mut s, A, &build(Mac::BROADCAST, mac(A), None, b"x"));
    assert_eq!(
        wire(&out),
        vec![(UP1, Some(100)), (B, None), (T, Some(100)), (P, None)]
    );
    // No VLAN: untagged everywhere.
    let out = send(&mut s, D, &build(Mac::BROADCAST, mac(D), None, b"x"));
    assert_eq!(wire(&out), vec![(UP1, None), (T, None)]);
}

#[test]
fn trunk_port_groups_pass_guest_tags() {
    let mut s = switch();
    let out = send(&mut s, T, &build(Mac::BROADCAST, mac(T), Some(200), b"x"));
    assert_eq!(wire(&out), vec![(UP2, Some(200)), (C, None)]);
    let out = send(&mut s, T, &build(mac(B), mac(T), Some(100), b"x"));
    assert_eq!(wire(&out), vec![(B, None), (P, None)]);
    // A tag from a guest on a non-trunk port group is dropped and counted.
    let out = send(&mut s, A, &build(Mac::BROADCAST, mac(A), Some(200), b"x"));
    assert!(out.is_empty());
    assert_eq!(s.port(A).unwrap().counters.drop_vlan, 1);
}

#[test]
fn uplink_traffic_is_delivered_once_and_learned() {
    let mut s = switch();
    // The physical switch floods a broadcast to both uplinks: every port
    // gets one copy, from its own uplink.
    let bcast = build(Mac::BROADCAST, X, Some(100), b"x");
    let mut all = send(&mut s, UP1, &bcast);
    all.extend(send(&mut s, UP2, &bcast));
    assert_eq!(
        wire(&all),
        vec![(A, None), (B, None), (T, Some(100)), (P, None)]
    );
    // Unicast for a local port comes in by whichever uplink; a promiscuous
    // port sees others' unicast from its own uplink only.
    let out = send(&mut s, UP2, &build(mac(A), X, Some(100), b"x"));
    assert_eq!(wire(&out), vec![(A, None)]);
    let out = send(&mut s, UP1, &build(mac(A), X, Some(100), b"x"));
    assert_eq!(wire(&out), vec![(A, None), (P, None)]);
    assert_eq!(
        s.learned(Instant::now()),
        vec![(100, X, UP1)],
        "learned, and moved with the MAC"
    );
    // Our own frames looped back by the physical network are dropped.
    assert!(send(&mut s, UP1, &build(Mac::BROADCAST, mac(A), Some(100), b"x")).is_empty());
    assert!(s
        .learned(Instant::now())
        .iter()
        .all(|(_, m, _)| *m != mac(A)));
    // Untagged frames from outside belong to VLAN 0.
    let out = send(&mut s, UP1, &build(Mac::BROADCAST, X, None, b"x"));
    assert_eq!(wire(&out), vec![(D, None)]);
}

#[test]
fn forged_transmits() {
    let forged = build(Mac::BROADCAST, X, None, b"x");
    // Accepted by default on a standard switch.
    let mut s = switch();
    assert!(!send(&mut s, A, &forged).is_empty());
    // Its reflection from the physical network is not delivered again.
    assert!(send(&mut s, UP2, &tagged(&forged, 100)).is_empty());
    // Rejected: dropped and counted.
    let mut s = switch_with(SecurityOverride {
        allow_forged_transmits: Some(false),
        ..Default::default()
    });
    assert!(send(&mut s, A, &forged).is_empty());
    assert_eq!(s.port(A).unwrap().counters.drop_forged, 1);
    // The effective MAC is what counts: after a MAC change the guest may send from it.
    s.update_local(A, "VLAN100", mac(A), mac(99));
    assert!(!send(&mut s, A, &build(Mac::BROADCAST, mac(99), None, b"x")).is_empty());
}

#[test]
fn mac_address_changes() {
    // Accepted by default: frames follow the new MAC.
    let mut s = switch();
    s.update_local(A, "VLAN100", mac(A), mac(99));
    assert_eq!(
        wire(&send(&mut s, B, &build(mac(99), mac(B), None, b"x"))),
        vec![(A, None), (P, None)]
    );
    // Rejected: inbound frames are dropped while the MAC differs.
    let mut s = switch_with(SecurityOverride {
        allow_mac_changes: Some(false),
        ..Default::default()
    });
    s.update_local(A, "VLAN100", mac(A), mac(99));
    assert_eq!(
        wire(&send(&mut s, B, &build(mac(99), mac(B), None, b"x"))),
        vec![(P, None)]
    );
    assert!(
        wire(&send(&mut s, B, &build(Mac::BROADCAST, mac(B), None, b"x")))
            .iter()
            .all(|(p, _)| *p != A)
    );
    assert_eq!(s.port(A).unwrap().counters.drop_mac_change, 2);
    // Changed back: delivered again.
    s.update_local(A, "VLAN100", mac(A), mac(A));
    assert_eq!(
        wire(&send(&mut s, B, &build(mac(A), mac(B), None, b"x"))),
        vec![(A, None), (P, None)]
    );
}

#[test]
fn promiscuous_mode_and_live_policy_change() {
    let mut s = switch();
    // B sees only its own unicast; the withheld frame is counted.
    send(&mut s, A, &build(mac(P), mac(A), None, b"x"));
    assert_eq!(s.port(B).unwrap().counters.drop_promiscuous, 1);
    assert_eq!(s.port(B).unwrap().counters.out_packets, 0);
    // Accept on VLAN100, applied to the running switch: B now sees A's
    // unicast for P.
    let promisc = SecurityOverride {
        allow_promiscuous: Some(true),
        ..Default::default()
    };
    s.configure(&vswitch(1500), &groups(promisc));
    let out = send(&mut s, A, &build(mac(P), mac(A), None, b"x"));
    assert_eq!(wire(&out), vec![(B, None), (P, None)]);
    // ...but still nothing of another VLAN.
    assert!(send(&mut s, D, &build(mac(99), mac(D), None, b"x"))
        .iter()
        .all(|o| o.port != B));
}

#[test]
fn no_uplink_and_failover() {
    let mut s = switch();
    s.set_link(UP1, false);
    // A's traffic moves to the uplink that is still up.
    assert_eq!(s.uplink_of(A), Some(UP2));
    assert_eq!(
        wire(&send(&mut s, A, &build(X, mac(A), None, b"x"))),
        vec![(UP2, Some(100)), (P, None)]
    );
    s.set_link(UP2, false);
    assert!(wire(&send(&mut s, A, &build(X, mac(A), None, b"x")))
        .iter()
        .all(|(p, _)| *p == P));
    assert_eq!(s.port(A).unwrap().counters.drop_no_uplink, 1);
    // Local delivery goes on without uplinks.
    assert_eq!(
        wire(&send(&mut s, A, &build(Mac::BROADCAST, mac(A), None, b"x"))),
        vec![(B, None), (T, Some(100)), (P, None)]
    );
}

#[test]
fn malformed_and_oversize_frames_are_dropped_and_counted() {
    let mut s = switch();
    assert!(send(&mut s, A, &[0u8; 10]).is_empty());
    let big = build(mac(B), mac(A), None, &vec![0u8; 1501]);
    assert!(send(&mut s, A, &big).is_empty());
    let c = s.port(A).unwrap().counters;
    assert_eq!((c.drop_malformed, c.drop_oversize, c.in_packets), (1, 1, 2));
    // A full 1500-byte payload passes; with MTU 9000, jumbo frames pass.
    assert!(!send(&mut s, A, &build(mac(B), mac(A), None, &vec![0u8; 1500])).is_empty());
    s.configure(&vswitch(9000), &groups(SecurityOverride::default()));
    assert!(!send(&mut s, A, &build(mac(B), mac(A), None, &vec![0u8; 9000])).is_empty());
}

#[test]
fn super_frames_are_bounded_by_their_segments() {
    let mut s = switch();
    // IPv4 (20 bytes) + TCP with timestamps (32 bytes), then 64000 bytes.
    let mut payload = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
    payload.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    payload.extend_from_slice(&[0; 12]);
    payload.push(0x80);
    payload.extend_from_slice(&[0; 19]);
    payload.resize(52 + 64000, 0);
    let f = build(mac(B), mac(A), None, &payload);
    let mut out = vec![];
    // 52 + 1448 = 1500: each segment fits the MTU.
    s.process(A, &f, Some(1448), Instant::now(), &mut out);
    assert_eq!(wire(&out), vec![(B, None), (P, None)], "P is promiscuous");
    out.clear();
    s.process(A, &f, Some(1449), Instant::now(), &mut out);
    assert!(out.is_empty());
    // A super-frame whose headers cannot be read is malformed.
    s.process(A, &f[..40], Some(1448), Instant::now(), &mut out);
    assert!(out.is_empty());
    let c = s.port(A).unwrap().counters;
    assert_eq!((c.drop_oversize, c.drop_malformed), (1, 1));
}

const UP3: PortId = 3;

/// A switch with three uplinks and one port group whose teaming is `t`;
/// A and B are on it (VLAN 100).
fn teamed(t: hierro_api::TeamingOverride) -> Switch {
    let mut cfg = vswitch(1500);
    cfg.uplinks.push("eth2".into());
    let mut g = pg("Team", 100, SecurityOverride::default());
    g.teaming = t;
    let mut s = Switch::new(&cfg, &[g]);
    for (id, nic) in [(UP1, "eth0"), (UP2, "eth1"), (UP3, "eth2")] {
        s.add_port(id, &format!("uplink:{nic}"), Role::Uplink { link_up: true });
    }
    for id in [A, B] {
        let role = Role::Local {
            portgroup: "Team".into(),
            mac: mac(id),
            effective: mac(id),
        };
        s.add_port(id, &format!("vm:{id}"), role);
    }
    s
}

fn order(active: &[&str], standby: &[&str]) -> Option<hierro_api::FailoverOrder> {
    Some(hierro_api::FailoverOrder {
        active: active.iter().map(|s| s.to_string()).collect(),
        standby: standby.iter().map(|s| s.to_string()).collect(),
    })
}

/// The RARPs the switch sent: (uplink, MAC announced, VLAN tag).
fn rarps(s: &mut Switch) -> Vec<(PortId, Mac, Option<u16>)> {
    s.take_outgoing()
        .into_iter()
        .filter_map(|(port, f)| {
            let h = crate::frame::parse(&f).unwrap();
            (f[h.len - 2..h.len] == [0x80, 0x35]).then_some((port, h.src, h.vlan))
        })
        .collect()
}

#[test]
fn a_standby_uplink_replaces_a_failed_one_and_the_switches_are_told() {
    let mut s = teamed(hierro_api::TeamingOverride {
        failover_order: order(&["eth0", "eth1"], &["eth2"]),
        ..Default::default()
    });
    // By originating port: A (even) on eth0, B (odd) on eth1; none on the standby.
    assert_eq!((s.uplink_of(A), s.uplink_of(B)), (Some(UP1), Some(UP2)));
    assert!(
        rarps(&mut s).is_empty(),
        "no announcement before a port connects"
    );
    s.announce(A);
    assert_eq!(rarps(&mut s), [(UP1, mac(A), Some(100))], "power-on");
    // eth0 fails: A moves to the standby, B stays; only A is announced.
    s.set_link(UP1, false);
    assert_eq!((s.uplink_of(A), s.uplink_of(B)), (Some(UP3), Some(UP2)));
    assert_eq!(rarps(&mut s), [(UP3, mac(A), Some(100))]);
    assert_eq!(
        wire(&send(&mut s, A, &build(X, mac(A), None, b"x"))),
        vec![(UP3, Some(100))]
    );
    // Broadcast from outside reaches A once, from its own uplink.
    let bcast = tagged(&build(Mac::BROADCAST, X, None, b"x"), 100);
    for (up, reaches_a) in [(UP2, false), (UP3, true)] {
        let out = send(&mut s, up, &bcast);
        assert_eq!(out.iter().any(|o| o.port == A), reaches_a, "from {up}");
    }
    // Failback: eth0 is back and takes A back, announced from there.
    s.set_link(UP1, true);
    assert_eq!(s.uplink_of(A), Some(UP1));
    assert_eq!(rarps(&mut s), [(UP1, mac(A), Some(100))]);
}

#[test]
fn without_failback_or_notify() {
    let mut s = teamed(hierro_api::TeamingOverride {
        failover_order: order(&["eth0", "eth1"], &["eth2"]),
        failback: Some(false),
        notify_switches: Some(false),
        ..Default::default()
    });
    s.set_link(UP1, false);
    s.set_link(UP1, true);
    assert_eq!(s.uplink_of(A), Some(UP3), "eth0 waits until eth2 fails");
    s.set_link(UP3, false);
    assert_eq!(s.uplink_of(A), Some(UP1));
    s.announce(A);
    assert!(rarps(&mut s).is_empty(), "notify switches is off");
}

#[test]
fn explicit_failover_order_and_unused_uplinks() {
    let mut s = teamed(hierro_api::TeamingOverride {
        load_balancing: Some(hierro_api::LoadBalancing::FailoverOrder),
        failover_order: order(&["eth1"], &["eth0"]),
        ..Default::default()
    });
    assert_eq!((s.uplink_of(A), s.uplink_of(B)), (Some(UP2), Some(UP2)));
    s.set_link(UP2, false);
    assert_eq!((s.uplink_of(A), s.uplink_of(B)), (Some(UP1), Some(UP1)));
    s.set_link(UP1, false);
    assert_eq!(s.uplink_of(A), None, "eth2 is unused");
    assert!(send(&mut s, A, &build(X, mac(A), None, b"x")).is_empty());
    assert_eq!(s.port(A).unwrap().counters.drop_no_uplink, 1);
}

#[test]
fn beacon_probing_finds_an_uplink_that_hears_nobody() {
    let mut s = teamed(hierro_api::TeamingOverride {
        failure_detection: Some(hierro_api::FailureDetection::BeaconProbing),
        ..Default::default()
    });
    let t0 = Instant::now();
    // Every uplink sends a beacon per second.
    s.tick(t0);
    let beacons = s.take_outgoing();
    assert_eq!(
        beacons.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        [UP1, UP2, UP3]
    );
    let beacon_of = |p: PortId| beacons.iter().find(|(u, _)| *u == p).unwrap().1.clone();
    // A beacon is never switched to local ports.
    assert!(send(&mut s, UP2, &beacon_of(UP1)).is_empty());
    // Four seconds on, eth0 and eth2 hear each other, eth1 (A's: 10 % 3
    // is slot 1) hears nobody: its carrier is up, but it has failed.
    let later = t0 + std::time::Duration::from_secs(4);
    let mut out = vec![];
    s.process(UP1, &beacon_of(UP3), None, later, &mut out);
    s.process(UP3, &beacon_of(UP1), None, later, &mut out);
    assert!(out.is_empty());
    assert_eq!(s.uplink_of(A), Some(UP2));
    s.tick(later);
    assert_ne!(s.uplink_of(A), Some(UP2), "A left eth1");
    assert!(s.uplink_of(A).is_some());
    // Another switch's beacons prove nothing.
    let mut other = teamed(hierro_api::TeamingOverride {
        failure_detection: Some(hierro_api::FailureDetection::BeaconProbing),
        ..Default::default()
    });
    other.tick(t0);
    let foreign = other.take_outgoing().remove(0).1;
    s.process(UP2, &foreign, None, later, &mut out);
    s.tick(later);
    assert_ne!(s.uplink_of(A), Some(UP2));
    // If no uplink hears any, beacons cannot tell: the carrier decides.
    s.tick(later + std::time::Duration::from_secs(10));
    assert_eq!(s.uplink_of(A), Some(UP2));
}

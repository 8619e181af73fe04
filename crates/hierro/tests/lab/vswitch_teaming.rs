//! NIC teaming with real frames: a vswitchd with three uplinks into a
//! physical switch (a Linux bridge in its own namespace), two "guests" on a
//! port group and a client outside. Counters on the uplinks and tshark on
//! the bridge's side check where each port's traffic leaves; pulling a link
//! or cutting an uplink off the bridge checks failover.

use std::time::Duration;

use hierro_api::{
    FailoverOrder, FailureDetection, LoadBalancing, PortGroup, TeamingOverride, VSwitch,
};
use hierro_vswitch::{DataplaneConfig, PortKind};

use crate::common::netns::{
    guest, must, ping, ping_flood, port_spec, tshark, tshark_fields, veth, Netns, Vswitchd,
};
use crate::common::wait_until;

const A_MAC: &str = "52:54:00:78:00:0a";
const B_MAC: &str = "52:54:00:78:00:0b";
const X: &str = "10.78.0.100";
/// X's second address: IP hash sends A's traffic to it on another uplink.
const X2: &str = "10.78.0.101";

/// The namespaces `{p}-h` (vswitchd), `{p}-f` (the bridge), `{p}-x` (the
/// client), `{p}-a` and `{p}-b` (the guests).
struct Team {
    net: Netns,
    vs: Vswitchd,
    p: String,
}

impl Team {
    fn ns(&self, n: &str) -> String {
        format!("{}-{n}", self.p)
    }

    /// Takes an uplink's far end off the bridge (or back): its carrier stays
    /// up, but nothing it sends arrives anywhere.
    fn cut(&self, uplink: &str, off: bool) {
        let master: &[&str] = if off {
            &["nomaster"]
        } else {
            &["master", "br0"]
        };
        let (f, far) = (self.p_f(), format!("{uplink}f"));
        let mut args = vec!["ip", "-n", &f, "link", "set", &far];
        args.extend(master);
        must(&args);
    }

    fn p_f(&self) -> String {
        self.ns("f")
    }

    /// Sets an uplink's far end down or up: its carrier follows.
    fn link(&self, uplink: &str, up: bool) {
        let far = format!("{uplink}f");
        let state = if up { "up" } else { "down" };
        must(&["ip", "-n", &self.p_f(), "link", "set", &far, state]);
    }

    fn uplink_of(&self, port: &str) -> Option<String> {
        self.vs.port(port).uplink
    }

    fn sent(&self, uplink: &str) -> u64 {
        self.vs
            .port(&format!("uplink:{uplink}"))
            .counters
            .out_packets
    }

    /// Floods `count` pings from guest `g` to `to`; checks they all went
    /// out on `uplink` and not on the others.
    fn pinned(&self, g: &str, to: &str, uplink: &str, count: u32) {
        let before: Vec<u64> = UPLINKS.iter().map(|u| self.sent(u)).collect();
        assert_eq!(ping_flood(&self.ns(g), to, count), count, "{g} to {to}");
        for (u, b) in UPLINKS.iter().zip(before) {
            let d = self.sent(u) - b;
            if *u == uplink {
                assert!(d >= count as u64, "{g}: {d} frames left {u}, want {count}");
            } else {
                // Beacons and ARP at most.
                assert!(d < count as u64 / 4, "{g}: {d} frames left {u}");
            }
        }
    }
}

const UPLINKS: [&str; 3] = ["up0", "up1", "up2"];

fn setup(p: &str) -> Team {
    let names: Vec<String> = ["h", "f", "x", "a", "b"]
        .iter()
        .map(|n| format!("{p}-{n}"))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut net = Netns::new(&refs);
    let (h, f, x) = (&names[0], &names[1], &names[2]);
    must(&["ip", "-n", f, "link", "add", "br0", "type", "bridge"]);
    must(&["ip", "-n", f, "link", "set", "br0", "up"]);
    for u in UPLINKS {
        let far = format!("{u}f");
        veth(h, u, f, &far);
        must(&["ip", "-n", f, "link", "set", &far, "master", "br0"]);
    }
    veth(x, "eth0", f, "xf");
    must(&["ip", "-n", f, "link", "set", "xf", "master", "br0"]);
    for a in [X, X2] {
        must(&[
            "ip",
            "-n",
            x,
            "addr",
            "add",
            &format!("{a}/24"),
            "dev",
            "eth0",
        ]);
    }
    guest(h, &names[3], "pa", A_MAC, "10.78.0.1/24");
    guest(h, &names[4], "pb", B_MAC, "10.78.0.2/24");
    let vs = net.start_vswitchd(h);
    Team {
        net,
        vs,
        p: p.into(),
    }
}

fn order(active: &[&str], standby: &[&str]) -> Option<FailoverOrder> {
    Some(FailoverOrder {
        active: active.iter().map(|s| s.to_string()).collect(),
        standby: standby.iter().map(|s| s.to_string()).collect(),
    })
}

fn config(teaming: TeamingOverride) -> DataplaneConfig {
    let port = |key: &str, iface: &str, mac: &str| port_spec(key, PortKind::Vm, "Team", iface, mac);
    DataplaneConfig {
        switches: vec![VSwitch {
            name: "vSwitch0".into(),
            mtu: 1500,
            uplinks: UPLINKS.iter().map(|u| u.to_string()).collect(),
            security: Default::default(),
            teaming: Default::default(),
        }],
        portgroups: vec![PortGroup {
            name: "Team".into(),
            vswitch: "vSwitch0".into(),
            vlan: 0,
            security: Default::default(),
            teaming,
        }],
        ports: vec![port("vm:a:0", "pa", A_MAC), port("vm:b:0", "pb", B_MAC)],
        mirrors: vec![],
    }
}

/// RARPs in a capture: the MACs they announce.
fn rarps(file: &std::path::Path) -> Vec<String> {
    tshark_fields(file, &["eth.src", "eth.type"])
        .into_iter()
        .filter(|r| r.get(1).is_some_and(|ty| ty == "0x8035"))
        .map(|r| r[0].clone())
        .collect()
}

#[test]
fn teaming_spreads_pins_and_fails_over() {
    let t = setup("tm");
    let (a, b) = ("vm:a:0", "vm:b:0");
    let with_standby = TeamingOverride {
        failover_order: order(&["up0", "up1"], &["up2"]),
        ..Default::default()
    };
    t.vs.apply(&config(with_standby.clone())).unwrap();
    assert!(ping(&t.ns("a"), X) && ping(&t.ns("b"), X));

    // Notify switches on power-on: the agent asks, and A's MAC is announced
    // from A's uplink (RARP).
    let f = t.p_f();
    let file = t.net.dir.join("power-on.pcap");
    let mut capture = tshark(&f, "up0f", 2, &file);
    let announce = |key: &str| {
        t.vs.ask(&hierro_vswitch::control::Request::Announce {
            ports: vec![key.into()],
        })
    };
    assert!(matches!(
        announce("vm:a:0"),
        hierro_vswitch::control::Response::Ok { .. }
    ));
    assert!(matches!(
        announce("vm:nope:0"),
        hierro_vswitch::control::Response::Error { .. }
    ));
    capture.wait().unwrap();
    assert!(rarps(&file).contains(&A_MAC.to_string()));

    // Originating port: A and B (port ids in key order) on the two active
    // uplinks, the standby idle.
    assert_eq!(t.uplink_of(a).as_deref(), Some("up0"));
    assert_eq!(t.uplink_of(b).as_deref(), Some("up1"));
    t.pinned("a", X, "up0", 100);
    t.pinned("b", X, "up1", 100);

    // Source MAC hash over all three: 0x52540078000a % 3 = 2,
    // 0x52540078000b % 3 = 0.
    t.vs.apply(&config(TeamingOverride {
        load_balancing: Some(LoadBalancing::SourceMac),
        ..Default::default()
    }))
    .unwrap();
    assert_eq!(t.uplink_of(a).as_deref(), Some("up2"));
    assert_eq!(t.uplink_of(b).as_deref(), Some("up0"));
    t.pinned("a", X, "up2", 100);
    t.pinned("b", X, "up0", 100);

    // IP hash: A's traffic to X leaves by 10.78.0.1 ^ 10.78.0.100 = 101,
    // 101 % 3 = 2; to X2 by 100 % 3 = 1. tshark on the bridge's side sees
    // A's frames on both.
    t.vs.apply(&config(TeamingOverride {
        load_balancing: Some(LoadBalancing::IpHash),
        ..Default::default()
    }))
    .unwrap();
    t.pinned("a", X, "up2", 100);
    t.pinned("a", X2, "up1", 100);
    let caps: Vec<_> = ["up1", "up2"]
        .iter()
        .map(|u| {
            let file = t.net.dir.join(format!("{u}.pcap"));
            (tshark(&f, &format!("{u}f"), 3, &file), file)
        })
        .collect();
    ping_flood(&t.ns("a"), X, 20);
    ping_flood(&t.ns("a"), X2, 20);
    for ((mut tshark, file), dst) in caps.into_iter().zip([X2, X]) {
        tshark.wait().unwrap();
        let from_a: Vec<Vec<String>> = tshark_fields(&file, &["eth.src", "ip.dst"])
            .into_iter()
            .filter(|r| r[0] == A_MAC && r.get(1).is_some_and(|d| !d.is_empty()))
            .collect();
        assert!(from_a.len() >= 20, "{file:?}: {from_a:?}");
        assert!(from_a.iter().all(|r| r[1] == dst), "{file:?}: {from_a:?}");
    }

    // Explicit failover order: everything on the first active uplink.
    t.vs.apply(&config(TeamingOverride {
        load_balancing: Some(LoadBalancing::FailoverOrder),
        failover_order: order(&["up1", "up0"], &[]),
        ..Default::default()
    }))
    .unwrap();
    t.pinned("a", X, "up1", 100);
    t.pinned("b", X, "up1", 100);

    // Failover: up0 loses its carrier during a ping flood from A. A moves
    // to the standby (B stays on up1), a RARP for A leaves the standby, and
    // few pings are lost.
    t.vs.apply(&config(with_standby.clone())).unwrap();
    assert_eq!(t.uplink_of(a).as_deref(), Some("up0"));
    let rarp_file = t.net.dir.join("failover.pcap");
    let mut capture = tshark(&f, "up2f", 4, &rarp_file);
    let flood = std::thread::spawn({
        let a_ns = t.ns("a");
        move || ping_flood(&a_ns, X, 300)
    });
    let start = t.sent("up0");
    wait_until("A's pings to flow", Duration::from_secs(5), || {
        t.sent("up0") > start + 50
    });
    t.link("up0", false);
    let answered = flood.join().unwrap();
    eprintln!("failover: {answered} of 300 pings answered");
    assert!(answered >= 250, "{answered} of 300 pings answered");
    assert_eq!(t.uplink_of(a).as_deref(), Some("up2"));
    assert_eq!(t.uplink_of(b).as_deref(), Some("up1"));
    assert_eq!(t.vs.port("uplink:up0").link_up, Some(false));
    capture.wait().unwrap();
    assert!(rarps(&rarp_file).contains(&A_MAC.to_string()));

    // Failback: up0 comes back and takes A back, announced from there
    // (captured on the host's NIC: the bridge's end is down).
    let back_file = t.net.dir.join("failback.pcap");
    let mut capture = tshark(&t.ns("h"), "up0", 3, &back_file);
    t.link("up0", true);
    wait_until("A back on up0", Duration::from_secs(5), || {
        t.uplink_of(a).as_deref() == Some("up0")
    });
    assert!(ping(&t.ns("a"), X));
    capture.wait().unwrap();
    assert!(rarps(&back_file).contains(&A_MAC.to_string()));

    // Without failback, A stays on the standby once up0 is back.
    t.vs.apply(&config(TeamingOverride {
        failback: Some(false),
        ..with_standby.clone()
    }))
    .unwrap();
    t.link("up0", false);
    wait_until("A on the standby", Duration::from_secs(5), || {
        t.uplink_of(a).as_deref() == Some("up2")
    });
    t.link("up0", true);
    wait_until("up0 up again", Duration::from_secs(5), || {
        t.vs.port("uplink:up0").link_up == Some(true)
    });
    assert_eq!(t.uplink_of(a).as_deref(), Some("up2"));
    t.pinned("a", X, "up2", 50);

    // Bad teaming is refused, with the reason, and changes nothing.
    let e =
        t.vs.apply(&config(TeamingOverride {
            load_balancing: Some(LoadBalancing::IpHash),
            ..with_standby.clone()
        }))
        .unwrap_err();
    assert!(e.contains("IP hash") && e.contains("up2 is standby"), "{e}");
    let e =
        t.vs.apply(&config(TeamingOverride {
            failure_detection: Some(FailureDetection::BeaconProbing),
            failover_order: order(&["up0"], &["up1"]),
            ..Default::default()
        }))
        .unwrap_err();
    assert!(e.contains("beacon probing needs 3"), "{e}");
    assert_eq!(t.uplink_of(a).as_deref(), Some("up2"));
    assert!(ping(&t.ns("a"), X));
}

#[test]
fn beacon_probing_finds_an_uplink_cut_off_with_its_carrier_up() {
    let t = setup("tb");
    let a = "vm:a:0";
    // All three active, by originating port: A (id 4) on up1.
    t.vs.apply(&config(TeamingOverride::default())).unwrap();
    assert!(ping(&t.ns("a"), X));
    assert_eq!(t.uplink_of(a).as_deref(), Some("up1"));

    // Cut up1 off the physical switch; its carrier stays up, so link
    // status sees nothing and A's traffic is lost.
    t.cut("up1", true);
    assert_eq!(t.vs.port("uplink:up1").link_up, Some(true));
    assert!(!ping(&t.ns("a"), X));
    assert_eq!(t.uplink_of(a).as_deref(), Some("up1"));

    // Beacon probing: up0 and up2 hear each other, up1 hears nobody; A
    // moves and reaches X again.
    t.vs.apply(&config(TeamingOverride {
        failure_detection: Some(FailureDetection::BeaconProbing),
        ..Default::default()
    }))
    .unwrap();
    wait_until("A off up1", Duration::from_secs(10), || {
        t.uplink_of(a).is_some_and(|u| u != "up1")
    });
    assert_eq!(t.vs.port("uplink:up1").link_up, Some(false));
    assert!(ping(&t.ns("a"), X));

    // Back on the switch, up1 hears the others again and A returns.
    t.cut("up1", false);
    wait_until("A back on up1", Duration::from_secs(10), || {
        t.uplink_of(a).as_deref() == Some("up1")
    });
    assert!(ping(&t.ns("a"), X));
}

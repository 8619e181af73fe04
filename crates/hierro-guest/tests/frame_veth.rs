//! `hierro-guest frame send` and `frame count` over a veth pair inside a
//! network namespace of this test's own (needs root, and says so). No
//! frame goes anywhere near the machine's real interfaces.

// A test that meets an unexpected value should fail there: unwrap is how.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_hierro-guest");

fn ip(args: &[&str]) {
    let ok = Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "failed: ip {}", args.join(" "));
}

/// The namespace; deleted (with its veths) when dropped.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Runs hierro-guest inside the namespace.
fn guest(ns: &Netns, args: &[&str]) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", &ns.0, BIN]).args(args);
    c
}

fn json(out: Output) -> Value {
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn send_and_count_over_veth() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "this test needs root for a network namespace: run it as root (scripts/test.sh)"
    );
    let ns = Netns(format!("hierro-frame-{}", std::process::id()));
    ip(&["netns", "add", &ns.0]);
    ip(&[
        "-n", &ns.0, "link", "add", "va", "type", "veth", "peer", "name", "vb",
    ]);
    ip(&["-n", &ns.0, "link", "set", "va", "up"]);
    ip(&["-n", &ns.0, "link", "set", "vb", "up"]);

    let src = "02:00:00:00:00:aa";
    let counter = guest(
        &ns,
        &[
            "frame",
            "count",
            "--iface",
            "vb",
            "--src",
            src,
            "--ethertype",
            "0x88b5",
            "--seconds",
            "3",
        ],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(700));

    // Three matching frames, tagged (the receiver sees them untagged), and two
    // from another source.
    let sent = guest(
        &ns,
        &[
            "frame",
            "send",
            "--iface",
            "va",
            "--dst",
            "ff:ff:ff:ff:ff:ff",
            "--src",
            src,
            "--vlan",
            "101",
            "--count",
            "3",
            "--interval-ms",
            "10",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(json(sent), serde_json::json!({"sent": 3}));
    let other = guest(
        &ns,
        &[
            "frame",
            "send",
            "--iface",
            "va",
            "--dst",
            "02:00:00:00:00:02",
            "--src",
            "02:00:00:00:00:bb",
            "--count",
            "2",
            "--interval-ms",
            "0",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(json(other)["sent"], 2);

    let counted = json(counter.wait_with_output().unwrap());
    assert_eq!(counted["matched"], 3, "{counted}");
    assert!(counted["seen"].as_u64().unwrap() >= 5, "{counted}");
}

//! The frames of a vMotion switchover, with real taps in a network
//! namespace of the test's own: frames that reach a VM's tap while nobody
//! reads it (its QEMU paused for the switchover) are read back from the
//! agent's copy of the descriptor, sent over TCP to the destination and put
//! on the tap of the NIC they are addressed to once the guest runs there,
//! as is what the source sends after the destination said so; a frame for
//! another MAC is not delivered.

use std::os::fd::OwnedFd;
use std::process::Command;
use std::time::{Duration, Instant};

use hierro_host::vm::actor::handoff;
use hierro_vswitch::io::{Endpoint, PacketSocket, VnetHdr};
use hierro_vswitch::vmtap::{self, Frame};

const NS: &str = "hsof-test";
const VM_MAC: [u8; 6] = [0x52, 0x54, 0, 0x5f, 0, 1];
/// When the guest resumed at the destination (µs since the epoch).
const RESUMED_AT: u64 = 1_790_000_000_123_456;

fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().unwrap();
    assert!(st.success(), "ip {}", args.join(" "));
}

struct Namespace;

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", NS])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// A tap that nobody reads, up, without the host's IPv6 chatter.
fn tap(name: &str) -> OwnedFd {
    let fd = vmtap::create(name).unwrap();
    std::fs::write(format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), "1").unwrap();
    ip(&["link", "set", name, "up"]);
    fd
}

fn frame(dst: [u8; 6], n: u8) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x99, 0x08, 0x00]);
    f.extend(std::iter::repeat_n(n, 100));
    f
}

/// What waits in a tap, once `n` frames have come (or 5 s passed).
fn wait_for(fd: &OwnedFd, n: usize) -> Vec<Frame> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = vec![];
    while got.len() < n && Instant::now() < deadline {
        got.extend(vmtap::drain(fd).unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    got
}

#[test]
fn frames_waiting_at_the_source_reach_the_destination_tap() {
    // A namespace a killed run left behind.
    let _ = Command::new("ip")
        .args(["netns", "del", NS])
        .stderr(std::process::Stdio::null())
        .status();
    ip(&["netns", "add", NS]);
    let _ns = Namespace;
    // Everything below runs in the namespace: one thread moves there.
    std::thread::spawn(|| {
        let ns = std::fs::File::open(format!("/run/netns/{NS}")).unwrap();
        nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        ip(&["link", "set", "lo", "up"]);
        let source = tap("src0");
        let destination = tap("dst0");

        // vswitchd delivers to the source VM's tap; its QEMU reads nothing.
        let to_vm = Endpoint::Packet(PacketSocket::bind("src0", false).unwrap());
        let sent: Vec<Vec<u8>> = vec![
            frame(VM_MAC, 1),
            frame(VM_MAC, 2),
            frame([0x52, 0x54, 0, 0x5f, 0, 2], 3),
        ];
        for f in &sent {
            to_vm.send(&[f], &VnetHdr::default()).unwrap();
        }
        let held = wait_for(&source, 3);
        let bytes: Vec<&Vec<u8>> = held.iter().map(|f| &f.bytes).collect();
        assert_eq!(bytes, sent.iter().collect::<Vec<_>>(), "read back in order");
        assert!(
            vmtap::drain(&source).unwrap().is_empty(),
            "the queue is empty now"
        );

        // Over TCP to the destination, which puts them on its tap.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let nics = vec![handoff::Nic {
                tap: "dst0".into(),
                mac: "52:54:00:5f:00:01".into(),
            }];
            // `runs` says when the listener starts waiting for the guest.
            let (waiting, listener_waits) = tokio::sync::oneshot::channel::<()>();
            let (running, runs) = tokio::sync::oneshot::channel::<()>();
            let runs = async move {
                let _ = waiting.send(());
                let _ = runs.await;
                RESUMED_AT
            };
            let (counted_tx, counted_rx) = tokio::sync::oneshot::channel();
            let counted = move |c| {
                let _ = counted_tx.send(c);
            };
            let (uri, delivering) = handoff::listen("127.0.0.1", nics, runs, counted)
                .await
                .unwrap();
            let mut sender = handoff::Sender::connect(&uri).await.unwrap();
            sender.send(&held).await.unwrap();
            // The listener has the frames; nothing reaches a guest that does
            // not run yet.
            listener_waits.await.unwrap();
            assert!(vmtap::drain(&destination).unwrap().is_empty());
            running.send(()).unwrap();
            // The destination says so, and when; what the source still gets
            // follows.
            assert_eq!(sender.runs().await, Some(RESUMED_AT));
            let late = Frame {
                vnet: VnetHdr::default(),
                bytes: frame(VM_MAC, 4),
            };
            sender.send(&[late]).await.unwrap();
            // Last, what the VM's ports counted at the source.
            let counters = hierro_api::PortCounters {
                in_packets: 7,
                out_bytes: 4242,
                ..Default::default()
            };
            let counted = vec![("vm:x:0".to_string(), counters)];
            sender.send_counters(&counted).await.unwrap();
            assert_eq!(sender.finish().await.unwrap(), 4);
            delivering.await.unwrap();
            assert_eq!(counted_rx.await.unwrap(), counted);
        });
        let arrived = wait_for(&destination, 3);
        let bytes: Vec<&Vec<u8>> = arrived.iter().map(|f| &f.bytes).collect();
        let late = frame(VM_MAC, 4);
        assert_eq!(
            bytes,
            vec![&sent[0], &sent[1], &late],
            "only the VM's own frames, the late one too"
        );
    })
    .join()
    .unwrap();
}

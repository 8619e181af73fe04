//! hierro-guest: the userland of Hierro's test guest, one static binary.
//!
//! - `agent`: a guest agent speaking the qemu-guest-agent (QGA) protocol on the
//!   virtio-serial port `org.qemu.guest_agent.0`.
//! - `counter`: a TCP service answering every line with a global counter, so a
//!   client can prove the guest kept running (e.g. across a live migration).
//! - `traffic`: a traffic generator and sink (TCP or UDP).
//! - `frame`: raw Ethernet frames (forged source MACs, VLAN tags) and a counter
//!   of received frames, for testing a virtual switch's security policies.
//! - `dirty`: keeps writing to a block of memory (a guest that dirties
//!   memory fast, for live migration).
//!
//! The guest's /init is a busybox shell script (see the hierro-image crate).

mod agent;
mod counter;
mod dirty;
mod frame;
mod opts;
mod qga;
mod sys;
mod traffic;

/// Errors are reported as text; this is a tool, not a library.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "usage:
  hierro-guest agent [--device PATH | --stdio]
  hierro-guest counter [--port 7777]
  hierro-guest traffic sink --port P [--udp]
  hierro-guest traffic send --to IP:PORT --seconds S [--udp] [--size BYTES]
  hierro-guest frame send --iface IF --dst MAC --src MAC [--vlan N] [--count 1]
      [--interval-ms 100] [--ethertype 0x88b5]
  hierro-guest frame count --iface IF [--dst MAC] [--src MAC] [--ethertype T] --seconds S
  hierro-guest dirty [--mib 64]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("agent") => agent::main(&args[1..]),
        Some("counter") => counter::main(&args[1..]),
        Some("traffic") => traffic::main(&args[1..]),
        Some("frame") => frame::main(&args[1..]),
        Some("dirty") => dirty::main(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.into()),
    };
    if let Err(e) = result {
        eprintln!("hierro-guest: {e}");
        std::process::exit(2);
    }
}

//! `hierro-guest traffic`: a traffic generator (`send`) and sink (`sink`), TCP or
//! UDP, reporting throughput as one JSON line.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::opts::Opts;

pub fn main(args: &[String]) -> crate::Result<()> {
    match args.first().map(String::as_str) {
        Some("sink") => sink(&Opts::parse(&args[1..], &["port"], &["udp"])?),
        Some("send") => send(&Opts::parse(
            &args[1..],
            &["to", "seconds", "size"],
            &["udp"],
        )?),
        _ => Err("traffic: expected `sink` or `send`".into()),
    }
}

/// The one-line summary printed by both sides.
fn report(proto: &str, bytes: u64, packets: u64, elapsed: Duration, extra: Option<(&str, String)>) {
    let secs = elapsed.as_secs_f64();
    let mbit = if secs > 0.0 {
        bytes as f64 * 8.0 / secs / 1e6
    } else {
        0.0
    };
    let mut line = json!({"proto": proto, "bytes": bytes, "packets": packets,
        "seconds": (secs * 1000.0).round() / 1000.0, "mbit_per_s": (mbit * 100.0).round() / 100.0});
    if let Some((k, v)) = extra {
        line[k] = json!(v);
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn send(opts: &Opts) -> crate::Result<()> {
    let to: SocketAddr = opts.require("to")?;
    let seconds: f64 = opts.require("seconds")?;
    let udp = opts.has("udp");
    // UDP default fits a 1500-byte MTU without fragmentation.
    let size: usize = opts.get_or("size", if udp { 1400 } else { 64 * 1024 })?;
    let payload = vec![0x5au8; size.max(1)];
    let duration = Duration::from_secs_f64(seconds);
    let (mut bytes, mut packets) = (0u64, 0u64);
    let start = Instant::now();
    if udp {
        let bind = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
        let sock = UdpSocket::bind(bind)?;
        while start.elapsed() < duration {
            match sock.send_to(&payload, to) {
                Ok(n) => {
                    bytes += n as u64;
                    packets += 1;
                }
                // Full socket buffer or an ICMP error: keep going.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::ConnectionRefused
                    ) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {}
                Err(e) => return Err(e.into()),
            }
        }
    } else {
        let mut stream = TcpStream::connect_timeout(&to, Duration::from_secs(5))?;
        while start.elapsed() < duration {
            stream.write_all(&payload)?;
            bytes += payload.len() as u64;
            packets += 1;
        }
        stream.shutdown(std::net::Shutdown::Write)?;
    }
    report(
        if udp { "udp" } else { "tcp" },
        bytes,
        packets,
        start.elapsed(),
        None,
    );
    Ok(())
}

fn sink(opts: &Opts) -> crate::Result<()> {
    let port: u16 = opts.require("port")?;
    if opts.has("udp") {
        return udp_sink(UdpSocket::bind(("0.0.0.0", port))?);
    }
    let listener = TcpListener::bind(("0.0.0.0", port))?;
    for conn in listener.incoming() {
        let Ok(mut stream) = conn else { continue };
        std::thread::spawn(move || {
            let peer = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let mut buf = vec![0u8; 256 * 1024];
            let (mut bytes, mut reads) = (0u64, 0u64);
            let start = Instant::now();
            loop {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        bytes += n as u64;
                        reads += 1;
                    }
                }
            }
            report("tcp", bytes, reads, start.elapsed(), Some(("peer", peer)));
        });
    }
    Ok(())
}

/// Prints one line per second in which datagrams arrived. A window lasts from
/// its first datagram to its last, so idle time after the traffic stops does
/// not dilute the rate.
fn udp_sink(sock: UdpSocket) -> crate::Result<()> {
    sock.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut buf = vec![0u8; 65536];
    let (mut bytes, mut packets) = (0u64, 0u64);
    let (mut first, mut last) = (Instant::now(), Instant::now());
    loop {
        match sock.recv_from(&mut buf) {
            Ok((n, _)) => {
                last = Instant::now();
                if packets == 0 {
                    first = last;
                }
                bytes += n as u64;
                packets += 1;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e.into()),
        }
        if packets > 0 && first.elapsed() >= Duration::from_secs(1) {
            report("udp", bytes, packets, last - first, None);
            (bytes, packets) = (0, 0);
        }
    }
}

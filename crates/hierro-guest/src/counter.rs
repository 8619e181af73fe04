//! `hierro-guest counter`: answers every line a client sends with the next value
//! of one counter shared by all connections. Tests read it every few ms to prove
//! the guest kept running (it only ever increases; a reboot resets it to 0).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::opts::Opts;

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn main(args: &[String]) -> crate::Result<()> {
    let opts = Opts::parse(args, &["port"], &[])?;
    let port: u16 = opts.get_or("port", 7777)?;
    let listener = TcpListener::bind(("0.0.0.0", port))?;
    eprintln!("hierro-guest counter: listening on port {port}");
    for conn in listener.incoming() {
        match conn {
            Ok(stream) => {
                std::thread::spawn(move || serve(stream));
            }
            // E.g. out of file descriptors: wait a little rather than spin.
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    Ok(())
}

fn serve(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let value = COUNTER.fetch_add(1, Ordering::SeqCst);
        writer.write_all(format!("{value}\n").as_bytes())?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_across_connections() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in listener.incoming() {
                std::thread::spawn(move || serve(s.unwrap()));
            }
        });
        let mut last = None;
        for _ in 0..2 {
            let mut c = TcpStream::connect(addr).unwrap();
            let mut r = BufReader::new(c.try_clone().unwrap());
            for _ in 0..3 {
                c.write_all(b"x\n").unwrap();
                let mut l = String::new();
                r.read_line(&mut l).unwrap();
                let v: u64 = l.trim().parse().unwrap();
                assert!(last.is_none_or(|p| v > p), "{v} after {last:?}");
                last = Some(v);
            }
        }
    }
}

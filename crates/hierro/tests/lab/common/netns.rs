//! A vswitchd of its own in network namespaces, for tests of the dataplane
//! with real frames: veths stand in for VM taps and uplinks, `ping` makes
//! the traffic and tshark watches the wire.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hierro_api::{MirrorStats, PortStats};
use hierro_vswitch::control::{request, Request, Response};
use hierro_vswitch::{DataplaneConfig, PortKind, PortSpec};

pub fn sh(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

pub fn must(args: &[&str]) {
    assert!(sh(args), "failed: {}", args.join(" "));
}

/// Namespaces, a scratch directory and vswitchds, removed when dropped.
pub struct Netns {
    names: Vec<String>,
    pub dir: PathBuf,
    vswitchds: Vec<Child>,
}

impl Drop for Netns {
    fn drop(&mut self) {
        for v in &mut self.vswitchds {
            let _ = v.kill();
            let _ = v.wait();
        }
        for ns in &self.names {
            sh(&["ip", "netns", "del", ns]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Netns {
    /// Fresh namespaces of these names (left-overs of an earlier run go).
    pub fn new(names: &[&str]) -> Netns {
        super::require_environment();
        assert!(
            sh(&["tshark", "--version"]),
            "tshark is missing: run scripts/setup.sh"
        );
        for ns in names {
            sh(&["ip", "netns", "del", ns]);
            must(&["ip", "netns", "add", ns]);
            must(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        let dir = std::env::temp_dir().join(format!("hierro-{}", names[0]));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Netns {
            names: names.iter().map(|s| s.to_string()).collect(),
            dir,
            vswitchds: vec![],
        }
    }

    /// Starts a vswitchd in `ns` and waits until it answers.
    pub fn start_vswitchd(&mut self, ns: &str) -> Vswitchd {
        let v = Vswitchd {
            socket: self.dir.join(format!("{ns}.sock")),
        };
        let child = Command::new("ip")
            .args(["netns", "exec", ns, super::HIERRO, "vswitchd", "--socket"])
            .arg(&v.socket)
            .spawn()
            .unwrap();
        self.vswitchds.push(child);
        super::wait_until("vswitchd to answer", Duration::from_secs(10), || {
            request(&v.socket, &Request::Ping).is_ok()
        });
        v
    }
}

/// A vswitchd's control socket.
pub struct Vswitchd {
    pub socket: PathBuf,
}

impl Vswitchd {
    pub fn ask(&self, req: &Request) -> Response {
        request(&self.socket, req).unwrap()
    }

    pub fn apply(&self, cfg: &DataplaneConfig) -> Result<(), String> {
        match self.ask(&Request::Apply(cfg.clone())) {
            Response::Ok { .. } => Ok(()),
            Response::Error { message } => Err(message),
            other => panic!("unexpected {other:?}"),
        }
    }

    pub fn stats(&self) -> (Vec<PortStats>, Vec<MirrorStats>) {
        match self.ask(&Request::Stats) {
            Response::Stats { ports, mirrors, .. } => (ports, mirrors),
            other => panic!("unexpected {other:?}"),
        }
    }

    pub fn port(&self, key: &str) -> PortStats {
        let (ports, _) = self.stats();
        ports
            .into_iter()
            .find(|p| p.port == key)
            .unwrap_or_else(|| panic!("no port {key}"))
    }
}

/// A switch port of this kind on `portgroup`, bound to `iface`.
pub fn port_spec(key: &str, kind: PortKind, portgroup: &str, iface: &str, mac: &str) -> PortSpec {
    PortSpec {
        key: key.into(),
        kind,
        portgroup: portgroup.into(),
        iface: iface.into(),
        mac: mac.into(),
        effective_mac: None,
        counted_before: None,
    }
}

/// A veth pair with `a` in namespace `a_ns` and `b` in `b_ns`, both up.
pub fn veth(a_ns: &str, a: &str, b_ns: &str, b: &str) {
    must(&[
        "ip", "link", "add", a, "netns", a_ns, "type", "veth", "peer", "name", b, "netns", b_ns,
    ]);
    must(&["ip", "-n", a_ns, "link", "set", a, "up"]);
    must(&["ip", "-n", b_ns, "link", "set", b, "up"]);
}

/// A "guest": namespace `ns` whose eth0 is a veth with this MAC and
/// address; the other end, `port`, is the switch port in `host_ns`.
pub fn guest(host_ns: &str, ns: &str, port: &str, mac: &str, ip: &str) {
    veth(host_ns, port, ns, "eth0");
    must(&["ip", "-n", ns, "link", "set", "eth0", "address", mac]);
    must(&["ip", "-n", ns, "addr", "add", ip, "dev", "eth0"]);
}

pub fn ping(from: &str, to: &str) -> bool {
    sh(&[
        "ip", "netns", "exec", from, "ping", "-c", "1", "-W", "2", "-q", to,
    ])
}

/// Sends `count` pings 10 ms apart; how many were answered.
pub fn ping_flood(from: &str, to: &str, count: u32) -> u32 {
    let out = Command::new("ip")
        .args(["netns", "exec", from, "ping", "-q", "-i", "0.01", "-W", "1"])
        .args(["-c", &count.to_string(), to])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // "300 packets transmitted, 297 received, ..."
    text.split(", ")
        .find_map(|part| part.strip_suffix(" received"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("ping said: {text}"))
}

/// tshark capturing on `iface` in `ns` into `file` until `seconds` pass;
/// returns once it captures.
pub fn tshark(ns: &str, iface: &str, seconds: u32, file: &Path) -> Child {
    let child = Command::new("ip")
        .args(["netns", "exec", ns, "tshark", "-q", "-i", iface])
        .args(["-a", &format!("duration:{seconds}"), "-w"])
        .arg(file)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    super::wait_capture_started(file);
    child
}

/// The given tshark fields of every frame in a capture file, one row each.
pub fn tshark_fields(file: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-r", file.to_str().unwrap(), "-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

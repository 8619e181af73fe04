//! Real-time performance counters (an ESXi host's PerformanceManager): every
//! interval the agent samples the host and each running VM, turns the
//! kernel's, QEMU's and vswitchd's running totals into rates, and keeps the
//! last hour in memory for its center to collect (`GET /api/perf?since=`).
//! Like ESXi's real-time statistics they do not outlive the agent.

use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hierro_api::{PerfSample, PerfSamples, PerfValues};
use serde_json::json;
use uuid::Uuid;

use crate::Host;
use hierro_vswitch::control::{Request, Response};

/// How long samples are kept: vSphere's real-time window.
const KEPT_SECS: i64 = 3600;
const KIB: f64 = 1024.0;

/// The samples taken so far, oldest first.
pub struct Perf {
    pub interval: Duration,
    samples: Mutex<VecDeque<PerfSample>>,
}

impl Perf {
    pub fn new(interval: Duration) -> Perf {
        Perf {
            interval,
            samples: Mutex::default(),
        }
    }

    pub fn since(&self, since: i64) -> PerfSamples {
        let samples = self.samples.lock();
        PerfSamples {
            interval_secs: self.interval.as_secs(),
            samples: samples.iter().filter(|s| s.time > since).cloned().collect(),
        }
    }

    fn push(&self, sample: PerfSample) {
        let mut samples = self.samples.lock();
        while samples
            .front()
            .is_some_and(|s| s.time <= sample.time - KEPT_SECS)
        {
            samples.pop_front();
        }
        samples.push_back(sample);
    }
}

/// Running totals read at one moment; a rate is the difference of two.
#[derive(Default)]
struct Totals {
    at: Option<Instant>,
    /// Host CPU: busy and all jiffies.
    cpu: (u64, u64),
    /// Per VM: CPU seconds of its QEMU, bytes read and written by its
    /// disks, bytes in and out of its ports.
    vm_cpu: HashMap<Uuid, f64>,
    vm_disk: HashMap<Uuid, (u64, u64)>,
    vm_net: HashMap<Uuid, (u64, u64)>,
    /// Bytes in and out of the uplinks.
    uplinks: (u64, u64),
}

/// Samples until the agent stops.
pub async fn run(host: Arc<Host>) {
    let mut before = Totals::default();
    let mut tick = tokio::time::interval(host.perf.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = read_totals(&host).await;
        if let Some(sample) = sample(&host, &before, &now) {
            host.perf.push(sample);
        }
        before = now;
    }
}

async fn read_totals(host: &Host) -> Totals {
    let mut t = Totals {
        at: Some(Instant::now()),
        cpu: host_cpu().unwrap_or_default(),
        ..Default::default()
    };
    for vm in host.vms.list() {
        let Some((pid, qmp)) = vm.process() else {
            continue;
        };
        if let Some(secs) = process_cpu_secs(pid) {
            t.vm_cpu.insert(vm.id, secs);
        }
        // A QEMU that does not answer costs its disk figures, not the round.
        let stats = qmp.execute_value("query-blockstats", json!({}));
        if let Ok(Ok(stats)) = tokio::time::timeout(Duration::from_secs(2), stats).await {
            t.vm_disk.insert(vm.id, disk_bytes(&stats));
        }
    }
    if let Ok(Response::Stats { ports, .. }) = host.vswitchd.request(Request::Stats).await {
        for p in ports {
            let (i, o) = (p.counters.in_bytes, p.counters.out_bytes);
            if p.port.starts_with("uplink:") {
                t.uplinks.0 += i;
                t.uplinks.1 += o;
            } else if let Some(id) = vm_of_port(&p.port) {
                // A port's "in" is what the VM sent: the VM's received
                // bytes are what the port sent out to it.
                let e = t.vm_net.entry(id).or_default();
                e.0 += o;
                e.1 += i;
            }
        }
    }
    t
}

/// The sample between two readings; none for the first reading.
fn sample(host: &Host, before: &Totals, now: &Totals) -> Option<PerfSample> {
    let secs = now.at?.duration_since(before.at?).as_secs_f64();
    if secs <= 0.0 {
        return None;
    }
    let kbps = |b: u64, a: u64| a.checked_sub(b).map(|d| d as f64 / KIB / secs);
    let mut host_values = PerfValues::new();
    let (busy, all) = (
        now.cpu.0.saturating_sub(before.cpu.0),
        now.cpu.1.saturating_sub(before.cpu.1),
    );
    if all > 0 {
        host_values.insert("cpu.usage".into(), 100.0 * busy as f64 / all as f64);
    }
    if let Some((used, total)) = host_memory() {
        host_values.insert("mem.consumed".into(), used as f64);
        host_values.insert("mem.usage".into(), 100.0 * used as f64 / total as f64);
    }
    if let (Some(rx), Some(tx)) = (
        kbps(before.uplinks.0, now.uplinks.0),
        kbps(before.uplinks.1, now.uplinks.1),
    ) {
        host_values.insert("net.received".into(), rx);
        host_values.insert("net.transmitted".into(), tx);
    }
    let (mut host_read, mut host_write) = (0.0, 0.0);
    let mut vms = BTreeMap::new();
    for vm in host.vms.list() {
        let Some((pid, _)) = vm.process() else {
            continue;
        };
        let mut v = PerfValues::new();
        let config = vm.config();
        if let (Some(b), Some(n)) = (before.vm_cpu.get(&vm.id), now.vm_cpu.get(&vm.id)) {
            let pct = 100.0 * (n - b) / secs / config.cpus.max(1) as f64;
            v.insert("cpu.usage".into(), pct.max(0.0));
        }
        if let Some(rss) = process_rss(pid) {
            v.insert("mem.consumed".into(), rss as f64);
            let configured = config.memory_mib as f64 * KIB * KIB;
            v.insert("mem.usage".into(), 100.0 * rss as f64 / configured);
        }
        if let (Some(b), Some(n)) = (before.vm_disk.get(&vm.id), now.vm_disk.get(&vm.id)) {
            if let (Some(r), Some(w)) = (kbps(b.0, n.0), kbps(b.1, n.1)) {
                v.insert("disk.read".into(), r);
                v.insert("disk.write".into(), w);
                host_read += r;
                host_write += w;
            }
        }
        if let (Some(b), Some(n)) = (before.vm_net.get(&vm.id), now.vm_net.get(&vm.id)) {
            if let (Some(rx), Some(tx)) = (kbps(b.0, n.0), kbps(b.1, n.1)) {
                v.insert("net.received".into(), rx);
                v.insert("net.transmitted".into(), tx);
            }
        }
        vms.insert(vm.id, v);
    }
    host_values.insert("disk.read".into(), host_read);
    host_values.insert("disk.write".into(), host_write);
    Some(PerfSample {
        time: chrono::Utc::now().timestamp(),
        host: host_values,
        vms,
    })
}

/// `vm:<id>:<nic>` → the VM's id.
fn vm_of_port(key: &str) -> Option<Uuid> {
    let rest = key.strip_prefix("vm:")?;
    rest.rsplit_once(':')?.0.parse().ok()
}

/// All disks' bytes read and written, from `query-blockstats`.
fn disk_bytes(stats: &serde_json::Value) -> (u64, u64) {
    let mut total = (0, 0);
    for dev in stats.as_array().into_iter().flatten() {
        let s = &dev["stats"];
        total.0 += s["rd_bytes"].as_u64().unwrap_or(0);
        total.1 += s["wr_bytes"].as_u64().unwrap_or(0);
    }
    total
}

/// The host's CPU jiffies, busy and all, from `/proc/stat`.
fn host_cpu() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_cpu_line(stat.lines().next()?)
}

fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let fields: Vec<u64> = line
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is
    // already inside user and nice).
    let all: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4).unwrap_or(&0);
    Some((all - idle, all))
}

/// Used and total bytes of the host's memory, from `/proc/meminfo`.
fn host_memory() -> Option<(u64, u64)> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let total = meminfo_kib(&info, "MemTotal:")?;
    let available = meminfo_kib(&info, "MemAvailable:")?;
    Some(((total - available) * 1024, total * 1024))
}

fn meminfo_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The CPU seconds (user and system) a process has used.
fn process_cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields count from after its ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100);
    Some(ticks as f64 / hz as f64)
}

/// A process's resident memory in bytes.
fn process_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(meminfo_kib(&status, "VmRSS:")? * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_kernels_files() {
        assert_eq!(
            parse_cpu_line("cpu  100 5 50 800 20 1 2 3 7 0"),
            Some((161, 981))
        );
        assert_eq!(parse_cpu_line("cpu0 1 2 3 4"), None);
        let status = "Name:\tqemu\nVmRSS:\t  2048 kB\n";
        assert_eq!(meminfo_kib(status, "VmRSS:"), Some(2048));
        assert!(process_cpu_secs(std::process::id()).is_some());
        assert!(process_rss(std::process::id()).unwrap() > 0);
        let id = Uuid::new_v4();
        assert_eq!(vm_of_port(&format!("vm:{id}:1")), Some(id));
        assert_eq!(vm_of_port("vmk0"), None);
        let stats = json!([{"stats": {"rd_bytes": 10, "wr_bytes": 5}}, {"stats": {"rd_bytes": 1, "wr_bytes": 2}}]);
        assert_eq!(disk_bytes(&stats), (11, 7));
    }

    #[test]
    fn keeps_an_hour() {
        let perf = Perf::new(Duration::from_secs(20));
        for t in (0..=7200).step_by(20) {
            perf.push(PerfSample {
                time: t,
                host: PerfValues::new(),
                vms: BTreeMap::new(),
            });
        }
        let all = perf.since(0).samples;
        assert_eq!(all.first().unwrap().time, 7200 - 3600 + 20);
        assert_eq!(perf.since(7180).samples.len(), 1);
        assert!(perf.since(7200).samples.is_empty());
    }
}

//! Performance counters (vSphere's PerformanceManager). A host samples itself
//! and its VMs every few seconds (20 s, vSphere's real-time interval) and
//! keeps the last hour; the center collects the samples, rolls them up into
//! 5-minute, 30-minute, 2-hour and 1-day averages, and answers charts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// One counter of the catalog.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PerfCounter {
    /// vSphere's `group.name`: `cpu.usage`, `mem.consumed`...
    pub name: String,
    pub group: String,
    pub unit: String,
    pub label: String,
}

/// The counters every host and VM reports, with their unit.
pub const COUNTERS: &[(&str, &str, &str)] = &[
    (
        "cpu.usage",
        "percent",
        "CPU usage: of all the host's CPUs, or of the VM's vCPUs",
    ),
    (
        "mem.consumed",
        "bytes",
        "Memory consumed: the host's used memory, or the host memory the VM's process holds",
    ),
    (
        "mem.usage",
        "percent",
        "Memory usage: consumed over the host's memory or the VM's configured memory",
    ),
    ("net.received", "KBps", "Network received"),
    ("net.transmitted", "KBps", "Network transmitted"),
    (
        "disk.read",
        "KBps",
        "Disk read: by the VM, or by all the host's VMs",
    ),
    (
        "disk.write",
        "KBps",
        "Disk written: by the VM, or by all the host's VMs",
    ),
];

pub fn counters() -> Vec<PerfCounter> {
    COUNTERS
        .iter()
        .map(|(name, unit, label)| PerfCounter {
            name: name.to_string(),
            group: name.split('.').next().unwrap_or_default().to_string(),
            unit: unit.to_string(),
            label: label.to_string(),
        })
        .collect()
}

/// Counter name → value.
pub type PerfValues = BTreeMap<String, f64>;

/// What a host measured over one interval, ending at `time`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PerfSample {
    /// Seconds since the Unix epoch.
    pub time: i64,
    pub host: PerfValues,
    /// The powered-on VMs, by VM id.
    pub vms: BTreeMap<Uuid, PerfValues>,
}

/// A host's samples after a time: `GET /api/perf?since=T` on a host.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PerfSamples {
    pub interval_secs: u64,
    pub samples: Vec<PerfSample>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PerfSince {
    /// Only samples taken after this (seconds since the Unix epoch).
    #[serde(default)]
    #[param(required = false)]
    pub since: i64,
}

/// vSphere's chart intervals: how far back, and at what granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PerfInterval {
    /// The last hour, every sample.
    #[default]
    Realtime,
    /// The last day, 5-minute averages.
    Day,
    /// The last week, 30-minute averages.
    Week,
    /// The last month, 2-hour averages.
    Month,
    /// The last year, daily averages.
    Year,
}

impl PerfInterval {
    pub const ALL: [PerfInterval; 5] = [
        PerfInterval::Realtime,
        PerfInterval::Day,
        PerfInterval::Week,
        PerfInterval::Month,
        PerfInterval::Year,
    ];

    /// Where the center keeps it: 0 for the samples, 1-4 for the averages.
    pub fn level(self) -> i64 {
        Self::ALL.iter().position(|i| *i == self).unwrap_or(0) as i64
    }

    /// The width of one point in seconds (0: as sampled).
    pub fn step_secs(self) -> i64 {
        match self {
            PerfInterval::Realtime => 0,
            PerfInterval::Day => 300,
            PerfInterval::Week => 1800,
            PerfInterval::Month => 7200,
            PerfInterval::Year => 86400,
        }
    }

    /// How far back it reaches, which is also how long it is kept.
    pub fn span_secs(self) -> i64 {
        match self {
            PerfInterval::Realtime => 3600,
            PerfInterval::Day => 86400,
            PerfInterval::Week => 7 * 86400,
            PerfInterval::Month => 30 * 86400,
            PerfInterval::Year => 365 * 86400,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PerfQuery {
    #[serde(default)]
    #[param(inline, required = false)]
    pub interval: PerfInterval,
}

/// An object's counters over an interval, as chart series: `values[c][i]`
/// is counter `c` at `times[i]` (null where it was not measured).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PerfSeries {
    pub entity: String,
    pub interval: PerfInterval,
    /// Seconds between points; for real-time, the hosts' sampling interval.
    pub step_secs: i64,
    pub counters: Vec<PerfCounter>,
    pub times: Vec<i64>,
    pub values: BTreeMap<String, Vec<Option<f64>>>,
}

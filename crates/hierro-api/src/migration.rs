//! vMotion: a running VM moves to another host that shares its datastore.
//! The center asks the destination to get ready (`IncomingMigration`), then
//! the source to send (`MigrateRequest`); QEMU does the pre-copy.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// `POST /api/migrations/incoming` on the destination host: register the VM
/// from its folder and wait for its memory.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomingMigration {
    pub vm: Uuid,
    /// The datastore that holds the VM's folder; the same name on both hosts.
    pub datastore: String,
    /// The VM folder, relative to the datastore root.
    #[schema(pattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,79}$")]
    pub folder: String,
}

/// `POST /api/vms/register` on a host: add a VM whose folder is on a
/// datastore the host sees (vSphere's RegisterVM), powered off. A cold
/// migration is an unregister on one host and a register on another.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VmRegister {
    /// The datastore that holds the VM's folder.
    pub datastore: String,
    /// The VM folder, relative to the datastore root.
    #[schema(pattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,79}$")]
    pub folder: String,
}

/// Where the source sends the VM: QEMU's listening address on the
/// destination's vMotion VMkernel port, and the destination's task.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncomingReady {
    pub uri: String,
    pub task: Uuid,
    /// Where the source sends the frames that reached the VM at the source
    /// during the switchover (`tcp:ADDRESS:PORT`), so none is lost.
    #[serde(default)]
    pub frames: Option<String>,
}

/// `POST /api/vms/{vm}/migrate` on the source host.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrateRequest {
    /// The destination's `IncomingReady::uri`.
    pub uri: String,
    /// The destination's `IncomingReady::frames`.
    #[serde(default)]
    pub frames: Option<String>,
    /// The longest pause of the guest allowed at switchover (1 to 60000 ms).
    #[serde(default = "default_downtime")]
    pub downtime_ms: u64,
    /// Slow the guest's vCPUs down when it dirties memory faster than it is sent.
    #[serde(default = "default_true")]
    pub auto_converge: bool,
    /// At most this many MiB/s on the vMotion network; none: no cap.
    #[serde(default)]
    pub max_bandwidth_mib: Option<u64>,
}

fn default_downtime() -> u64 {
    500
}

/// The switchover goals a migration accepts, in ms: more than a minute of
/// pause is no live migration.
pub const DOWNTIME_RANGE: std::ops::RangeInclusive<u64> = 1..=60_000;

/// Why a migration's switchover goal or bandwidth cap is refused, if it is.
pub fn check_limits(downtime_ms: u64, max_bandwidth_mib: Option<u64>) -> Result<(), String> {
    if !DOWNTIME_RANGE.contains(&downtime_ms) {
        return Err(format!(
            "downtime_ms must be between {} and {} (ms), not {downtime_ms}",
            DOWNTIME_RANGE.start(),
            DOWNTIME_RANGE.end()
        ));
    }
    if max_bandwidth_mib == Some(0) {
        return Err("max_bandwidth_mib must be at least 1 (MiB/s)".into());
    }
    Ok(())
}
fn default_true() -> bool {
    true
}

/// What a finished migration measured (QEMU's `query-migrate`), the result
/// of the source's task.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct MigrationStats {
    /// How long the guest was paused at switchover, as the source's QEMU
    /// counts it (until it has sent the last state).
    pub downtime_ms: u64,
    pub total_ms: u64,
    pub setup_ms: u64,
    /// Bytes of memory sent.
    pub bytes: u64,
    /// Passes over dirty memory.
    pub passes: u64,
    /// The most auto-converge throttled the guest's vCPUs (percent).
    pub cpu_throttle_pct: u64,
    /// Frames that reached the VM at the source while it paused for the
    /// switchover, handed to the destination.
    #[serde(default)]
    pub frames_forwarded: u64,
    /// The guest's whole pause: from its stop at the source to its resume
    /// at the destination, by the two hosts' clocks (NTP-synchronized);
    /// unknown if the destination did not say.
    #[serde(default)]
    pub paused_ms: Option<u64>,
}

/// `POST /api/vms/{vm}/migrate` on the center: move a running VM to another
/// host of the datacenter.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VmMigrate {
    /// The destination host's inventory id.
    pub host: String,
    /// The longest pause of the guest allowed at switchover (1 to 60000 ms).
    #[serde(default = "default_downtime")]
    #[schema(minimum = 1, maximum = 60000)]
    pub downtime_ms: u64,
    #[serde(default = "default_true")]
    pub auto_converge: bool,
    /// At most this many MiB/s on the vMotion network (shared with other
    /// traffic); none: no cap.
    #[serde(default)]
    pub max_bandwidth_mib: Option<u64>,
}

impl VmMigrate {
    /// A move to `host` with the defaults: a 500 ms switchover goal,
    /// auto-converge, no bandwidth cap.
    pub fn to(host: &str) -> VmMigrate {
        VmMigrate {
            host: host.to_string(),
            downtime_ms: default_downtime(),
            auto_converge: true,
            max_bandwidth_mib: None,
        }
    }
}

/// As events say it: "downtime 12 ms (paused 80 ms in all), total 250 ms,
/// 85 MiB in 3 passes, 2 frames from the switchover handed over".
impl std::fmt::Display for MigrationStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "downtime {} ms", self.downtime_ms)?;
        if let Some(p) = self.paused_ms {
            write!(f, " (paused {p} ms in all)")?;
        }
        write!(
            f,
            ", total {} ms, {} MiB in {} passes",
            self.total_ms,
            self.bytes >> 20,
            self.passes
        )?;
        if self.cpu_throttle_pct > 0 {
            write!(f, ", vCPUs throttled up to {}%", self.cpu_throttle_pct)?;
        }
        write!(
            f,
            ", {} frames from the switchover handed over",
            self.frames_forwarded
        )
    }
}

impl MigrationStats {
    /// The figures of QEMU's `query-migrate` answer for a completed
    /// migration, with the most throttling seen while it ran (QEMU stops
    /// throttling, and reports 0, once it is done).
    pub fn from_query_migrate(info: &serde_json::Value, throttled: u64) -> MigrationStats {
        let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
        MigrationStats {
            downtime_ms: n(&info["downtime"]),
            total_ms: n(&info["total-time"]),
            setup_ms: n(&info["setup-time"]),
            bytes: n(&info["ram"]["transferred"]),
            passes: n(&info["ram"]["dirty-sync-count"]),
            cpu_throttle_pct: throttled.max(n(&info["cpu-throttle-percentage"])),
            frames_forwarded: 0,
            paused_ms: None,
        }
    }
}

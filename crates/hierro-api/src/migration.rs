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
    pub folder: String,
}

/// Where the source sends the VM: QEMU's listening address on the
/// destination's vMotion VMkernel port, and the destination's task.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncomingReady {
    pub uri: String,
    pub task: Uuid,
}

/// `POST /api/vms/{vm}/migrate` on the source host.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrateRequest {
    /// The destination's `IncomingReady::uri`.
    pub uri: String,
    /// The longest pause of the guest allowed at switchover (1 to 60000 ms).
    #[serde(default = "default_downtime")]
    pub downtime_ms: u64,
    /// Slow the guest's vCPUs down when it dirties memory faster than it is sent.
    #[serde(default = "default_true")]
    pub auto_converge: bool,
}

fn default_downtime() -> u64 {
    500
}

/// The switchover goals a migration accepts, in ms: more than a minute of
/// pause is no live migration.
pub const DOWNTIME_RANGE: std::ops::RangeInclusive<u64> = 1..=60_000;

/// Why `downtime_ms` is refused, if it is.
pub fn check_downtime(downtime_ms: u64) -> Result<(), String> {
    if DOWNTIME_RANGE.contains(&downtime_ms) {
        Ok(())
    } else {
        Err(format!(
            "downtime_ms must be between {} and {} (ms), not {downtime_ms}",
            DOWNTIME_RANGE.start(),
            DOWNTIME_RANGE.end()
        ))
    }
}
fn default_true() -> bool {
    true
}

/// What a finished migration measured (QEMU's `query-migrate`), the result
/// of the source's task.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct MigrationStats {
    /// How long the guest was paused at switchover.
    pub downtime_ms: u64,
    pub total_ms: u64,
    pub setup_ms: u64,
    /// Bytes of memory sent.
    pub bytes: u64,
    /// Passes over dirty memory.
    pub passes: u64,
    /// The most auto-converge throttled the guest's vCPUs (percent).
    pub cpu_throttle_pct: u64,
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
    pub downtime_ms: u64,
    #[serde(default = "default_true")]
    pub auto_converge: bool,
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
        }
    }
}

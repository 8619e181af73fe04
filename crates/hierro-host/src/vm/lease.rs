//! The VM folder's lease: which host may run the VM. Hosts that share a
//! datastore all see the folder; the host that runs the VM holds `.lease`
//! and renews it every few seconds. Another host may start the VM only when
//! the lease is free, its own, or expired (its holder stopped renewing:
//! that host is gone). A vMotion hands the lease to the destination once
//! QEMU says the memory has arrived. So a VM never runs on two hosts.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{HostError, HostResult};
use crate::state::write_atomic;

const FILE: &str = ".lease";
/// How often the running host renews its lease.
pub const RENEW: Duration = Duration::from_secs(5);
/// A lease not renewed for this long no longer holds.
pub const EXPIRY: Duration = Duration::from_secs(20);

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Lease {
    host: String,
    renewed: DateTime<Utc>,
}

fn read(folder: &Path) -> Option<Lease> {
    serde_json::from_slice(&std::fs::read(folder.join(FILE)).ok()?).ok()
}

fn write(folder: &Path, host: &str) -> HostResult<()> {
    let lease = Lease {
        host: host.to_string(),
        renewed: Utc::now(),
    };
    write_atomic(
        &folder.join(FILE),
        &serde_json::to_vec(&lease).expect("a lease serializes"),
    )
    .map_err(|e| HostError::internal(format!("writing the VM's lease: {e}")))
}

/// Takes the lease for `host` to start the VM; refuses while another host
/// holds it.
pub fn acquire(folder: &Path, host: &str) -> HostResult<()> {
    if let Some(l) = read(folder) {
        let age = (Utc::now() - l.renewed).to_std().unwrap_or_default();
        if l.host != host && age < EXPIRY {
            return Err(HostError::refused(format!(
                "the VM runs on host {} (its lease was renewed {} s ago)",
                l.host,
                age.as_secs()
            )));
        }
    }
    write(folder, host)
}

/// Renews the lease of a VM this host runs; a vMotion's destination takes
/// it over this way too, once the VM runs there.
pub fn hold(folder: &Path, host: &str) -> HostResult<()> {
    write(folder, host)
}

/// Gives the lease up, if it is this host's.
pub fn release(folder: &Path, host: &str) {
    if read(folder).is_some_and(|l| l.host == host) {
        let _ = std::fs::remove_file(folder.join(FILE));
    }
}

/// The host holding the lease, if any holds it now.
pub fn holder(folder: &Path) -> Option<String> {
    let l = read(folder)?;
    let age = (Utc::now() - l.renewed).to_std().unwrap_or_default();
    (age < EXPIRY).then_some(l.host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_host_at_a_time() {
        let dir = std::env::temp_dir().join(format!("hierro-lease-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        acquire(&dir, "h1").unwrap();
        assert_eq!(holder(&dir).as_deref(), Some("h1"));
        // Another host may not start it while h1 holds the lease.
        assert!(acquire(&dir, "h2").is_err());
        acquire(&dir, "h1").unwrap();
        // Not h2's to release.
        release(&dir, "h2");
        assert_eq!(holder(&dir).as_deref(), Some("h1"));
        // An expired lease (its host stopped renewing) no longer holds.
        let stale = Lease {
            host: "h1".into(),
            renewed: Utc::now() - chrono::Duration::seconds(EXPIRY.as_secs() as i64 + 1),
        };
        std::fs::write(dir.join(FILE), serde_json::to_vec(&stale).unwrap()).unwrap();
        assert_eq!(holder(&dir), None);
        acquire(&dir, "h2").unwrap();
        // Handed over (vMotion), then given up.
        hold(&dir, "h1").unwrap();
        assert_eq!(holder(&dir).as_deref(), Some("h1"));
        release(&dir, "h1");
        assert_eq!(holder(&dir), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

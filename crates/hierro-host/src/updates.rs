//! The host's change feed for the center: what changed since a version.
//! Every change leaves an event, so the events after the center's version
//! name exactly the objects to send again; nothing is polled.

use hierro_api::EventKind;
use std::collections::BTreeSet;
use std::sync::Arc;

use hierro_api::HostUpdates;
use uuid::Uuid;

use crate::Host;

pub async fn since(host: &Arc<Host>, since: u64) -> HostUpdates {
    // The version first: a change made while we read is sent now and again
    // next time, never lost.
    let version = host.journal.version();
    let events = if since == 0 || since > version {
        None
    } else {
        host.journal.events_since(since)
    };
    let Some(events) = events else {
        return full(host, version).await;
    };
    let mut vm_ids = BTreeSet::new();
    let (mut datastores, mut network) = (false, false);
    for e in &events {
        if let Some(id) = e.target.strip_prefix("vm:") {
            vm_ids.extend(id.parse::<Uuid>());
        } else if e.target.starts_with("datastore:") {
            datastores = true;
        } else if e.kind == EventKind::HostNetworkChanged {
            network = true;
        }
    }
    let mut updates = HostUpdates {
        version,
        datastores: datastores.then(|| host.datastores.list()),
        network: network.then(|| host.network()),
        lockdown: host.lockdown(),
        ..Default::default()
    };
    for id in vm_ids {
        match host.vms.find(&id.to_string()) {
            Ok(vm) => updates.vms.push(vm.info(false).await),
            Err(_) => updates.removed_vms.push(id),
        }
    }
    updates
}

async fn full(host: &Arc<Host>, version: u64) -> HostUpdates {
    let mut vms = vec![];
    for vm in host.vms.list() {
        vms.push(vm.info(false).await);
    }
    HostUpdates {
        version,
        full: true,
        vms,
        removed_vms: vec![],
        datastores: Some(host.datastores.list()),
        network: Some(host.network()),
        lockdown: host.lockdown(),
    }
}

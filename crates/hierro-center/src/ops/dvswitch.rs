//! Changing a distributed switch: the center stores the change, then every
//! connected member (before or after the change) gets its new set of
//! switches; deleting one then takes it out of the inventory. A saga: a
//! host that refuses (a NIC it lacks, a port group its VM uses) has the
//! hosts that took the change get the old set back, and the old
//! configuration is stored again. Stored first, a host that reconnects
//! meanwhile gets the new set from its follower (`host_sync`), as do hosts
//! not connected when they come back.

use std::collections::BTreeSet;
use std::sync::Arc;

use hierro_api::{EventKind, InventoryObject, Operation};

use super::saga::{self, Cx, Done, Saga, Step};
use super::{Caller, OpError, OpResult, TaskRun};
use crate::dvswitches::{self, Dvs};
use crate::inventory;
use crate::Center;

/// A switch's change: its configuration before and after.
pub struct Reconfigure {
    center: Arc<Center>,
    id: String,
    before: Dvs,
    after: Dvs,
    /// The switch goes once no host runs it.
    delete: bool,
    /// The connected hosts that run it, before or after: (id, name).
    hosts: Vec<(String, String)>,
    message: String,
    stored: Option<InventoryObject>,
}

#[derive(Clone, Copy, Debug)]
pub enum ReconfigureStep {
    /// The center stores the change.
    Store,
    /// The n-th host gets its new set of switches.
    Push(usize),
    /// A deleted switch leaves the inventory.
    Remove,
}

impl Step for ReconfigureStep {
    fn name(&self) -> String {
        match self {
            ReconfigureStep::Store => "store the switch".into(),
            ReconfigureStep::Push(i) => format!("give host {} its switches", i + 1),
            ReconfigureStep::Remove => "remove the switch".into(),
        }
    }

    /// The change is the answer: it all runs before the request ends.
    fn inline(&self) -> bool {
        true
    }
}

impl Reconfigure {
    /// Gives host `i` its set, with this switch as `dvs` says.
    async fn push(&self, i: usize, dvs: &Dvs) -> OpResult<()> {
        let (host, name) = &self.hosts[i];
        let db = &self.center.db;
        let list = dvswitches::of_host_with(db, host, &self.id, dvs).await?;
        let client = crate::hosts::client(db, host).await?;
        client
            .set_distributed(&list)
            .await
            .map_err(|e| OpError::Conflict(format!("host {name}: {}", OpError::from(e))))?;
        Ok(())
    }
}

impl Reconfigure {
    /// Stores `d` (under its name) as the switch's configuration; the
    /// ports are the hosts' doing (`host_sync`), stored as they are now.
    async fn store(&mut self, d: &Dvs) -> OpResult<()> {
        let db = &self.center.db;
        let now = inventory::get(db, &self.id).await?;
        if d.spec.name != now.name {
            inventory::rename(db, &self.id, &d.spec.name).await?;
        }
        let mut d = d.clone();
        d.ports = Dvs::of(&now)?.ports;
        inventory::set_data(db, &self.id, d.data()).await?;
        self.stored = Some(inventory::get(db, &self.id).await?);
        Ok(())
    }
}

impl Saga for Reconfigure {
    type Step = ReconfigureStep;

    fn steps(&self) -> Vec<ReconfigureStep> {
        let pushes = (0..self.hosts.len()).map(ReconfigureStep::Push);
        let remove = self.delete.then_some(ReconfigureStep::Remove);
        std::iter::once(ReconfigureStep::Store)
            .chain(pushes)
            .chain(remove)
            .collect()
    }

    fn describe(&self, step: ReconfigureStep) -> String {
        match step {
            ReconfigureStep::Push(i) => format!("give {} its switches", self.hosts[i].1),
            step => step.name(),
        }
    }

    async fn run(&mut self, step: ReconfigureStep, _cx: &Cx) -> OpResult<()> {
        match step {
            ReconfigureStep::Store => {
                let after = self.after.clone();
                self.store(&after).await
            }
            ReconfigureStep::Push(i) => self.push(i, &self.after).await,
            ReconfigureStep::Remove => Ok(inventory::delete(&self.center.db, &self.id).await?),
        }
    }

    async fn undo(&mut self, step: ReconfigureStep, _cx: &Cx) -> OpResult<()> {
        match step {
            ReconfigureStep::Store => {
                let before = self.before.clone();
                self.store(&before).await
            }
            ReconfigureStep::Push(i) => self.push(i, &self.before).await,
            // The last step: nothing runs after it to fail.
            ReconfigureStep::Remove => Ok(()),
        }
    }

    fn done(self) -> Done {
        Done {
            result: serde_json::to_value(&self.stored).unwrap_or_default(),
            event: EventKind::DvsReconfigured,
            message: self.message,
        }
    }
}

/// Changes switch `id` from `before` to `after` (none: deletes it, once
/// its hosts let it go) as a task that ends before the answer; `message`
/// is its event's text. The switch as stored (none once deleted).
pub async fn reconfigure(
    c: &Arc<Center>,
    caller: &Caller,
    (id, operation, message): (&str, Operation, String),
    before: Dvs,
    after: Option<Dvs>,
    fail_step: Option<usize>,
) -> OpResult<Option<InventoryObject>> {
    let obj = inventory::get(&c.db, id).await?;
    let delete = after.is_none();
    // Deleted: first no host runs it.
    let after = after.unwrap_or_else(|| Dvs {
        members: Default::default(),
        ..before.clone()
    });
    let members: BTreeSet<&String> = before.members.keys().chain(after.members.keys()).collect();
    let mut hosts = vec![];
    for host in members {
        let h = inventory::get(&c.db, host).await?;
        // A host away gets its set when it comes back.
        if h.data["state"] == "connected" {
            hosts.push((h.id, h.name));
        }
    }
    let task = TaskRun::begin(c, caller, operation, (id, &obj.name)).await?;
    let change = Reconfigure {
        center: c.clone(),
        id: id.to_string(),
        before,
        after,
        delete,
        hosts,
        message,
        stored: None,
    };
    let run = saga::Run {
        task,
        cancelable: false,
        fail_step,
    };
    let done = saga::finish(change, run).await?;
    Ok(serde_json::from_value(done)
        .ok()
        .filter(|_: &InventoryObject| !delete))
}

//! New VMs: create, clone, deploy from a template, register from a folder;
//! where they go (placement) and what that needs.
//!
//! Creating is a saga: the host starts making the VM (its refusal is the
//! answer), the center follows the host's task, then records the VM in the
//! inventory. Undone, the host deletes what it made.

use std::sync::Arc;

use hierro_api::{
    DiskSpec, EventKind, NicSpec, Operation, PowerState, Privilege, Severity, Task, VmClone,
    VmCreate, VmInfo, VmRegister,
};
use hierro_client::Client;

use super::host::{follow, record_in_folder, result_of};
use super::saga::{self, Cx, Done, Saga, Step};
use super::{authorize, Caller, OpError, OpResult, TaskRun};
use crate::inventory::{self, InventoryObject, ObjectKind};
use crate::vms::{self, Needs, VmRef};
use crate::Center;
use crate::{hosts, journal};

/// Where a new VM goes: a host or cluster, in a folder of its datacenter.
pub struct Placed {
    pub target: InventoryObject,
    pub datacenter: InventoryObject,
    pub folder: String,
}

/// The host or cluster (the caller may assign VMs to it), its datacenter,
/// and the folder (the datacenter unless given; the caller has `privilege`
/// on it), checked to be in the same datacenter.
pub async fn resolve(
    c: &Center,
    caller: &Caller,
    placement: &str,
    folder: Option<&str>,
    privilege: Privilege,
) -> OpResult<Placed> {
    authorize(c, caller, placement, Privilege::ResourceAssignVMToPool).await?;
    let target = inventory::get(&c.db, placement).await?;
    let datacenter = inventory::datacenter_of(&c.db, &target.id).await?;
    let folder = folder.unwrap_or(&datacenter.id).to_string();
    authorize(c, caller, &folder, privilege).await?;
    if inventory::datacenter_of(&c.db, &folder).await?.id != datacenter.id {
        return Err(OpError::Invalid(
            "the folder and the placement are in different datacenters".into(),
        ));
    }
    Ok(Placed {
        target,
        datacenter,
        folder,
    })
}

/// How a new VM comes to be, for its task and event.
#[derive(Clone)]
pub enum Origin {
    Created,
    Cloned { from: String },
    Deployed { template: String },
}

impl Origin {
    fn operation(&self) -> Operation {
        match self {
            Origin::Created => Operation::VmCreate,
            Origin::Cloned { .. } => Operation::VmClone,
            Origin::Deployed { .. } => Operation::VmDeploy,
        }
    }

    fn event(&self, name: &str, host: &str) -> (EventKind, String) {
        match self {
            Origin::Created => (EventKind::VmCreated, format!("Created VM {name} on {host}")),
            Origin::Cloned { from } => (
                EventKind::VmCloned,
                format!("Cloned {from} to {name} on {host}"),
            ),
            Origin::Deployed { template } => (
                EventKind::VmDeployed,
                format!("Deployed {name} on {host} from template {template}"),
            ),
        }
    }
}

/// A VM being made on a host.
pub struct Provision {
    center: Arc<Center>,
    origin: Origin,
    host: InventoryObject,
    client: Client,
    folder: String,
    req: VmCreate,
    /// The host's task making it.
    making: Option<Task>,
    made: Option<InventoryObject>,
}

#[derive(Clone, Copy, Debug)]
pub enum ProvisionStep {
    /// The host checks and starts making the VM.
    Start,
    /// The host makes it (copies a disk, say).
    Make,
    /// The inventory records it in its folder.
    Record,
}

impl Step for ProvisionStep {
    fn name(&self) -> String {
        match self {
            ProvisionStep::Start => "start making the VM on its host",
            ProvisionStep::Make => "make the VM",
            ProvisionStep::Record => "record the VM in the inventory",
        }
        .to_string()
    }

    fn weight(&self) -> u32 {
        match self {
            ProvisionStep::Make => 90,
            _ => 5,
        }
    }

    fn inline(&self) -> bool {
        matches!(self, ProvisionStep::Start)
    }
}

impl Saga for Provision {
    type Step = ProvisionStep;

    fn steps(&self) -> Vec<ProvisionStep> {
        vec![
            ProvisionStep::Start,
            ProvisionStep::Make,
            ProvisionStep::Record,
        ]
    }

    async fn run(&mut self, step: ProvisionStep, cx: &Cx) -> OpResult<()> {
        match step {
            ProvisionStep::Start => self.making = Some(self.client.create_vm(&self.req).await?),
            ProvisionStep::Make => {
                let making = self.making.clone().ok_or_else(not_started)?;
                self.making = Some(follow(cx, &self.client, making).await?);
            }
            ProvisionStep::Record => {
                let making = self.making.clone().ok_or_else(not_started)?;
                let info: VmInfo = result_of(making)?;
                let c = &self.center;
                self.made = Some(record_in_folder(c, &self.host.id, &self.folder, &info).await?);
            }
        }
        Ok(())
    }

    async fn undo(&mut self, step: ProvisionStep, _cx: &Cx) -> OpResult<()> {
        match step {
            // The host deletes what it made, once it has made it (a task
            // that failed made nothing).
            ProvisionStep::Start => {
                if let Some(making) = self.making.take() {
                    if let Ok(made) = self.client.wait(&making, |_| {}).await {
                        let info: VmInfo = result_of(made)?;
                        let id = info.id.to_string();
                        let deleting = self.client.delete_vm(&id).await;
                        self.client.run(deleting).await?;
                    }
                }
            }
            // Undone with `Start`.
            ProvisionStep::Make => {}
            // The last step: nothing runs after it to fail.
            ProvisionStep::Record => {}
        }
        Ok(())
    }

    fn done(self) -> Done {
        let (event, message) = self.origin.event(&self.req.name, &self.host.name);
        Done {
            result: serde_json::to_value(&self.made).unwrap_or_default(),
            event,
            message,
        }
    }
}

fn not_started() -> OpError {
    OpError::Internal("the host was not asked to make the VM".into())
}

/// Makes the VM `req` describes where `placed` says, once the caller is
/// found to hold what it uses (the datastore, the networks): on the host
/// given, or the cluster's host that fits with the most memory left. The
/// answer is the running task; its result is the VM's inventory object.
pub async fn create(
    c: &Arc<Center>,
    caller: &Caller,
    placed: Placed,
    req: VmCreate,
    origin: Origin,
    fail_step: Option<usize>,
) -> OpResult<Task> {
    let dc = &placed.datacenter.id;
    let ds = vms::shared_object(&c.db, ObjectKind::Datastore, dc, &req.datastore).await?;
    authorize(c, caller, &ds.id, Privilege::DatastoreAllocateSpace).await?;
    let needs = Needs::new(
        dc,
        &req.datastore,
        req.nics.iter().map(|n| n.network.as_str()),
        0,
    );
    for n in &needs.networks {
        let net = vms::shared_object(&c.db, ObjectKind::Network, dc, n).await?;
        authorize(c, caller, &net.id, Privilege::NetworkAssign).await?;
    }
    let taken = inventory::children(&c.db, &placed.folder).await?;
    if taken.iter().any(|o| o.name == req.name) {
        return Err(OpError::Conflict(format!(
            "the folder already holds an object named {:?}",
            req.name
        )));
    }
    let host = vms::place(&c.db, &placed.target, &needs).await?;
    let client = hosts::client(&c.db, &host.id).await?;
    let target = (placed.folder.as_str(), req.name.as_str());
    let task = TaskRun::begin(c, caller, origin.operation(), target).await?;
    let provision = Provision {
        center: c.clone(),
        origin,
        host,
        client,
        folder: placed.folder,
        req,
        making: None,
        made: None,
    };
    let run = saga::Run {
        task,
        cancelable: false,
        fail_step,
    };
    saga::start(provision, run).await
}

/// What cloning `source` (powered off) or deploying it (a template) makes:
/// the source's CPUs, memory, boot and port groups (new MACs, no guest
/// addresses) unless the request gives NICs, and a full copy of its disk on
/// its datastore unless the request names another. `template`: the
/// source is a template (the inventory says so), so this deploys it.
pub async fn clone_of(
    c: &Center,
    source: &VmRef,
    req: VmClone,
    template: bool,
) -> OpResult<(VmCreate, Origin)> {
    let info = hosts::client(&c.db, &source.host)
        .await?
        .vm(&source.vm_id)
        .await?;
    // The host copies the disk under its lock, which a running QEMU holds;
    // this says why first.
    if info.power_state != PowerState::PoweredOff {
        return Err(OpError::InvalidState(format!(
            "{} is {}: power it off to clone it",
            info.name, info.power_state
        )));
    }
    let nics = req.nics.unwrap_or_else(|| {
        let network = |n: &hierro_api::Nic| NicSpec {
            network: n.network.clone(),
            mac: None,
            ip: None,
            gateway: None,
            model: Some(n.model),
        };
        info.config.nics.iter().map(network).collect()
    });
    let create = VmCreate {
        name: req.name,
        datastore: req.datastore.unwrap_or(info.datastore),
        cpus: info.config.cpus,
        memory_mib: info.config.memory_mib,
        disk: DiskSpec {
            size_mib: None,
            clone_from: Some(format!("{}/{}", info.folder, info.config.disk.file)),
            full_copy: true,
        },
        boot: info.config.boot,
        nics,
        cdroms: info.config.cdroms,
        boot_order: info.config.boot_order,
        display: info.config.display,
        guest_os: info.config.guest_os,
    };
    let origin = if template {
        Origin::Deployed {
            template: info.name,
        }
    } else {
        Origin::Cloned { from: info.name }
    };
    Ok((create, origin))
}

/// Adds a VM from its folder on a datastore (vSphere's "Register VM"),
/// powered off, on the placement's host (or the cluster's host with the
/// most memory left that sees the datastore), into the folder. Its
/// inventory object.
pub async fn register(
    c: &Arc<Center>,
    caller: &Caller,
    placed: Placed,
    req: VmRegister,
) -> OpResult<InventoryObject> {
    // The host checks the VM's port groups once it has read its folder.
    let needs = Needs::new(&placed.datacenter.id, &req.datastore, [], 0);
    let host = vms::place(&c.db, &placed.target, &needs).await?;
    let client = hosts::client(&c.db, &host.id).await?;
    let info = client.register_vm(&req).await?;
    let obj = record_in_folder(c, &host.id, &placed.folder, &info).await?;
    let message = format!(
        "Registered VM {} from [{}] {} on {}",
        obj.name, req.datastore, req.folder, host.name
    );
    journal::event(
        &c.db,
        EventKind::VmRegistered,
        Severity::Info,
        &obj.id,
        &obj.name,
        &caller.user,
        &message,
        None,
    )
    .await?;
    Ok(obj)
}

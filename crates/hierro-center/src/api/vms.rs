//! VMs through the center, with the host API's paths and shapes so that the
//! same client verbs work against either: create (placed on a host or a
//! cluster), power, snapshots, delete, info, console. The host checks and
//! does the work; a refusal comes back at once, otherwise the answer is a
//! center task that follows the host's task (progress included) and then
//! records the result in the inventory.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use futures_util::{SinkExt, StreamExt};
use hierro_api::EventKind;
use hierro_api::Operation;
use hierro_api::Privilege;
use hierro_api::{DiskSpec, ErrorCode, NicSpec, VmClone};
use hierro_api::{
    IncomingMigration, IncomingReady, MigrateRequest, MigrationStats, PowerOp, PowerState,
    Snapshot, SnapshotCreate, Task, VmCreate, VmInfo, VmMigrate, VmRegister, VmUpdate,
};
use hierro_client::{Client, ClientError};
use hierro_http::Params;
use hierro_http::{ApiError, ApiResult, Body};
use serde::Deserialize;
use tokio_tungstenite::tungstenite::Message as HostMessage;
use tokio_util::sync::CancellationToken;
use utoipa::IntoParams;

use super::inventory::visible;
use super::journal::TaskRun;
use super::{
    authorize, AppState, BadRequest, Caller, Conflict, Forbidden, HostFailed, NotFound,
    Unauthorized,
};
use crate::authz::VIEW;
use crate::inventory::{self, Kind, Object};
use crate::vms::{self, VmRef};
use crate::{host_sync, hosts};

type Accepted = (StatusCode, Json<Task>);

/// A host's refusal or failure as the center's answer.
pub(super) fn from_host(e: ClientError) -> ApiError {
    match e {
        ClientError::Api { info, .. } | ClientError::Task { info, .. } => ApiError::from(info),
        e => ApiError::backend(format!("the host does not answer: {e}")),
    }
}

/// Waits for a host task, copying its progress into the center's task.
async fn mirror(run: &TaskRun, client: &Client, task: Task) -> ApiResult<Task> {
    let (tx, mut rx) = tokio::sync::watch::channel(task.progress);
    let waiting = client.wait(&task, move |t| {
        tx.send_replace(t.progress);
    });
    let reporting = async {
        // Ends when `waiting` finishes and drops the sender.
        while rx.changed().await.is_ok() {
            let pct = *rx.borrow_and_update();
            run.progress(pct).await;
        }
    };
    let (done, ()) = tokio::join!(waiting, reporting);
    done.map_err(from_host)
}

/// The VM `key` names (an object id, or a name only one visible VM has),
/// once the caller is found to hold `privilege` on it.
async fn vm_ref(
    c: &AppState,
    caller: &Caller,
    key: &str,
    privilege: Privilege,
) -> ApiResult<VmRef> {
    let object = match inventory::get(&c.db, key).await {
        Ok(o) => o,
        Err(_) => {
            let named = inventory::search(&c.db, Some(Kind::Vm), Some(key)).await?;
            vms::find_by_key(&visible(c, caller, named).await?, key)?
        }
    };
    authorize(c, caller, &object.id, privilege).await?;
    Ok(vms::as_vm(object)?)
}

/// Records the host's view of the VM after an operation: its new state, or
/// that it is gone (deleted; the change feed may have said so already).
async fn refresh(c: &AppState, client: &Client, vm: &VmRef) -> ApiResult<()> {
    match client.vm(&vm.vm_id).await {
        Ok(info) => {
            let parent = vm.object.parent.clone().unwrap_or_default();
            host_sync::record_vm(&c.db, &vm.host, &parent, &info).await?;
        }
        Err(e) if e.status().map(|s| s.as_u16()) == Some(404) => {
            match inventory::delete(&c.db, &vm.object.id).await {
                Ok(()) | Err(crate::error::StoreError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(from_host(e)),
    }
    Ok(())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Placement {
    /// The host or cluster to run the VM on.
    placement: Option<String>,
    /// The folder (or datacenter) to put it in; the datacenter by default.
    folder: Option<String>,
}

impl Placement {
    /// The host or cluster (the caller may assign VMs to it), its
    /// datacenter, and the folder (the datacenter unless given; the caller
    /// has `privilege` on it), checked to be in the same datacenter.
    async fn resolve(
        self,
        c: &AppState,
        caller: &Caller,
        privilege: Privilege,
    ) -> ApiResult<(Object, Object, String)> {
        let placement = self.placement.ok_or_else(|| {
            ApiError::bad_request("placement is required: the id of a host or a cluster")
        })?;
        authorize(c, caller, &placement, Privilege::ResourceAssignVMToPool).await?;
        let target = inventory::get(&c.db, &placement).await?;
        let datacenter = inventory::datacenter_of(&c.db, &target.id).await?;
        let folder = self.folder.unwrap_or_else(|| datacenter.id.clone());
        authorize(c, caller, &folder, privilege).await?;
        if inventory::datacenter_of(&c.db, &folder).await?.id != datacenter.id {
            return Err(ApiError::bad_request(
                "the folder and the placement are in different datacenters",
            ));
        }
        Ok((target, datacenter, folder))
    }
}

/// Records a VM a host has just made or registered, in `folder`; its
/// inventory object.
async fn record_in_folder(
    c: &AppState,
    host: &str,
    folder: &str,
    info: &VmInfo,
) -> ApiResult<Object> {
    let obj = host_sync::record_vm(&c.db, host, folder, info).await?;
    // The change feed may have recorded it first, in the datacenter.
    if obj.parent.as_deref() != Some(folder) {
        inventory::move_to(&c.db, &obj.id, folder).await?;
    }
    Ok(inventory::get(&c.db, &obj.id).await?)
}

/// Creates a VM on a host, or on the host of a cluster with the most free
/// memory that has the datastore and the networks. The answer is the
/// running task; its result is the VM's inventory object.
#[utoipa::path(
    post,
    path = "/api/vms",
    tag = "vms",
    operation_id = "vm_create",
    description = "Privilege: VirtualMachine.Inventory.Create on the folder, Resource.AssignVMToPool on the host or cluster, Datastore.AllocateSpace on the datastore, Network.Assign on each network.",
    security(("session" = [])),
    params(Placement),
    request_body = VmCreate,
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn create(
    State(c): State<AppState>,
    caller: Caller,
    Params(p): Params<Placement>,
    Body(req): Body<VmCreate>,
) -> ApiResult<Accepted> {
    let done = |name: &str, host: &str| format!("Created VM {name} on {host}");
    let made = (Operation::VmCreate, EventKind::VmCreated);
    create_placed(c, caller, p, req, made, done).await
}

/// Makes the VM `req` describes where `p` says, checking the privileges
/// creating it needs; `made` names the task and the event that ends it,
/// whose message `done` writes from the VM's and the host's names.
async fn create_placed(
    c: AppState,
    caller: Caller,
    p: Placement,
    req: VmCreate,
    made: (Operation, EventKind),
    done: impl FnOnce(&str, &str) -> String,
) -> ApiResult<Accepted> {
    let (target, datacenter, folder) = p
        .resolve(&c, &caller, Privilege::VirtualMachineInventoryCreate)
        .await?;
    let ds = vms::shared_object(&c.db, Kind::Datastore, &datacenter.id, &req.datastore).await?;
    authorize(&c, &caller, &ds.id, Privilege::DatastoreAllocateSpace).await?;
    let mut networks: Vec<String> = req.nics.iter().map(|n| n.network.clone()).collect();
    networks.sort();
    networks.dedup();
    for n in &networks {
        let net = vms::shared_object(&c.db, Kind::Network, &datacenter.id, n).await?;
        authorize(&c, &caller, &net.id, Privilege::NetworkAssign).await?;
    }
    if inventory::children(&c.db, &folder)
        .await?
        .iter()
        .any(|o| o.name == req.name)
    {
        return Err(ApiError::conflict(format!(
            "the folder already holds an object named {:?}",
            req.name
        )));
    }
    let needs = vms::Needs {
        datacenter: &datacenter.id,
        datastore: &req.datastore,
        networks: &networks,
        memory_mib: 0,
    };
    let host = vms::place(&c.db, &target, &needs).await?;
    let client = hosts::client(&c.db, &host.id).await?;
    let host_task = client.create_vm(&req).await.map_err(from_host)?;
    let run = TaskRun::begin(&c, &caller, made.0, (&folder, &req.name)).await?;
    let done = done(&req.name, &host.name);
    let (follow, c) = (run.clone(), c.clone());
    let work = async move {
        let finished = mirror(&follow, &client, host_task).await?;
        let info: VmInfo = serde_json::from_value(finished.result.unwrap_or_default())
            .map_err(|e| ApiError::internal(format!("the host's answer: {e}")))?;
        record_in_folder(&c, &host.id, &folder, &info).await
    };
    let task = run.spawn(work, made.1, |_| done).await?;
    Ok((StatusCode::ACCEPTED, Json(task)))
}

/// Clones a powered-off VM, or deploys a template: a new VM with the
/// source's CPUs, memory, boot and port groups, and a full copy of its disk
/// (on the source's datastore unless another is given). The answer is the
/// running task; its result is the new VM's inventory object.
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/clone",
    tag = "vms",
    operation_id = "vm_clone",
    description = "Privilege: VirtualMachine.Provisioning.DeployTemplate on a template, or VirtualMachine.Provisioning.Clone on a VM; and what creating the new VM needs (see POST /api/vms).",
    security(("session" = [])),
    params(("vm" = String, Path, description = "The source VM or template: its object id, or its name if only one VM the caller may see has it"), Placement),
    request_body = VmClone,
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn clone(
    State(c): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Params(p): Params<Placement>,
    Body(req): Body<VmClone>,
) -> ApiResult<Accepted> {
    let source = vm_ref(&c, &caller, &key, VIEW).await?;
    let template = source.object.data["template"] == true;
    let privilege = if template {
        Privilege::VirtualMachineProvisioningDeployTemplate
    } else {
        Privilege::VirtualMachineProvisioningClone
    };
    authorize(&c, &caller, &source.object.id, privilege).await?;
    let info = hosts::client(&c.db, &source.host)
        .await?
        .vm(&source.vm_id)
        .await
        .map_err(from_host)?;
    // The host copies the disk under its lock, which a running QEMU holds;
    // this says why first.
    if info.power_state != PowerState::PoweredOff {
        return Err(ApiError::invalid_state(format!(
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
    };
    let from = info.name;
    let made = if template {
        (Operation::VmDeploy, EventKind::VmDeployed)
    } else {
        (Operation::VmClone, EventKind::VmCloned)
    };
    let done = move |name: &str, host: &str| match template {
        true => format!("Deployed {name} on {host} from template {from}"),
        false => format!("Cloned {from} to {name} on {host}"),
    };
    create_placed(c, caller, p, create, made, done).await
}

/// The VMs the caller may see, as their hosts describe them.
///
/// VMs of hosts that do not answer are left out; the inventory lists them all.
#[utoipa::path(
    get,
    path = "/api/vms",
    tag = "vms",
    operation_id = "vm_list",
    description = "Privilege: System.View on each VM listed (the others are left out). VMs of hosts that do not answer are left out; the inventory lists them all.",
    security(("session" = [])),
    responses((status = 200, description = "The VMs", body = [VmInfo]), Unauthorized)
)]
pub async fn list(State(c): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<VmInfo>>> {
    let objects = inventory::search(&c.db, Some(Kind::Vm), None).await?;
    let seen: Vec<VmRef> = visible(&c, &caller, objects)
        .await?
        .into_iter()
        .filter_map(|o| vms::as_vm(o).ok())
        .collect();
    let mut hosts: Vec<&str> = seen.iter().map(|v| v.host.as_str()).collect();
    hosts.sort();
    hosts.dedup();
    let mut out = vec![];
    for host in hosts {
        let Ok(listed) = hosts::client(&c.db, host).await?.vms().await else {
            continue;
        };
        out.extend(listed.into_iter().filter(|info| {
            seen.iter()
                .any(|v| v.host == host && v.vm_id == info.id.to_string())
        }));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(out))
}

/// A VM as its host describes it.
#[utoipa::path(
    get,
    path = "/api/vms/{vm}",
    tag = "vms",
    operation_id = "vm_info",
    description = "Privilege: System.View on the VM.",
    security(("session" = [])),
    params(("vm" = String, Path, description = "The VM's object id, or its name if only one VM the caller may see has it")),
    responses(
        (status = 200, description = "The VM", body = VmInfo),
        BadRequest, Unauthorized, NotFound, HostFailed,
    )
)]
pub async fn info(
    State(c): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<VmInfo>> {
    let vm = vm_ref(&c, &caller, &key, VIEW).await?;
    let client = hosts::client(&c.db, &vm.host).await?;
    Ok(Json(client.vm(&vm.vm_id).await.map_err(from_host)?))
}

/// Starts an operation on the VM's host and answers with the center's
/// task, which follows the host's and then records the VM's new state.
async fn operate(
    c: &AppState,
    caller: &Caller,
    vm: VmRef,
    operation: Operation,
    done: (EventKind, String),
    start: impl AsyncFnOnce(&Client) -> Result<Task, ClientError>,
) -> ApiResult<Accepted> {
    let client = hosts::client(&c.db, &vm.host).await?;
    let host_task = start(&client).await.map_err(from_host)?;
    let run = TaskRun::begin(c, caller, operation, (&vm.object.id, &vm.object.name)).await?;
    let (follow, c) = (run.clone(), c.clone());
    let work = async move {
        mirror(&follow, &client, host_task).await?;
        refresh(&c, &client, &vm).await
    };
    let (kind, message) = done;
    let task = run.spawn(work, kind, |_| message).await?;
    Ok((StatusCode::ACCEPTED, Json(task)))
}

/// Powers a VM on or off, resets it, or shuts its guest down.
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/power/{op}",
    tag = "vms",
    operation_id = "vm_power",
    description = "Privilege: VirtualMachine.Interact.PowerOn, PowerOff (also for a guest shutdown) or Reset on the VM.",
    security(("session" = [])),
    params(("vm" = String, Path, description = "The VM's object id, or its name if only one VM the caller may see has it"), ("op" = PowerOp, Path, description = "The operation")),
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn power(
    State(c): State<AppState>,
    caller: Caller,
    Path((key, op)): Path<(String, String)>,
) -> ApiResult<Accepted> {
    let op: PowerOp = op.parse().map_err(ApiError::bad_request)?;
    let (privilege, kind) = (op.privilege(), op.event());
    let verb = match op {
        PowerOp::On => "Powered on",
        PowerOp::Off => "Powered off",
        PowerOp::Shutdown => "Shut down the guest of",
        PowerOp::Reset => "Reset",
    };
    let vm = vm_ref(&c, &caller, &key, privilege).await?;
    if op == PowerOp::On && inventory::get(&c.db, &vm.host).await?.data["maintenance"] == true {
        return Err(ApiError::invalid_state(format!(
            "the host of {} is in maintenance mode",
            vm.object.name
        )));
    }
    let (id, name) = (vm.vm_id.clone(), vm.object.name.clone());
    let done = (kind, format!("{verb} {name}"));
    operate(&c, &caller, vm, op.operation(), done, async |h| {
        h.power(&id, op).await
    })
    .await
}

/// Changes a VM's CPUs, memory or NICs, or makes it a template or a VM again.
#[utoipa::path(
    patch,
    path = "/api/vms/{vm}",
    tag = "vms",
    operation_id = "vm_update",
    description = "Privilege: VirtualMachine.Config.CPUCount, VirtualMachine.Config.Memory, and for NICs VirtualMachine.Config.EditDevice on the VM plus Network.Assign on each network; to make it a template VirtualMachine.Provisioning.MarkAsTemplate, and a template a VM VirtualMachine.Provisioning.MarkAsVM.",
    security(("session" = [])),
    params(("vm" = String, Path, description = "The VM's object id, or its name if only one VM the caller may see has it")),
    request_body = VmUpdate,
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn update(
    State(c): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Body(req): Body<VmUpdate>,
) -> ApiResult<Accepted> {
    let vm = vm_ref(&c, &caller, &key, VIEW).await?;
    let mut needed = vec![];
    if req.cpus.is_some() {
        needed.push(Privilege::VirtualMachineConfigCPUCount);
    }
    if req.memory_mib.is_some() {
        needed.push(Privilege::VirtualMachineConfigMemory);
    }
    match req.template {
        Some(true) => needed.push(Privilege::VirtualMachineProvisioningMarkAsTemplate),
        Some(false) => needed.push(Privilege::VirtualMachineProvisioningMarkAsVM),
        None => {}
    }
    if let Some(nics) = &req.nics {
        needed.push(Privilege::VirtualMachineConfigEditDevice);
        let datacenter = inventory::datacenter_of(&c.db, &vm.object.id).await?;
        for n in nics {
            let net = vms::shared_object(&c.db, Kind::Network, &datacenter.id, &n.network).await?;
            authorize(&c, &caller, &net.id, Privilege::NetworkAssign).await?;
        }
    }
    for privilege in needed {
        authorize(&c, &caller, &vm.object.id, privilege).await?;
    }
    let id = vm.vm_id.clone();
    let name = vm.object.name.clone();
    // As the host's events say it: a conversion, or a reconfiguration.
    let only_template = req.cpus.is_none() && req.memory_mib.is_none() && req.nics.is_none();
    let (operation, done) = match req.template {
        Some(true) if only_template => (
            Operation::VmMarkAsTemplate,
            (
                EventKind::VmMarkedAsTemplate,
                format!("Marked {name} as a template"),
            ),
        ),
        Some(false) if only_template => (
            Operation::VmMarkAsVirtualMachine,
            (
                EventKind::VmMarkedAsVirtualMachine,
                format!("Marked {name} as a virtual machine"),
            ),
        ),
        _ => (
            Operation::VmReconfigure,
            (EventKind::VmReconfigured, format!("Reconfigured {name}")),
        ),
    };
    operate(&c, &caller, vm, operation, done, async |h| {
        h.update_vm(&id, &req).await
    })
    .await
}

/// Deletes a VM and its files.
#[utoipa::path(
    delete,
    path = "/api/vms/{vm}",
    tag = "vms",
    operation_id = "vm_delete",
    description = "Privilege: VirtualMachine.Inventory.Delete on the VM.",
    security(("session" = [])),
    params(("vm" = String, Path, description = "The VM's object id, or its name if only one VM the caller may see has it")),
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn delete(
    State(c): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Accepted> {
    let vm = vm_ref(&c, &caller, &key, Privilege::VirtualMachineInventoryDelete).await?;
    let (id, name) = (vm.vm_id.clone(), vm.object.name.clone());
    let done = (EventKind::VmRemoved, format!("Deleted VM {name}"));
    operate(&c, &caller, vm, Operation::VmDestroy, done, async |h| {
        h.delete_vm(&id).await
    })
    .await
}

/// Takes a powered-off VM out of the inventory and off its host, keeping
/// its files (vSphere's "Remove from Inventory"); `register` brings it back.
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/unregister",
    tag = "vms",
    operation_id = "vm_unregister",
    description = "Privilege: VirtualMachine.Inventory.Unregister on the VM.",
    security(("session" = [])),
    params(("vm" = String, Path, description = "The VM's object id, or its name if only one VM the caller may see has it")),
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn unregister(
    State(c): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Accepted> {
    let vm = vm_ref(
        &c,
        &caller,
        &key,
        Privilege::VirtualMachineInventoryUnregister,
    )
    .await?;
    let (id, name) = (vm.vm_id.clone(), vm.object.name.clone());
    let done = (
        EventKind::VmUnregistered,
        format!("Unregistered VM {name}; its files stay"),
    );
    operate(&c, &caller, vm, Operation::VmUnregister, done, async |h| {
        h.unregister_vm(&id).await
    })
    .await
}

/// Adds a VM from its folder on a datastore (vSphere's "Register VM"),
/// powered off, on a host (or the cluster's host with the most memory left
/// that sees the datastore), into a folder. The answer is its inventory
/// object.
#[utoipa::path(
    post,
    path = "/api/vms/register",
    tag = "vms",
    operation_id = "vm_register",
    description = "Privilege: VirtualMachine.Inventory.Register on the folder, Resource.AssignVMToPool on the host or cluster.",
    security(("session" = [])),
    params(Placement),
    request_body = VmRegister,
    responses(
        (status = 201, description = "The VM's inventory object", body = crate::inventory::InventoryObject),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn register(
    State(c): State<AppState>,
    caller: Caller,
    Params(p): Params<Placement>,
    Body(req): Body<VmRegister>,
) -> ApiResult<(StatusCode, Json<Object>)> {
    let (target, datacenter, folder) = p
        .resolve(&c, &caller, Privilege::VirtualMachineInventoryRegister)
        .await?;
    // The host checks the VM's port groups once it has read its folder.
    let needs = vms::Needs {
        datacenter: &datacenter.id,
        datastore: &req.datastore,
        networks: &[],
        memory_mib: 0,
    };
    let host = vms::place(&c.db, &target, &needs).await?;
    let client = hosts::client(&c.db, &host.id).await?;
    let info = client.register_vm(&req).await.map_err(from_host)?;
    let obj = record_in_folder(&c, &host.id, &folder, &info).await?;
    crate::journal::event(
        &c.db,
        EventKind::VmRegistered,
        hierro_api::Severity::Info,
        &obj.id,
        &obj.name,
        &caller.user,
        &format!(
            "Registered VM {} from [{}] {} on {}",
            obj.name, req.datastore, req.folder, host.name
        ),
        None,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(obj)))
}

/// A VM's snapshots.
#[utoipa::path(
    get,
    path = "/api/vms/{vm}/snapshots",
    tag = "vms",
    operation_id = "vm_snapshots",
    description = "Privilege: System.View on the VM.",
    security(("session" = [])),
    params(("vm" = String, Path, description = "The VM's object id, or its name if only one VM the caller may see has it")),
    responses(
        (status = 200, description = "The snapshots", body = [Snapshot]),
        BadRequest, Unauthorized, NotFound, HostFailed,
    )
)]
pub async fn snapshots(
    State(c): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<Snapshot>>> {
    let vm = vm_ref(&c, &caller, &key, VIEW).await?;
    let client = hosts::client(&c.db, &vm.host).await?;
    Ok(Json(client.snapshots(&vm.vm_id).await.map_err(from_host)?))
}

/// Takes a snapshot (with the memory when the VM runs).
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/snapshots",
    tag = "vms",
    operation_id = "vm_snapshot_create",
    description = "Privilege: VirtualMachine.State.CreateSnapshot on the VM.",
    security(("session" = [])),
    params(("vm" = String, Path, description = "The VM's object id, or its name if only one VM the caller may see has it")),
    request_body = SnapshotCreate,
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn snapshot_create(
    State(c): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Body(req): Body<SnapshotCreate>,
) -> ApiResult<Accepted> {
    let vm = vm_ref(
        &c,
        &caller,
        &key,
        Privilege::VirtualMachineStateCreateSnapshot,
    )
    .await?;
    let id = vm.vm_id.clone();
    let done = (
        EventKind::VmSnapshotCreated,
        format!("Took snapshot {} of {}", req.name, vm.object.name),
    );
    operate(
        &c,
        &caller,
        vm,
        Operation::VmCreateSnapshot,
        done,
        async |h| h.snapshot_create(&id, &req).await,
    )
    .await
}

/// Reverts a VM to a snapshot.
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/snapshots/{name}/revert",
    tag = "vms",
    operation_id = "vm_snapshot_revert",
    description = "Privilege: VirtualMachine.State.RevertToSnapshot on the VM.",
    security(("session" = [])),
    params(("vm" = String, Path, description = "The VM's object id, or its name if only one VM the caller may see has it"), ("name" = String, Path, description = "The snapshot's name")),
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn snapshot_revert(
    State(c): State<AppState>,
    caller: Caller,
    Path((key, snapshot)): Path<(String, String)>,
) -> ApiResult<Accepted> {
    let vm = vm_ref(
        &c,
        &caller,
        &key,
        Privilege::VirtualMachineStateRevertToSnapshot,
    )
    .await?;
    let id = vm.vm_id.clone();
    let done = (
        EventKind::VmRevertedToSnapshot,
        format!("Reverted {} to snapshot {snapshot}", vm.object.name),
    );
    operate(
        &c,
        &caller,
        vm,
        Operation::VmRevertToSnapshot,
        done,
        async |h| h.snapshot_revert(&id, &snapshot).await,
    )
    .await
}

/// Deletes a snapshot.
#[utoipa::path(
    delete,
    path = "/api/vms/{vm}/snapshots/{name}",
    tag = "vms",
    operation_id = "vm_snapshot_delete",
    description = "Privilege: VirtualMachine.State.RemoveSnapshot on the VM.",
    security(("session" = [])),
    params(("vm" = String, Path, description = "The VM's object id, or its name if only one VM the caller may see has it"), ("name" = String, Path, description = "The snapshot's name")),
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn snapshot_delete(
    State(c): State<AppState>,
    caller: Caller,
    Path((key, snapshot)): Path<(String, String)>,
) -> ApiResult<Accepted> {
    let vm = vm_ref(
        &c,
        &caller,
        &key,
        Privilege::VirtualMachineStateRemoveSnapshot,
    )
    .await?;
    let id = vm.vm_id.clone();
    let done = (
        EventKind::VmSnapshotRemoved,
        format!("Removed snapshot {snapshot} of {}", vm.object.name),
    );
    operate(
        &c,
        &caller,
        vm,
        Operation::VmRemoveSnapshot,
        done,
        async |h| h.snapshot_delete(&id, &snapshot).await,
    )
    .await
}

/// The VM's serial console: the host's console WebSocket, relayed.
#[utoipa::path(
    get,
    path = "/api/vms/{vm}/console",
    tag = "vms",
    operation_id = "vm_console",
    description = "Privilege: VirtualMachine.Interact.ConsoleInteract on the VM.\n\nA WebSocket (send the upgrade headers): binary frames carry the console's bytes both ways. Browsers, which cannot set headers on a WebSocket, may give the session as the `session` query parameter instead.",
    security(("session" = [])),
    params(("vm" = String, Path, description = "The VM's object id, or its name if only one VM the caller may see has it")),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol"),
        BadRequest, Unauthorized, Forbidden, NotFound, HostFailed,
    )
)]
pub async fn console(
    State(c): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    let vm = vm_ref(
        &c,
        &caller,
        &key,
        Privilege::VirtualMachineInteractConsoleInteract,
    )
    .await?;
    let client = hosts::client(&c.db, &vm.host).await?;
    // Connected before the upgrade, so that a refusal is a clear answer.
    let host = client.console(&vm.vm_id).await.map_err(from_host)?;
    Ok(ws.on_upgrade(move |socket| relay(socket, host)))
}

async fn relay<S>(socket: WebSocket, host: tokio_tungstenite::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut to_user, mut from_user) = socket.split();
    let (mut to_host, mut from_host) = host.split();
    let down = async {
        while let Some(Ok(msg)) = from_host.next().await {
            let msg = match msg {
                HostMessage::Binary(b) => Message::Binary(b),
                HostMessage::Text(t) => Message::Text(t.as_str().into()),
                HostMessage::Close(_) => return,
                _ => continue,
            };
            if to_user.send(msg).await.is_err() {
                return;
            }
        }
    };
    let up = async {
        while let Some(Ok(msg)) = from_user.next().await {
            let msg = match msg {
                Message::Binary(b) => HostMessage::Binary(b),
                Message::Text(t) => HostMessage::Text(t.as_str().into()),
                Message::Close(_) => return,
                _ => continue,
            };
            if to_host.send(msg).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = down => {}
        _ = up => {}
    }
}

/// A move checked and ready to start: a vMotion if the VM runs, else a
/// cold migration.
pub(super) struct Move {
    vm: VmRef,
    /// The VM runs: a vMotion, not a cold migration.
    pub(super) live: bool,
    info: VmInfo,
    from: Object,
    to: Object,
    source: Client,
    destination: Client,
}

/// Everything that can be checked before anything moves: the destination
/// is another connected host (not in maintenance mode) that sees the
/// datastore and has the port groups; for a running VM also the memory and
/// a compatible CPU.
pub(super) async fn check_move(c: &AppState, vm: VmRef, to: Object) -> ApiResult<Move> {
    if to.kind != Kind::Host {
        return Err(ApiError::bad_request(format!("{} is not a host", to.name)));
    }
    if to.id == vm.host {
        return Err(ApiError::bad_request(format!(
            "{} runs on {} already",
            vm.object.name, to.name
        )));
    }
    let source = hosts::client(&c.db, &vm.host).await?;
    let info = source.vm(&vm.vm_id).await.map_err(from_host)?;
    let live = info.power_state == PowerState::PoweredOn;
    let datacenter = inventory::datacenter_of(&c.db, &vm.object.id).await?;
    let mut networks: Vec<String> = info.config.nics.iter().map(|n| n.network.clone()).collect();
    networks.sort();
    networks.dedup();
    let needs = vms::Needs {
        datacenter: &datacenter.id,
        datastore: &info.datastore,
        networks: &networks,
        // A powered-off VM takes its memory only when it is powered on.
        memory_mib: if live { info.config.memory_mib } else { 0 },
    };
    if let Err(why) = vms::fit(&c.db, &to, &needs).await? {
        return Err(ApiError::invalid_state(format!(
            "cannot migrate {}: {why}",
            vm.object.name
        )));
    }
    let from = inventory::get(&c.db, &vm.host).await?;
    // A powered-off VM boots afresh on the CPU it finds.
    let cpu = if live {
        vms::cpu_compatible(&from, &to)
    } else {
        Ok(())
    };
    if let Err(why) = cpu {
        return Err(ApiError::invalid_state(format!(
            "cannot migrate {}: {why}",
            vm.object.name
        )));
    }
    let destination = hosts::client(&c.db, &to.id).await?;
    Ok(Move {
        vm,
        live,
        info,
        from,
        to,
        source,
        destination,
    })
}

impl Move {
    /// Has the destination get ready and the source start sending; the
    /// VM's object is kept through the move (see `migrations`).
    pub(super) async fn start(
        &self,
        c: &AppState,
        limits: &VmMigrate,
    ) -> ApiResult<(IncomingReady, Task)> {
        crate::migrations::begin(&c.db, &self.vm.object.id, &self.from.id, &self.to.id).await?;
        let started = async {
            let folder = hierro_api::DatastorePath::parse(&self.info.folder)
                .map_err(ApiError::internal)?
                .path;
            let ready = self
                .destination
                .migrate_incoming(&IncomingMigration {
                    vm: self.info.id,
                    datastore: self.info.datastore.clone(),
                    folder,
                })
                .await
                .map_err(from_host)?;
            let send = MigrateRequest {
                uri: ready.uri.clone(),
                frames: ready.frames.clone(),
                downtime_ms: limits.downtime_ms,
                auto_converge: limits.auto_converge,
                max_bandwidth_mib: limits.max_bandwidth_mib,
            };
            let task = self
                .source
                .migrate(&self.vm.vm_id, &send)
                .await
                .map_err(from_host)?;
            Ok::<_, ApiError>((ready, task))
        }
        .await;
        if started.is_err() {
            crate::migrations::end(&c.db, &self.vm.object.id).await?;
        }
        started
    }

    /// Follows the source's pre-copy (its progress into `follow`) until the
    /// VM runs on the destination, and records where it is. `cancel` stops
    /// the pre-copy: the VM goes on running on the source.
    pub(super) async fn finish(
        self,
        c: &AppState,
        (ready, sending): (IncomingReady, Task),
        follow: &TaskRun,
        cancel: &CancellationToken,
    ) -> ApiResult<MigrationStats> {
        let outcome = async {
            let id = sending.id;
            let sent = tokio::select! {
                sent = mirror(follow, &self.source, sending.clone()) => sent,
                _ = cancel.cancelled() => {
                    // Refused only when the host task has just ended: then
                    // the switchover came first and the move stands.
                    let _ = self.source.cancel_task(id).await;
                    mirror(follow, &self.source, sending).await
                }
            };
            let sent = match sent {
                Err(e) if e.info.code == ErrorCode::Cancelled => return Err(follow.cancelled()),
                other => other?,
            };
            // The destination's task ends when the VM runs there.
            let arriving = self.destination.task(ready.task).await.map_err(from_host)?;
            self.destination
                .wait(&arriving, |_| {})
                .await
                .map_err(from_host)?;
            let moved = self
                .destination
                .vm(&self.vm.vm_id)
                .await
                .map_err(from_host)?;
            let parent = self.vm.object.parent.clone().unwrap_or_default();
            host_sync::record_vm(&c.db, &self.to.id, &parent, &moved).await?;
            Ok::<_, ApiError>(
                serde_json::from_value(sent.result.unwrap_or_default()).unwrap_or_default(),
            )
        }
        .await;
        if outcome.is_err() {
            // It still runs on the source: say so before the destination's
            // "gone" can arrive unguarded.
            let _ = refresh(c, &self.source, &self.vm).await;
        }
        crate::migrations::end(&c.db, &self.vm.object.id).await?;
        outcome
    }

    /// A cold migration: the destination registers the powered-off VM from
    /// its folder, then the source unregisters it. If the destination
    /// refuses, nothing has changed; if the source cannot let it go, the
    /// destination unregisters it again.
    pub(super) async fn relocate(self, c: &AppState) -> ApiResult<()> {
        crate::migrations::begin(&c.db, &self.vm.object.id, &self.from.id, &self.to.id).await?;
        let outcome = async {
            let folder = hierro_api::DatastorePath::parse(&self.info.folder)
                .map_err(ApiError::internal)?
                .path;
            let register = VmRegister {
                datastore: self.info.datastore.clone(),
                folder,
            };
            // Registered on the destination first: if anything stops the
            // move halfway (this center killed, say), the VM is on two
            // hosts, never on none. The folder's lease keeps it from
            // running on both.
            let moved = self
                .destination
                .register_vm(&register)
                .await
                .map_err(from_host)?;
            let left = self
                .source
                .run(self.source.unregister_vm(&self.vm.vm_id).await)
                .await;
            if let Err(e) = left {
                // It stays (it was powered on meanwhile, say): the
                // destination lets it go again.
                let e = from_host(e);
                let id = moved.id.to_string();
                let back = self.destination.unregister_vm(&id).await;
                if let Err(back) = self.destination.run(back).await {
                    return Err(ApiError::backend(format!(
                        "{}; unregistering {} on {} failed too: {back}",
                        e.info.message, self.vm.object.name, self.to.name
                    )));
                }
                return Err(e);
            }
            let parent = self.vm.object.parent.clone().unwrap_or_default();
            let (to, object) = (&self.to.id, &self.vm.object.id);
            host_sync::record_cold_arrival(&c.db, to, &parent, object, &moved).await?;
            Ok(())
        }
        .await;
        crate::migrations::end(&c.db, &self.vm.object.id).await?;
        outcome
    }

    /// The event text of a finished move.
    pub(super) fn summary(&self) -> String {
        format!(
            "Migrated {}{} from {} to {}",
            self.vm.object.name,
            if self.live { "" } else { " (powered off)" },
            self.from.name,
            self.to.name
        )
    }
}

/// What moving a VM needs: vMotion for a running VM, cold migration for a
/// powered-off one (as vSphere's privileges).
pub(super) fn move_privilege(live: bool) -> Privilege {
    if live {
        Privilege::ResourceHotMigrate
    } else {
        Privilege::ResourceColdMigrate
    }
}

pub(super) fn stats_text(summary: &str, s: &MigrationStats) -> String {
    format!("{summary}: {s}")
}

/// Moves a VM to another host of the datacenter that sees its datastore
/// and has its port groups: a running VM by vMotion, a powered-off one by
/// cold migration. The center checks, then for vMotion has the destination
/// get ready and the source send; the answer is a task that follows the
/// source's pre-copy and ends with the VM running on the destination (its
/// result: downtime, total time, bytes, passes). A cold migration
/// unregisters the VM on the source and registers it on the destination.
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/migrate",
    tag = "vms",
    operation_id = "vm_migrate",
    description = "Privilege: Resource.HotMigrate (running VM) or Resource.ColdMigrate (powered off) on the VM, and Resource.AssignVMToPool on the destination host.",
    security(("session" = [])),
    params(("vm" = String, Path, description = "The VM's object id, or its name if only one VM the caller may see has it")),
    request_body = VmMigrate,
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn migrate(
    State(c): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Body(req): Body<VmMigrate>,
) -> ApiResult<Accepted> {
    hierro_api::check_limits(req.downtime_ms, req.max_bandwidth_mib)
        .map_err(ApiError::bad_request)?;
    let vm = vm_ref(&c, &caller, &key, Privilege::SystemView).await?;
    let running = vm.object.data["power_state"] == "poweredOn";
    authorize(&c, &caller, &vm.object.id, move_privilege(running)).await?;
    authorize(&c, &caller, &req.host, Privilege::ResourceAssignVMToPool).await?;
    let to = inventory::get(&c.db, &req.host).await?;
    let m = check_move(&c, vm, to).await?;
    if m.live != running {
        // The inventory was behind the host.
        authorize(&c, &caller, &m.vm.object.id, move_privilege(m.live)).await?;
    }
    let (id, name) = (m.vm.object.id.clone(), m.vm.object.name.clone());
    let summary = m.summary();
    if !m.live {
        let run = TaskRun::begin(&c, &caller, Operation::VmMigrate, (&id, &name)).await?;
        let work = async move { m.relocate(&c).await };
        let task = run
            .spawn(work, EventKind::VmMigrated, move |()| summary)
            .await?;
        return Ok((StatusCode::ACCEPTED, Json(task)));
    }
    let started = m.start(&c, &req).await?;
    let run = TaskRun::begin(&c, &caller, Operation::VmMigrate, (&id, &name)).await?;
    let (follow, c, cancel) = (run.clone(), c.clone(), run.cancellation());
    let work = async move { m.finish(&c, started, &follow, &cancel).await };
    let task = run
        .spawn(work, EventKind::VmMigrated, move |stats| {
            stats_text(&summary, stats)
        })
        .await?;
    Ok((StatusCode::ACCEPTED, Json(task)))
}

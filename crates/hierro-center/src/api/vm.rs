//! VMs through the center, with the host API's paths and shapes so that the
//! same client verbs work against either: create (placed on a host or a
//! cluster), clone, power, snapshots, migrate, delete, info. Each handler
//! parses, authorizes what the call names, and calls one operation of the
//! application layer (`ops`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hierro_api::{
    Placement, PowerOp, Privilege, Snapshot, SnapshotCreate, SnapshotKey, Task, VmClone, VmCreate,
    VmInfo, VmKey, VmMigrate, VmRegister, VmUpdate,
};
use hierro_http::{ApiError, ApiResult, Body, Params};

use super::privileges::{needs, note, on, Access};
use super::{
    authorize, vm_ref, AppState, BadRequest, Caller, Conflict, FailStep, Forbidden, HostFailed,
    NotFound, Unauthorized,
};
use crate::authz::VIEW;
use crate::inventory::{self, InventoryObject, ObjectKind};
use crate::ops::vm::SnapshotOp;
use crate::ops::{self, migrate, provision};
use crate::vms;
use hierro_api::Privilege as P;

/// What each operation of this file needs (the document's "Privilege:" lines).
pub(super) const ACCESS: &[(&str, Access)] = &[
    ("vm_create", CREATE),
    (
        "vm_clone",
        note(
            "and what creating the new VM needs (see POST /api/vms)",
            &[
                on(P::VirtualMachineProvisioningDeployTemplate, "the source").when("a template"),
                on(P::VirtualMachineProvisioningClone, "the source").when("a VM"),
            ],
        ),
    ),
    (
        "vm_list",
        note(
            "the others are left out, and those of hosts that do not answer (the inventory lists them all)",
            &[on(P::SystemView, "each VM listed")],
        ),
    ),
    ("vm_info", needs(&[on(P::SystemView, "the VM")])),
    (
        "vm_power",
        needs(&[
            on(P::VirtualMachineInteractPowerOn, "the VM").when("on"),
            on(P::VirtualMachineInteractPowerOff, "the VM").when("off, shutdown"),
            on(P::VirtualMachineInteractReset, "the VM").when("reset"),
        ]),
    ),
    (
        "vm_update",
        needs(&[
            on(P::VirtualMachineConfigCPUCount, "the VM").when("CPUs"),
            on(P::VirtualMachineConfigMemory, "the VM").when("memory"),
            on(P::VirtualMachineConfigEditDevice, "the VM").when("NICs, the display, adding or removing CD-ROM drives"),
            on(P::VirtualMachineInteractSetCDMedia, "the VM").when("CD-ROM drives"),
            on(P::VirtualMachineConfigSettings, "the VM").when("the boot order, the guest OS type"),
            on(P::NetworkAssign, "each network").when("NICs"),
            on(P::VirtualMachineProvisioningMarkAsTemplate, "the VM").when("to make it a template"),
            on(P::VirtualMachineProvisioningMarkAsVM, "the template").when("to make it a VM"),
        ]),
    ),
    ("vm_delete", needs(&[on(P::VirtualMachineInventoryDelete, "the VM")])),
    ("vm_unregister", needs(&[on(P::VirtualMachineInventoryUnregister, "the VM")])),
    (
        "vm_register",
        needs(&[
            on(P::VirtualMachineInventoryRegister, "the folder"),
            on(P::ResourceAssignVMToPool, "the host or cluster"),
        ]),
    ),
    ("vm_snapshots", needs(&[on(P::SystemView, "the VM")])),
    ("vm_snapshot_create", needs(&[on(P::VirtualMachineStateCreateSnapshot, "the VM")])),
    ("vm_snapshot_revert", needs(&[on(P::VirtualMachineStateRevertToSnapshot, "the VM")])),
    ("vm_snapshot_delete", needs(&[on(P::VirtualMachineStateRemoveSnapshot, "the VM")])),
    (
        "vm_migrate",
        needs(&[
            on(P::ResourceHotMigrate, "the VM").when("running"),
            on(P::ResourceColdMigrate, "the VM").when("powered off"),
            on(P::ResourceAssignVMToPool, "the destination host"),
        ]),
    ),
];

/// What creating a VM needs.
const CREATE: Access = needs(&[
    on(P::VirtualMachineInventoryCreate, "the folder"),
    on(P::ResourceAssignVMToPool, "the host or cluster"),
    on(P::DatastoreAllocateSpace, "the datastore"),
    on(P::NetworkAssign, "each network"),
]);

type Accepted = (StatusCode, Json<Task>);

fn accepted(task: Task) -> ApiResult<Accepted> {
    Ok((StatusCode::ACCEPTED, Json(task)))
}

/// Where `p` says a new VM goes, once the caller may put it there.
async fn resolve(
    c: &AppState,
    caller: &Caller,
    p: &Placement,
    privilege: Privilege,
) -> ApiResult<provision::Placed> {
    let (placement, folder) = (p.placement.as_str(), p.folder.as_deref());
    Ok(provision::resolve(c, caller, placement, folder, privilege).await?)
}

/// Creates a VM on a host, or on the host of a cluster with the most free
/// memory that has the datastore and the networks. The answer is the
/// running task; its result is the VM's inventory object.
#[utoipa::path(
    post,
    path = "/api/vms",
    tag = "vms",
    operation_id = "vm_create",
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
    fail: FailStep,
    Params(p): Params<Placement>,
    Body(req): Body<VmCreate>,
) -> ApiResult<Accepted> {
    let placed = resolve(&c, &caller, &p, Privilege::VirtualMachineInventoryCreate).await?;
    let origin = provision::Origin::Created;
    accepted(provision::create(&c, &caller, placed, req, origin, fail.0).await?)
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
    fail: FailStep,
    Path(VmKey { vm: key }): Path<VmKey>,
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
    let (create, origin) = provision::clone_of(&c, &source, req, template).await?;
    let placed = resolve(&c, &caller, &p, Privilege::VirtualMachineInventoryCreate).await?;
    accepted(provision::create(&c, &caller, placed, create, origin, fail.0).await?)
}

/// The VMs the caller may see, as their hosts describe them.
///
/// VMs of hosts that do not answer are left out; the inventory lists them all.
#[utoipa::path(
    get,
    path = "/api/vms",
    tag = "vms",
    operation_id = "vm_list",
    security(("session" = [])),
    responses((status = 200, description = "The VMs", body = [VmInfo]), Unauthorized)
)]
pub async fn list(State(c): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<VmInfo>>> {
    Ok(Json(ops::vm::list(&c, &caller).await?))
}

/// A VM as its host describes it.
#[utoipa::path(
    get,
    path = "/api/vms/{vm}",
    tag = "vms",
    operation_id = "vm_info",
    security(("session" = [])),
    params(VmKey),
    responses(
        (status = 200, description = "The VM", body = VmInfo),
        BadRequest, Unauthorized, NotFound, HostFailed,
    )
)]
pub async fn info(
    State(c): State<AppState>,
    caller: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
) -> ApiResult<Json<VmInfo>> {
    let vm = vm_ref(&c, &caller, &key, VIEW).await?;
    Ok(Json(ops::vm::info(&c, &vm).await?))
}

/// Powers a VM on or off, resets it, or shuts its guest down.
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/power/{op}",
    tag = "vms",
    operation_id = "vm_power",
    security(("session" = [])),
    params(VmKey, ("op" = PowerOp, Path, description = "The operation")),
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
    let vm = vm_ref(&c, &caller, &key, op.privilege()).await?;
    accepted(ops::vm::power(&c, &caller, vm, op).await?)
}

/// Changes a VM's CPUs, memory or NICs, or makes it a template or a VM again.
#[utoipa::path(
    patch,
    path = "/api/vms/{vm}",
    tag = "vms",
    operation_id = "vm_update",
    security(("session" = [])),
    params(VmKey),
    request_body = VmUpdate,
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn update(
    State(c): State<AppState>,
    caller: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
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
    if let Some(cdroms) = &req.cdroms {
        needed.push(Privilege::VirtualMachineInteractSetCDMedia);
        if vm.object.data["cdroms"].as_u64() != Some(cdroms.len() as u64) {
            needed.push(Privilege::VirtualMachineConfigEditDevice);
        }
    }
    if req.display.is_some() {
        needed.push(Privilege::VirtualMachineConfigEditDevice);
    }
    if req.boot_order.is_some() || req.boot_once.is_some() || req.guest_os.is_some() {
        needed.push(Privilege::VirtualMachineConfigSettings);
    }
    if let Some(nics) = &req.nics {
        needed.push(Privilege::VirtualMachineConfigEditDevice);
        let datacenter = inventory::datacenter_of(&c.db, &vm.object.id).await?;
        for n in nics {
            let net =
                vms::shared_object(&c.db, ObjectKind::Network, &datacenter.id, &n.network).await?;
            authorize(&c, &caller, &net.id, Privilege::NetworkAssign).await?;
        }
    }
    for privilege in needed {
        authorize(&c, &caller, &vm.object.id, privilege).await?;
    }
    accepted(ops::vm::update(&c, &caller, vm, req).await?)
}

/// Deletes a VM and its files.
#[utoipa::path(
    delete,
    path = "/api/vms/{vm}",
    tag = "vms",
    operation_id = "vm_delete",
    security(("session" = [])),
    params(VmKey),
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn delete(
    State(c): State<AppState>,
    caller: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
) -> ApiResult<Accepted> {
    let vm = vm_ref(&c, &caller, &key, Privilege::VirtualMachineInventoryDelete).await?;
    accepted(ops::vm::delete(&c, &caller, vm).await?)
}

/// Takes a powered-off VM out of the inventory and off its host, keeping
/// its files (vSphere's "Remove from Inventory"); `register` brings it back.
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/unregister",
    tag = "vms",
    operation_id = "vm_unregister",
    security(("session" = [])),
    params(VmKey),
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn unregister(
    State(c): State<AppState>,
    caller: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
) -> ApiResult<Accepted> {
    let vm = vm_ref(
        &c,
        &caller,
        &key,
        Privilege::VirtualMachineInventoryUnregister,
    )
    .await?;
    accepted(ops::vm::unregister(&c, &caller, vm).await?)
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
) -> ApiResult<(StatusCode, Json<InventoryObject>)> {
    let placed = resolve(&c, &caller, &p, Privilege::VirtualMachineInventoryRegister).await?;
    let obj = provision::register(&c, &caller, placed, req).await?;
    Ok((StatusCode::CREATED, Json(obj)))
}

/// A VM's snapshots.
#[utoipa::path(
    get,
    path = "/api/vms/{vm}/snapshots",
    tag = "vms",
    operation_id = "vm_snapshots",
    security(("session" = [])),
    params(VmKey),
    responses(
        (status = 200, description = "The snapshots", body = [Snapshot]),
        BadRequest, Unauthorized, NotFound, HostFailed,
    )
)]
pub async fn snapshots(
    State(c): State<AppState>,
    caller: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
) -> ApiResult<Json<Vec<Snapshot>>> {
    let vm = vm_ref(&c, &caller, &key, VIEW).await?;
    Ok(Json(ops::vm::snapshots(&c, &vm).await?))
}

/// Takes a snapshot (with the memory when the VM runs).
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/snapshots",
    tag = "vms",
    operation_id = "vm_snapshot_create",
    security(("session" = [])),
    params(VmKey),
    request_body = SnapshotCreate,
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn snapshot_create(
    State(c): State<AppState>,
    caller: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
    Body(req): Body<SnapshotCreate>,
) -> ApiResult<Accepted> {
    on_snapshot(&c, &caller, &key, SnapshotOp::Create(req)).await
}

/// Reverts a VM to a snapshot.
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/snapshots/{name}/revert",
    tag = "vms",
    operation_id = "vm_snapshot_revert",
    security(("session" = [])),
    params(SnapshotKey),
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn snapshot_revert(
    State(c): State<AppState>,
    caller: Caller,
    Path(SnapshotKey {
        vm: key,
        name: snapshot,
    }): Path<SnapshotKey>,
) -> ApiResult<Accepted> {
    on_snapshot(&c, &caller, &key, SnapshotOp::Revert(snapshot)).await
}

/// Deletes a snapshot.
#[utoipa::path(
    delete,
    path = "/api/vms/{vm}/snapshots/{name}",
    tag = "vms",
    operation_id = "vm_snapshot_delete",
    security(("session" = [])),
    params(SnapshotKey),
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn snapshot_delete(
    State(c): State<AppState>,
    caller: Caller,
    Path(SnapshotKey {
        vm: key,
        name: snapshot,
    }): Path<SnapshotKey>,
) -> ApiResult<Accepted> {
    on_snapshot(&c, &caller, &key, SnapshotOp::Remove(snapshot)).await
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
    security(("session" = [])),
    params(VmKey),
    request_body = VmMigrate,
    responses(
        (status = 202, description = "The task, running", body = Task),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed,
    )
)]
pub async fn migrate(
    State(c): State<AppState>,
    caller: Caller,
    fail: FailStep,
    Path(VmKey { vm: key }): Path<VmKey>,
    Body(req): Body<VmMigrate>,
) -> ApiResult<Accepted> {
    hierro_api::check_limits(req.downtime_ms, req.max_bandwidth_mib)
        .map_err(ApiError::bad_request)?;
    let vm = vm_ref(&c, &caller, &key, VIEW).await?;
    let running = vm.object.data["power_state"] == "poweredOn";
    authorize(&c, &caller, &vm.object.id, migrate::privilege(running)).await?;
    authorize(&c, &caller, &req.host, Privilege::ResourceAssignVMToPool).await?;
    let to = inventory::get(&c.db, &req.host).await?;
    let m = migrate::plan(&c, vm, to, req).await?;
    if m.live() != running {
        // The inventory was behind the host.
        authorize(&c, &caller, &m.vm().object.id, migrate::privilege(m.live())).await?;
    }
    accepted(migrate::start(&c, &caller, m, fail.0).await?)
}

/// A snapshot operation, once the caller may do it on the VM.
async fn on_snapshot(
    c: &AppState,
    caller: &Caller,
    key: &str,
    op: SnapshotOp,
) -> ApiResult<Accepted> {
    let vm = vm_ref(c, caller, key, op.privilege()).await?;
    accepted(ops::vm::snapshot(c, caller, vm, op).await?)
}

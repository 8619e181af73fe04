use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hierro_api::EventKind;
use hierro_api::Operation;
use hierro_api::{
    IncomingMigration, IncomingReady, MigrateRequest, PowerOp, PowerState, Snapshot,
    SnapshotCreate, SnapshotKey, Task, VmCreate, VmInfo, VmKey, VmRegister, VmUpdate,
};

use super::{AppState, BadRequest, Body, Caller, Conflict, NotFound, Unauthorized};
use crate::vm::{self, VmCommand};
use hierro_http::{ApiError, ApiResult};

type Accepted = (StatusCode, Json<Task>);

#[utoipa::path(
    get,
    path = "/api/vms",
    tag = "vms",
    operation_id = "vm_list",
    description = "The VMs registered on this host.",
    security(("session" = [])),
    responses((status = 200, description = "The VMs", body = [VmInfo]), Unauthorized)
)]
pub async fn list(State(host): State<AppState>, _c: Caller) -> Json<Vec<VmInfo>> {
    let mut out = Vec::new();
    for vm in host.vms.list() {
        out.push(vm.info(false).await);
    }
    Json(out)
}

#[utoipa::path(
    get,
    path = "/api/vms/{vm}",
    tag = "vms",
    operation_id = "vm_info",
    description = "One VM, with what its guest agent says while it runs.",
    security(("session" = [])),
    params(VmKey),
    responses((status = 200, description = "The VM", body = VmInfo), Unauthorized, NotFound)
)]
pub async fn info(
    State(host): State<AppState>,
    _c: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
) -> ApiResult<Json<VmInfo>> {
    Ok(Json(host.vms.find(&key)?.info(true).await))
}

#[utoipa::path(
    post,
    path = "/api/vms",
    tag = "vms",
    operation_id = "vm_create",
    description = "Creates a VM: its folder on the datastore, its disk (empty or a linked clone) and its configuration.",
    security(("session" = [])),
    request_body = VmCreate,
    responses((status = 202, description = "The task, running", body = Task), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn create(
    State(host): State<AppState>,
    c: Caller,
    Body(req): Body<VmCreate>,
) -> ApiResult<Accepted> {
    let task = vm::create(&host, req, &c.user).await?;
    Ok((StatusCode::ACCEPTED, Json(task)))
}

/// Checks the state now for a clear, immediate error; the actor checks again
/// when the command runs, since a queued command may find another state.
fn precheck(state: PowerState, wanted: PowerState, what: &str, name: &str) -> ApiResult<()> {
    Ok(crate::error::require(name, state, wanted, what)?)
}

fn submit(
    host: &AppState,
    vm: &vm::Vm,
    command: VmCommand,
    operation: Operation,
    user: &str,
) -> Accepted {
    let task = host.journal.task(operation, &vm.target(), user);
    let snapshot = task.snapshot();
    vm.submit(command, task);
    (StatusCode::ACCEPTED, Json(snapshot))
}

#[utoipa::path(
    post,
    path = "/api/vms/{vm}/power/{op}",
    tag = "vms",
    operation_id = "vm_power",
    description = "Powers the VM on or off, resets it, or asks its guest to shut down.",
    security(("session" = [])),
    params(VmKey, ("op" = PowerOp, Path, description = "What to do")),
    responses((status = 202, description = "The task, running", body = Task), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn power(
    State(host): State<AppState>,
    c: Caller,
    Path((key, op)): Path<(String, String)>,
) -> ApiResult<Accepted> {
    let vm = host.vms.find(&key)?;
    let op: PowerOp = op.parse().map_err(ApiError::bad_request)?;
    let (wanted, operation) = (op.valid_in(), op.operation());
    precheck(
        vm.power(),
        wanted,
        &format!("power {}", op.as_str()),
        &vm.name(),
    )?;
    if op == PowerOp::On {
        vm.refuse_disk_change(&host, "power on")?;
    }
    Ok(submit(&host, &vm, VmCommand::Power(op), operation, &c.user))
}

#[utoipa::path(
    patch,
    path = "/api/vms/{vm}",
    tag = "vms",
    operation_id = "vm_update",
    description = "Renames the VM or changes its hardware: CPUs, memory and adapters while it is off, an adapter's port group at any time.",
    security(("session" = [])),
    params(VmKey),
    request_body = VmUpdate,
    responses((status = 202, description = "The task, running", body = Task), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn update(
    State(host): State<AppState>,
    c: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
    Body(update): Body<VmUpdate>,
) -> ApiResult<Accepted> {
    let vm = host.vms.find(&key)?;
    // Checked now for an immediate answer; the actor checks again.
    vm::spec::validate_update(
        &host,
        &vm.config(),
        &update,
        vm.power() == PowerState::PoweredOn,
    )?;
    Ok(submit(
        &host,
        &vm,
        VmCommand::Reconfigure(update),
        Operation::VmReconfigure,
        &c.user,
    ))
}

#[utoipa::path(
    delete,
    path = "/api/vms/{vm}",
    tag = "vms",
    operation_id = "vm_delete",
    description = "Deletes a powered-off VM and its files.",
    security(("session" = [])),
    params(VmKey),
    responses((status = 202, description = "The task, running", body = Task), Unauthorized, NotFound, Conflict)
)]
pub async fn delete(
    State(host): State<AppState>,
    c: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
) -> ApiResult<Accepted> {
    let vm = host.vms.find(&key)?;
    precheck(vm.power(), PowerState::PoweredOff, "delete", &vm.name())?;
    vm.refuse_losing_disk(&host, "delete")?;
    Ok(submit(
        &host,
        &vm,
        VmCommand::Delete,
        Operation::VmDestroy,
        &c.user,
    ))
}

#[utoipa::path(
    get,
    path = "/api/vms/{vm}/snapshots",
    tag = "vms",
    operation_id = "snapshot_list",
    description = "The VM's snapshots.",
    security(("session" = [])),
    params(VmKey),
    responses((status = 200, description = "The snapshots", body = [Snapshot]), Unauthorized, NotFound)
)]
pub async fn snapshots(
    State(host): State<AppState>,
    _c: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
) -> ApiResult<Json<Vec<Snapshot>>> {
    Ok(Json(host.vms.find(&key)?.info(false).await.snapshots))
}

#[utoipa::path(
    post,
    path = "/api/vms/{vm}/snapshots",
    tag = "vms",
    operation_id = "snapshot_create",
    description = "Takes a snapshot: of the disk, and of the memory too while the VM runs.",
    security(("session" = [])),
    params(VmKey),
    request_body = SnapshotCreate,
    responses((status = 202, description = "The task, running", body = Task), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn snapshot_create(
    State(host): State<AppState>,
    c: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
    Body(req): Body<SnapshotCreate>,
) -> ApiResult<Accepted> {
    let vm = host.vms.find(&key)?;
    vm::validate_name("snapshot name", &req.name)?;
    vm.refuse_disk_change(&host, "take a snapshot of")?;
    if vm
        .info(false)
        .await
        .snapshots
        .iter()
        .any(|s| s.name == req.name)
    {
        return Err(ApiError::conflict(format!(
            "{} has a snapshot named {:?} already",
            vm.name(),
            req.name
        )));
    }
    Ok(submit(
        &host,
        &vm,
        VmCommand::SnapshotCreate(req),
        Operation::VmCreateSnapshot,
        &c.user,
    ))
}

/// Revert and delete: the snapshot must exist when the request comes.
async fn on_snapshot(
    host: AppState,
    c: Caller,
    key: String,
    name: String,
    command: fn(String) -> VmCommand,
    operation: Operation,
) -> ApiResult<Accepted> {
    let vm = host.vms.find(&key)?;
    if !vm
        .info(false)
        .await
        .snapshots
        .iter()
        .any(|s| s.name == name)
    {
        return Err(ApiError::not_found(format!(
            "{} has no snapshot {name:?}",
            vm.name()
        )));
    }
    Ok(submit(&host, &vm, command(name), operation, &c.user))
}

#[utoipa::path(
    post,
    path = "/api/vms/{vm}/snapshots/{name}/revert",
    tag = "vms",
    operation_id = "snapshot_revert",
    description = "Goes back to a snapshot.",
    security(("session" = [])),
    params(SnapshotKey),
    responses((status = 202, description = "The task, running", body = Task), Unauthorized, NotFound, Conflict)
)]
pub async fn snapshot_revert(
    State(host): State<AppState>,
    c: Caller,
    Path(SnapshotKey { vm: key, name }): Path<SnapshotKey>,
) -> ApiResult<Accepted> {
    host.vms.find(&key)?.refuse_disk_change(&host, "revert")?;
    on_snapshot(
        host,
        c,
        key,
        name,
        VmCommand::SnapshotRevert,
        Operation::VmRevertToSnapshot,
    )
    .await
}

#[utoipa::path(
    delete,
    path = "/api/vms/{vm}/snapshots/{name}",
    tag = "vms",
    operation_id = "snapshot_delete",
    description = "Deletes a snapshot; the VM keeps its state.",
    security(("session" = [])),
    params(SnapshotKey),
    responses((status = 202, description = "The task, running", body = Task), Unauthorized, NotFound, Conflict)
)]
pub async fn snapshot_delete(
    State(host): State<AppState>,
    c: Caller,
    Path(SnapshotKey { vm: key, name }): Path<SnapshotKey>,
) -> ApiResult<Accepted> {
    on_snapshot(
        host,
        c,
        key,
        name,
        VmCommand::SnapshotDelete,
        Operation::VmRemoveSnapshot,
    )
    .await
}

/// The source's half of a vMotion: sends the running VM to the URI a
/// destination host gave (`POST /api/migrations/incoming` there).
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/migrate",
    tag = "vms",
    operation_id = "vm_migrate",
    description = "Sends the running VM to a destination host that awaits it (see /api/migrations/incoming); the center orchestrates both ends.",
    security(("session" = [])),
    params(VmKey),
    request_body = MigrateRequest,
    responses((status = 202, description = "The task, running", body = Task), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn migrate(
    State(host): State<AppState>,
    c: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
    Body(req): Body<MigrateRequest>,
) -> ApiResult<Accepted> {
    let vm = host.vms.find(&key)?;
    precheck(vm.power(), PowerState::PoweredOn, "migrate", &vm.name())?;
    for uri in std::iter::once(&req.uri).chain(&req.frames) {
        if !uri.starts_with("tcp:") {
            return Err(ApiError::bad_request(format!(
                "{uri:?} must be tcp:ADDRESS:PORT"
            )));
        }
    }
    hierro_api::check_limits(req.downtime_ms, req.max_bandwidth_mib)
        .map_err(ApiError::bad_request)?;
    Ok(submit(
        &host,
        &vm,
        VmCommand::Migrate(req),
        Operation::VmMigrate,
        &c.user,
    ))
}

/// The destination's half of a vMotion: registers the VM from the shared
/// datastore, starts QEMU waiting for its memory, and answers with the
/// address to send it to and the task that ends when it runs here.
#[utoipa::path(
    post,
    path = "/api/migrations/incoming",
    tag = "vms",
    operation_id = "migration_incoming",
    description = "Starts a QEMU waiting for a VM migrated live from another host, on this host's vMotion VMkernel port.",
    security(("session" = [])),
    request_body = IncomingMigration,
    responses((status = 201, description = "Where to send the VM", body = IncomingReady), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn incoming(
    State(host): State<AppState>,
    c: Caller,
    Body(req): Body<IncomingMigration>,
) -> ApiResult<(StatusCode, Json<IncomingReady>)> {
    if host.vmotion_address().is_none() {
        return Err(ApiError::invalid_state(
            "this host has no VMkernel port with the vMotion service",
        ));
    }
    let register = VmRegister {
        datastore: req.datastore.clone(),
        folder: req.folder.clone(),
    };
    let vm = vm::register(&host, &register, vm::Arrival::Live(req.vm)).await?;
    let task = host
        .journal
        .task(Operation::VmReceiveMigration, &vm.target(), &c.user);
    let id = task.id;
    let (tx, rx) = tokio::sync::oneshot::channel();
    vm.submit(VmCommand::Receive(tx), task);
    let (uri, frames) = rx
        .await
        .map_err(|_| ApiError::internal("the VM's actor ended"))??;
    Ok((
        StatusCode::CREATED,
        Json(IncomingReady {
            uri,
            task: id,
            frames: Some(frames),
        }),
    ))
}

/// Adds a powered-off VM from its folder on a datastore this host sees
/// (vSphere's RegisterVM): the second half of a cold migration.
#[utoipa::path(
    post,
    path = "/api/vms/register",
    tag = "vms",
    operation_id = "vm_register",
    description = "Registers a VM folder on a datastore with this host (cold migration, or after a host was lost).",
    security(("session" = [])),
    request_body = VmRegister,
    responses((status = 201, description = "The VM", body = VmInfo), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn register(
    State(host): State<AppState>,
    c: Caller,
    Body(req): Body<VmRegister>,
) -> ApiResult<(StatusCode, Json<VmInfo>)> {
    let vm = vm::register(&host, &req, vm::Arrival::Cold).await?;
    host.journal.event(
        EventKind::VmRegistered,
        hierro_api::Severity::Info,
        &vm.target(),
        &c.user,
        format!(
            "Registered VM {} from [{}] {}",
            vm.name(),
            req.datastore,
            req.folder
        ),
        None,
    );
    Ok((StatusCode::CREATED, Json(vm.info(false).await)))
}

/// Takes a powered-off VM off this host and keeps its files (vSphere's
/// UnregisterVM): the first half of a cold migration.
#[utoipa::path(
    post,
    path = "/api/vms/{vm}/unregister",
    tag = "vms",
    operation_id = "vm_unregister",
    description = "Forgets a powered-off VM, leaving its files.",
    security(("session" = [])),
    params(VmKey),
    responses((status = 202, description = "The task, running", body = Task), Unauthorized, NotFound, Conflict)
)]
pub async fn unregister(
    State(host): State<AppState>,
    c: Caller,
    Path(VmKey { vm: key }): Path<VmKey>,
) -> ApiResult<Accepted> {
    let vm = host.vms.find(&key)?;
    precheck(vm.power(), PowerState::PoweredOff, "unregister", &vm.name())?;
    Ok(submit(
        &host,
        &vm,
        VmCommand::Unregister,
        Operation::VmUnregister,
        &c.user,
    ))
}

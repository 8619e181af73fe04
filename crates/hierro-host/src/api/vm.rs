use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hierro_api::{
    IncomingMigration, IncomingReady, MigrateRequest, PowerOp, PowerState, Snapshot,
    SnapshotCreate, Task, VmCreate, VmInfo, VmRegister, VmUpdate,
};

use super::{AppState, Body, Caller};
use crate::error::{ApiError, ApiResult};
use crate::vm::{self, VmCommand};

type Accepted = (StatusCode, Json<Task>);

pub async fn list(State(host): State<AppState>, _c: Caller) -> Json<Vec<VmInfo>> {
    let mut out = Vec::new();
    for vm in host.vms.list() {
        out.push(vm.info(false).await);
    }
    Json(out)
}

pub async fn info(
    State(host): State<AppState>,
    _c: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<VmInfo>> {
    Ok(Json(host.vms.find(&key)?.info(true).await))
}

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
    if state != wanted {
        return Err(ApiError::invalid_state(format!(
            "cannot {what} {name}: it is {state}"
        )));
    }
    Ok(())
}

fn submit(
    host: &AppState,
    vm: &vm::Vm,
    command: VmCommand,
    operation: &str,
    user: &str,
) -> Accepted {
    let task = host.journal.task(operation, &vm.target(), user);
    let snapshot = task.snapshot();
    vm.submit(command, task);
    (StatusCode::ACCEPTED, Json(snapshot))
}

pub async fn power(
    State(host): State<AppState>,
    c: Caller,
    Path((key, op)): Path<(String, String)>,
) -> ApiResult<Accepted> {
    let vm = host.vms.find(&key)?;
    let op: PowerOp =
        serde_json::from_value(serde_json::Value::String(op.clone())).map_err(|_| {
            ApiError::bad_request(format!(
                "unknown power operation {op:?}: use on, off, reset or shutdown"
            ))
        })?;
    let (wanted, operation) = match op {
        PowerOp::On => (PowerState::PoweredOff, "VirtualMachine.powerOn"),
        PowerOp::Off => (PowerState::PoweredOn, "VirtualMachine.powerOff"),
        PowerOp::Reset => (PowerState::PoweredOn, "VirtualMachine.reset"),
        PowerOp::Shutdown => (PowerState::PoweredOn, "VirtualMachine.shutdownGuest"),
    };
    precheck(
        vm.power(),
        wanted,
        &format!("power {}", op.as_str()),
        &vm.name(),
    )?;
    Ok(submit(&host, &vm, VmCommand::Power(op), operation, &c.user))
}

pub async fn update(
    State(host): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
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
        "VirtualMachine.reconfigure",
        &c.user,
    ))
}

pub async fn delete(
    State(host): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
) -> ApiResult<Accepted> {
    let vm = host.vms.find(&key)?;
    precheck(vm.power(), PowerState::PoweredOff, "delete", &vm.name())?;
    Ok(submit(
        &host,
        &vm,
        VmCommand::Delete,
        "VirtualMachine.destroy",
        &c.user,
    ))
}

pub async fn snapshots(
    State(host): State<AppState>,
    _c: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<Snapshot>>> {
    Ok(Json(host.vms.find(&key)?.info(false).await.snapshots))
}

pub async fn snapshot_create(
    State(host): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
    Body(req): Body<SnapshotCreate>,
) -> ApiResult<Accepted> {
    let vm = host.vms.find(&key)?;
    vm::validate_name("snapshot name", &req.name)?;
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
        "VirtualMachine.createSnapshot",
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
    operation: &str,
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

pub async fn snapshot_revert(
    State(host): State<AppState>,
    c: Caller,
    Path((key, name)): Path<(String, String)>,
) -> ApiResult<Accepted> {
    on_snapshot(
        host,
        c,
        key,
        name,
        VmCommand::SnapshotRevert,
        "VirtualMachine.revertToSnapshot",
    )
    .await
}

pub async fn snapshot_delete(
    State(host): State<AppState>,
    c: Caller,
    Path((key, name)): Path<(String, String)>,
) -> ApiResult<Accepted> {
    on_snapshot(
        host,
        c,
        key,
        name,
        VmCommand::SnapshotDelete,
        "VirtualMachine.removeSnapshot",
    )
    .await
}

/// The source's half of a vMotion: sends the running VM to the URI a
/// destination host gave (`POST /api/migrations/incoming` there).
pub async fn migrate(
    State(host): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
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
        "VirtualMachine.migrate",
        &c.user,
    ))
}

/// The destination's half of a vMotion: registers the VM from the shared
/// datastore, starts QEMU waiting for its memory, and answers with the
/// address to send it to and the task that ends when it runs here.
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
        .task("VirtualMachine.receiveMigration", &vm.target(), &c.user);
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
pub async fn register(
    State(host): State<AppState>,
    c: Caller,
    Body(req): Body<VmRegister>,
) -> ApiResult<(StatusCode, Json<VmInfo>)> {
    let vm = vm::register(&host, &req, vm::Arrival::Cold).await?;
    host.journal.event(
        "VmRegisteredEvent",
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
pub async fn unregister(
    State(host): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
) -> ApiResult<Accepted> {
    let vm = host.vms.find(&key)?;
    precheck(vm.power(), PowerState::PoweredOff, "unregister", &vm.name())?;
    Ok(submit(
        &host,
        &vm,
        VmCommand::Unregister,
        "VirtualMachine.unregister",
        &c.user,
    ))
}

//! A datastore's files through the center (the datastore browser): each
//! call relayed to a connected host that sees the datastore.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::Json;
use hierro_api::Privilege as P;
use hierro_api::{
    DatastoreFile, DatastoreFolder, DatastoreKey, EventKind, FileAt, FileMove, FolderAt,
    FolderCreate, Operation, UploadAt,
};
use hierro_http::{ApiError, ApiResult, Body, Params, PathArgs, Upload};

use super::privileges::{needs, on, Access};
use super::task::as_outside_task;
use super::{
    AppState, BadRequest, Caller, Conflict, Forbidden, HostFailed, NotFound, Unauthorized,
};
use crate::ops::datastore::{datastore_ref, DatastoreRef};
use crate::ops::OpError;

/// What each operation of this file needs (the document's "Privilege:" lines).
pub(super) const ACCESS: &[(&str, Access)] = &[
    (
        "datastore_browse",
        needs(&[on(P::DatastoreBrowse, "the datastore")]),
    ),
    (
        "datastore_download",
        needs(&[on(P::DatastoreFileManagement, "the datastore")]),
    ),
    (
        "datastore_upload",
        needs(&[on(P::DatastoreFileManagement, "the datastore")]),
    ),
    (
        "datastore_delete",
        needs(&[on(P::DatastoreFileManagement, "the datastore")]),
    ),
    (
        "datastore_mkdir",
        needs(&[on(P::DatastoreFileManagement, "the datastore")]),
    ),
    (
        "datastore_move",
        needs(&[on(P::DatastoreFileManagement, "the datastore")]),
    ),
];

/// A datastore folder's files and folders.
#[utoipa::path(
    get,
    path = "/api/datastores/{datastore}/browse",
    tag = "datastores",
    operation_id = "datastore_browse",
    description = "The files and folders in a folder of the datastore (`path` from its top; empty for the top), folders first, as a host that sees it lists them. `datastore` is its object id, or its name when only one datastore you may see has it.",
    security(("session" = [])),
    params(DatastoreKey, FolderAt),
    responses((status = 200, description = "The folder's entries", body = DatastoreFolder), BadRequest, Unauthorized, Forbidden, NotFound, HostFailed)
)]
pub async fn browse(
    State(c): State<AppState>,
    caller: Caller,
    PathArgs(DatastoreKey { datastore }): PathArgs<DatastoreKey>,
    Params(at): Params<FolderAt>,
) -> ApiResult<Json<DatastoreFolder>> {
    let ds = datastore_ref(&c, &caller, &datastore, P::DatastoreBrowse).await?;
    let listing = ds
        .client
        .browse(ds.name(), &at.path)
        .await
        .map_err(OpError::from)?;
    Ok(Json(listing))
}

/// Downloads a file.
#[utoipa::path(
    get,
    path = "/api/datastores/{datastore}/file",
    tag = "datastores",
    operation_id = "datastore_download",
    description = "A file's bytes, streamed from a host that sees the datastore.",
    security(("session" = [])),
    params(DatastoreKey, FileAt),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed)
)]
pub async fn download(
    State(c): State<AppState>,
    caller: Caller,
    PathArgs(DatastoreKey { datastore }): PathArgs<DatastoreKey>,
    Params(at): Params<FileAt>,
) -> ApiResult<Response> {
    let ds = datastore_ref(&c, &caller, &datastore, P::DatastoreFileManagement).await?;
    let from_host = ds
        .client
        .download(ds.name(), &at.path)
        .await
        .map_err(OpError::from)?;
    let mut answer = Response::builder();
    for h in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_DISPOSITION,
    ] {
        if let Some(v) = from_host.headers().get(&h) {
            answer = answer.header(h, v);
        }
    }
    answer
        .body(axum::body::Body::from_stream(from_host.bytes_stream()))
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Uploads a file, streamed to a host that sees the datastore.
#[utoipa::path(
    put,
    path = "/api/datastores/{datastore}/file",
    tag = "datastores",
    operation_id = "datastore_upload",
    description = "Writes the body (`application/octet-stream`, any length) to a new file at `path`, whose folder must exist, through a host that sees the datastore, as a task (`datastore.uploadFile`). The host writes a temporary file and renames it into place once whole: a failed or broken-off upload leaves nothing under the name. An existing file is replaced only with `overwrite`, never one a VM uses.",
    security(("session" = [])),
    params(DatastoreKey, UploadAt),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, description = "The file, whole", body = DatastoreFile), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed)
)]
pub async fn upload(
    State(c): State<AppState>,
    caller: Caller,
    PathArgs(DatastoreKey { datastore }): PathArgs<DatastoreKey>,
    Params(at): Params<UploadAt>,
    Upload { body, length }: Upload,
) -> ApiResult<(StatusCode, Json<DatastoreFile>)> {
    let ds = datastore_ref(&c, &caller, &datastore, P::DatastoreFileManagement).await?;
    let body = body.into_data_stream();
    let file = crate::ops::datastore::upload(&c, &caller, &ds, &at, body, length).await?;
    Ok((StatusCode::CREATED, Json(file)))
}

/// Deletes a file or a folder with all it holds.
#[utoipa::path(
    delete,
    path = "/api/datastores/{datastore}/file",
    tag = "datastores",
    operation_id = "datastore_delete",
    description = "Deletes the file or folder (with everything in it) at `path`, as a task (`datastore.deleteFile`). Refused for what a VM uses: a VM's folder, the files a running VM reads, a linked clone's base disk, a folder whose VM another host runs.",
    security(("session" = [])),
    params(DatastoreKey, FileAt),
    responses((status = 204, description = "Deleted"), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed)
)]
pub async fn delete(
    State(c): State<AppState>,
    caller: Caller,
    PathArgs(DatastoreKey { datastore }): PathArgs<DatastoreKey>,
    Params(at): Params<FileAt>,
) -> ApiResult<StatusCode> {
    let ds = datastore_ref(&c, &caller, &datastore, P::DatastoreFileManagement).await?;
    let done = (
        EventKind::DatastoreFileDeleted,
        format!("Deleted [{}] {}", ds.name(), at.path),
    );
    changed(
        &c,
        &caller,
        &ds,
        Operation::DatastoreDeleteFile,
        done,
        async { ds.client.delete_file(ds.name(), &at.path).await },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a folder.
#[utoipa::path(
    post,
    path = "/api/datastores/{datastore}/folders",
    tag = "datastores",
    operation_id = "datastore_mkdir",
    description = "Makes a folder at `path`, whose parent must exist, as a task (`datastore.makeDirectory`).",
    security(("session" = [])),
    params(DatastoreKey),
    request_body = FolderCreate,
    responses((status = 201, description = "The folder", body = DatastoreFile), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed)
)]
pub async fn mkdir(
    State(c): State<AppState>,
    caller: Caller,
    PathArgs(DatastoreKey { datastore }): PathArgs<DatastoreKey>,
    Body(req): Body<FolderCreate>,
) -> ApiResult<(StatusCode, Json<DatastoreFile>)> {
    let ds = datastore_ref(&c, &caller, &datastore, P::DatastoreFileManagement).await?;
    let done = (
        EventKind::DatastoreFolderCreated,
        format!("Made folder [{}] {}", ds.name(), req.path),
    );
    let made = changed(
        &c,
        &caller,
        &ds,
        Operation::DatastoreMakeFolder,
        done,
        async { ds.client.make_folder(ds.name(), &req.path).await },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Renames or moves a file or folder inside the datastore.
#[utoipa::path(
    post,
    path = "/api/datastores/{datastore}/move",
    tag = "datastores",
    operation_id = "datastore_move",
    description = "Renames or moves the file or folder at `from` to `to` (whose folder must exist) in the same datastore, as a task (`datastore.moveFile`). An existing file at `to` is replaced only with `overwrite`; a folder never is. Refused for what a VM uses.",
    security(("session" = [])),
    params(DatastoreKey),
    request_body = FileMove,
    responses((status = 200, description = "The file or folder where it is now", body = DatastoreFile), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, HostFailed)
)]
pub async fn move_file(
    State(c): State<AppState>,
    caller: Caller,
    PathArgs(DatastoreKey { datastore }): PathArgs<DatastoreKey>,
    Body(req): Body<FileMove>,
) -> ApiResult<Json<DatastoreFile>> {
    let ds = datastore_ref(&c, &caller, &datastore, P::DatastoreFileManagement).await?;
    let done = (
        EventKind::DatastoreFileMoved,
        format!("Moved [{0}] {1} to [{0}] {2}", ds.name(), req.from, req.to),
    );
    let moved = changed(
        &c,
        &caller,
        &ds,
        Operation::DatastoreMoveFile,
        done,
        async { ds.client.move_file(ds.name(), &req).await },
    )
    .await?;
    Ok(Json(moved))
}

/// A change of the datastore's files on its host, as a center task.
async fn changed<T: serde::Serialize>(
    c: &AppState,
    caller: &Caller,
    ds: &DatastoreRef,
    operation: Operation,
    done: (EventKind, String),
    work: impl std::future::Future<Output = Result<T, hierro_client::ClientError>>,
) -> ApiResult<T> {
    let target = (ds.object.id.as_str(), ds.name());
    as_outside_task(c, caller, operation, target, done, async {
        Ok(work.await.map_err(OpError::from)?)
    })
    .await
}

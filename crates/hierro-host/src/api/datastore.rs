use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::Json;
use hierro_api::{
    Datastore, DatastoreCreate, DatastoreFile, DatastoreFolder, DatastoreKey, FileAt, FileMove,
    FolderAt, FolderCreate, UploadAt,
};

use super::{AppState, BadRequest, Body, Caller, Conflict, NotFound, Unauthorized};
use crate::datastore::files;
use hierro_http::{ApiError, ApiResult, Params, PathArgs, Upload};

#[utoipa::path(
    get,
    path = "/api/datastores",
    tag = "datastores",
    operation_id = "datastore_list",
    description = "The host's datastores, with their space.",
    security(("session" = [])),
    responses((status = 200, description = "The datastores", body = [Datastore]), Unauthorized)
)]
pub async fn list(State(host): State<AppState>, _c: Caller) -> Json<Vec<Datastore>> {
    Json(host.datastores.list())
}

#[utoipa::path(
    post,
    path = "/api/datastores",
    tag = "datastores",
    operation_id = "datastore_add",
    description = "Adds a directory as a datastore.",
    security(("session" = [])),
    request_body = DatastoreCreate,
    responses((status = 201, description = "The datastore", body = Datastore), BadRequest, Unauthorized, Conflict)
)]
pub async fn add(
    State(host): State<AppState>,
    c: Caller,
    Body(req): Body<DatastoreCreate>,
) -> ApiResult<(StatusCode, Json<Datastore>)> {
    host.add_datastore(&req, &c.user)?;
    let ds = host
        .datastores
        .list()
        .into_iter()
        .find(|d| d.name == req.name)
        .ok_or_else(|| ApiError::internal("datastore vanished"))?;
    Ok((StatusCode::CREATED, Json(ds)))
}

/// A datastore folder's files and folders.
#[utoipa::path(
    get,
    path = "/api/datastores/{datastore}/browse",
    tag = "datastores",
    operation_id = "datastore_browse",
    description = "The files and folders in a folder of the datastore (`path` from its top; empty for the top), folders first.",
    security(("session" = [])),
    params(DatastoreKey, FolderAt),
    responses((status = 200, description = "The folder's entries", body = DatastoreFolder), BadRequest, Unauthorized, NotFound)
)]
pub async fn browse(
    State(host): State<AppState>,
    _c: Caller,
    PathArgs(DatastoreKey { datastore }): PathArgs<DatastoreKey>,
    Params(at): Params<FolderAt>,
) -> ApiResult<Json<DatastoreFolder>> {
    Ok(Json(files::list(&host, &datastore, &at.path)?))
}

/// Downloads a file.
#[utoipa::path(
    get,
    path = "/api/datastores/{datastore}/file",
    tag = "datastores",
    operation_id = "datastore_download",
    description = "A file's bytes, streamed.",
    security(("session" = [])),
    params(DatastoreKey, FileAt),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn download(
    State(host): State<AppState>,
    _c: Caller,
    PathArgs(DatastoreKey { datastore }): PathArgs<DatastoreKey>,
    Params(at): Params<FileAt>,
) -> ApiResult<Response> {
    let (file, length) = host.datastores.open_file(&datastore, &at.path)?;
    file_response(&at.path, length, tokio::fs::File::from_std(file))
}

/// The answer that carries a file's bytes, as an attachment.
pub fn file_response(
    path: &str,
    length: u64,
    body: impl tokio::io::AsyncRead + Send + 'static,
) -> ApiResult<Response> {
    let name: String = path
        .rsplit('/')
        .next()
        .unwrap_or("file")
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, length)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        )
        .body(axum::body::Body::from_stream(
            tokio_util::io::ReaderStream::with_capacity(body, 1 << 20),
        ))
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Uploads a file, streamed.
#[utoipa::path(
    put,
    path = "/api/datastores/{datastore}/file",
    tag = "datastores",
    operation_id = "datastore_upload",
    description = "Writes the body (`application/octet-stream`, any length) to a new file at `path`, whose folder must exist, as a task (`datastore.uploadFile`, cancelable, its progress following the bytes when `content-length` is given). The bytes go to a temporary file that is renamed into place once whole and on disk: a failed, cancelled or broken-off upload leaves nothing under the name. An existing file is replaced only with `overwrite`, never one a VM uses.",
    security(("session" = [])),
    params(DatastoreKey, UploadAt),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, description = "The file, whole", body = DatastoreFile), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn upload(
    State(host): State<AppState>,
    c: Caller,
    PathArgs(DatastoreKey { datastore }): PathArgs<DatastoreKey>,
    Params(at): Params<UploadAt>,
    Upload { body, length }: Upload,
) -> ApiResult<(StatusCode, Json<DatastoreFile>)> {
    let file =
        crate::datastore::upload::upload(&host, &datastore, &at, body, length, &c.user).await?;
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
    responses((status = 204, description = "Deleted"), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn delete(
    State(host): State<AppState>,
    c: Caller,
    PathArgs(DatastoreKey { datastore }): PathArgs<DatastoreKey>,
    Params(at): Params<FileAt>,
) -> ApiResult<StatusCode> {
    files::delete(&host, &datastore, &at.path, &c.user)?;
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
    responses((status = 201, description = "The folder", body = DatastoreFile), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn mkdir(
    State(host): State<AppState>,
    c: Caller,
    PathArgs(DatastoreKey { datastore }): PathArgs<DatastoreKey>,
    Body(req): Body<FolderCreate>,
) -> ApiResult<(StatusCode, Json<DatastoreFile>)> {
    let made = files::make_folder(&host, &datastore, &req.path, &c.user)?;
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
    responses((status = 200, description = "The file or folder where it is now", body = DatastoreFile), BadRequest, Unauthorized, NotFound, Conflict)
)]
pub async fn move_file(
    State(host): State<AppState>,
    c: Caller,
    PathArgs(DatastoreKey { datastore }): PathArgs<DatastoreKey>,
    Body(req): Body<FileMove>,
) -> ApiResult<Json<DatastoreFile>> {
    Ok(Json(files::move_file(&host, &datastore, &req, &c.user)?))
}

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hierro_api::{Datastore, DatastoreCreate};

use super::{AppState, BadRequest, Body, Caller, Conflict, Unauthorized};
use hierro_http::{ApiError, ApiResult};

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

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hierro_api::{Datastore, DatastoreCreate};

use super::{AppState, Body, Caller};
use crate::error::{ApiError, ApiResult};

pub async fn list(State(host): State<AppState>, _c: Caller) -> Json<Vec<Datastore>> {
    Json(host.datastores.list())
}

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

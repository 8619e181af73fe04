//! Performance charts' data: an object's counters over a chart interval.

use axum::extract::{Path, State};
use axum::Json;
use hierro_api::{PerfQuery, PerfSeries};
use hierro_http::{ApiError, ApiResult, Params};

use super::privileges::{needs, on, Access};
use super::{authorize, AppState, BadRequest, Caller, NotFound, Unauthorized};
use crate::authz::VIEW;
use crate::inventory::{self, ObjectKind};
use crate::perf;
use hierro_api::Privilege as P;

/// What each operation of this file needs (the document's "Privilege:" lines).
pub(super) const ACCESS: &[(&str, Access)] =
    &[("perf_series", needs(&[on(P::SystemView, "the object")]))];

/// A host's, VM's or cluster's performance counters: CPU, memory,
/// network, disk.
#[utoipa::path(
    get,
    path = "/api/perf/{id}",
    tag = "perf",
    operation_id = "perf_series",
    description = "Real-time is every sample of the last hour; `day`, `week`, `month` and `year` are 5-minute, 30-minute, 2-hour and daily averages. A cluster's are its hosts': percentages averaged, the rest summed, over buckets of the collection interval in real-time.",
    security(("session" = [])),
    params(("id" = String, Path, description = "A host's, VM's or cluster's object id"), PerfQuery),
    responses(
        (status = 200, description = "The counters as series on one time axis", body = PerfSeries),
        BadRequest, Unauthorized, NotFound,
    )
)]
pub async fn series(
    State(c): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(q): Params<PerfQuery>,
) -> ApiResult<Json<PerfSeries>> {
    authorize(&c, &caller, &id, VIEW).await?;
    let object = inventory::get(&c.db, &id).await?;
    let now = chrono::Utc::now().timestamp();
    let series = match object.kind {
        ObjectKind::Host | ObjectKind::Vm => perf::series(&c.db, &id, q.interval, now).await?,
        ObjectKind::Cluster => {
            let step = c.config.perf_collect_secs as i64;
            perf::cluster_series(&c.db, &id, q.interval, step, now).await?
        }
        _ => {
            return Err(ApiError::not_found(format!(
                "{} is a {}: performance counters are kept for hosts, VMs and clusters",
                object.name,
                object.kind.as_str()
            )))
        }
    };
    Ok(Json(series))
}

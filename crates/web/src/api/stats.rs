//! Statistics.

use axum::Json;
use axum::extract::State;
use tongban_core::stats::OnTimeRow;
use tongban_core::usecase::stats::{MonthRange, on_time};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(on_time_handler))
}

/// On-time completion (按时办结率) per department and month, from the rollups.
#[utoipa::path(get, path = "/stats/on-time", tag = "stats", params(MonthRange),
    responses((status = 200, body = Vec<OnTimeRow>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn on_time_handler(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<MonthRange>,
) -> ApiResult<Json<Vec<OnTimeRow>>> {
    Ok(Json(s.read(move |tx, _| on_time(tx, &a, &q)).await?))
}

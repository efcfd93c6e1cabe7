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
    OpenApiRouter::new()
        .routes(routes!(on_time_handler))
        .routes(routes!(on_time_export))
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

/// The same figures as `GET /stats/on-time`, as an XLSX download.
#[utoipa::path(get, path = "/stats/on-time/export", tag = "stats", params(MonthRange),
    responses((status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn on_time_export(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<MonthRange>,
) -> ApiResult<axum::response::Response> {
    let (sheet, day) = s
        .read(move |tx, env| {
            Ok((
                tongban_core::usecase::exports::on_time_sheet(tx, &a, &q)?,
                env.today(),
            ))
        })
        .await?;
    Ok(crate::download::sheet_xlsx(sheet, "按时办结率", day)?)
}

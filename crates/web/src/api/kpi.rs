//! 效能指标: KPIs next to their targets, their spreadsheet, the window assessment.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongban_core::kpi::{Assessment, Scheme};
use tongban_core::usecase::kpi::{
    Deduction, KpiQuery, KpiReport, add_deduction, assessments, kpis, save_scheme, scheme,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_kpis))
        .routes(routes!(export))
        .routes(routes!(get_assessment))
        .routes(routes!(get_scheme, put_scheme))
        .routes(routes!(post_deduction))
}

/// The KPIs of a period, grouped by department, item, window, staff member, region or
/// month, with the total and the seeds' targets (supervisors: their region; department
/// staff: their department). From the rollups: as fast at ten million cases as at ten.
#[utoipa::path(get, path = "/kpi", tag = "supervision", params(KpiQuery),
    responses((status = 200, body = KpiReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn get_kpis(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<KpiQuery>,
) -> ApiResult<Json<KpiReport>> {
    Ok(Json(s.read(move |tx, _| kpis(tx, &a, &q)).await?))
}

/// The same as an XLSX download.
#[utoipa::path(get, path = "/kpi/export", tag = "supervision", params(KpiQuery),
    responses((status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              (status = 403, body = ErrorBody)))]
async fn export(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<KpiQuery>,
) -> ApiResult<Response> {
    let (r, day) = s
        .read(move |tx, env| Ok((kpis(tx, &a, &q)?, env.today())))
        .await?;
    Ok(crate::download::sheet_xlsx(
        tongban_core::usecase::kpi_sheet::kpi_sheet(&r),
        "效能指标",
        day,
    )?)
}

/// A quarter.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuarterQuery {
    /// `YYYY-Qn`.
    pub quarter: String,
}

/// The 1000-point window assessment of a quarter (千分制考核), best first (supervisors).
#[utoipa::path(get, path = "/kpi/assessment", tag = "supervision", params(QuarterQuery),
    responses((status = 200, body = Vec<Assessment>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn get_assessment(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<QuarterQuery>,
) -> ApiResult<Json<Vec<Assessment>>> {
    Ok(Json(
        s.read(move |tx, _| assessments(tx, &a, &q.quarter)).await?,
    ))
}

/// The assessment scheme (its criteria and points).
#[utoipa::path(get, path = "/kpi/assessment/scheme", tag = "supervision",
    responses((status = 200, body = Scheme), (status = 403, body = ErrorBody)))]
async fn get_scheme(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<Scheme>> {
    a.require(&[
        tongban_core::actor::Role::Supervisor,
        tongban_core::actor::Role::SysAdmin,
    ])?;
    Ok(Json(s.read(|tx, _| scheme(tx)).await?))
}

/// Change the scheme (system administrators); the points must add up to 1000.
#[utoipa::path(put, path = "/kpi/assessment/scheme", tag = "supervision", request_body = Scheme,
    responses((status = 200, body = Scheme), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_scheme(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(b): ApiJson<Scheme>,
) -> ApiResult<Json<Scheme>> {
    Ok(Json(
        s.write(move |tx, env| save_scheme(tx, &a, env, &b)).await?,
    ))
}

/// Take points off a window for a quarter (supervisors; 日常巡查).
#[utoipa::path(post, path = "/kpi/assessment/deductions", tag = "supervision", request_body = Deduction,
    responses((status = 201, body = i64), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_deduction(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(b): ApiJson<Deduction>,
) -> ApiResult<(StatusCode, Json<i64>)> {
    let id = s
        .write(move |tx, env| add_deduction(tx, &a, env, &b))
        .await?;
    Ok((StatusCode::CREATED, Json(id)))
}

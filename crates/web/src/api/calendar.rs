//! The working-day calendar: deadlines, years, loading a year's notice.

use axum::Json;
use axum::extract::State;
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use tongban_core::Error;
use tongban_core::calendar::{CalendarYear, Deadline, NamedDay};
use tongban_core::usecase::calendar::CalendarSaved;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(deadline))
        .routes(routes!(get_year, put_year))
}

/// A deadline question.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlineQuery {
    /// The day of the event (not counted), YYYY-MM-DD.
    pub from: NaiveDate,
    /// Working days.
    pub working_days: u32,
}

/// `deadline(from, n)`: the n-th working day after `from`. Provisional when a year
/// without a loaded notice is crossed.
#[utoipa::path(get, path = "/calendar/deadline", tag = "calendar", params(DeadlineQuery),
    responses((status = 200, body = Deadline), (status = 422, body = ErrorBody)))]
async fn deadline(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<DeadlineQuery>,
) -> ApiResult<Json<Deadline>> {
    let cal = s.calendar();
    let d = cal.deadline(q.from, q.working_days).map_err(|e| {
        Error::field(
            match e {
                tongban_core::calendar::CalendarError::TooManyDays => "working_days",
                tongban_core::calendar::CalendarError::OutOfRange => "from",
            },
            e.to_string(),
        )
    })?;
    Ok(Json(d))
}

/// A year of the calendar.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct YearView {
    /// The year.
    pub year: i32,
    /// A State Council notice is loaded for it (otherwise Monday–Friday is assumed).
    pub official: bool,
    /// The notice.
    pub source: Option<String>,
    /// Days off.
    pub holidays: Vec<NamedDay>,
    /// Weekend days worked.
    pub adjusted_workdays: Vec<NamedDay>,
    /// Working days in the year.
    pub working_days: u32,
}

/// A year: its holidays, adjusted working days and working-day count.
#[utoipa::path(get, path = "/calendar/{year}", tag = "calendar", params(("year" = i32, Path)),
    responses((status = 200, body = YearView), (status = 404, body = ErrorBody)))]
async fn get_year(
    State(s): State<AppState>,
    ApiPath(year): ApiPath<i32>,
) -> ApiResult<Json<YearView>> {
    let cal = s.calendar();
    if !(tongban_core::calendar::FIRST_YEAR..=tongban_core::calendar::LAST_YEAR).contains(&year) {
        return Err(Error::NotFound {
            entity: "该年度日历",
        }
        .into());
    }
    let view = match cal.year(year) {
        Some(y) => YearView {
            year,
            official: true,
            source: Some(y.source.clone()),
            holidays: y.holidays.clone(),
            adjusted_workdays: y.adjusted_workdays.clone(),
            working_days: y.working_day_count(),
        },
        None => {
            let mut d = NaiveDate::from_ymd_opt(year, 1, 1).ok_or(Error::NotFound {
                entity: "该年度日历",
            })?;
            let mut n = 0;
            while d.year() == year {
                if cal.is_working_day(d).unwrap_or(false) {
                    n += 1;
                }
                d += Duration::days(1);
            }
            YearView {
                year,
                official: false,
                source: None,
                holidays: vec![],
                adjusted_workdays: vec![],
                working_days: n,
            }
        }
    };
    Ok(Json(view))
}

/// Load or correct a year's notice (系统管理员 or 事项管理员). Open cases whose
/// deadlines depended on it are recomputed in the same transaction.
#[utoipa::path(put, path = "/calendar/{year}", tag = "calendar", params(("year" = i32, Path)), request_body = CalendarYear,
    responses((status = 200, body = CalendarSaved), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_year(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(year): ApiPath<i32>,
    ApiJson(y): ApiJson<CalendarYear>,
) -> ApiResult<Json<CalendarSaved>> {
    if y.year != year {
        return Err(Error::field("year", "请求体中的年份与路径不一致").into());
    }
    let saved = s.save_calendar_year(a, y).await?;
    Ok(Json(saved))
}

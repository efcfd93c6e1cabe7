//! Regions, departments, halls, windows, staff accounts, applicants.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tongban_core::Error;
use tongban_core::org::{Applicant, Department, NewDepartment, Window, check_password};
use tongban_core::region::{Region, RegionCode};
use tongban_core::store::NewWindow;
use tongban_core::usecase::org::{
    AccountChange, HallWithWindows, NewHall, NewRegion, NewStaff, add_window, create_department,
    create_hall, create_region, create_staff, find_applicant, get_applicant, lift_rongque_bar,
    update_staff,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AccountView;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_regions, post_region))
        .routes(routes!(list_departments, post_department))
        .routes(routes!(list_halls, post_hall))
        .routes(routes!(post_window))
        .routes(routes!(list_accounts, post_account))
        .routes(routes!(patch_account))
        .routes(routes!(find_applicant_handler))
        .routes(routes!(get_applicant_handler))
        .routes(routes!(lift_bar))
}

/// A region filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionQuery {
    /// Only this region and those below it.
    pub region: Option<String>,
}

fn prefix(q: &RegionQuery) -> Result<Option<String>, Error> {
    q.region
        .as_deref()
        .map(|r| {
            RegionCode::parse(r)
                .map(|c| c.prefix().to_string())
                .map_err(|e| Error::field("region", e.to_string()))
        })
        .transpose()
}

/// Regions (区划), by code.
#[utoipa::path(get, path = "/regions", tag = "org", params(RegionQuery), responses((status = 200, body = Vec<Region>)))]
async fn list_regions(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<RegionQuery>,
) -> ApiResult<Json<Vec<Region>>> {
    let p = prefix(&q)?;
    Ok(Json(s.read(move |tx, _| tx.regions(p.as_deref())).await?))
}

/// Add a region under an existing one (系统管理员, within their region).
#[utoipa::path(post, path = "/regions", tag = "org", request_body = NewRegion,
    responses((status = 201, body = Region), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_region(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(n): ApiJson<NewRegion>,
) -> ApiResult<(StatusCode, Json<Region>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.write(move |tx, _| create_region(tx, &a, &n)).await?),
    ))
}

/// Departments (部门), by region.
#[utoipa::path(get, path = "/departments", tag = "org", params(RegionQuery), responses((status = 200, body = Vec<Department>)))]
async fn list_departments(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<RegionQuery>,
) -> ApiResult<Json<Vec<Department>>> {
    let p = prefix(&q)?;
    Ok(Json(
        s.read(move |tx, _| tx.departments(p.as_deref())).await?,
    ))
}

/// Add a department with its unified social credit code.
#[utoipa::path(post, path = "/departments", tag = "org", request_body = NewDepartment,
    responses((status = 201, body = Department), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_department(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(n): ApiJson<NewDepartment>,
) -> ApiResult<(StatusCode, Json<Department>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.write(move |tx, _| create_department(tx, &a, &n)).await?),
    ))
}

/// Halls (大厅) with their windows, by region.
#[utoipa::path(get, path = "/halls", tag = "org", params(RegionQuery), responses((status = 200, body = Vec<HallWithWindows>)))]
async fn list_halls(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<RegionQuery>,
) -> ApiResult<Json<Vec<HallWithWindows>>> {
    let p = prefix(&q)?;
    Ok(Json(
        s.read(move |tx, _| {
            let halls = tx.halls(p.as_deref())?;
            let mut out = Vec::with_capacity(halls.len());
            for hall in halls {
                let windows = tx.windows(hall.id)?;
                out.push(HallWithWindows { hall, windows });
            }
            Ok(out)
        })
        .await?,
    ))
}

/// Add a hall and its windows.
#[utoipa::path(post, path = "/halls", tag = "org", request_body = NewHall,
    responses((status = 201, body = HallWithWindows), (status = 422, body = ErrorBody)))]
async fn post_hall(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(n): ApiJson<NewHall>,
) -> ApiResult<(StatusCode, Json<HallWithWindows>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.write(move |tx, _| create_hall(tx, &a, &n)).await?),
    ))
}

/// Add a window to a hall.
#[utoipa::path(post, path = "/halls/{id}/windows", tag = "org", params(("id" = i64, Path)), request_body = NewWindow,
    responses((status = 201, body = Window), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_window(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(w): ApiJson<NewWindow>,
) -> ApiResult<(StatusCode, Json<Window>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.write(move |tx, _| add_window(tx, &a, id, &w)).await?),
    ))
}

/// Staff accounts in the administrator's region.
#[utoipa::path(get, path = "/accounts", tag = "org", responses((status = 200, body = Vec<AccountView>), (status = 403, body = ErrorBody)))]
async fn list_accounts(
    State(s): State<AppState>,
    Auth(a): Auth,
) -> ApiResult<Json<Vec<AccountView>>> {
    a.require(&[tongban_core::actor::Role::SysAdmin])?;
    let p = a
        .region
        .as_ref()
        .map(|r| r.prefix().to_string())
        .ok_or(Error::forbidden("账号未设置区划范围"))?;
    let accounts = s.read(move |tx, _| tx.accounts(Some(&p))).await?;
    Ok(Json(accounts.iter().map(AccountView::from).collect()))
}

/// Add a staff account.
#[utoipa::path(post, path = "/accounts", tag = "org", request_body = NewStaff,
    responses((status = 201, body = AccountView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_account(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(n): ApiJson<NewStaff>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    a.require(&[tongban_core::actor::Role::SysAdmin])?;
    if let Err(rule) = check_password(&n.password) {
        return Err(ApiError(Error::field("password", rule)));
    }
    let hash = s.hash_password(n.password.clone()).await?;
    let acc = s
        .write(move |tx, env| create_staff(tx, &a, env, &n, &hash))
        .await?;
    Ok((StatusCode::CREATED, Json(AccountView::from(&acc))))
}

/// Change a staff account: name, window, 即办件 authorizations, password, enabled.
#[utoipa::path(patch, path = "/accounts/{id}", tag = "org", params(("id" = i64, Path)), request_body = AccountChange,
    responses((status = 200, body = AccountView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn patch_account(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<AccountChange>,
) -> ApiResult<Json<AccountView>> {
    a.require(&[tongban_core::actor::Role::SysAdmin])?;
    let hash = match &c.password {
        Some(p) if check_password(p).is_ok() => Some(s.hash_password(p.clone()).await?),
        _ => None,
    };
    let acc = s
        .write(move |tx, _| update_staff(tx, &a, id, &c, hash.as_deref()))
        .await?;
    // A disabled account or a new password ends its sessions: no cached one may linger.
    s.sessions.clear();
    Ok(Json(AccountView::from(&acc)))
}

/// Look an applicant up by ID number or credit code.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicantQuery {
    /// ID number or credit code.
    pub identifier: String,
}

/// Find an applicant (window clerks verifying an applicant).
#[utoipa::path(get, path = "/applicants", tag = "org", params(ApplicantQuery),
    responses((status = 200, body = Applicant), (status = 404, body = ErrorBody)))]
async fn find_applicant_handler(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<ApplicantQuery>,
) -> ApiResult<Json<Applicant>> {
    Ok(Json(
        s.read(move |tx, _| find_applicant(tx, &a, &q.identifier))
            .await?,
    ))
}

/// An applicant (itself, or staff who serve applicants).
#[utoipa::path(get, path = "/applicants/{id}", tag = "org", params(("id" = i64, Path)),
    responses((status = 200, body = Applicant), (status = 404, body = ErrorBody)))]
async fn get_applicant_handler(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Applicant>> {
    Ok(Json(s.read(move |tx, _| get_applicant(tx, &a, id)).await?))
}

/// Lift an applicant's 容缺 bar (系统管理员).
#[utoipa::path(post, path = "/applicants/{id}/lift-rongque-bar", tag = "org", params(("id" = i64, Path)),
    responses((status = 200, body = Applicant), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn lift_bar(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Applicant>> {
    Ok(Json(
        s.write(move |tx, _| lift_rongque_bar(tx, &a, id)).await?,
    ))
}

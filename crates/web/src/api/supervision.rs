//! 效能监察: 督办 orders, the warning sweep, the settings.

use axum::Json;
use axum::extract::State;
use tongban_core::actor::Role;
use tongban_core::supervision::{OrderAction, SupervisionOrder, SupervisionSettings};
use tongban_core::usecase::supervision::{
    OrderQuery, WarningSweep, list_orders, order_action, save_settings, settings,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(orders))
        .routes(routes!(order_act))
        .routes(routes!(sweep))
        .routes(routes!(get_settings, put_settings))
}

/// 督办 orders in scope, newest first (a department its own; supervisors their region).
#[utoipa::path(get, path = "/supervision/orders", tag = "supervision", params(OrderQuery),
    responses((status = 200, body = Vec<SupervisionOrder>), (status = 403, body = ErrorBody)))]
async fn orders(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<OrderQuery>,
) -> ApiResult<Json<Vec<SupervisionOrder>>> {
    Ok(Json(s.read(move |tx, _| list_orders(tx, &a, &q)).await?))
}

/// Answer an order (the department: `{"action":"answer","text"}`), or close or send it
/// back (a supervisor: `close`, `send_back`).
#[utoipa::path(post, path = "/supervision/orders/{id}/actions", tag = "supervision", params(("id" = i64, Path)), request_body = OrderAction,
    responses((status = 200, body = SupervisionOrder), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn order_act(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<OrderAction>,
) -> ApiResult<Json<SupervisionOrder>> {
    Ok(Json(
        s.write(move |tx, env| order_action(tx, &a, env, id, &b))
            .await?,
    ))
}

/// Run the warning sweep now (it also runs on its own): every clock near or past its
/// end marked, 督办 orders opened for the red ones (supervisors, system administrators).
#[utoipa::path(post, path = "/supervision/sweep", tag = "supervision",
    responses((status = 200, body = WarningSweep), (status = 403, body = ErrorBody)))]
async fn sweep(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<WarningSweep>> {
    a.require(&[Role::Supervisor, Role::SysAdmin])?;
    Ok(Json(crate::jobs::warning_sweep(&s).await?))
}

/// The supervision settings (supervisors and administrators).
#[utoipa::path(get, path = "/supervision/settings", tag = "supervision",
    responses((status = 200, body = SupervisionSettings), (status = 403, body = ErrorBody)))]
async fn get_settings(
    State(s): State<AppState>,
    Auth(a): Auth,
) -> ApiResult<Json<SupervisionSettings>> {
    a.require(&[Role::Supervisor, Role::SysAdmin])?;
    Ok(Json(s.read(|tx, _| settings(tx)).await?))
}

/// Change them (system administrators): the rectification period in working days,
/// whether red clocks open 督办 orders.
#[utoipa::path(put, path = "/supervision/settings", tag = "supervision", request_body = SupervisionSettings,
    responses((status = 200, body = SupervisionSettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_settings(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(b): ApiJson<SupervisionSettings>,
) -> ApiResult<Json<SupervisionSettings>> {
    Ok(Json(
        s.write(move |tx, env| save_settings(tx, &a, env, &b))
            .await?,
    ))
}

//! The service catalog: basic items, implementation items, versions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tongban_core::catalog::{BasicItem, Item, ItemSpec, ItemVersion};
use tongban_core::usecase::catalog::{
    ItemQuery, ItemWithVersion, NewItem, StatusChange, change_status, create_basic_item,
    create_item, get_item, item_versions, list_items, publish, save_draft,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_basic, post_basic))
        .routes(routes!(list, post))
        .routes(routes!(get_one))
        .routes(routes!(versions))
        .routes(routes!(put_draft))
        .routes(routes!(post_publish))
        .routes(routes!(post_status))
}

/// The national basic catalog (基本目录).
#[utoipa::path(get, path = "/basic-items", tag = "catalog", responses((status = 200, body = Vec<BasicItem>)))]
async fn list_basic(State(s): State<AppState>) -> ApiResult<Json<Vec<BasicItem>>> {
    Ok(Json(s.read(|tx, _| tx.basic_items()).await?))
}

/// Add a basic item (事项管理员).
#[utoipa::path(post, path = "/basic-items", tag = "catalog", request_body = BasicItem,
    responses((status = 201, body = BasicItem), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_basic(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(b): ApiJson<BasicItem>,
) -> ApiResult<(StatusCode, Json<BasicItem>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.write(move |tx, _| create_basic_item(tx, &a, &b)).await?),
    ))
}

/// Items (实施清单): the public sees active, published items; editors pass `all=true`.
#[utoipa::path(get, path = "/items", tag = "catalog", params(ItemQuery), responses((status = 200, body = Vec<Item>), (status = 422, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    MaybeAuth(a): MaybeAuth,
    ApiQuery(q): ApiQuery<ItemQuery>,
) -> ApiResult<Json<Vec<Item>>> {
    Ok(Json(
        s.read(move |tx, _| list_items(tx, a.as_ref(), &q)).await?,
    ))
}

/// Create an item with a first draft version (事项管理员).
#[utoipa::path(post, path = "/items", tag = "catalog", request_body = NewItem,
    responses((status = 201, body = ItemWithVersion), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(n): ApiJson<NewItem>,
) -> ApiResult<(StatusCode, Json<ItemWithVersion>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.write(move |tx, env| create_item(tx, &a, env, &n)).await?),
    ))
}

/// Which version to show.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A version number; default the published one.
    pub version: Option<u32>,
}

/// An item with its published version (or `?version=N`); the guide (办事指南).
#[utoipa::path(get, path = "/items/{id}", tag = "catalog", params(("id" = i64, Path), VersionQuery),
    responses((status = 200, body = ItemWithVersion), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(s): State<AppState>,
    MaybeAuth(a): MaybeAuth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> ApiResult<Json<ItemWithVersion>> {
    Ok(Json(
        s.read(move |tx, _| get_item(tx, a.as_ref(), id, q.version))
            .await?,
    ))
}

/// Every version of an item (drafts for editors only).
#[utoipa::path(get, path = "/items/{id}/versions", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ItemVersion>), (status = 404, body = ErrorBody)))]
async fn versions(
    State(s): State<AppState>,
    MaybeAuth(a): MaybeAuth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<ItemVersion>>> {
    Ok(Json(
        s.read(move |tx, _| item_versions(tx, a.as_ref(), id))
            .await?,
    ))
}

/// Save the draft version (created from the next version number when none is open).
#[utoipa::path(put, path = "/items/{id}/draft", tag = "catalog", params(("id" = i64, Path)), request_body = ItemSpec,
    responses((status = 200, body = ItemWithVersion), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_draft(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(spec): ApiJson<ItemSpec>,
) -> ApiResult<Json<ItemWithVersion>> {
    Ok(Json(
        s.write(move |tx, env| save_draft(tx, &a, env, id, &spec))
            .await?,
    ))
}

/// Publish the draft: new cases are filed on it; it never changes again.
#[utoipa::path(post, path = "/items/{id}/publish", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 200, body = ItemWithVersion), (status = 409, body = ErrorBody)))]
async fn post_publish(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ItemWithVersion>> {
    Ok(Json(
        s.write(move |tx, env| publish(tx, &a, env, id)).await?,
    ))
}

/// A status change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// suspend, resume or cancel.
    pub change: StatusChange,
}

/// Suspend, resume or cancel an item (暂停 / 恢复 / 取消): no new cases while not active.
#[utoipa::path(post, path = "/items/{id}/status", tag = "catalog", params(("id" = i64, Path)), request_body = StatusRequest,
    responses((status = 200, body = Item), (status = 409, body = ErrorBody)))]
async fn post_status(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<StatusRequest>,
) -> ApiResult<Json<Item>> {
    Ok(Json(
        s.write(move |tx, env| change_status(tx, &a, env, id, r.change))
            .await?,
    ))
}

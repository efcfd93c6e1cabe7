//! 12345: work orders, the dispatch catalogue, the knowledge base, analysis, settings.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tongban_core::actor::Role;
use tongban_core::hotline::kb::{Article, ArticleInput, Category};
use tongban_core::hotline::{OrderAction, Source, WorkOrder};
use tongban_core::usecase::hotline::{
    Analysis, CategoryInput, HotlineSettings, NewOrder, OrderQuery, Tracked, act, add_open311_key,
    analysis, article_from_order, create_category, get_order, list_orders, register, save_article,
    save_settings, settings, track, update_category, withdraw_article,
};
use tongban_search::Hit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, new_token, token_hash};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, post_order))
        .routes(routes!(post_public))
        .routes(routes!(get_one))
        .routes(routes!(post_action))
        .routes(routes!(get_track))
        .routes(routes!(categories, post_category))
        .routes(routes!(put_category))
        .routes(routes!(kb_search, post_article))
        .routes(routes!(put_article))
        .routes(routes!(withdraw))
        .routes(routes!(to_article))
        .routes(routes!(get_analysis))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(post_key))
}

/// An order the operator registers.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OperatorOrder {
    /// `phone` (default), `mail`, `web`, `mini_program`.
    #[serde(default = "phone")]
    pub source: Source,
    /// The order.
    #[serde(flatten)]
    pub order: NewOrder,
}

fn phone() -> Source {
    Source::Phone
}

/// Register an order (the 12345 operator, from a call, a letter, …).
#[utoipa::path(post, path = "/hotline/orders", tag = "hotline", request_body = OperatorOrder,
    responses((status = 201, body = WorkOrder), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_order(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(b): ApiJson<OperatorOrder>,
) -> ApiResult<(StatusCode, Json<WorkOrder>)> {
    if b.source == Source::Open311 {
        return Err(tongban_core::Error::field("source", "Open311 请使用 /open311/v2 接口").into());
    }
    let o = s
        .write(move |tx, env| register(tx, Some(&a), env, b.source, &b.order, ""))
        .await?;
    Ok((StatusCode::CREATED, Json(o)))
}

/// What a citizen gets back.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Submitted {
    /// 工单编号: track it with the phone given.
    pub number: String,
}

/// A citizen submits an order on the web (no sign-in).
#[utoipa::path(post, path = "/hotline/public/orders", tag = "hotline", request_body = NewOrder,
    responses((status = 201, body = Submitted), (status = 422, body = ErrorBody)))]
async fn post_public(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<NewOrder>,
) -> ApiResult<(StatusCode, Json<Submitted>)> {
    let o = s
        .write(move |tx, env| register(tx, None, env, Source::Web, &b, "网上提交"))
        .await?;
    Ok((StatusCode::CREATED, Json(Submitted { number: o.number })))
}

/// Orders in scope, newest first (the centre and supervisors: their region; a unit: the
/// orders sent to it).
#[utoipa::path(get, path = "/hotline/orders", tag = "hotline", params(OrderQuery),
    responses((status = 200, body = Vec<WorkOrder>), (status = 403, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<OrderQuery>,
) -> ApiResult<Json<Vec<WorkOrder>>> {
    Ok(Json(s.read(move |tx, _| list_orders(tx, &a, &q)).await?))
}

/// One order with every step.
#[utoipa::path(get, path = "/hotline/orders/{id}", tag = "hotline", params(("id" = i64, Path)),
    responses((status = 200, body = WorkOrder), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(s.read(move |tx, _| get_order(tx, &a, id)).await?))
}

/// An action with the version seen.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ActionBody {
    /// The action and its fields.
    #[serde(flatten)]
    pub action: OrderAction,
    /// The `version` seen (a mismatch is a 409).
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Act on an order: `answer_directly`, `dispatch`, `merge_into` (the centre); `sign`,
/// `return`, `assist_note`, `request_extension`, `reply` (units); `redispatch`, `rule`,
/// `approve_extension`, `deny_extension`, `accept_reply`, `send_back`, `call_back` (the
/// centre).
#[utoipa::path(post, path = "/hotline/orders/{id}/actions", tag = "hotline", params(("id" = i64, Path)), request_body = ActionBody,
    responses((status = 200, body = WorkOrder), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_action(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ActionBody>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        s.write(move |tx, env| act(tx, &a, env, id, &b.action, b.expected_version))
            .await?,
    ))
}

/// Tracking.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrackQuery {
    /// 工单编号.
    pub number: String,
    /// The phone given (its last four digits suffice).
    pub phone: String,
}

/// Track an order (anyone with its number and phone).
#[utoipa::path(get, path = "/hotline/track", tag = "hotline", params(TrackQuery),
    responses((status = 200, body = Tracked), (status = 404, body = ErrorBody)))]
async fn get_track(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<TrackQuery>,
) -> ApiResult<Json<Tracked>> {
    Ok(Json(
        s.read(move |tx, _| track(tx, &q.number, &q.phone)).await?,
    ))
}

/// The dispatch catalogue (public: callers and Open311 clients choose from it).
#[utoipa::path(get, path = "/hotline/categories", tag = "hotline",
    responses((status = 200, body = Vec<Category>)))]
async fn categories(State(s): State<AppState>) -> ApiResult<Json<Vec<Category>>> {
    Ok(Json(s.read(|tx, _| tx.categories()).await?))
}

/// Add a category (the centre, system administrators).
#[utoipa::path(post, path = "/hotline/categories", tag = "hotline", request_body = CategoryInput,
    responses((status = 201, body = Category), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_category(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(b): ApiJson<CategoryInput>,
) -> ApiResult<(StatusCode, Json<Category>)> {
    let c = s.write(move |tx, _| create_category(tx, &a, &b)).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Change a category.
#[utoipa::path(put, path = "/hotline/categories/{id}", tag = "hotline", params(("id" = i64, Path)), request_body = CategoryInput,
    responses((status = 200, body = Category), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_category(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CategoryInput>,
) -> ApiResult<Json<Category>> {
    Ok(Json(
        s.write(move |tx, _| update_category(tx, &a, id, &b))
            .await?,
    ))
}

/// A knowledge-base search.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KbQuery {
    /// What the caller says.
    pub q: String,
}

/// Articles in force that match (the centre): for answering while the caller speaks.
#[utoipa::path(get, path = "/hotline/kb", tag = "hotline", params(KbQuery),
    responses((status = 200, body = Vec<Hit>), (status = 403, body = ErrorBody)))]
async fn kb_search(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<KbQuery>,
) -> ApiResult<Json<Vec<Hit>>> {
    a.require(&[Role::HotlineOperator])?;
    let prefix = a.region.as_ref().map(|r| r.prefix().to_string());
    Ok(Json(s.kb.search(&s, &q.q, prefix.as_deref(), 10).await?))
}

/// Write a new article.
#[utoipa::path(post, path = "/hotline/kb", tag = "hotline", request_body = ArticleInput,
    responses((status = 201, body = Article), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_article(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(b): ApiJson<ArticleInput>,
) -> ApiResult<(StatusCode, Json<Article>)> {
    let art = s
        .write(move |tx, env| save_article(tx, &a, env, None, &b, None))
        .await?;
    Ok((StatusCode::CREATED, Json(art)))
}

/// A new version of an article.
#[utoipa::path(put, path = "/hotline/kb/{id}", tag = "hotline", params(("id" = i64, Path)), request_body = ArticleInput,
    responses((status = 200, body = Article), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_article(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ArticleInput>,
) -> ApiResult<Json<Article>> {
    Ok(Json(
        s.write(move |tx, env| save_article(tx, &a, env, Some(id), &b, None))
            .await?,
    ))
}

/// Withdraw an article.
#[utoipa::path(post, path = "/hotline/kb/{id}/withdraw", tag = "hotline", params(("id" = i64, Path)),
    responses((status = 200, body = Article), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn withdraw(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Article>> {
    Ok(Json(
        s.write(move |tx, env| withdraw_article(tx, &a, env, id))
            .await?,
    ))
}

/// A title for an article made from an order.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TitleBody {
    /// Title (default: the category and the start of the content).
    #[serde(default)]
    pub title: String,
}

/// Turn a closed order into an article (its answer as the body).
#[utoipa::path(post, path = "/hotline/orders/{id}/to-article", tag = "hotline", params(("id" = i64, Path)), request_body = TitleBody,
    responses((status = 201, body = Article), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn to_article(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<TitleBody>,
) -> ApiResult<(StatusCode, Json<Article>)> {
    let art = s
        .write(move |tx, env| article_from_order(tx, &a, env, id, &b.title))
        .await?;
    Ok((StatusCode::CREATED, Json(art)))
}

/// A period.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// First month `YYYY-MM`.
    pub from: String,
    /// Last month `YYYY-MM`.
    pub to: String,
}

/// Counts by category, region, unit, type and month; on-time sign and reply rates;
/// satisfaction; hot topics this week against last (the centre, supervisors).
#[utoipa::path(get, path = "/hotline/analysis", tag = "hotline", params(Period),
    responses((status = 200, body = Analysis), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn get_analysis(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<Period>,
) -> ApiResult<Json<Analysis>> {
    Ok(Json(
        s.read(move |tx, env| analysis(tx, &a, env, &q.from, &q.to, &tongban_search::words))
            .await?,
    ))
}

/// The hotline's settings (the centre reads them; system administrators change them).
#[utoipa::path(get, path = "/hotline/settings", tag = "hotline",
    responses((status = 200, body = HotlineSettings), (status = 403, body = ErrorBody)))]
async fn get_settings(
    State(s): State<AppState>,
    Auth(a): Auth,
) -> ApiResult<Json<HotlineSettings>> {
    a.require(&[Role::HotlineOperator, Role::SysAdmin, Role::Supervisor])?;
    Ok(Json(s.read(|tx, _| settings(tx)).await?))
}

/// Change the settings: the centre's region, deadlines per type and urgency, the sign
/// time in working minutes, the working hours.
#[utoipa::path(put, path = "/hotline/settings", tag = "hotline", request_body = HotlineSettings,
    responses((status = 200, body = HotlineSettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_settings(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(b): ApiJson<HotlineSettings>,
) -> ApiResult<Json<HotlineSettings>> {
    Ok(Json(
        s.write(move |tx, env| save_settings(tx, &a, env, &b))
            .await?,
    ))
}

/// A client to register.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct KeyBody {
    /// Who it is for, e.g. 城市管理 App.
    pub name: String,
}

/// The key, shown once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewKey {
    /// The `api_key` for Open311 requests.
    pub api_key: String,
}

/// Issue an Open311 `api_key` (system administrators). Only its hash is kept.
#[utoipa::path(post, path = "/admin/open311-keys", tag = "admin", request_body = KeyBody,
    responses((status = 201, body = NewKey), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_key(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(b): ApiJson<KeyBody>,
) -> ApiResult<(StatusCode, Json<NewKey>)> {
    let key = new_token();
    let hash = token_hash(&key);
    s.write(move |tx, env| add_open311_key(tx, &a, env, &b.name, &hash))
        .await?;
    Ok((StatusCode::CREATED, Json(NewKey { api_key: key })))
}

//! Catalog search (事项搜索) and its synonyms.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tongban_core::Error;
use tongban_core::catalog::ItemType;
use tongban_core::region::RegionCode;
use tongban_core::usecase::search::{Synonyms, request_rebuild, save_synonyms, synonyms};
use tongban_search::{Filters, Hit};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::search::Refreshed;
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_handler))
        .routes(routes!(get_synonyms, put_synonyms))
        .routes(routes!(rebuild))
}

/// A search.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What the person typed: words, pinyin (`weisheng`) or initials (`yyzz`); 1–50 characters.
    pub q: String,
    /// Only this department.
    pub department_id: Option<i64>,
    /// Only items of this region or below (a GB/T 2260 code).
    pub region: Option<String>,
    /// Only this item type (`license`, `payment`, …).
    pub item_type: Option<String>,
    /// Only items for `person` or `enterprise`.
    pub object: Option<String>,
    /// Results, 1–50 (default 20).
    pub limit: Option<usize>,
}

/// Search results, best first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    /// The query as typed.
    pub query: String,
    /// The query as searched, with synonyms added.
    pub searched: String,
    /// The items found.
    pub items: Vec<Hit>,
}

/// Turn a query into filters; every bad parameter named.
pub fn filters_of(q: &SearchQuery) -> tongban_core::Result<(String, Filters, usize)> {
    let mut e = tongban_core::FieldErrors::new();
    let text = q.q.trim().to_string();
    if text.is_empty() || text.chars().count() > 50 {
        e.add("q", "请输入 1–50 字的关键词");
    }
    let region = match q.region.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => e
            .check("region", RegionCode::parse(r))
            .map(|r| r.prefix().to_string()),
        None => None,
    };
    let item_type = match q.item_type.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => {
            let ok = serde_json::from_value::<ItemType>(serde_json::Value::String(t.to_string()));
            if ok.is_err() {
                e.add("item_type", "没有这种事项类型");
            }
            Some(t.to_string())
        }
        None => None,
    };
    let object = match q.object.as_deref().filter(|t| !t.is_empty()) {
        Some(o @ ("person" | "enterprise")) => Some(o.to_string()),
        Some(_) => {
            e.add("object", "服务对象须为 person 或 enterprise");
            None
        }
        None => None,
    };
    let limit = q.limit.unwrap_or(20);
    if !(1..=50).contains(&limit) {
        e.add("limit", "结果条数须在 1–50 之间");
    }
    e.into_result()?;
    Ok((
        text,
        Filters {
            department_id: q.department_id,
            region_prefix: region,
            item_type,
            object,
        },
        limit,
    ))
}

/// Search the published catalog: Chinese words (two-character words inside longer
/// ones are found), pinyin and initials, synonyms; filters; ranked by relevance and
/// by how often an item is applied for; matches highlighted in `snippet_html`.
/// Public: anyone may search.
#[utoipa::path(get, path = "/search", tag = "catalog", params(SearchQuery),
    responses((status = 200, body = SearchResults), (status = 422, body = ErrorBody)))]
async fn search_handler(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<SearchResults>> {
    let (text, filters, limit) = filters_of(&q)?;
    let items = s.search.search(&s, &text, &filters, limit).await?;
    Ok(Json(SearchResults {
        searched: s.search.expand(&text),
        query: text,
        items,
    }))
}

/// The synonyms (catalog administrators).
#[utoipa::path(get, path = "/search/synonyms", tag = "catalog",
    responses((status = 200, body = Synonyms), (status = 403, body = ErrorBody)))]
async fn get_synonyms(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<Synonyms>> {
    Ok(Json(s.read(move |tx, _| synonyms(tx, &a)).await?))
}

/// Replace the synonyms: `{"synonyms": {"开饭店": ["餐饮", "食品经营"]}}`. Every server
/// uses them from its next search.
#[utoipa::path(put, path = "/search/synonyms", tag = "catalog", request_body = Synonyms,
    responses((status = 200, body = Synonyms), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_synonyms(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(body): ApiJson<Synonyms>,
) -> ApiResult<Json<Synonyms>> {
    Ok(Json(
        s.write(move |tx, env| save_synonyms(tx, &a, env, &body))
            .await?,
    ))
}

/// Rebuild the search index from the database, here at once and on every other server
/// at its next look (catalog administrators, system administrators).
#[utoipa::path(post, path = "/admin/search/rebuild", tag = "admin",
    responses((status = 200, body = Refreshed), (status = 403, body = ErrorBody)))]
async fn rebuild(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<Refreshed>> {
    let wanted = s.write(move |tx, _| request_rebuild(tx, &a)).await?;
    let mut r = s.search.refresh(&s).await?;
    // A background refresh may have done the rebuild a moment before this one.
    r.rebuilt |= s.search.rebuilt_since(wanted);
    if !r.rebuilt {
        return Err(Error::Store("rebuild requested but not done".into()).into());
    }
    Ok(Json(r))
}

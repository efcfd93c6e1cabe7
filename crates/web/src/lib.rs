//! Tongban's HTTP face: the JSON API under `/api/v1` with its OpenAPI description and
//! browsable docs. Handlers are thin: extract, call one use case, answer.

pub mod api;
pub mod auth;
pub mod clock;
pub mod download;
pub mod error;
pub mod extract;
pub mod files;
pub mod jobs;
pub mod kb_search;
pub mod open311;
pub mod pages;
pub mod search;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::SwaggerUi;

pub use state::{AppState, Settings};

/// Largest JSON body accepted.
pub const MAX_BODY: usize = 2 * 1024 * 1024;
/// Largest page form accepted (uploads included).
pub const MAX_FORM_BODY: usize = 50 * 1024 * 1024;

/// The whole application.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api::router().split_for_parts();
    let spec = serde_json::to_value(&openapi).unwrap_or_default();
    let api = api
        .route(
            "/openapi.json",
            get(move || async move { axum::Json(spec.clone()) }),
        )
        .fallback(|| async {
            error::plain(StatusCode::NOT_FOUND, "not_found", "没有这个接口")
        })
        .method_not_allowed_fallback(|| async {
            error::plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "该接口不支持此请求方法",
            )
        });
    Router::new()
        .nest("/api/v1", api)
        .merge(SwaggerUi::new("/api/v1/docs").url("/api/v1/docs/openapi.json", openapi))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .merge(pages::router().layer(DefaultBodyLimit::max(MAX_FORM_BODY)))
        .merge(open311::router().layer(DefaultBodyLimit::max(MAX_BODY)))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async {
            pages::PageError::new(tongban_core::Error::NotFound { entity: "页面" }).into_response()
        })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

//! The JSON API under `/api/v1`: one module per area, one use case per handler.

pub mod admin;
pub mod auth;
pub mod bundles;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod catalog_io;
pub mod hotline;
pub mod kpi;
pub mod org;
pub mod ratings;
pub mod search;
pub mod stats;
pub mod supervision;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The OpenAPI description's frame; the paths come from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tongban 通办 API",
        description = "一体化政务服务平台: catalog, one-window case flow, working-day calendar. \
                       Errors are `{\"error\":{\"code\",\"message\",\"fields\"}}`; lists are keyset-paged. See docs/API.md.",
        license(name = "Apache-2.0")
    ),
    servers((url = "/api/v1")),
    tags(
        (name = "auth", description = "Sign in, sign out, register"),
        (name = "org", description = "Regions, departments, halls, windows, accounts, applicants"),
        (name = "catalog", description = "Service items and their versions (政务服务事项)"),
        (name = "calendar", description = "Working days (工作日历)"),
        (name = "cases", description = "Cases under 一窗受理 (办件)"),
        (name = "bundles", description = "一件事一次办: bundles, scenario guide, bundle cases"),
        (name = "stats", description = "Statistics (rollups)"),
        (name = "hotline", description = "12345: work orders, dispatch catalogue, knowledge base"),
        (name = "ratings", description = "好差评: ratings, rating links, rectification"),
        (name = "supervision", description = "效能监察: warnings, 督办 orders, KPIs"),
        (name = "admin", description = "Operations"),
    )
)]
pub struct ApiDoc;

/// Every API route with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::routes())
        .merge(org::routes())
        .merge(catalog::routes())
        .merge(catalog_io::routes())
        .merge(calendar::routes())
        .merge(cases::routes())
        .merge(bundles::routes())
        .merge(ratings::routes())
        .merge(hotline::routes())
        .merge(kpi::routes())
        .merge(supervision::routes())
        .merge(search::routes())
        .merge(stats::routes())
        .merge(admin::routes())
}

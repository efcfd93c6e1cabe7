//! The catalog as a spreadsheet: export, the empty template, import (docs/IMPORT.md).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::Response;
use http_body_util::BodyExt;
use serde::Deserialize;
use tongban_core::Error;
use tongban_core::usecase::catalog_io::{ImportReport, export_catalog, import_catalog, template};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::download::{format_param, workbook};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export))
        .routes(routes!(template_handler))
        .merge(OpenApiRouter::new().routes(routes!(import)).layer(
            axum::extract::DefaultBodyLimit::max(tongban_sheets::MAX_BYTES as usize),
        ))
}

/// The format of a download.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `xlsx` (default) or `zip` (a ZIP with one CSV per sheet).
    pub format: Option<String>,
}

/// Export the catalog of the caller's region (catalog administrators): every sheet of
/// docs/IMPORT.md; an item's latest content (a draft is marked 发布=否).
#[utoipa::path(get, path = "/catalog/export", tag = "catalog", params(FormatQuery),
    responses((status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              (status = 403, body = ErrorBody)))]
async fn export(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    let f = format_param(q.format.as_deref())?;
    let (wb, day) = s
        .read(move |tx, env| Ok((export_catalog(tx, &a)?, env.today())))
        .await?;
    Ok(workbook(&wb, f, "事项目录", day)?)
}

/// The empty workbook to fill in: every sheet with its header row.
#[utoipa::path(get, path = "/catalog/template", tag = "catalog", params(FormatQuery),
    responses((status = 200, description = "The workbook")))]
async fn template_handler(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    let f = format_param(q.format.as_deref())?;
    let day = tongban_core::time::china_date(s.clock.now());
    Ok(workbook(&template(), f, "事项目录模板", day)?)
}

/// How to import.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Only check: report what would change, write nothing.
    pub dry_run: Option<bool>,
    /// For a single CSV: which sheet it is (default 事项).
    pub sheet: Option<String>,
}

/// Read an uploaded file: XLSX, a ZIP of CSVs, or one CSV.
pub fn read_upload(
    bytes: &[u8],
    csv_sheet: &str,
) -> tongban_core::Result<tongban_core::table::Workbook> {
    tongban_sheets::read(bytes, csv_sheet).map_err(|rule| Error::field("file", rule))
}

/// Import a catalog file (the request body: XLSX, a ZIP of CSVs, or one CSV). Every
/// row is checked first; any problem is a 422 whose `fields` name each cell
/// (`"材料!C5": "材料名称：…"`), and nothing is written. Otherwise the whole file is
/// written in one transaction.
#[utoipa::path(post, path = "/catalog/import", tag = "catalog", params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Body,
) -> ApiResult<axum::Json<ImportReport>> {
    a.require(&[
        tongban_core::actor::Role::CatalogAdmin,
        tongban_core::actor::Role::SysAdmin,
    ])?;
    let bytes: Bytes = body
        .collect()
        .await
        .map_err(|_| Error::field("file", "文件超过 50 MB 或上传中断"))?
        .to_bytes();
    let wb = read_upload(&bytes, q.sheet.as_deref().unwrap_or("事项"))?;
    let dry = q.dry_run.unwrap_or(false);
    let report = if dry {
        s.read(move |tx, env| import_catalog(tx, &a, env, &wb, true, &|_, _| {}))
            .await?
    } else {
        s.write(move |tx, env| import_catalog(tx, &a, env, &wb, false, &|_, _| {}))
            .await?
    };
    Ok(axum::Json(report))
}

//! The catalog administrator's import and export page (事项目录导入导出): download
//! the catalog or the empty template; upload a file, checked whole, with every problem
//! listed by sheet, row and column, and nothing written unless there is none.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tongban_core::Error;
use tongban_core::actor::Role;
use tongban_core::catalog::sheets::{LAYOUT, sorted_cells};
use tongban_core::usecase::catalog_io::{ImportReport, export_catalog, import_catalog};

use super::form::PageForm;
use super::{Chrome, PageResult, SignedIn, Viewer, render};
use crate::download::{format_param, workbook};
use crate::state::AppState;

fn catalog_admin(v: &Viewer) -> PageResult<()> {
    if v.actor.role == Role::CatalogAdmin {
        Ok(())
    } else {
        Err(Error::forbidden("只有事项管理员可以导入导出事项目录").into())
    }
}

struct Problem {
    sheet: String,
    cell: String,
    row: String,
    rule: String,
}

#[derive(Template)]
#[template(path = "admin_catalog.html")]
struct CatalogIoPage {
    page: Chrome,
    sheets: Vec<(String, String, usize)>,
    file: String,
    report: Option<ImportReport>,
    problems: Vec<Problem>,
}

fn page(
    v: &Viewer,
    file: String,
    report: Option<ImportReport>,
    problems: Vec<Problem>,
) -> CatalogIoPage {
    CatalogIoPage {
        page: Chrome::new("事项目录导入导出", Some(v), "/admin"),
        sheets: LAYOUT
            .iter()
            .map(|l| (l.name.to_string(), l.help.to_string(), l.columns.len()))
            .collect(),
        file,
        report,
        problems,
    }
}

/// The page.
pub async fn catalog_page(SignedIn(v): SignedIn) -> PageResult {
    catalog_admin(&v)?;
    Ok(render(&page(&v, String::new(), None, vec![])))
}

/// Which download.
#[derive(Deserialize, Default)]
pub struct ExportQuery {
    format: Option<String>,
}

/// Download the catalog of the administrator's region.
pub async fn catalog_export(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(q): Query<ExportQuery>,
) -> PageResult<Response> {
    catalog_admin(&v)?;
    let f = format_param(q.format.as_deref())?;
    let a = v.actor.clone();
    let (wb, day) = s
        .read(move |tx, env| Ok((export_catalog(tx, &a)?, env.today())))
        .await?;
    Ok(workbook(&wb, f, "事项目录", day)?)
}

/// Upload a file: check it, and import it unless only a check was asked for.
pub async fn catalog_import(State(s): State<AppState>, f: PageForm) -> PageResult<Response> {
    catalog_admin(&f.viewer)?;
    let Some(upload) = f.data.files.iter().find(|u| u.field == "file") else {
        return Err(Error::field("file", "请选择要导入的文件").into());
    };
    let file = upload.name.clone();
    let stem = file
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(&file)
        .to_string();
    let csv_sheet = if LAYOUT.iter().any(|l| l.name == stem) {
        stem
    } else {
        "事项".to_string()
    };
    let dry = f.data.text("dry_run") == "1";
    let a = f.viewer.actor.clone();
    let result = match crate::api::catalog_io::read_upload(&upload.bytes, &csv_sheet) {
        Err(e) => Err(e),
        Ok(wb) if dry => {
            s.read(move |tx, env| import_catalog(tx, &a, env, &wb, true, &|_, _| {}))
                .await
        }
        Ok(wb) => {
            s.write(move |tx, env| import_catalog(tx, &a, env, &wb, false, &|_, _| {}))
                .await
        }
    };
    match result {
        Ok(report) => Ok(render(&page(&f.viewer, file, Some(report), vec![]))),
        Err(Error::Validation(fe)) => {
            let problems = sorted_cells(&fe)
                .into_iter()
                .map(|(cell, rule)| {
                    let (sheet, addr) = cell.rsplit_once('!').unwrap_or(("文件", cell.as_str()));
                    let row: String = addr.chars().filter(|c| c.is_ascii_digit()).collect();
                    Problem {
                        sheet: sheet.to_string(),
                        cell: addr.to_string(),
                        row,
                        rule,
                    }
                })
                .collect();
            let mut r = render(&page(&f.viewer, file, None, problems));
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r.into_response())
        }
        Err(e) => Err(e.into()),
    }
}

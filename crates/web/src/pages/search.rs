//! The catalog administrator's synonyms page (同义词): one line per term,
//! `开饭店 = 餐饮，食品经营`; saved, every server's search uses them at once.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use tongban_core::Error;
use tongban_core::actor::Role;
use tongban_core::usecase::search::{parse_synonym_lines, save_synonyms, synonyms};

use super::admin::Done;
use super::form::PageForm;
use super::{Chrome, PageResult, SignedIn, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin_synonyms.html")]
struct SynonymsPage {
    page: Chrome,
    lines: String,
    terms: usize,
}

/// The synonyms as lines.
pub async fn synonyms_form(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(done): Query<Done>,
) -> PageResult {
    if v.actor.role != Role::CatalogAdmin {
        return Err(Error::forbidden("只有事项管理员可以维护同义词").into());
    }
    let a = v.actor.clone();
    let syn = s.read(move |tx, _| synonyms(tx, &a)).await?;
    let lines = syn
        .synonyms
        .iter()
        .map(|(t, w)| format!("{t} = {}", w.join("，")))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(render(&SynonymsPage {
        page: Chrome::new("搜索同义词", Some(&v), "/admin")
            .flash(done.ok().map(|_| "同义词已保存，搜索即刻生效".to_string())),
        terms: syn.synonyms.len(),
        lines,
    }))
}

/// Save the synonyms.
pub async fn synonyms_save(State(s): State<AppState>, f: PageForm) -> PageResult {
    if f.viewer.actor.role != Role::CatalogAdmin {
        return Err(Error::forbidden("只有事项管理员可以维护同义词").into());
    }
    let syn = parse_synonym_lines(&f.data.text("lines"))?;
    let a = f.viewer.actor.clone();
    s.write(move |tx, env| save_synonyms(tx, &a, env, &syn))
        .await?;
    Ok(Redirect::to("/admin/synonyms?ok=1").into_response())
}

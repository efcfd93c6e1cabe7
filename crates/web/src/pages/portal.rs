//! The public portal: the catalog by department, theme and service object; a guide
//! per item (办事指南); applying online with uploads; tracking a case by its number.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tongban_core::Error;
use tongban_core::actor::Role;
use tongban_core::case::action::MaterialInput;
use tongban_core::case::{Application, Channel, MaterialLine};
use tongban_core::catalog::field::FieldKind;
use tongban_core::catalog::material::Requirement;
use tongban_core::catalog::spec::{ItemSpec, ServiceObject};
use tongban_core::catalog::{Item, ItemStatus};
use tongban_core::usecase::catalog::{ItemQuery, get_item, list_items};

use super::form::PageForm;
use super::{Chrome, MaybeViewer, PageResult, SignedIn, date, render};
use crate::api::search::SearchQuery;
use crate::state::AppState;

/// Catalog filters.
#[derive(Deserialize, Default)]
pub struct CatalogQuery {
    /// Department.
    pub department: Option<String>,
    /// Theme (主题).
    pub theme: Option<String>,
    /// `person` / `enterprise`.
    pub object: Option<String>,
    /// Name contains.
    pub q: Option<String>,
}

struct ItemRow {
    id: i64,
    /// Where the words matched (HTML from the index: escaped, matches in `<b>`).
    snippet: String,
    name: String,
    department: String,
    kind: String,
    processing: String,
    limit: String,
    visits: u8,
    online: bool,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    page: Chrome,
    q: String,
    department: String,
    theme: String,
    object: String,
    departments: Vec<(String, String)>,
    themes: Vec<String>,
    items: Vec<ItemRow>,
}

fn limit_text(spec: &ItemSpec) -> String {
    match spec.processing_type {
        tongban_core::catalog::ProcessingType::Immediate => "即办".to_string(),
        tongban_core::catalog::ProcessingType::Promised => {
            format!("{} 个工作日", spec.promised_limit_days)
        }
    }
}

/// The catalog (办事指南首页).
pub async fn home(
    State(s): State<AppState>,
    MaybeViewer(v): MaybeViewer,
    Query(q): Query<CatalogQuery>,
) -> PageResult {
    let department_id = match q.department.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => Some(
            d.parse::<i64>()
                .map_err(|_| Error::field("department", "部门无效"))?,
        ),
        None => None,
    };
    let text = q.q.clone().filter(|t| !t.trim().is_empty());
    // Words typed: the search index ranks them (pinyin, synonyms, materials too).
    let hits = match &text {
        Some(t) => {
            let (t, filters, limit) = crate::api::search::filters_of(&SearchQuery {
                q: t.clone(),
                department_id,
                object: q.object.clone().filter(|o| !o.is_empty()),
                limit: Some(50),
                ..SearchQuery::default()
            })?;
            Some(s.search.search(&s, &t, &filters, limit).await?)
        }
        None => None,
    };
    let ranked: Option<Vec<i64>> = hits.as_ref().map(|h| h.iter().map(|h| h.item_id).collect());
    let snippets: BTreeMap<i64, String> = hits
        .unwrap_or_default()
        .into_iter()
        .map(|h| (h.item_id, h.snippet_html))
        .collect();
    let (departments, rows) = s
        .read(move |tx, _| {
            let departments = tx.departments(None)?;
            let items = match ranked {
                Some(ids) => {
                    let mut v = Vec::new();
                    for id in ids {
                        if let Some(i) = tx.item(id)? {
                            v.push(i);
                        }
                    }
                    v
                }
                None => list_items(
                    tx,
                    None,
                    &ItemQuery {
                        department_id,
                        limit: Some(200),
                        ..ItemQuery::default()
                    },
                )?,
            };
            let mut rows = Vec::new();
            for item in items {
                let Some(v) = item.published_version else {
                    continue;
                };
                if let Some(version) = tx.item_version(item.id, v)? {
                    rows.push((item, version.spec));
                }
            }
            Ok((departments, rows))
        })
        .await?;
    let names: BTreeMap<i64, String> = departments.iter().map(|d| (d.id, d.name.clone())).collect();
    let mut themes: Vec<String> = rows
        .iter()
        .flat_map(|(_, spec)| spec.themes.iter().cloned())
        .collect();
    themes.sort();
    themes.dedup();
    let theme = q.theme.clone().unwrap_or_default();
    let object = q.object.clone().unwrap_or_default();
    let items = rows
        .into_iter()
        .filter(|(_, spec)| theme.is_empty() || spec.themes.contains(&theme))
        .filter(|(_, spec)| match object.as_str() {
            "person" => spec.service_objects.contains(&ServiceObject::Person),
            "enterprise" => spec.service_objects.contains(&ServiceObject::Enterprise),
            _ => true,
        })
        .map(|(item, spec)| ItemRow {
            snippet: snippets.get(&item.id).cloned().unwrap_or_default(),
            id: item.id,
            name: item.name.clone(),
            department: names.get(&item.department_id).cloned().unwrap_or_default(),
            kind: item.item_type.label().to_string(),
            processing: spec.processing_type.label().to_string(),
            limit: limit_text(&spec),
            visits: spec.visits,
            online: spec.online_depth >= 3,
        })
        .collect();
    Ok(render(&PortalPage {
        page: Chrome::new("办事指南", v.as_ref(), "/"),
        q: q.q.unwrap_or_default(),
        department: q.department.unwrap_or_default(),
        theme,
        object,
        departments: departments
            .into_iter()
            .filter(|d| d.active)
            .map(|d| (d.id.to_string(), d.name))
            .collect(),
        themes,
        items,
    }))
}

struct MaterialRow {
    code: String,
    name: String,
    requirement: String,
    form: String,
    copies: u32,
    medium: String,
    rongque: bool,
    shared: String,
    source: String,
    notes: String,
}

struct FieldRow {
    key: String,
    label: String,
    input: String,
    required: bool,
    options: Vec<String>,
    help: String,
    value: String,
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    page: Chrome,
    item: GuideView,
    can_apply: bool,
}

struct GuideView {
    id: i64,
    code: String,
    name: String,
    department: String,
    kind: String,
    processing: String,
    legal_limit: u32,
    limit: String,
    conditions: String,
    legal_basis: Vec<String>,
    fees: Vec<(String, String, String)>,
    visits: u8,
    location: String,
    phone: String,
    objects: String,
    materials: Vec<MaterialRow>,
    fields: Vec<FieldRow>,
    stages: Vec<(String, u32, String)>,
    result: String,
    suspended: bool,
    version: u32,
}

fn requirement(r: &Requirement) -> String {
    match r {
        Requirement::Required => "必要".into(),
        Requirement::Optional => "非必要".into(),
        Requirement::Conditional { condition, .. } => format!("情形：{condition}"),
    }
}

/// The page input for a form field's type.
pub(crate) fn input_type(k: FieldKind) -> &'static str {
    match k {
        FieldKind::Number => "number",
        FieldKind::Date => "date",
        FieldKind::Choice => "choice",
        FieldKind::YesNo => "yesno",
        FieldKind::Phone => "tel",
        _ => "text",
    }
}

fn guide(item: &Item, version: u32, spec: &ItemSpec, department: String) -> GuideView {
    GuideView {
        id: item.id,
        code: item.code.clone(),
        name: item.name.clone(),
        department,
        kind: item.item_type.label().into(),
        processing: spec.processing_type.label().into(),
        legal_limit: spec.legal_limit_days,
        limit: limit_text(spec),
        conditions: spec.conditions.clone(),
        legal_basis: spec.legal_basis.clone(),
        fees: spec
            .fees
            .iter()
            .map(|f| (f.name.clone(), f.standard.clone(), f.basis.clone()))
            .collect(),
        visits: spec.visits,
        location: spec.location.clone(),
        phone: spec.phone.clone(),
        objects: spec
            .service_objects
            .iter()
            .map(|o| match o {
                ServiceObject::Person => "自然人",
                ServiceObject::Enterprise => "法人",
            })
            .collect::<Vec<_>>()
            .join("、"),
        materials: spec
            .materials
            .iter()
            .map(|m| MaterialRow {
                code: m.code.clone(),
                name: m.name.clone(),
                requirement: requirement(&m.requirement),
                form: m.form.label().into(),
                copies: m.copies,
                medium: match m.medium {
                    tongban_core::catalog::material::Medium::Paper => "纸质",
                    tongban_core::catalog::material::Medium::Electronic => "电子",
                    tongban_core::catalog::material::Medium::Either => "纸质或电子",
                }
                .into(),
                rongque: m.rongque,
                shared: m.certificate_type.clone().unwrap_or_default(),
                source: m.source.clone(),
                notes: m.notes.clone(),
            })
            .collect(),
        fields: spec
            .fields
            .iter()
            .map(|f| FieldRow {
                key: f.key.clone(),
                label: f.label.clone(),
                input: input_type(f.kind).into(),
                required: f.required,
                options: f.options.clone(),
                help: f.help.clone(),
                value: String::new(),
            })
            .collect(),
        stages: spec
            .stages
            .iter()
            .map(|st| (st.kind.label().into(), st.days, st.responsible.clone()))
            .collect(),
        result: spec.result.name.clone(),
        suspended: item.status != ItemStatus::Active,
        version,
    }
}

async fn load_guide(s: &AppState, id: i64) -> PageResult<(GuideView, ItemSpec)> {
    let (iv, dept) = s
        .read(move |tx, _| {
            let iv = get_item(tx, None, id, None)?;
            let dept = tx.department(iv.item.department_id)?;
            Ok((iv, dept))
        })
        .await?;
    let g = guide(
        &iv.item,
        iv.version.version,
        &iv.version.spec,
        dept.map(|d| d.name).unwrap_or_default(),
    );
    Ok((g, iv.version.spec))
}

/// An item's guide (办事指南).
pub async fn item(
    State(s): State<AppState>,
    MaybeViewer(v): MaybeViewer,
    Path(id): Path<i64>,
) -> PageResult {
    let (g, _) = load_guide(&s, id).await?;
    let can_apply = !g.suspended && v.as_ref().is_none_or(|v| v.actor.role == Role::Applicant);
    Ok(render(&ItemPage {
        page: Chrome::new(g.name.clone(), v.as_ref(), ""),
        item: g,
        can_apply,
    }))
}

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyPage {
    page: Chrome,
    item: GuideView,
}

/// The online application form (网上申请).
pub async fn apply_form(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Path(id): Path<i64>,
) -> PageResult {
    if v.actor.role != Role::Applicant {
        return Err(
            Error::forbidden("网上申请须以申请人身份登录；窗口人员请使用“综合受理”").into(),
        );
    }
    let (g, _) = load_guide(&s, id).await?;
    Ok(render(&ApplyPage {
        page: Chrome::new(format!("申请：{}", g.name), Some(&v), ""),
        item: g,
    }))
}

/// Store the uploads of the fields named `prefix<key>` (checked for size and type),
/// returning the stored ids by key. Errors are collected for every file, named by
/// `path(key)` and the file's name; nothing is refused half-way.
pub async fn store_uploads(
    s: &AppState,
    f: &super::form::FormData,
    prefix: &str,
    path: impl Fn(&str) -> String,
) -> PageResult<BTreeMap<String, Vec<String>>> {
    let mut errors = tongban_core::FieldErrors::new();
    let mut stored: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for u in &f.files {
        let Some(key) = u.field.strip_prefix(prefix) else {
            continue;
        };
        match crate::files::check(&path(key), &u.bytes) {
            Ok(_) => {
                let files = s.files.clone();
                let bytes = u.bytes.clone();
                let id = tokio::task::spawn_blocking(move || files.put(&bytes))
                    .await
                    .map_err(|e| Error::Store(e.to_string()))?
                    .map_err(|e| Error::Store(format!("storing an upload: {e}")))?;
                stored.entry(key.to_string()).or_default().push(id);
            }
            Err(Error::Validation(fe)) => {
                for (k, v) in fe.fields() {
                    errors.add(k.clone(), format!("{}（{}）", v, u.name));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    errors.into_result()?;
    Ok(stored)
}

/// Materials from a page form: uploads under `file.<code>` (stored now), paper under
/// `paper.<code>`, certificate numbers under `cert.<code>`, 容缺 under
/// `rongque.<code>`; materials the form says nothing of are not provided.
pub async fn materials_from(
    s: &AppState,
    f: &super::form::FormData,
    codes: &[String],
) -> PageResult<Vec<MaterialLine>> {
    let mut stored = store_uploads(s, f, "file.", |code| format!("materials.{code}")).await?;
    let mut lines = Vec::new();
    for code in codes {
        let input = if let Some(files) = stored.remove(code) {
            MaterialInput::Provided {
                electronic: true,
                files,
            }
        } else if let Some(no) = f.opt(&format!("cert.{code}")) {
            MaterialInput::Shared { certificate_no: no }
        } else if f.text(&format!("material.{code}")) == "rongque" {
            MaterialInput::Rongque
        } else if f.text(&format!("material.{code}")) == "paper" {
            MaterialInput::Provided {
                electronic: false,
                files: vec![],
            }
        } else {
            continue;
        };
        lines.push(MaterialLine {
            code: code.clone(),
            input,
        });
    }
    Ok(lines)
}

/// Form values under `form.<key>`.
pub fn form_values(f: &super::form::FormData) -> BTreeMap<String, String> {
    f.prefixed("form.")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Apply online: submit at once, or keep a draft (`save=draft`).
pub async fn apply(State(s): State<AppState>, Path(id): Path<i64>, f: PageForm) -> PageResult {
    let actor = f.viewer.actor.clone();
    if actor.role != Role::Applicant {
        return Err(Error::forbidden("网上申请须以申请人身份登录").into());
    }
    let (_, spec) = load_guide(&s, id).await?;
    let codes: Vec<String> = spec.materials.iter().map(|m| m.code.clone()).collect();
    let materials = materials_from(&s, &f.data, &codes).await?;
    let app = Application {
        item_id: id,
        channel: Channel::Online,
        form: form_values(&f.data),
        materials,
        rongque_due: None,
        submit: f.data.text("save") != "draft",
        authorization: None,
        applicant: None,
    };
    let c = s.receive(actor, app).await?;
    Ok(Redirect::to(&format!("/cases/{}?ok=receive", c.id)).into_response())
}

#[derive(Template)]
#[template(path = "track.html")]
struct TrackPage {
    page: Chrome,
    number: String,
    item: String,
    department: String,
    state: String,
    received: String,
    due: String,
    closed: String,
}

/// Public tracking by case number (the QR code on every notice): what and where, no
/// personal data.
pub async fn track(
    State(s): State<AppState>,
    MaybeViewer(v): MaybeViewer,
    Path(number): Path<String>,
) -> PageResult<Response> {
    let n = tongban_core::case::CaseNumber::parse(&number)
        .map_err(|e| Error::field("number", e.to_string()))?;
    let (case, dept) = s
        .read(move |tx, _| {
            let c = tx
                .case_by_number(n.as_str())?
                .ok_or(Error::NotFound { entity: "办件" })?;
            let d = tx.department(c.department_id)?;
            Ok((c, d))
        })
        .await?;
    Ok(render(&TrackPage {
        page: Chrome::new("办件查询", v.as_ref(), ""),
        number: case.number.as_str().to_string(),
        item: case.item_name.clone(),
        department: dept.map(|d| d.name).unwrap_or_default(),
        state: case.state.label().to_string(),
        received: case.received_at.map(super::time).unwrap_or_default(),
        due: case.due().map(date).unwrap_or_default(),
        closed: case.closed_at.map(super::time).unwrap_or_default(),
    }))
}

//! The comprehensive acceptance window (综合受理窗口): find any item fast, identify
//! the applicant, tick the materials against the checklist (容缺 where the item
//! allows it), receive, print the notices.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tongban_core::Error;
use tongban_core::actor::Role;
use tongban_core::case::{ApplicantInput, ApplicantKind, Application, Channel};
use tongban_core::store::CaseOrder;
use tongban_core::usecase::cases::{CaseQuery, get_case_by_number, list_cases};
use tongban_core::usecase::catalog::{ItemQuery, list_items};
use tongban_core::usecase::org::find_applicant;

use super::cases::CaseRow;
use super::form::PageForm;
use super::portal::{form_values, materials_from};
use super::{Chrome, PageResult, SignedIn, Viewer, render};
use crate::api::search::SearchQuery;
use crate::state::AppState;

fn clerk(v: &Viewer) -> PageResult<()> {
    if v.actor.role == Role::AcceptanceClerk {
        Ok(())
    } else {
        Err(Error::forbidden("只有综合受理窗口人员可以使用此页面").into())
    }
}

/// Window search.
#[derive(Deserialize, Default)]
pub struct WindowQuery {
    /// Item name (or part of it).
    q: Option<String>,
    /// A case number to open.
    number: Option<String>,
}

#[derive(Template)]
#[template(path = "window.html")]
struct WindowPage {
    page: Chrome,
    q: String,
    items: Vec<(i64, String, String)>,
    bundles: Vec<(i64, String)>,
    recent: Vec<CaseRow>,
}

/// The window's start page.
pub async fn window(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(q): Query<WindowQuery>,
) -> PageResult {
    clerk(&v)?;
    if let Some(n) = q.number.clone().filter(|n| !n.trim().is_empty()) {
        let a = v.actor.clone();
        let yellow = s.settings.yellow_days;
        let cv = s
            .read(move |tx, env| get_case_by_number(tx, &a, env, n.trim(), yellow))
            .await?;
        return Ok(Redirect::to(&format!("/cases/{}", cv.case.id)).into_response());
    }
    let text = q.q.clone().filter(|t| !t.trim().is_empty());
    // Words typed: the search index, within the clerk's region (pinyin initials such
    // as "spjy" and people's words such as "开饭店" find the item too).
    let found = match &text {
        Some(t) => {
            let (t, filters, limit) = crate::api::search::filters_of(&SearchQuery {
                q: t.clone(),
                region: v.actor.region.as_ref().map(|r| r.as_str().to_string()),
                limit: Some(50),
                ..SearchQuery::default()
            })?;
            Some(
                s.search
                    .search(&s, &t, &filters, limit)
                    .await?
                    .into_iter()
                    .map(|h| h.item_id)
                    .collect::<Vec<_>>(),
            )
        }
        None => None,
    };
    let a = v.actor.clone();
    let yellow = s.settings.yellow_days;
    let (items, recent, departments, bundles) = s
        .read(move |tx, env| {
            let items = match found {
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
                        region: a.region.as_ref().map(|r| r.as_str().to_string()),
                        limit: Some(100),
                        ..ItemQuery::default()
                    },
                )?,
            };
            let recent = list_cases(
                tx,
                &a,
                env,
                &CaseQuery {
                    order: Some(CaseOrder::Newest),
                    limit: Some(15),
                    ..CaseQuery::default()
                },
                yellow,
            )?;
            let bundles = tongban_core::usecase::bundles::list_bundles(tx, None)?;
            Ok((items, recent, tx.departments(None)?, bundles))
        })
        .await?;
    let names: std::collections::BTreeMap<i64, String> = departments
        .into_iter()
        .map(|d| (d.id, d.short_name))
        .collect();
    Ok(render(&WindowPage {
        page: Chrome::new("综合受理", Some(&v), "/window"),
        q: q.q.unwrap_or_default(),
        items: items
            .into_iter()
            .map(|i| {
                let d = names.get(&i.department_id).cloned().unwrap_or_default();
                (i.id, i.name, d)
            })
            .collect(),
        recent: recent.items.iter().map(CaseRow::from).collect(),
        bundles: bundles
            .into_iter()
            .filter_map(|b| b.published().map(|p| (b.id, p.spec.name.clone())))
            .collect(),
    }))
}

struct MaterialChoice {
    code: String,
    name: String,
    requirement: String,
    form: String,
    copies: u32,
    rongque: bool,
    certificate: String,
}

struct FieldInput {
    key: String,
    label: String,
    input: String,
    required: bool,
    options: Vec<String>,
    help: String,
}

#[derive(Template)]
#[template(path = "receive.html")]
struct ReceivePage {
    page: Chrome,
    item_id: i64,
    item: String,
    department: String,
    processing: String,
    rongque_days: u32,
    kind: String,
    identifier: String,
    name: String,
    phone: String,
    legal_representative: String,
    found: String,
    fields: Vec<FieldInput>,
    materials: Vec<MaterialChoice>,
}

/// Look up an applicant already on record.
#[derive(Deserialize, Default)]
pub struct Lookup {
    identifier: Option<String>,
}

/// The receiving form for one item.
pub async fn receive_form(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Path(item): Path<i64>,
    Query(q): Query<Lookup>,
) -> PageResult {
    clerk(&v)?;
    let a = v.actor.clone();
    let ident = q
        .identifier
        .clone()
        .map(|i| i.trim().to_uppercase())
        .filter(|i| !i.is_empty());
    let (iv, dept, found) = s
        .read(move |tx, _| {
            let iv = tongban_core::usecase::catalog::get_item(tx, None, item, None)?;
            let dept = tx
                .department(iv.item.department_id)?
                .map(|d| d.name)
                .unwrap_or_default();
            let found = match &ident {
                Some(i) => match find_applicant(tx, &a, i) {
                    Ok(ap) => Some(ap),
                    Err(Error::NotFound { .. }) => None,
                    Err(e) => return Err(e),
                },
                None => None,
            };
            Ok((iv, dept, found))
        })
        .await?;
    let spec = &iv.version.spec;
    let identifier = q.identifier.unwrap_or_default().trim().to_uppercase();
    // A resident ID number (GB 11643) means a person; anything else typed is taken
    // for a credit code. A record found decides.
    let kind = match &found {
        Some(f) if f.kind == ApplicantKind::Enterprise => "enterprise",
        Some(_) => "person",
        None if identifier.is_empty()
            || tongban_core::identity::IdNumber::parse(&identifier).is_ok() =>
        {
            "person"
        }
        None => "enterprise",
    };
    Ok(render(&ReceivePage {
        page: Chrome::new(format!("收件：{}", iv.item.name), Some(&v), "/window"),
        item_id: iv.item.id,
        item: iv.item.name.clone(),
        department: dept,
        processing: spec.processing_type.label().into(),
        rongque_days: spec.rongque_days,
        kind: kind.into(),
        name: found.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
        phone: found.as_ref().map(|f| f.phone.clone()).unwrap_or_default(),
        legal_representative: String::new(),
        found: match (&found, identifier.is_empty()) {
            (Some(f), _) => format!("已找到申请人记录：{}，信息已填入，请核对证件。", f.name),
            (None, false) => "无此申请人记录，将按所填信息新建。".into(),
            (None, true) => String::new(),
        },
        identifier,
        fields: spec
            .fields
            .iter()
            .map(|f| FieldInput {
                key: f.key.clone(),
                label: f.label.clone(),
                input: super::portal::input_type(f.kind).into(),
                required: f.required,
                options: f.options.clone(),
                help: f.help.clone(),
            })
            .collect(),
        materials: spec
            .materials
            .iter()
            .map(|m| MaterialChoice {
                code: m.code.clone(),
                name: m.name.clone(),
                requirement: match &m.requirement {
                    tongban_core::catalog::material::Requirement::Required => "必要".into(),
                    tongban_core::catalog::material::Requirement::Optional => "非必要".into(),
                    tongban_core::catalog::material::Requirement::Conditional {
                        condition, ..
                    } => {
                        format!("情形：{condition}")
                    }
                },
                form: m.form.label().into(),
                copies: m.copies,
                rongque: m.rongque,
                certificate: m.certificate_type.clone().unwrap_or_default(),
            })
            .collect(),
    }))
}

/// Receive at the window (收件): the case is created and its notices can be printed.
pub async fn receive(State(s): State<AppState>, Path(item): Path<i64>, f: PageForm) -> PageResult {
    clerk(&f.viewer)?;
    let actor = f.viewer.actor.clone();
    let iv = s
        .read(move |tx, _| tongban_core::usecase::catalog::get_item(tx, None, item, None))
        .await?;
    let codes: Vec<String> = iv
        .version
        .spec
        .materials
        .iter()
        .map(|m| m.code.clone())
        .collect();
    let materials = materials_from(&s, &f.data, &codes).await?;
    let kind = match f.data.text("kind").as_str() {
        "enterprise" => ApplicantKind::Enterprise,
        _ => ApplicantKind::Person,
    };
    let rongque_due = match f.data.opt("rongque_due") {
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|_| Error::field("rongque_due", "日期格式应为 年-月-日"))?,
        ),
        None => None,
    };
    let app = Application {
        item_id: item,
        channel: if f.data.text("channel") == "post" {
            Channel::Post
        } else {
            Channel::Window
        },
        form: form_values(&f.data),
        materials,
        rongque_due,
        submit: true,
        authorization: None,
        applicant: Some(ApplicantInput {
            kind,
            identifier: f.data.text("identifier").to_uppercase(),
            name: f.data.text("name"),
            phone: f.data.text("phone"),
            legal_representative: f.data.opt("legal_representative"),
        }),
    };
    let c = s.receive(actor, app).await?;
    Ok(Redirect::to(&format!("/cases/{}?ok=receive", c.id)).into_response())
}

#[derive(Template)]
#[template(path = "window_bundle.html")]
struct BundleReceivePage {
    page: Chrome,
    id: i64,
    name: String,
    questions: Vec<(String, String, Vec<String>, String)>,
    answered: bool,
    answers_query: String,
    items: Vec<String>,
    fields: Vec<FieldInput>,
    materials: Vec<(usize, String, bool, bool, String, String)>,
}

/// Receive a bundle (一件事) at the window: the scenario questions, then the applicant,
/// one form and one material checklist.
pub async fn bundle_form(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Path(id): Path<i64>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> PageResult {
    clerk(&v)?;
    let answers = super::bundles::answers_of(q.as_deref());
    let b = s
        .read(move |tx, _| {
            tx.bundle(id)?.ok_or(Error::NotFound {
                entity: "一件事"
            })
        })
        .await?;
    let spec = b
        .published()
        .map(|p| p.spec.clone())
        .ok_or(Error::NotFound {
            entity: "一件事"
        })?;
    let answered = !answers.is_empty();
    let a2 = answers.clone();
    let g = if answered {
        Some(
            s.read(move |tx, _| tongban_core::usecase::bundles::guide(tx, id, &a2))
                .await?,
        )
    } else {
        None
    };
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &answers {
        ser.append_pair(&format!("a.{k}"), v);
    }
    Ok(render(&BundleReceivePage {
        page: Chrome::new(format!("一件事收件：{}", spec.name), Some(&v), "/window"),
        id,
        name: spec.name.clone(),
        questions: spec
            .questions
            .iter()
            .map(|q| {
                (
                    q.key.clone(),
                    q.text.clone(),
                    q.options.clone(),
                    answers.get(&q.key).cloned().unwrap_or_default(),
                )
            })
            .collect(),
        answered,
        answers_query: ser.finish(),
        items: g
            .as_ref()
            .map(|g| g.items.iter().map(|i| i.name.clone()).collect())
            .unwrap_or_default(),
        fields: g
            .as_ref()
            .map(|g| {
                g.merged
                    .fields
                    .iter()
                    .map(|f| FieldInput {
                        key: f.field.key.clone(),
                        label: f.field.label.clone(),
                        input: super::portal::input_type(f.field.kind).into(),
                        required: f.field.required,
                        options: f.field.options.clone(),
                        help: f.field.help.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        materials: g
            .as_ref()
            .map(|g| {
                g.merged
                    .materials
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        (
                            i,
                            m.name.clone(),
                            m.required,
                            m.rongque,
                            m.certificate_type.clone().unwrap_or_default(),
                            format!("{} 个事项共用", m.sources.len()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }))
}

/// Receive the bundle: a child case per item, in one transaction.
pub async fn bundle_receive(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
    f: PageForm,
) -> PageResult {
    clerk(&f.viewer)?;
    let answers = super::bundles::answers_of(q.as_deref());
    let a2 = answers.clone();
    let g = s
        .read(move |tx, _| tongban_core::usecase::bundles::guide(tx, id, &a2))
        .await?;
    let d = &f.data;
    let mut materials = Vec::new();
    for (i, m) in g.merged.materials.iter().enumerate() {
        use tongban_core::case::MaterialInput;
        let input = if let Some(no) = d.opt(&format!("bcert.{i}")) {
            MaterialInput::Shared { certificate_no: no }
        } else {
            match d.text(&format!("bmat.{i}")).as_str() {
                "paper" => MaterialInput::Provided {
                    electronic: false,
                    files: vec![],
                },
                "rongque" => MaterialInput::Rongque,
                _ => continue,
            }
        };
        materials.push(tongban_core::usecase::bundles::BundleMaterialLine {
            name: m.name.clone(),
            input,
        });
    }
    let rongque_due = match d.opt("rongque_due") {
        Some(x) => Some(
            chrono::NaiveDate::parse_from_str(&x, "%Y-%m-%d")
                .map_err(|_| Error::field("rongque_due", "日期格式应为 年-月-日"))?,
        ),
        None => None,
    };
    let app = tongban_core::usecase::bundles::BundleApplication {
        bundle_id: id,
        answers,
        channel: Channel::Window,
        form: form_values(d),
        materials,
        rongque_due,
        applicant: Some(ApplicantInput {
            kind: if d.text("kind") == "enterprise" {
                ApplicantKind::Enterprise
            } else {
                ApplicantKind::Person
            },
            identifier: d.text("identifier").to_uppercase(),
            name: d.text("name"),
            phone: d.text("phone"),
            legal_representative: d.opt("legal_representative"),
        }),
        authorization: None,
    };
    let actor = f.viewer.actor.clone();
    let bc = s
        .write(move |tx, env| tongban_core::usecase::bundles::apply_bundle(tx, &actor, env, &app))
        .await?;
    Ok(Redirect::to(&format!("/bundle-cases/{}?ok=receive", bc.id)).into_response())
}

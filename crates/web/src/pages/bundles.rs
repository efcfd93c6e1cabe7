//! 一件事一次办 pages: the bundles, the scenario guide with one form and one material
//! set, applying once, and the bundle's one progress view.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect};
use tongban_core::Error;
use tongban_core::actor::Role;
use tongban_core::case::{Action, CaseState, Channel, MaterialInput, MaterialLine};
use tongban_core::usecase::bundles::{
    BundleApplication, BundleMaterialLine, Guide, answer_corrections, apply_bundle,
    bundle_case_view, guide, list_bundles,
};

use super::form::PageForm;
use super::{Chrome, MaybeViewer, PageResult, SignedIn, date, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "bundles.html")]
struct ListPage {
    page: Chrome,
    bundles: Vec<(i64, String, String)>,
}

/// The bundles (一件事一次办).
pub async fn list(State(s): State<AppState>, MaybeViewer(v): MaybeViewer) -> PageResult {
    let all = s.read(|tx, _| list_bundles(tx, None)).await?;
    Ok(render(&ListPage {
        page: Chrome::new("一件事一次办", v.as_ref(), "/bundles"),
        bundles: all
            .into_iter()
            .filter_map(|b| {
                b.published()
                    .map(|p| (b.id, p.spec.name.clone(), p.spec.description.clone()))
            })
            .collect(),
    }))
}

struct QuestionRow {
    key: String,
    text: String,
    options: Vec<String>,
    answer: String,
}

struct FieldRow {
    key: String,
    label: String,
    input: String,
    required: bool,
    options: Vec<String>,
    items: String,
}

struct MaterialRow {
    index: usize,
    name: String,
    required: bool,
    rongque: bool,
    certificate: String,
    items: String,
}

#[derive(Template)]
#[template(path = "bundle.html")]
struct GuidePage {
    page: Chrome,
    id: i64,
    name: String,
    description: String,
    questions: Vec<QuestionRow>,
    answered: bool,
    answers_query: String,
    items: Vec<(String, String, String)>,
    fields: Vec<FieldRow>,
    materials: Vec<MaterialRow>,
    can_apply: bool,
}

/// The answers in a query: `a.<key>=<option>`.
pub(crate) fn answers_of(query: Option<&str>) -> BTreeMap<String, String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter_map(|(k, v)| {
            k.strip_prefix("a.")
                .map(|k| (k.to_string(), v.into_owned()))
        })
        .collect()
}

fn names(g: &Guide, ids: &[i64]) -> String {
    ids.iter()
        .filter_map(|id| {
            g.items
                .iter()
                .find(|i| i.item_id == *id)
                .map(|i| i.name.clone())
        })
        .collect::<Vec<_>>()
        .join("、")
}

/// The scenario guide: answer the questions, get the items, one form, one material set.
pub async fn guide_page(
    State(s): State<AppState>,
    MaybeViewer(v): MaybeViewer,
    Path(id): Path<i64>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let answers = answers_of(q.as_deref());
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
        Some(s.read(move |tx, _| guide(tx, id, &a2)).await?)
    } else {
        None
    };
    let departments = s.read(|tx, _| tx.departments(None)).await?;
    let dept = |d: i64| {
        departments
            .iter()
            .find(|x| x.id == d)
            .map(|x| x.name.clone())
            .unwrap_or_default()
    };
    let answers_query: String = {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &answers {
            ser.append_pair(&format!("a.{k}"), v);
        }
        ser.finish()
    };
    let page = GuidePage {
        page: Chrome::new(spec.name.clone(), v.as_ref(), "/bundles"),
        id,
        name: spec.name.clone(),
        description: spec.description.clone(),
        questions: spec
            .questions
            .iter()
            .map(|q| QuestionRow {
                key: q.key.clone(),
                text: q.text.clone(),
                options: q.options.clone(),
                answer: answers.get(&q.key).cloned().unwrap_or_default(),
            })
            .collect(),
        answered,
        answers_query,
        items: g
            .as_ref()
            .map(|g| {
                g.items
                    .iter()
                    .map(|i| {
                        (
                            i.name.clone(),
                            dept(i.department_id),
                            if i.after.is_empty() {
                                "并联办理".to_string()
                            } else {
                                format!("在“{}”准予后决定", names(g, &i.after))
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        fields: g
            .as_ref()
            .map(|g| {
                g.merged
                    .fields
                    .iter()
                    .map(|f| FieldRow {
                        key: f.field.key.clone(),
                        label: f.field.label.clone(),
                        input: super::portal::input_type(f.field.kind).into(),
                        required: f.field.required,
                        options: f.field.options.clone(),
                        items: names(g, &f.items),
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
                    .map(|(index, m)| MaterialRow {
                        index,
                        name: m.name.clone(),
                        required: m.required,
                        rongque: m.rongque,
                        certificate: m.certificate_type.clone().unwrap_or_default(),
                        items: names(g, &m.sources.iter().map(|s| s.item_id).collect::<Vec<_>>()),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        can_apply: v.as_ref().is_none_or(|v| v.actor.role == Role::Applicant),
    };
    Ok(render(&page))
}

/// Apply once, online, for every item the answers chose.
pub async fn apply(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    RawQuery(q): RawQuery,
    f: PageForm,
) -> PageResult {
    if f.viewer.actor.role != Role::Applicant {
        return Err(Error::forbidden("网上申请须以申请人身份登录").into());
    }
    let answers = answers_of(q.as_deref());
    let a2 = answers.clone();
    let g = s.read(move |tx, _| guide(tx, id, &a2)).await?;
    // Uploads under `bm.<index of the merged material>`, certificates under `bcert.<index>`.
    let mut stored =
        super::portal::store_uploads(&s, &f.data, "bm.", |i| format!("materials[{i}]")).await?;
    let mut materials = Vec::new();
    for (i, m) in g.merged.materials.iter().enumerate() {
        let input = if let Some(files) = stored.remove(&i.to_string()) {
            MaterialInput::Provided {
                electronic: true,
                files,
            }
        } else if let Some(no) = f.data.opt(&format!("bcert.{i}")) {
            MaterialInput::Shared { certificate_no: no }
        } else {
            continue;
        };
        materials.push(BundleMaterialLine {
            name: m.name.clone(),
            input,
        });
    }
    let app = BundleApplication {
        bundle_id: id,
        answers,
        channel: Channel::Online,
        form: super::portal::form_values(&f.data),
        materials,
        rongque_due: None,
        applicant: None,
        authorization: None,
    };
    let actor = f.viewer.actor.clone();
    let bc = s
        .write(move |tx, env| apply_bundle(tx, &actor, env, &app))
        .await?;
    Ok(Redirect::to(&format!("/bundle-cases/{}?ok=receive", bc.id)).into_response())
}

struct CorrectionRow {
    case_id: i64,
    item: String,
    label: String,
    problem: String,
    /// The input's name: `c.<case>.form.<key>` or `c.<case>.file.<code>`.
    input: String,
    file: bool,
}

struct ChildRow {
    case_id: String,
    number: String,
    item: String,
    state: String,
    due: String,
    after: String,
}

#[derive(Template)]
#[template(path = "bundle_case.html")]
struct CasePage {
    page: Chrome,
    name: String,
    children: Vec<ChildRow>,
    id: i64,
    owner: bool,
    corrections: Vec<CorrectionRow>,
    inspections: Vec<(u32, String, String, String)>,
    staff: bool,
    ready: bool,
    approved: Vec<String>,
    not_approved: Vec<(String, String)>,
    pending: Vec<String>,
}

/// The bundle's one progress view.
pub async fn case_page(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Path(id): Path<i64>,
) -> PageResult {
    let a = v.actor.clone();
    let view = s.read(move |tx, _| bundle_case_view(tx, &a, id)).await?;
    let item_name = |item: i64| {
        view.bundle_case
            .children
            .iter()
            .position(|c| c.item_id == item)
            .and_then(|i| view.children.get(i))
            .map(|c| c.item_name.clone())
            .unwrap_or_default()
    };
    let page = CasePage {
        page: Chrome::new(format!("一件事：{}", view.bundle_case.name), Some(&v), ""),
        name: view.bundle_case.name.clone(),
        children: view
            .children
            .iter()
            .map(|c| ChildRow {
                case_id: c.case_id.map(|i| i.to_string()).unwrap_or_default(),
                number: c.number.clone(),
                item: c.item_name.clone(),
                state: c.state_label.clone(),
                due: c.due.map(date).unwrap_or_default(),
                after: c
                    .after
                    .iter()
                    .map(|i| item_name(*i))
                    .collect::<Vec<_>>()
                    .join("、"),
            })
            .collect(),
        id,
        owner: matches!(v.actor.role, Role::Applicant | Role::Agent),
        corrections: view
            .corrections
            .iter()
            .map(|c| {
                let file = !c.item.target.starts_with("form.");
                CorrectionRow {
                    case_id: c.case_id,
                    item: c.item_name.clone(),
                    label: c.target_label.clone(),
                    problem: c.item.problem.clone(),
                    input: if file {
                        format!("c.{}.file.{}", c.case_id, c.item.target)
                    } else {
                        format!("c.{}.{}", c.case_id, c.item.target)
                    },
                    file,
                }
            })
            .collect(),
        inspections: view
            .bundle_case
            .inspections
            .iter()
            .map(|j| {
                let names = |ids: &[i64]| {
                    ids.iter()
                        .filter_map(|id| {
                            view.bundle_case
                                .children
                                .iter()
                                .position(|c| c.case_id == *id)
                                .and_then(|i| view.children.get(i))
                                .map(|c| c.item_name.clone())
                        })
                        .collect::<Vec<_>>()
                        .join("、")
                };
                (
                    j.seq,
                    format!("{} {}（{}安排）", date(j.date), j.place, j.scheduled_by),
                    names(&j.case_ids),
                    names(&j.joined),
                )
            })
            .collect(),
        staff: matches!(v.actor.role, Role::DeptReviewer | Role::DeptApprover),
        ready: view.issuance.ready,
        approved: view.issuance.approved.clone(),
        not_approved: view.issuance.not_approved.clone(),
        pending: view.issuance.pending.clone(),
    };
    Ok(render(&page))
}

/// Answer the combined correction notice in one submission: form values under
/// `c.<case>.form.<key>`, uploads under `c.<case>.file.<material code>`; every child
/// that asked is answered in one transaction, or none.
pub async fn answer(State(s): State<AppState>, Path(id): Path<i64>, f: PageForm) -> PageResult {
    let a = f.viewer.actor.clone();
    let view = s.read(move |tx, _| bundle_case_view(tx, &a, id)).await?;
    let mut answers = Vec::new();
    for child in &view.children {
        let Some(case_id) = child.case_id else {
            continue;
        };
        let resubmit = match child.state {
            CaseState::CorrectionRequested => false,
            CaseState::ReturnedToApplicant => true,
            _ => continue,
        };
        let items: Vec<&str> = view
            .corrections
            .iter()
            .filter(|c| c.case_id == case_id)
            .map(|c| c.item.target.as_str())
            .collect();
        let prefix = format!("c.{case_id}.");
        let form: BTreeMap<String, String> = items
            .iter()
            .filter_map(|t| t.strip_prefix("form."))
            .filter_map(|k| {
                f.data
                    .opt(&format!("{prefix}form.{k}"))
                    .map(|v| (k.to_string(), v))
            })
            .collect();
        let stored = super::portal::store_uploads(&s, &f.data, &format!("{prefix}file."), |c| {
            format!("materials.{c}")
        })
        .await?;
        let materials: Vec<MaterialLine> = stored
            .into_iter()
            .filter(|(code, _)| items.contains(&code.as_str()))
            .map(|(code, files)| MaterialLine {
                code,
                input: MaterialInput::Provided {
                    electronic: true,
                    files,
                },
            })
            .collect();
        let action = if resubmit {
            Action::Resubmit { form, materials }
        } else {
            Action::SupplyCorrection { form, materials }
        };
        answers.push((case_id, action));
    }
    let a = f.viewer.actor.clone();
    s.write(move |tx, env| answer_corrections(tx, &a, env, id, &answers))
        .await?;
    Ok(Redirect::to(&format!("/bundle-cases/{id}?ok=answer")).into_response())
}

/// Join a joint site inspection from the bundle page (department staff).
pub async fn join(
    State(s): State<AppState>,
    Path((id, seq)): Path<(i64, u32)>,
    f: PageForm,
) -> PageResult {
    let a = f.viewer.actor.clone();
    s.write(move |tx, env| {
        tongban_core::usecase::bundles::join_joint_inspection(tx, &a, env, id, seq)
    })
    .await?;
    Ok(Redirect::to(&format!("/bundle-cases/{id}?ok=join")).into_response())
}

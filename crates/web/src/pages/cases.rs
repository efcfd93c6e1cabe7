//! Case pages: the lists of each role (my cases, the department inbox, the issuance
//! window, supervision), one case with its timeline, deadlines and the forms of the
//! actions the viewer may take, and downloads of uploaded materials.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tongban_core::Error;
use tongban_core::actor::Role;
use tongban_core::case::{
    Action, ActionKind, Case, CaseState, CommitmentStatus, MaterialStatus, NoticeKind, Warning,
};
use tongban_core::catalog::spec::ItemSpec;
use tongban_core::store::CaseOrder;
use tongban_core::usecase::cases::{
    CaseListItem, CaseQuery, CaseView, act as act_on, case_events, get_case, list_cases, view,
};

use super::form::PageForm;
use super::portal::{form_values, materials_from};
use super::{Chrome, PageResult, SignedIn, Viewer, date, render, time};
use crate::state::AppState;

/// A row of a case list.
pub struct CaseRow {
    pub(crate) id: i64,
    pub(crate) number: String,
    pub(crate) item: String,
    pub(crate) applicant: String,
    pub(crate) state: String,
    pub(crate) due: String,
    pub(crate) due_label: String,
    pub(crate) mark: &'static str,
    pub(crate) mark_label: String,
    pub(crate) rongque_due: String,
    pub(crate) created: String,
}

impl CaseRow {
    /// From a list entry.
    pub fn from(c: &CaseListItem) -> CaseRow {
        CaseRow {
            id: c.id,
            number: c.number.clone(),
            item: c.item_name.clone(),
            applicant: c.applicant_name.clone(),
            state: c.state_label.clone(),
            due: c.due.map(date).unwrap_or_default(),
            due_label: c
                .due_clock
                .map(|k| k.label().to_string())
                .unwrap_or_default(),
            mark: mark(c.warning),
            mark_label: match c.warning {
                Warning::None => String::new(),
                w => w.label().to_string(),
            },
            rongque_due: c.rongque_due.map(date).unwrap_or_default(),
            created: time(c.created_at),
        }
    }
}

fn mark(w: Warning) -> &'static str {
    match w {
        Warning::None => "",
        Warning::Yellow => "yellow",
        Warning::Red => "red",
    }
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListPage {
    page: Chrome,
    heading: String,
    intro: String,
    path: String,
    filter: String,
    filters: Vec<(String, String)>,
    rows: Vec<CaseRow>,
    next: String,
    counts: Vec<(String, usize, usize)>,
    /// The same list as a spreadsheet.
    export: String,
}

/// The spreadsheet download of a list (`GET /api/v1/cases/export`, same filters).
fn export_url(q: &CaseQuery) -> String {
    let mut u = form_urlencoded::Serializer::new(String::new());
    if let Some(st) = &q.state {
        u.append_pair("state", st);
    }
    if let Some(w) = q.warning {
        u.append_pair(
            "warning",
            match w {
                Warning::Red => "red",
                _ => "yellow",
            },
        );
    }
    if let Some(CaseOrder::Newest) = q.order {
        u.append_pair("order", "newest");
    }
    if let Some(d) = q.department_id {
        u.append_pair("department_id", &d.to_string());
    }
    format!("/api/v1/cases/export?{}", u.finish())
}

/// List filters.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    /// A preset of the page (e.g. `red`).
    pub show: Option<String>,
    /// Next page.
    pub cursor: Option<String>,
    /// Only this department (the supervisor's drill-down from the dashboard).
    pub department: Option<i64>,
}

async fn list(
    s: &AppState,
    v: &Viewer,
    mut q: CaseQuery,
    cursor: Option<String>,
) -> PageResult<(Vec<CaseRow>, String, String)> {
    let export = export_url(&q);
    q.cursor = cursor.filter(|c| !c.is_empty());
    let a = v.actor.clone();
    let yellow = s.settings.yellow_days;
    let page = s
        .read(move |tx, env| list_cases(tx, &a, env, &q, yellow))
        .await?;
    Ok((
        page.items.iter().map(CaseRow::from).collect(),
        page.next_cursor.unwrap_or_default(),
        export,
    ))
}

fn warning_filter(show: &str) -> Option<Warning> {
    match show {
        "yellow" => Some(Warning::Yellow),
        "red" => Some(Warning::Red),
        _ => None,
    }
}

fn require(v: &Viewer, roles: &[Role]) -> PageResult<()> {
    if roles.contains(&v.actor.role) {
        Ok(())
    } else {
        Err(Error::forbidden(format!("“{}”不能使用此页面", v.actor.role.label())).into())
    }
}

/// 我的办件 — an applicant's (or agent's) own cases.
pub async fn my_cases(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(q): Query<ListQuery>,
) -> PageResult {
    require(&v, &[Role::Applicant, Role::Agent])?;
    let (rows, next, export) = list(
        &s,
        &v,
        CaseQuery {
            order: Some(CaseOrder::Newest),
            ..CaseQuery::default()
        },
        q.cursor,
    )
    .await?;
    Ok(render(&ListPage {
        page: Chrome::new("我的办件", Some(&v), "/my"),
        heading: "我的办件".into(),
        intro: "点击办件编号查看进度、期限和需要您做的事。".into(),
        path: "/my".into(),
        filter: String::new(),
        filters: vec![],
        rows,
        next,
        export,
        counts: vec![],
    }))
}

/// 待办件 — a department's inbox, earliest deadline first, yellow and red marked.
pub async fn inbox(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(q): Query<ListQuery>,
) -> PageResult {
    require(&v, &[Role::DeptReviewer, Role::DeptApprover])?;
    let show = q.show.clone().unwrap_or_default();
    let (rows, next, export) = list(
        &s,
        &v,
        CaseQuery {
            state: Some("open".into()),
            warning: warning_filter(&show),
            order: Some(CaseOrder::Due),
            ..CaseQuery::default()
        },
        q.cursor,
    )
    .await?;
    Ok(render(&ListPage {
        page: Chrome::new("待办件", Some(&v), "/inbox"),
        heading: "本部门待办件".into(),
        intro: "按期限先后排列；黄色为临近期限，红色为已超期。".into(),
        path: "/inbox".into(),
        filter: show,
        filters: vec![
            ("".into(), "全部在办".into()),
            ("yellow".into(), "临近期限及超期".into()),
            ("red".into(), "已超期".into()),
        ],
        rows,
        next,
        export,
        counts: vec![],
    }))
}

/// 出件窗口 — results to check, deliver, confirm and archive.
pub async fn issuance(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(q): Query<ListQuery>,
) -> PageResult {
    require(&v, &[Role::IssuanceClerk])?;
    let show = q.show.clone().unwrap_or_default();
    let state = match show.as_str() {
        "check" => "result_ready",
        "deliver" => "ready_to_deliver",
        "post" => "in_post",
        "archive" => "delivered",
        _ => "result_ready,ready_to_deliver,in_post,delivered,result_correction",
    };
    let (rows, next, export) = list(
        &s,
        &v,
        CaseQuery {
            state: Some(state.into()),
            order: Some(CaseOrder::Due),
            ..CaseQuery::default()
        },
        q.cursor,
    )
    .await?;
    Ok(render(&ListPage {
        page: Chrome::new("出件窗口", Some(&v), "/issuance"),
        heading: "统一出件".into(),
        intro: "核验办理结果，送达（窗口领取或邮寄），归档。".into(),
        path: "/issuance".into(),
        filter: show,
        filters: vec![
            ("".into(), "全部".into()),
            ("check".into(), "待核验".into()),
            ("deliver".into(), "待送达".into()),
            ("post".into(), "邮寄中".into()),
            ("archive".into(), "待归档".into()),
        ],
        rows,
        next,
        export,
        counts: vec![],
    }))
}

/// 督办 — warned and overdue cases across departments, with counts per department.
pub async fn supervise(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(q): Query<ListQuery>,
) -> PageResult {
    require(&v, &[Role::Supervisor])?;
    let show = q
        .show
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or("yellow".into());
    let query = CaseQuery {
        state: Some("open".into()),
        warning: warning_filter(&show),
        department_id: q.department,
        order: Some(CaseOrder::Due),
        limit: Some(200),
        ..CaseQuery::default()
    };
    // Counts over (at most) the first 2,000 warned cases, read page by page.
    let a = v.actor.clone();
    let yellow = s.settings.yellow_days;
    let counted = query.clone();
    let (all, departments) = s
        .read(move |tx, env| {
            let mut all = Vec::new();
            let mut q = counted;
            for _ in 0..10 {
                let p = list_cases(tx, &a, env, &q, yellow)?;
                all.extend(p.items);
                match p.next_cursor {
                    Some(c) => q.cursor = Some(c),
                    None => break,
                }
            }
            Ok((all, tx.departments(None)?))
        })
        .await?;
    let names: BTreeMap<i64, String> = departments.into_iter().map(|d| (d.id, d.name)).collect();
    let mut per: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    for c in &all {
        let e = per.entry(c.department_id).or_default();
        match c.warning {
            Warning::Red => e.1 += 1,
            Warning::Yellow => e.0 += 1,
            Warning::None => {}
        }
    }
    let mut counts: Vec<(String, usize, usize)> = per
        .into_iter()
        .map(|(d, (y, r))| (names.get(&d).cloned().unwrap_or_default(), y, r))
        .collect();
    counts.sort_by_key(|c| std::cmp::Reverse((c.2, c.1)));
    let (rows, next, export) = list(&s, &v, query, q.cursor).await?;
    Ok(render(&ListPage {
        page: Chrome::new("督办", Some(&v), "/supervise"),
        heading: "预警与超期办件".into(),
        intro: "本辖区各部门临近期限（黄牌）和超期（红牌）的在办件。".into(),
        path: "/supervise".into(),
        filter: show,
        filters: vec![
            ("yellow".into(), "黄牌及红牌".into()),
            ("red".into(), "红牌（超期）".into()),
        ],
        rows,
        next,
        export,
        counts,
    }))
}

/// One input of an action form.
pub struct Input {
    name: String,
    label: String,
    /// text, textarea, date, number, select, file, checkbox, hidden.
    kind: &'static str,
    options: Vec<(String, String)>,
    required: bool,
    value: String,
    hint: String,
}

impl Input {
    fn new(name: impl Into<String>, label: impl Into<String>, kind: &'static str) -> Input {
        Input {
            name: name.into(),
            label: label.into(),
            kind,
            options: vec![],
            required: false,
            value: String::new(),
            hint: String::new(),
        }
    }
    fn required(mut self) -> Input {
        self.required = true;
        self
    }
    fn value(mut self, v: impl Into<String>) -> Input {
        self.value = v.into();
        self
    }
    fn hint(mut self, h: impl Into<String>) -> Input {
        self.hint = h.into();
        self
    }
    fn options(mut self, o: Vec<(String, String)>) -> Input {
        self.options = o;
        self
    }
}

/// The form of one action.
pub struct ActionForm {
    kind: String,
    label: String,
    inputs: Vec<Input>,
    danger: bool,
    intro: String,
}

struct ClockRow {
    label: String,
    started: String,
    deadline: String,
    status: String,
    provisional: bool,
}

struct EventRow {
    at: String,
    who: String,
    what: String,
    to: String,
    reason: String,
}

struct MaterialRow {
    name: String,
    required: bool,
    status: String,
    files: Vec<(String, String)>,
}

struct NoticeRow {
    seq: u32,
    kind: String,
    items: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    page: Chrome,
    id: i64,
    number: String,
    item: String,
    processing: String,
    department: String,
    applicant: String,
    channel: String,
    state: String,
    mark: &'static str,
    mark_label: String,
    due: String,
    due_label: String,
    expected: String,
    form: Vec<(String, String)>,
    materials: Vec<MaterialRow>,
    notices: Vec<NoticeRow>,
    commitments: Vec<(u32, String, String, String)>,
    clocks: Vec<ClockRow>,
    outcome: Vec<(String, String)>,
    events: Vec<EventRow>,
    actions: Vec<ActionForm>,
    prints: Vec<(String, String)>,
    version: i64,
    bundle_case: String,
    /// The case has ended for the applicant: its rating page (rate, ask for a rating,
    /// see the rating).
    rating: bool,
}

/// After an action: `?ok=<action>`.
#[derive(Deserialize, Default)]
pub struct Done {
    ok: Option<String>,
}

fn action_label(name: &str) -> String {
    if name == "receive" {
        return "收件".into();
    }
    serde_json::from_value::<ActionKind>(Value::String(name.into()))
        .map(|k| k.label().to_string())
        .unwrap_or_else(|_| name.to_string())
}

fn target_label(spec: &ItemSpec, target: &str) -> String {
    if let Some(k) = target.strip_prefix("form.") {
        return spec
            .fields
            .iter()
            .find(|f| f.key == k)
            .map(|f| format!("表单：{}", f.label))
            .unwrap_or_else(|| format!("表单：{k}"));
    }
    spec.materials
        .iter()
        .find(|m| m.code == target)
        .map(|m| m.name.clone())
        .unwrap_or_else(|| target.to_string())
}

fn expected_of(c: &Case, applicant: bool) -> String {
    if !applicant {
        return String::new();
    }
    let mut out = match c.state {
        CaseState::Draft => "申请尚未提交：请核对后点击“提交”。".to_string(),
        CaseState::Submitted => "已提交，等待网上预审。".to_string(),
        CaseState::ReturnedToApplicant | CaseState::CorrectionRequested => {
            "请按下方通知书所列事项一次性补正，然后点击“补正”提交。".to_string()
        }
        CaseState::Received => "已收件，等待部门受理。".to_string(),
        CaseState::UnderReview | CaseState::Paused => "部门正在审查，无需您操作。".to_string(),
        CaseState::Decided | CaseState::ResultReady | CaseState::ResultCorrection => {
            "已作出决定，正在制作和核验办理结果。".to_string()
        }
        CaseState::ReadyToDeliver => {
            "办理结果已可领取：请携带身份证件到出件窗口领取，或等待邮寄。".to_string()
        }
        CaseState::InPost => "办理结果已邮寄，收到后请确认签收。".to_string(),
        CaseState::Delivered | CaseState::Archived => "已办结并送达。".to_string(),
        CaseState::Refused => "不予受理，理由见下方。".to_string(),
        CaseState::Withdrawn | CaseState::Terminated | CaseState::Discarded => {
            "办件已结束。".to_string()
        }
    };
    for k in c
        .commitments
        .iter()
        .filter(|k| k.status == CommitmentStatus::Open)
    {
        out.push_str(&format!(
            "容缺材料须在 {} 前补交：{}。",
            date(k.due),
            k.materials.join("、")
        ));
    }
    if c.held {
        out.push_str("因容缺材料逾期未补交，办件已暂停办理。");
    }
    out
}

fn forms(cv: &CaseView, spec: &ItemSpec, viewer: &Viewer) -> Vec<ActionForm> {
    let c = &cv.case;
    let staff = viewer.actor.role != Role::Applicant && viewer.actor.role != Role::Agent;
    let targets: Vec<(String, String)> = spec
        .materials
        .iter()
        .map(|m| (m.code.clone(), m.name.clone()))
        .chain(
            spec.fields
                .iter()
                .map(|f| (format!("form.{}", f.key), format!("表单：{}", f.label))),
        )
        .collect();
    let last_notice = c.notices.last();
    let supply_inputs = || -> Vec<Input> {
        let mut v = Vec::new();
        for it in last_notice.map(|n| n.items.as_slice()).unwrap_or(&[]) {
            let label = format!("{}（{}）", target_label(spec, &it.target), it.problem);
            if let Some(k) = it.target.strip_prefix("form.") {
                v.push(
                    Input::new(format!("form.{k}"), label, "text")
                        .value(c.form.get(k).cloned().unwrap_or_default()),
                );
            } else if staff {
                v.push(
                    Input::new(
                        format!("material.{}", it.target),
                        format!("{label}：已收取纸质材料"),
                        "checkbox",
                    )
                    .value("paper"),
                );
            } else {
                v.push(Input::new(format!("file.{}", it.target), label, "file"));
            }
        }
        v
    };
    let mut out = Vec::new();
    for kind in &cv.available_actions {
        let (inputs, danger, intro): (Vec<Input>, bool, String) = match kind {
            ActionKind::PreReviewReturn | ActionKind::RequestCorrection => (
                targets
                    .iter()
                    .map(|(t, l)| {
                        Input::new(format!("problem.{t}"), l.clone(), "text")
                            .hint("需补正时填写问题和要求，不需要的留空")
                    })
                    .collect(),
                false,
                "一次性告知：列出全部需补正的内容（以后的通知只能是其中的项目）。".into(),
            ),
            ActionKind::Resubmit | ActionKind::SupplyCorrection => {
                (supply_inputs(), false, "按通知书补正。".into())
            }
            ActionKind::FulfilCommitment => {
                let open: Vec<_> = c
                    .commitments
                    .iter()
                    .filter(|k| k.status == CommitmentStatus::Open)
                    .collect();
                if open.is_empty() {
                    continue; // nothing promised is outstanding
                }
                let mut v = vec![
                    Input::new("commitment", "容缺承诺", "select")
                        .options(
                            open.iter()
                                .map(|k| {
                                    (
                                        k.seq.to_string(),
                                        format!("第 {} 号，{} 前", k.seq, date(k.due)),
                                    )
                                })
                                .collect(),
                        )
                        .required(),
                ];
                for code in open.iter().flat_map(|k| k.materials.iter()) {
                    let name = target_label(spec, code);
                    if staff {
                        v.push(
                            Input::new(
                                format!("material.{code}"),
                                format!("{name}：已收取纸质材料"),
                                "checkbox",
                            )
                            .value("paper"),
                        );
                    } else {
                        v.push(Input::new(format!("file.{code}"), name, "file"));
                    }
                }
                (v, false, "补交容缺材料。".into())
            }
            ActionKind::Refuse | ActionKind::Deny => (
                vec![
                    Input::new("reason", "理由", "textarea").required(),
                    Input::new("legal_basis", "法律依据", "text").required(),
                ],
                true,
                String::new(),
            ),
            ActionKind::Review => (
                vec![
                    Input::new("opinion", "审查意见", "textarea").required(),
                    Input::new("recommend_approval", "建议", "select").options(vec![
                        ("true".into(), "建议准予".into()),
                        ("false".into(), "建议不予".into()),
                    ]),
                ],
                false,
                String::new(),
            ),
            ActionKind::Pause => (
                vec![
                    Input::new("procedure", "特别程序", "select").options(
                        spec.stages
                            .iter()
                            .filter(|s| s.kind.is_special())
                            .map(|s| {
                                (
                                    serde_json::to_value(s.kind)
                                        .ok()
                                        .and_then(|v| v.as_str().map(str::to_string))
                                        .unwrap_or_default(),
                                    s.kind.label().to_string(),
                                )
                            })
                            .collect(),
                    ),
                    Input::new("reason", "事由", "textarea").required(),
                ],
                false,
                "特别程序期间不计入承诺时限。".into(),
            ),
            ActionKind::Extend => (
                vec![
                    Input::new("days", "延长工作日", "number").required(),
                    Input::new("reason", "延期理由", "textarea").required(),
                ],
                false,
                format!(
                    "延期后总时限不得超过法定时限 {} 个工作日。",
                    spec.legal_limit_days
                ),
            ),
            ActionKind::Approve => (
                vec![Input::new("opinion", "决定意见", "textarea")],
                false,
                String::new(),
            ),
            ActionKind::ProduceResult | ActionKind::CorrectResult => (
                vec![
                    Input::new("number", format!("{}编号/文号", spec.result.name), "text")
                        .required(),
                    Input::new("valid_until", "有效期至", "date"),
                    Input::new("summary", "内容摘要", "textarea"),
                ],
                false,
                String::new(),
            ),
            ActionKind::CheckResultMismatch => (
                vec![Input::new("reason", "不符之处", "textarea").required()],
                true,
                "退回部门更正（1 个工作日）。".into(),
            ),
            ActionKind::DeliverPickup => (
                vec![
                    Input::new("signed_by", "领取人签名", "text")
                        .required()
                        .value(c.applicant.name.clone()),
                    Input::new(
                        "signer_id_number",
                        "领取人身份证号码（非申请人本人时）",
                        "text",
                    ),
                ],
                false,
                "核对领取人身份证件后签收送达回执。".into(),
            ),
            ActionKind::DeliverPost => (
                vec![
                    Input::new("carrier", "邮寄单位", "text")
                        .required()
                        .value("EMS"),
                    Input::new("tracking_number", "邮件号", "text").required(),
                ],
                false,
                String::new(),
            ),
            ActionKind::Withdraw => (
                vec![Input::new("reason", "撤回理由", "textarea").required()],
                true,
                String::new(),
            ),
            ActionKind::Discard => (vec![], true, String::new()),
            ActionKind::BreachCommitment => continue,
            _ => (vec![], false, String::new()),
        };
        out.push(ActionForm {
            kind: kind.as_str().to_string(),
            label: kind.label().to_string(),
            inputs,
            danger,
            intro,
        });
    }
    out
}

async fn load(
    s: &AppState,
    v: &Viewer,
    id: i64,
) -> PageResult<(CaseView, ItemSpec, String, Vec<tongban_core::case::Event>)> {
    let a = v.actor.clone();
    let yellow = s.settings.yellow_days;
    Ok(s.read(move |tx, env| {
        let cv = get_case(tx, &a, env, id, yellow)?;
        let events = case_events(tx, &a, id)?;
        let spec = tx
            .item_version(cv.case.item_id, cv.case.item_version)?
            .map(|v| v.spec)
            .ok_or(Error::NotFound {
                entity: "事项版本"
            })?;
        let dept = tx
            .department(cv.case.department_id)?
            .map(|d| d.name)
            .unwrap_or_default();
        Ok((cv, spec, dept, events))
    })
    .await?)
}

/// Which printable notices a case has.
pub fn printable(c: &Case) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if c.received_at.is_some() {
        out.push(("receipt", "收件通知书"));
    }
    if !c.commitments.is_empty() {
        out.push(("commitment", "容缺受理承诺书"));
    }
    if c.accepted_at.is_some() {
        out.push(("acceptance", "受理通知书"));
    }
    if c.notices.iter().any(|n| n.kind == NoticeKind::Correction) {
        out.push(("correction", "补齐补正通知书"));
    }
    if c.refusal.is_some() {
        out.push(("refusal", "不予受理通知书"));
    }
    if c.delivery.is_some() {
        out.push(("delivery", "送达回执"));
    }
    out.into_iter()
        .map(|(k, l)| (k.to_string(), l.to_string()))
        .collect()
}

/// One case.
pub async fn case_page(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> PageResult {
    let (cv, spec, department, events) = load(&s, &v, id).await?;
    let bundle_case = s
        .read(move |tx, _| tx.bundle_case_of(id))
        .await?
        .map(|b| b.to_string())
        .unwrap_or_default();
    let c = &cv.case;
    let applicant_view = matches!(v.actor.role, Role::Applicant | Role::Agent);
    let materials = c
        .materials
        .iter()
        .map(|m| MaterialRow {
            name: m.name.clone(),
            required: m.required,
            status: match &m.status {
                MaterialStatus::Provided {
                    electronic: true, ..
                } => "已上传".into(),
                MaterialStatus::Provided { .. } => "已收取（纸质）".into(),
                MaterialStatus::Shared { certificate_no } => {
                    format!("免提交（电子证照 {certificate_no}）")
                }
                MaterialStatus::Rongque => "容缺，待补交".into(),
                MaterialStatus::NotProvided => "未提交".into(),
            },
            files: match &m.status {
                MaterialStatus::Provided { files, .. } => files
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        (
                            format!("/cases/{}/files/{f}", c.id),
                            format!("文件 {}", i + 1),
                        )
                    })
                    .collect(),
                _ => vec![],
            },
        })
        .collect();
    let notices = c
        .notices
        .iter()
        .map(|n| NoticeRow {
            seq: n.seq,
            kind: match n.kind {
                NoticeKind::PreReview => "预审退回".into(),
                NoticeKind::Correction => "补齐补正通知".into(),
            },
            items: n
                .items
                .iter()
                .map(|i| (target_label(&spec, &i.target), i.problem.clone()))
                .collect(),
        })
        .collect();
    let clocks = c
        .clocks
        .all()
        .map(|(k, clock)| ClockRow {
            label: k.label().into(),
            started: date(clock.started),
            deadline: date(clock.deadline),
            status: if clock.finished.is_some() {
                "已完成".into()
            } else if clock.origin.is_some() {
                "计时中".into()
            } else {
                format!("暂停（剩余 {} 个工作日）", clock.remaining)
            },
            provisional: clock.provisional,
        })
        .collect();
    let mut outcome = Vec::new();
    if let Some(r) = &c.review {
        outcome.push(("审查意见".to_string(), r.opinion.clone()));
    }
    if let Some(d) = &c.decision {
        outcome.push((
            "决定".to_string(),
            format!(
                "{}{}",
                if matches!(d.outcome, tongban_core::case::Outcome::Approved) {
                    "准予"
                } else {
                    "不予"
                },
                if d.reason.is_empty() {
                    String::new()
                } else {
                    format!("：{}", d.reason)
                }
            ),
        ));
    }
    if let Some(r) = &c.refusal {
        outcome.push((
            "不予受理".to_string(),
            format!("{}（{}）", r.reason, r.legal_basis),
        ));
    }
    if let Some(r) = &c.result {
        outcome.push((
            "办理结果".to_string(),
            format!(
                "{} {}{}",
                r.title,
                r.number,
                r.valid_until
                    .map(|d| format!("，有效期至 {}", date(d)))
                    .unwrap_or_default()
            ),
        ));
    }
    if let Some(p) = &c.pause {
        outcome.push((
            "特别程序".to_string(),
            format!(
                "{}：{}（自 {}）",
                p.procedure.label(),
                p.reason,
                date(p.since)
            ),
        ));
    }
    for e in &c.extensions {
        outcome.push((
            "延期".to_string(),
            format!("{} 个工作日：{}", e.days, e.reason),
        ));
    }
    if let Some(r) = &c.closing_reason {
        outcome.push(("结束原因".to_string(), r.clone()));
    }
    let flash = done
        .ok
        .as_deref()
        .map(|k| format!("已办理：{}", action_label(k)));
    let page = CasePage {
        page: Chrome::new(format!("办件 {}", c.number.as_str()), Some(&v), "").flash(flash),
        id: c.id,
        number: c.number.as_str().to_string(),
        item: c.item_name.clone(),
        processing: c.processing_type.label().into(),
        department,
        applicant: format!(
            "{}（{}）",
            c.applicant.name,
            mask_identifier(&c.applicant.identifier)
        ),
        channel: c.channel.label().into(),
        state: c.state.label().into(),
        mark: mark(cv.warning),
        mark_label: match cv.warning {
            Warning::None => String::new(),
            w => w.label().to_string(),
        },
        due: cv.due.map(date).unwrap_or_default(),
        due_label: cv
            .due_clock
            .map(|k| k.label().to_string())
            .unwrap_or_default(),
        expected: expected_of(c, applicant_view),
        form: spec
            .fields
            .iter()
            .filter_map(|f| c.form.get(&f.key).map(|v| (f.label.clone(), v.clone())))
            .collect(),
        materials,
        notices,
        commitments: c
            .commitments
            .iter()
            .map(|k| {
                (
                    k.seq,
                    k.materials
                        .iter()
                        .map(|m| target_label(&spec, m))
                        .collect::<Vec<_>>()
                        .join("、"),
                    date(k.due),
                    match k.status {
                        CommitmentStatus::Open => "待补交",
                        CommitmentStatus::Fulfilled => "已补交",
                        CommitmentStatus::Breached => "逾期未补交（失信）",
                    }
                    .to_string(),
                )
            })
            .collect(),
        clocks,
        outcome,
        events: events
            .iter()
            .map(|e| EventRow {
                at: time(e.at),
                who: format!("{}（{}）", e.actor_name, e.actor_role.label()),
                what: action_label(&e.action),
                to: e.to.label().into(),
                reason: e.reason.clone().unwrap_or_default(),
            })
            .collect(),
        actions: forms(&cv, &spec, &v),
        prints: printable(c),
        version: c.version,
        bundle_case,
        rating: tongban_core::rating::rateable(c).is_ok(),
    };
    Ok(render(&page))
}

/// Show the first 6 and last 4 characters of an ID number or credit code.
pub fn mask_identifier(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 10 {
        return s.to_string();
    }
    let mut out: String = chars[..6].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 10));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// Build the action a page form asks for (validated as the API validates it).
async fn action_from(
    s: &AppState,
    f: &super::form::FormData,
    case: &Case,
) -> PageResult<(Action, Option<i64>)> {
    let name = f.text("action");
    let kind: ActionKind = serde_json::from_value(Value::String(name.clone()))
        .map_err(|_| Error::field("action", "未知的操作"))?;
    let mut obj = json!({ "action": name });
    let o = obj.as_object_mut().ok_or(Error::Store("json".into()))?;
    match kind {
        ActionKind::PreReviewReturn | ActionKind::RequestCorrection => {
            let items: Vec<Value> = f
                .prefixed("problem.")
                .map(|(t, p)| json!({ "target": t, "problem": p }))
                .collect();
            if items.is_empty() {
                return Err(Error::field("items", "请至少填写一项需补正的内容").into());
            }
            o.insert("items".into(), Value::Array(items));
        }
        ActionKind::Resubmit | ActionKind::SupplyCorrection | ActionKind::FulfilCommitment => {
            let codes: Vec<String> = case.materials.iter().map(|m| m.code.clone()).collect();
            let lines = materials_from(s, f, &codes).await?;
            o.insert(
                "materials".into(),
                serde_json::to_value(lines).unwrap_or_default(),
            );
            if kind == ActionKind::FulfilCommitment {
                let seq: u32 = f
                    .text("commitment")
                    .parse()
                    .map_err(|_| Error::field("commitment", "请选择容缺承诺"))?;
                o.insert("commitment".into(), json!(seq));
            } else {
                o.insert(
                    "form".into(),
                    serde_json::to_value(form_values(f)).unwrap_or_default(),
                );
            }
        }
        ActionKind::Review => {
            o.insert("opinion".into(), json!(f.text("opinion")));
            o.insert(
                "recommend_approval".into(),
                json!(f.text("recommend_approval") != "false"),
            );
        }
        ActionKind::Extend => {
            let days: u32 = f
                .text("days")
                .parse()
                .map_err(|_| Error::field("days", "请填写延长的工作日数（正整数）"))?;
            o.insert("days".into(), json!(days));
            o.insert("reason".into(), json!(f.text("reason")));
        }
        _ => {
            for k in [
                "reason",
                "legal_basis",
                "opinion",
                "procedure",
                "number",
                "summary",
                "signed_by",
                "carrier",
                "tracking_number",
            ] {
                if f.fields.iter().any(|(n, _)| n == k) {
                    o.insert(k.into(), json!(f.text(k)));
                }
            }
            for k in ["valid_until", "signer_id_number"] {
                if let Some(v) = f.opt(k) {
                    o.insert(k.into(), json!(v));
                }
            }
        }
    }
    let action: Action = serde_path_to_error::deserialize(obj).map_err(|e| {
        let path = e.path().to_string();
        Error::field(
            if path == "." {
                "action".to_string()
            } else {
                path
            },
            "格式有误（日期请按 年-月-日 填写）",
        )
    })?;
    Ok((action, f.text("version").parse().ok()))
}

/// Take an action from a case page, then show the case again.
pub async fn act(State(s): State<AppState>, Path(id): Path<i64>, f: PageForm) -> PageResult {
    let v = f.viewer.clone();
    let a = v.actor.clone();
    let yellow = s.settings.yellow_days;
    let (a2, yellow2) = (a.clone(), yellow);
    let cv = s
        .read(move |tx, env| get_case(tx, &a2, env, id, yellow2))
        .await?;
    let (action, expected) = action_from(&s, &f.data, &cv.case).await?;
    let kind = action.kind();
    s.write_optimistic(move |tx, env| {
        let c = act_on(tx, &a, env, id, &action, expected)?;
        Ok(view(c, &a, env, yellow))
    })
    .await
    .map_err(|e| match e {
        Error::Conflict(_) => {
            Error::Conflict("此办件刚被他人处理过，请刷新页面查看最新状态后再操作".into())
        }
        e => e,
    })?;
    Ok(Redirect::to(&format!("/cases/{id}?ok={}", kind.as_str())).into_response())
}

/// An uploaded material of a case, for those who may see the case.
pub async fn download(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Path((id, file)): Path<(i64, String)>,
) -> PageResult<Response> {
    serve_file(&s, &v.actor, id, &file).await
}

/// A file named by case `id`'s materials, if the actor may see the case.
pub async fn serve_file(
    s: &AppState,
    actor: &tongban_core::actor::Actor,
    id: i64,
    file: &str,
) -> PageResult<Response> {
    let a = actor.clone();
    let yellow = s.settings.yellow_days;
    let cv = s
        .read(move |tx, env| get_case(tx, &a, env, id, yellow))
        .await?;
    let named = cv.case.materials.iter().find_map(|m| match &m.status {
        MaterialStatus::Provided { files, .. } if files.iter().any(|f| f == file) => {
            Some(m.code.clone())
        }
        _ => None,
    });
    let Some(code) = named else {
        return Err(Error::NotFound { entity: "文件" }.into());
    };
    let store = s.files.clone();
    let f = file.to_string();
    let bytes = tokio::task::spawn_blocking(move || store.get(&f))
        .await
        .map_err(|e| Error::Store(e.to_string()))?
        .map_err(|e| Error::Store(format!("reading an upload: {e}")))?
        .ok_or(Error::NotFound { entity: "文件" })?;
    let t = crate::files::FileType::sniff(&bytes);
    let mime = t.map(|t| t.mime()).unwrap_or("application/octet-stream");
    let name = format!(
        "{}-{}.{}",
        cv.case.number.as_str(),
        code,
        t.map(|t| t.extension()).unwrap_or("bin")
    );
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

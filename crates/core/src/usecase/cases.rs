//! Case use cases: receive, act, read, list.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Env, text};
use crate::actor::{Actor, Role};
use crate::case::{
    Action, ActionKind, ApplicantInput, ApplicantKind, Application, Case, CaseNumber, CaseState,
    Channel, Ctx, Effect, Event, Warning, apply, available_actions, can_see, receive,
};
use crate::catalog::{Item, ItemSpec};
use crate::error::{Error, FieldErrors, Result};
use crate::identity::{CreditCode, IdNumber, Phone, mask_name};
use crate::org::{Applicant, RongqueBar};
use crate::store::{CaseFilter, CaseOrder, CaseScope, CaseSummary, Tx};

/// Find or register the applicant a clerk or agent identified.
///
/// Without `writes` (deciding on a snapshot), an applicant who would be registered or
/// whose contact details would be updated is `Ok(None)` with no field error: it is
/// resolved again where writes can be made.
fn resolve_applicant(
    tx: &mut dyn Tx,
    env: &Env,
    input: &ApplicantInput,
    in_person: bool,
    e: &mut FieldErrors,
    writes: bool,
) -> Result<Option<Applicant>> {
    let identifier = match input.kind {
        ApplicantKind::Person => e
            .check(
                "applicant.identifier",
                IdNumber::parse(&input.identifier).map_err(|x| format!("身份证号码{x}")),
            )
            .map(|v| v.as_str().to_string()),
        ApplicantKind::Enterprise => e
            .check(
                "applicant.identifier",
                CreditCode::parse(&input.identifier).map_err(|x| format!("统一社会信用代码{x}")),
            )
            .map(|v| v.as_str().to_string()),
    };
    let name = text(e, "applicant.name", &input.name, "申请人姓名（名称）", 100);
    let phone = e
        .check("applicant.phone", Phone::parse(&input.phone))
        .map(|p| p.as_str().to_string());
    let rep = input
        .legal_representative
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if input.kind == ApplicantKind::Enterprise && rep.is_none() {
        e.add("applicant.legal_representative", "法人申请须填写法定代表人");
    }
    let (Some(identifier), Some(phone)) = (identifier, phone) else {
        return Ok(None);
    };
    if !e.is_empty() {
        return Ok(None);
    }
    match tx.applicant_by_identifier(&identifier)? {
        Some(mut a) => {
            if a.kind != input.kind {
                e.add("applicant.kind", "与已登记的申请人类型不一致");
                return Ok(None);
            }
            if a.name != name {
                e.add("applicant.name", "与该证件号码已登记的姓名（名称）不一致");
                return Ok(None);
            }
            // A clerk who checked the documents in person may update the contact
            // details; an agent may not change what is on record.
            if in_person && (a.phone != phone || (rep.is_some() && a.legal_representative != rep)) {
                if !writes {
                    return Ok(None);
                }
                a.phone = phone;
                if rep.is_some() {
                    a.legal_representative = rep;
                }
                tx.update_applicant_contact(&a)?;
            }
            Ok(Some(a))
        }
        None if !writes => Ok(None),
        None => {
            let a = Applicant {
                id: 0,
                kind: input.kind,
                name,
                identifier,
                phone,
                legal_representative: rep,
                rongque_bar: None,
                created_at: env.now,
            };
            // Another clerk may be registering the same person this very moment.
            let on_record = tx.insert_applicant_if_absent(&a)?;
            if on_record.kind != a.kind || on_record.name != a.name {
                e.add("applicant.name", "与该证件号码已登记的姓名（名称）不一致");
                return Ok(None);
            }
            Ok(Some(on_record))
        }
    }
}

/// The published spec of a case's version (or any version of it).
fn spec_of(tx: &mut dyn Tx, item_id: i64, version: u32) -> Result<std::sync::Arc<ItemSpec>> {
    tx.published_spec(item_id, version)?
        .ok_or(Error::Store(format!(
            "item {item_id} version {version} missing"
        )))
}

/// 收件 — create a case (at a window, by post, online or by an agent).
pub fn receive_case(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    app: &Application,
) -> Result<Arc<Case>> {
    let plan = plan_receive(tx, actor, env, app, true)?;
    receive_planned(tx, actor, env, app, plan)
}

/// What 收件 reads and checks before it takes a serial ([`plan_receive`]).
#[derive(Debug, Clone)]
pub struct ReceivePlan {
    item: Item,
    version: u32,
    spec: Arc<ItemSpec>,
    /// None: still to be resolved with writes (to register, or to update the contact
    /// details on record).
    applicant: Option<Applicant>,
}

/// 收件's reading and checking: the item and its published version, the applicant, and
/// (once the applicant is known) every rule of the application. Without `writes` it
/// runs on a snapshot, off the writer, and leaves an applicant to register or update to
/// [`receive_planned`]; an application refused here takes no serial and no writer time.
pub fn plan_receive(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    app: &Application,
    writes: bool,
) -> Result<ReceivePlan> {
    let item = tx
        .item(app.item_id)?
        .ok_or(Error::NotFound { entity: "事项" })?;
    let Some(version) = item.published_version else {
        return Err(Error::InvalidTransition {
            state: item.status.label().into(),
            action: "收件".into(),
            reason: item.closed_reason().unwrap_or("该事项尚未发布").into(),
        });
    };
    let spec = spec_of(tx, item.id, version)?;
    let applicant = applicant_of(tx, actor, env, app, writes)?;
    let plan = ReceivePlan {
        item,
        version,
        spec,
        applicant,
    };
    if !writes && let Some(a) = &plan.applicant {
        // Off the writer, every rule but the number's (they run again with the real
        // number in the writer), so that a refusal costs the writer nothing.
        let today = env.today();
        let placeholder = CaseNumber::new(&plan.item.region, today, 1);
        build_case(actor, env, app, &plan, a, placeholder)?;
    }
    Ok(plan)
}

/// The applicant of an application; None without `writes` when it is still to be
/// written (see [`resolve_applicant`]).
fn applicant_of(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    app: &Application,
    writes: bool,
) -> Result<Option<Applicant>> {
    let mut e = FieldErrors::new();
    let applicant = match app.channel {
        Channel::Online => {
            if app.applicant.is_some() {
                e.add("applicant", "网上申请以登录的申请人办理，无需填写申请人");
            }
            match actor.applicant_id {
                Some(id) => {
                    let a = tx.applicant(id)?;
                    e.into_result()?;
                    return Ok(Some(a.ok_or(Error::NotFound {
                        entity: "申请人"
                    })?));
                }
                None => return Err(Error::forbidden("只有申请人账号可以网上申请")),
            }
        }
        Channel::Window | Channel::Post | Channel::Agent => {
            if !matches!(actor.role, Role::AcceptanceClerk | Role::Agent) {
                return Err(Error::forbidden("只有综合受理窗口或代办员可以代为收件"));
            }
            match &app.applicant {
                Some(input) => {
                    let in_person = actor.role == Role::AcceptanceClerk;
                    let a = resolve_applicant(tx, env, input, in_person, &mut e, writes)?;
                    if a.is_none() && e.is_empty() && writes {
                        return Err(Error::NotFound {
                            entity: "申请人"
                        });
                    }
                    a
                }
                None => {
                    e.add("applicant", "须核验并填写申请人身份信息");
                    None
                }
            }
        }
    };
    e.into_result()?;
    Ok(applicant)
}

/// The new case and its event, checked against every rule.
fn build_case(
    actor: &Actor,
    env: &Env,
    app: &Application,
    plan: &ReceivePlan,
    applicant: &Applicant,
    number: CaseNumber,
) -> Result<(Case, Event)> {
    let barred = applicant.rongque_bar.is_some();
    let ctx = Ctx {
        now: env.now,
        today: env.today(),
        cal: env.cal,
        spec: &plan.spec,
        rongque_barred: barred,
    };
    receive(
        app,
        actor,
        &ctx,
        &plan.item,
        plan.version,
        applicant.as_ref(),
        barred,
        number,
    )
}

/// 收件's writes, in the writer: the applicant if still to be written, the day's
/// serial, the case, its event and its statistics.
pub fn receive_planned(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    app: &Application,
    plan: ReceivePlan,
) -> Result<Arc<Case>> {
    let applicant = match &plan.applicant {
        Some(a) => a.clone(),
        None => applicant_of(tx, actor, env, app, true)?.ok_or(Error::NotFound {
            entity: "申请人",
        })?,
    };
    let today = env.today();
    let serial = tx.next_case_serial(plan.item.region.county_part(), today)?;
    let number = CaseNumber::new(&plan.item.region, today, serial);
    let (case, event) = build_case(actor, env, app, &plan, &applicant, number)?;
    let case = tx.insert_shared_case(case)?;
    tx.append_event(case.id, &event)?;
    tx.add_stats(&crate::stats::deltas(None, &case, env.cal))?;
    Ok(case)
}

/// Load a case the actor may see; otherwise it does not exist for them.
pub fn visible_case(tx: &mut dyn Tx, actor: &Actor, id: i64) -> Result<Case> {
    visible_shared_case(tx, actor, id).map(Arc::unwrap_or_clone)
}

/// [`visible_case`], shared (not copied out of the store's cache).
pub fn visible_shared_case(tx: &mut dyn Tx, actor: &Actor, id: i64) -> Result<Arc<Case>> {
    match tx.shared_case(id)? {
        Some(c) if can_see(actor, &c) => Ok(c),
        _ => Err(Error::NotFound { entity: "办件" }),
    }
}

/// Take an action on a case. With `expected_version`, refuse (409) when the case changed
/// since the actor saw it.
pub fn act(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    case_id: i64,
    action: &Action,
    expected_version: Option<i64>,
) -> Result<Arc<Case>> {
    let c = act_alone(tx, actor, env, case_id, action, expected_version)?;
    if matches!(action, Action::ProduceResult { .. }) {
        super::bundles::after_bundle_action(tx, actor, env, case_id, action)?;
    }
    Ok(c)
}

/// [`act`] without what it sets off in a bundle's other children (a use case may run
/// on a snapshot that does not show its own writes, so what it sets off must not set
/// off anything in turn).
pub(crate) fn act_alone(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    case_id: i64,
    action: &Action,
    expected_version: Option<i64>,
) -> Result<Arc<Case>> {
    // Saved below at the version read here (a stale copy fails that guard).
    let case = match tx.shared_case_to_save(case_id)? {
        Some(c) if can_see(actor, &c) => c,
        _ => return Err(Error::NotFound { entity: "办件" }),
    };
    if let Some(v) = expected_version
        && v != case.version
    {
        return Err(Error::Conflict(format!(
            "办件已被他人更新（版本 {} → {}），请刷新后重试",
            v, case.version
        )));
    }
    let spec = spec_of(tx, case.item_id, case.item_version)?;
    // Submitting a draft files it now: the item must still be open, and a 容缺 promise
    // needs an applicant not barred from 容缺.
    let mut rongque_barred = false;
    if matches!(action, Action::Submit | Action::Resubmit { .. }) {
        let item = tx
            .item(case.item_id)?
            .ok_or(Error::NotFound { entity: "事项" })?;
        if let Some(why) = item.closed_reason() {
            return Err(Error::InvalidTransition {
                state: item.status.label().into(),
                action: action.kind().label().into(),
                reason: why.into(),
            });
        }
        rongque_barred = tx
            .applicant(case.applicant.id)?
            .is_some_and(|a| a.rongque_bar.is_some());
    }
    let ctx = Ctx {
        now: env.now,
        today: env.today(),
        cal: env.cal,
        spec: &spec,
        rongque_barred,
    };
    let t = apply(&case, actor, action, &ctx)?;
    // A bundle's child: decided in the bundle's order, delivered with its siblings.
    super::bundles::check_bundle_rules(tx, case_id, action)?;
    for effect in &t.effects {
        match effect {
            Effect::BarApplicantFromRongque {
                applicant_id,
                reason,
            } => {
                // Only the bar columns, and only when not barred already: a concurrent
                // update of the applicant's contact details cannot undo it.
                tx.set_rongque_bar(
                    *applicant_id,
                    Some(&RongqueBar {
                        reason: reason.clone(),
                        since: env.now,
                    }),
                )?;
            }
        }
    }
    let saved = Arc::new(t.case);
    tx.save_shared_case(saved.clone(), case.version)?;
    tx.append_event(case_id, &t.event)?;
    tx.add_stats(&crate::stats::deltas(Some(&case), &saved, env.cal))?;
    Ok(saved)
}

/// A case with what the viewer may do next.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    /// The case.
    #[serde(flatten)]
    pub case: Arc<Case>,
    /// The deadline the case waits on now.
    pub due: Option<chrono::NaiveDate>,
    /// Which clock that is.
    pub due_clock: Option<crate::case::ClockKind>,
    /// Yellow/red for the clock the case waits on (or an open 容缺 due date).
    pub warning: Warning,
    /// Actions the viewer may take now.
    pub available_actions: Vec<ActionKind>,
}

/// Read a case.
pub fn get_case(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    id: i64,
    yellow_days: u32,
) -> Result<CaseView> {
    let case = visible_shared_case(tx, actor, id)?;
    Ok(view(case, actor, env, yellow_days))
}

/// Read a case by its number.
pub fn get_case_by_number(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    number: &str,
    yellow_days: u32,
) -> Result<CaseView> {
    let n = CaseNumber::parse(number).map_err(|e| Error::field("number", e.to_string()))?;
    match tx.case_by_number(n.as_str())? {
        Some(c) if can_see(actor, &c) => Ok(view(c, actor, env, yellow_days)),
        _ => Err(Error::NotFound { entity: "办件" }),
    }
}

/// Wrap a case with its warning and available actions.
pub fn view(case: impl Into<Arc<Case>>, actor: &Actor, env: &Env, yellow_days: u32) -> CaseView {
    let case: Arc<Case> = case.into();
    let warning = case.warning(env.cal, env.today(), yellow_days);
    let available_actions = available_actions(&case, actor);
    CaseView {
        due: case.due(),
        due_clock: case.due_clock(),
        case,
        warning,
        available_actions,
    }
}

/// A case's log.
pub fn case_events(tx: &mut dyn Tx, actor: &Actor, id: i64) -> Result<Vec<Event>> {
    visible_case(tx, actor, id)?;
    tx.events(id)
}

/// The scope of case lists for an actor.
pub fn scope_of(actor: &Actor) -> Result<CaseScope> {
    match actor.role {
        Role::Applicant => Ok(CaseScope::Owner {
            applicant_id: actor.applicant_id,
            agent_account: None,
        }),
        Role::Agent => Ok(CaseScope::Owner {
            applicant_id: None,
            agent_account: Some(actor.account_id),
        }),
        Role::DeptReviewer | Role::DeptApprover => actor
            .department_id
            .map(CaseScope::Department)
            .ok_or(Error::forbidden("账号未归属部门")),
        Role::AcceptanceClerk
        | Role::IssuanceClerk
        | Role::Supervisor
        | Role::CatalogAdmin
        | Role::SysAdmin => actor
            .region
            .as_ref()
            .map(|r| CaseScope::RegionPrefix(r.prefix().to_string()))
            .ok_or(Error::forbidden("账号未设置区划范围")),
        Role::HotlineOperator | Role::HandlingUnit => Err(Error::forbidden("该角色不能查看办件")),
        Role::System => Ok(CaseScope::All),
    }
}

/// A list query as the API takes it (the scope comes from the actor).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// Comma-separated states, e.g. `received,under_review`; `open` for every non-final state.
    pub state: Option<String>,
    /// Only this item.
    pub item_id: Option<i64>,
    /// Only this department.
    pub department_id: Option<i64>,
    /// Due on or before (YYYY-MM-DD).
    pub due_before: Option<chrono::NaiveDate>,
    /// Due on or after (YYYY-MM-DD).
    pub due_after: Option<chrono::NaiveDate>,
    /// Only cases with a 容缺 commitment due on or before (YYYY-MM-DD).
    pub rongque_due_before: Option<chrono::NaiveDate>,
    /// Only yellow or red (`yellow` includes red).
    pub warning: Option<Warning>,
    /// A case number.
    pub number: Option<String>,
    /// Only cases received (created) on or after this day (China time).
    pub created_from: Option<chrono::NaiveDate>,
    /// Only cases received (created) on or before this day.
    pub created_to: Option<chrono::NaiveDate>,
    /// `due` (default) or `newest`.
    pub order: Option<CaseOrder>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
}

/// A case in a list, personal data masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseListItem {
    /// Id.
    pub id: i64,
    /// 办件编号.
    pub number: String,
    /// Item.
    pub item_id: i64,
    /// Item name.
    pub item_name: String,
    /// 即办件 / 承诺件.
    pub processing_type: crate::catalog::ProcessingType,
    /// Department.
    pub department_id: i64,
    /// Applicant, masked.
    pub applicant_name: String,
    /// Channel.
    pub channel: Channel,
    /// State.
    pub state: CaseState,
    /// State in Chinese.
    pub state_label: String,
    /// The deadline waited on.
    pub due: Option<chrono::NaiveDate>,
    /// Which clock.
    pub due_clock: Option<crate::case::ClockKind>,
    /// Provisional deadline.
    pub due_provisional: bool,
    /// Earliest open 容缺 due date.
    pub rongque_due: Option<chrono::NaiveDate>,
    /// Yellow / red.
    pub warning: Warning,
    /// Created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Version (send back as `expected_version`).
    pub version: i64,
}

/// A page of cases.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CasePage {
    /// The cases.
    pub items: Vec<CaseListItem>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Parse a `state` filter.
pub fn parse_states(s: &str) -> Result<Vec<CaseState>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part == "open" {
            out.extend(CaseState::ALL.into_iter().filter(|s| !s.is_final()));
        } else {
            out.push(
                CaseState::parse(part)
                    .ok_or_else(|| Error::field("state", format!("未知状态“{part}”")))?,
            );
        }
    }
    Ok(out)
}

fn encode_cursor(key: &str, id: i64) -> String {
    format!("{key}~{id}")
}

fn decode_cursor(c: &str) -> Result<(String, i64)> {
    let bad = || Error::field("cursor", "翻页游标无效");
    let (k, id) = c.rsplit_once('~').ok_or_else(bad)?;
    let id = id.parse().map_err(|_| bad())?;
    if k.len() > 40
        || !k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-:.".contains(&b))
    {
        return Err(bad());
    }
    Ok((k.to_string(), id))
}

/// List cases within the actor's scope.
pub fn list_cases(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    q: &CaseQuery,
    yellow_days: u32,
) -> Result<CasePage> {
    let scope = scope_of(actor)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::field("limit", "每页条数须在 1–200 之间"));
    }
    let mut states = match &q.state {
        Some(s) => parse_states(s)?,
        None => vec![],
    };
    let today = env.today();
    let mut due_before = q.due_before;
    // Warnings: red = due before today; yellow = due within the yellow threshold.
    if let Some(w) = q.warning {
        let edge = match w {
            Warning::Red => today.pred_opt(),
            Warning::Yellow => env
                .cal
                .deadline(today, yellow_days)
                .ok()
                .map(|d| d.deadline),
            Warning::None => None,
        };
        due_before = match (due_before, edge) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if states.is_empty() {
            states.extend(CaseState::ALL.into_iter().filter(|s| !s.is_final()));
        }
    }
    let number = match &q.number {
        Some(n) => Some(
            CaseNumber::parse(n)
                .map_err(|e| Error::field("number", e.to_string()))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let filter = CaseFilter {
        scope,
        states,
        item_id: q.item_id,
        department_id: q.department_id,
        due_before,
        due_after: q.due_after,
        rongque_due_before: q.rongque_due_before,
        number,
        created: match (q.created_from, q.created_to) {
            (None, None) => None,
            (a, b) => Some((
                crate::time::china_day_start(
                    a.unwrap_or(chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()),
                ),
                crate::time::china_day_start(
                    b.and_then(|d| d.succ_opt())
                        .unwrap_or(chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap_or_default()),
                ),
            )),
        },
        order: q.order.unwrap_or_default(),
        after: q.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: limit + 1,
    };
    let mut rows = tx.cases(&filter)?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| encode_cursor(&r.sort_key, r.id))
    } else {
        None
    };
    Ok(CasePage {
        items: rows
            .into_iter()
            .map(|r| list_item(r, env, yellow_days))
            .collect(),
        next_cursor,
    })
}

fn list_item(r: CaseSummary, env: &Env, yellow_days: u32) -> CaseListItem {
    let today = env.today();
    let w = |d: Option<chrono::NaiveDate>| {
        d.map(|d| crate::case::clock::warning_for(env.cal, d, today, yellow_days))
            .unwrap_or(Warning::None)
    };
    let warning = if r.state.is_final() {
        Warning::None
    } else {
        w(r.due).max(w(r.rongque_due))
    };
    CaseListItem {
        id: r.id,
        number: r.number,
        item_id: r.item_id,
        item_name: r.item_name,
        processing_type: r.processing_type,
        department_id: r.department_id,
        applicant_name: match r.applicant_kind {
            ApplicantKind::Person => mask_name(&r.applicant_name),
            ApplicantKind::Enterprise => r.applicant_name,
        },
        channel: r.channel,
        state_label: r.state.label().to_string(),
        state: r.state,
        due: r.due,
        due_clock: r.due_clock,
        due_provisional: r.due_provisional,
        rongque_due: r.rongque_due,
        warning,
        created_at: r.created_at,
        version: r.version,
    }
}

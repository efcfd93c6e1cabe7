//! Applying an action to a case: a pure function from (case, actor, action, context) to
//! the new case, its event and any effects outside the case.

use chrono::{DateTime, NaiveDate, Utc};

use super::action::{Action, ActionKind, MaterialInput, MaterialLine};
use super::application::{check_complete, check_form_values, has_rongque, update_checklist};
use super::clock::Clock;
use super::model::{
    Case, CommitmentStatus, CorrectionItem, CorrectionNotice, Decision, Delivery, Event, EventData,
    Extension, NoticeKind, Outcome, Pause, Refusal, ResultRecord, ReviewOpinion, Shared,
};
use super::rules::{authorize, next_state};
use super::state::CaseState;
use crate::actor::Actor;
use crate::calendar::{Calendar, CalendarError};
use crate::catalog::{BreachPolicy, ItemSpec, ProcessingType, ResultKind, StageKind};
use crate::error::{Error, FieldErrors, Result};
use crate::identity::IdNumber;

/// Working days the department has to accept (DOMAIN §4: 2).
pub const ACCEPTANCE_DAYS: u32 = 2;
/// Working days to correct a result the issuance window sent back (seed 001: 1).
pub const RESULT_CORRECTION_DAYS: u32 = 1;
/// Working days to archive the delivery receipt (1).
pub const ARCHIVE_DAYS: u32 = 1;

/// What a transition needs besides the case: the time, the calendar and the item
/// version the case was filed on.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// Now.
    pub now: DateTime<Utc>,
    /// Today in China Standard Time.
    pub today: NaiveDate,
    /// The working-day calendar.
    pub cal: &'a Calendar,
    /// The case's item version.
    pub spec: &'a ItemSpec,
    /// The applicant is barred from 容缺 (失信); checked when a draft is submitted.
    pub rongque_barred: bool,
}

/// An effect outside the case that the use case must carry out in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// 失信 — bar the applicant from 容缺 until an administrator lifts it.
    BarApplicantFromRongque {
        /// The applicant.
        applicant_id: i64,
        /// Why (the case number and the material).
        reason: String,
    },
}

/// The result of a transition.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The case after.
    pub case: Case,
    /// The event to record.
    pub event: Event,
    /// Effects outside the case.
    pub effects: Vec<Effect>,
}

pub(crate) fn cal_err(e: CalendarError) -> Error {
    Error::field("date", e.to_string())
}

fn required(e: &mut FieldErrors, field: &str, v: &str, what: &str, max: usize) {
    let n = v.trim().chars().count();
    if n == 0 {
        e.add(field, format!("须填写{what}"));
    } else if n > max {
        e.add(field, format!("{what}不能超过 {max} 字"));
    }
}

/// Check the items of a notice: not empty, each target a material of the item or
/// `form.<key>` of its form, and — 一次性告知 — after a first notice of the same kind
/// (pre-review returns by the window, correction notices by the department), only
/// things an earlier notice of that kind already named.
fn check_notice_items(
    case: &Case,
    spec: &ItemSpec,
    kind: NoticeKind,
    items: &[CorrectionItem],
    e: &mut FieldErrors,
) {
    if items.is_empty() {
        e.add("items", "须逐项列明需要补正的内容");
    }
    for (i, it) in items.iter().enumerate() {
        let known = match it.target.strip_prefix("form.") {
            Some(key) => spec.fields.iter().any(|f| f.key == key),
            None => spec.material(&it.target).is_some(),
        };
        if !known {
            e.add(
                format!("items[{i}].target"),
                "不是该事项的材料编码或表单字段（form.字段键）",
            );
        }
        required(
            e,
            &format!("items[{i}].problem"),
            &it.problem,
            "补正要求",
            500,
        );
        if items[..i].iter().any(|o| o.target == it.target) {
            e.add(format!("items[{i}].target"), "同一项重复列出");
        }
        let mut earlier = case.notices.iter().filter(|n| n.kind == kind).peekable();
        if earlier.peek().is_some()
            && !earlier.any(|n| n.items.iter().any(|o| o.target == it.target))
        {
            e.add(
                format!("items[{i}].target"),
                "一次性告知：此前的通知未列出此项，不得再次要求补正",
            );
        }
    }
}

fn apply_form_changes(
    case: &mut Case,
    spec: &ItemSpec,
    form: &std::collections::BTreeMap<String, String>,
    materials: &[MaterialLine],
    e: &mut FieldErrors,
) {
    let mut merged = (*case.form).clone();
    for (k, v) in form {
        merged.insert(k.clone(), v.clone());
    }
    case.form = Shared::new(check_form_values(spec, &merged, true, e));
    case.materials = Shared::new(update_checklist(
        spec,
        &case.form,
        &case.materials,
        materials,
        e,
    ));
    if materials.iter().any(|l| l.input == MaterialInput::Rongque) {
        e.add("materials", "补正时不能新增容缺材料");
    }
    check_complete(&case.materials, e);
}

/// Write off (销号) what a 容缺 commitment promised once the checklist shows it present,
/// however it came (a correction, a resubmission).
fn write_off_present(c: &mut Case, now: DateTime<Utc>) {
    for k in c
        .commitments
        .iter_mut()
        .filter(|k| k.status == CommitmentStatus::Open)
    {
        for m in &k.materials {
            let present = c
                .materials
                .iter()
                .any(|e| &e.code == m && e.status.is_present());
            if present && !k.supplied.contains(m) {
                k.supplied.push(m.clone());
            }
        }
        if k.materials.iter().all(|m| k.supplied.contains(m)) {
            k.status = CommitmentStatus::Fulfilled;
            k.closed_at = Some(now);
        }
    }
}

/// Check that a reply answers every item of the open notice.
fn check_answers_notice(
    notice: &CorrectionNotice,
    form: &std::collections::BTreeMap<String, String>,
    materials: &[MaterialLine],
    e: &mut FieldErrors,
) {
    for it in &notice.items {
        let answered = match it.target.strip_prefix("form.") {
            Some(key) => form.get(key).is_some_and(|v| !v.trim().is_empty()),
            None => materials.iter().any(|l| {
                l.code == it.target
                    && matches!(
                        l.input,
                        MaterialInput::Provided { .. } | MaterialInput::Shared { .. }
                    )
            }),
        };
        if !answered {
            let field = if it.target.starts_with("form.") {
                it.target.clone()
            } else {
                format!("materials.{}", it.target)
            };
            e.add(field, format!("通知要求补正此项：{}", it.problem));
        }
    }
}

fn result_record(
    case: &Case,
    spec: &ItemSpec,
    number: &str,
    valid_until: Option<NaiveDate>,
    summary: &str,
    now: DateTime<Utc>,
    e: &mut FieldErrors,
) -> ResultRecord {
    required(e, "number", number, "证号或文号", 60);
    if summary.chars().count() > 1000 {
        e.add("summary", "摘要不能超过 1000 字");
    }
    let approved = case
        .decision
        .as_ref()
        .is_some_and(|d| d.outcome == Outcome::Approved);
    let (kind, title) = if approved {
        (spec.result.kind, spec.result.name.clone())
    } else {
        (ResultKind::Document, format!("不予{}决定书", spec.name))
    };
    if let Some(v) = valid_until
        && v <= now.date_naive()
    {
        e.add("valid_until", "有效期须晚于今天");
    }
    ResultRecord {
        kind,
        title,
        number: number.trim().to_string(),
        valid_until,
        summary: summary.trim().to_string(),
        produced_at: now,
    }
}

/// Apply `action` by `actor` to `case`. Checks the state (the table in
/// [`next_state`]), the role and scope ([`authorize`]) and the action's data; on
/// success returns the new case (version + 1) and the event.
pub fn apply(case: &Case, actor: &Actor, action: &Action, ctx: &Ctx) -> Result<Transition> {
    let kind = action.kind();
    let mut to = next_state(case.state, kind, case.processing_type).map_err(|why| {
        Error::InvalidTransition {
            state: case.state.label().into(),
            action: kind.label().into(),
            reason: why.into(),
        }
    })?;
    authorize(actor, case, kind)?;

    let cal = ctx.cal;
    let today = ctx.today;
    let spec = ctx.spec;
    let mut c = case.clone();
    let mut e = FieldErrors::new();
    let mut effects = Vec::new();
    let mut reason = action.reason().map(str::to_string);
    let held_block = |c: &Case| -> Result<()> {
        if c.held {
            Err(Error::InvalidTransition {
                state: c.state.label().into(),
                action: kind.label().into(),
                reason: "容缺承诺逾期未履行，办件暂停办理，待补齐材料后方可继续".into(),
            })
        } else {
            Ok(())
        }
    };

    match action {
        Action::Submit => {
            c.form = Shared::new(check_form_values(spec, &c.form, true, &mut e));
            check_complete(&c.materials, &mut e);
            // A draft's 容缺 promise becomes a commitment when it is submitted: its due
            // date counts from today, and a barred applicant cannot make it.
            if has_rongque(&c.materials) && c.commitments.is_empty() {
                if ctx.rongque_barred {
                    e.add(
                        "materials",
                        "申请人因容缺承诺失信被暂停容缺受理，须补齐全部材料",
                    );
                }
                c.commitments.push(new_commitment(&c.materials, ctx, None)?);
            }
            c.clocks.pre_review =
                Some(Clock::start(cal, today, spec.pre_review_days).map_err(cal_err)?);
            c.stage = Some(StageKind::Receive);
        }
        Action::Discard => {}
        Action::PreReviewPass => {
            if let Some(clock) = c.clocks.pre_review.as_mut() {
                clock.finish(today);
            }
            start_received(&mut c, ctx)?;
        }
        Action::PreReviewReturn { items } => {
            check_notice_items(case, spec, NoticeKind::PreReview, items, &mut e);
            if let Some(clock) = c.clocks.pre_review.as_mut() {
                clock.finish(today);
            }
            push_notice(&mut c, NoticeKind::PreReview, items, actor, ctx.now);
        }
        Action::Resubmit { form, materials } => {
            if let Some(n) = c.open_notice().cloned() {
                check_answers_notice(&n, &merged_form(&c, form), materials, &mut e);
            }
            apply_form_changes(&mut c, spec, form, materials, &mut e);
            write_off_present(&mut c, ctx.now);
            answer_notice(&mut c, ctx.now);
            c.clocks.pre_review =
                Some(Clock::start(cal, today, spec.pre_review_days).map_err(cal_err)?);
        }
        Action::Accept => {
            held_block(&c)?;
            if let Some(clock) = c.clocks.acceptance.as_mut() {
                clock.finish(today);
            }
            c.accepted_at = Some(ctx.now);
            c.clocks.promised =
                Some(Clock::start(cal, today, spec.promised_limit_days).map_err(cal_err)?);
            c.clocks.legal =
                Some(Clock::start(cal, today, spec.legal_limit_days).map_err(cal_err)?);
            enter_stage(&mut c, spec, cal, today, StageKind::Review)?;
        }
        Action::RequestCorrection { items } => {
            held_block(&c)?;
            check_notice_items(case, spec, NoticeKind::Correction, items, &mut e);
            // The clock waiting on the department stops: the applicant's turn.
            let waiting = match c.processing_type {
                ProcessingType::Promised => c.clocks.acceptance.as_mut(),
                ProcessingType::Immediate => c.clocks.promised.as_mut(),
            };
            if let Some(clock) = waiting {
                clock.finish(today);
            }
            push_notice(&mut c, NoticeKind::Correction, items, actor, ctx.now);
        }
        Action::SupplyCorrection { form, materials } => {
            held_block(&c)?;
            match c.open_notice().cloned() {
                Some(n) if n.kind == NoticeKind::Correction => {
                    check_answers_notice(&n, &merged_form(&c, form), materials, &mut e)
                }
                _ => e.add("notice", "没有待答复的补齐补正通知"),
            }
            apply_form_changes(&mut c, spec, form, materials, &mut e);
            write_off_present(&mut c, ctx.now);
            answer_notice(&mut c, ctx.now);
            // Received again, complete: the acceptance clock (or a 即办件's same-day
            // clock) starts afresh from today.
            start_received(&mut c, ctx)?;
        }
        Action::Refuse {
            reason,
            legal_basis,
        } => {
            required(&mut e, "reason", reason, "不予受理理由", 1000);
            required(&mut e, "legal_basis", legal_basis, "法律依据", 500);
            c.refusal = Some(Refusal {
                reason: reason.trim().into(),
                legal_basis: legal_basis.trim().into(),
                at: ctx.now,
            });
        }
        Action::Review {
            opinion,
            recommend_approval,
        } => {
            held_block(&c)?;
            required(&mut e, "opinion", opinion, "审查意见", 2000);
            if c.review.is_some() {
                return Err(Error::InvalidTransition {
                    state: c.state.label().into(),
                    action: kind.label().into(),
                    reason: "审查意见已提交，请作出决定".into(),
                });
            }
            c.review = Some(ReviewOpinion {
                opinion: opinion.trim().into(),
                recommend_approval: *recommend_approval,
                by: actor.account_id,
                at: ctx.now,
            });
            enter_stage(&mut c, spec, cal, today, StageKind::Decide)?;
        }
        Action::Pause { procedure, reason } => {
            required(&mut e, "reason", reason, "启动特别程序的理由", 1000);
            if !procedure.is_special() {
                e.add("procedure", "只有现场踏勘、专家评审、听证属于特别程序");
            } else if !spec.special_procedures().any(|p| p == *procedure) {
                e.add(
                    "procedure",
                    format!("该事项的办理流程未设“{}”环节", procedure.label()),
                );
            }
            for clock in [
                &mut c.clocks.promised,
                &mut c.clocks.legal,
                &mut c.clocks.stage,
            ]
            .into_iter()
            .flatten()
            {
                clock.pause(cal, today).map_err(cal_err)?;
            }
            c.pause = Some(Pause {
                procedure: *procedure,
                reason: reason.trim().into(),
                since: today,
            });
        }
        Action::Resume => {
            held_block(&c)?;
            for clock in [
                &mut c.clocks.promised,
                &mut c.clocks.legal,
                &mut c.clocks.stage,
            ]
            .into_iter()
            .flatten()
            {
                clock.resume(cal, today).map_err(cal_err)?;
            }
            if let Some(p) = c.pause.take() {
                reason = Some(format!("{}结束", p.procedure.label()));
            }
        }
        Action::Extend { days, reason } => {
            required(&mut e, "reason", reason, "延期理由", 1000);
            let budget = c.clocks.promised.as_ref().map(|p| p.budget).unwrap_or(0);
            let total = budget.saturating_add(*days);
            if *days == 0 {
                e.add("days", "延期天数须至少 1 个工作日");
            } else if total > spec.legal_limit_days {
                e.add(
                    "days",
                    format!(
                        "延期后时限 {} 个工作日，超过法定时限 {} 个工作日（最多还可延期 {} 个工作日）",
                        total,
                        spec.legal_limit_days,
                        spec.legal_limit_days.saturating_sub(budget)
                    ),
                );
            } else if let Some(p) = c.clocks.promised.as_mut() {
                p.extend(cal, *days).map_err(cal_err)?;
            }
            c.extensions.push(Extension {
                days: *days,
                reason: reason.trim().into(),
                by: actor.account_id,
                at: ctx.now,
            });
        }
        Action::Approve { opinion } => {
            held_block(&c)?;
            if opinion.chars().count() > 2000 {
                e.add("opinion", "意见不能超过 2000 字");
            }
            decide(&mut c, ctx, actor, Outcome::Approved, opinion, "")?;
        }
        Action::Deny {
            reason,
            legal_basis,
        } => {
            required(&mut e, "reason", reason, "不予许可理由", 2000);
            required(&mut e, "legal_basis", legal_basis, "法律依据", 500);
            decide(&mut c, ctx, actor, Outcome::Denied, reason, legal_basis)?;
        }
        Action::ProduceResult {
            number,
            valid_until,
            summary,
        } => {
            c.result = Some(result_record(
                &c,
                spec,
                number,
                *valid_until,
                summary,
                ctx.now,
                &mut e,
            ));
            if let Some(clock) = c.clocks.stage.as_mut() {
                clock.finish(today);
            }
            c.stage = Some(StageKind::Issue);
        }
        Action::CheckResultOk => {}
        Action::CheckResultMismatch { reason } => {
            required(&mut e, "reason", reason, "不符之处", 1000);
            c.clocks.result_correction =
                Some(Clock::start(cal, today, RESULT_CORRECTION_DAYS).map_err(cal_err)?);
        }
        Action::CorrectResult {
            number,
            valid_until,
            summary,
        } => {
            c.result = Some(result_record(
                &c,
                spec,
                number,
                *valid_until,
                summary,
                ctx.now,
                &mut e,
            ));
            if let Some(clock) = c.clocks.result_correction.as_mut() {
                clock.finish(today);
            }
        }
        Action::DeliverPickup {
            signed_by,
            signer_id_number,
        } => {
            required(&mut e, "signed_by", signed_by, "签收人姓名", 50);
            let signer_id = match signer_id_number
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                None => None,
                Some(s) => e
                    .check("signer_id_number", IdNumber::parse(s))
                    .map(|id| id.mask()),
            };
            c.delivery = Some(Delivery::Pickup {
                signed_by: signed_by.trim().into(),
                signer_id,
                at: ctx.now,
            });
            c.clocks.archive = Some(Clock::start(cal, today, ARCHIVE_DAYS).map_err(cal_err)?);
        }
        Action::DeliverPost {
            carrier,
            tracking_number,
        } => {
            required(&mut e, "carrier", carrier, "快递公司", 30);
            let t = tracking_number.trim();
            if !(6..=40).contains(&t.len()) || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
                e.add("tracking_number", "运单号须为 6–40 位字母或数字");
            }
            c.delivery = Some(Delivery::Post {
                carrier: carrier.trim().into(),
                tracking_number: t.to_ascii_uppercase(),
                posted_at: ctx.now,
                received_at: None,
            });
        }
        Action::ConfirmReceipt => {
            if let Some(Delivery::Post { received_at, .. }) = c.delivery.as_mut() {
                *received_at = Some(ctx.now);
            }
            c.clocks.archive = Some(Clock::start(cal, today, ARCHIVE_DAYS).map_err(cal_err)?);
        }
        Action::Archive => {
            if let Some(clock) = c.clocks.archive.as_mut() {
                clock.finish(today);
            }
        }
        Action::Withdraw { reason } => {
            required(&mut e, "reason", reason, "撤回理由", 500);
            c.closing_reason = Some(reason.trim().into());
        }
        Action::FulfilCommitment {
            commitment,
            materials,
        } => {
            fulfil(&mut c, ctx, *commitment, materials, &mut e)?;
        }
        Action::BreachCommitment { commitment } => {
            let Some(k) = c.commitments.iter_mut().find(|k| k.seq == *commitment) else {
                return Err(Error::field("commitment", "没有这份容缺承诺"));
            };
            if k.status != CommitmentStatus::Open || k.due >= today {
                return Err(Error::field(
                    "commitment",
                    "承诺未到期或已销号，不能认定失信",
                ));
            }
            k.status = CommitmentStatus::Breached;
            k.closed_at = Some(ctx.now);
            let missing: Vec<String> = k
                .materials
                .iter()
                .filter(|m| !k.supplied.contains(m))
                .filter_map(|m| spec.material(m).map(|x| x.name.clone()))
                .collect();
            let why = format!(
                "容缺承诺逾期未履行（{}，期限 {}）：{}",
                c.number,
                k.due,
                missing.join("、")
            );
            effects.push(Effect::BarApplicantFromRongque {
                applicant_id: c.applicant.id,
                reason: why.clone(),
            });
            reason = Some(why.clone());
            if c.state.is_before_decision() {
                match spec.breach_policy {
                    BreachPolicy::Terminate => {
                        to = CaseState::Terminated;
                        c.closing_reason = Some(why);
                    }
                    BreachPolicy::Hold => {
                        c.held = true;
                        for clock in c.clocks.all_mut() {
                            clock.pause(cal, today).map_err(cal_err)?;
                        }
                    }
                }
            }
        }
    }
    e.into_result()?;

    let from = c.state;
    c.state = to;
    if to.is_final() {
        c.closed_at = Some(ctx.now);
        for clock in c.clocks.all_mut() {
            clock.finish(today);
        }
    }
    c.version += 1;
    c.updated_at = ctx.now;
    let event = Event {
        seq: c.version as u32,
        at: ctx.now,
        actor_id: actor.account_id,
        actor_name: actor.name.clone(),
        actor_role: actor.role,
        action: kind.as_str().into(),
        from: Some(from),
        to,
        reason,
        data: redacted(action),
    };
    Ok(Transition {
        case: c,
        event,
        effects,
    })
}

/// The action as the event log keeps it: personal numbers masked (DOMAIN §10).
fn redacted(action: &Action) -> EventData {
    if let Action::DeliverPickup {
        signer_id_number: Some(id),
        ..
    } = action
    {
        let masked = IdNumber::parse(id)
            .map(|i| i.mask())
            .unwrap_or_else(|_| "********".into());
        let mut action = action.clone();
        if let Action::DeliverPickup {
            signer_id_number, ..
        } = &mut action
        {
            *signer_id_number = Some(masked);
        }
        return EventData::of(&action);
    }
    EventData::of(action)
}

/// A 容缺 commitment for every material now under 容缺, due by `due` or after the item's
/// 容缺 period.
pub(crate) fn new_commitment(
    materials: &[super::model::MaterialEntry],
    ctx: &Ctx,
    due: Option<NaiveDate>,
) -> Result<super::model::Commitment> {
    let due = match due {
        Some(d) => d,
        None => {
            ctx.cal
                .deadline(ctx.today, ctx.spec.rongque_days)
                .map_err(cal_err)?
                .deadline
        }
    };
    Ok(super::model::Commitment {
        seq: 1,
        materials: materials
            .iter()
            .filter(|m| m.status == super::model::MaterialStatus::Rongque)
            .map(|m| m.code.clone())
            .collect(),
        supplied: vec![],
        due,
        signed_at: ctx.now,
        status: CommitmentStatus::Open,
        closed_at: None,
    })
}

fn merged_form(
    c: &Case,
    form: &std::collections::BTreeMap<String, String>,
) -> std::collections::BTreeMap<String, String> {
    let mut m = (*c.form).clone();
    m.extend(form.iter().map(|(k, v)| (k.clone(), v.clone())));
    m
}

fn push_notice(
    c: &mut Case,
    kind: NoticeKind,
    items: &[CorrectionItem],
    actor: &Actor,
    now: DateTime<Utc>,
) {
    let seq = c.notices.len() as u32 + 1;
    c.notices.push(CorrectionNotice {
        seq,
        kind,
        items: items
            .iter()
            .map(|i| CorrectionItem {
                target: i.target.trim().into(),
                problem: i.problem.trim().into(),
            })
            .collect(),
        issued_at: now,
        issued_by: actor.account_id,
        answered_at: None,
    });
}

fn answer_notice(c: &mut Case, now: DateTime<Utc>) {
    if let Some(n) = c.notices.last_mut()
        && n.answered_at.is_none()
    {
        n.answered_at = Some(now);
    }
}

/// The case counts as received (收件): the acceptance clock starts (承诺件), or the
/// same-day clock of a 即办件.
pub(crate) fn start_received(c: &mut Case, ctx: &Ctx) -> Result<()> {
    c.received_at = Some(ctx.now);
    match c.processing_type {
        ProcessingType::Promised => {
            c.clocks.acceptance =
                Some(Clock::start(ctx.cal, ctx.today, ACCEPTANCE_DAYS).map_err(cal_err)?);
            c.stage = Some(StageKind::Accept);
        }
        ProcessingType::Immediate => {
            c.clocks.promised = Some(Clock::start(ctx.cal, ctx.today, 0).map_err(cal_err)?);
            c.stage = Some(StageKind::Decide);
        }
    }
    Ok(())
}

fn enter_stage(
    c: &mut Case,
    spec: &ItemSpec,
    cal: &Calendar,
    today: NaiveDate,
    stage: StageKind,
) -> Result<()> {
    if let Some(clock) = c.clocks.stage.as_mut() {
        clock.finish(today);
    }
    c.stage = Some(stage);
    c.clocks.stage = match spec.stage_days(stage) {
        Some(days) => Some(Clock::start(cal, today, days).map_err(cal_err)?),
        None => None,
    };
    Ok(())
}

fn decide(
    c: &mut Case,
    ctx: &Ctx,
    actor: &Actor,
    outcome: Outcome,
    reason: &str,
    legal_basis: &str,
) -> Result<()> {
    for clock in [
        &mut c.clocks.acceptance,
        &mut c.clocks.promised,
        &mut c.clocks.legal,
    ]
    .into_iter()
    .flatten()
    {
        clock.finish(ctx.today);
    }
    c.decision = Some(Decision {
        outcome,
        reason: reason.trim().into(),
        legal_basis: legal_basis.trim().into(),
        by: actor.account_id,
        at: ctx.now,
    });
    c.decided_at = Some(ctx.now);
    enter_stage(c, ctx.spec, ctx.cal, ctx.today, StageKind::Produce)
}

fn fulfil(
    c: &mut Case,
    ctx: &Ctx,
    seq: u32,
    lines: &[MaterialLine],
    e: &mut FieldErrors,
) -> Result<()> {
    let Some(idx) = c.commitments.iter().position(|k| k.seq == seq) else {
        return Err(Error::field("commitment", "没有这份容缺承诺"));
    };
    if c.commitments[idx].status == CommitmentStatus::Fulfilled {
        return Err(Error::field("commitment", "该承诺已销号"));
    }
    if lines.is_empty() {
        e.add("materials", "须提交承诺补交的材料");
    }
    for (i, l) in lines.iter().enumerate() {
        let k = &c.commitments[idx];
        if !k.materials.contains(&l.code) {
            e.add(format!("materials[{i}].code"), "该材料不在此容缺承诺中");
        } else if k.supplied.contains(&l.code) {
            e.add(format!("materials[{i}].code"), "该材料已补交");
        }
        if !matches!(
            l.input,
            MaterialInput::Provided { .. } | MaterialInput::Shared { .. }
        ) {
            e.add(
                format!("materials[{i}].status"),
                "补交的材料须为已提交或证照共享",
            );
        }
    }
    if !e.is_empty() {
        return Ok(());
    }
    c.materials = Shared::new(update_checklist(ctx.spec, &c.form, &c.materials, lines, e));
    let k = &mut c.commitments[idx];
    k.supplied.extend(lines.iter().map(|l| l.code.clone()));
    if k.materials.iter().all(|m| k.supplied.contains(m)) {
        if k.status == CommitmentStatus::Open {
            k.status = CommitmentStatus::Fulfilled;
            k.closed_at = Some(ctx.now);
        }
        // A late supply releases a hold; the applicant stays barred.
        let still_missing = c.commitments.iter().any(|k| {
            k.status == CommitmentStatus::Breached
                && k.materials.iter().any(|m| !k.supplied.contains(m))
        });
        if c.held && !still_missing {
            c.held = false;
            let paused_by_procedure = c.pause.is_some();
            for clock in c.clocks.all_mut() {
                if !paused_by_procedure {
                    clock.resume(ctx.cal, ctx.today).map_err(cal_err)?;
                }
            }
        }
    }
    Ok(())
}

/// The actions `actor` could take on `case` now (state and role allow them), for
/// showing buttons. Data checks still apply when the action is taken.
pub fn available_actions(case: &Case, actor: &Actor) -> Vec<ActionKind> {
    ActionKind::ALL
        .into_iter()
        .filter(|k| {
            next_state(case.state, *k, case.processing_type).is_ok()
                && authorize(actor, case, *k).is_ok()
        })
        .collect()
}

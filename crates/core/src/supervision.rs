//! 效能监察 — warnings on every clock and 督办 orders for the overdue ones (DOMAIN
//! §5, §11). A sweep looks at the clocks of open cases (pre-review, acceptance,
//! promised, legal, stage, result correction, archive), the 容缺 commitments' due
//! dates and the rectification tasks' due dates: each nearing its end is marked
//! yellow, each past it red, and for each red one a 督办 order goes to the responsible
//! department, which answers it; a supervisor closes it.
//!
//! Pure: what to mark and open is decided here; `usecase::supervision` reads and
//! saves.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role};
use crate::calendar::Calendar;
use crate::case::clock::warning_for;
use crate::case::{Case, ClockKind, CommitmentStatus, Warning};
use crate::error::{Error, Result};
use crate::rating::rectification::Task;

/// What a warning is about.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A case (办件).
    Case,
    /// A rectification task (整改工单).
    Rectification,
    /// A 12345 work order.
    WorkOrder,
}

impl Subject {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Case => "case",
            Subject::Rectification => "rectification",
            Subject::WorkOrder => "work_order",
        }
    }
}

/// Which clock (stored and sent as its name: `promised`, `rongque`, `rectification`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Watched {
    /// A case clock.
    Clock(ClockKind),
    /// A 容缺 commitment's due date (补交期限).
    Rongque,
    /// A rectification task's due date.
    Rectification,
    /// A work order's 30-minute sign clock.
    HotlineSign,
    /// A work order's reply deadline.
    HotlineReply,
}

impl Watched {
    /// Stored name.
    pub fn as_str(self) -> String {
        match self {
            Watched::Clock(k) => serde_json::to_value(k)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            Watched::Rongque => "rongque".into(),
            Watched::Rectification => "rectification".into(),
            Watched::HotlineSign => "hotline_sign".into(),
            Watched::HotlineReply => "hotline_reply".into(),
        }
    }

    /// By its name.
    pub fn parse(s: &str) -> Option<Watched> {
        match s {
            "rongque" => Some(Watched::Rongque),
            "rectification" => Some(Watched::Rectification),
            "hotline_sign" => Some(Watched::HotlineSign),
            "hotline_reply" => Some(Watched::HotlineReply),
            k => serde_json::from_value(serde_json::Value::String(k.to_string()))
                .ok()
                .map(Watched::Clock),
        }
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Watched::Clock(k) => k.label(),
            Watched::Rongque => "容缺补交期限",
            Watched::Rectification => "差评整改期限",
            Watched::HotlineSign => "工单签收时限",
            Watched::HotlineReply => "工单办理时限",
        }
    }
}

impl From<Watched> for String {
    fn from(w: Watched) -> String {
        w.as_str()
    }
}

impl TryFrom<String> for Watched {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Watched, String> {
        Watched::parse(&s).ok_or_else(|| format!("unknown clock {s}"))
    }
}

/// A clock marked yellow or red.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WarningMark {
    /// About what.
    pub subject: Subject,
    /// The case or task.
    pub subject_id: i64,
    /// Which clock.
    #[schema(value_type = String)]
    pub clock: Watched,
    /// Its deadline.
    pub due: NaiveDate,
    /// Yellow or red.
    pub level: Warning,
    /// Responsible department.
    pub department_id: i64,
    /// The window that received the case (0: none).
    pub window_id: i64,
    /// Region.
    pub region: String,
    /// What people call it (a case number, 整改工单 N).
    pub label: String,
}

/// The marks a case's clocks and commitments call for on `today`.
pub fn case_marks(
    case: &Case,
    cal: &Calendar,
    today: NaiveDate,
    yellow_days: u32,
) -> Vec<WarningMark> {
    let mut out = Vec::new();
    let mut push = |clock: Watched, due: NaiveDate, level: Warning| {
        if level != Warning::None {
            out.push(WarningMark {
                subject: Subject::Case,
                subject_id: case.id,
                clock,
                due,
                level,
                department_id: case.department_id,
                window_id: case.window_id.unwrap_or(0),
                region: case.region.as_str().to_string(),
                label: case.number.as_str().to_string(),
            });
        }
    };
    if case.state.is_final() {
        return out;
    }
    for k in [
        ClockKind::PreReview,
        ClockKind::Acceptance,
        ClockKind::Promised,
        ClockKind::Legal,
        ClockKind::Stage,
        ClockKind::ResultCorrection,
        ClockKind::Archive,
    ] {
        if let Some(c) = case.clocks.get(k) {
            push(
                Watched::Clock(k),
                c.deadline,
                c.warning(cal, today, yellow_days),
            );
        }
    }
    for c in case
        .commitments
        .iter()
        .filter(|c| c.status == CommitmentStatus::Open)
    {
        push(
            Watched::Rongque,
            c.due,
            warning_for(cal, c.due, today, yellow_days),
        );
    }
    out
}

/// The mark a rectification task calls for on `today`.
pub fn task_mark(
    task: &Task,
    cal: &Calendar,
    today: NaiveDate,
    yellow_days: u32,
) -> Option<WarningMark> {
    if !task.state.awaits_department() {
        return None;
    }
    let level = warning_for(cal, task.due, today, yellow_days);
    (level != Warning::None).then(|| WarningMark {
        subject: Subject::Rectification,
        subject_id: task.id,
        clock: Watched::Rectification,
        due: task.due,
        level,
        department_id: task.department_id,
        window_id: 0,
        region: task.region.clone(),
        label: format!("整改工单 {}", task.id),
    })
}

/// The marks a work order's clocks call for at `now`: the sign clock (yellow in its
/// last third, red once past) while it waits to be signed; the reply deadline (over
/// working days) while it is not yet replied.
pub fn order_marks(
    o: &crate::hotline::WorkOrder,
    cal: &Calendar,
    now: DateTime<Utc>,
    yellow_days: u32,
    sign_minutes: u32,
) -> Vec<WarningMark> {
    use crate::hotline::OrderState as S;
    let Some(unit) = o.lead else { return vec![] };
    let mut out = Vec::new();
    let mark = |clock, due, level| WarningMark {
        subject: Subject::WorkOrder,
        subject_id: o.id,
        clock,
        due,
        level,
        department_id: unit,
        window_id: 0,
        region: o.region.clone(),
        label: format!("工单 {}", o.number),
    };
    if o.state == S::Dispatched
        && let Some(due) = o.sign_due
    {
        let third = chrono::Duration::minutes(i64::from(sign_minutes / 3).max(1));
        let level = if now > due {
            Warning::Red
        } else if now + third >= due {
            Warning::Yellow
        } else {
            Warning::None
        };
        if level != Warning::None {
            out.push(mark(
                Watched::HotlineSign,
                crate::time::china_date(due),
                level,
            ));
        }
    }
    if matches!(o.state, S::Dispatched | S::Returned | S::Handling)
        && let Some(due) = o.reply_due
    {
        let level = warning_for(cal, due, crate::time::china_date(now), yellow_days);
        if level != Warning::None {
            out.push(mark(Watched::HotlineReply, due, level));
        }
    }
    out
}

/// Where a 督办 order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// 待反馈: the department has to answer.
    Open,
    /// 已反馈: answered; a supervisor closes it or sends it back.
    Answered,
    /// 已办结.
    Closed,
}

impl OrderState {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            OrderState::Open => "待反馈",
            OrderState::Answered => "已反馈",
            OrderState::Closed => "已办结",
        }
    }

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Open => "open",
            OrderState::Answered => "answered",
            OrderState::Closed => "closed",
        }
    }
}

/// A 督办 order (督办单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SupervisionOrder {
    /// Id.
    pub id: i64,
    /// About what.
    pub subject: Subject,
    /// The case or task.
    pub subject_id: i64,
    /// Which clock.
    #[schema(value_type = String)]
    pub clock: Watched,
    /// The deadline missed.
    pub due: NaiveDate,
    /// To whom.
    pub department_id: i64,
    /// Region.
    pub region: String,
    /// What it is about, in words.
    pub label: String,
    /// Where it is.
    pub state: OrderState,
    /// The department's answers (反馈), oldest first.
    pub answers: Vec<OrderNote>,
    /// The supervisor's notes (办结 or 退回), oldest first.
    pub notes: Vec<OrderNote>,
    /// Opened.
    pub opened_at: DateTime<Utc>,
}

/// A note on an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderNote {
    /// What was said.
    pub text: String,
    /// Who.
    pub by: i64,
    /// Their name.
    pub by_name: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl SupervisionOrder {
    /// The order a red mark opens.
    pub fn for_mark(m: &WarningMark, now: DateTime<Utc>) -> SupervisionOrder {
        SupervisionOrder {
            id: 0,
            subject: m.subject,
            subject_id: m.subject_id,
            clock: m.clock,
            due: m.due,
            department_id: m.department_id,
            region: m.region.clone(),
            label: format!("{}：{}已超期（期限 {}）", m.label, m.clock.label(), m.due),
            state: OrderState::Open,
            answers: vec![],
            notes: vec![],
            opened_at: now,
        }
    }
}

/// What is done to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum OrderAction {
    /// 反馈 (the department): what it did about the lateness.
    Answer {
        /// The answer.
        text: String,
    },
    /// 办结 (a supervisor).
    Close {
        /// Opinion.
        #[serde(default)]
        text: String,
    },
    /// 退回 (a supervisor): answer again.
    SendBack {
        /// Why.
        text: String,
    },
}

/// Who may see an order: its department; supervisors of its region.
pub fn can_see_order(actor: &Actor, o: &SupervisionOrder) -> bool {
    match actor.role {
        Role::DeptReviewer | Role::DeptApprover => actor.in_department(o.department_id),
        Role::Supervisor | Role::SysAdmin => actor
            .region
            .as_ref()
            .is_some_and(|r| o.region.starts_with(r.prefix())),
        _ => false,
    }
}

/// Apply an action to an order.
pub fn act_on_order(
    o: &SupervisionOrder,
    actor: &Actor,
    action: &OrderAction,
    now: DateTime<Utc>,
) -> Result<SupervisionOrder> {
    let department = matches!(actor.role, Role::DeptReviewer | Role::DeptApprover)
        && actor.in_department(o.department_id);
    let supervisor = actor.role == Role::Supervisor
        && actor
            .region
            .as_ref()
            .is_some_and(|r| o.region.starts_with(r.prefix()));
    let refuse = |reason: &str, what: &str| Error::InvalidTransition {
        state: o.state.label().into(),
        action: what.into(),
        reason: reason.into(),
    };
    let note = |text: &str| OrderNote {
        text: text.trim().to_string(),
        by: actor.account_id,
        by_name: actor.name.clone(),
        at: now,
    };
    let mut next = o.clone();
    match action {
        OrderAction::Answer { text } => {
            if !department {
                return Err(Error::forbidden("督办单由责任部门反馈"));
            }
            if o.state != OrderState::Open {
                return Err(refuse("只有待反馈的督办单可以反馈", "反馈"));
            }
            if text.trim().is_empty() || text.chars().count() > 1000 {
                return Err(Error::field("text", "请写明处理情况（不超过 1000 字）"));
            }
            next.answers.push(note(text));
            next.state = OrderState::Answered;
        }
        OrderAction::Close { text } | OrderAction::SendBack { text } => {
            if !supervisor {
                return Err(Error::forbidden("督办单由督查人员办结或退回"));
            }
            let close = matches!(action, OrderAction::Close { .. });
            let what = if close { "办结" } else { "退回" };
            if o.state != OrderState::Answered {
                return Err(refuse("部门反馈后才能办结或退回", what));
            }
            if !close && text.trim().is_empty() {
                return Err(Error::field("text", "请写明退回原因"));
            }
            next.notes.push(note(text));
            next.state = if close {
                OrderState::Closed
            } else {
                OrderState::Open
            };
        }
    }
    Ok(next)
}

/// Supervision settings administrators change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupervisionSettings {
    /// Working days a 差评's department has to rectify (local rules: 5–15; default 10).
    pub rectification_days: u32,
    /// Open a 督办 order for every red clock.
    pub open_orders: bool,
}

impl Default for SupervisionSettings {
    fn default() -> Self {
        SupervisionSettings {
            rectification_days: 10,
            open_orders: true,
        }
    }
}

impl SupervisionSettings {
    /// Check.
    pub fn validate(&self) -> Result<()> {
        if !(1..=60).contains(&self.rectification_days) {
            return Err(Error::field(
                "rectification_days",
                "整改期限须在 1–60 个工作日之间",
            ));
        }
        Ok(())
    }
}

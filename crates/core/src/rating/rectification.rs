//! 差评整改 — the rectification task every 差评 opens for the responsible department
//! (seed 000 §(四)8: 调查核实、督办协调、问题整改与责任追查同步进行).
//!
//! ```text
//! 待整改 ──start──▶ 整改中 ──report_rectified──▶ 待审核(已整改) ──approve──▶ 已整改 ─┐
//!    │                 │  └─report_unrectifiable─▶ 待审核(无法整改) ─approve─▶ 无法整改 ┤
//!    │                 │          reject (back to 整改中) ◀──┘                           │
//!    └──appeal─────────┴──▶ 申诉中 ──uphold_appeal──▶ 申诉成立 (the rating set aside)    │
//!                              └──reject_appeal──▶ (back where it was)                  │
//! 已整改 / 无法整改 ──call_back (reached)──▶ 已办结 ◀─────────────────────────────────────┘
//! ```
//! The department acts on 待整改 and 整改中; a supervisor reviews, decides appeals and
//! calls back (回访; three unanswered calls close it as 未能回访). A task not reported
//! by its due date is 逾期 (a mark beside the state; it can still be finished). Every
//! state × action is decided by [`next`], an exhaustive match.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role};
use crate::error::{Error, Result};

/// Where a task is.
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
pub enum TaskState {
    /// 待整改.
    Pending,
    /// 整改中.
    InProgress,
    /// 待审核 — the department reported it rectified.
    ReviewRectified,
    /// 待审核 — the department reported it cannot be rectified.
    ReviewUnrectifiable,
    /// 申诉中 — the department says the rating is invalid.
    Appealed,
    /// 已整改 — confirmed; waiting for the call-back.
    Rectified,
    /// 无法整改 — confirmed; waiting for the call-back.
    Unrectifiable,
    /// 申诉成立 (final): the rating is set aside.
    AppealUpheld,
    /// 已办结 (final): called back.
    Closed,
}

impl TaskState {
    /// Every state.
    pub const ALL: [TaskState; 9] = [
        TaskState::Pending,
        TaskState::InProgress,
        TaskState::ReviewRectified,
        TaskState::ReviewUnrectifiable,
        TaskState::Appealed,
        TaskState::Rectified,
        TaskState::Unrectifiable,
        TaskState::AppealUpheld,
        TaskState::Closed,
    ];

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            TaskState::Pending => "待整改",
            TaskState::InProgress => "整改中",
            TaskState::ReviewRectified => "待审核（已整改）",
            TaskState::ReviewUnrectifiable => "待审核（无法整改）",
            TaskState::Appealed => "申诉中",
            TaskState::Rectified => "已整改，待回访",
            TaskState::Unrectifiable => "无法整改，待回访",
            TaskState::AppealUpheld => "申诉成立",
            TaskState::Closed => "已办结",
        }
    }

    /// No more actions.
    pub fn is_final(self) -> bool {
        matches!(self, TaskState::AppealUpheld | TaskState::Closed)
    }

    /// The department still owes its report (the due date applies).
    pub fn awaits_department(self) -> bool {
        matches!(self, TaskState::Pending | TaskState::InProgress)
    }

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::InProgress => "in_progress",
            TaskState::ReviewRectified => "review_rectified",
            TaskState::ReviewUnrectifiable => "review_unrectifiable",
            TaskState::Appealed => "appealed",
            TaskState::Rectified => "rectified",
            TaskState::Unrectifiable => "unrectifiable",
            TaskState::AppealUpheld => "appeal_upheld",
            TaskState::Closed => "closed",
        }
    }
}

/// What someone does to a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum TaskAction {
    /// 开始整改 (the department).
    Start {
        /// What the department has found (核实情况).
        #[serde(default)]
        note: String,
    },
    /// 整改完成 (the department): what was done.
    ReportRectified {
        /// The measures taken.
        measures: String,
    },
    /// 无法整改 (the department): why not.
    ReportUnrectifiable {
        /// Why.
        reason: String,
    },
    /// 申诉 (the department): the rating is invalid (e.g. not about this service).
    Appeal {
        /// Why.
        reason: String,
    },
    /// 审核通过 (a supervisor).
    Approve {
        /// Opinion.
        #[serde(default)]
        note: String,
    },
    /// 审核退回 (a supervisor): rectify further.
    Reject {
        /// Why.
        reason: String,
    },
    /// 申诉成立 (a supervisor).
    UpholdAppeal {
        /// Why.
        reason: String,
    },
    /// 申诉驳回 (a supervisor).
    RejectAppeal {
        /// Why.
        reason: String,
    },
    /// 回访 (a supervisor or hotline operator): the applicant called.
    CallBack {
        /// Reached the applicant.
        reached: bool,
        /// Satisfied with the rectification (when reached).
        #[serde(default)]
        satisfied: bool,
        /// Notes.
        #[serde(default)]
        note: String,
    },
}

/// The kinds of action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskActionKind {
    /// Start.
    Start,
    /// Report rectified.
    ReportRectified,
    /// Report unrectifiable.
    ReportUnrectifiable,
    /// Appeal.
    Appeal,
    /// Approve.
    Approve,
    /// Reject.
    Reject,
    /// Uphold appeal.
    UpholdAppeal,
    /// Reject appeal.
    RejectAppeal,
    /// Call back.
    CallBack,
}

impl TaskActionKind {
    /// Every kind.
    pub const ALL: [TaskActionKind; 9] = [
        TaskActionKind::Start,
        TaskActionKind::ReportRectified,
        TaskActionKind::ReportUnrectifiable,
        TaskActionKind::Appeal,
        TaskActionKind::Approve,
        TaskActionKind::Reject,
        TaskActionKind::UpholdAppeal,
        TaskActionKind::RejectAppeal,
        TaskActionKind::CallBack,
    ];

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            TaskActionKind::Start => "开始整改",
            TaskActionKind::ReportRectified => "整改完成",
            TaskActionKind::ReportUnrectifiable => "无法整改",
            TaskActionKind::Appeal => "申诉",
            TaskActionKind::Approve => "审核通过",
            TaskActionKind::Reject => "审核退回",
            TaskActionKind::UpholdAppeal => "申诉成立",
            TaskActionKind::RejectAppeal => "申诉驳回",
            TaskActionKind::CallBack => "回访",
        }
    }

    /// Its name in the API (`action` in `POST /rectifications/{id}/actions`).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskActionKind::Start => "start",
            TaskActionKind::ReportRectified => "report_rectified",
            TaskActionKind::ReportUnrectifiable => "report_unrectifiable",
            TaskActionKind::Appeal => "appeal",
            TaskActionKind::Approve => "approve",
            TaskActionKind::Reject => "reject",
            TaskActionKind::UpholdAppeal => "uphold_appeal",
            TaskActionKind::RejectAppeal => "reject_appeal",
            TaskActionKind::CallBack => "call_back",
        }
    }

    /// The department acts (else a supervisor).
    pub fn by_department(self) -> bool {
        matches!(
            self,
            TaskActionKind::Start
                | TaskActionKind::ReportRectified
                | TaskActionKind::ReportUnrectifiable
                | TaskActionKind::Appeal
        )
    }
}

impl TaskAction {
    /// An action of kind `k` with empty texts (a call-back reached and satisfied):
    /// enough for [`next`] to tell whether that kind may be taken in a state — pages
    /// offer the forms of those that may.
    pub fn blank(k: TaskActionKind) -> TaskAction {
        let t = String::new();
        match k {
            TaskActionKind::Start => TaskAction::Start { note: t },
            TaskActionKind::ReportRectified => TaskAction::ReportRectified { measures: t },
            TaskActionKind::ReportUnrectifiable => TaskAction::ReportUnrectifiable { reason: t },
            TaskActionKind::Appeal => TaskAction::Appeal { reason: t },
            TaskActionKind::Approve => TaskAction::Approve { note: t },
            TaskActionKind::Reject => TaskAction::Reject { reason: t },
            TaskActionKind::UpholdAppeal => TaskAction::UpholdAppeal { reason: t },
            TaskActionKind::RejectAppeal => TaskAction::RejectAppeal { reason: t },
            TaskActionKind::CallBack => TaskAction::CallBack {
                reached: true,
                satisfied: true,
                note: t,
            },
        }
    }

    /// Its kind.
    pub fn kind(&self) -> TaskActionKind {
        match self {
            TaskAction::Start { .. } => TaskActionKind::Start,
            TaskAction::ReportRectified { .. } => TaskActionKind::ReportRectified,
            TaskAction::ReportUnrectifiable { .. } => TaskActionKind::ReportUnrectifiable,
            TaskAction::Appeal { .. } => TaskActionKind::Appeal,
            TaskAction::Approve { .. } => TaskActionKind::Approve,
            TaskAction::Reject { .. } => TaskActionKind::Reject,
            TaskAction::UpholdAppeal { .. } => TaskActionKind::UpholdAppeal,
            TaskAction::RejectAppeal { .. } => TaskActionKind::RejectAppeal,
            TaskAction::CallBack { .. } => TaskActionKind::CallBack,
        }
    }

    fn text(&self) -> &str {
        match self {
            TaskAction::Start { note } | TaskAction::Approve { note } => note,
            TaskAction::ReportRectified { measures } => measures,
            TaskAction::ReportUnrectifiable { reason }
            | TaskAction::Appeal { reason }
            | TaskAction::Reject { reason }
            | TaskAction::UpholdAppeal { reason }
            | TaskAction::RejectAppeal { reason } => reason,
            TaskAction::CallBack { note, .. } => note,
        }
    }
}

/// A call-back made (回访记录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallBack {
    /// Reached the applicant.
    pub reached: bool,
    /// Satisfied (when reached).
    pub satisfied: bool,
    /// Notes.
    pub note: String,
    /// Who called.
    pub by: i64,
    /// When.
    pub at: DateTime<Utc>,
}

/// One step of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskStep {
    /// The action.
    pub action: TaskActionKind,
    /// From.
    pub from: TaskState,
    /// To.
    pub to: TaskState,
    /// What was said.
    pub text: String,
    /// Who.
    pub by: i64,
    /// Their name.
    pub by_name: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A rectification task (整改工单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Task {
    /// Id.
    pub id: i64,
    /// The rating that opened it.
    pub rating_id: i64,
    /// The case rated.
    pub case_id: i64,
    /// The responsible department.
    pub department_id: i64,
    /// The case's region.
    pub region: String,
    /// Where it is.
    pub state: TaskState,
    /// The state an appeal was made from (to return to when it is rejected).
    pub before_appeal: Option<TaskState>,
    /// The department's report is due by the end of this day.
    pub due: NaiveDate,
    /// The day it became overdue (逾期), if it did.
    pub overdue_since: Option<NaiveDate>,
    /// Reported within the due date (set when the department reports).
    pub reported_on_time: Option<bool>,
    /// Call-backs made.
    pub call_backs: Vec<CallBack>,
    /// Steps.
    pub steps: Vec<TaskStep>,
    /// Opened.
    pub opened_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic concurrency.
    pub version: i64,
}

/// Unanswered call-backs after which a task is closed as 未能回访.
pub const MAX_UNREACHED: usize = 3;

fn refused(state: TaskState, action: TaskActionKind, reason: &str) -> Error {
    Error::InvalidTransition {
        state: state.label().into(),
        action: action.label().into(),
        reason: reason.into(),
    }
}

/// The state after `action` in `state` (and unreached call-backs so far), or why not.
pub fn next(
    state: TaskState,
    before_appeal: Option<TaskState>,
    action: &TaskAction,
    unreached: usize,
) -> Result<TaskState> {
    use TaskActionKind as A;
    use TaskState as S;
    let k = action.kind();
    match state {
        S::Pending => match k {
            A::Start => Ok(S::InProgress),
            A::Appeal => Ok(S::Appealed),
            _ => Err(refused(state, k, "待整改的工单须由责任部门开始整改或申诉")),
        },
        S::InProgress => match k {
            A::ReportRectified => Ok(S::ReviewRectified),
            A::ReportUnrectifiable => Ok(S::ReviewUnrectifiable),
            A::Appeal => Ok(S::Appealed),
            _ => Err(refused(
                state,
                k,
                "整改中的工单须由责任部门报告整改结果或申诉",
            )),
        },
        S::ReviewRectified => match k {
            A::Approve => Ok(S::Rectified),
            A::Reject => Ok(S::InProgress),
            _ => Err(refused(state, k, "待审核的工单由督查人员审核")),
        },
        S::ReviewUnrectifiable => match k {
            A::Approve => Ok(S::Unrectifiable),
            A::Reject => Ok(S::InProgress),
            _ => Err(refused(state, k, "待审核的工单由督查人员审核")),
        },
        S::Appealed => match k {
            A::UpholdAppeal => Ok(S::AppealUpheld),
            A::RejectAppeal => Ok(before_appeal.unwrap_or(S::InProgress)),
            _ => Err(refused(state, k, "申诉中的工单由督查人员裁定")),
        },
        S::Rectified | S::Unrectifiable => match (k, action) {
            (A::CallBack, TaskAction::CallBack { reached: true, .. }) => Ok(S::Closed),
            (A::CallBack, _) if unreached + 1 >= MAX_UNREACHED => Ok(S::Closed),
            (A::CallBack, _) => Ok(state),
            _ => Err(refused(state, k, "整改结果已确认，待回访")),
        },
        S::AppealUpheld | S::Closed => Err(refused(state, k, "工单已办结")),
    }
}

/// Who may act: the department's reviewers and approvers for department actions, a
/// supervisor for reviews and appeals, a supervisor or hotline operator for call-backs,
/// each within their department or region.
pub fn authorize(actor: &Actor, task: &Task, action: TaskActionKind) -> Result<()> {
    let region_ok = actor
        .region
        .as_ref()
        .is_some_and(|r| task.region.starts_with(r.prefix()));
    if action.by_department() {
        if !matches!(actor.role, Role::DeptReviewer | Role::DeptApprover) {
            return Err(Error::forbidden("整改由责任部门办理"));
        }
        if !actor.in_department(task.department_id) {
            return Err(Error::forbidden("不是本部门的整改工单"));
        }
        return Ok(());
    }
    let allowed = match action {
        TaskActionKind::CallBack => matches!(actor.role, Role::Supervisor | Role::HotlineOperator),
        _ => actor.role == Role::Supervisor,
    };
    if !allowed {
        return Err(Error::forbidden(format!(
            "“{}”由督查人员办理",
            action.label()
        )));
    }
    if !region_ok {
        return Err(Error::forbidden("超出本账号的区划范围"));
    }
    Ok(())
}

/// Who may see a task: its department, supervisors and hotline operators of its region.
pub fn can_see(actor: &Actor, task: &Task) -> bool {
    match actor.role {
        Role::DeptReviewer | Role::DeptApprover => actor.in_department(task.department_id),
        Role::Supervisor | Role::HotlineOperator | Role::SysAdmin => actor
            .region
            .as_ref()
            .is_some_and(|r| task.region.starts_with(r.prefix())),
        _ => false,
    }
}

/// Apply an action: the task afterwards. Texts that explain are required.
pub fn apply(
    task: &Task,
    actor: &Actor,
    action: &TaskAction,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Task> {
    let k = action.kind();
    authorize(actor, task, k)?;
    let unreached = task.call_backs.iter().filter(|c| !c.reached).count();
    let to = next(task.state, task.before_appeal, action, unreached)?;
    let text = action.text().trim();
    let needs_text = matches!(
        k,
        TaskActionKind::ReportRectified
            | TaskActionKind::ReportUnrectifiable
            | TaskActionKind::Appeal
            | TaskActionKind::Reject
            | TaskActionKind::UpholdAppeal
            | TaskActionKind::RejectAppeal
    );
    if needs_text && text.is_empty() {
        let field = match action {
            TaskAction::ReportRectified { .. } => "measures",
            _ => "reason",
        };
        return Err(Error::field(field, "请写明情况"));
    }
    if text.chars().count() > 1000 {
        return Err(Error::field("reason", "不超过 1000 字"));
    }
    let mut t = task.clone();
    match action {
        TaskAction::Appeal { .. } => t.before_appeal = Some(task.state),
        TaskAction::RejectAppeal { .. } | TaskAction::UpholdAppeal { .. } => t.before_appeal = None,
        TaskAction::ReportRectified { .. } | TaskAction::ReportUnrectifiable { .. } => {
            if t.reported_on_time.is_none() {
                t.reported_on_time = Some(today <= t.due);
            }
        }
        TaskAction::CallBack {
            reached,
            satisfied,
            note,
        } => t.call_backs.push(CallBack {
            reached: *reached,
            satisfied: *reached && *satisfied,
            note: note.trim().to_string(),
            by: actor.account_id,
            at: now,
        }),
        TaskAction::Start { .. } | TaskAction::Approve { .. } | TaskAction::Reject { .. } => {}
    }
    t.steps.push(TaskStep {
        action: k,
        from: task.state,
        to,
        text: text.to_string(),
        by: actor.account_id,
        by_name: actor.name.clone(),
        at: now,
    });
    t.state = to;
    t.updated_at = now;
    Ok(t)
}

/// Mark a task overdue if its department has not reported by its due date.
pub fn mark_overdue(task: &Task, today: NaiveDate) -> Option<Task> {
    if task.state.awaits_department() && today > task.due && task.overdue_since.is_none() {
        let mut t = task.clone();
        t.overdue_since = Some(today);
        Some(t)
    } else {
        None
    }
}

//! 12345 — the citizens' hotline (DOMAIN §8; seed 000 §(四)9, seed 003 item 12): one
//! number and every channel for consultations, requests, complaints, reports,
//! suggestions and praise. A work order (工单) is answered at once from the knowledge
//! base, or dispatched to a lead unit (and assisting units) that signs for it within
//! 30 working minutes, handles it and replies; the dispatcher reviews the reply; the
//! caller is called back; an unsatisfied caller reopens it. Pure: `usecase::hotline`
//! loads and saves.

pub mod hours;
pub mod kb;
#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role};
use crate::calendar::Calendar;
use crate::error::{Error, FieldErrors, Result};
use hours::WorkingHours;

/// 诉求类型.
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
pub enum OrderType {
    /// 咨询.
    Consultation,
    /// 求助.
    Request,
    /// 投诉.
    Complaint,
    /// 举报.
    Report,
    /// 建议.
    Suggestion,
    /// 表扬.
    Praise,
}

impl OrderType {
    /// Every type.
    pub const ALL: [OrderType; 6] = [
        OrderType::Consultation,
        OrderType::Request,
        OrderType::Complaint,
        OrderType::Report,
        OrderType::Suggestion,
        OrderType::Praise,
    ];

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            OrderType::Consultation => "咨询",
            OrderType::Request => "求助",
            OrderType::Complaint => "投诉",
            OrderType::Report => "举报",
            OrderType::Suggestion => "建议",
            OrderType::Praise => "表扬",
        }
    }
}

/// 紧急程度.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// 一般.
    #[default]
    Normal,
    /// 紧急.
    Urgent,
    /// 特急: by the end of the day.
    Critical,
}

impl Urgency {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Urgency::Normal => "一般",
            Urgency::Urgent => "紧急",
            Urgency::Critical => "特急",
        }
    }
}

/// 来源渠道.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// 电话.
    Phone,
    /// 网站.
    Web,
    /// 小程序.
    MiniProgram,
    /// 信件 / 邮件.
    Mail,
    /// Open311 clients.
    Open311,
}

impl Source {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Source::Phone => "电话",
            Source::Web => "网站",
            Source::MiniProgram => "小程序",
            Source::Mail => "信件",
            Source::Open311 => "Open311 接口",
        }
    }
}

/// Where an order is.
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
pub enum OrderState {
    /// 已登记: waiting for the operator to answer or dispatch.
    Registered,
    /// 已派单: waiting for the lead unit to sign (30 working minutes).
    Dispatched,
    /// 退单待审: the unit says it is not theirs.
    Returned,
    /// 办理中.
    Handling,
    /// 已答复: the dispatcher reviews the reply.
    Replied,
    /// 待回访.
    Reviewed,
    /// 重办: the caller was not satisfied; to be dispatched again.
    Reopened,
    /// 已办结 (final; 对账销号).
    Closed,
    /// 已合并 into another order (final).
    Merged,
}

impl OrderState {
    /// Every state.
    pub const ALL: [OrderState; 9] = [
        OrderState::Registered,
        OrderState::Dispatched,
        OrderState::Returned,
        OrderState::Handling,
        OrderState::Replied,
        OrderState::Reviewed,
        OrderState::Reopened,
        OrderState::Closed,
        OrderState::Merged,
    ];

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            OrderState::Registered => "已登记",
            OrderState::Dispatched => "已派单，待签收",
            OrderState::Returned => "退单待审",
            OrderState::Handling => "办理中",
            OrderState::Replied => "已答复，待审核",
            OrderState::Reviewed => "待回访",
            OrderState::Reopened => "重办",
            OrderState::Closed => "已办结",
            OrderState::Merged => "已合并",
        }
    }

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Registered => "registered",
            OrderState::Dispatched => "dispatched",
            OrderState::Returned => "returned",
            OrderState::Handling => "handling",
            OrderState::Replied => "replied",
            OrderState::Reviewed => "reviewed",
            OrderState::Reopened => "reopened",
            OrderState::Closed => "closed",
            OrderState::Merged => "merged",
        }
    }

    /// By name.
    pub fn parse(s: &str) -> Option<OrderState> {
        OrderState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// No more actions.
    pub fn is_final(self) -> bool {
        matches!(self, OrderState::Closed | OrderState::Merged)
    }
}

/// Deadlines in working days per type and urgency (configurable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    /// Working minutes to sign for a dispatched order (seed 000: 30).
    pub sign_minutes: u32,
    /// Working days to reply, per type, for a normal order.
    pub reply_days: Vec<(OrderType, u32)>,
    /// Urgent orders get this many working days at most.
    pub urgent_days: u32,
    /// Working days an extension may add at most.
    pub max_extension_days: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            sign_minutes: 30,
            reply_days: vec![
                (OrderType::Consultation, 1),
                (OrderType::Request, 3),
                (OrderType::Complaint, 5),
                (OrderType::Report, 5),
                (OrderType::Suggestion, 5),
                (OrderType::Praise, 3),
            ],
            urgent_days: 1,
            max_extension_days: 10,
        }
    }
}

impl Deadlines {
    /// Working days to reply to an order of this type and urgency (0: the same day).
    pub fn reply_days(&self, t: OrderType, u: Urgency) -> u32 {
        let normal = self
            .reply_days
            .iter()
            .find(|(x, _)| *x == t)
            .map(|(_, d)| *d)
            .unwrap_or(5);
        match u {
            Urgency::Normal => normal,
            Urgency::Urgent => normal.min(self.urgent_days),
            Urgency::Critical => 0,
        }
    }

    /// Check.
    pub fn validate(&self) -> Result<()> {
        let mut e = FieldErrors::new();
        if !(5..=480).contains(&self.sign_minutes) {
            e.add("sign_minutes", "签收时限须在 5–480 分钟之间");
        }
        for t in OrderType::ALL {
            if !self.reply_days.iter().any(|(x, _)| *x == t) {
                e.add("reply_days", format!("缺少“{}”的办理时限", t.label()));
            }
        }
        if self.reply_days.iter().any(|(_, d)| *d == 0 || *d > 60) {
            e.add("reply_days", "办理时限须在 1–60 个工作日之间");
        }
        if self.max_extension_days > 30 {
            e.add("max_extension_days", "延期不超过 30 个工作日");
        }
        e.into_result()
    }
}

/// The caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Caller {
    /// Name (may be anonymous: "匿名").
    pub name: String,
    /// Phone, for the call-back.
    pub phone: String,
    /// Resident ID number, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    /// E-mail, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Where it is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Location {
    /// Address in words.
    #[serde(default)]
    pub address: String,
    /// Region code (county, town or village).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// WGS-84 latitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// WGS-84 longitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long: Option<f64>,
}

/// What someone does to an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum OrderAction {
    /// 直接答复 from the knowledge base and close (the operator).
    AnswerDirectly {
        /// The answer given.
        answer: String,
        /// The article used.
        #[serde(default)]
        article_id: Option<i64>,
    },
    /// 派单 (the dispatcher): the lead unit and assisting units (departments).
    Dispatch {
        /// 主办单位.
        lead: i64,
        /// 协办单位.
        #[serde(default)]
        assisting: Vec<i64>,
        /// Instructions.
        #[serde(default)]
        note: String,
    },
    /// 签收 (the lead unit).
    Sign,
    /// 退单 (the lead unit): not ours, with why.
    Return {
        /// Why.
        reason: String,
    },
    /// 改派 (the dispatcher, on a returned order): to another unit.
    Redispatch {
        /// The new lead unit.
        lead: i64,
        /// Assisting units.
        #[serde(default)]
        assisting: Vec<i64>,
        /// Why.
        #[serde(default)]
        note: String,
    },
    /// 裁定 (the dispatcher, on a returned order): the unit must handle it.
    Rule {
        /// Why it is theirs.
        reason: String,
    },
    /// 协办意见 (an assisting unit).
    AssistNote {
        /// The note.
        text: String,
    },
    /// 申请延期 (the lead unit).
    RequestExtension {
        /// Working days.
        days: u32,
        /// Why.
        reason: String,
    },
    /// 批准延期 (the dispatcher).
    ApproveExtension,
    /// 驳回延期 (the dispatcher).
    DenyExtension {
        /// Why.
        reason: String,
    },
    /// 答复 (the lead unit): what was done.
    Reply {
        /// The reply.
        text: String,
    },
    /// 审核通过 (the dispatcher).
    AcceptReply,
    /// 审核退回 (the dispatcher).
    SendBack {
        /// Why.
        reason: String,
    },
    /// 回访 (the operator).
    CallBack {
        /// Reached the caller.
        reached: bool,
        /// Satisfied (when reached).
        #[serde(default)]
        satisfied: bool,
        /// Notes.
        #[serde(default)]
        note: String,
    },
    /// 合并 into another order (the dispatcher): a duplicate.
    MergeInto {
        /// The order it duplicates.
        into: i64,
    },
}

/// The kinds of action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Answer directly.
    AnswerDirectly,
    /// Dispatch.
    Dispatch,
    /// Sign.
    Sign,
    /// Return.
    Return,
    /// Redispatch.
    Redispatch,
    /// Rule.
    Rule,
    /// Assisting unit's note.
    AssistNote,
    /// Request an extension.
    RequestExtension,
    /// Approve it.
    ApproveExtension,
    /// Deny it.
    DenyExtension,
    /// Reply.
    Reply,
    /// Accept the reply.
    AcceptReply,
    /// Send the reply back.
    SendBack,
    /// Call back.
    CallBack,
    /// Merge into another.
    MergeInto,
}

impl ActionKind {
    /// Every kind.
    pub const ALL: [ActionKind; 15] = [
        ActionKind::AnswerDirectly,
        ActionKind::Dispatch,
        ActionKind::Sign,
        ActionKind::Return,
        ActionKind::Redispatch,
        ActionKind::Rule,
        ActionKind::AssistNote,
        ActionKind::RequestExtension,
        ActionKind::ApproveExtension,
        ActionKind::DenyExtension,
        ActionKind::Reply,
        ActionKind::AcceptReply,
        ActionKind::SendBack,
        ActionKind::CallBack,
        ActionKind::MergeInto,
    ];

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            ActionKind::AnswerDirectly => "直接答复",
            ActionKind::Dispatch => "派单",
            ActionKind::Sign => "签收",
            ActionKind::Return => "退单",
            ActionKind::Redispatch => "改派",
            ActionKind::Rule => "裁定承办",
            ActionKind::AssistNote => "协办意见",
            ActionKind::RequestExtension => "申请延期",
            ActionKind::ApproveExtension => "批准延期",
            ActionKind::DenyExtension => "驳回延期",
            ActionKind::Reply => "答复",
            ActionKind::AcceptReply => "审核通过",
            ActionKind::SendBack => "审核退回",
            ActionKind::CallBack => "回访",
            ActionKind::MergeInto => "合并工单",
        }
    }

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::AnswerDirectly => "answer_directly",
            ActionKind::Dispatch => "dispatch",
            ActionKind::Sign => "sign",
            ActionKind::Return => "return",
            ActionKind::Redispatch => "redispatch",
            ActionKind::Rule => "rule",
            ActionKind::AssistNote => "assist_note",
            ActionKind::RequestExtension => "request_extension",
            ActionKind::ApproveExtension => "approve_extension",
            ActionKind::DenyExtension => "deny_extension",
            ActionKind::Reply => "reply",
            ActionKind::AcceptReply => "accept_reply",
            ActionKind::SendBack => "send_back",
            ActionKind::CallBack => "call_back",
            ActionKind::MergeInto => "merge_into",
        }
    }

    /// Who acts: the 12345 centre (operators, dispatchers) or a unit.
    pub fn by_centre(self) -> bool {
        !matches!(
            self,
            ActionKind::Sign
                | ActionKind::Return
                | ActionKind::AssistNote
                | ActionKind::RequestExtension
                | ActionKind::Reply
        )
    }
}

impl OrderAction {
    /// An action of kind `k` with empty data (a call-back reached and satisfied): enough
    /// for [`next`] to tell whether that kind may be taken in a state — pages offer the
    /// forms of those that may.
    pub fn blank(k: ActionKind) -> OrderAction {
        let t = String::new();
        match k {
            ActionKind::AnswerDirectly => OrderAction::AnswerDirectly {
                answer: t,
                article_id: None,
            },
            ActionKind::Dispatch => OrderAction::Dispatch {
                lead: 0,
                assisting: vec![],
                note: t,
            },
            ActionKind::Sign => OrderAction::Sign,
            ActionKind::Return => OrderAction::Return { reason: t },
            ActionKind::Redispatch => OrderAction::Redispatch {
                lead: 0,
                assisting: vec![],
                note: t,
            },
            ActionKind::Rule => OrderAction::Rule { reason: t },
            ActionKind::AssistNote => OrderAction::AssistNote { text: t },
            ActionKind::RequestExtension => OrderAction::RequestExtension { days: 1, reason: t },
            ActionKind::ApproveExtension => OrderAction::ApproveExtension,
            ActionKind::DenyExtension => OrderAction::DenyExtension { reason: t },
            ActionKind::Reply => OrderAction::Reply { text: t },
            ActionKind::AcceptReply => OrderAction::AcceptReply,
            ActionKind::SendBack => OrderAction::SendBack { reason: t },
            ActionKind::CallBack => OrderAction::CallBack {
                reached: true,
                satisfied: true,
                note: t,
            },
            ActionKind::MergeInto => OrderAction::MergeInto { into: 0 },
        }
    }

    /// Its kind.
    pub fn kind(&self) -> ActionKind {
        match self {
            OrderAction::AnswerDirectly { .. } => ActionKind::AnswerDirectly,
            OrderAction::Dispatch { .. } => ActionKind::Dispatch,
            OrderAction::Sign => ActionKind::Sign,
            OrderAction::Return { .. } => ActionKind::Return,
            OrderAction::Redispatch { .. } => ActionKind::Redispatch,
            OrderAction::Rule { .. } => ActionKind::Rule,
            OrderAction::AssistNote { .. } => ActionKind::AssistNote,
            OrderAction::RequestExtension { .. } => ActionKind::RequestExtension,
            OrderAction::ApproveExtension => ActionKind::ApproveExtension,
            OrderAction::DenyExtension { .. } => ActionKind::DenyExtension,
            OrderAction::Reply { .. } => ActionKind::Reply,
            OrderAction::AcceptReply => ActionKind::AcceptReply,
            OrderAction::SendBack { .. } => ActionKind::SendBack,
            OrderAction::CallBack { .. } => ActionKind::CallBack,
            OrderAction::MergeInto { .. } => ActionKind::MergeInto,
        }
    }
}

/// Unanswered call-backs after which an order is closed all the same.
pub const MAX_UNREACHED: usize = 3;

/// The state after `action` in `state`, or why not. `extension_pending` tells whether
/// an extension request waits for the dispatcher; `unreached` how many call-backs
/// went unanswered.
pub fn next(
    state: OrderState,
    action: &OrderAction,
    extension_pending: bool,
    unreached: usize,
) -> Result<OrderState> {
    use ActionKind as A;
    use OrderState as S;
    let k = action.kind();
    let no = |why: &str| {
        Err(Error::InvalidTransition {
            state: state.label().into(),
            action: k.label().into(),
            reason: why.into(),
        })
    };
    match state {
        S::Registered => match k {
            A::AnswerDirectly => Ok(S::Closed),
            A::Dispatch => Ok(S::Dispatched),
            A::MergeInto => Ok(S::Merged),
            _ => no("已登记的工单须直接答复、派单或合并"),
        },
        S::Dispatched => match k {
            A::Sign => Ok(S::Handling),
            A::Return => Ok(S::Returned),
            A::MergeInto => Ok(S::Merged),
            _ => no("已派单的工单待承办单位签收或退单"),
        },
        S::Returned => match k {
            A::Redispatch => Ok(S::Dispatched),
            A::Rule => Ok(S::Dispatched),
            A::MergeInto => Ok(S::Merged),
            _ => no("退单须由派单员改派或裁定"),
        },
        S::Handling => match k {
            A::Reply => Ok(S::Replied),
            A::AssistNote => Ok(S::Handling),
            A::RequestExtension if extension_pending => no("已有待审批的延期申请"),
            A::RequestExtension => Ok(S::Handling),
            A::ApproveExtension | A::DenyExtension if extension_pending => Ok(S::Handling),
            A::ApproveExtension | A::DenyExtension => no("没有待审批的延期申请"),
            _ => no("办理中的工单待承办单位答复"),
        },
        S::Replied => match k {
            A::AcceptReply => Ok(S::Reviewed),
            A::SendBack => Ok(S::Handling),
            _ => no("已答复的工单待派单员审核"),
        },
        S::Reviewed => match (k, action) {
            (
                A::CallBack,
                OrderAction::CallBack {
                    reached: true,
                    satisfied: true,
                    ..
                },
            ) => Ok(S::Closed),
            (
                A::CallBack,
                OrderAction::CallBack {
                    reached: true,
                    satisfied: false,
                    ..
                },
            ) => Ok(S::Reopened),
            (A::CallBack, _) if unreached + 1 >= MAX_UNREACHED => Ok(S::Closed),
            (A::CallBack, _) => Ok(S::Reviewed),
            _ => no("待回访的工单由话务员回访"),
        },
        S::Reopened => match k {
            A::Dispatch => Ok(S::Dispatched),
            A::AnswerDirectly => Ok(S::Closed),
            _ => no("重办的工单须重新派单"),
        },
        S::Closed | S::Merged => no("工单已办结"),
    }
}

/// The step that registers an order (`Step::action`).
pub const STEP_REGISTER: &str = "register";
/// The step a calendar change records on an order whose reply deadline it moved.
pub const STEP_RECOMPUTE_REPLY_DUE: &str = "recompute_reply_due";

impl Step {
    /// Chinese label of the step's action, for the order's timeline.
    pub fn label(&self) -> &str {
        match ActionKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.action)
        {
            Some(k) => k.label(),
            None if self.action == STEP_REGISTER => "登记",
            None if self.action == STEP_RECOMPUTE_REPLY_DUE => "重算答复期限",
            None => &self.action,
        }
    }
}

/// One step of an order (every step an event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Step {
    /// The action: an [`ActionKind`]'s name, [`STEP_REGISTER`] or
    /// [`STEP_RECOMPUTE_REPLY_DUE`].
    pub action: String,
    /// From.
    pub from: Option<OrderState>,
    /// To.
    pub to: OrderState,
    /// What was said.
    pub text: String,
    /// Who.
    pub by: i64,
    /// Their name.
    pub by_name: String,
    /// Their unit, for unit actions.
    pub unit: Option<i64>,
    /// When.
    pub at: DateTime<Utc>,
}

/// An extension asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Extension {
    /// Working days.
    pub days: u32,
    /// Why.
    pub reason: String,
    /// `None` while pending, then granted or not.
    pub granted: Option<bool>,
}

/// A call-back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallBack {
    /// Reached.
    pub reached: bool,
    /// Satisfied.
    pub satisfied: bool,
    /// Notes.
    pub note: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A work order (工单).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkOrder {
    /// Id.
    pub id: i64,
    /// 工单编号, e.g. `12345-20261123-0001`.
    pub number: String,
    /// How it came in.
    pub source: Source,
    /// Its type.
    pub order_type: OrderType,
    /// Urgency.
    pub urgency: Urgency,
    /// Dispatch category (派单目录).
    pub category_id: i64,
    /// The category's name then.
    pub category: String,
    /// The caller.
    pub caller: Caller,
    /// Where.
    pub location: Location,
    /// What the caller said.
    pub content: String,
    /// Attached files (content-addressed uploads).
    #[serde(default)]
    pub attachments: Vec<String>,
    /// Open311 attributes given.
    #[serde(default)]
    pub attributes: Vec<(String, String)>,
    /// The region it concerns (for scope and analysis): the location's, else the
    /// centre's.
    pub region: String,
    /// Where it is.
    pub state: OrderState,
    /// The lead unit (department).
    pub lead: Option<i64>,
    /// Assisting units.
    pub assisting: Vec<i64>,
    /// When last dispatched.
    pub dispatched_at: Option<DateTime<Utc>>,
    /// To be signed by.
    pub sign_due: Option<DateTime<Utc>>,
    /// When signed.
    pub signed_at: Option<DateTime<Utc>>,
    /// Signed within the sign time (the first signing of each dispatch).
    pub signed_on_time: Option<bool>,
    /// To be replied by (end of that day).
    pub reply_due: Option<NaiveDate>,
    /// The day the reply time is counted from (the dispatch that set `reply_due`), so
    /// that the deadline can be counted again when the calendar changes.
    #[serde(default)]
    pub reply_from: Option<NaiveDate>,
    /// Working days for the reply, counted from `reply_from`: the order type's reply
    /// time plus the extensions granted.
    #[serde(default)]
    pub reply_days: u32,
    /// `reply_due` was counted over a year without the State Council's notice
    /// (节假日安排), with weekends only: it may move once that year is loaded.
    #[serde(default)]
    pub reply_provisional: bool,
    /// When replied.
    pub replied_at: Option<DateTime<Utc>>,
    /// Replied by its due date.
    pub replied_on_time: Option<bool>,
    /// The accepted reply (or the direct answer).
    pub answer: String,
    /// Extensions.
    pub extensions: Vec<Extension>,
    /// Call-backs.
    pub call_backs: Vec<CallBack>,
    /// Times reopened.
    pub reopened: u32,
    /// The order this one was merged into.
    pub merged_into: Option<i64>,
    /// Orders merged into this one.
    pub duplicates: Vec<i64>,
    /// Every step.
    pub steps: Vec<Step>,
    /// Registered.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Optimistic concurrency.
    pub version: i64,
}

impl WorkOrder {
    /// The reply deadline counted again with `cal` (a year loaded or corrected), when
    /// the order still waits for its reply and the counted day or its provisional mark
    /// differ: the new day and mark. Orders dispatched before the reply time was kept
    /// with its start (no `reply_from`) are left as they are.
    pub fn reply_due_recounted(
        &self,
        cal: &crate::calendar::Calendar,
    ) -> Result<Option<(NaiveDate, bool)>, crate::calendar::CalendarError> {
        let (Some(from), Some(due)) = (self.reply_from, self.reply_due) else {
            return Ok(None);
        };
        if self.state.is_final() || self.replied_at.is_some() {
            return Ok(None);
        }
        let d = cal.deadline(from, self.reply_days)?;
        Ok(
            (d.deadline != due || d.provisional != self.reply_provisional)
                .then_some((d.deadline, d.provisional)),
        )
    }

    /// An extension waiting for the dispatcher.
    pub fn pending_extension(&self) -> bool {
        self.extensions.iter().any(|e| e.granted.is_none())
    }

    /// Satisfied at the last reached call-back.
    pub fn satisfied(&self) -> Option<bool> {
        self.call_backs
            .iter()
            .rev()
            .find(|c| c.reached)
            .map(|c| c.satisfied)
    }
}

/// The 12345 centre's staff: operators and dispatchers (one role).
pub fn is_centre(actor: &Actor) -> bool {
    actor.role == Role::HotlineOperator
}

/// Who may see an order: the centre (its region), the units it was sent to, supervisors
/// of its region.
pub fn can_see(actor: &Actor, o: &WorkOrder) -> bool {
    let in_region = || {
        actor
            .region
            .as_ref()
            .is_some_and(|r| o.region.starts_with(r.prefix()))
    };
    match actor.role {
        Role::HotlineOperator | Role::Supervisor => in_region(),
        Role::HandlingUnit | Role::DeptReviewer | Role::DeptApprover => actor
            .department_id
            .is_some_and(|d| o.lead == Some(d) || o.assisting.contains(&d)),
        _ => false,
    }
}

/// Who may take `k` on `o`.
pub fn authorize(actor: &Actor, o: &WorkOrder, k: ActionKind) -> Result<()> {
    if k.by_centre() {
        if !is_centre(actor) {
            return Err(Error::forbidden(format!(
                "“{}”由 12345 话务员或派单员办理",
                k.label()
            )));
        }
        if !can_see(actor, o) {
            return Err(Error::forbidden("超出本账号的区划范围"));
        }
        return Ok(());
    }
    if actor.role != Role::HandlingUnit {
        return Err(Error::forbidden(format!("“{}”由承办单位办理", k.label())));
    }
    let dept = actor.department_id;
    let lead = dept.is_some() && dept == o.lead;
    match k {
        ActionKind::AssistNote => {
            if dept.is_some_and(|d| o.assisting.contains(&d)) || lead {
                Ok(())
            } else {
                Err(Error::forbidden("不是本单位承办或协办的工单"))
            }
        }
        _ if lead => Ok(()),
        _ => Err(Error::forbidden("只有主办单位可以办理")),
    }
}

/// What an action needs besides the order: the clock, the calendar, the deadlines,
/// and the working hours.
pub struct Ctx<'a> {
    /// Now.
    pub now: DateTime<Utc>,
    /// The calendar.
    pub cal: &'a Calendar,
    /// Deadlines.
    pub deadlines: &'a Deadlines,
    /// Working hours.
    pub hours: &'a WorkingHours,
}

fn need(field: &str, v: &str) -> Result<()> {
    if v.trim().is_empty() {
        return Err(Error::field(field, "请写明情况"));
    }
    if v.chars().count() > 2000 {
        return Err(Error::field(field, "不超过 2000 字"));
    }
    Ok(())
}

/// Apply an action: the order afterwards. Departments named as units are checked to
/// exist by the use case.
pub fn apply(o: &WorkOrder, actor: &Actor, action: &OrderAction, c: &Ctx) -> Result<WorkOrder> {
    let k = action.kind();
    authorize(actor, o, k)?;
    let unreached = o.call_backs.iter().filter(|x| !x.reached).count();
    let to = next(o.state, action, o.pending_extension(), unreached)?;
    let today = crate::time::china_date(c.now);
    let mut n = o.clone();
    let mut text = String::new();
    let dispatch = |n: &mut WorkOrder, lead: i64, assisting: &[i64]| -> Result<()> {
        if assisting.contains(&lead) {
            return Err(Error::field("assisting", "主办单位不能同时为协办单位"));
        }
        n.lead = Some(lead);
        n.assisting = assisting.to_vec();
        n.assisting.dedup();
        n.dispatched_at = Some(c.now);
        n.sign_due = Some(
            c.hours
                .add_minutes(c.cal, c.now, c.deadlines.sign_minutes)?,
        );
        n.signed_at = None;
        n.signed_on_time = None;
        Ok(())
    };
    match action {
        OrderAction::AnswerDirectly { answer, .. } => {
            need("answer", answer)?;
            n.answer = answer.trim().to_string();
            text = n.answer.clone();
            n.closed_at = Some(c.now);
        }
        OrderAction::Dispatch {
            lead,
            assisting,
            note,
        } => {
            dispatch(&mut n, *lead, assisting)?;
            if n.reply_due.is_none() || o.state == OrderState::Reopened {
                let days = c.deadlines.reply_days(o.order_type, o.urgency);
                let due = c
                    .cal
                    .deadline(today, days)
                    .map_err(|e| Error::Store(e.to_string()))?;
                n.reply_due = Some(due.deadline);
                n.reply_provisional = due.provisional;
                n.reply_from = Some(today);
                n.reply_days = days;
                n.replied_at = None;
                n.replied_on_time = None;
            }
            text = note.trim().to_string();
        }
        OrderAction::Redispatch {
            lead,
            assisting,
            note,
        } => {
            if Some(*lead) == o.lead {
                return Err(Error::field(
                    "lead",
                    "改派须选择其他单位；若仍由原单位办理请“裁定”",
                ));
            }
            dispatch(&mut n, *lead, assisting)?;
            text = note.trim().to_string();
        }
        OrderAction::Rule { reason } => {
            need("reason", reason)?;
            let (lead, assisting) = (o.lead.unwrap_or(0), o.assisting.clone());
            dispatch(&mut n, lead, &assisting)?;
            text = reason.trim().to_string();
        }
        OrderAction::Sign => {
            n.signed_at = Some(c.now);
            n.signed_on_time = Some(o.sign_due.is_none_or(|d| c.now <= d));
        }
        OrderAction::Return { reason } => {
            need("reason", reason)?;
            text = reason.trim().to_string();
        }
        OrderAction::AssistNote { text: t } => {
            need("text", t)?;
            text = t.trim().to_string();
        }
        OrderAction::RequestExtension { days, reason } => {
            need("reason", reason)?;
            if *days == 0 || *days > c.deadlines.max_extension_days {
                return Err(Error::field(
                    "days",
                    format!("延期须在 1–{} 个工作日之间", c.deadlines.max_extension_days),
                ));
            }
            n.extensions.push(Extension {
                days: *days,
                reason: reason.trim().to_string(),
                granted: None,
            });
            text = format!("申请延期 {days} 个工作日：{}", reason.trim());
        }
        OrderAction::ApproveExtension | OrderAction::DenyExtension { .. } => {
            let granted = matches!(action, OrderAction::ApproveExtension);
            if let OrderAction::DenyExtension { reason } = action {
                need("reason", reason)?;
                text = reason.trim().to_string();
            }
            if let Some(e) = n.extensions.iter_mut().find(|e| e.granted.is_none()) {
                e.granted = Some(granted);
                if granted && let Some(due) = n.reply_due {
                    // Counted on from the due date: the same day as counting the whole
                    // time from the dispatch, which a calendar change does again.
                    let moved = c
                        .cal
                        .deadline(due, e.days)
                        .map_err(|x| Error::Store(x.to_string()))?;
                    n.reply_due = Some(moved.deadline);
                    n.reply_provisional |= moved.provisional;
                    n.reply_days += e.days;
                }
            }
        }
        OrderAction::Reply { text: t } => {
            need("text", t)?;
            n.answer = t.trim().to_string();
            text = n.answer.clone();
            n.replied_at = Some(c.now);
            if n.replied_on_time.is_none() {
                n.replied_on_time = Some(n.reply_due.is_none_or(|d| today <= d));
            }
        }
        OrderAction::AcceptReply => {}
        OrderAction::SendBack { reason } => {
            need("reason", reason)?;
            text = reason.trim().to_string();
        }
        OrderAction::CallBack {
            reached,
            satisfied,
            note,
        } => {
            n.call_backs.push(CallBack {
                reached: *reached,
                satisfied: *reached && *satisfied,
                note: note.trim().to_string(),
                at: c.now,
            });
            text = note.trim().to_string();
            match to {
                OrderState::Closed => n.closed_at = Some(c.now),
                OrderState::Reopened => n.reopened += 1,
                _ => {}
            }
        }
        OrderAction::MergeInto { into } => {
            if *into == o.id {
                return Err(Error::field("into", "不能合并到本工单"));
            }
            n.merged_into = Some(*into);
            n.closed_at = Some(c.now);
            text = format!("合并至工单 {into}");
        }
    }
    n.steps.push(Step {
        action: k.as_str().into(),
        from: Some(o.state),
        to,
        text,
        by: actor.account_id,
        by_name: actor.name.clone(),
        unit: if k.by_centre() {
            None
        } else {
            actor.department_id
        },
        at: c.now,
    });
    n.state = to;
    n.updated_at = c.now;
    n.version = o.version + 1;
    Ok(n)
}

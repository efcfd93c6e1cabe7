//! The case aggregate (办件) and what rides along with it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::clock::{ClockKind, Clocks, Warning, warning_for};
use super::number::CaseNumber;
use super::state::{CaseState, Channel};
use crate::actor::Role;
use crate::calendar::Calendar;
use crate::catalog::{ProcessingType, ResultKind, StageKind};
use crate::region::RegionCode;

/// Natural person or legal person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    /// 自然人, identified by resident ID number.
    Person,
    /// 法人, identified by unified social credit code.
    Enterprise,
}

/// The applicant as recorded on the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApplicantRef {
    /// Applicant record id.
    pub id: i64,
    /// Person or enterprise.
    pub kind: ApplicantKind,
    /// Name (enterprise name for legal persons).
    pub name: String,
    /// ID number or credit code.
    pub identifier: String,
    /// Contact phone.
    pub phone: String,
}

/// The agent who applied on the applicant's behalf (代办).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentRef {
    /// The agent's account.
    pub account_id: i64,
    /// The agent's name.
    pub name: String,
    /// The written authorization (委托书) reference.
    pub authorization: String,
}

/// How a material is present on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MaterialStatus {
    /// 已提交 — handed in on paper or uploaded.
    Provided {
        /// Paper or electronic.
        electronic: bool,
        /// Stored files (uploads), by content id.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<String>,
    },
    /// 免提交 — proven by a government certificate, obtained by sharing.
    Shared {
        /// The certificate's number.
        certificate_no: String,
    },
    /// 容缺 — missing at receipt under a commitment.
    Rongque,
    /// 未提交 — optional, or a conditional material that does not apply.
    NotProvided,
}

impl MaterialStatus {
    /// True when the material is present (provided or shared).
    pub fn is_present(&self) -> bool {
        matches!(
            self,
            MaterialStatus::Provided { .. } | MaterialStatus::Shared { .. }
        )
    }
}

/// One line of the materials checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MaterialEntry {
    /// The material's code in the item version.
    pub code: String,
    /// Its name (copied for printing).
    pub name: String,
    /// Required for this case (required, or conditional and applicable).
    pub required: bool,
    /// How it is present.
    #[serde(flatten)]
    pub status: MaterialStatus,
}

/// One thing to fix, in a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CorrectionItem {
    /// A material code, or `form.<key>` for a form field.
    pub target: String,
    /// What is wrong and what to do, in words.
    pub problem: String,
}

/// Which kind of notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// 预审退回 — online pre-review.
    PreReview,
    /// 补齐补正通知书 — by the department at acceptance.
    Correction,
}

/// An itemized notice: everything to fix, told once (一次性告知).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CorrectionNotice {
    /// 1, 2, … on the case.
    pub seq: u32,
    /// Pre-review or acceptance.
    pub kind: NoticeKind,
    /// What to fix.
    pub items: Vec<CorrectionItem>,
    /// Issued.
    #[serde(with = "crate::time::iso::instant")]
    pub issued_at: DateTime<Utc>,
    /// Issued by (account).
    pub issued_by: i64,
    /// When the applicant answered it.
    #[serde(default, with = "crate::time::iso::instant_opt")]
    pub answered_at: Option<DateTime<Utc>>,
}

/// The state of a 容缺 commitment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommitmentStatus {
    /// 待补 — open.
    Open,
    /// 已销号 — supplied and written off.
    Fulfilled,
    /// 已失信 — the due date passed.
    Breached,
}

/// 容缺受理承诺 — the applicant's written promise to supply missing materials by a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Commitment {
    /// 1, 2, … on the case.
    pub seq: u32,
    /// The material codes promised.
    pub materials: Vec<String>,
    /// Codes supplied so far.
    #[serde(default)]
    pub supplied: Vec<String>,
    /// Last day to supply.
    #[serde(with = "crate::time::iso::date")]
    pub due: NaiveDate,
    /// Signed.
    #[serde(with = "crate::time::iso::instant")]
    pub signed_at: DateTime<Utc>,
    /// Open, fulfilled or breached.
    pub status: CommitmentStatus,
    /// When written off or breached.
    #[serde(default, with = "crate::time::iso::instant_opt")]
    pub closed_at: Option<DateTime<Utc>>,
}

/// The current special procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pause {
    /// 现场踏勘, 专家评审 or 听证.
    pub procedure: StageKind,
    /// Why.
    pub reason: String,
    /// Since.
    #[serde(with = "crate::time::iso::date")]
    pub since: NaiveDate,
}

/// An extension of the promised limit (延期).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Extension {
    /// Working days added.
    pub days: u32,
    /// Why.
    pub reason: String,
    /// Approved by (account).
    pub by: i64,
    /// When.
    #[serde(with = "crate::time::iso::instant")]
    pub at: DateTime<Utc>,
}

/// Approve or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 准予.
    Approved,
    /// 不予.
    Denied,
}

/// The decision (决定).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    /// Approved or denied.
    pub outcome: Outcome,
    /// Opinion (approvals) or reason (denials).
    pub reason: String,
    /// Legal basis (required for denials).
    pub legal_basis: String,
    /// Decided by (account).
    pub by: i64,
    /// When.
    #[serde(with = "crate::time::iso::instant")]
    pub at: DateTime<Utc>,
}

/// A refusal to accept (不予受理).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Refusal {
    /// Why.
    pub reason: String,
    /// Legal basis.
    pub legal_basis: String,
    /// When.
    #[serde(with = "crate::time::iso::instant")]
    pub at: DateTime<Utc>,
}

/// A review opinion (审查意见).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReviewOpinion {
    /// The opinion.
    pub opinion: String,
    /// Recommend approval.
    pub recommend_approval: bool,
    /// By (account).
    pub by: i64,
    /// When.
    #[serde(with = "crate::time::iso::instant")]
    pub at: DateTime<Utc>,
}

/// The result record (办理结果): a certificate or a decision document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResultRecord {
    /// Certificate or document.
    pub kind: ResultKind,
    /// Title, e.g. 食品经营许可证 or 不予行政许可决定书.
    pub title: String,
    /// 证号 / 文号.
    pub number: String,
    /// Valid until (certificates).
    #[serde(default, with = "crate::time::iso::date_opt")]
    pub valid_until: Option<NaiveDate>,
    /// What it says, in short.
    pub summary: String,
    /// Produced.
    #[serde(with = "crate::time::iso::instant")]
    pub produced_at: DateTime<Utc>,
}

/// How the result was delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Delivery {
    /// 窗口领取 — the applicant (or a proxy) signed the 送达回执.
    Pickup {
        /// Who signed.
        signed_by: String,
        /// Their ID number, masked.
        signer_id: Option<String>,
        /// When.
        #[serde(with = "crate::time::iso::instant")]
        at: DateTime<Utc>,
    },
    /// 邮寄送达.
    Post {
        /// Carrier, e.g. EMS.
        carrier: String,
        /// Tracking number.
        tracking_number: String,
        /// Posted.
        #[serde(with = "crate::time::iso::instant")]
        posted_at: DateTime<Utc>,
        /// Receipt confirmed.
        #[serde(default, with = "crate::time::iso::instant_opt")]
        received_at: Option<DateTime<Utc>>,
    },
}

/// A case (办件).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Case {
    /// Id.
    pub id: i64,
    /// 办件编号.
    pub number: CaseNumber,
    /// The item.
    pub item_id: i64,
    /// The item version the case was filed on.
    pub item_version: u32,
    /// The item's name at that version.
    pub item_name: String,
    /// 即办件 or 承诺件 at that version.
    pub processing_type: ProcessingType,
    /// The implementing department.
    pub department_id: i64,
    /// The item's region.
    pub region: RegionCode,
    /// Who applies.
    pub applicant: ApplicantRef,
    /// The agent, for 代办.
    pub agent: Option<AgentRef>,
    /// How it came in.
    pub channel: Channel,
    /// Where it is.
    pub state: CaseState,
    /// The account that created it.
    pub created_by: i64,
    /// The window that received it.
    pub window_id: Option<i64>,
    /// Form values. Shared between the versions of a case (a transition copies the case
    /// and seldom changes its form), with their JSON once written: a step that changes
    /// it gives the case a new one.
    #[schema(value_type = BTreeMap<String, String>)]
    pub form: Shared<BTreeMap<String, String>>,
    /// The materials checklist, shared as the form is.
    #[schema(value_type = Vec<MaterialEntry>)]
    pub materials: Shared<Vec<MaterialEntry>>,
    /// Pre-review returns and correction notices.
    pub notices: Vec<CorrectionNotice>,
    /// 容缺 commitments.
    pub commitments: Vec<Commitment>,
    /// The clocks.
    pub clocks: Clocks,
    /// The current process stage.
    pub stage: Option<StageKind>,
    /// The current special procedure.
    pub pause: Option<Pause>,
    /// Extensions granted.
    pub extensions: Vec<Extension>,
    /// 暂停办理 because a 容缺 commitment was broken under a hold policy.
    pub held: bool,
    /// The review opinion.
    pub review: Option<ReviewOpinion>,
    /// The decision.
    pub decision: Option<Decision>,
    /// The refusal.
    pub refusal: Option<Refusal>,
    /// The result.
    pub result: Option<ResultRecord>,
    /// The delivery.
    pub delivery: Option<Delivery>,
    /// Why it was withdrawn or terminated.
    pub closing_reason: Option<String>,
    /// Created.
    #[serde(with = "crate::time::iso::instant")]
    pub created_at: DateTime<Utc>,
    /// 收件 time.
    #[serde(default, with = "crate::time::iso::instant_opt")]
    pub received_at: Option<DateTime<Utc>>,
    /// 受理 time.
    #[serde(default, with = "crate::time::iso::instant_opt")]
    pub accepted_at: Option<DateTime<Utc>>,
    /// 决定 time.
    #[serde(default, with = "crate::time::iso::instant_opt")]
    pub decided_at: Option<DateTime<Utc>>,
    /// Reached a final state.
    #[serde(default, with = "crate::time::iso::instant_opt")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Last change.
    #[serde(with = "crate::time::iso::instant")]
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version, +1 on every change.
    pub version: i64,
}

impl Case {
    /// The clock the case is waiting on in its state, if any.
    pub fn due_clock(&self) -> Option<ClockKind> {
        let k = match self.state {
            CaseState::Submitted => ClockKind::PreReview,
            CaseState::Received => ClockKind::Acceptance,
            CaseState::UnderReview => ClockKind::Promised,
            CaseState::Decided if self.clocks.stage.as_ref().is_some_and(|c| c.is_running()) => {
                ClockKind::Stage
            }
            CaseState::ResultCorrection => ClockKind::ResultCorrection,
            CaseState::Delivered => ClockKind::Archive,
            CaseState::Draft
            | CaseState::ReturnedToApplicant
            | CaseState::CorrectionRequested
            | CaseState::Paused
            | CaseState::Decided
            | CaseState::ResultReady
            | CaseState::ReadyToDeliver
            | CaseState::InPost
            | CaseState::Archived
            | CaseState::Refused
            | CaseState::Withdrawn
            | CaseState::Terminated
            | CaseState::Discarded => return None,
        };
        self.clocks.get(k).filter(|c| c.is_running()).map(|_| k)
    }

    /// The deadline the case is waiting on (what the inbox sorts by).
    pub fn due(&self) -> Option<NaiveDate> {
        self.due_clock()
            .and_then(|k| self.clocks.get(k))
            .map(|c| c.deadline)
    }

    /// The earliest due date of an open 容缺 commitment.
    pub fn rongque_due(&self) -> Option<NaiveDate> {
        self.commitments
            .iter()
            .filter(|c| c.status == CommitmentStatus::Open)
            .map(|c| c.due)
            .min()
    }

    /// Yellow / red for the due clock, seen on `today`.
    pub fn warning(&self, cal: &Calendar, today: NaiveDate, yellow_days: u32) -> Warning {
        let due = self
            .due()
            .map(|d| warning_for(cal, d, today, yellow_days))
            .unwrap_or(Warning::None);
        let rongque = self
            .rongque_due()
            .filter(|_| !self.state.is_final())
            .map(|d| warning_for(cal, d, today, yellow_days))
            .unwrap_or(Warning::None);
        due.max(rongque)
    }

    /// True when the applicant or agent who filed it is `account`/`applicant`.
    pub fn is_owned_by(&self, applicant_id: Option<i64>, account_id: i64) -> bool {
        applicant_id == Some(self.applicant.id)
            || self
                .agent
                .as_ref()
                .is_some_and(|a| a.account_id == account_id)
    }

    /// The open notice (the latest, unanswered), if any.
    pub fn open_notice(&self) -> Option<&CorrectionNotice> {
        self.notices.last().filter(|n| n.answered_at.is_none())
    }
}

/// One step in a case's history (办件日志).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// 1, 2, … on the case: the case's version after this change.
    pub seq: u32,
    /// When.
    #[serde(with = "crate::time::iso::instant")]
    pub at: DateTime<Utc>,
    /// Who (account id; 0 for the system).
    pub actor_id: i64,
    /// Their name at the time.
    pub actor_name: String,
    /// Their role.
    pub actor_role: Role,
    /// What (`receive` or an action name).
    pub action: String,
    /// State before (`None` for the first event).
    pub from: Option<CaseState>,
    /// State after.
    pub to: CaseState,
    /// Why, where the action carries a reason.
    pub reason: Option<String>,
    /// The action's data.
    #[schema(value_type = Object)]
    pub data: EventData,
}

/// A part of a case that its versions share until a step replaces it (the form, the
/// materials checklist), with its JSON kept once written.
///
/// A transition copies the case and saves it whole as JSON; most steps change neither
/// the form nor the checklist, the case's largest parts and nearly all of its Chinese
/// text (whose every byte the JSON writer checks for escaping). Written once per part
/// instead of once per save, they were 8 % of the server threads' time in the lifecycle
/// benchmark. Cases are serialized with `serde_json` only: the kept text goes out as a
/// `RawValue`, which other serializers would not take as plain JSON.
pub struct Shared<T>(Arc<SharedPart<T>>);

struct SharedPart<T> {
    value: T,
    json: std::sync::OnceLock<Box<serde_json::value::RawValue>>,
}

impl<T> Shared<T> {
    /// A new part, its JSON not yet written.
    pub fn new(value: T) -> Shared<T> {
        Shared(Arc::new(SharedPart {
            value,
            json: std::sync::OnceLock::new(),
        }))
    }

    /// Whether two versions share this part.
    pub fn ptr_eq(a: &Shared<T>, b: &Shared<T>) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0.value
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Shared<T> {
        Shared(self.0.clone())
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.value.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Shared<T> {
    fn eq(&self, other: &Shared<T>) -> bool {
        Shared::ptr_eq(self, other) || self.0.value == other.0.value
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let Some(raw) = self.0.json.get() {
            return raw.serialize(s);
        }
        match serde_json::value::to_raw_value(&self.0.value) {
            Ok(raw) => self.0.json.get_or_init(|| raw).serialize(s),
            Err(_) => self.0.value.serialize(s),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Shared<T>, D::Error> {
        T::deserialize(d).map(Shared::new)
    }
}

/// An event's data (a JSON object), kept as the JSON text it was written as: made once
/// from the action when the event is, stored and answered as it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventData(Box<serde_json::value::RawValue>);

impl EventData {
    /// The JSON of `v`.
    pub fn of<T: Serialize + ?Sized>(v: &T) -> EventData {
        EventData(
            serde_json::value::to_raw_value(v)
                .unwrap_or_else(|_| serde_json::value::RawValue::NULL.to_owned()),
        )
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// The data as a JSON value.
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }
}

impl PartialEq for EventData {
    fn eq(&self, other: &EventData) -> bool {
        self.value() == other.value()
    }
}

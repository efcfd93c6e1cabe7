//! What people do to a case: the actions of the DOMAIN §4 table, with their data.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::model::CorrectionItem;
use crate::catalog::StageKind;

/// How a material is handed in, in a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MaterialInput {
    /// Handed in on paper, or uploaded.
    Provided {
        /// Uploaded (true) or paper (false).
        #[serde(default)]
        electronic: bool,
        /// Upload content ids.
        #[serde(default)]
        files: Vec<String>,
    },
    /// 免提交: proven by a certificate the applicant holds.
    Shared {
        /// The certificate's number.
        certificate_no: String,
    },
    /// 容缺: missing now, promised by the commitment's due date.
    Rongque,
    /// Not handed in (optional or not applicable).
    NotProvided,
}

/// One material in a request: its code and how it is handed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MaterialLine {
    /// The material's code in the item.
    pub code: String,
    /// How.
    #[serde(flatten)]
    pub input: MaterialInput,
}

/// An action on a case, as sent to `POST /api/v1/cases/{id}/actions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// 提交 — an online draft goes to pre-review.
    Submit,
    /// 放弃 — throw a draft away.
    Discard,
    /// 预审通过 — the online application counts as received.
    PreReviewPass,
    /// 预审退回 — back to the applicant with an itemized list.
    PreReviewReturn {
        /// Everything to fix.
        items: Vec<CorrectionItem>,
    },
    /// 重新提交 after a pre-review return.
    Resubmit {
        /// Changed form values.
        #[serde(default)]
        form: BTreeMap<String, String>,
        /// Changed materials.
        #[serde(default)]
        materials: Vec<MaterialLine>,
    },
    /// 受理.
    Accept,
    /// 补齐补正 — one itemized notice.
    RequestCorrection {
        /// Everything to fix.
        items: Vec<CorrectionItem>,
    },
    /// 补正 — the applicant supplies what the notice asked for.
    SupplyCorrection {
        /// Changed form values.
        #[serde(default)]
        form: BTreeMap<String, String>,
        /// Supplied materials.
        #[serde(default)]
        materials: Vec<MaterialLine>,
    },
    /// 不予受理.
    Refuse {
        /// Why.
        reason: String,
        /// Legal basis.
        legal_basis: String,
    },
    /// 审查意见 — the review is done; the case moves on to the decision stage.
    Review {
        /// The opinion.
        opinion: String,
        /// Recommend approval.
        recommend_approval: bool,
    },
    /// 特别程序 — 现场踏勘, 专家评审 or 听证 stops the clock.
    Pause {
        /// Which procedure (must be in the item's process).
        procedure: StageKind,
        /// Why.
        reason: String,
    },
    /// 恢复 after a special procedure.
    Resume,
    /// 延期 — more working days, within the legal limit.
    Extend {
        /// Working days to add.
        days: u32,
        /// Why.
        reason: String,
    },
    /// 准予.
    Approve {
        /// Opinion.
        #[serde(default)]
        opinion: String,
    },
    /// 不予.
    Deny {
        /// Why.
        reason: String,
        /// Legal basis.
        legal_basis: String,
    },
    /// 制证 — record the result.
    ProduceResult {
        /// 证号 / 文号.
        number: String,
        /// Valid until (certificates).
        #[serde(default)]
        valid_until: Option<NaiveDate>,
        /// What it says, in short.
        #[serde(default)]
        summary: String,
    },
    /// 出件核验通过.
    CheckResultOk,
    /// 出件核验不符 — back to the department, 1 working day to correct.
    CheckResultMismatch {
        /// What does not match.
        reason: String,
    },
    /// 结果更正.
    CorrectResult {
        /// 证号 / 文号.
        number: String,
        /// Valid until.
        #[serde(default)]
        valid_until: Option<NaiveDate>,
        /// What it says.
        #[serde(default)]
        summary: String,
    },
    /// 窗口领取 — the 送达回执 is signed.
    DeliverPickup {
        /// Who signed.
        signed_by: String,
        /// Their ID number, when not the applicant.
        #[serde(default)]
        signer_id_number: Option<String>,
    },
    /// 邮寄.
    DeliverPost {
        /// Carrier (EMS, 中国邮政 …).
        carrier: String,
        /// Tracking number.
        tracking_number: String,
    },
    /// 签收确认 for a posted result.
    ConfirmReceipt,
    /// 归档.
    Archive,
    /// 撤回.
    Withdraw {
        /// Why.
        reason: String,
    },
    /// 容缺补交 — materials promised in a commitment are handed in.
    FulfilCommitment {
        /// The commitment's seq.
        commitment: u32,
        /// Supplied materials.
        materials: Vec<MaterialLine>,
    },
    /// 容缺失信 — a commitment's due date passed (the system records it).
    BreachCommitment {
        /// The commitment's seq.
        commitment: u32,
    },
}

/// The name of an action, without its data.
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
pub enum ActionKind {
    /// See [`Action::Submit`].
    Submit,
    /// See [`Action::Discard`].
    Discard,
    /// See [`Action::PreReviewPass`].
    PreReviewPass,
    /// See [`Action::PreReviewReturn`].
    PreReviewReturn,
    /// See [`Action::Resubmit`].
    Resubmit,
    /// See [`Action::Accept`].
    Accept,
    /// See [`Action::RequestCorrection`].
    RequestCorrection,
    /// See [`Action::SupplyCorrection`].
    SupplyCorrection,
    /// See [`Action::Refuse`].
    Refuse,
    /// See [`Action::Review`].
    Review,
    /// See [`Action::Pause`].
    Pause,
    /// See [`Action::Resume`].
    Resume,
    /// See [`Action::Extend`].
    Extend,
    /// See [`Action::Approve`].
    Approve,
    /// See [`Action::Deny`].
    Deny,
    /// See [`Action::ProduceResult`].
    ProduceResult,
    /// See [`Action::CheckResultOk`].
    CheckResultOk,
    /// See [`Action::CheckResultMismatch`].
    CheckResultMismatch,
    /// See [`Action::CorrectResult`].
    CorrectResult,
    /// See [`Action::DeliverPickup`].
    DeliverPickup,
    /// See [`Action::DeliverPost`].
    DeliverPost,
    /// See [`Action::ConfirmReceipt`].
    ConfirmReceipt,
    /// See [`Action::Archive`].
    Archive,
    /// See [`Action::Withdraw`].
    Withdraw,
    /// See [`Action::FulfilCommitment`].
    FulfilCommitment,
    /// See [`Action::BreachCommitment`].
    BreachCommitment,
}

impl ActionKind {
    /// Every action.
    pub const ALL: [ActionKind; 26] = [
        ActionKind::Submit,
        ActionKind::Discard,
        ActionKind::PreReviewPass,
        ActionKind::PreReviewReturn,
        ActionKind::Resubmit,
        ActionKind::Accept,
        ActionKind::RequestCorrection,
        ActionKind::SupplyCorrection,
        ActionKind::Refuse,
        ActionKind::Review,
        ActionKind::Pause,
        ActionKind::Resume,
        ActionKind::Extend,
        ActionKind::Approve,
        ActionKind::Deny,
        ActionKind::ProduceResult,
        ActionKind::CheckResultOk,
        ActionKind::CheckResultMismatch,
        ActionKind::CorrectResult,
        ActionKind::DeliverPickup,
        ActionKind::DeliverPost,
        ActionKind::ConfirmReceipt,
        ActionKind::Archive,
        ActionKind::Withdraw,
        ActionKind::FulfilCommitment,
        ActionKind::BreachCommitment,
    ];

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            ActionKind::Submit => "提交",
            ActionKind::Discard => "放弃",
            ActionKind::PreReviewPass => "预审通过",
            ActionKind::PreReviewReturn => "预审退回",
            ActionKind::Resubmit => "重新提交",
            ActionKind::Accept => "受理",
            ActionKind::RequestCorrection => "补齐补正",
            ActionKind::SupplyCorrection => "提交补正材料",
            ActionKind::Refuse => "不予受理",
            ActionKind::Review => "审查",
            ActionKind::Pause => "启动特别程序",
            ActionKind::Resume => "恢复办理",
            ActionKind::Extend => "延期",
            ActionKind::Approve => "准予",
            ActionKind::Deny => "不予",
            ActionKind::ProduceResult => "制证",
            ActionKind::CheckResultOk => "出件核验通过",
            ActionKind::CheckResultMismatch => "出件核验退回",
            ActionKind::CorrectResult => "更正结果",
            ActionKind::DeliverPickup => "窗口领取",
            ActionKind::DeliverPost => "邮寄送达",
            ActionKind::ConfirmReceipt => "确认签收",
            ActionKind::Archive => "归档",
            ActionKind::Withdraw => "撤回",
            ActionKind::FulfilCommitment => "容缺补交",
            ActionKind::BreachCommitment => "容缺失信",
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Submit => "submit",
            ActionKind::Discard => "discard",
            ActionKind::PreReviewPass => "pre_review_pass",
            ActionKind::PreReviewReturn => "pre_review_return",
            ActionKind::Resubmit => "resubmit",
            ActionKind::Accept => "accept",
            ActionKind::RequestCorrection => "request_correction",
            ActionKind::SupplyCorrection => "supply_correction",
            ActionKind::Refuse => "refuse",
            ActionKind::Review => "review",
            ActionKind::Pause => "pause",
            ActionKind::Resume => "resume",
            ActionKind::Extend => "extend",
            ActionKind::Approve => "approve",
            ActionKind::Deny => "deny",
            ActionKind::ProduceResult => "produce_result",
            ActionKind::CheckResultOk => "check_result_ok",
            ActionKind::CheckResultMismatch => "check_result_mismatch",
            ActionKind::CorrectResult => "correct_result",
            ActionKind::DeliverPickup => "deliver_pickup",
            ActionKind::DeliverPost => "deliver_post",
            ActionKind::ConfirmReceipt => "confirm_receipt",
            ActionKind::Archive => "archive",
            ActionKind::Withdraw => "withdraw",
            ActionKind::FulfilCommitment => "fulfil_commitment",
            ActionKind::BreachCommitment => "breach_commitment",
        }
    }
}

impl Action {
    /// The action's name.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Submit => ActionKind::Submit,
            Action::Discard => ActionKind::Discard,
            Action::PreReviewPass => ActionKind::PreReviewPass,
            Action::PreReviewReturn { .. } => ActionKind::PreReviewReturn,
            Action::Resubmit { .. } => ActionKind::Resubmit,
            Action::Accept => ActionKind::Accept,
            Action::RequestCorrection { .. } => ActionKind::RequestCorrection,
            Action::SupplyCorrection { .. } => ActionKind::SupplyCorrection,
            Action::Refuse { .. } => ActionKind::Refuse,
            Action::Review { .. } => ActionKind::Review,
            Action::Pause { .. } => ActionKind::Pause,
            Action::Resume => ActionKind::Resume,
            Action::Extend { .. } => ActionKind::Extend,
            Action::Approve { .. } => ActionKind::Approve,
            Action::Deny { .. } => ActionKind::Deny,
            Action::ProduceResult { .. } => ActionKind::ProduceResult,
            Action::CheckResultOk => ActionKind::CheckResultOk,
            Action::CheckResultMismatch { .. } => ActionKind::CheckResultMismatch,
            Action::CorrectResult { .. } => ActionKind::CorrectResult,
            Action::DeliverPickup { .. } => ActionKind::DeliverPickup,
            Action::DeliverPost { .. } => ActionKind::DeliverPost,
            Action::ConfirmReceipt => ActionKind::ConfirmReceipt,
            Action::Archive => ActionKind::Archive,
            Action::Withdraw { .. } => ActionKind::Withdraw,
            Action::FulfilCommitment { .. } => ActionKind::FulfilCommitment,
            Action::BreachCommitment { .. } => ActionKind::BreachCommitment,
        }
    }

    /// The reason the action carries, for the event log.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Action::Refuse { reason, .. }
            | Action::Pause { reason, .. }
            | Action::Extend { reason, .. }
            | Action::Deny { reason, .. }
            | Action::CheckResultMismatch { reason }
            | Action::Withdraw { reason } => Some(reason),
            Action::Review { opinion, .. } => Some(opinion),
            Action::Approve { opinion } if !opinion.is_empty() => Some(opinion),
            _ => None,
        }
    }
}

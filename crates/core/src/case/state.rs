//! The states a case passes through (DOMAIN §4 table) and how it came in.

use serde::{Deserialize, Serialize};

/// 办件状态.
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
pub enum CaseState {
    /// 草稿 — an online application not yet submitted.
    Draft,
    /// 已提交，待预审 — online, waiting for pre-review (网上预审).
    Submitted,
    /// 预审退回 — returned to the applicant with an itemized list.
    ReturnedToApplicant,
    /// 已收件，待受理 — the department has 2 working days to accept.
    Received,
    /// 补齐补正 — waiting for the applicant to fix what the notice lists.
    CorrectionRequested,
    /// 已受理，审查中.
    UnderReview,
    /// 特别程序 — a special procedure stops the clock.
    Paused,
    /// 已决定 — approved or denied; the result is being produced.
    Decided,
    /// 待出件核验 — the result is at the issuance window.
    ResultReady,
    /// 结果更正 — the issuance window found a mismatch; the department corrects it.
    ResultCorrection,
    /// 待送达.
    ReadyToDeliver,
    /// 邮寄中.
    InPost,
    /// 已送达 — the receipt is to be archived.
    Delivered,
    /// 已归档 (final).
    Archived,
    /// 不予受理 (final).
    Refused,
    /// 已撤回 (final).
    Withdrawn,
    /// 已终止 (final) — e.g. a broken 容缺 commitment.
    Terminated,
    /// 已放弃 (final) — a draft thrown away.
    Discarded,
}

impl CaseState {
    /// All states, for tables and tests.
    pub const ALL: [CaseState; 18] = [
        CaseState::Draft,
        CaseState::Submitted,
        CaseState::ReturnedToApplicant,
        CaseState::Received,
        CaseState::CorrectionRequested,
        CaseState::UnderReview,
        CaseState::Paused,
        CaseState::Decided,
        CaseState::ResultReady,
        CaseState::ResultCorrection,
        CaseState::ReadyToDeliver,
        CaseState::InPost,
        CaseState::Delivered,
        CaseState::Archived,
        CaseState::Refused,
        CaseState::Withdrawn,
        CaseState::Terminated,
        CaseState::Discarded,
    ];

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            CaseState::Draft => "草稿",
            CaseState::Submitted => "待预审",
            CaseState::ReturnedToApplicant => "预审退回",
            CaseState::Received => "已收件",
            CaseState::CorrectionRequested => "待补齐补正",
            CaseState::UnderReview => "审查中",
            CaseState::Paused => "特别程序中",
            CaseState::Decided => "已决定",
            CaseState::ResultReady => "待出件核验",
            CaseState::ResultCorrection => "结果更正中",
            CaseState::ReadyToDeliver => "待送达",
            CaseState::InPost => "邮寄中",
            CaseState::Delivered => "已送达",
            CaseState::Archived => "已归档",
            CaseState::Refused => "不予受理",
            CaseState::Withdrawn => "已撤回",
            CaseState::Terminated => "已终止",
            CaseState::Discarded => "已放弃",
        }
    }

    /// The snake_case name (as stored and in the API).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Draft => "draft",
            CaseState::Submitted => "submitted",
            CaseState::ReturnedToApplicant => "returned_to_applicant",
            CaseState::Received => "received",
            CaseState::CorrectionRequested => "correction_requested",
            CaseState::UnderReview => "under_review",
            CaseState::Paused => "paused",
            CaseState::Decided => "decided",
            CaseState::ResultReady => "result_ready",
            CaseState::ResultCorrection => "result_correction",
            CaseState::ReadyToDeliver => "ready_to_deliver",
            CaseState::InPost => "in_post",
            CaseState::Delivered => "delivered",
            CaseState::Archived => "archived",
            CaseState::Refused => "refused",
            CaseState::Withdrawn => "withdrawn",
            CaseState::Terminated => "terminated",
            CaseState::Discarded => "discarded",
        }
    }

    /// Parse the snake_case name.
    pub fn parse(s: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// No action leaves a final state.
    pub fn is_final(self) -> bool {
        match self {
            CaseState::Archived
            | CaseState::Refused
            | CaseState::Withdrawn
            | CaseState::Terminated
            | CaseState::Discarded => true,
            CaseState::Draft
            | CaseState::Submitted
            | CaseState::ReturnedToApplicant
            | CaseState::Received
            | CaseState::CorrectionRequested
            | CaseState::UnderReview
            | CaseState::Paused
            | CaseState::Decided
            | CaseState::ResultReady
            | CaseState::ResultCorrection
            | CaseState::ReadyToDeliver
            | CaseState::InPost
            | CaseState::Delivered => false,
        }
    }

    /// States before the decision: the applicant may still withdraw.
    pub fn is_before_decision(self) -> bool {
        match self {
            CaseState::Draft
            | CaseState::Submitted
            | CaseState::ReturnedToApplicant
            | CaseState::Received
            | CaseState::CorrectionRequested
            | CaseState::UnderReview
            | CaseState::Paused => true,
            CaseState::Decided
            | CaseState::ResultReady
            | CaseState::ResultCorrection
            | CaseState::ReadyToDeliver
            | CaseState::InPost
            | CaseState::Delivered
            | CaseState::Archived
            | CaseState::Refused
            | CaseState::Withdrawn
            | CaseState::Terminated
            | CaseState::Discarded => false,
        }
    }
}

/// 申请渠道.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 窗口收件 — at a window, ID checked by the clerk.
    Window,
    /// 网上申请.
    Online,
    /// 邮寄申请 — registered by a clerk.
    Post,
    /// 代办 — by a town or village agent.
    Agent,
}

impl Channel {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Channel::Window => "窗口",
            Channel::Online => "网上",
            Channel::Post => "邮寄",
            Channel::Agent => "代办",
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Window => "window",
            Channel::Online => "online",
            Channel::Post => "post",
            Channel::Agent => "agent",
        }
    }

    /// Parse the snake_case name.
    pub fn parse(s: &str) -> Option<Channel> {
        [
            Channel::Window,
            Channel::Online,
            Channel::Post,
            Channel::Agent,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

//! 好差评 — ratings of a case by its applicant (DOMAIN §7; seed 000 §(四)8): once per
//! case (一事一评), once it has ended for the applicant, at the five national levels,
//! with reason codes per level and a comment; bound to the case, item, department,
//! window and the staff member who acted. Every 差评 (不满意, 非常不满意) opens a
//! rectification task ([`rectification`]).
//!
//! Pure: the use cases in `usecase::ratings` load and save.

pub mod rectification;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::{Case, CaseState};
use crate::error::{Error, FieldErrors, Result};

/// The five levels (评价等级), best first.
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
pub enum Level {
    /// 非常不满意 (1).
    VeryDissatisfied,
    /// 不满意 (2).
    Dissatisfied,
    /// 基本满意 (3).
    Basic,
    /// 满意 (4).
    Satisfied,
    /// 非常满意 (5).
    VerySatisfied,
}

impl Level {
    /// Every level, best first.
    pub const ALL: [Level; 5] = [
        Level::VerySatisfied,
        Level::Satisfied,
        Level::Basic,
        Level::Dissatisfied,
        Level::VeryDissatisfied,
    ];

    /// 1 (非常不满意) … 5 (非常满意).
    pub fn score(self) -> u8 {
        match self {
            Level::VeryDissatisfied => 1,
            Level::Dissatisfied => 2,
            Level::Basic => 3,
            Level::Satisfied => 4,
            Level::VerySatisfied => 5,
        }
    }

    /// The level of a score.
    pub fn of_score(s: u8) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.score() == s)
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Level::VeryDissatisfied => "非常不满意",
            Level::Dissatisfied => "不满意",
            Level::Basic => "基本满意",
            Level::Satisfied => "满意",
            Level::VerySatisfied => "非常满意",
        }
    }

    /// 差评: 不满意 or 非常不满意.
    pub fn is_bad(self) -> bool {
        matches!(self, Level::Dissatisfied | Level::VeryDissatisfied)
    }

    /// Counted as satisfied (满意率): 基本满意 and above.
    pub fn is_satisfied(self) -> bool {
        !self.is_bad()
    }
}

/// A reason a person may give at a level (评价原因). The first digit of the code is
/// the level (5 非常满意 … 1 非常不满意), as in the public 好差评 systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reason {
    /// Code, e.g. 511.
    pub code: u16,
    /// What it says.
    pub text: &'static str,
}

const fn r(code: u16, text: &'static str) -> Reason {
    Reason { code, text }
}

/// The reason codes, by level.
pub const REASONS: &[Reason] = &[
    r(501, "办事指南清晰准确，一看就懂"),
    r(502, "材料简便，无需重复提交"),
    r(503, "办理速度快，提前办结"),
    r(504, "工作人员服务热情、耐心细致"),
    r(505, "网上办理方便，全程网办"),
    r(506, "一次办好，不用再跑"),
    r(507, "就近可办，不用跑远路"),
    r(508, "主动提供帮办代办服务"),
    r(509, "办事环境舒适便利"),
    r(510, "结果送达及时"),
    r(511, "可以先受理后补材料"),
    r(401, "办事指南比较清楚"),
    r(402, "在承诺时间内办结"),
    r(403, "工作人员态度较好"),
    r(404, "网上办理比较顺畅"),
    r(405, "排队等候时间较短"),
    r(301, "办事指南个别内容不够清楚"),
    r(302, "等候时间较长"),
    r(303, "网上办理操作不够便捷"),
    r(304, "工作人员解释不够细致"),
    r(305, "需要跑动的次数多于指南所写"),
    r(306, "办理进度查询不便"),
    r(307, "一次性告知需要补正的材料"),
    r(201, "办事指南内容不清楚、不准确"),
    r(202, "多次补正材料"),
    r(203, "工作人员服务态度差"),
    r(204, "网上办理系统故障"),
    r(205, "等候时间过长"),
    r(206, "咨询电话无人接听"),
    r(207, "未一次性告知需要补正的材料"),
    r(208, "要求提供可通过共享获取的材料"),
    r(209, "未在承诺时间内办结"),
    r(101, "工作人员推诿扯皮、刁难群众"),
    r(102, "索要财物或变相收费"),
    r(103, "要求提供指南以外的材料"),
    r(104, "无正当理由不予受理"),
    r(105, "办理结果错误"),
    r(106, "泄露个人信息"),
    r(107, "超期未办结且无说明"),
    r(108, "在办事指南之外增加新的审批条件"),
    r(109, "要求到指定中介机构办理"),
    r(110, "窗口无人、擅离岗位"),
    r(111, "违反首问负责、一次性告知制度"),
    r(112, "服务态度恶劣"),
    r(113, "多头跑窗口和部门"),
];

/// The level a reason code belongs to.
pub fn level_of_reason(code: u16) -> Option<Level> {
    REASONS
        .iter()
        .find(|x| x.code == code)
        .and_then(|_| Level::of_score((code / 100) as u8))
}

/// The reasons of a level.
pub fn reasons_of(level: Level) -> impl Iterator<Item = &'static Reason> {
    REASONS
        .iter()
        .filter(move |x| (x.code / 100) as u8 == level.score())
}

/// The text of a reason code.
pub fn reason_text(code: u16) -> &'static str {
    REASONS
        .iter()
        .find(|x| x.code == code)
        .map(|x| x.text)
        .unwrap_or("")
}

/// Where a rating was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RatingChannel {
    /// Online, signed in.
    Online,
    /// On the rating tablet at the window (评价器).
    WindowTablet,
    /// By the link in an SMS.
    Sms,
    /// Told to the 12345 hotline.
    Hotline,
}

impl RatingChannel {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            RatingChannel::Online => "网上评价",
            RatingChannel::WindowTablet => "窗口评价器",
            RatingChannel::Sms => "短信评价",
            RatingChannel::Hotline => "12345 热线",
        }
    }
}

/// What the person submits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    /// The level.
    pub level: Level,
    /// Reason codes of that level (at least one for a 差评).
    #[serde(default)]
    pub reasons: Vec<u16>,
    /// In their words (required for a 差评).
    #[serde(default)]
    pub comment: String,
}

/// The longest comment.
pub const MAX_COMMENT: usize = 500;

impl RatingInput {
    /// Check the input: every problem by field.
    pub fn validate(&self) -> Result<()> {
        let mut e = FieldErrors::new();
        let mut seen = std::collections::BTreeSet::new();
        for (i, c) in self.reasons.iter().enumerate() {
            match level_of_reason(*c) {
                None => e.add(format!("reasons[{i}]"), "没有这个评价原因"),
                Some(l) if l != self.level => e.add(
                    format!("reasons[{i}]"),
                    format!("该原因不属于“{}”", self.level.label()),
                ),
                Some(_) => {}
            }
            if !seen.insert(*c) {
                e.add(format!("reasons[{i}]"), "评价原因重复");
            }
        }
        if self.reasons.len() > 10 {
            e.add("reasons", "最多选择 10 个原因");
        }
        let comment = self.comment.trim();
        if comment.chars().count() > MAX_COMMENT {
            e.add("comment", format!("评价内容不超过 {MAX_COMMENT} 字"));
        }
        if self.level.is_bad() {
            if self.reasons.is_empty() {
                e.add("reasons", "差评请至少选择一个原因");
            }
            if comment.is_empty() {
                e.add("comment", "差评请写明具体情况，以便整改");
            }
        }
        e.into_result()
    }
}

/// A rating (评价), bound to what it rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rating {
    /// Id.
    pub id: i64,
    /// The case rated.
    pub case_id: i64,
    /// Its number.
    pub case_number: String,
    /// The item.
    pub item_id: i64,
    /// The item's name.
    pub item_name: String,
    /// The department responsible.
    pub department_id: i64,
    /// The case's region.
    pub region: String,
    /// The window that received the case, if any.
    pub window_id: Option<i64>,
    /// The staff member who acted: the clerk who received it at a window, otherwise
    /// the approver who decided it.
    pub staff_id: Option<i64>,
    /// The applicant who rated.
    pub applicant_id: i64,
    /// The level.
    pub level: Level,
    /// Reason codes.
    pub reasons: Vec<u16>,
    /// Comment.
    pub comment: String,
    /// Where.
    pub channel: RatingChannel,
    /// When.
    pub at: DateTime<Utc>,
    /// A later rating after the rectification (二次评价), if any.
    pub rerating: Option<Rerating>,
    /// Set aside by a supervisor after an upheld appeal (申诉成立): not counted.
    pub invalid: bool,
}

/// A rating given again after a rectification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rerating {
    /// The new level.
    pub level: Level,
    /// Comment.
    pub comment: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Whether a case may be rated now: it has ended for the applicant — the result was
/// handed over (送达) or the case ended otherwise (归档, 不予受理, 撤回, 终止).
pub fn rateable(case: &Case) -> Result<()> {
    match case.state {
        CaseState::Delivered
        | CaseState::Archived
        | CaseState::Refused
        | CaseState::Withdrawn
        | CaseState::Terminated => Ok(()),
        CaseState::Discarded => Err(Error::InvalidTransition {
            state: case.state.label().into(),
            action: "评价".into(),
            reason: "未提交的申请不能评价".into(),
        }),
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
        | CaseState::InPost => Err(Error::InvalidTransition {
            state: case.state.label().into(),
            action: "评价".into(),
            reason: "办件办结（送达或终结）后才能评价".into(),
        }),
    }
}

/// The rating of `case` from `input`: checked, bound to the case. The caller has
/// made sure the rater is the case's applicant and that it is not rated yet.
pub fn new_rating(
    case: &Case,
    input: &RatingInput,
    channel: RatingChannel,
    now: DateTime<Utc>,
) -> Result<Rating> {
    rateable(case)?;
    input.validate()?;
    let staff_id = match (case.window_id, &case.decision) {
        (Some(_), _) => Some(case.created_by),
        (None, Some(d)) => Some(d.by),
        (None, None) => None,
    };
    Ok(Rating {
        id: 0,
        case_id: case.id,
        case_number: case.number.as_str().to_string(),
        item_id: case.item_id,
        item_name: case.item_name.clone(),
        department_id: case.department_id,
        region: case.region.as_str().to_string(),
        window_id: case.window_id,
        staff_id,
        applicant_id: case.applicant.id,
        level: input.level,
        reasons: input.reasons.clone(),
        comment: input.comment.trim().to_string(),
        channel,
        at: now,
        rerating: None,
        invalid: false,
    })
}

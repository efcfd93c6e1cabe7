//! The rules of the case flow: which action is allowed in which state (the DOMAIN §4
//! table), who may take it, and who may see a case at all.

use super::action::ActionKind;
use super::model::Case;
use super::state::CaseState;
use crate::actor::{Actor, Role};
use crate::catalog::ProcessingType;
use crate::error::{Error, Result};

use ActionKind as A;
use CaseState as S;

/// The state an action leads to from `state`, or why it is not allowed there.
/// Every state is listed; within a state, every action not named is refused with that
/// state's reason.
pub fn next_state(
    state: CaseState,
    action: ActionKind,
    pt: ProcessingType,
) -> Result<CaseState, &'static str> {
    let immediate = pt == ProcessingType::Immediate;
    // Actions that ride alongside the flow in every open state but a draft.
    let side = |s: CaseState| match action {
        A::FulfilCommitment | A::BreachCommitment => Some(s),
        _ => None,
    };
    let withdraw = |s: CaseState| match action {
        A::Withdraw if s.is_before_decision() => Some(S::Withdrawn),
        _ => None,
    };
    let r = match state {
        S::Draft => match action {
            A::Submit => Ok(S::Submitted),
            A::Discard => Ok(S::Discarded),
            A::Withdraw => Ok(S::Withdrawn),
            _ => Err("草稿只能提交、放弃或撤回"),
        },
        S::Submitted => match action {
            A::PreReviewPass => Ok(S::Received),
            A::PreReviewReturn => Ok(S::ReturnedToApplicant),
            _ => Err("待预审的办件只能预审通过或退回"),
        },
        S::ReturnedToApplicant => match action {
            A::Resubmit => Ok(S::Submitted),
            _ => Err("预审退回的办件须由申请人修改后重新提交"),
        },
        S::Received => match action {
            A::Accept if immediate => Err("即办件当场办结，无需受理流转，请直接作出决定"),
            A::Accept => Ok(S::UnderReview),
            A::RequestCorrection => Ok(S::CorrectionRequested),
            A::Refuse => Ok(S::Refused),
            A::Approve | A::Deny if immediate => Ok(S::Decided),
            A::Approve | A::Deny => Err("承诺件须先受理、审查，方可作出决定"),
            _ => Err("已收件的办件须先受理、补齐补正或不予受理"),
        },
        S::CorrectionRequested => match action {
            A::SupplyCorrection => Ok(S::Received),
            _ => Err("正在等待申请人补齐补正"),
        },
        S::UnderReview => match action {
            A::Review | A::Extend => Ok(S::UnderReview),
            A::Pause => Ok(S::Paused),
            A::Approve | A::Deny => Ok(S::Decided),
            _ => Err("审查中的办件只能审查、启动特别程序、延期或作出决定"),
        },
        S::Paused => match action {
            A::Resume => Ok(S::UnderReview),
            _ => Err("特别程序中，须先恢复办理"),
        },
        S::Decided => match action {
            A::ProduceResult if immediate => Ok(S::ReadyToDeliver),
            A::ProduceResult => Ok(S::ResultReady),
            _ => Err("已作出决定，下一步为制证"),
        },
        S::ResultReady => match action {
            A::CheckResultOk => Ok(S::ReadyToDeliver),
            A::CheckResultMismatch => Ok(S::ResultCorrection),
            _ => Err("结果待出件窗口核验"),
        },
        S::ResultCorrection => match action {
            A::CorrectResult => Ok(S::ResultReady),
            _ => Err("结果待部门更正"),
        },
        S::ReadyToDeliver => match action {
            A::DeliverPickup => Ok(S::Delivered),
            A::DeliverPost => Ok(S::InPost),
            _ => Err("结果待送达"),
        },
        S::InPost => match action {
            A::ConfirmReceipt => Ok(S::Delivered),
            _ => Err("结果邮寄中，待确认签收"),
        },
        S::Delivered => match action {
            A::Archive => Ok(S::Archived),
            _ => Err("已送达，待归档"),
        },
        S::Archived | S::Refused | S::Withdrawn | S::Terminated | S::Discarded => {
            return Err("办件已结束，不能再操作");
        }
    };
    match r {
        Ok(s) => Ok(s),
        Err(why) => {
            if state == S::Draft {
                return Err(why);
            }
            side(state).or_else(|| withdraw(state)).ok_or(why)
        }
    }
}

/// True when `actor` may see `case` at all. Outside this, a case does not exist for
/// the actor (404, not 403: its existence is not disclosed).
pub fn can_see(actor: &Actor, case: &Case) -> bool {
    match actor.role {
        Role::Applicant | Role::Agent => case.is_owned_by(actor.applicant_id, actor.account_id),
        Role::DeptReviewer | Role::DeptApprover => actor.in_department(case.department_id),
        Role::AcceptanceClerk
        | Role::IssuanceClerk
        | Role::Supervisor
        | Role::CatalogAdmin
        | Role::SysAdmin => actor.region_contains(&case.region),
        Role::HotlineOperator | Role::HandlingUnit => false,
        Role::System => true,
    }
}

fn owner(actor: &Actor, case: &Case) -> bool {
    matches!(actor.role, Role::Applicant | Role::Agent)
        && case.is_owned_by(actor.applicant_id, actor.account_id)
}

fn department(actor: &Actor, case: &Case) -> bool {
    actor.role.is_department() && actor.in_department(case.department_id)
}

fn approver(actor: &Actor, case: &Case) -> bool {
    actor.role == Role::DeptApprover && actor.in_department(case.department_id)
}

fn clerk(actor: &Actor, case: &Case, role: Role) -> bool {
    actor.role == role && actor.region_contains(&case.region)
}

/// An acceptance clerk authorized by the case's department to decide its 即办件.
fn immediate_clerk(actor: &Actor, case: &Case) -> bool {
    case.processing_type == ProcessingType::Immediate
        && clerk(actor, case, Role::AcceptanceClerk)
        && actor.immediate_departments.contains(&case.department_id)
}

/// Check that `actor` may take `action` on `case` (role and scope; the state is checked
/// by [`next_state`]).
pub fn authorize(actor: &Actor, case: &Case, action: ActionKind) -> Result<()> {
    let ok = match action {
        A::Submit | A::Discard | A::Resubmit => owner(actor, case),
        A::PreReviewPass | A::PreReviewReturn => {
            clerk(actor, case, Role::AcceptanceClerk) || department(actor, case)
        }
        A::Accept
        | A::RequestCorrection
        | A::Refuse
        | A::Review
        | A::Pause
        | A::Resume
        | A::CorrectResult => department(actor, case),
        A::Extend => approver(actor, case),
        A::Approve | A::Deny => approver(actor, case) || immediate_clerk(actor, case),
        A::ProduceResult => department(actor, case) || immediate_clerk(actor, case),
        A::CheckResultOk
        | A::CheckResultMismatch
        | A::DeliverPost
        | A::ConfirmReceipt
        | A::Archive => clerk(actor, case, Role::IssuanceClerk),
        A::DeliverPickup => clerk(actor, case, Role::IssuanceClerk) || immediate_clerk(actor, case),
        A::Withdraw | A::SupplyCorrection | A::FulfilCommitment => {
            owner(actor, case) || clerk(actor, case, Role::AcceptanceClerk)
        }
        A::BreachCommitment => actor.role == Role::System,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::forbidden(format!(
            "“{}”不能对此办件执行“{}”",
            actor.role.label(),
            action.label()
        )))
    }
}

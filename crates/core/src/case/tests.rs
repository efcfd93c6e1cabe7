//! The case flow, table by table: every state × action pair, every role × action pair,
//! then the rules inside the actions (clocks, notices, 容缺).

use chrono::Duration;

use super::*;
use crate::actor::Role;
use crate::calendar::Calendar;
use crate::catalog::{BreachPolicy, ItemSpec, ProcessingType, StageKind};
use crate::error::Error;
use crate::testing::*;

use ActionKind as K;
use CaseState as S;

/// The DOMAIN §4 table, written out by hand: for a state, the actions allowed and
/// where they lead. Fulfil/breach of a 容缺 commitment stay in the state.
fn expected(state: CaseState, pt: ProcessingType) -> Vec<(ActionKind, CaseState)> {
    let imm = pt == ProcessingType::Immediate;
    let side = |s| vec![(K::FulfilCommitment, s), (K::BreachCommitment, s)];
    let mut v = match state {
        S::Draft => vec![
            (K::Submit, S::Submitted),
            (K::Discard, S::Discarded),
            (K::Withdraw, S::Withdrawn),
        ],
        S::Submitted => vec![
            (K::PreReviewPass, S::Received),
            (K::PreReviewReturn, S::ReturnedToApplicant),
        ],
        S::ReturnedToApplicant => vec![(K::Resubmit, S::Submitted)],
        S::Received if imm => vec![
            (K::RequestCorrection, S::CorrectionRequested),
            (K::Refuse, S::Refused),
            (K::Approve, S::Decided),
            (K::Deny, S::Decided),
        ],
        S::Received => vec![
            (K::Accept, S::UnderReview),
            (K::RequestCorrection, S::CorrectionRequested),
            (K::Refuse, S::Refused),
        ],
        S::CorrectionRequested => vec![(K::SupplyCorrection, S::Received)],
        S::UnderReview => vec![
            (K::Review, S::UnderReview),
            (K::Extend, S::UnderReview),
            (K::Pause, S::Paused),
            (K::Approve, S::Decided),
            (K::Deny, S::Decided),
        ],
        S::Paused => vec![(K::Resume, S::UnderReview)],
        S::Decided if imm => vec![(K::ProduceResult, S::ReadyToDeliver)],
        S::Decided => vec![(K::ProduceResult, S::ResultReady)],
        S::ResultReady => vec![
            (K::CheckResultOk, S::ReadyToDeliver),
            (K::CheckResultMismatch, S::ResultCorrection),
        ],
        S::ResultCorrection => vec![(K::CorrectResult, S::ResultReady)],
        S::ReadyToDeliver => vec![
            (K::DeliverPickup, S::Delivered),
            (K::DeliverPost, S::InPost),
        ],
        S::InPost => vec![(K::ConfirmReceipt, S::Delivered)],
        S::Delivered => vec![(K::Archive, S::Archived)],
        S::Archived | S::Refused | S::Withdrawn | S::Terminated | S::Discarded => vec![],
    };
    if !state.is_final() && state != S::Draft {
        v.extend(side(state));
        if state.is_before_decision() {
            v.push((K::Withdraw, S::Withdrawn));
        }
    }
    v
}

#[test]
fn every_state_and_action_pair_matches_the_domain_table() {
    for pt in [ProcessingType::Promised, ProcessingType::Immediate] {
        for state in CaseState::ALL {
            let allowed = expected(state, pt);
            for kind in ActionKind::ALL {
                let got = next_state(state, kind, pt);
                match allowed.iter().find(|(k, _)| *k == kind) {
                    Some((_, to)) => assert_eq!(got, Ok(*to), "{pt:?} {state:?} × {kind:?}"),
                    None => {
                        let why = got
                            .expect_err(&format!("{pt:?} {state:?} × {kind:?} should be refused"));
                        assert!(!why.is_empty());
                    }
                }
            }
        }
    }
}

#[test]
fn every_pair_applied_to_a_real_case_succeeds_or_is_refused_by_state() {
    let cal = Calendar::builtin();
    // After the 容缺 due date (5 working days from Monday 2 Nov = 9 Nov), so that a
    // breach can be recorded.
    let later = monday() + Duration::days(18);
    for spec in [promised_spec(), immediate_spec()] {
        let mut covered = 0;
        let mut states = 0;
        for state in CaseState::ALL {
            let Some(case) = case_in(&spec, state) else {
                continue;
            };
            states += 1;
            assert_eq!(case.state, state);
            let allowed = expected(state, spec.processing_type);
            for kind in ActionKind::ALL {
                let (action, role) = sample_action(kind);
                let by = actor(role);
                let got = apply(&case, &by, &action, &ctx(&cal, &spec, later));
                match allowed.iter().find(|(k, _)| *k == kind) {
                    Some((_, to)) => {
                        let t = got.unwrap_or_else(|e| panic!("{state:?} × {kind:?}: {e}"));
                        let to = if kind == K::BreachCommitment && state.is_before_decision() {
                            S::Terminated
                        } else {
                            *to
                        };
                        assert_eq!(t.case.state, to, "{state:?} × {kind:?}");
                        assert_eq!(t.case.version, case.version + 1);
                        assert_eq!((t.event.from, t.event.to), (Some(state), to));
                        assert_eq!(t.event.action, kind.as_str());
                        covered += 1;
                    }
                    None => match got {
                        Err(Error::InvalidTransition { .. }) => covered += 1,
                        other => {
                            panic!("{state:?} × {kind:?} should be refused by state, got {other:?}")
                        }
                    },
                }
            }
        }
        // Every state but 终止 is reachable for a 承诺件 (终止 is reached by the breach above).
        let min_states = if spec.processing_type == ProcessingType::Promised {
            17
        } else {
            10
        };
        assert!(states >= min_states, "reached only {states} states");
        assert_eq!(covered, states * ActionKind::ALL.len());
    }
}

/// Which roles may take each action on a case of their own department and region.
fn roles_for(kind: ActionKind, immediate: bool) -> Vec<Role> {
    use Role::*;
    let mut v = match kind {
        K::Submit | K::Discard | K::Resubmit => vec![Applicant],
        K::PreReviewPass | K::PreReviewReturn => vec![AcceptanceClerk, DeptReviewer, DeptApprover],
        K::Accept
        | K::RequestCorrection
        | K::Refuse
        | K::Review
        | K::Pause
        | K::Resume
        | K::CorrectResult => {
            vec![DeptReviewer, DeptApprover]
        }
        K::Extend => vec![DeptApprover],
        K::Approve | K::Deny => vec![DeptApprover],
        K::ProduceResult => vec![DeptReviewer, DeptApprover],
        K::CheckResultOk
        | K::CheckResultMismatch
        | K::DeliverPost
        | K::ConfirmReceipt
        | K::Archive => {
            vec![IssuanceClerk]
        }
        K::DeliverPickup => vec![IssuanceClerk],
        K::Withdraw | K::SupplyCorrection | K::FulfilCommitment => vec![Applicant, AcceptanceClerk],
        K::BreachCommitment => vec![System],
    };
    if immediate
        && matches!(
            kind,
            K::Approve | K::Deny | K::ProduceResult | K::DeliverPickup
        )
    {
        v.push(AcceptanceClerk);
    }
    v.sort();
    v
}

#[test]
fn every_role_and_action_pair_is_decided() {
    let mut roles: Vec<Role> = Role::ASSIGNABLE.to_vec();
    roles.push(Role::System);
    for spec in [promised_spec(), immediate_spec()] {
        let case = new_case(&spec, Channel::Online, false, monday());
        let imm = spec.processing_type == ProcessingType::Immediate;
        for kind in ActionKind::ALL {
            let mut allowed: Vec<Role> = roles
                .iter()
                .copied()
                .filter(|r| authorize(&actor(*r), &case, kind).is_ok())
                .collect();
            allowed.sort();
            assert_eq!(allowed, roles_for(kind, imm), "{kind:?} immediate={imm}");
        }
    }
}

#[test]
fn nobody_acts_outside_their_department_region_or_own_cases() {
    let spec = promised_spec();
    let case = new_case(&spec, Channel::Online, false, monday());
    let mut other_dept = actor(Role::DeptApprover);
    other_dept.department_id = Some(OTHER_DEPT);
    let mut other_county = actor(Role::IssuanceClerk);
    other_county.region = Some(crate::region::RegionCode::parse("440904").unwrap());
    let mut other_applicant = actor(Role::Applicant);
    other_applicant.applicant_id = Some(APPLICANT + 1);
    let mut unauthorized_clerk = actor(Role::AcceptanceClerk);
    unauthorized_clerk.immediate_departments.clear();
    for kind in ActionKind::ALL {
        for a in [&other_dept, &other_county, &other_applicant] {
            assert!(authorize(a, &case, kind).is_err(), "{:?} {kind:?}", a.role);
        }
    }
    assert!(!can_see(&other_dept, &case));
    assert!(!can_see(&other_county, &case));
    assert!(!can_see(&other_applicant, &case));
    assert!(can_see(&actor(Role::Supervisor), &case));
    assert!(!can_see(&actor(Role::HotlineOperator), &case));
    // A clerk not authorized by the department may not decide its 即办件.
    let imm = new_case(&immediate_spec(), Channel::Window, false, monday());
    assert!(authorize(&unauthorized_clerk, &imm, K::Approve).is_err());
    assert!(authorize(&actor(Role::AcceptanceClerk), &imm, K::Approve).is_ok());
}

fn act(
    case: &Case,
    spec: &ItemSpec,
    role: Role,
    action: Action,
    days: i64,
) -> crate::Result<Transition> {
    let cal = Calendar::builtin();
    apply(
        case,
        &actor(role),
        &action,
        &ctx(&cal, spec, monday() + Duration::days(days)),
    )
}

#[test]
fn a_promised_case_runs_its_clocks_from_receipt_to_archive() {
    let spec = promised_spec();
    let case = new_case(&spec, Channel::Window, false, monday());
    // Received Monday 2 Nov: acceptance by Wednesday 4 Nov.
    assert_eq!(case.due(), Some(date("2026-11-04")));
    assert_eq!(case.due_clock(), Some(ClockKind::Acceptance));
    // Accepted Tuesday: promised 10 → Tuesday 17 Nov; legal 20 → Tuesday 1 Dec; review stage 3 → Friday 6 Nov.
    let c = act(&case, &spec, Role::DeptReviewer, Action::Accept, 1)
        .unwrap()
        .case;
    let cl = &c.clocks;
    assert_eq!(
        cl.acceptance.as_ref().unwrap().finished,
        Some(date("2026-11-03"))
    );
    assert!(!cl.acceptance.as_ref().unwrap().is_late(date("2026-11-03")));
    assert_eq!(cl.promised.as_ref().unwrap().deadline, date("2026-11-17"));
    assert_eq!(cl.legal.as_ref().unwrap().deadline, date("2026-12-01"));
    assert_eq!(cl.stage.as_ref().unwrap().deadline, date("2026-11-06"));
    assert_eq!(c.stage, Some(StageKind::Review));
    assert_eq!(c.due(), Some(date("2026-11-17")));
    let c = act(&c, &spec, Role::DeptReviewer, sample_action(K::Review).0, 2)
        .unwrap()
        .case;
    assert_eq!(c.stage, Some(StageKind::Decide));
    let c = act(
        &c,
        &spec,
        Role::DeptApprover,
        sample_action(K::Approve).0,
        3,
    )
    .unwrap()
    .case;
    assert!(
        !c.clocks
            .promised
            .as_ref()
            .unwrap()
            .is_late(date("2026-11-05"))
    );
    assert_eq!(c.stage, Some(StageKind::Produce));
    let c = act(
        &c,
        &spec,
        Role::DeptReviewer,
        sample_action(K::ProduceResult).0,
        3,
    )
    .unwrap()
    .case;
    assert_eq!(c.result.as_ref().unwrap().title, "公共场所卫生许可证");
    let c = act(&c, &spec, Role::IssuanceClerk, Action::CheckResultOk, 4)
        .unwrap()
        .case;
    let c = act(
        &c,
        &spec,
        Role::IssuanceClerk,
        sample_action(K::DeliverPickup).0,
        4,
    )
    .unwrap()
    .case;
    assert_eq!(c.due(), Some(date("2026-11-09")));
    let c = act(&c, &spec, Role::IssuanceClerk, Action::Archive, 7)
        .unwrap()
        .case;
    assert_eq!(c.state, S::Archived);
    assert!(c.closed_at.is_some());
    assert!(c.clocks.all().all(|(_, k)| k.finished.is_some()));
}

#[test]
fn a_special_procedure_moves_the_deadline_by_its_working_days() {
    let spec = promised_spec();
    let c = case_in(&spec, S::UnderReview).unwrap();
    // Accepted Monday 2 Nov → promised deadline Monday 16 Nov.
    assert_eq!(c.due(), Some(date("2026-11-16")));
    let c = act(&c, &spec, Role::DeptReviewer, sample_action(K::Pause).0, 2)
        .unwrap()
        .case;
    assert_eq!(c.due(), None, "a paused case waits on no clock");
    assert_eq!(
        c.pause.as_ref().unwrap().procedure,
        StageKind::SiteInspection
    );
    // Resumed a week later (Wednesday 11 Nov): 5 working days were paused.
    let c = act(&c, &spec, Role::DeptReviewer, Action::Resume, 9)
        .unwrap()
        .case;
    assert_eq!(c.due(), Some(date("2026-11-23")));
    assert!(c.pause.is_none());
}

#[test]
fn a_procedure_not_in_the_items_process_is_refused() {
    let spec = promised_spec();
    let c = case_in(&spec, S::UnderReview).unwrap();
    let err = act(
        &c,
        &spec,
        Role::DeptReviewer,
        Action::Pause {
            procedure: StageKind::Hearing,
            reason: "听证".into(),
        },
        1,
    )
    .unwrap_err();
    let Error::Validation(f) = err else {
        panic!("{err}")
    };
    assert!(f.fields()["procedure"].contains("未设“听证”"));
}

#[test]
fn extensions_are_capped_by_the_legal_limit() {
    let spec = promised_spec();
    let c = case_in(&spec, S::UnderReview).unwrap();
    let c = act(
        &c,
        &spec,
        Role::DeptApprover,
        Action::Extend {
            days: 6,
            reason: "情况复杂".into(),
        },
        1,
    )
    .unwrap()
    .case;
    assert_eq!(c.clocks.promised.as_ref().unwrap().budget, 16);
    let err = act(
        &c,
        &spec,
        Role::DeptApprover,
        Action::Extend {
            days: 5,
            reason: "再延".into(),
        },
        1,
    )
    .unwrap_err();
    let Error::Validation(f) = err else { panic!() };
    assert!(
        f.fields()["days"].contains("最多还可延期 4 个工作日"),
        "{}",
        f.fields()["days"]
    );
    // A reviewer may not extend.
    assert!(matches!(
        act(
            &c,
            &spec,
            Role::DeptReviewer,
            Action::Extend {
                days: 1,
                reason: "x".into()
            },
            1
        ),
        Err(Error::Forbidden(_))
    ));
}

#[test]
fn a_correction_round_trip_tells_everything_once() {
    let spec = promised_spec();
    let c = case_in(&spec, S::CorrectionRequested).unwrap();
    assert_eq!(c.notices.len(), 1);
    assert_eq!(
        c.due(),
        None,
        "the clock stops while the applicant corrects"
    );
    // Supplying without the material the notice names is refused, naming it.
    let err = act(
        &c,
        &spec,
        Role::Applicant,
        Action::SupplyCorrection {
            form: Default::default(),
            materials: vec![],
        },
        2,
    )
    .unwrap_err();
    let Error::Validation(f) = err else { panic!() };
    assert!(f.fields().contains_key("materials.M1"));
    // Supplying it restarts the 2-day acceptance clock from that day (Wednesday 4 Nov → Friday 6 Nov).
    let c = act(
        &c,
        &spec,
        Role::Applicant,
        sample_action(K::SupplyCorrection).0,
        2,
    )
    .unwrap()
    .case;
    assert_eq!(c.state, S::Received);
    assert!(c.notices[0].answered_at.is_some());
    assert_eq!(c.due(), Some(date("2026-11-06")));
    // A second notice may name M1 again (the supplied copy is still wrong) …
    assert!(
        act(
            &c,
            &spec,
            Role::DeptReviewer,
            sample_action(K::RequestCorrection).0,
            3
        )
        .is_ok()
    );
    // … but not something the first notice could have named (一次性告知).
    let err = act(
        &c,
        &spec,
        Role::DeptReviewer,
        Action::RequestCorrection {
            items: vec![CorrectionItem {
                target: "form.business_name".into(),
                problem: "名称与执照不符".into(),
            }],
        },
        3,
    )
    .unwrap_err();
    let Error::Validation(f) = err else { panic!() };
    assert!(f.fields()["items[0].target"].contains("一次性告知"));
}

#[test]
fn notice_items_must_name_real_materials_or_fields() {
    let spec = promised_spec();
    let c = new_case(&spec, Channel::Window, false, monday());
    let err = act(
        &c,
        &spec,
        Role::DeptReviewer,
        Action::RequestCorrection {
            items: vec![
                CorrectionItem {
                    target: "M9".into(),
                    problem: "x".into(),
                },
                CorrectionItem {
                    target: "form.nope".into(),
                    problem: "".into(),
                },
            ],
        },
        1,
    )
    .unwrap_err();
    let Error::Validation(f) = err else { panic!() };
    let keys: Vec<_> = f.fields().keys().cloned().collect();
    assert_eq!(
        keys,
        ["items[0].target", "items[1].problem", "items[1].target"]
    );
    assert!(matches!(
        act(
            &c,
            &spec,
            Role::DeptReviewer,
            Action::RequestCorrection { items: vec![] },
            1
        ),
        Err(Error::Validation(_))
    ));
}

#[test]
fn a_rongque_commitment_is_written_off_when_supplied() {
    let spec = promised_spec();
    let c = new_case(&spec, Channel::Window, true, monday());
    assert_eq!(c.commitments.len(), 1);
    assert_eq!(c.commitments[0].materials, ["M2"]);
    // 5 working days from Monday 2 Nov.
    assert_eq!(c.rongque_due(), Some(date("2026-11-09")));
    let c = act(&c, &spec, Role::DeptReviewer, Action::Accept, 1)
        .unwrap()
        .case;
    let t = act(
        &c,
        &spec,
        Role::Applicant,
        sample_action(K::FulfilCommitment).0,
        3,
    )
    .unwrap();
    let k = &t.case.commitments[0];
    assert_eq!(k.status, CommitmentStatus::Fulfilled);
    assert!(
        t.case
            .materials
            .iter()
            .find(|m| m.code == "M2")
            .unwrap()
            .status
            .is_present()
    );
    assert_eq!(t.case.rongque_due(), None);
    assert!(t.effects.is_empty());
    // Twice is refused.
    assert!(
        act(
            &t.case,
            &spec,
            Role::Applicant,
            sample_action(K::FulfilCommitment).0,
            3
        )
        .is_err()
    );
}

#[test]
fn a_broken_commitment_terminates_the_case_and_bars_the_applicant() {
    let spec = promised_spec();
    let c = new_case(&spec, Channel::Window, true, monday());
    let c = act(&c, &spec, Role::DeptReviewer, Action::Accept, 1)
        .unwrap()
        .case;
    // Not before the due date has passed.
    assert!(
        act(
            &c,
            &spec,
            Role::System,
            Action::BreachCommitment { commitment: 1 },
            7
        )
        .is_err()
    );
    let t = act(
        &c,
        &spec,
        Role::System,
        Action::BreachCommitment { commitment: 1 },
        8,
    )
    .unwrap();
    assert_eq!(t.case.state, S::Terminated);
    assert_eq!(t.case.commitments[0].status, CommitmentStatus::Breached);
    assert!(matches!(
        &t.effects[..],
        [Effect::BarApplicantFromRongque {
            applicant_id: APPLICANT,
            ..
        }]
    ));
    assert!(
        t.event
            .reason
            .as_deref()
            .unwrap()
            .contains("从业人员健康合格证明")
    );
}

#[test]
fn under_a_hold_policy_a_broken_commitment_holds_the_case_until_supplied() {
    let mut spec = promised_spec();
    spec.breach_policy = BreachPolicy::Hold;
    let c = new_case(&spec, Channel::Window, true, monday());
    let c = act(&c, &spec, Role::DeptReviewer, Action::Accept, 1)
        .unwrap()
        .case;
    let c = act(
        &c,
        &spec,
        Role::System,
        Action::BreachCommitment { commitment: 1 },
        8,
    )
    .unwrap()
    .case;
    assert_eq!(c.state, S::UnderReview);
    assert!(c.held);
    assert_eq!(c.due(), None, "clocks stop while held");
    assert!(matches!(
        act(
            &c,
            &spec,
            Role::DeptApprover,
            sample_action(K::Approve).0,
            9
        ),
        Err(Error::InvalidTransition { .. })
    ));
    let c = act(
        &c,
        &spec,
        Role::Applicant,
        sample_action(K::FulfilCommitment).0,
        9,
    )
    .unwrap()
    .case;
    assert!(!c.held);
    assert_eq!(
        c.commitments[0].status,
        CommitmentStatus::Breached,
        "late supply does not undo the breach"
    );
    assert!(c.due().is_some());
    assert!(
        act(
            &c,
            &spec,
            Role::DeptApprover,
            sample_action(K::Approve).0,
            9
        )
        .is_ok()
    );
}

#[test]
fn a_barred_applicant_cannot_get_rongque() {
    let spec = promised_spec();
    let cal = Calendar::builtin();
    let c = ctx(&cal, &spec, monday());
    let err = receive(
        &application(Channel::Window, true),
        &actor(Role::AcceptanceClerk),
        &c,
        &item(&spec),
        1,
        applicant(),
        true,
        CaseNumber::new(&county(), c.today, 1),
    )
    .unwrap_err();
    let Error::Validation(f) = err else { panic!() };
    assert!(f.fields()["materials"].contains("暂停容缺"));
}

#[test]
fn receipt_names_every_missing_material_and_bad_field_at_once() {
    let spec = promised_spec();
    let cal = Calendar::builtin();
    let c = ctx(&cal, &spec, monday());
    let mut app = application(Channel::Window, false);
    app.materials.clear();
    app.form.insert("by_agent".into(), "true".into());
    app.form.insert("business_name".into(), " ".into());
    let err = receive(
        &app,
        &actor(Role::AcceptanceClerk),
        &c,
        &item(&spec),
        1,
        applicant(),
        false,
        CaseNumber::new(&county(), c.today, 1),
    )
    .unwrap_err();
    let Error::Validation(f) = err else { panic!() };
    let keys: Vec<_> = f.fields().keys().cloned().collect();
    // M4 (授权委托书) is required because by_agent is true.
    assert_eq!(
        keys,
        [
            "form.business_name",
            "materials.M1",
            "materials.M2",
            "materials.M4"
        ]
    );
}

#[test]
fn a_suspended_item_takes_no_new_cases() {
    let spec = promised_spec();
    let cal = Calendar::builtin();
    let c = ctx(&cal, &spec, monday());
    let mut it = item(&spec);
    it.status = crate::catalog::ItemStatus::Suspended;
    let err = receive(
        &application(Channel::Window, false),
        &actor(Role::AcceptanceClerk),
        &c,
        &it,
        1,
        applicant(),
        false,
        CaseNumber::new(&county(), c.today, 1),
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidTransition { reason, .. } if reason.contains("暂停")));
}

#[test]
fn an_immediate_item_is_done_at_one_window_the_same_day() {
    let spec = immediate_spec();
    let c = new_case(&spec, Channel::Window, false, monday());
    assert_eq!(c.due(), None);
    assert_eq!(
        c.clocks.promised.as_ref().unwrap().deadline,
        date("2026-11-02")
    );
    let c = act(
        &c,
        &spec,
        Role::AcceptanceClerk,
        sample_action(K::Approve).0,
        0,
    )
    .unwrap()
    .case;
    let c = act(
        &c,
        &spec,
        Role::AcceptanceClerk,
        sample_action(K::ProduceResult).0,
        0,
    )
    .unwrap()
    .case;
    assert_eq!(c.state, S::ReadyToDeliver);
    let c = act(
        &c,
        &spec,
        Role::AcceptanceClerk,
        sample_action(K::DeliverPickup).0,
        0,
    )
    .unwrap()
    .case;
    assert_eq!(c.state, S::Delivered);
    assert!(
        !c.clocks
            .promised
            .as_ref()
            .unwrap()
            .is_late(date("2026-11-02"))
    );
}

#[test]
fn withdrawal_is_refused_after_the_decision() {
    let spec = promised_spec();
    let c = case_in(&spec, S::Decided).unwrap();
    assert!(matches!(
        act(&c, &spec, Role::Applicant, sample_action(K::Withdraw).0, 1),
        Err(Error::InvalidTransition { .. })
    ));
    let c = case_in(&spec, S::Paused).unwrap();
    let t = act(&c, &spec, Role::Applicant, sample_action(K::Withdraw).0, 1).unwrap();
    assert_eq!(t.case.state, S::Withdrawn);
    assert!(t.case.clocks.all().all(|(_, k)| k.finished.is_some()));
}

#[test]
fn denial_and_refusal_need_a_reason_and_a_legal_basis() {
    let spec = promised_spec();
    let c = case_in(&spec, S::UnderReview).unwrap();
    let err = act(
        &c,
        &spec,
        Role::DeptApprover,
        Action::Deny {
            reason: " ".into(),
            legal_basis: "".into(),
        },
        1,
    )
    .unwrap_err();
    let Error::Validation(f) = err else { panic!() };
    assert_eq!(f.fields().len(), 2);
    let c = new_case(&spec, Channel::Window, false, monday());
    assert!(
        act(
            &c,
            &spec,
            Role::DeptReviewer,
            Action::Refuse {
                reason: "x".into(),
                legal_basis: "".into()
            },
            1
        )
        .is_err()
    );
    // A denial produces a decision document, not the licence.
    let c = case_in(&spec, S::UnderReview).unwrap();
    let c = act(&c, &spec, Role::DeptApprover, sample_action(K::Deny).0, 1)
        .unwrap()
        .case;
    let c = act(
        &c,
        &spec,
        Role::DeptReviewer,
        sample_action(K::ProduceResult).0,
        1,
    )
    .unwrap()
    .case;
    assert_eq!(c.result.unwrap().title, "不予公共场所卫生许可决定书");
}

#[test]
fn posting_needs_a_real_tracking_number_and_a_receipt_starts_the_archive_clock() {
    let spec = promised_spec();
    let c = case_in(&spec, S::ReadyToDeliver).unwrap();
    let err = act(
        &c,
        &spec,
        Role::IssuanceClerk,
        Action::DeliverPost {
            carrier: "".into(),
            tracking_number: "12-3".into(),
        },
        1,
    )
    .unwrap_err();
    let Error::Validation(f) = err else { panic!() };
    assert_eq!(f.fields().len(), 2);
    let c = act(
        &c,
        &spec,
        Role::IssuanceClerk,
        sample_action(K::DeliverPost).0,
        1,
    )
    .unwrap()
    .case;
    assert_eq!(c.due(), None);
    let c = act(&c, &spec, Role::IssuanceClerk, Action::ConfirmReceipt, 3)
        .unwrap()
        .case;
    assert_eq!(c.due(), Some(date("2026-11-06")));
}

#[test]
fn a_result_mismatch_gives_the_department_one_working_day() {
    let spec = promised_spec();
    let c = case_in(&spec, S::ResultCorrection).unwrap();
    assert_eq!(c.due_clock(), Some(ClockKind::ResultCorrection));
    assert_eq!(c.due(), Some(date("2026-11-03")));
}

#[test]
fn available_actions_follow_state_and_role() {
    let spec = promised_spec();
    let c = new_case(&spec, Channel::Window, true, monday());
    assert_eq!(
        available_actions(&c, &actor(Role::DeptReviewer)),
        vec![K::Accept, K::RequestCorrection, K::Refuse]
    );
    assert_eq!(
        available_actions(&c, &actor(Role::Applicant)),
        vec![K::Withdraw, K::FulfilCommitment]
    );
}

fn act_with(
    case: &Case,
    spec: &ItemSpec,
    role: Role,
    action: Action,
    days: i64,
    barred: bool,
) -> crate::Result<Transition> {
    let cal = Calendar::builtin();
    let mut c = ctx(&cal, spec, monday() + Duration::days(days));
    c.rongque_barred = barred;
    apply(case, &actor(role), &action, &c)
}

#[test]
fn a_draft_signs_its_rongque_commitment_when_it_is_submitted() {
    let spec = promised_spec();
    let draft = case_in(&spec, S::Draft).unwrap();
    assert!(draft.commitments.is_empty(), "a draft promises nothing yet");
    assert_eq!(draft.rongque_due(), None);
    // Submitted on Wednesday 4 November: 5 working days from then.
    let c = act(&draft, &spec, Role::Applicant, Action::Submit, 2)
        .unwrap()
        .case;
    assert_eq!(c.commitments.len(), 1);
    assert_eq!(c.rongque_due(), Some(date("2026-11-11")));
    // A barred applicant cannot submit with a 容缺 material.
    let err = act_with(&draft, &spec, Role::Applicant, Action::Submit, 2, true).unwrap_err();
    let Error::Validation(f) = err else { panic!() };
    assert!(f.fields()["materials"].contains("暂停容缺"));
}

/// A 容缺 window case with a correction asked of it on day 1.
fn rongque_case_asked_to_correct(spec: &ItemSpec) -> (Case, Case) {
    let c = new_case(spec, Channel::Window, true, monday());
    let asked = act(
        &c,
        spec,
        Role::DeptReviewer,
        sample_action(K::RequestCorrection).0,
        1,
    )
    .unwrap()
    .case;
    (c, asked)
}

/// The applicant answers a correction on day 2 with these materials handed in.
fn supply_materials(c: &Case, spec: &ItemSpec, codes: &[&str], electronic: bool) -> Case {
    let materials = codes
        .iter()
        .map(|code| MaterialLine {
            code: (*code).into(),
            input: MaterialInput::Provided {
                electronic,
                files: vec![],
            },
        })
        .collect();
    let supply = Action::SupplyCorrection {
        form: Default::default(),
        materials,
    };
    act(c, spec, Role::Applicant, supply, 2).unwrap().case
}

#[test]
fn supplying_a_rongque_material_in_a_correction_writes_off_its_commitment() {
    let spec = promised_spec();
    let (_, c) = rongque_case_asked_to_correct(&spec);
    let c = supply_materials(&c, &spec, &["M1", "M2"], false);
    assert_eq!(c.commitments[0].status, CommitmentStatus::Fulfilled);
    assert_eq!(c.rongque_due(), None);
    // Nothing is left to breach.
    assert!(
        act(
            &c,
            &spec,
            Role::System,
            Action::BreachCommitment { commitment: 1 },
            9
        )
        .is_err()
    );
}

/// A step copies the case without copying its form and checklist: the versions share
/// them (and their JSON once written) until a step changes one, which gives the new
/// version its own and leaves the version before as it was.
#[test]
fn versions_share_the_form_and_checklist_until_a_step_changes_them() {
    let spec = promised_spec();
    let (c, asked) = rongque_case_asked_to_correct(&spec);
    assert!(Shared::ptr_eq(&c.form, &asked.form));
    assert!(Shared::ptr_eq(&c.materials, &asked.materials));
    let before = (*asked.materials).clone();
    let supplied = supply_materials(&asked, &spec, &["M1"], true);
    assert!(!Shared::ptr_eq(&asked.materials, &supplied.materials));
    assert_ne!(*supplied.materials, before);
    assert_eq!(*asked.materials, before);
    // Each version's JSON holds its own parts, whether written for the first time or
    // from what a version before it wrote; and reads back as the same case.
    for _ in 0..2 {
        for v in [&c, &asked, &supplied] {
            let json = serde_json::to_value(v).unwrap();
            assert_eq!(json["form"], serde_json::to_value(&*v.form).unwrap());
            assert_eq!(
                json["materials"],
                serde_json::to_value(&*v.materials).unwrap()
            );
            let text = serde_json::to_string(v).unwrap();
            assert_eq!(&serde_json::from_str::<Case>(&text).unwrap(), v);
        }
    }
    assert_ne!(
        serde_json::to_value(&asked).unwrap()["materials"],
        serde_json::to_value(&supplied).unwrap()["materials"]
    );
}

#[test]
fn a_held_case_restarts_no_clock_until_the_material_comes() {
    let mut spec = promised_spec();
    spec.breach_policy = BreachPolicy::Hold;
    let c = new_case(&spec, Channel::Window, true, monday());
    let c = act(&c, &spec, Role::DeptReviewer, Action::Accept, 1)
        .unwrap()
        .case;
    let c = act(
        &c,
        &spec,
        Role::System,
        Action::BreachCommitment { commitment: 1 },
        8,
    )
    .unwrap()
    .case;
    let c = act(&c, &spec, Role::DeptReviewer, sample_action(K::Pause).0, 9)
        .unwrap()
        .case;
    for (role, kind) in [
        (Role::DeptReviewer, K::Resume),
        (Role::DeptReviewer, K::Review),
    ] {
        let r = act(&c, &spec, role, sample_action(kind).0, 9);
        assert!(
            matches!(r, Err(Error::InvalidTransition { .. })),
            "{kind:?} on a held case"
        );
    }
    let held = new_case(&spec, Channel::Window, true, monday());
    let held = act(
        &held,
        &spec,
        Role::System,
        Action::BreachCommitment { commitment: 1 },
        8,
    )
    .unwrap()
    .case;
    assert!(held.held);
    let r = act(
        &held,
        &spec,
        Role::DeptReviewer,
        sample_action(K::RequestCorrection).0,
        9,
    );
    assert!(matches!(r, Err(Error::InvalidTransition { .. })));
    assert!(
        held.clocks.all().all(|(_, k)| !k.is_running()),
        "no clock runs while held"
    );
}

#[test]
fn an_immediate_case_returned_for_correction_restarts_its_same_day_clock() {
    let spec = immediate_spec();
    let c = new_case(&spec, Channel::Window, false, monday());
    let c = act(
        &c,
        &spec,
        Role::DeptReviewer,
        sample_action(K::RequestCorrection).0,
        0,
    )
    .unwrap()
    .case;
    assert!(c.clocks.all().all(|(_, k)| !k.is_running()));
    let c = act(
        &c,
        &spec,
        Role::Applicant,
        sample_action(K::SupplyCorrection).0,
        2,
    )
    .unwrap()
    .case;
    assert!(
        c.clocks.acceptance.is_none(),
        "a 即办件 has no acceptance clock"
    );
    let p = c.clocks.promised.as_ref().unwrap();
    assert_eq!(
        (p.started, p.deadline),
        (date("2026-11-04"), date("2026-11-04"))
    );
}

#[test]
fn a_pre_review_return_does_not_limit_the_departments_notice() {
    let spec = promised_spec();
    let c = case_in(&spec, S::ReturnedToApplicant).unwrap();
    let c = act(&c, &spec, Role::Applicant, sample_action(K::Resubmit).0, 1)
        .unwrap()
        .case;
    let c = act(&c, &spec, Role::AcceptanceClerk, Action::PreReviewPass, 1)
        .unwrap()
        .case;
    // The department names something the pre-review did not: allowed (a different notice).
    let r = act(
        &c,
        &spec,
        Role::DeptReviewer,
        Action::RequestCorrection {
            items: vec![CorrectionItem {
                target: "form.business_name".into(),
                problem: "名称与执照不符".into(),
            }],
        },
        2,
    );
    assert!(r.is_ok(), "{r:?}");
}

#[test]
fn the_event_log_masks_personal_numbers() {
    let spec = promised_spec();
    let c = case_in(&spec, S::ReadyToDeliver).unwrap();
    let t = act(
        &c,
        &spec,
        Role::IssuanceClerk,
        Action::DeliverPickup {
            signed_by: "李四".into(),
            signer_id_number: Some("11010519491231002X".into()),
        },
        1,
    )
    .unwrap();
    assert_eq!(
        t.event.data.value()["signer_id_number"],
        "110105********002X"
    );
    let cal = Calendar::builtin();
    let c = ctx(&cal, &spec, monday());
    let mut app = application(Channel::Window, false);
    app.applicant = Some(ApplicantInput {
        kind: ApplicantKind::Person,
        identifier: "11010519491231002X".into(),
        name: "张三".into(),
        phone: "13800138000".into(),
        legal_representative: None,
    });
    let (_, ev) = receive(
        &app,
        &actor(Role::AcceptanceClerk),
        &c,
        &item(&spec),
        1,
        applicant(),
        false,
        CaseNumber::new(&county(), c.today, 1),
    )
    .unwrap();
    assert_eq!(
        ev.data.value()["applicant"]["identifier"],
        "110105********002X"
    );
    assert_eq!(ev.data.value()["applicant"]["phone"], "138****8000");
    // Everything else of the application is kept as it was handed in, and the stored
    // text reads back as the same data.
    let mut whole = serde_json::to_value(&app).unwrap();
    whole["applicant"]["identifier"] = "110105********002X".into();
    whole["applicant"]["phone"] = "138****8000".into();
    assert_eq!(ev.data.value(), whole);
    assert!(!ev.data.json().contains("11010519491231002X"));
    let stored: EventData = serde_json::from_str(ev.data.json()).unwrap();
    assert_eq!(stored, ev.data);
    assert_eq!(serde_json::to_value(&ev).unwrap()["data"], whole);
}

#[test]
fn an_absurd_extension_is_refused_not_overflowed() {
    let spec = promised_spec();
    let c = case_in(&spec, S::UnderReview).unwrap();
    let r = act(
        &c,
        &spec,
        Role::DeptApprover,
        Action::Extend {
            days: u32::MAX,
            reason: "x".into(),
        },
        1,
    );
    assert!(matches!(r, Err(Error::Validation(_))));
}

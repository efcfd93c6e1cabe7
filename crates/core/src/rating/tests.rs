use super::rectification::*;
use super::*;
use crate::actor::{Actor, Role};
use chrono::NaiveDate;

#[test]
fn reason_codes_belong_to_their_level_and_the_issue_s_examples_are_there() {
    for (code, level) in [
        (511, Level::VerySatisfied),
        (307, Level::Basic),
        (209, Level::Dissatisfied),
        (108, Level::VeryDissatisfied),
        (113, Level::VeryDissatisfied),
    ] {
        assert_eq!(level_of_reason(code), Some(level), "{code}");
    }
    assert_eq!(level_of_reason(999), None);
    for l in Level::ALL {
        assert!(reasons_of(l).count() >= 5, "{l:?}");
        assert!(reasons_of(l).all(|r| level_of_reason(r.code) == Some(l)));
    }
    let codes: std::collections::BTreeSet<u16> = REASONS.iter().map(|r| r.code).collect();
    assert_eq!(codes.len(), REASONS.len(), "codes are unique");
}

#[test]
fn a_bad_rating_needs_a_reason_of_its_level_and_a_comment() {
    let ok = RatingInput {
        level: Level::VerySatisfied,
        reasons: vec![511],
        comment: String::new(),
    };
    assert!(ok.validate().is_ok());
    let bad = RatingInput {
        level: Level::Dissatisfied,
        reasons: vec![],
        comment: " ".into(),
    };
    let Err(Error::Validation(fe)) = bad.validate() else {
        panic!()
    };
    assert_eq!(
        fe.fields().keys().cloned().collect::<Vec<_>>(),
        ["comment", "reasons"]
    );
    let wrong = RatingInput {
        level: Level::Satisfied,
        reasons: vec![209, 401, 401, 777],
        comment: "x".repeat(MAX_COMMENT + 1),
    };
    let Err(Error::Validation(fe)) = wrong.validate() else {
        panic!()
    };
    let keys: Vec<_> = fe.fields().keys().cloned().collect();
    assert_eq!(keys, ["comment", "reasons[0]", "reasons[2]", "reasons[3]"]);
}

#[test]
fn only_cases_that_ended_for_the_applicant_may_be_rated() {
    use crate::case::CaseState as S;
    let rateable_states = [
        S::Delivered,
        S::Archived,
        S::Refused,
        S::Withdrawn,
        S::Terminated,
    ];
    for s in S::ALL {
        let mut c = crate::testing::new_case(
            &crate::testing::promised_spec(),
            crate::case::Channel::Window,
            false,
            crate::testing::monday(),
        );
        c.state = s;
        assert_eq!(rateable(&c).is_ok(), rateable_states.contains(&s), "{s:?}");
    }
}

fn act(k: TaskActionKind, reached: bool) -> TaskAction {
    let t = "说明".to_string();
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
            reached,
            satisfied: true,
            note: t,
        },
    }
}

/// The table of DOMAIN §7 as written in the module's doc, by hand.
fn expected(s: TaskState, k: TaskActionKind) -> Option<TaskState> {
    use TaskActionKind as A;
    use TaskState as S;
    Some(match (s, k) {
        (S::Pending, A::Start) => S::InProgress,
        (S::Pending | S::InProgress, A::Appeal) => S::Appealed,
        (S::InProgress, A::ReportRectified) => S::ReviewRectified,
        (S::InProgress, A::ReportUnrectifiable) => S::ReviewUnrectifiable,
        (S::ReviewRectified, A::Approve) => S::Rectified,
        (S::ReviewUnrectifiable, A::Approve) => S::Unrectifiable,
        (S::ReviewRectified | S::ReviewUnrectifiable, A::Reject) => S::InProgress,
        (S::Appealed, A::UpholdAppeal) => S::AppealUpheld,
        (S::Appealed, A::RejectAppeal) => S::Pending, // appealed from Pending below
        (S::Rectified | S::Unrectifiable, A::CallBack) => S::Closed, // reached
        _ => return None,
    })
}

#[test]
fn every_task_state_and_action_is_decided_as_the_table_says() {
    for s in TaskState::ALL {
        for k in TaskActionKind::ALL {
            let got = next(s, Some(TaskState::Pending), &act(k, true), 0).ok();
            assert_eq!(got, expected(s, k), "{s:?} × {k:?}");
        }
    }
    // An unanswered call-back keeps the task open, the third closes it.
    let miss = act(TaskActionKind::CallBack, false);
    assert_eq!(
        next(TaskState::Rectified, None, &miss, 0).unwrap(),
        TaskState::Rectified
    );
    assert_eq!(
        next(TaskState::Rectified, None, &miss, 2).unwrap(),
        TaskState::Closed
    );
    // A rejected appeal returns to where it was made.
    assert_eq!(
        next(
            TaskState::Appealed,
            Some(TaskState::InProgress),
            &act(TaskActionKind::RejectAppeal, true),
            0
        )
        .unwrap(),
        TaskState::InProgress
    );
}

fn task() -> Task {
    let at = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap();
    Task {
        id: 1,
        rating_id: 1,
        case_id: 1,
        department_id: 7,
        region: "440902".into(),
        state: TaskState::Pending,
        before_appeal: None,
        due: NaiveDate::from_ymd_opt(2026, 12, 10).unwrap(),
        overdue_since: None,
        reported_on_time: None,
        call_backs: vec![],
        steps: vec![],
        opened_at: at,
        updated_at: at,
        version: 1,
    }
}

fn actor(role: Role, dept: i64, region: &str) -> Actor {
    Actor {
        account_id: 9,
        name: "某人".into(),
        role,
        department_id: Some(dept),
        region: Some(crate::region::RegionCode::parse(region).unwrap()),
        applicant_id: None,
        immediate_departments: vec![],
        window_id: None,
    }
}

#[test]
fn the_department_rectifies_a_supervisor_reviews_and_calls_back() {
    let day = NaiveDate::from_ymd_opt(2026, 12, 11).unwrap();
    let now = chrono::Utc::now();
    let dept = actor(Role::DeptReviewer, 7, "440902");
    let other_dept = actor(Role::DeptReviewer, 8, "440902");
    let sup = actor(Role::Supervisor, 1, "440900");
    let far_sup = actor(Role::Supervisor, 1, "440100");
    let t = task();
    assert!(matches!(
        apply(&t, &other_dept, &act(TaskActionKind::Start, true), day, now),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        apply(&t, &sup, &act(TaskActionKind::Start, true), day, now),
        Err(Error::Forbidden(_))
    ));
    let t = apply(&t, &dept, &act(TaskActionKind::Start, true), day, now).unwrap();
    // Reporting needs words.
    let empty = TaskAction::ReportRectified {
        measures: " ".into(),
    };
    assert!(matches!(
        apply(&t, &dept, &empty, day, now),
        Err(Error::Validation(_))
    ));
    let t = apply(
        &t,
        &dept,
        &act(TaskActionKind::ReportRectified, true),
        day,
        now,
    )
    .unwrap();
    assert_eq!(t.reported_on_time, Some(false), "reported after the 10th");
    assert!(matches!(
        apply(&t, &dept, &act(TaskActionKind::Approve, true), day, now),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        apply(&t, &far_sup, &act(TaskActionKind::Approve, true), day, now),
        Err(Error::Forbidden(_))
    ));
    let t = apply(&t, &sup, &act(TaskActionKind::Approve, true), day, now).unwrap();
    assert_eq!(t.state, TaskState::Rectified);
    let t = apply(&t, &sup, &act(TaskActionKind::CallBack, false), day, now).unwrap();
    assert_eq!(t.state, TaskState::Rectified);
    let t = apply(&t, &sup, &act(TaskActionKind::CallBack, true), day, now).unwrap();
    assert_eq!(t.state, TaskState::Closed);
    assert_eq!(t.call_backs.len(), 2);
    assert_eq!(t.steps.len(), 5);
}

#[test]
fn a_task_not_reported_by_its_due_date_is_marked_overdue_once() {
    let t = task();
    assert!(
        mark_overdue(&t, t.due).is_none(),
        "due by the end of the day"
    );
    let after = t.due.succ_opt().unwrap();
    let o = mark_overdue(&t, after).unwrap();
    assert_eq!(o.overdue_since, Some(after));
    assert!(mark_overdue(&o, after.succ_opt().unwrap()).is_none());
    let mut reported = t.clone();
    reported.state = TaskState::ReviewRectified;
    assert!(mark_overdue(&reported, after).is_none());
}

#[test]
fn action_names_are_the_api_s() {
    for k in TaskActionKind::ALL {
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        assert_eq!(TaskAction::blank(k).kind(), k);
    }
}

use chrono::{NaiveDate, TimeZone, Utc};

use super::hours::WorkingHours;
use super::*;

fn china(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - chrono::Duration::hours(8)
}

#[test]
fn the_sign_clock_counts_thirty_minutes_of_working_hours() {
    let cal = Calendar::builtin();
    let h = WorkingHours::default();
    // Monday 23 Nov 2026, 10:00 → 10:30.
    assert_eq!(
        h.add_minutes(&cal, china(2026, 11, 23, 10, 0), 30).unwrap(),
        china(2026, 11, 23, 10, 30)
    );
    // 11:50 → 10 minutes before lunch, 20 after: 14:50.
    assert_eq!(
        h.add_minutes(&cal, china(2026, 11, 23, 11, 50), 30)
            .unwrap(),
        china(2026, 11, 23, 14, 50)
    );
    // Friday 17:20 → 10 minutes, then Monday 08:50.
    assert_eq!(
        h.add_minutes(&cal, china(2026, 11, 27, 17, 20), 30)
            .unwrap(),
        china(2026, 11, 30, 8, 50)
    );
    // At night: from 08:30 the next working day.
    assert_eq!(
        h.add_minutes(&cal, china(2026, 11, 23, 22, 0), 30).unwrap(),
        china(2026, 11, 24, 9, 0)
    );
    // National Day: 1 Oct 2026 (Thursday) is a holiday through 7 Oct; 10 Oct (Saturday) is
    // a 调休 working day. A call on 30 Sep at 17:15 runs 15 minutes, then on 8 Oct.
    assert_eq!(
        h.add_minutes(&cal, china(2026, 9, 30, 17, 15), 30).unwrap(),
        china(2026, 10, 8, 8, 45)
    );
    // Back again: the minutes between are the working minutes.
    assert_eq!(
        h.minutes_between(
            &cal,
            china(2026, 11, 27, 17, 20),
            china(2026, 11, 30, 8, 50)
        )
        .unwrap(),
        30
    );
    assert_eq!(
        h.minutes_between(
            &cal,
            china(2026, 11, 23, 12, 0),
            china(2026, 11, 23, 14, 30)
        )
        .unwrap(),
        0
    );
    assert!(WorkingHours { periods: vec![] }.validate().is_err());
}

/// DOMAIN §8's loop, by hand (no extension pending; call-backs reached and satisfied).
fn expected(s: OrderState, k: ActionKind) -> Option<OrderState> {
    use ActionKind as A;
    use OrderState as S;
    Some(match (s, k) {
        (S::Registered, A::AnswerDirectly) => S::Closed,
        (S::Registered | S::Reopened, A::Dispatch) => S::Dispatched,
        (S::Reopened, A::AnswerDirectly) => S::Closed,
        (S::Registered | S::Dispatched | S::Returned, A::MergeInto) => S::Merged,
        (S::Dispatched, A::Sign) => S::Handling,
        (S::Dispatched, A::Return) => S::Returned,
        (S::Returned, A::Redispatch | A::Rule) => S::Dispatched,
        (S::Handling, A::Reply) => S::Replied,
        (S::Handling, A::AssistNote | A::RequestExtension) => S::Handling,
        (S::Replied, A::AcceptReply) => S::Reviewed,
        (S::Replied, A::SendBack) => S::Handling,
        (S::Reviewed, A::CallBack) => S::Closed,
        _ => return None,
    })
}

#[test]
fn every_order_state_and_action_is_decided_as_the_loop_says() {
    for s in OrderState::ALL {
        for k in ActionKind::ALL {
            let got = next(s, &OrderAction::blank(k), false, 0).ok();
            assert_eq!(got, expected(s, k), "{s:?} × {k:?}");
        }
    }
    // With an extension pending: it can be approved or denied, not asked again.
    assert_eq!(
        next(
            OrderState::Handling,
            &OrderAction::blank(ActionKind::ApproveExtension),
            true,
            0
        )
        .unwrap(),
        OrderState::Handling
    );
    assert!(
        next(
            OrderState::Handling,
            &OrderAction::blank(ActionKind::RequestExtension),
            true,
            0
        )
        .is_err()
    );
    // Unsatisfied: reopened. Unreached: stays, the third closes.
    assert_eq!(
        next(
            OrderState::Reviewed,
            &OrderAction::CallBack {
                reached: true,
                satisfied: false,
                note: "说明".into(),
            },
            false,
            0
        )
        .unwrap(),
        OrderState::Reopened
    );
    let miss = OrderAction::CallBack {
        reached: false,
        satisfied: false,
        note: String::new(),
    };
    assert_eq!(
        next(OrderState::Reviewed, &miss, false, 0).unwrap(),
        OrderState::Reviewed
    );
    assert_eq!(
        next(OrderState::Reviewed, &miss, false, 2).unwrap(),
        OrderState::Closed
    );
}

#[test]
fn deadlines_follow_type_and_urgency() {
    let d = Deadlines::default();
    assert!(d.validate().is_ok());
    assert_eq!(d.reply_days(OrderType::Complaint, Urgency::Normal), 5);
    assert_eq!(d.reply_days(OrderType::Complaint, Urgency::Urgent), 1);
    assert_eq!(d.reply_days(OrderType::Consultation, Urgency::Critical), 0);
    let mut bad = Deadlines::default();
    bad.reply_days.pop();
    assert!(bad.validate().is_err());
}

#[test]
fn open311_attributes_are_checked_by_datatype() {
    let c = kb::Category {
        id: 1,
        code: "road-light".into(),
        name: "路灯不亮".into(),
        description: String::new(),
        group: "城市管理".into(),
        default_type: OrderType::Report,
        unit: None,
        keywords: vec![],
        attributes: vec![
            kb::Attribute {
                code: "pole".into(),
                description: "灯杆编号".into(),
                datatype: kb::Datatype::String,
                required: true,
                values: vec![],
            },
            kb::Attribute {
                code: "count".into(),
                description: "不亮盏数".into(),
                datatype: kb::Datatype::Number,
                required: false,
                values: vec![],
            },
            kb::Attribute {
                code: "kind".into(),
                description: "情况".into(),
                datatype: kb::Datatype::Singlevaluelist,
                required: false,
                values: vec![
                    ("off".into(), "不亮".into()),
                    ("flicker".into(), "闪烁".into()),
                ],
            },
        ],
        active: true,
    };
    assert!(
        c.check_attributes(&[("pole".into(), "MN-0231".into())], true)
            .is_ok()
    );
    let Err(Error::Validation(fe)) = c.check_attributes(
        &[
            ("count".into(), "many".into()),
            ("kind".into(), "dark".into()),
            ("x".into(), "1".into()),
        ],
        true,
    ) else {
        panic!()
    };
    let keys: Vec<_> = fe.fields().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "attribute[count]",
            "attribute[kind]",
            "attribute[pole]",
            "attribute[x]"
        ]
    );
}

#[test]
fn articles_are_in_force_within_their_period() {
    let at = Utc::now();
    let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    let a = kb::Article {
        id: 1,
        region: "440900".into(),
        versions: vec![kb::ArticleVersion {
            version: 1,
            content: kb::ArticleInput {
                title: "居住证办理".into(),
                keywords: vec![],
                body: "携带身份证到派出所".into(),
                category_id: None,
                valid_from: day(10),
                valid_until: Some(day(20)),
            },
            by: 1,
            at,
        }],
        withdrawn: false,
        from_order: None,
        updated_at: at,
    };
    assert!(!a.valid_on(day(9)));
    assert!(a.valid_on(day(20)));
    assert!(!a.valid_on(day(21)));
}

#[test]
fn a_blank_action_is_of_its_kind() {
    for k in ActionKind::ALL {
        assert_eq!(OrderAction::blank(k).kind(), k);
    }
}

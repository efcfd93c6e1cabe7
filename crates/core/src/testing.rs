//! Fixtures for tests (feature `testing`): a sample item, actors of every role and a
//! way to drive a case to any state through the real transition function.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::collections::BTreeMap;

use crate::actor::{Actor, Role};
use crate::calendar::Calendar;
use crate::case::CorrectionItem;
use crate::case::{
    Action, ApplicantKind, ApplicantRef, Application, Case, CaseNumber, CaseState, Channel, Ctx,
    MaterialInput, MaterialLine, apply, receive,
};
use crate::catalog::{
    FieldKind, FieldRule, FormField, Item, ItemSpec, ItemStatus, ItemType, Material, MaterialForm,
    Medium, ProcessingType, Requirement, ResultKind, ResultSpec, ServiceObject, Stage, StageKind,
    TongbanScope,
};
use crate::region::RegionCode;

/// The department of the sample item.
pub const DEPT: i64 = 7;
/// Another department.
pub const OTHER_DEPT: i64 = 8;
/// The sample applicant.
pub const APPLICANT: i64 = 100;

/// Monday 2 November 2026, 09:00 in China.
pub fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap()
}

/// A date from `YYYY-MM-DD`.
pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The county of the sample item.
pub fn county() -> RegionCode {
    RegionCode::parse("440902").unwrap()
}

fn material(code: &str, name: &str, requirement: Requirement, rongque: bool) -> Material {
    Material {
        code: code.into(),
        name: name.into(),
        source: "申请人自备".into(),
        requirement,
        form: MaterialForm::Original,
        copies: 1,
        medium: Medium::Either,
        rongque,
        certificate_type: None,
        notes: String::new(),
    }
}

/// A 承诺件 like 公共场所卫生许可: legal 20, promised 10 working days; review 3, decide 2,
/// produce 1; site inspection as a special procedure.
pub fn promised_spec() -> ItemSpec {
    let mut licence = material("M3", "营业执照", Requirement::Optional, false);
    licence.certificate_type = Some("营业执照".into());
    ItemSpec {
        name: "公共场所卫生许可".into(),
        sub_item: String::new(),
        aliases: vec![],
        themes: vec!["企业开办".into()],
        legal_basis: vec!["《公共场所卫生管理条例》第八条".into()],
        conditions: String::new(),
        processing_type: ProcessingType::Promised,
        legal_limit_days: 20,
        promised_limit_days: 10,
        pre_review_days: 2,
        rongque_days: 5,
        breach_policy: crate::catalog::BreachPolicy::Terminate,
        fees: vec![],
        service_objects: vec![ServiceObject::Person, ServiceObject::Enterprise],
        visits: 1,
        online_depth: 4,
        tongban_scope: TongbanScope::Local,
        agent_allowed: true,
        location: "茂南区政务服务中心".into(),
        phone: "0668-2281234".into(),
        materials: vec![
            material("M1", "公共场所卫生许可申请表", Requirement::Required, false),
            material("M2", "从业人员健康合格证明", Requirement::Required, true),
            licence,
            material(
                "M4",
                "授权委托书",
                Requirement::Conditional {
                    condition: "委托他人代办的".into(),
                    when: Some(FieldRule {
                        field: "by_agent".into(),
                        equals: "true".into(),
                    }),
                },
                false,
            ),
        ],
        fields: vec![
            FormField {
                key: "business_name".into(),
                label: "单位名称".into(),
                kind: FieldKind::Text,
                required: true,
                options: vec![],
                help: String::new(),
            },
            FormField {
                key: "by_agent".into(),
                label: "是否委托代办".into(),
                kind: FieldKind::YesNo,
                required: false,
                options: vec![],
                help: String::new(),
            },
        ],
        stages: vec![
            Stage {
                kind: StageKind::Receive,
                days: 0,
                responsible: String::new(),
            },
            Stage {
                kind: StageKind::Accept,
                days: 2,
                responsible: String::new(),
            },
            Stage {
                kind: StageKind::Review,
                days: 3,
                responsible: String::new(),
            },
            Stage {
                kind: StageKind::SiteInspection,
                days: 5,
                responsible: String::new(),
            },
            Stage {
                kind: StageKind::Decide,
                days: 2,
                responsible: String::new(),
            },
            Stage {
                kind: StageKind::Produce,
                days: 1,
                responsible: String::new(),
            },
            Stage {
                kind: StageKind::Issue,
                days: 0,
                responsible: String::new(),
            },
        ],
        result: ResultSpec {
            kind: ResultKind::Certificate,
            name: "公共场所卫生许可证".into(),
        },
    }
}

/// A 即办件 (same day, decided at the window).
pub fn immediate_spec() -> ItemSpec {
    let mut s = promised_spec();
    s.name = "个体工商户名称自主申报".into();
    s.processing_type = ProcessingType::Immediate;
    s.promised_limit_days = 0;
    s.stages = vec![
        Stage {
            kind: StageKind::Receive,
            days: 0,
            responsible: String::new(),
        },
        Stage {
            kind: StageKind::Decide,
            days: 0,
            responsible: String::new(),
        },
        Stage {
            kind: StageKind::Issue,
            days: 0,
            responsible: String::new(),
        },
    ];
    s
}

/// The implementation item of a spec.
pub fn item(spec: &ItemSpec) -> Item {
    Item {
        id: 1,
        code: "TEST".into(),
        basic_code: "000000TEST".into(),
        item_type: ItemType::License,
        department_id: DEPT,
        region: county(),
        name: spec.name.clone(),
        status: ItemStatus::Active,
        published_version: Some(1),
        draft_version: None,
        updated_at: monday(),
    }
}

/// An actor of `role`, in the sample department and county.
pub fn actor(role: Role) -> Actor {
    Actor {
        account_id: 10 + role as i64,
        name: role.label().into(),
        role,
        department_id: Some(DEPT),
        region: Some(county()),
        applicant_id: (role == Role::Applicant).then_some(APPLICANT),
        immediate_departments: if role == Role::AcceptanceClerk {
            vec![DEPT]
        } else {
            vec![]
        },
        window_id: None,
    }
}

/// The sample applicant.
pub fn applicant() -> ApplicantRef {
    ApplicantRef {
        id: APPLICANT,
        kind: ApplicantKind::Person,
        name: "张三".into(),
        identifier: "11010519491231002X".into(),
        phone: "13800138000".into(),
    }
}

/// A context at `now` for `spec`.
pub fn ctx<'a>(cal: &'a Calendar, spec: &'a ItemSpec, now: DateTime<Utc>) -> Ctx<'a> {
    Ctx {
        now,
        today: crate::time::china_date(now),
        cal,
        spec,
        rongque_barred: false,
    }
}

/// A complete application for the sample item; with `rongque`, M2 is promised.
pub fn application(channel: Channel, rongque: bool) -> Application {
    let mut form = BTreeMap::new();
    form.insert("business_name".to_string(), "茂南区好味餐厅".to_string());
    Application {
        item_id: 1,
        channel,
        form,
        materials: vec![
            MaterialLine {
                code: "M1".into(),
                input: MaterialInput::Provided {
                    electronic: false,
                    files: vec![],
                },
            },
            MaterialLine {
                code: "M2".into(),
                input: if rongque {
                    MaterialInput::Rongque
                } else {
                    MaterialInput::Provided {
                        electronic: false,
                        files: vec![],
                    }
                },
            },
        ],
        rongque_due: None,
        submit: true,
        authorization: None,
        applicant: None,
    }
}

/// A case received at the window (or submitted online) on `now`.
pub fn new_case(spec: &ItemSpec, channel: Channel, rongque: bool, now: DateTime<Utc>) -> Case {
    let cal = Calendar::builtin();
    let c = ctx(&cal, spec, now);
    let by = match channel {
        Channel::Online => actor(Role::Applicant),
        Channel::Agent => actor(Role::Agent),
        Channel::Window | Channel::Post => actor(Role::AcceptanceClerk),
    };
    let number = CaseNumber::new(&county(), c.today, 1);
    let (mut case, _) = receive(
        &application(channel, rongque),
        &by,
        &c,
        &item(spec),
        1,
        applicant(),
        false,
        number,
    )
    .expect("fixture application is valid");
    case.id = 1;
    case
}

/// One itemized correction list naming M1.
pub fn correction_items() -> Vec<CorrectionItem> {
    vec![CorrectionItem {
        target: "M1".into(),
        problem: "申请表未加盖公章".into(),
    }]
}

/// A valid action of `kind` for the sample item, and the role that takes it.
pub fn sample_action(kind: crate::case::ActionKind) -> (Action, Role) {
    use crate::case::ActionKind as K;
    let provided = || MaterialInput::Provided {
        electronic: false,
        files: vec![],
    };
    match kind {
        K::Submit => (Action::Submit, Role::Applicant),
        K::Discard => (Action::Discard, Role::Applicant),
        K::PreReviewPass => (Action::PreReviewPass, Role::AcceptanceClerk),
        K::PreReviewReturn => (
            Action::PreReviewReturn {
                items: correction_items(),
            },
            Role::AcceptanceClerk,
        ),
        K::Resubmit => (
            Action::Resubmit {
                form: BTreeMap::new(),
                materials: vec![MaterialLine {
                    code: "M1".into(),
                    input: provided(),
                }],
            },
            Role::Applicant,
        ),
        K::Accept => (Action::Accept, Role::DeptReviewer),
        K::RequestCorrection => (
            Action::RequestCorrection {
                items: correction_items(),
            },
            Role::DeptReviewer,
        ),
        K::SupplyCorrection => (
            Action::SupplyCorrection {
                form: BTreeMap::new(),
                materials: vec![MaterialLine {
                    code: "M1".into(),
                    input: provided(),
                }],
            },
            Role::Applicant,
        ),
        K::Refuse => (
            Action::Refuse {
                reason: "申请事项不属于本机关职权范围".into(),
                legal_basis: "《中华人民共和国行政许可法》第三十二条第一款第（二）项".into(),
            },
            Role::DeptReviewer,
        ),
        K::Review => (
            Action::Review {
                opinion: "材料齐全，符合法定条件".into(),
                recommend_approval: true,
            },
            Role::DeptReviewer,
        ),
        K::Pause => (
            Action::Pause {
                procedure: StageKind::SiteInspection,
                reason: "需现场核查经营场所".into(),
            },
            Role::DeptReviewer,
        ),
        K::Resume => (Action::Resume, Role::DeptReviewer),
        K::Extend => (
            Action::Extend {
                days: 5,
                reason: "情况复杂".into(),
            },
            Role::DeptApprover,
        ),
        K::Approve => (
            Action::Approve {
                opinion: "同意".into(),
            },
            Role::DeptApprover,
        ),
        K::Deny => (
            Action::Deny {
                reason: "经营场所不符合卫生要求".into(),
                legal_basis: "《公共场所卫生管理条例》第八条".into(),
            },
            Role::DeptApprover,
        ),
        K::ProduceResult => (
            Action::ProduceResult {
                number: "粤卫公证字〔2026〕第0001号".into(),
                valid_until: None,
                summary: String::new(),
            },
            Role::DeptReviewer,
        ),
        K::CheckResultOk => (Action::CheckResultOk, Role::IssuanceClerk),
        K::CheckResultMismatch => (
            Action::CheckResultMismatch {
                reason: "单位名称与申请不一致".into(),
            },
            Role::IssuanceClerk,
        ),
        K::CorrectResult => (
            Action::CorrectResult {
                number: "粤卫公证字〔2026〕第0002号".into(),
                valid_until: None,
                summary: String::new(),
            },
            Role::DeptReviewer,
        ),
        K::DeliverPickup => (
            Action::DeliverPickup {
                signed_by: "张三".into(),
                signer_id_number: None,
            },
            Role::IssuanceClerk,
        ),
        K::DeliverPost => (
            Action::DeliverPost {
                carrier: "EMS".into(),
                tracking_number: "1234567890123".into(),
            },
            Role::IssuanceClerk,
        ),
        K::ConfirmReceipt => (Action::ConfirmReceipt, Role::IssuanceClerk),
        K::Archive => (Action::Archive, Role::IssuanceClerk),
        K::Withdraw => (
            Action::Withdraw {
                reason: "不再需要".into(),
            },
            Role::Applicant,
        ),
        K::FulfilCommitment => (
            Action::FulfilCommitment {
                commitment: 1,
                materials: vec![MaterialLine {
                    code: "M2".into(),
                    input: provided(),
                }],
            },
            Role::Applicant,
        ),
        K::BreachCommitment => (Action::BreachCommitment { commitment: 1 }, Role::System),
    }
}

/// Drive a case (with a 容缺 commitment on M2) to `state` through the real
/// transitions, starting on [`monday`]. Returns `None` for states not reachable that way
/// for the spec's processing type.
pub fn case_in(spec: &ItemSpec, state: CaseState) -> Option<Case> {
    use crate::case::ActionKind as K;
    use CaseState as S;
    let immediate = spec.processing_type == ProcessingType::Immediate;
    let (channel, path): (Channel, Vec<K>) = match state {
        S::Draft => {
            let cal = Calendar::builtin();
            let c = ctx(&cal, spec, monday());
            let mut app = application(Channel::Online, true);
            app.submit = false;
            let (mut case, _) = receive(
                &app,
                &actor(Role::Applicant),
                &c,
                &item(spec),
                1,
                applicant(),
                false,
                CaseNumber::new(&county(), c.today, 1),
            )
            .ok()?;
            case.id = 1;
            return Some(case);
        }
        S::Submitted => (Channel::Online, vec![]),
        S::ReturnedToApplicant => (Channel::Online, vec![K::PreReviewReturn]),
        S::Received => (Channel::Window, vec![]),
        S::CorrectionRequested => (Channel::Window, vec![K::RequestCorrection]),
        S::UnderReview if !immediate => (Channel::Window, vec![K::Accept]),
        S::Paused if !immediate => (Channel::Window, vec![K::Accept, K::Pause]),
        S::Decided if immediate => (Channel::Window, vec![K::Approve]),
        S::Decided => (Channel::Window, vec![K::Accept, K::Review, K::Approve]),
        S::ResultReady if !immediate => (
            Channel::Window,
            vec![K::Accept, K::Review, K::Approve, K::ProduceResult],
        ),
        S::ResultCorrection if !immediate => (
            Channel::Window,
            vec![
                K::Accept,
                K::Review,
                K::Approve,
                K::ProduceResult,
                K::CheckResultMismatch,
            ],
        ),
        S::ReadyToDeliver if immediate => (Channel::Window, vec![K::Approve, K::ProduceResult]),
        S::ReadyToDeliver => (
            Channel::Window,
            vec![
                K::Accept,
                K::Review,
                K::Approve,
                K::ProduceResult,
                K::CheckResultOk,
            ],
        ),
        S::InPost => (
            Channel::Window,
            vec![
                K::Accept,
                K::Review,
                K::Approve,
                K::ProduceResult,
                K::CheckResultOk,
                K::DeliverPost,
            ],
        ),
        S::Delivered => (
            Channel::Window,
            vec![
                K::Accept,
                K::Review,
                K::Approve,
                K::ProduceResult,
                K::CheckResultOk,
                K::DeliverPickup,
            ],
        ),
        S::Archived => (
            Channel::Window,
            vec![
                K::Accept,
                K::Review,
                K::Approve,
                K::ProduceResult,
                K::CheckResultOk,
                K::DeliverPickup,
                K::Archive,
            ],
        ),
        S::Refused => (Channel::Window, vec![K::Refuse]),
        S::Withdrawn => (Channel::Window, vec![K::Withdraw]),
        S::Discarded => return case_in(spec, S::Draft).and_then(|c| step(spec, c, K::Discard)),
        S::Terminated | S::UnderReview | S::Paused | S::ResultReady | S::ResultCorrection => {
            return None;
        }
    };
    let mut case = new_case(spec, channel, true, monday());
    for k in path {
        case = step(spec, case, k)?;
    }
    Some(case)
}

fn step(spec: &ItemSpec, case: Case, kind: crate::case::ActionKind) -> Option<Case> {
    let cal = Calendar::builtin();
    let (action, role) = sample_action(kind);
    let role = match (role, spec.processing_type, kind) {
        (
            _,
            ProcessingType::Immediate,
            crate::case::ActionKind::Approve | crate::case::ActionKind::ProduceResult,
        ) => Role::AcceptanceClerk,
        (r, _, _) => r,
    };
    apply(&case, &actor(role), &action, &ctx(&cal, spec, monday()))
        .ok()
        .map(|t| t.case)
}

//! 收件 — a new case: at a window, by post, online or by an agent.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::action::MaterialLine;
use super::application::{
    build_checklist, check_complete, check_form_values, check_service_object, has_rongque,
};
use super::clock::{Clock, Clocks};
use super::model::{AgentRef, ApplicantKind, ApplicantRef, Case, Event, EventData, Shared};
use super::number::CaseNumber;
use super::state::{CaseState, Channel};
use super::transition::{Ctx, cal_err, new_commitment, start_received};
use crate::actor::{Actor, Role};
use crate::catalog::{Item, StageKind};
use crate::error::{Error, FieldErrors, Result};
use crate::identity::{IdNumber, Phone};

/// The longest 容缺 period a clerk may grant, in working days.
pub const MAX_RONGQUE_DAYS: u32 = 60;

/// What a clerk, applicant or agent hands in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Application {
    /// The item.
    pub item_id: i64,
    /// Window, post, online or agent.
    pub channel: Channel,
    /// Form values.
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// Materials handed in.
    #[serde(default)]
    pub materials: Vec<MaterialLine>,
    /// 容缺: the promised date (defaults to the item's 容缺 period).
    #[serde(default)]
    pub rongque_due: Option<NaiveDate>,
    /// Online and agent applications: submit now (`true`) or keep a draft.
    #[serde(default = "yes")]
    pub submit: bool,
    /// Agent applications: the written authorization's reference (委托书编号).
    #[serde(default)]
    pub authorization: Option<String>,
    /// Window, post and agent applications: who applies, as checked against their
    /// documents. Online it is the signed-in applicant, and this must be absent.
    #[serde(default)]
    pub applicant: Option<ApplicantInput>,
}

/// The applicant as the clerk (or agent) identifies them at the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApplicantInput {
    /// Person or enterprise.
    pub kind: ApplicantKind,
    /// ID number (persons) or credit code (enterprises), as checked against the document.
    pub identifier: String,
    /// Name as on the document.
    pub name: String,
    /// Contact phone.
    pub phone: String,
    /// 法定代表人 (enterprises).
    #[serde(default)]
    pub legal_representative: Option<String>,
}

fn yes() -> bool {
    true
}

/// The application as the event log keeps it: the applicant's numbers masked.
fn redacted(app: &Application) -> EventData {
    /// The application as its event keeps it: written straight from the borrowed
    /// parts, the applicant's ID number and phone masked.
    #[derive(Serialize)]
    struct Redacted<'a> {
        item_id: i64,
        channel: Channel,
        form: &'a BTreeMap<String, String>,
        materials: &'a [MaterialLine],
        rongque_due: Option<NaiveDate>,
        submit: bool,
        authorization: &'a Option<String>,
        applicant: Option<RedactedApplicant<'a>>,
    }
    #[derive(Serialize)]
    struct RedactedApplicant<'a> {
        kind: ApplicantKind,
        identifier: std::borrow::Cow<'a, str>,
        name: &'a str,
        phone: String,
        legal_representative: &'a Option<String>,
    }
    EventData::of(&Redacted {
        item_id: app.item_id,
        channel: app.channel,
        form: &app.form,
        materials: &app.materials,
        rongque_due: app.rongque_due,
        submit: app.submit,
        authorization: &app.authorization,
        applicant: app.applicant.as_ref().map(|a| RedactedApplicant {
            kind: a.kind,
            identifier: match a.kind {
                ApplicantKind::Person => IdNumber::parse(&a.identifier)
                    .map(|i| i.mask())
                    .unwrap_or_default()
                    .into(),
                ApplicantKind::Enterprise => a.identifier.as_str().into(),
            },
            name: &a.name,
            phone: Phone::parse(&a.phone).map(|p| p.mask()).unwrap_or_default(),
            legal_representative: &a.legal_representative,
        }),
    })
}

/// Who may file through which channel, for which item.
fn check_filer(
    actor: &Actor,
    item: &Item,
    channel: Channel,
    applicant: &ApplicantRef,
) -> Result<()> {
    match channel {
        Channel::Window | Channel::Post => {
            actor.require(&[Role::AcceptanceClerk])?;
            actor.require_region(&item.region)
        }
        Channel::Online => {
            actor.require(&[Role::Applicant])?;
            if actor.applicant_id == Some(applicant.id) {
                Ok(())
            } else {
                Err(Error::forbidden("只能以本人（本单位）名义网上申请"))
            }
        }
        Channel::Agent => {
            actor.require(&[Role::Agent])?;
            match &actor.region {
                Some(r) if item.region.contains(r) || r.contains(&item.region) => Ok(()),
                _ => Err(Error::forbidden("代办员只能代办本辖区事项")),
            }
        }
    }
}

/// Create a case from an application. `number` comes from the store's daily serial;
/// `rongque_barred` is the applicant's 失信 mark. Returns the case (id 0, to be
/// assigned by the store) and its first event.
#[allow(clippy::too_many_arguments)]
pub fn receive(
    app: &Application,
    actor: &Actor,
    ctx: &Ctx,
    item: &Item,
    item_version: u32,
    applicant: ApplicantRef,
    rongque_barred: bool,
    number: CaseNumber,
) -> Result<(Case, Event)> {
    check_filer(actor, item, app.channel, &applicant)?;
    if let Some(why) = item.closed_reason() {
        return Err(Error::InvalidTransition {
            state: item.status.label().into(),
            action: "收件".into(),
            reason: why.into(),
        });
    }
    let spec = ctx.spec;
    let mut e = FieldErrors::new();
    let draft = matches!(app.channel, Channel::Online | Channel::Agent) && !app.submit;
    check_service_object(spec, applicant.kind, &mut e);
    let form = check_form_values(spec, &app.form, !draft, &mut e);
    let materials = build_checklist(spec, &form, &app.materials, &mut e);
    if !draft {
        check_complete(&materials, &mut e);
    }
    let agent = if app.channel == Channel::Agent {
        if !spec.agent_allowed {
            e.add("channel", "该事项不支持代办");
        }
        let auth = app.authorization.as_deref().map(str::trim).unwrap_or("");
        if auth.is_empty() || auth.chars().count() > 100 {
            e.add("authorization", "代办须登记授权委托书编号（不超过 100 字）");
        }
        Some(AgentRef {
            account_id: actor.account_id,
            name: actor.name.clone(),
            authorization: auth.to_string(),
        })
    } else {
        None
    };

    let mut commitments = Vec::new();
    if has_rongque(&materials) {
        if rongque_barred {
            e.add(
                "materials",
                "申请人因容缺承诺失信被暂停容缺受理，须补齐全部材料",
            );
        }
        let latest = ctx
            .cal
            .deadline(ctx.today, MAX_RONGQUE_DAYS)
            .map_err(cal_err)?
            .deadline;
        match app.rongque_due {
            Some(d) if d <= ctx.today => e.add("rongque_due", "承诺补交日期须晚于今天"),
            Some(d) if d > latest => e.add(
                "rongque_due",
                format!("承诺补交日期不能晚于 {latest}（{MAX_RONGQUE_DAYS} 个工作日）"),
            ),
            _ => {}
        }
        // A draft promises nothing yet: its commitment is signed when it is submitted.
        if !draft {
            commitments.push(new_commitment(&materials, ctx, app.rongque_due)?);
        }
    } else if app.rongque_due.is_some() {
        e.add("rongque_due", "没有容缺材料，无需承诺补交日期");
    }
    e.into_result()?;

    let state = match app.channel {
        Channel::Window | Channel::Post => CaseState::Received,
        Channel::Online | Channel::Agent if draft => CaseState::Draft,
        Channel::Online | Channel::Agent => CaseState::Submitted,
    };
    let mut case = Case {
        id: 0,
        number,
        item_id: item.id,
        item_version,
        item_name: spec.name.clone(),
        processing_type: spec.processing_type,
        department_id: item.department_id,
        region: item.region.clone(),
        applicant,
        agent,
        channel: app.channel,
        state,
        created_by: actor.account_id,
        window_id: actor.window_id,
        form: Shared::new(form),
        materials: Shared::new(materials),
        notices: vec![],
        commitments,
        clocks: Clocks::default(),
        stage: None,
        pause: None,
        extensions: vec![],
        held: false,
        review: None,
        decision: None,
        refusal: None,
        result: None,
        delivery: None,
        closing_reason: None,
        created_at: ctx.now,
        received_at: None,
        accepted_at: None,
        decided_at: None,
        closed_at: None,
        updated_at: ctx.now,
        version: 1,
    };
    match state {
        CaseState::Received => start_received(&mut case, ctx)?,
        CaseState::Submitted => {
            case.clocks.pre_review =
                Some(Clock::start(ctx.cal, ctx.today, spec.pre_review_days).map_err(cal_err)?);
            case.stage = Some(StageKind::Receive);
        }
        _ => {}
    }
    let event = Event {
        seq: 1,
        at: ctx.now,
        actor_id: actor.account_id,
        actor_name: actor.name.clone(),
        actor_role: actor.role,
        action: "receive".into(),
        from: None,
        to: state,
        reason: None,
        data: redacted(app),
    };
    Ok((case, event))
}

//! 一件事一次办: editing and publishing bundles, the scenario guide, applying once for
//! every chosen item (a child case per item and department), the bundle's one progress
//! view with one combined correction notice and the unified issuance status.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Env;
use super::cases::receive_case;
use crate::actor::{Actor, Role};
use crate::bundle::{
    Bundle, BundleCase, BundleChild, BundleSpec, BundleVersion, Chosen, Merged, choose, merge,
};
use crate::case::{
    Action, ActionKind, ApplicantInput, Application, CaseState, Channel, CorrectionItem,
    MaterialInput, MaterialLine, Outcome, can_see,
};
use crate::catalog::{ItemSpec, ItemStatus, VersionState};
use crate::error::{Error, FieldErrors, Result};
use crate::region::RegionCode;
use crate::store::Tx;

const EDITORS: &[Role] = &[Role::CatalogAdmin, Role::SysAdmin];

/// A bundle as given to create one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewBundle {
    /// Code, e.g. `440902-YJS-001`.
    pub code: String,
    /// The region it serves.
    pub region: String,
    /// The first draft.
    pub spec: BundleSpec,
}

/// A bundle with the problems that keep its draft from being published.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BundleView {
    /// The bundle.
    pub bundle: Bundle,
    /// Fields two items define differently, over all its items (resolve before
    /// publishing).
    pub conflicts: Vec<crate::bundle::FieldConflict>,
}

/// The published spec of every item of a bundle, checked: the items exist, are
/// published and active, lie in the bundle's region; 多证合一 groups are of one
/// department.
fn item_specs(
    tx: &mut dyn Tx,
    region: &RegionCode,
    spec: &BundleSpec,
) -> Result<BTreeMap<i64, (crate::catalog::Item, ItemSpec)>> {
    let mut e = FieldErrors::new();
    let mut out = BTreeMap::new();
    for (i, entry) in spec.entries.iter().enumerate() {
        let path = format!("spec.entries[{i}].item_id");
        match tx.item(entry.item_id)? {
            None => e.add(path, "没有这个事项"),
            Some(item) if !region.contains(&item.region) => e.add(path, "事项不在本一件事的区划内"),
            Some(item) if item.status != ItemStatus::Active => e.add(path, "事项已暂停或取消"),
            Some(item) => match item.published_version {
                None => e.add(path, "事项尚未发布"),
                Some(v) => {
                    let version = tx.item_version(item.id, v)?.ok_or(Error::Store(format!(
                        "item {} version {v} missing",
                        item.id
                    )))?;
                    out.insert(item.id, (item, version.spec));
                }
            },
        }
    }
    for (i, cc) in spec.combined_certificates.iter().enumerate() {
        let depts: BTreeSet<i64> = cc
            .item_ids
            .iter()
            .filter_map(|id| out.get(id).map(|(it, _)| it.department_id))
            .collect();
        if depts.len() > 1 {
            e.add(
                format!("spec.combined_certificates[{i}].item_ids"),
                "多证合一的事项须属于同一部门",
            );
        }
    }
    e.into_result()?;
    Ok(out)
}

fn checked(spec: &BundleSpec) -> Result<()> {
    if let Err(fe) = spec.validate() {
        let mut e = FieldErrors::new();
        e.nest("spec", fe);
        return e.into_result();
    }
    Ok(())
}

/// The merge of every item of the bundle (every answer taken), for its conflicts.
fn conflicts_of(
    spec: &BundleSpec,
    specs: &BTreeMap<i64, (crate::catalog::Item, ItemSpec)>,
) -> Vec<crate::bundle::FieldConflict> {
    let all: Vec<(Chosen, &ItemSpec)> = spec
        .entries
        .iter()
        .filter_map(|x| {
            specs.get(&x.item_id).map(|(_, s)| {
                (
                    Chosen {
                        item_id: x.item_id,
                        skipped_materials: vec![],
                        after: vec![],
                    },
                    s,
                )
            })
        })
        .collect();
    merge(&all).conflicts
}

/// Create a bundle with a first draft.
pub fn create_bundle(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    n: &NewBundle,
) -> Result<BundleView> {
    actor.require(EDITORS)?;
    let region = RegionCode::parse(&n.region).map_err(|e| Error::field("region", e.to_string()))?;
    actor.require_region(&region)?;
    let code = n.code.trim().to_string();
    if code.is_empty() || code.len() > 40 {
        return Err(Error::field("code", "请填写一件事编码（不超过 40 个字符）"));
    }
    checked(&n.spec)?;
    let specs = item_specs(tx, &region, &n.spec)?;
    let mut b = Bundle {
        id: 0,
        code,
        region,
        name: n.spec.name.trim().to_string(),
        status: ItemStatus::Active,
        versions: vec![BundleVersion {
            version: 1,
            state: VersionState::Draft,
            spec: n.spec.clone(),
            published_at: None,
        }],
        updated_at: env.now,
    };
    b.id = tx.insert_bundle(&b)?;
    Ok(BundleView {
        conflicts: conflicts_of(&n.spec, &specs),
        bundle: b,
    })
}

fn editable(tx: &mut dyn Tx, actor: &Actor, id: i64) -> Result<Bundle> {
    actor.require(EDITORS)?;
    let b = tx.bundle(id)?.ok_or(Error::NotFound {
        entity: "一件事"
    })?;
    actor.require_region(&b.region)?;
    Ok(b)
}

/// Save the draft (a new draft after the published version, or the draft replaced).
pub fn save_bundle_draft(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    id: i64,
    spec: &BundleSpec,
) -> Result<BundleView> {
    let mut b = editable(tx, actor, id)?;
    checked(spec)?;
    let specs = item_specs(tx, &b.region, spec)?;
    let next = b.versions.last().map(|v| v.version + 1).unwrap_or(1);
    match b.versions.last_mut() {
        Some(v) if v.state == VersionState::Draft => v.spec = spec.clone(),
        _ => b.versions.push(BundleVersion {
            version: next,
            state: VersionState::Draft,
            spec: spec.clone(),
            published_at: None,
        }),
    }
    b.name = spec.name.trim().to_string();
    b.updated_at = env.now;
    tx.update_bundle(&b)?;
    Ok(BundleView {
        conflicts: conflicts_of(spec, &specs),
        bundle: b,
    })
}

/// Publish the draft: refused while two items define a field differently.
pub fn publish_bundle(tx: &mut dyn Tx, actor: &Actor, env: &Env, id: i64) -> Result<BundleView> {
    let mut b = editable(tx, actor, id)?;
    let Some(draft) = b.draft().cloned() else {
        return Err(Error::Conflict("没有待发布的草稿".into()));
    };
    let specs = item_specs(tx, &b.region, &draft.spec)?;
    let conflicts = conflicts_of(&draft.spec, &specs);
    if !conflicts.is_empty() {
        let mut e = FieldErrors::new();
        for c in &conflicts {
            let name = |id: i64| {
                specs
                    .get(&id)
                    .map(|(i, _)| i.name.clone())
                    .unwrap_or_default()
            };
            e.add(
                format!("spec.fields.{}", c.key),
                format!(
                    "表单项“{}”在“{}”与“{}”中定义不同：{}，统一后才能发布",
                    c.key,
                    name(c.first_item),
                    name(c.other_item),
                    c.reason
                ),
            );
        }
        return e.into_result().map(|_| BundleView {
            bundle: b.clone(),
            conflicts: vec![],
        });
    }
    for v in &mut b.versions {
        if v.state == VersionState::Published {
            v.state = VersionState::Superseded;
        }
        if v.version == draft.version {
            v.state = VersionState::Published;
            v.published_at = Some(env.now);
        }
    }
    b.updated_at = env.now;
    tx.update_bundle(&b)?;
    Ok(BundleView {
        bundle: b,
        conflicts: vec![],
    })
}

/// Whether `actor` may see `b`: the public sees active, published bundles; editors
/// every bundle in their region.
fn visible(b: &Bundle, actor: Option<&Actor>) -> bool {
    match actor.filter(|a| EDITORS.contains(&a.role)) {
        Some(a) => a.region_contains(&b.region),
        None => b.status == ItemStatus::Active && b.published().is_some(),
    }
}

/// Bundles: the public sees active, published ones; editors all in their region.
pub fn list_bundles(tx: &mut dyn Tx, actor: Option<&Actor>) -> Result<Vec<Bundle>> {
    let editor = actor.filter(|a| EDITORS.contains(&a.role));
    let prefix = editor.and_then(|a| a.region.as_ref().map(|r| r.prefix().to_string()));
    Ok(tx
        .bundles(prefix.as_deref())?
        .into_iter()
        .filter(|b| visible(b, actor))
        .collect())
}

/// One bundle, if `actor` may see it.
pub fn get_bundle(tx: &mut dyn Tx, actor: Option<&Actor>, id: i64) -> Result<Bundle> {
    tx.bundle(id)?
        .filter(|b| visible(b, actor))
        .ok_or(Error::NotFound {
            entity: "一件事"
        })
}

/// One item as the guide lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GuideItem {
    /// The item.
    pub item_id: i64,
    /// Its name.
    pub name: String,
    /// Its department.
    pub department_id: i64,
    /// Items (of this guide) it waits for.
    pub after: Vec<i64>,
    /// Its promised limit in working days (0: 即办).
    pub promised_limit_days: u32,
}

/// What the scenario guide gives this applicant: the items, one form, one material set.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Guide {
    /// The bundle.
    pub bundle_id: i64,
    /// Its published version.
    pub version: u32,
    /// Its name.
    pub name: String,
    /// The items that apply.
    pub items: Vec<GuideItem>,
    /// One form, one material set.
    pub merged: Merged,
}

fn published(tx: &mut dyn Tx, id: i64) -> Result<(Bundle, BundleVersion)> {
    let b = tx.bundle(id)?.ok_or(Error::NotFound {
        entity: "一件事"
    })?;
    if b.status != ItemStatus::Active {
        return Err(Error::Conflict("该一件事已暂停办理".into()));
    }
    let v = b.published().cloned().ok_or(Error::NotFound {
        entity: "一件事"
    })?;
    Ok((b, v))
}

/// The scenario guide (场景化办事指南) for these answers.
pub fn guide(tx: &mut dyn Tx, id: i64, answers: &BTreeMap<String, String>) -> Result<Guide> {
    let (b, v) = published(tx, id)?;
    let chosen = choose(&v.spec, answers)?;
    let specs = item_specs(tx, &b.region, &v.spec)?;
    let pairs: Vec<(Chosen, &ItemSpec)> = chosen
        .iter()
        .filter_map(|c| specs.get(&c.item_id).map(|(_, s)| (c.clone(), s)))
        .collect();
    Ok(Guide {
        bundle_id: b.id,
        version: v.version,
        name: v.spec.name.clone(),
        items: chosen
            .iter()
            .filter_map(|c| {
                specs.get(&c.item_id).map(|(it, s)| GuideItem {
                    item_id: c.item_id,
                    name: it.name.clone(),
                    department_id: it.department_id,
                    after: c.after.clone(),
                    promised_limit_days: s.promised_limit_days,
                })
            })
            .collect(),
        merged: merge(&pairs),
    })
}

/// One material of the one material set, as handed in.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct BundleMaterialLine {
    /// The material's name, as the guide lists it.
    pub name: String,
    /// How it is handed in (once, for every item that needs it).
    #[serde(flatten)]
    pub input: MaterialInput,
}

/// An application for a bundle: the answers, one form, one material set.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct BundleApplication {
    /// The bundle.
    pub bundle_id: i64,
    /// The scenario answers.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    /// Window, post, online or agent.
    pub channel: Channel,
    /// The one form.
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// The one material set.
    #[serde(default)]
    pub materials: Vec<BundleMaterialLine>,
    /// 容缺 due date (defaults per item).
    #[serde(default)]
    pub rongque_due: Option<chrono::NaiveDate>,
    /// Window, post and agent: who applies.
    #[serde(default)]
    pub applicant: Option<ApplicantInput>,
    /// Agent: the authorization's reference.
    #[serde(default)]
    pub authorization: Option<String>,
}

/// Apply once: a child case per chosen item, received in this one transaction (all
/// or nothing). Errors name the one form's fields and materials.
pub fn apply_bundle(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    app: &BundleApplication,
) -> Result<BundleCase> {
    let g = guide(tx, app.bundle_id, &app.answers)?;
    let mut e = FieldErrors::new();
    for (i, line) in app.materials.iter().enumerate() {
        if !g
            .merged
            .materials
            .iter()
            .any(|m| m.name == line.name.trim())
        {
            e.add(format!("materials[{i}].name"), "不是本次申请需要的材料");
        }
    }
    for k in app.form.keys() {
        if !g.merged.fields.iter().any(|f| &f.field.key == k) {
            e.add(format!("form.{k}"), "不是本次申请表中的项目");
        }
    }
    e.into_result()?;
    let mut children = Vec::new();
    let mut applicant_id = None;
    for item in &g.items {
        let keys: BTreeSet<&String> = g
            .merged
            .fields
            .iter()
            .filter(|f| f.items.contains(&item.item_id))
            .map(|f| &f.field.key)
            .collect();
        let materials = g
            .merged
            .materials
            .iter()
            .flat_map(|m| {
                let line = app.materials.iter().find(|l| l.name.trim() == m.name);
                m.sources
                    .iter()
                    .filter(|s| s.item_id == item.item_id)
                    .filter_map(move |s| {
                        line.map(|l| MaterialLine {
                            code: s.code.clone(),
                            input: l.input.clone(),
                        })
                    })
            })
            .collect();
        let child_app = Application {
            item_id: item.item_id,
            channel: app.channel,
            form: app
                .form
                .iter()
                .filter(|(k, _)| keys.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            materials,
            rongque_due: app.rongque_due,
            submit: true,
            authorization: app.authorization.clone(),
            applicant: app.applicant.clone(),
        };
        // A child's field errors are the one form's: `form.x` and `materials[...]`
        // name what the applicant filled in once.
        let c = receive_case(tx, actor, env, &child_app).map_err(|err| match err {
            Error::Validation(fe) => {
                let mut out = FieldErrors::new();
                for (k, v) in fe.fields() {
                    out.add(k.clone(), format!("{v}（{}）", item.name));
                }
                Error::Validation(out)
            }
            other => other,
        })?;
        applicant_id = Some(c.applicant.id);
        children.push(BundleChild {
            item_id: item.item_id,
            case_id: c.id,
            after: item.after.clone(),
        });
    }
    let applicant_id =
        applicant_id.ok_or(Error::field("answers", "按所选情形没有需要办理的事项"))?;
    let mut bc = BundleCase {
        id: 0,
        bundle_id: g.bundle_id,
        bundle_version: g.version,
        name: g.name,
        applicant_id,
        answers: app.answers.clone(),
        children,
        inspections: vec![],
        created_at: env.now,
    };
    bc.id = tx.insert_bundle_case(&bc)?;
    Ok(bc)
}

/// One child as the bundle's progress view shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChildView {
    /// The case (only when the viewer may open it).
    pub case_id: Option<i64>,
    /// 办件编号.
    pub number: String,
    /// The item.
    pub item_name: String,
    /// The department.
    pub department_id: i64,
    /// Where it is.
    pub state: CaseState,
    /// In Chinese.
    pub state_label: String,
    /// Its current deadline.
    pub due: Option<chrono::NaiveDate>,
    /// Items it waits for before its decision.
    pub after: Vec<i64>,
}

/// A line of the combined correction notice: which item asks, what.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CombinedCorrection {
    /// The child case.
    pub case_id: i64,
    /// The item asking.
    pub item_name: String,
    /// The material's name (or the form field's key) the line is about.
    pub target_label: String,
    /// What to fix.
    pub item: CorrectionItem,
}

/// The unified issuance (统一出件): ready when every child is decided.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Issuance {
    /// Every child is decided (or ended): results go out together.
    pub ready: bool,
    /// Approved items.
    pub approved: Vec<String>,
    /// Items not approved, with why (不予许可, 不予受理, withdrawn).
    pub not_approved: Vec<(String, String)>,
    /// Items still being handled.
    pub pending: Vec<String>,
}

/// The bundle's one progress view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BundleCaseView {
    /// The bundle case.
    pub bundle_case: BundleCase,
    /// Its children.
    pub children: Vec<ChildView>,
    /// Everything the children ask the applicant to correct, in one notice.
    pub corrections: Vec<CombinedCorrection>,
    /// Unified issuance.
    pub issuance: Issuance,
}

fn decided(s: CaseState) -> bool {
    matches!(
        s,
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
            | CaseState::Discarded
    )
}

/// Read a bundle case: for whoever may see at least one of its children (the others
/// show as item and state only).
pub fn bundle_case_view(tx: &mut dyn Tx, actor: &Actor, id: i64) -> Result<BundleCaseView> {
    let bc = tx.bundle_case(id)?.ok_or(Error::NotFound {
        entity: "一件事办件",
    })?;
    let mut children = Vec::new();
    let mut corrections = Vec::new();
    let mut issuance = Issuance {
        ready: true,
        approved: vec![],
        not_approved: vec![],
        pending: vec![],
    };
    let mut any_visible = false;
    for ch in &bc.children {
        let c = tx
            .case(ch.case_id)?
            .ok_or(Error::Store(format!("child case {} missing", ch.case_id)))?;
        let visible = can_see(actor, &c);
        any_visible |= visible;
        if visible
            && matches!(
                c.state,
                CaseState::CorrectionRequested | CaseState::ReturnedToApplicant
            )
            && let Some(n) = c.notices.last()
        {
            for it in &n.items {
                corrections.push(CombinedCorrection {
                    case_id: c.id,
                    item_name: c.item_name.clone(),
                    target_label: c
                        .materials
                        .iter()
                        .find(|m| m.code == it.target)
                        .map(|m| m.name.clone())
                        .unwrap_or_else(|| it.target.trim_start_matches("form.").to_string()),
                    item: it.clone(),
                });
            }
        }
        if !decided(c.state) {
            issuance.ready = false;
            issuance.pending.push(c.item_name.clone());
        } else {
            match (&c.decision, &c.refusal, c.state) {
                (Some(d), _, _) if d.outcome == Outcome::Approved => {
                    issuance.approved.push(c.item_name.clone())
                }
                (Some(d), _, _) => issuance
                    .not_approved
                    .push((c.item_name.clone(), format!("不予许可：{}", d.reason))),
                (None, Some(r), _) => issuance
                    .not_approved
                    .push((c.item_name.clone(), format!("不予受理：{}", r.reason))),
                (None, None, s) => issuance
                    .not_approved
                    .push((c.item_name.clone(), s.label().to_string())),
            }
        }
        children.push(ChildView {
            case_id: visible.then_some(c.id),
            number: c.number.as_str().to_string(),
            item_name: c.item_name.clone(),
            department_id: c.department_id,
            state: c.state,
            state_label: c.state.label().to_string(),
            due: c.due(),
            after: ch.after.clone(),
        });
    }
    if !any_visible {
        return Err(Error::NotFound {
            entity: "一件事办件",
        });
    }
    Ok(BundleCaseView {
        bundle_case: bc,
        children,
        corrections,
        issuance,
    })
}

/// The rules a bundle adds to its children's actions: a child that needs another
/// item's result is decided only after that item is approved; results go out together
/// (no child is delivered before every child is decided). Called by `act`.
pub fn check_bundle_rules(tx: &mut dyn Tx, case_id: i64, action: &Action) -> Result<()> {
    let kind = action.kind();
    if !matches!(
        kind,
        ActionKind::Approve
            | ActionKind::DeliverPickup
            | ActionKind::DeliverPost
            | ActionKind::ProduceResult
    ) {
        return Ok(());
    }
    let Some(bid) = tx.bundle_case_of(case_id)? else {
        return Ok(());
    };
    let bc = tx
        .bundle_case(bid)?
        .ok_or(Error::Store(format!("bundle case {bid} missing")))?;
    let me = bc
        .children
        .iter()
        .find(|c| c.case_id == case_id)
        .ok_or(Error::Store("child not in its bundle".into()))?;
    if let Action::ProduceResult { number, .. } = action {
        // 多证合一: one certificate, one number, for every item of the group.
        for sib in combined_siblings(tx, &bc, me.item_id)? {
            let other = tx
                .case(sib)?
                .ok_or(Error::Store("sibling missing".into()))?;
            if let Some(r) = &other.result
                && r.number != number.trim()
            {
                return Err(Error::field(
                    "number",
                    format!(
                        "多证合一：与“{}”共用一张证照，证号须为 {}",
                        other.item_name, r.number
                    ),
                ));
            }
        }
        return Ok(());
    }
    if kind == ActionKind::Approve {
        for dep in &me.after {
            if let Some(d) = bc.children.iter().find(|c| c.item_id == *dep) {
                let other = tx
                    .case(d.case_id)?
                    .ok_or(Error::Store("sibling missing".into()))?;
                let approved = other
                    .decision
                    .as_ref()
                    .is_some_and(|x| x.outcome == Outcome::Approved);
                if !approved {
                    return Err(Error::Conflict(format!(
                        "须待“{}”准予后才能决定（一件事办理顺序）",
                        other.item_name
                    )));
                }
            }
        }
        return Ok(());
    }
    for sib in bc.children.iter().filter(|c| c.case_id != case_id) {
        let other = tx
            .case(sib.case_id)?
            .ok_or(Error::Store("sibling missing".into()))?;
        if !decided(other.state) {
            return Err(Error::Conflict(format!(
                "一件事统一出件：“{}”尚未办结，结果须一并送达",
                other.item_name
            )));
        }
    }
    Ok(())
}

/// Answer the combined correction notice at once: one `SupplyCorrection` (or
/// `Resubmit`) per child that asked, all in this one transaction — every child is
/// answered, or none.
pub fn answer_corrections(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    bundle_case_id: i64,
    answers: &[(i64, Action)],
) -> Result<Vec<crate::case::Case>> {
    let bc = tx.bundle_case(bundle_case_id)?.ok_or(Error::NotFound {
        entity: "一件事办件",
    })?;
    if answers.is_empty() {
        return Err(Error::field("answers", "没有需要补正的事项"));
    }
    let mut out = Vec::new();
    for (case_id, action) in answers {
        if !bc.children.iter().any(|c| c.case_id == *case_id) {
            return Err(Error::NotFound { entity: "办件" });
        }
        if !matches!(
            action.kind(),
            ActionKind::SupplyCorrection | ActionKind::Resubmit
        ) {
            return Err(Error::field("action", "只能提交补正"));
        }
        out.push(std::sync::Arc::unwrap_or_clone(super::cases::act(
            tx, actor, env, *case_id, action, None,
        )?));
    }
    Ok(out)
}

/// The problems of a bundle's content without saving it: the fields its items define
/// differently (an invalid content is an error, as saving would report it).
pub fn bundle_conflicts(
    tx: &mut dyn Tx,
    actor: &Actor,
    id: i64,
    spec: &BundleSpec,
) -> Result<Vec<crate::bundle::FieldConflict>> {
    let b = editable(tx, actor, id)?;
    checked(spec)?;
    let specs = item_specs(tx, &b.region, spec)?;
    Ok(conflicts_of(spec, &specs))
}

/// The child cases of `bc` that share a combined certificate (多证合一) with `item_id`.
fn combined_siblings(tx: &mut dyn Tx, bc: &BundleCase, item_id: i64) -> Result<Vec<i64>> {
    let Some(b) = tx.bundle(bc.bundle_id)? else {
        return Ok(vec![]);
    };
    let Some(v) = b.versions.iter().find(|v| v.version == bc.bundle_version) else {
        return Ok(vec![]);
    };
    Ok(v.spec
        .combined_certificates
        .iter()
        .filter(|g| g.item_ids.contains(&item_id))
        .flat_map(|g| g.item_ids.iter())
        .filter(|i| **i != item_id)
        .filter_map(|i| {
            bc.children
                .iter()
                .find(|c| c.item_id == *i)
                .map(|c| c.case_id)
        })
        .collect())
}

/// What a bundle does after a child's action: 多证合一 — the result recorded for one
/// item of a combined group is recorded, with the same number, for every other item of
/// the group already approved (in the same transaction). Called by `act`.
pub fn after_bundle_action(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    case_id: i64,
    action: &Action,
) -> Result<()> {
    let Action::ProduceResult {
        number,
        valid_until,
        ..
    } = action
    else {
        return Ok(());
    };
    let Some(bid) = tx.bundle_case_of(case_id)? else {
        return Ok(());
    };
    let bc = tx
        .bundle_case(bid)?
        .ok_or(Error::Store(format!("bundle case {bid} missing")))?;
    let Some(me) = bc.children.iter().find(|c| c.case_id == case_id) else {
        return Ok(());
    };
    let name = tx
        .bundle(bc.bundle_id)?
        .and_then(|b| {
            b.versions
                .into_iter()
                .find(|v| v.version == bc.bundle_version)
                .and_then(|v| {
                    v.spec
                        .combined_certificates
                        .into_iter()
                        .find(|g| g.item_ids.contains(&me.item_id))
                        .map(|g| g.name)
                })
        })
        .unwrap_or_default();
    for sib in combined_siblings(tx, &bc, me.item_id)? {
        let other = tx
            .case(sib)?
            .ok_or(Error::Store("sibling missing".into()))?;
        let approved = other
            .decision
            .as_ref()
            .is_some_and(|d| d.outcome == Outcome::Approved);
        if other.state == CaseState::Decided && approved && other.result.is_none() {
            super::cases::act_alone(
                tx,
                actor,
                env,
                sib,
                &Action::ProduceResult {
                    number: number.clone(),
                    valid_until: *valid_until,
                    summary: format!("多证合一：{name}"),
                },
                None,
            )?;
        }
    }
    Ok(())
}

/// A joint site inspection as asked for.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JointInspectionRequest {
    /// The day of the visit (today or later).
    pub date: chrono::NaiveDate,
    /// Where to meet.
    pub place: String,
    /// The child cases to inspect together (at least two; each under review, its
    /// item's process including 现场踏勘).
    pub case_ids: Vec<i64>,
}

fn pause_for(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    case_id: i64,
    j: &crate::bundle::JointInspection,
) -> Result<()> {
    super::cases::act_alone(
        tx,
        actor,
        env,
        case_id,
        &Action::Pause {
            procedure: crate::catalog::StageKind::SiteInspection,
            reason: format!("联合踏勘（第 {} 次）：{} {}", j.seq, j.date, j.place),
        },
        None,
    )?;
    Ok(())
}

/// Schedule a joint site inspection for several children: the scheduler's own
/// department's children are paused for it now; the other departments are invited.
pub fn schedule_joint_inspection(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    bundle_case_id: i64,
    r: &JointInspectionRequest,
) -> Result<BundleCase> {
    actor.require(&[Role::DeptReviewer, Role::DeptApprover])?;
    let mut bc = tx.bundle_case(bundle_case_id)?.ok_or(Error::NotFound {
        entity: "一件事办件",
    })?;
    let mut e = FieldErrors::new();
    if r.date < env.today() {
        e.add("date", "踏勘日期不能早于今天");
    }
    if r.place.trim().is_empty() {
        e.add("place", "请填写踏勘地点");
    }
    let distinct: BTreeSet<i64> = r.case_ids.iter().copied().collect();
    if distinct.len() < 2 || distinct.len() != r.case_ids.len() {
        e.add("case_ids", "联合踏勘至少包含两个不同的事项");
    }
    let mut mine = Vec::new();
    for (i, id) in r.case_ids.iter().enumerate() {
        if !bc.children.iter().any(|c| c.case_id == *id) {
            e.add(format!("case_ids[{i}]"), "不是本一件事的事项");
            continue;
        }
        let c = tx.case(*id)?.ok_or(Error::Store("child missing".into()))?;
        if c.state != CaseState::UnderReview {
            e.add(
                format!("case_ids[{i}]"),
                format!("“{}”不在审查中", c.item_name),
            );
        }
        let spec = tx
            .item_version(c.item_id, c.item_version)?
            .ok_or(Error::Store("item version missing".into()))?
            .spec;
        if !spec
            .stages
            .iter()
            .any(|s| s.kind == crate::catalog::StageKind::SiteInspection)
        {
            e.add(
                format!("case_ids[{i}]"),
                format!("“{}”的办理流程没有现场踏勘", c.item_name),
            );
        }
        if actor.in_department(c.department_id) {
            mine.push(*id);
        }
    }
    e.into_result()?;
    if mine.is_empty() {
        return Err(Error::forbidden("联合踏勘须由参与事项的部门安排"));
    }
    let j = crate::bundle::JointInspection {
        seq: bc.inspections.len() as u32 + 1,
        date: r.date,
        place: r.place.trim().to_string(),
        case_ids: r.case_ids.clone(),
        joined: mine.clone(),
        scheduled_by: actor.name.clone(),
    };
    for id in &mine {
        pause_for(tx, actor, env, *id, &j)?;
    }
    bc.inspections.push(j);
    tx.update_bundle_case(&bc)?;
    Ok(bc)
}

/// Join a scheduled joint inspection: the actor's department's invited children are
/// paused for the same visit.
pub fn join_joint_inspection(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    bundle_case_id: i64,
    seq: u32,
) -> Result<BundleCase> {
    actor.require(&[Role::DeptReviewer, Role::DeptApprover])?;
    let mut bc = tx.bundle_case(bundle_case_id)?.ok_or(Error::NotFound {
        entity: "一件事办件",
    })?;
    let Some(j) = bc.inspections.iter().find(|j| j.seq == seq).cloned() else {
        return Err(Error::NotFound {
            entity: "联合踏勘"
        });
    };
    let mut joined = Vec::new();
    for id in j.case_ids.iter().filter(|id| !j.joined.contains(id)) {
        let c = tx.case(*id)?.ok_or(Error::Store("child missing".into()))?;
        if actor.in_department(c.department_id) {
            pause_for(tx, actor, env, *id, &j)?;
            joined.push(*id);
        }
    }
    if joined.is_empty() {
        return Err(Error::Conflict("本部门没有待加入此次联合踏勘的事项".into()));
    }
    if let Some(x) = bc.inspections.iter_mut().find(|x| x.seq == seq) {
        x.joined.extend(joined);
    }
    tx.update_bundle_case(&bc)?;
    Ok(bc)
}

//! 一件事一次办 — life-event bundles (DOMAIN §6, seed 004): a bundle groups the
//! implementation items one life event needs ("开办餐馆", "新生儿出生", "二手房买卖").
//! A scenario questionnaire decides which items, and which of their materials, apply to
//! this applicant ([`choose`]); the chosen items' forms and materials are merged into
//! one form and one material set ([`merge`]), each field asked once and each material
//! asked once.
//!
//! Everything here is pure: the item specs come in, the answer goes out.

pub mod merge;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{FieldErrors, Result};

pub use merge::{FieldConflict, MaterialSource, Merged, MergedField, MergedMaterial, merge};

/// One question of the scenario guide (情形选择), e.g. "是否销售预包装食品".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Key (letters, digits, `_`).
    pub key: String,
    /// The question as asked.
    pub text: String,
    /// The answers to choose from (e.g. 是 / 否).
    pub options: Vec<String>,
}

/// An answer a rule looks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The question's key.
    pub question: String,
    /// The answer that makes the condition true.
    pub equals: String,
}

/// A material of an entry's item left out in a situation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialSkip {
    /// The material's code in the item.
    pub code: String,
    /// Left out when every condition holds.
    pub when: Vec<Condition>,
}

/// One item of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleEntry {
    /// The implementation item.
    pub item_id: i64,
    /// Included only when every condition holds (empty: always).
    #[serde(default)]
    pub when: Vec<Condition>,
    /// Materials left out in some situations.
    #[serde(default)]
    pub skip_materials: Vec<MaterialSkip>,
    /// Items of this bundle whose result this one needs first (approved in order;
    /// the others in parallel).
    #[serde(default)]
    pub after: Vec<i64>,
}

/// 多证合一: items of one department that produce one combined certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CombinedCertificate {
    /// The certificate's name.
    pub name: String,
    /// The items (at least two, of one department: checked with the catalog).
    pub item_ids: Vec<i64>,
}

/// The content of one version of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleSpec {
    /// Name, e.g. 开办餐馆.
    pub name: String,
    /// What it is for, in a sentence.
    #[serde(default)]
    pub description: String,
    /// The scenario questions.
    #[serde(default)]
    pub questions: Vec<Question>,
    /// The items.
    pub entries: Vec<BundleEntry>,
    /// 多证合一.
    #[serde(default)]
    pub combined_certificates: Vec<CombinedCertificate>,
}

fn key_ok(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 40
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl BundleSpec {
    /// Check the bundle on its own (the items' existence and departments are checked
    /// by the use case): every problem, by field path.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.name.trim().is_empty() {
            e.add("name", "请填写一件事名称");
        }
        let mut keys = BTreeMap::new();
        for (i, q) in self.questions.iter().enumerate() {
            if !key_ok(&q.key) {
                e.add(
                    format!("questions[{i}].key"),
                    "只能由小写字母、数字和下划线组成",
                );
            }
            if keys.insert(q.key.clone(), &q.options).is_some() {
                e.add(format!("questions[{i}].key"), "问题标识重复");
            }
            if q.text.trim().is_empty() {
                e.add(format!("questions[{i}].text"), "请填写问题");
            }
            let distinct: BTreeSet<&String> = q.options.iter().collect();
            if q.options.len() < 2 || distinct.len() != q.options.len() {
                e.add(format!("questions[{i}].options"), "至少两个互不相同的选项");
            }
        }
        let check = |e: &mut FieldErrors, path: String, c: &Condition| match keys.get(&c.question) {
            None => e.add(format!("{path}.question"), "没有这个问题"),
            Some(opts) if !opts.contains(&c.equals) => {
                e.add(format!("{path}.equals"), "不是该问题的选项")
            }
            Some(_) => {}
        };
        if self.entries.is_empty() {
            e.add("entries", "至少包含一个事项");
        }
        let items: BTreeSet<i64> = self.entries.iter().map(|x| x.item_id).collect();
        let mut seen = BTreeSet::new();
        for (i, entry) in self.entries.iter().enumerate() {
            if !seen.insert(entry.item_id) {
                e.add(format!("entries[{i}].item_id"), "事项重复");
            }
            for (j, c) in entry.when.iter().enumerate() {
                check(&mut e, format!("entries[{i}].when[{j}]"), c);
            }
            for (j, s) in entry.skip_materials.iter().enumerate() {
                if s.when.is_empty() {
                    e.add(
                        format!("entries[{i}].skip_materials[{j}].when"),
                        "须写明在何种情形下免交",
                    );
                }
                for (k, c) in s.when.iter().enumerate() {
                    check(
                        &mut e,
                        format!("entries[{i}].skip_materials[{j}].when[{k}]"),
                        c,
                    );
                }
            }
            for (j, a) in entry.after.iter().enumerate() {
                if !items.contains(a) || *a == entry.item_id {
                    e.add(
                        format!("entries[{i}].after[{j}]"),
                        "须为本一件事中的其他事项",
                    );
                }
            }
        }
        if let Some(cycle) = self.cycle() {
            e.add("entries", format!("办理顺序循环依赖（事项 {cycle}）"));
        }
        for (i, cc) in self.combined_certificates.iter().enumerate() {
            if cc.name.trim().is_empty() {
                e.add(
                    format!("combined_certificates[{i}].name"),
                    "请填写合并后的证照名称",
                );
            }
            let distinct: BTreeSet<&i64> = cc.item_ids.iter().collect();
            if distinct.len() < 2 || distinct.len() != cc.item_ids.len() {
                e.add(
                    format!("combined_certificates[{i}].item_ids"),
                    "至少两个互不相同的事项",
                );
            }
            for (j, id) in cc.item_ids.iter().enumerate() {
                if !items.contains(id) {
                    e.add(
                        format!("combined_certificates[{i}].item_ids[{j}]"),
                        "须为本一件事中的事项",
                    );
                }
            }
        }
        if e.is_empty() { Ok(()) } else { Err(e) }
    }

    /// An item on a cycle of `after`, if there is one.
    fn cycle(&self) -> Option<i64> {
        let deps: BTreeMap<i64, &Vec<i64>> =
            self.entries.iter().map(|x| (x.item_id, &x.after)).collect();
        // Kahn's algorithm: whatever cannot be ordered is on (or behind) a cycle.
        let mut indeg: BTreeMap<i64, usize> = deps.keys().map(|k| (*k, 0)).collect();
        for (k, d) in &deps {
            let n = d.iter().filter(|x| deps.contains_key(x)).count();
            indeg.insert(*k, n);
        }
        let mut ready: Vec<i64> = indeg
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(k, _)| *k)
            .collect();
        let mut done = BTreeSet::new();
        while let Some(k) = ready.pop() {
            done.insert(k);
            for (other, d) in &deps {
                if d.contains(&k) && !done.contains(other) {
                    let n = indeg.get_mut(other)?;
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        ready.push(*other);
                    }
                }
            }
        }
        deps.keys().find(|k| !done.contains(k)).copied()
    }
}

/// What the scenario guide decided for one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Chosen {
    /// The item.
    pub item_id: i64,
    /// Its materials left out in this situation.
    pub skipped_materials: Vec<String>,
    /// Items (chosen too) whose result it waits for.
    pub after: Vec<i64>,
}

fn holds(conds: &[Condition], answers: &BTreeMap<String, String>) -> bool {
    conds
        .iter()
        .all(|c| answers.get(&c.question) == Some(&c.equals))
}

/// The items (and materials) that apply, given the answers to every question. An
/// answer missing or not among the options is an error naming `answers.<key>`; an
/// answer to no question is refused too. Same answers, same result.
pub fn choose(spec: &BundleSpec, answers: &BTreeMap<String, String>) -> Result<Vec<Chosen>> {
    let mut e = FieldErrors::new();
    for q in &spec.questions {
        match answers.get(&q.key) {
            None => e.add(format!("answers.{}", q.key), format!("请回答：{}", q.text)),
            Some(a) if !q.options.contains(a) => e.add(
                format!("answers.{}", q.key),
                format!("须为以下之一：{}", q.options.join("、")),
            ),
            Some(_) => {}
        }
    }
    for k in answers.keys() {
        if !spec.questions.iter().any(|q| &q.key == k) {
            e.add(format!("answers.{k}"), "没有这个问题");
        }
    }
    e.into_result()?;
    let picked: Vec<&BundleEntry> = spec
        .entries
        .iter()
        .filter(|x| holds(&x.when, answers))
        .collect();
    let ids: BTreeSet<i64> = picked.iter().map(|x| x.item_id).collect();
    Ok(picked
        .into_iter()
        .map(|x| Chosen {
            item_id: x.item_id,
            skipped_materials: x
                .skip_materials
                .iter()
                .filter(|s| holds(&s.when, answers))
                .map(|s| s.code.clone())
                .collect(),
            after: x
                .after
                .iter()
                .copied()
                .filter(|a| ids.contains(a))
                .collect(),
        })
        .collect())
}

/// One version of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BundleVersion {
    /// 1, 2, …
    pub version: u32,
    /// Draft, published or superseded.
    pub state: crate::catalog::VersionState,
    /// The content.
    pub spec: BundleSpec,
    /// When published.
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A bundle (一件事) with its versions; stored whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Bundle {
    /// Id.
    pub id: i64,
    /// Code, e.g. `440902-YJS-001`.
    pub code: String,
    /// The region it serves (its items are in it).
    #[schema(value_type = String)]
    pub region: crate::region::RegionCode,
    /// Name (of the latest version).
    pub name: String,
    /// Active, suspended or cancelled.
    pub status: crate::catalog::ItemStatus,
    /// Every version.
    pub versions: Vec<BundleVersion>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Bundle {
    /// The published version in force.
    pub fn published(&self) -> Option<&BundleVersion> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.state == crate::catalog::VersionState::Published)
    }

    /// The draft, if any.
    pub fn draft(&self) -> Option<&BundleVersion> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.state == crate::catalog::VersionState::Draft)
    }
}

/// One child case of a bundle case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BundleChild {
    /// The item.
    pub item_id: i64,
    /// The child case.
    pub case_id: i64,
    /// Items whose approval this child's decision waits for.
    pub after: Vec<i64>,
}

/// The applicant's one case for a bundle, fanned out to child cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BundleCase {
    /// Id.
    pub id: i64,
    /// The bundle.
    pub bundle_id: i64,
    /// Its version.
    pub bundle_version: u32,
    /// The bundle's name then.
    pub name: String,
    /// The applicant record.
    pub applicant_id: i64,
    /// The scenario answers.
    pub answers: BTreeMap<String, String>,
    /// The child cases.
    pub children: Vec<BundleChild>,
    /// Joint site inspections (联合踏勘) scheduled for several children.
    #[serde(default)]
    pub inspections: Vec<JointInspection>,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A joint site inspection (联合踏勘): one visit for several children. The department
/// that schedules it pauses its own children at once; each other department invited
/// joins by pausing its children for the same visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JointInspection {
    /// 1, 2, … on the bundle case.
    pub seq: u32,
    /// The day of the visit.
    pub date: chrono::NaiveDate,
    /// Where to meet.
    pub place: String,
    /// The child cases invited.
    pub case_ids: Vec<i64>,
    /// The child cases paused for it so far.
    pub joined: Vec<i64>,
    /// Who scheduled it.
    pub scheduled_by: String,
}

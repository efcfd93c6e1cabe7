//! Catalog search (事项搜索): what the index is built from, and the synonyms
//! administrators edit. The index itself lives beside the web layer (one per server);
//! these use cases read and change only the database.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Env;
use crate::actor::{Actor, Role};
use crate::catalog::{Item, ItemSpec, ItemStatus};
use crate::error::{FieldErrors, Result};
use crate::store::{ItemFilter, Tx, revision};

/// Who may edit synonyms and ask for a rebuild.
const EDITORS: &[Role] = &[Role::CatalogAdmin, Role::SysAdmin];

/// One item as search sees it: the item, its published content (none when it is not
/// searchable: unpublished, suspended or cancelled) and its department's name.
#[derive(Debug, Clone)]
pub struct SearchSource {
    /// The item.
    pub item: Item,
    /// The published content, when the item is open to the public.
    pub spec: Option<Arc<ItemSpec>>,
    /// The implementing department's name.
    pub department: String,
}

/// Where the index stands against the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchRevisions {
    /// The catalog revision (every item change stamps the item with the next value).
    pub catalog: i64,
    /// The rebuild request counter.
    pub rebuild: i64,
    /// The synonyms revision.
    pub synonyms: i64,
}

/// The revisions now.
pub fn revisions(tx: &mut dyn Tx) -> Result<SearchRevisions> {
    Ok(SearchRevisions {
        catalog: tx.revision(revision::CATALOG)?,
        rebuild: tx.revision(revision::SEARCH_REBUILD)?,
        synonyms: tx.revision(revision::SYNONYMS)?,
    })
}

fn source(
    tx: &mut dyn Tx,
    item: Item,
    departments: &mut BTreeMap<i64, String>,
) -> Result<SearchSource> {
    let spec = match (item.status, item.published_version) {
        (ItemStatus::Active, Some(v)) => tx.published_spec(item.id, v)?,
        _ => None,
    };
    let department = match departments.get(&item.department_id) {
        Some(n) => n.clone(),
        None => {
            let n = tx
                .department(item.department_id)?
                .map(|d| d.name)
                .unwrap_or_default();
            departments.insert(item.department_id, n.clone());
            n
        }
    };
    Ok(SearchSource {
        item,
        spec,
        department,
    })
}

/// Every searchable item (active and published), by id, after `after_id`, up to
/// `limit`: a page of a full rebuild.
pub fn searchable_items(tx: &mut dyn Tx, after_id: i64, limit: u32) -> Result<Vec<SearchSource>> {
    let items = tx.items(&ItemFilter {
        statuses: vec![ItemStatus::Active],
        published_only: true,
        after_id: Some(after_id),
        limit,
        ..ItemFilter::default()
    })?;
    let mut names = BTreeMap::new();
    items
        .into_iter()
        .map(|i| source(tx, i, &mut names))
        .collect()
}

/// The items changed after catalog revision `after`, up to `limit`, each with its
/// stamp: those with no `spec` are to be taken out of the index.
pub fn changed_items(tx: &mut dyn Tx, after: i64, limit: u32) -> Result<Vec<(i64, SearchSource)>> {
    let mut names = BTreeMap::new();
    let mut out = Vec::new();
    for (id, stamp) in tx.items_changed_since(after, limit)? {
        if let Some(item) = tx.item(id)? {
            out.push((stamp, source(tx, item, &mut names)?));
        }
    }
    Ok(out)
}

/// The synonyms (同义词): a term people type → the words searched for as well.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Synonyms {
    /// e.g. `{"开饭店": ["餐饮", "食品经营"]}`.
    pub synonyms: BTreeMap<String, Vec<String>>,
}

/// The longest term or word.
const MAX_WORD: usize = 20;
/// The most terms.
const MAX_TERMS: usize = 2000;

/// The synonyms in force (editors only: the public meets them only through search).
pub fn synonyms(tx: &mut dyn Tx, actor: &Actor) -> Result<Synonyms> {
    actor.require(EDITORS)?;
    Ok(Synonyms {
        synonyms: tx.synonyms()?,
    })
}

/// Check synonyms: every problem, by `synonyms.<term>`.
pub fn check_synonyms(s: &Synonyms) -> Result<Synonyms> {
    let mut e = FieldErrors::new();
    if s.synonyms.len() > MAX_TERMS {
        e.add("synonyms", format!("同义词条目不能超过 {MAX_TERMS} 条"));
    }
    let mut out = BTreeMap::new();
    for (term, words) in &s.synonyms {
        let t = term.trim();
        let path = format!("synonyms.{t}");
        if t.is_empty() || t.chars().count() > MAX_WORD {
            e.add(&path, format!("词语不能为空且不超过 {MAX_WORD} 字"));
            continue;
        }
        let mut ws: Vec<String> = Vec::new();
        for w in words {
            let w = w.trim();
            if w.is_empty() || w.chars().count() > MAX_WORD {
                e.add(&path, format!("同义词不能为空且每个不超过 {MAX_WORD} 字"));
            } else if w == t {
                e.add(&path, "同义词不能与词语本身相同");
            } else if !ws.iter().any(|x| x == w) {
                ws.push(w.to_string());
            }
        }
        if words.is_empty() {
            e.add(&path, "至少填写一个同义词");
        }
        if ws.len() > 10 {
            e.add(&path, "每个词语最多 10 个同义词");
        }
        if out.insert(t.to_string(), ws).is_some() {
            e.add(&path, "词语重复");
        }
    }
    e.into_result()?;
    Ok(Synonyms { synonyms: out })
}

/// Replace the synonyms; every server picks them up on its next look at the
/// revisions.
pub fn save_synonyms(tx: &mut dyn Tx, actor: &Actor, env: &Env, s: &Synonyms) -> Result<Synonyms> {
    actor.require(EDITORS)?;
    let s = check_synonyms(s)?;
    tx.replace_synonyms(&s.synonyms, actor.account_id, env.now)?;
    Ok(s)
}

/// Ask every server to rebuild its index from the database.
pub fn request_rebuild(tx: &mut dyn Tx, actor: &Actor) -> Result<i64> {
    if actor.role != Role::System {
        actor.require(EDITORS)?;
    }
    tx.bump_revision(revision::SEARCH_REBUILD)
}

/// Parse synonyms typed one per line, `词语 = 同义词, 同义词` (also `：`, `，`, `、`).
/// A line that cannot be read is named by its number.
pub fn parse_synonym_lines(text: &str) -> Result<Synonyms> {
    let mut e = FieldErrors::new();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((term, rest)) = line.split_once(['=', '＝', ':', '：']) else {
            e.add(
                format!("synonyms.line{}", i + 1),
                format!("第 {} 行应写成“词语 = 同义词，同义词”", i + 1),
            );
            continue;
        };
        let words: Vec<String> = rest
            .split([',', '，', '、', ';', '；', ' '])
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        out.entry(term.trim().to_string())
            .or_default()
            .extend(words);
    }
    e.into_result()?;
    Ok(Synonyms { synonyms: out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn synonym_lines_are_read_and_checked() {
        let s = parse_synonym_lines("开饭店 = 餐饮, 食品经营\n# 注释\n\n营业执照：营业证、执照")
            .unwrap();
        assert_eq!(s.synonyms["开饭店"], ["餐饮", "食品经营"]);
        assert_eq!(s.synonyms["营业执照"], ["营业证", "执照"]);
        let Err(Error::Validation(fe)) = parse_synonym_lines("开饭店 餐饮") else {
            panic!("a line without = is refused");
        };
        assert!(fe.fields().contains_key("synonyms.line1"));
        let bad = Synonyms {
            synonyms: BTreeMap::from([
                ("饭店".to_string(), vec!["饭店".to_string()]),
                ("".to_string(), vec!["x".to_string()]),
                ("开店".to_string(), vec![]),
            ]),
        };
        let Err(Error::Validation(fe)) = check_synonyms(&bad) else {
            panic!("bad synonyms are refused");
        };
        assert_eq!(fe.fields().len(), 3, "{fe}");
    }
}

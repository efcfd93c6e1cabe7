//! Catalog use cases: basic items, implementation items and their versions.
//!
//! Editing happens on a draft version; publishing makes it the version new cases are
//! filed on and freezes it forever. Suspending or cancelling an item stops new cases.

use serde::{Deserialize, Serialize};

use super::Env;
use crate::actor::{Actor, Role};
use crate::catalog::{
    BasicItem, Item, ItemSpec, ItemStatus, ItemVersion, VersionState, implementation_code,
};
use crate::error::{Error, FieldErrors, Result};
use crate::store::{ItemFilter, Tx};

/// Who may edit the catalog.
const EDITORS: &[Role] = &[Role::CatalogAdmin, Role::SysAdmin];

/// Add a basic item (基本目录).
pub fn create_basic_item(tx: &mut dyn Tx, actor: &Actor, b: &BasicItem) -> Result<BasicItem> {
    actor.require(EDITORS)?;
    b.validate().map_err(Error::Validation)?;
    let b = BasicItem {
        code: b.code.trim().to_string(),
        name: b.name.trim().to_string(),
        item_type: b.item_type,
        legal_basis: b.legal_basis.trim().to_string(),
    };
    tx.insert_basic_item(&b)?;
    Ok(b)
}

/// A new implementation item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewItem {
    /// The basic item implemented.
    pub basic_code: String,
    /// The implementing department.
    pub department_id: i64,
    /// 实施编码; generated from the basic code, region and department when omitted.
    #[serde(default)]
    pub code: Option<String>,
    /// The first version's content.
    pub spec: ItemSpec,
}

/// An item with one of its versions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemWithVersion {
    /// The item.
    pub item: Item,
    /// The version shown.
    pub version: ItemVersion,
}

fn editable_item(tx: &mut dyn Tx, actor: &Actor, id: i64) -> Result<Item> {
    actor.require(EDITORS)?;
    let item = tx.item(id)?.ok_or(Error::NotFound { entity: "事项" })?;
    actor.require_region(&item.region)?;
    Ok(item)
}

/// Create an item with a first draft version.
pub fn create_item(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    n: &NewItem,
) -> Result<ItemWithVersion> {
    actor.require(EDITORS)?;
    let mut e = FieldErrors::new();
    if let Err(fe) = n.spec.validate() {
        e.nest("spec", fe);
    }
    let basic = tx.basic_item(n.basic_code.trim())?;
    if basic.is_none() {
        e.add("basic_code", "基本目录中没有这个编码");
    }
    let dept = tx.department(n.department_id)?;
    match &dept {
        None => e.add("department_id", "部门不存在"),
        Some(d) if !d.active => e.add("department_id", "部门已停用"),
        Some(_) => {}
    }
    let code = match &n.code {
        Some(c) => {
            let c = c.trim();
            if c.len() < 6
                || c.len() > 80
                || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                e.add("code", "实施编码须为 6–80 位字母、数字或连字符");
            }
            Some(c.to_string())
        }
        None => None,
    };
    e.into_result()?;
    let (basic, dept) = (basic.expect("checked"), dept.expect("checked"));
    actor.require_region(&dept.region)?;
    let code = match code {
        Some(c) => c,
        None => {
            let serial = tx.count_items_of(&basic.code, dept.id)?;
            implementation_code(&basic.code, &dept.region, &dept.credit_code, serial)
        }
    };
    let mut item = Item {
        id: 0,
        code,
        basic_code: basic.code.clone(),
        item_type: basic.item_type,
        department_id: dept.id,
        region: dept.region.clone(),
        name: n.spec.name.trim().to_string(),
        status: ItemStatus::Active,
        published_version: None,
        draft_version: Some(1),
        updated_at: env.now,
    };
    item.id = tx.insert_item(&item)?;
    let version = ItemVersion {
        item_id: item.id,
        version: 1,
        state: VersionState::Draft,
        spec: n.spec.clone(),
        published_at: None,
    };
    tx.save_item_version(&version)?;
    Ok(ItemWithVersion { item, version })
}

/// Replace the draft (or start one from the published version's successor).
pub fn save_draft(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    item_id: i64,
    spec: &ItemSpec,
) -> Result<ItemWithVersion> {
    let mut item = editable_item(tx, actor, item_id)?;
    if item.status == ItemStatus::Cancelled {
        return Err(Error::InvalidTransition {
            state: "取消".into(),
            action: "修改".into(),
            reason: "已取消的事项不能再修改".into(),
        });
    }
    if let Err(fe) = spec.validate() {
        let mut e = FieldErrors::new();
        e.nest("spec", fe);
        return Err(Error::Validation(e));
    }
    let v = match item.draft_version {
        Some(v) => v,
        None => item.published_version.unwrap_or(0) + 1,
    };
    let version = ItemVersion {
        item_id,
        version: v,
        state: VersionState::Draft,
        spec: spec.clone(),
        published_at: None,
    };
    tx.save_item_version(&version)?;
    item.draft_version = Some(v);
    if item.published_version.is_none() {
        item.name = spec.name.trim().to_string();
    }
    item.updated_at = env.now;
    tx.update_item(&item)?;
    Ok(ItemWithVersion { item, version })
}

/// Publish the draft: it becomes the version new cases are filed on, and never changes.
pub fn publish(tx: &mut dyn Tx, actor: &Actor, env: &Env, item_id: i64) -> Result<ItemWithVersion> {
    let mut item = editable_item(tx, actor, item_id)?;
    if item.status == ItemStatus::Cancelled {
        return Err(Error::InvalidTransition {
            state: "取消".into(),
            action: "发布".into(),
            reason: "已取消的事项不能发布".into(),
        });
    }
    let Some(v) = item.draft_version else {
        return Err(Error::InvalidTransition {
            state: "无草稿".into(),
            action: "发布".into(),
            reason: "没有待发布的草稿版本".into(),
        });
    };
    let mut draft = tx
        .item_version(item_id, v)?
        .ok_or(Error::Store("draft version missing".into()))?;
    // The rules may have tightened since the draft was saved.
    draft.spec.validate().map_err(|fe| {
        let mut e = FieldErrors::new();
        e.nest("spec", fe);
        Error::Validation(e)
    })?;
    if let Some(old) = item.published_version
        && let Some(mut prev) = tx.item_version(item_id, old)?
    {
        prev.state = VersionState::Superseded;
        tx.save_item_version(&prev)?;
    }
    draft.state = VersionState::Published;
    draft.published_at = Some(env.now);
    tx.save_item_version(&draft)?;
    item.published_version = Some(v);
    item.draft_version = None;
    item.name = draft.spec.name.trim().to_string();
    item.updated_at = env.now;
    tx.update_item(&item)?;
    Ok(ItemWithVersion {
        item,
        version: draft,
    })
}

/// Lifecycle changes of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusChange {
    /// 暂停.
    Suspend,
    /// 恢复.
    Resume,
    /// 取消 (final).
    Cancel,
}

/// Suspend, resume or cancel an item.
pub fn change_status(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    item_id: i64,
    change: StatusChange,
) -> Result<Item> {
    let mut item = editable_item(tx, actor, item_id)?;
    let next = match (item.status, change) {
        (ItemStatus::Active, StatusChange::Suspend) => ItemStatus::Suspended,
        (ItemStatus::Suspended, StatusChange::Resume) => ItemStatus::Active,
        (ItemStatus::Active | ItemStatus::Suspended, StatusChange::Cancel) => ItemStatus::Cancelled,
        (s, c) => {
            return Err(Error::InvalidTransition {
                state: s.label().into(),
                action: match c {
                    StatusChange::Suspend => "暂停",
                    StatusChange::Resume => "恢复",
                    StatusChange::Cancel => "取消",
                }
                .into(),
                reason: "事项当前状态不允许此操作".into(),
            });
        }
    };
    item.status = next;
    item.updated_at = env.now;
    tx.update_item(&item)?;
    Ok(item)
}

/// An item and its published version (public); drafts only for editors in scope.
pub fn get_item(
    tx: &mut dyn Tx,
    actor: Option<&Actor>,
    item_id: i64,
    version: Option<u32>,
) -> Result<ItemWithVersion> {
    let item = tx
        .item(item_id)?
        .ok_or(Error::NotFound { entity: "事项" })?;
    let editor =
        actor.is_some_and(|a| EDITORS.contains(&a.role) && a.region_contains(&item.region));
    let v = match version {
        Some(v) => v,
        None => match (item.published_version, item.draft_version) {
            (Some(p), _) => p,
            (None, Some(d)) if editor => d,
            _ => return Err(Error::NotFound { entity: "事项" }),
        },
    };
    let version = tx.item_version(item_id, v)?.ok_or(Error::NotFound {
        entity: "事项版本"
    })?;
    if version.state == VersionState::Draft && !editor {
        return Err(Error::NotFound {
            entity: "事项版本"
        });
    }
    Ok(ItemWithVersion { item, version })
}

/// Every version of an item (drafts only for editors).
pub fn item_versions(
    tx: &mut dyn Tx,
    actor: Option<&Actor>,
    item_id: i64,
) -> Result<Vec<ItemVersion>> {
    let item = tx
        .item(item_id)?
        .ok_or(Error::NotFound { entity: "事项" })?;
    let editor =
        actor.is_some_and(|a| EDITORS.contains(&a.role) && a.region_contains(&item.region));
    Ok(tx
        .item_versions(item_id)?
        .into_iter()
        .filter(|v| editor || v.state != VersionState::Draft)
        .collect())
}

/// A list query for items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// Region code: items of this region and below.
    pub region: Option<String>,
    /// Department.
    pub department_id: Option<i64>,
    /// Name contains.
    pub q: Option<String>,
    /// Include unpublished, suspended and cancelled items (editors only).
    pub all: Option<bool>,
    /// Items after this id.
    pub after_id: Option<i64>,
    /// Page size 1–200 (default 50).
    pub limit: Option<u32>,
}

/// List items: the public sees active, published ones; editors may see all in scope.
pub fn list_items(tx: &mut dyn Tx, actor: Option<&Actor>, q: &ItemQuery) -> Result<Vec<Item>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::field("limit", "每页条数须在 1–200 之间"));
    }
    let mut region_prefix = match &q.region {
        Some(r) => Some(
            crate::region::RegionCode::parse(r)
                .map_err(|e| Error::field("region", e.to_string()))?
                .prefix()
                .to_string(),
        ),
        None => None,
    };
    let all = q.all.unwrap_or(false);
    if all {
        let a = actor.ok_or(Error::Unauthenticated)?;
        a.require(EDITORS)?;
        let scope = a
            .region
            .as_ref()
            .map(|r| r.prefix().to_string())
            .ok_or(Error::forbidden("账号未设置区划范围"))?;
        region_prefix = match region_prefix {
            Some(p) if p.starts_with(&scope) => Some(p),
            Some(_) => return Err(Error::forbidden("超出本账号的区划范围")),
            None => Some(scope),
        };
    }
    let name = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if name.is_some_and(|n| n.chars().count() > 50) {
        return Err(Error::field("q", "关键词不能超过 50 字"));
    }
    tx.items(&ItemFilter {
        region_prefix,
        department_id: q.department_id,
        statuses: if all {
            vec![]
        } else {
            vec![ItemStatus::Active]
        },
        published_only: !all,
        name_contains: name.map(str::to_string),
        after_id: q.after_id,
        limit,
    })
}

//! Importing and exporting the catalog as a spreadsheet (事项目录导入导出): how a
//! bureau's existing list in Excel gets in, and how it gets back out.
//!
//! An import reads every sheet, then checks every row against the database, and
//! reports every problem by cell (`材料!C5`) before writing anything; only a file with
//! no problem at all is written, in one transaction, through the same use cases the
//! editors' API uses (drafts, publishing, status changes). Importing a file that was
//! just exported changes nothing: an item whose content is the same keeps its version.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Env;
use super::bundles::{NewBundle, create_bundle, publish_bundle, save_bundle_draft};
use super::catalog::{
    NewItem, StatusChange, change_status, create_basic_item, create_item, publish, save_draft,
};
use crate::actor::{Actor, Role};
use crate::catalog::sheets::{
    BundleOut, CatalogRows, ItemOut, ItemRow, LAYOUT, read_catalog_all, sheet, write_catalog,
};
use crate::catalog::{Item, ItemStatus, VersionState};
use crate::error::{Error, FieldErrors, Result};
use crate::region::RegionCode;
use crate::store::{ItemFilter, Tx};
use crate::table::{Workbook, cell_ref};

/// Who may import and export.
const EDITORS: &[Role] = &[Role::CatalogAdmin, Role::SysAdmin];

/// What an import did (or, checked only, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Only checked; nothing written.
    pub dry_run: bool,
    /// Basic items added.
    pub basic_items_created: u32,
    /// Items added.
    pub items_created: u32,
    /// Items whose content changed (saved as a new draft).
    pub items_changed: u32,
    /// Items published.
    pub items_published: u32,
    /// Items suspended, resumed or cancelled.
    pub items_status_changed: u32,
    /// Items left as they were.
    pub items_unchanged: u32,
    /// Bundles added.
    pub bundles_created: u32,
    /// Bundles whose content changed.
    pub bundles_changed: u32,
    /// Bundles published.
    pub bundles_published: u32,
    /// Bundles left as they were.
    pub bundles_unchanged: u32,
}

fn column(sheet_name: &str, col: &str) -> usize {
    LAYOUT
        .iter()
        .find(|l| l.name == sheet_name)
        .and_then(|l| l.columns.iter().position(|c| c.name == col))
        .unwrap_or(0)
}

fn at(sheet_name: &str, col: &str, row: usize) -> String {
    cell_ref(sheet_name, column(sheet_name, col), row)
}

fn scope(actor: &Actor) -> Result<String> {
    actor.require(EDITORS)?;
    actor
        .region
        .as_ref()
        .map(|r| r.prefix().to_string())
        .ok_or(Error::forbidden("账号未设置区划范围"))
}

/// Every item in `prefix`, by id.
fn all_items(tx: &mut dyn Tx, prefix: &str) -> Result<Vec<Item>> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = tx.items(&ItemFilter {
            region_prefix: Some(prefix.to_string()),
            after_id: Some(after),
            limit: 1000,
            ..ItemFilter::default()
        })?;
        let n = page.len();
        if let Some(last) = page.last() {
            after = last.id;
        }
        out.extend(page);
        if n < 1000 {
            return Ok(out);
        }
    }
}

/// The catalog in the actor's region as a workbook: each item's latest content (its
/// draft if it has one, marked 发布=否; else the published version, 发布=是), the
/// basic items they implement, and the bundles.
pub fn export_catalog(tx: &mut dyn Tx, actor: &Actor) -> Result<Workbook> {
    let prefix = scope(actor)?;
    let credit: BTreeMap<i64, String> = tx
        .departments(None)?
        .into_iter()
        .map(|d| (d.id, d.credit_code.as_str().to_string()))
        .collect();
    let mut items = Vec::new();
    let mut codes = BTreeMap::new();
    let mut basic_codes = BTreeSet::new();
    for item in all_items(tx, &prefix)? {
        let Some(v) = item.draft_version.or(item.published_version) else {
            continue;
        };
        let Some(version) = tx.item_version(item.id, v)? else {
            continue;
        };
        codes.insert(item.id, item.code.clone());
        basic_codes.insert(item.basic_code.clone());
        items.push(ItemOut {
            code: item.code.clone(),
            basic_code: item.basic_code.clone(),
            department: credit.get(&item.department_id).cloned().unwrap_or_default(),
            status: item.status,
            published: version.state != VersionState::Draft,
            spec: version.spec,
        });
    }
    let basic: Vec<_> = tx
        .basic_items()?
        .into_iter()
        .filter(|b| basic_codes.contains(&b.code))
        .collect();
    let mut bundles = Vec::new();
    for b in tx.bundles(Some(&prefix))? {
        let Some(v) = b.draft().or(b.published()) else {
            continue;
        };
        for e in &v.spec.entries {
            if !codes.contains_key(&e.item_id)
                && let Some(i) = tx.item(e.item_id)?
            {
                codes.insert(i.id, i.code);
            }
        }
        bundles.push(BundleOut {
            code: b.code.clone(),
            region: b.region.as_str().to_string(),
            published: v.state != VersionState::Draft,
            spec: v.spec.clone(),
        });
    }
    Ok(write_catalog(&basic, &items, &bundles, &codes))
}

/// What an import will do to one item.
enum ItemPlan {
    /// The row has a problem (reported); nothing is planned for it.
    Invalid,
    Create {
        department_id: i64,
    },
    Update {
        item: Item,
        content_changed: bool,
        status: Option<StatusChange>,
    },
}

fn status_change(
    from: ItemStatus,
    to: ItemStatus,
) -> std::result::Result<Option<StatusChange>, &'static str> {
    match (from, to) {
        (a, b) if a == b => Ok(None),
        (ItemStatus::Cancelled, _) => Err("已取消的事项不能恢复"),
        (_, ItemStatus::Cancelled) => Ok(Some(StatusChange::Cancel)),
        (ItemStatus::Active, ItemStatus::Suspended) => Ok(Some(StatusChange::Suspend)),
        (ItemStatus::Suspended, ItemStatus::Active) => Ok(Some(StatusChange::Resume)),
        _ => Ok(None),
    }
}

fn code_ok(c: &str) -> bool {
    (6..=80).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Check every row of an item against the database.
fn plan_items(
    tx: &mut dyn Tx,
    actor: &Actor,
    rows: &CatalogRows,
    e: &mut FieldErrors,
) -> Result<Vec<ItemPlan>> {
    let departments: BTreeMap<String, crate::org::Department> = tx
        .departments(None)?
        .into_iter()
        .map(|d| (d.credit_code.as_str().to_string(), d))
        .collect();
    let file_basic: BTreeSet<&str> = rows
        .basic_items
        .iter()
        .map(|(_, b)| b.code.as_str())
        .collect();
    let mut plans = Vec::new();
    for it in &rows.items {
        let row = it.origin.row;
        let here = |col: &str| at(sheet::ITEMS, col, row);
        if !code_ok(&it.code) {
            e.add(here("实施编码"), "实施编码：须为 6–80 位字母、数字或连字符");
        }
        if !file_basic.contains(it.basic_code.as_str()) && tx.basic_item(&it.basic_code)?.is_none()
        {
            e.add(
                here("基本编码"),
                "基本编码：基本目录中没有这个编码（可在“基本目录”表中一并导入）",
            );
        }
        let dept = match departments.get(&it.department) {
            None => {
                e.add(
                    here("实施部门信用代码"),
                    "实施部门信用代码：没有这个统一社会信用代码的部门",
                );
                None
            }
            Some(d) if !actor.region_contains(&d.region) => {
                e.add(
                    here("实施部门信用代码"),
                    "实施部门信用代码：该部门不在本账号的区划范围内",
                );
                None
            }
            Some(d) if !d.active => {
                e.add(here("实施部门信用代码"), "实施部门信用代码：该部门已停用");
                None
            }
            Some(d) => Some(d.clone()),
        };
        match tx.item_by_code(&it.code)? {
            None => {
                if it.status == ItemStatus::Cancelled {
                    e.add(here("状态"), "状态：新事项不能以“取消”状态导入");
                }
                plans.push(match dept {
                    Some(d) => ItemPlan::Create {
                        department_id: d.id,
                    },
                    None => ItemPlan::Invalid,
                });
            }
            Some(item) => {
                if !actor.region_contains(&item.region) {
                    e.add(here("实施编码"), "实施编码：该编码已属于其他区划的事项");
                    plans.push(ItemPlan::Invalid);
                    continue;
                }
                if dept.as_ref().is_some_and(|d| d.id != item.department_id) {
                    e.add(
                        here("实施部门信用代码"),
                        "实施部门信用代码：已有事项的实施部门不能通过导入更改",
                    );
                }
                if item.basic_code != it.basic_code {
                    e.add(
                        here("基本编码"),
                        format!(
                            "基本编码：已有事项的基本编码为“{}”，不能更改",
                            item.basic_code
                        ),
                    );
                }
                let current = match item.draft_version.or(item.published_version) {
                    Some(v) => tx.item_version(item.id, v)?.map(|v| v.spec),
                    None => None,
                };
                let content_changed = current.as_ref() != Some(&it.spec);
                let status = match status_change(item.status, it.status) {
                    Ok(s) => s,
                    Err(rule) => {
                        e.add(here("状态"), format!("状态：{rule}"));
                        None
                    }
                };
                if item.status == ItemStatus::Cancelled
                    && (content_changed || it.publish && item.draft_version.is_some())
                {
                    e.add(here("实施编码"), "实施编码：该事项已取消，不能再修改或发布");
                }
                plans.push(ItemPlan::Update {
                    item,
                    content_changed,
                    status,
                });
            }
        }
    }
    Ok(plans)
}

/// Check the bundles against the items (those in the database and those in the file).
fn check_bundles(
    tx: &mut dyn Tx,
    actor: &Actor,
    rows: &CatalogRows,
    plans: &[ItemPlan],
    e: &mut FieldErrors,
) -> Result<()> {
    // Items in the file, by code: their region and whether they will be published.
    let mut region_of: BTreeMap<String, (RegionCode, bool)> = BTreeMap::new();
    let mut ids: BTreeMap<String, i64> = BTreeMap::new();
    let depts: BTreeMap<i64, RegionCode> = tx
        .departments(None)?
        .into_iter()
        .map(|d| (d.id, d.region))
        .collect();
    for (n, (it, plan)) in rows.items.iter().zip(plans).enumerate() {
        let (id, region, published) = match plan {
            ItemPlan::Invalid => continue,
            ItemPlan::Create { department_id } => (
                -(n as i64) - 1,
                depts.get(department_id).cloned(),
                it.publish,
            ),
            ItemPlan::Update { item, .. } => (
                item.id,
                Some(item.region.clone()),
                it.publish || item.published_version.is_some(),
            ),
        };
        ids.insert(it.code.clone(), id);
        if let Some(r) = region {
            region_of.insert(
                it.code.clone(),
                (r, published && it.status == ItemStatus::Active),
            );
        }
    }
    for b in &rows.bundles {
        let region = match RegionCode::parse(&b.region) {
            Ok(r) => r,
            Err(err) => {
                e.add(
                    at(sheet::BUNDLES, "区划代码", b.row),
                    format!("区划代码：{err}"),
                );
                continue;
            }
        };
        if !actor.region_contains(&region) {
            e.add(
                at(sheet::BUNDLES, "区划代码", b.row),
                "区划代码：不在本账号的区划范围内",
            );
            continue;
        }
        if let Some(existing) = tx.bundles(None)?.into_iter().find(|x| x.code == b.code)
            && existing.region != region
        {
            e.add(
                at(sheet::BUNDLES, "区划代码", b.row),
                "区划代码：已有一件事的区划不能更改",
            );
            continue;
        }
        // Items named but not in the file: look them up.
        let mut known = ids.clone();
        for entry in &b.entries {
            for code in std::iter::once(&entry.item).chain(&entry.after) {
                if known.contains_key(code) {
                    continue;
                }
                if let Some(i) = tx.item_by_code(code)? {
                    known.insert(code.clone(), i.id);
                    region_of.insert(
                        code.clone(),
                        (
                            i.region.clone(),
                            i.published_version.is_some() && i.status == ItemStatus::Active,
                        ),
                    );
                }
            }
        }
        for (_, _, codes) in &b.combined {
            for code in codes {
                if !known.contains_key(code)
                    && let Some(i) = tx.item_by_code(code)?
                {
                    known.insert(code.clone(), i.id);
                }
            }
        }
        let existing = tx
            .bundles(Some(region.prefix()))?
            .into_iter()
            .find(|x| x.code == b.code);
        let will_save = match b.resolve(&known) {
            Err(fe) => {
                for (k, v) in fe.fields() {
                    e.add(k.clone(), v.clone());
                }
                true
            }
            Ok(spec) => {
                if let Err(fe) = spec.validate() {
                    for (path, rule) in fe.fields() {
                        e.add(b.locate(path), rule.clone());
                    }
                }
                match &existing {
                    None => true,
                    Some(x) => x.draft().or(x.published()).map(|v| &v.spec) != Some(&spec),
                }
            }
        };
        // A bundle left as it is keeps its items as they are (an item of it may be
        // suspended through the file); one saved must name items it can take.
        if !will_save {
            continue;
        }
        for entry in &b.entries {
            if let Some((r, published)) = region_of.get(&entry.item) {
                let cell = at(sheet::ENTRIES, "实施编码", entry.row);
                if !region.contains(r) {
                    e.add(cell, "实施编码：事项不在本一件事的区划内");
                } else if !published {
                    e.add(cell, "实施编码：事项未发布或已暂停，一件事不能包含它（可在“事项”表中将其“发布”设为是）");
                }
            }
        }
    }
    Ok(())
}

/// Put an error from a use case on the cell of the row that caused it.
fn on_row(err: Error, cell: String, locate: impl Fn(&str) -> String) -> Error {
    let mut e = FieldErrors::new();
    match err {
        Error::Validation(fe) => {
            for (path, rule) in fe.fields() {
                e.add(locate(path), rule.clone());
            }
        }
        Error::Store(s) => return Error::Store(s),
        other => e.add(cell, other.to_string()),
    }
    Error::Validation(e)
}

fn item_cell(it: &ItemRow) -> String {
    at(sheet::ITEMS, "实施编码", it.origin.row)
}

/// Import a workbook. With `dry_run`, everything is checked and the report says what
/// would happen, and nothing is written. `progress(done, total)` is told after each
/// item and bundle written.
pub fn import_catalog(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    wb: &Workbook,
    dry_run: bool,
    progress: &dyn Fn(usize, usize),
) -> Result<ImportReport> {
    scope(actor)?;
    // Every problem at once: those of the file itself, then those against the database.
    let (rows, mut e) = read_catalog_all(wb);
    for (row, b) in &rows.basic_items {
        if let Some(x) = tx.basic_item(&b.code)?
            && (x.name != b.name || x.item_type != b.item_type || x.legal_basis != b.legal_basis)
        {
            e.add(
                at(sheet::BASIC, "事项名称", *row),
                format!(
                    "事项名称：与系统中已有的基本目录不一致（系统中为“{}”，{}）",
                    x.name,
                    x.item_type.label()
                ),
            );
        }
    }
    let plans = plan_items(tx, actor, &rows, &mut e)?;
    check_bundles(tx, actor, &rows, &plans, &mut e)?;
    e.into_result()?;

    let mut r = ImportReport {
        dry_run,
        ..ImportReport::default()
    };
    let total = rows.items.len() + rows.bundles.len();
    let mut done = 0;
    for (_, b) in &rows.basic_items {
        if tx.basic_item(&b.code)?.is_none() {
            r.basic_items_created += 1;
            if !dry_run {
                create_basic_item(tx, actor, b)?;
            }
        }
    }
    let mut ids: BTreeMap<String, i64> = BTreeMap::new();
    for (it, plan) in rows.items.iter().zip(plans) {
        let cell = item_cell(it);
        let locate = |path: &str| it.locate(path);
        match plan {
            ItemPlan::Invalid => {
                return Err(Error::Store("an invalid row reached the import".into()));
            }
            ItemPlan::Create { department_id } => {
                r.items_created += 1;
                r.items_published += u32::from(it.publish);
                r.items_status_changed += u32::from(it.status != ItemStatus::Active);
                if dry_run {
                    continue;
                }
                let made = create_item(
                    tx,
                    actor,
                    env,
                    &NewItem {
                        basic_code: it.basic_code.clone(),
                        department_id,
                        code: Some(it.code.clone()),
                        spec: it.spec.clone(),
                    },
                )
                .map_err(|err| on_row(err, cell.clone(), locate))?;
                ids.insert(it.code.clone(), made.item.id);
                if it.publish {
                    publish(tx, actor, env, made.item.id)
                        .map_err(|err| on_row(err, cell.clone(), locate))?;
                }
                if it.status == ItemStatus::Suspended {
                    change_status(tx, actor, env, made.item.id, StatusChange::Suspend)
                        .map_err(|err| on_row(err, cell.clone(), locate))?;
                }
            }
            ItemPlan::Update {
                item,
                content_changed,
                status,
            } => {
                ids.insert(it.code.clone(), item.id);
                let will_publish = it.publish && (content_changed || item.draft_version.is_some());
                if !content_changed && !will_publish && status.is_none() {
                    r.items_unchanged += 1;
                    continue;
                }
                r.items_changed += u32::from(content_changed);
                r.items_published += u32::from(will_publish);
                r.items_status_changed += u32::from(status.is_some());
                if dry_run {
                    continue;
                }
                // A cancellation comes last: a cancelled item takes no more changes.
                if let Some(s @ StatusChange::Resume) = status {
                    change_status(tx, actor, env, item.id, s)
                        .map_err(|err| on_row(err, cell.clone(), locate))?;
                }
                if content_changed {
                    save_draft(tx, actor, env, item.id, &it.spec)
                        .map_err(|err| on_row(err, cell.clone(), locate))?;
                }
                if will_publish {
                    publish(tx, actor, env, item.id)
                        .map_err(|err| on_row(err, cell.clone(), locate))?;
                }
                if let Some(s @ (StatusChange::Suspend | StatusChange::Cancel)) = status {
                    change_status(tx, actor, env, item.id, s)
                        .map_err(|err| on_row(err, cell.clone(), locate))?;
                }
            }
        }
        done += 1;
        progress(done, total);
    }
    for b in &rows.bundles {
        let region = RegionCode::parse(&b.region)
            .map_err(|err| Error::field(at(sheet::BUNDLES, "区划代码", b.row), err.to_string()))?;
        let existing = tx
            .bundles(Some(region.prefix()))?
            .into_iter()
            .find(|x| x.code == b.code);
        let cell = at(sheet::BUNDLES, "一件事编码", b.row);
        let locate = |path: &str| b.locate(path);
        // Codes of items not in the file are looked up.
        let mut known = ids.clone();
        for entry in &b.entries {
            for code in std::iter::once(&entry.item).chain(&entry.after) {
                if !known.contains_key(code)
                    && let Some(i) = tx.item_by_code(code)?
                {
                    known.insert(code.clone(), i.id);
                }
            }
        }
        for (_, _, codes) in &b.combined {
            for code in codes {
                if !known.contains_key(code)
                    && let Some(i) = tx.item_by_code(code)?
                {
                    known.insert(code.clone(), i.id);
                }
            }
        }
        if dry_run {
            // New items have no ids yet: count without resolving.
            match &existing {
                None => {
                    r.bundles_created += 1;
                    r.bundles_published += u32::from(b.publish);
                }
                Some(x) => {
                    let current = x.draft().or(x.published()).map(|v| v.spec.clone());
                    let changed = match b.resolve(&known) {
                        Ok(spec) => current.as_ref() != Some(&spec),
                        Err(_) => true,
                    };
                    let publish = b.publish && (changed || x.draft().is_some());
                    if changed || publish {
                        r.bundles_changed += u32::from(changed);
                        r.bundles_published += u32::from(publish);
                    } else {
                        r.bundles_unchanged += 1;
                    }
                }
            }
            continue;
        }
        let spec = b.resolve(&known).map_err(Error::Validation)?;
        match existing {
            None => {
                r.bundles_created += 1;
                let made = create_bundle(
                    tx,
                    actor,
                    env,
                    &NewBundle {
                        code: b.code.clone(),
                        region: b.region.clone(),
                        spec,
                    },
                )
                .map_err(|err| on_row(err, cell.clone(), locate))?;
                if b.publish {
                    r.bundles_published += 1;
                    publish_bundle(tx, actor, env, made.bundle.id)
                        .map_err(|err| on_row(err, cell.clone(), locate))?;
                }
            }
            Some(x) => {
                let current = x.draft().or(x.published()).map(|v| v.spec.clone());
                let changed = current.as_ref() != Some(&spec);
                let publish = b.publish && (changed || x.draft().is_some());
                if !changed && !publish {
                    r.bundles_unchanged += 1;
                } else {
                    if changed {
                        r.bundles_changed += 1;
                        save_bundle_draft(tx, actor, env, x.id, &spec)
                            .map_err(|err| on_row(err, cell.clone(), locate))?;
                    }
                    if publish {
                        r.bundles_published += 1;
                        publish_bundle(tx, actor, env, x.id)
                            .map_err(|err| on_row(err, cell.clone(), locate))?;
                    }
                }
            }
        }
        done += 1;
        progress(done, total);
    }
    Ok(r)
}

/// The workbook to start a catalog from: every sheet with its header and no rows.
pub fn template() -> Workbook {
    write_catalog(&[], &[], &[], &BTreeMap::new())
}

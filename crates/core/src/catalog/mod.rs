//! 政务服务事项 — the service catalog (DOMAIN §3).
//!
//! A [`BasicItem`] (基本目录) is the national item; an [`Item`] (实施清单) implements it
//! at one department in one region. What an item asks and promises lives in versions
//! ([`ItemVersion`] holding an [`ItemSpec`]): a published version never changes, and a
//! case keeps the version it was filed on.

pub mod field;
pub mod material;
pub mod sheets;
pub mod spec;

pub use field::{FieldKind, FormField, check_form};
pub use material::{FieldRule, Material, MaterialForm, Medium, Requirement, is_catch_all};
pub use spec::{
    BreachPolicy, Fee, ItemSpec, ItemType, ProcessingType, ResultKind, ResultSpec, ServiceObject,
    Stage, StageKind, TongbanScope,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::FieldErrors;
use crate::identity::CreditCode;
use crate::region::RegionCode;

/// 基本目录事项 — an item of the national basic catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BasicItem {
    /// 基本编码 (letters and digits, 6–20).
    pub code: String,
    /// 事项名称.
    pub name: String,
    /// 事项类型.
    pub item_type: ItemType,
    /// 设定依据.
    pub legal_basis: String,
}

impl BasicItem {
    /// Check a basic item.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if !(6..=20).contains(&self.code.len())
            || !self
                .code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            e.add("code", "基本编码须为 6–20 位大写字母或数字");
        }
        if self.name.trim().is_empty() {
            e.add("name", "事项名称不能为空");
        }
        if self.legal_basis.trim().is_empty() {
            e.add("legal_basis", "须填写设定依据");
        }
        if e.is_empty() { Ok(()) } else { Err(e) }
    }
}

/// The lifecycle of an implementation item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// 在用 — open for new cases once a version is published.
    Active,
    /// 暂停 — no new cases until resumed; open cases go on.
    Suspended,
    /// 取消 — no new cases, ever; open cases go on.
    Cancelled,
}

impl ItemStatus {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            ItemStatus::Active => "在用",
            ItemStatus::Suspended => "暂停",
            ItemStatus::Cancelled => "取消",
        }
    }
}

/// 实施清单事项 — an item implemented by one department in one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    /// Id.
    pub id: i64,
    /// 实施编码, unique.
    pub code: String,
    /// 基本编码 of the basic item implemented.
    pub basic_code: String,
    /// 事项类型 (from the basic item).
    pub item_type: ItemType,
    /// 实施主体 — the implementing department.
    pub department_id: i64,
    /// The department's region.
    pub region: RegionCode,
    /// Name of the latest version (published or draft), for lists.
    pub name: String,
    /// Lifecycle status.
    pub status: ItemStatus,
    /// The version new cases are filed on.
    pub published_version: Option<u32>,
    /// A version being edited, not yet public.
    pub draft_version: Option<u32>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Item {
    /// Why a new case may not be filed on this item now, if it may not.
    pub fn closed_reason(&self) -> Option<&'static str> {
        match (self.status, self.published_version) {
            (ItemStatus::Suspended, _) => Some("该事项已暂停办理"),
            (ItemStatus::Cancelled, _) => Some("该事项已取消"),
            (ItemStatus::Active, None) => Some("该事项尚未发布"),
            (ItemStatus::Active, Some(_)) => None,
        }
    }
}

/// Where a version is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    /// Being edited.
    Draft,
    /// The current public version.
    Published,
    /// Replaced by a later version; kept for the cases filed on it.
    Superseded,
}

/// One version of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemVersion {
    /// The item.
    pub item_id: i64,
    /// 1, 2, 3 …
    pub version: u32,
    /// Draft, published or superseded.
    pub state: VersionState,
    /// The content.
    pub spec: ItemSpec,
    /// When published.
    pub published_at: Option<DateTime<Utc>>,
}

/// The implementation code of an item: basic code, the region padded to 12 digits,
/// `000`, the department's credit code, `1` and a two-digit sub-item serial, e.g.
/// `511A0138000000-511602000000-000-115113010833722043-1-00` (DOMAIN §3).
pub fn implementation_code(
    basic_code: &str,
    region: &RegionCode,
    department: &CreditCode,
    sub_serial: u32,
) -> String {
    format!(
        "{basic_code}-{:0<12}-000-{department}-1-{sub_serial:02}",
        region.as_str()
    )
}

#[cfg(test)]
mod tests;

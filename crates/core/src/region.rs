//! Administrative regions on five levels (五级: 省, 市, 县/区, 镇/街道, 村/社区) with
//! GB/T 2260 codes: 6 digits down to county level, 9 for towns, 12 for villages.
//!
//! Scope in Tongban is a region prefix: an account scoped to a city (`440900`) sees
//! everything whose region code starts with `4409`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The five levels. 五级联动.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// 省 — province.
    Province,
    /// 市 — prefecture-level city.
    City,
    /// 县/区 — county or district.
    County,
    /// 镇/街道 — town or sub-district.
    Town,
    /// 村/社区 — village or community.
    Village,
}

impl RegionLevel {
    /// The Chinese name of the level.
    pub fn label(self) -> &'static str {
        match self {
            RegionLevel::Province => "省",
            RegionLevel::City => "市",
            RegionLevel::County => "县（区）",
            RegionLevel::Town => "乡镇（街道）",
            RegionLevel::Village => "村（社区）",
        }
    }
}

/// Why a region code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    /// Not 6, 9 or 12 digits.
    #[error("区划代码应为 6、9 或 12 位数字")]
    Format,
    /// The first two digits are not a province.
    #[error("前两位不是有效的省级代码")]
    Province,
    /// A 9- or 12-digit code whose county part is not a county.
    #[error("乡镇、村级代码的前 6 位必须是县级代码")]
    CountyPart,
    /// A town or village serial of all zeros.
    #[error("乡镇、村级代码的序号不能全为 0")]
    ZeroSerial,
    /// The code does not sit under its parent.
    #[error("代码 {child} 不在上级区划 {parent} 之下")]
    NotUnderParent {
        /// The child code.
        child: String,
        /// The parent code.
        parent: String,
    },
}

/// A GB/T 2260 region code (6, 9 or 12 digits).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "440902")]
pub struct RegionCode(String);

impl RegionCode {
    /// Parse a code.
    pub fn parse(s: &str) -> Result<Self, RegionError> {
        let s = s.trim();
        if !matches!(s.len(), 6 | 9 | 12) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegionError::Format);
        }
        if !crate::identity::is_province_prefix(&s[..2]) {
            return Err(RegionError::Province);
        }
        if s.len() > 6 {
            if s[2..6].ends_with("00") {
                return Err(RegionError::CountyPart);
            }
            if s[6..9] == *"000" || (s.len() == 12 && s[9..12] == *"000") {
                return Err(RegionError::ZeroSerial);
            }
        }
        Ok(RegionCode(s.to_string()))
    }

    /// The level the code denotes.
    pub fn level(&self) -> RegionLevel {
        match self.0.len() {
            12 => RegionLevel::Village,
            9 => RegionLevel::Town,
            _ if self.0.ends_with("0000") => RegionLevel::Province,
            _ if self.0.ends_with("00") => RegionLevel::City,
            _ => RegionLevel::County,
        }
    }

    /// The significant prefix: what every code below this one starts with.
    /// `440000` → `44`, `440900` → `4409`, `440902` → `440902`.
    pub fn prefix(&self) -> &str {
        match self.level() {
            RegionLevel::Province => &self.0[..2],
            RegionLevel::City => &self.0[..4],
            _ => &self.0,
        }
    }

    /// True when `other` is this region or lies below it.
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(self.prefix())
    }

    /// Check that `self` may be a direct child of `parent`: one level down (a county may
    /// also sit directly under a province, 省直辖县) and inside the parent's prefix.
    pub fn check_parent(&self, parent: &RegionCode) -> Result<(), RegionError> {
        let ok_level = matches!(
            (parent.level(), self.level()),
            (
                RegionLevel::Province,
                RegionLevel::City | RegionLevel::County
            ) | (RegionLevel::City, RegionLevel::County)
                | (RegionLevel::County, RegionLevel::Town)
                | (RegionLevel::Town, RegionLevel::Village)
        );
        if ok_level && self.0 != parent.0 && self.0.starts_with(parent.prefix()) {
            Ok(())
        } else {
            Err(RegionError::NotUnderParent {
                child: self.0.clone(),
                parent: parent.0.clone(),
            })
        }
    }

    /// The county (6-digit) code this region is in or above.
    pub fn county_part(&self) -> &str {
        &self.0[..6]
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RegionCode {
    type Error = RegionError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        RegionCode::parse(&s)
    }
}

impl From<RegionCode> for String {
    fn from(v: RegionCode) -> String {
        v.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A region with its name and parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Region {
    /// GB/T 2260 code.
    pub code: RegionCode,
    /// Name, e.g. 茂南区.
    pub name: String,
    /// Parent code; `None` only for the top region of a deployment.
    pub parent: Option<RegionCode>,
    /// Level derived from the code.
    pub level: RegionLevel,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rc(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn levels_follow_the_code_shape() {
        assert_eq!(rc("440000").level(), RegionLevel::Province);
        assert_eq!(rc("440900").level(), RegionLevel::City);
        assert_eq!(rc("440902").level(), RegionLevel::County);
        assert_eq!(rc("440902001").level(), RegionLevel::Town);
        assert_eq!(rc("440902001001").level(), RegionLevel::Village);
    }

    #[test]
    fn children_must_sit_under_their_parent() {
        assert!(rc("440902").check_parent(&rc("440900")).is_ok());
        assert!(rc("440900").check_parent(&rc("440000")).is_ok());
        assert!(rc("440902001").check_parent(&rc("440902")).is_ok());
        assert!(rc("440902001001").check_parent(&rc("440902001")).is_ok());
        // Wrong prefix.
        assert!(rc("440802").check_parent(&rc("440900")).is_err());
        // Skipping a level.
        assert!(rc("440902001").check_parent(&rc("440900")).is_err());
        // Same code.
        assert!(rc("440900").check_parent(&rc("440900")).is_err());
        // A village under the wrong town.
        assert!(rc("440902002001").check_parent(&rc("440902001")).is_err());
    }

    #[test]
    fn malformed_codes_are_refused() {
        assert_eq!(RegionCode::parse("4409"), Err(RegionError::Format));
        assert_eq!(RegionCode::parse("44090a"), Err(RegionError::Format));
        assert_eq!(RegionCode::parse("990900"), Err(RegionError::Province));
        assert_eq!(RegionCode::parse("440900001"), Err(RegionError::CountyPart));
        assert_eq!(RegionCode::parse("440902000"), Err(RegionError::ZeroSerial));
    }

    #[test]
    fn scope_contains_by_prefix() {
        assert!(rc("440900").contains(&rc("440902001001")));
        assert!(rc("440000").contains(&rc("440902")));
        assert!(!rc("440902").contains(&rc("440904")));
        assert!(rc("440902").contains(&rc("440902")));
    }
}

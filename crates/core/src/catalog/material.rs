//! 申请材料 — the materials an item asks for.

use serde::{Deserialize, Serialize};

use crate::error::FieldErrors;

/// Whether a material must be given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Requirement {
    /// 必要 — always required.
    Required,
    /// 非必要 — optional.
    Optional,
    /// 容缺/情形 — required only in a situation: described for people, and where a form
    /// field decides it, a rule the system evaluates.
    Conditional {
        /// The situation in words, e.g. "委托他人代办的".
        condition: String,
        /// When set: the material is required iff the form field `field` equals `equals`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        when: Option<FieldRule>,
    },
}

/// A rule over one form field's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// The form field key.
    pub field: String,
    /// The value that makes the rule true (compared as text; `true`/`false` for yes/no).
    pub equals: String,
}

/// 原件/复印件.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaterialForm {
    /// 原件.
    Original,
    /// 复印件.
    Copy,
    /// 原件及复印件 (the original is checked and returned; the copy is kept).
    OriginalAndCopy,
}

impl MaterialForm {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            MaterialForm::Original => "原件",
            MaterialForm::Copy => "复印件",
            MaterialForm::OriginalAndCopy => "原件及复印件",
        }
    }
}

/// 纸质/电子.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    /// 纸质.
    Paper,
    /// 电子.
    Electronic,
    /// 纸质或电子.
    Either,
}

/// One material in a guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// Key within the item, e.g. `M01` (letters, digits, `_`, `-`).
    pub code: String,
    /// 材料名称 — a specific name; catch-alls such as 其他材料 are refused.
    pub name: String,
    /// 来源渠道, e.g. 申请人自备, 政府部门核发.
    #[serde(default = "default_source")]
    pub source: String,
    /// Required, optional or conditional.
    pub requirement: Requirement,
    /// Original or copy.
    #[serde(default = "default_form")]
    pub form: MaterialForm,
    /// Number of copies (份数).
    #[serde(default = "one")]
    pub copies: u32,
    /// Paper or electronic.
    #[serde(default = "default_medium")]
    pub medium: Medium,
    /// 容缺 — may be missing at acceptance under the applicant's written commitment.
    #[serde(default)]
    pub rongque: bool,
    /// 免提交 — the certificate type that proves this material (e.g. 营业执照); when the
    /// applicant holds one, the material is not asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_type: Option<String>,
    /// 填报须知 / notes for the applicant.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

fn default_source() -> String {
    "申请人自备".into()
}
fn default_form() -> MaterialForm {
    MaterialForm::Original
}
fn default_medium() -> Medium {
    Medium::Either
}
fn one() -> u32 {
    1
}

/// Endings and phrases that make a material name a catch-all (兜底条款), which guides
/// may not use (seed 003: 不得有"其他材料""相关材料"等模糊表述).
const CATCH_ALL_ENDINGS: &[&str] = &[
    "其他材料",
    "其它材料",
    "相关材料",
    "有关材料",
    "其他文件",
    "其它文件",
    "相关文件",
    "有关文件",
    "其他资料",
    "其它资料",
    "相关资料",
    "有关资料",
    "其他证明",
    "其它证明",
    "相关证明",
    "有关证明",
    "其他证明材料",
    "相关证明材料",
    "有关证明材料",
    "等材料",
    "等文件",
    "等资料",
    "等证明",
    "等证件",
    "等",
];
const CATCH_ALL_PHRASES: &[&str] = &[
    "……",
    "...",
    "…",
    "等相关",
    "等有关",
    "等其他",
    "要求的其他",
    "认为需要",
    "认为必要",
    "其他需要",
    "其他必要",
    "规定的其他",
];

/// True when `name` is a catch-all such as 其他材料, 相关材料 or "……等材料".
pub fn is_catch_all(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| !c.is_whitespace() && !"。.，,；;：:（）()".contains(*c))
        .collect();
    if n == "其他" || n == "其它" || n == "材料" || n == "相关" {
        return true;
    }
    CATCH_ALL_ENDINGS.iter().any(|e| n.ends_with(e))
        || CATCH_ALL_PHRASES.iter().any(|p| name.contains(p))
}

impl Material {
    /// Check one material.
    pub fn validate(&self) -> FieldErrors {
        let mut e = FieldErrors::new();
        if !is_code(&self.code) {
            e.add("code", "编码须为 1–20 位字母、数字、下划线或连字符");
        }
        let name = self.name.trim();
        if name.is_empty() {
            e.add("name", "材料名称不能为空");
        } else if name.chars().count() > 100 {
            e.add("name", "材料名称不能超过 100 字");
        } else if is_catch_all(name) {
            e.add(
                "name",
                "不得使用“其他材料”“相关材料”“……等材料”等兜底表述，请写明具体材料",
            );
        }
        if self.copies == 0 || self.copies > 20 {
            e.add("copies", "份数须在 1–20 之间");
        }
        if let Requirement::Conditional { condition, .. } = &self.requirement
            && condition.trim().is_empty()
        {
            e.add("requirement.condition", "情形材料须写明适用情形");
        }
        if self.rongque && self.requirement == Requirement::Optional {
            e.add("rongque", "非必要材料无需设为容缺");
        }
        if let Some(c) = &self.certificate_type
            && c.trim().is_empty()
        {
            e.add("certificate_type", "证照类型不能为空字符串");
        }
        e
    }
}

/// A key: 1–20 ASCII letters, digits, `_` or `-`.
pub(crate) fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 20
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_all_names_are_recognised() {
        for bad in [
            "其他材料",
            "相关材料",
            "其它相关材料",
            "身份证、户口簿等材料",
            "审批部门要求的其他材料",
            "法律法规规定的其他证明文件",
            "申请书……",
            "有关证明材料",
            "其他",
            "申请人认为需要提供的材料",
        ] {
            assert!(is_catch_all(bad), "{bad} should be a catch-all");
        }
    }

    #[test]
    fn specific_names_pass() {
        for good in [
            "营业执照",
            "法定代表人身份证明",
            "其他股东身份证明复印件",
            "食品经营许可申请书",
            "房屋所有权证明或者租赁合同",
            "卫生管理制度",
        ] {
            assert!(!is_catch_all(good), "{good} should pass");
        }
    }
}

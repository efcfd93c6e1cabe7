//! 表单字段 — typed form fields, and checking an applicant's values against them.
//!
//! Fields with the same key in two items are the same field (DOMAIN §3); that is what
//! lets a bundle ask each question once.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::error::FieldErrors;
use crate::identity::{CreditCode, IdNumber, Phone};

/// The type of a form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// 文本.
    Text,
    /// 数字 (decimal allowed).
    Number,
    /// 日期 YYYY-MM-DD.
    Date,
    /// 单选 from `options`.
    Choice,
    /// 是/否 (`true`/`false`).
    YesNo,
    /// 身份证号码 (GB 11643).
    IdNumber,
    /// 统一社会信用代码 (GB 32100).
    CreditCode,
    /// 联系电话.
    Phone,
    /// 地址.
    Address,
}

/// One field of an item's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    /// Key (letters, digits, `_`), shared across items for the same meaning.
    pub key: String,
    /// Label shown to people.
    pub label: String,
    /// Type.
    pub kind: FieldKind,
    /// Must be filled.
    #[serde(default)]
    pub required: bool,
    /// Options of a `choice` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub help: String,
}

/// Longest text value accepted.
pub const MAX_TEXT: usize = 2000;

impl FormField {
    /// Check the definition.
    pub fn validate(&self) -> FieldErrors {
        let mut e = FieldErrors::new();
        if self.key.is_empty()
            || self.key.len() > 40
            || !self
                .key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            || !self.key.as_bytes()[0].is_ascii_lowercase()
        {
            e.add(
                "key",
                "字段键须为小写字母开头、1–40 位小写字母、数字或下划线",
            );
        }
        if self.label.trim().is_empty() {
            e.add("label", "字段名称不能为空");
        }
        match self.kind {
            FieldKind::Choice => {
                if self.options.len() < 2 {
                    e.add("options", "单选字段至少需要两个选项");
                }
                let mut seen = std::collections::BTreeSet::new();
                for o in &self.options {
                    if o.trim().is_empty() || !seen.insert(o.as_str()) {
                        e.add("options", "选项不能为空或重复");
                    }
                }
            }
            _ => {
                if !self.options.is_empty() {
                    e.add("options", "只有单选字段可以设置选项");
                }
            }
        }
        e
    }

    /// Check one value; returns the normalised value (e.g. an ID number in capitals).
    pub fn check_value(&self, v: &str) -> Result<String, String> {
        let v = v.trim();
        match self.kind {
            FieldKind::Text | FieldKind::Address => {
                if v.chars().count() > MAX_TEXT {
                    Err(format!("不能超过 {MAX_TEXT} 字"))
                } else {
                    Ok(v.to_string())
                }
            }
            FieldKind::Number => v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(|_| v.to_string())
                .ok_or_else(|| "须为数字".to_string()),
            FieldKind::Date => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(|d| d.to_string())
                .map_err(|_| "须为日期，格式 YYYY-MM-DD".to_string()),
            FieldKind::Choice => {
                if self.options.iter().any(|o| o == v) {
                    Ok(v.to_string())
                } else {
                    Err(format!("须为以下选项之一：{}", self.options.join("、")))
                }
            }
            FieldKind::YesNo => match v {
                "true" | "是" => Ok("true".into()),
                "false" | "否" => Ok("false".into()),
                _ => Err("须为“是”或“否”".into()),
            },
            FieldKind::IdNumber => IdNumber::parse(v)
                .map(|x| x.as_str().to_string())
                .map_err(|e| format!("身份证号码{e}")),
            FieldKind::CreditCode => CreditCode::parse(v)
                .map(|x| x.as_str().to_string())
                .map_err(|e| format!("统一社会信用代码{e}")),
            FieldKind::Phone => Phone::parse(v)
                .map(|x| x.as_str().to_string())
                .map_err(|e| e.to_string()),
        }
    }
}

/// Check a whole form against its fields. Unknown keys and missing required fields are
/// errors; returns the normalised values (empty optional values dropped).
pub fn check_form(
    fields: &[FormField],
    values: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut out = BTreeMap::new();
    for k in values.keys() {
        if !fields.iter().any(|f| &f.key == k) {
            e.add(format!("form.{k}"), "该事项没有这个字段");
        }
    }
    for f in fields {
        match values
            .get(&f.key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            None if f.required => {
                e.add(format!("form.{}", f.key), format!("“{}”必须填写", f.label))
            }
            None => {}
            Some(v) => match f.check_value(v) {
                Ok(v) => {
                    out.insert(f.key.clone(), v);
                }
                Err(rule) => e.add(format!("form.{}", f.key), format!("“{}”{rule}", f.label)),
            },
        }
    }
    if e.is_empty() { Ok(out) } else { Err(e) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(key: &str, kind: FieldKind, required: bool) -> FormField {
        FormField {
            key: key.into(),
            label: key.into(),
            kind,
            required,
            options: if kind == FieldKind::Choice {
                vec!["甲".into(), "乙".into()]
            } else {
                vec![]
            },
            help: String::new(),
        }
    }

    #[test]
    fn a_form_is_checked_field_by_field() {
        let fields = vec![
            field("name", FieldKind::Text, true),
            field("area", FieldKind::Number, false),
            field("kind", FieldKind::Choice, true),
            field("id", FieldKind::IdNumber, true),
        ];
        let mut v = BTreeMap::new();
        v.insert("area".into(), "12.5x".into());
        v.insert("kind".into(), "丙".into());
        v.insert("id".into(), "11010519491231002x".into());
        v.insert("bogus".into(), "1".into());
        let e = check_form(&fields, &v).unwrap_err();
        let keys: Vec<_> = e.fields().keys().cloned().collect();
        assert_eq!(keys, ["form.area", "form.bogus", "form.kind", "form.name"]);

        let mut v = BTreeMap::new();
        v.insert("name".into(), " 张三 ".into());
        v.insert("kind".into(), "甲".into());
        v.insert("id".into(), "11010519491231002x".into());
        let out = check_form(&fields, &v).unwrap();
        assert_eq!(out["name"], "张三");
        assert_eq!(out["id"], "11010519491231002X");
        assert!(!out.contains_key("area"));
    }

    #[test]
    fn field_definitions_are_checked() {
        let mut f = field("Bad Key", FieldKind::Choice, true);
        f.options = vec!["a".into()];
        let e = f.validate();
        assert!(e.fields().contains_key("key"));
        assert!(e.fields().contains_key("options"));
    }
}

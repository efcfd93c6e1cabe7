//! 知识库 — the knowledge base operators answer from: articles with versions and a
//! period of validity; a closed order can become an article. And the dispatch
//! catalogue (派单目录): the categories of orders, each with its default type, its
//! responsible unit, and (for Open311 clients) its attributes.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::OrderType;
use crate::error::{FieldErrors, Result};

/// What an editor writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    /// 标题, e.g. 如何办理居住证.
    pub title: String,
    /// Words callers use.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// 答复口径.
    pub body: String,
    /// The category it answers.
    #[serde(default)]
    pub category_id: Option<i64>,
    /// Valid from.
    pub valid_from: NaiveDate,
    /// Valid until (none: until withdrawn).
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
}

impl ArticleInput {
    /// Check.
    pub fn validate(&self) -> Result<()> {
        let mut e = FieldErrors::new();
        let t = self.title.trim().chars().count();
        if t == 0 || t > 100 {
            e.add("title", "标题不能为空且不超过 100 字");
        }
        let b = self.body.trim().chars().count();
        if b == 0 || b > 10_000 {
            e.add("body", "答复内容不能为空且不超过 10000 字");
        }
        if self.keywords.len() > 20
            || self
                .keywords
                .iter()
                .any(|k| k.trim().is_empty() || k.chars().count() > 20)
        {
            e.add("keywords", "关键词最多 20 个，每个 1–20 字");
        }
        if let Some(u) = self.valid_until
            && u < self.valid_from
        {
            e.add("valid_until", "失效日期不能早于生效日期");
        }
        e.into_result()
    }
}

/// One version of an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ArticleVersion {
    /// 1, 2, …
    pub version: u32,
    /// The content.
    pub content: ArticleInput,
    /// By whom.
    pub by: i64,
    /// When.
    pub at: DateTime<Utc>,
}

/// A knowledge-base article with its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Article {
    /// Id.
    pub id: i64,
    /// The region it serves.
    pub region: String,
    /// Every version, the current last.
    pub versions: Vec<ArticleVersion>,
    /// Withdrawn (no longer used).
    pub withdrawn: bool,
    /// The order it was made from.
    pub from_order: Option<i64>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Article {
    /// The current content.
    pub fn current(&self) -> Option<&ArticleInput> {
        self.versions.last().map(|v| &v.content)
    }

    /// In force on `day`: not withdrawn and within its period.
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        !self.withdrawn
            && self
                .current()
                .is_some_and(|c| c.valid_from <= day && c.valid_until.is_none_or(|u| day <= u))
    }
}

/// The datatypes of an Open311 attribute (GeoReport v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    /// A short text.
    String,
    /// A number.
    Number,
    /// An ISO 8601 instant.
    Datetime,
    /// A long text.
    Text,
    /// One of `values`.
    Singlevaluelist,
    /// Several of `values`.
    Multivaluelist,
}

/// An attribute a category asks for (Open311 service definition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    /// Code (`attribute[code]` in a request).
    pub code: String,
    /// The question.
    pub description: String,
    /// Datatype.
    pub datatype: Datatype,
    /// Must be given.
    #[serde(default)]
    pub required: bool,
    /// The values of a list: (key, name).
    #[serde(default)]
    pub values: Vec<(String, String)>,
}

/// A category of the dispatch catalogue (派单目录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    /// Id.
    pub id: i64,
    /// Code (also the Open311 `service_code`), e.g. `road-light`.
    pub code: String,
    /// 名称, e.g. 路灯不亮.
    pub name: String,
    /// 说明.
    pub description: String,
    /// 分组, e.g. 城市管理.
    pub group: String,
    /// Default type of its orders.
    pub default_type: OrderType,
    /// The unit it goes to unless the dispatcher decides otherwise (职责清单).
    pub unit: Option<i64>,
    /// Words it is known by.
    pub keywords: Vec<String>,
    /// Attributes asked of Open311 clients.
    pub attributes: Vec<Attribute>,
    /// Offered.
    pub active: bool,
}

impl Category {
    /// Check the attributes of a request against the category: `(code, value)` pairs.
    /// Required ones must be there when `enforce_required` (an Open311 client fills the
    /// service definition in; an operator on the phone records what the caller knows).
    pub fn check_attributes(
        &self,
        given: &[(String, String)],
        enforce_required: bool,
    ) -> Result<()> {
        let mut e = FieldErrors::new();
        for a in &self.attributes {
            let vals: Vec<&str> = given
                .iter()
                .filter(|(c, _)| c == &a.code)
                .map(|(_, v)| v.as_str())
                .collect();
            let field = format!("attribute[{}]", a.code);
            if vals.is_empty() || vals.iter().all(|v| v.trim().is_empty()) {
                if a.required && enforce_required {
                    e.add(field, format!("须填写：{}", a.description));
                }
                continue;
            }
            for v in &vals {
                let ok = match a.datatype {
                    Datatype::String | Datatype::Text => v.chars().count() <= 2000,
                    Datatype::Number => v.trim().parse::<f64>().is_ok_and(f64::is_finite),
                    Datatype::Datetime => DateTime::parse_from_rfc3339(v.trim()).is_ok(),
                    Datatype::Singlevaluelist | Datatype::Multivaluelist => {
                        a.values.iter().any(|(k, _)| k == v)
                    }
                };
                if !ok {
                    e.add(&field, "取值不符合该项的格式或选项");
                }
            }
            if a.datatype == Datatype::Singlevaluelist && vals.len() > 1 {
                e.add(&field, "只能选择一个值");
            }
        }
        for (c, _) in given {
            if !self.attributes.iter().any(|a| &a.code == c) {
                e.add(format!("attribute[{c}]"), "该服务没有这一项");
            }
        }
        e.into_result()
    }
}

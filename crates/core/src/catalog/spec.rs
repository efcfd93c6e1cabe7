//! 实施清单 — the content of one version of an implementation item: every 十统一 element.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::field::FormField;
use super::material::{Material, Requirement};
use crate::error::FieldErrors;

/// 事项类型 — the kind of power or service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    /// 行政许可.
    License,
    /// 行政给付.
    Payment,
    /// 行政确认.
    Confirmation,
    /// 行政裁决.
    Ruling,
    /// 行政奖励.
    Reward,
    /// 行政征收.
    Levy,
    /// 其他行政权力.
    OtherPower,
    /// 公共服务.
    PublicService,
}

impl ItemType {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            ItemType::License => "行政许可",
            ItemType::Payment => "行政给付",
            ItemType::Confirmation => "行政确认",
            ItemType::Ruling => "行政裁决",
            ItemType::Reward => "行政奖励",
            ItemType::Levy => "行政征收",
            ItemType::OtherPower => "其他行政权力",
            ItemType::PublicService => "公共服务",
        }
    }
}

/// 办件类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProcessingType {
    /// 即办件 — decided at the window, the same day, by an authorized clerk.
    Immediate,
    /// 承诺件 — accepted, then decided by the department within the promised limit.
    Promised,
}

impl ProcessingType {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            ProcessingType::Immediate => "即办件",
            ProcessingType::Promised => "承诺件",
        }
    }
}

/// 服务对象.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ServiceObject {
    /// 自然人.
    Person,
    /// 法人（企业、社会组织）.
    Enterprise,
}

/// 通办范围.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TongbanScope {
    /// Only at the implementing department's region.
    Local,
    /// 全市通办.
    City,
    /// 全省通办.
    Province,
}

/// The kinds of process stages (办理流程环节).
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
pub enum StageKind {
    /// 收件.
    Receive,
    /// 受理.
    Accept,
    /// 审查.
    Review,
    /// 现场踏勘 — special procedure, not counted against the limit.
    SiteInspection,
    /// 专家评审 — special procedure.
    ExpertReview,
    /// 听证 — special procedure.
    Hearing,
    /// 决定.
    Decide,
    /// 制证.
    Produce,
    /// 出件.
    Issue,
}

impl StageKind {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            StageKind::Receive => "收件",
            StageKind::Accept => "受理",
            StageKind::Review => "审查",
            StageKind::SiteInspection => "现场踏勘",
            StageKind::ExpertReview => "专家评审",
            StageKind::Hearing => "听证",
            StageKind::Decide => "决定",
            StageKind::Produce => "制证",
            StageKind::Issue => "出件",
        }
    }

    /// Special procedures (特别程序) pause the limit instead of using it.
    pub fn is_special(self) -> bool {
        matches!(
            self,
            StageKind::SiteInspection | StageKind::ExpertReview | StageKind::Hearing
        )
    }
}

/// One stage of the process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Which stage.
    pub kind: StageKind,
    /// Time budget in working days (special procedures: a typical duration, not counted).
    pub days: u32,
    /// Who is responsible, e.g. 审查人员.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub responsible: String,
}

/// What the case produces (办理结果).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultSpec {
    /// Certificate (证照) or decision document (批文).
    pub kind: ResultKind,
    /// Its name, e.g. 食品经营许可证.
    pub name: String,
}

/// The kind of result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    /// 证照.
    Certificate,
    /// 批文、决定书、证明.
    Document,
}

/// 收费.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    /// 收费项目.
    pub name: String,
    /// 标准, in words (e.g. "每件 80 元").
    pub standard: String,
    /// 收费依据.
    pub basis: String,
}

/// What happens to a case when a 容缺 commitment is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreachPolicy {
    /// 终止办理.
    #[default]
    Terminate,
    /// 暂停办理 until the material is supplied: no decision meanwhile.
    Hold,
}

/// 网上办理深度 (1 信息发布 … 4 全程网办).
pub type OnlineDepth = u8;

/// The content of one version of an implementation item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    /// 事项名称.
    pub name: String,
    /// 子项名称 (业务办理项), when the basic item is split.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sub_item: String,
    /// 别名 — other names people use (for search).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// 主题 — themes for browsing (e.g. 企业开办, 生育收养).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub themes: Vec<String>,
    /// 设定依据 — legal basis, one entry per law and article.
    pub legal_basis: Vec<String>,
    /// 受理条件.
    #[serde(default)]
    pub conditions: String,
    /// 办件类型.
    pub processing_type: ProcessingType,
    /// 法定办结时限 in working days.
    pub legal_limit_days: u32,
    /// 承诺办结时限 in working days (≤ legal).
    pub promised_limit_days: u32,
    /// 网上预审时限 in working days (seed 001: 2).
    #[serde(default = "two")]
    pub pre_review_days: u32,
    /// 容缺补正期限 in working days: the default due date of a 容缺 commitment.
    #[serde(default = "five")]
    pub rongque_days: u32,
    /// What happens when a 容缺 commitment is broken.
    #[serde(default)]
    pub breach_policy: BreachPolicy,
    /// 收费; empty means 不收费.
    #[serde(default)]
    pub fees: Vec<Fee>,
    /// 服务对象.
    pub service_objects: Vec<ServiceObject>,
    /// 到办事现场次数 (0 = 零跑腿, 1 = 最多跑一次).
    pub visits: u8,
    /// 网上办理深度 1–4.
    #[serde(default = "four")]
    pub online_depth: OnlineDepth,
    /// 通办范围.
    #[serde(default = "local")]
    pub tongban_scope: TongbanScope,
    /// 是否支持代办 (村、镇代办员).
    #[serde(default)]
    pub agent_allowed: bool,
    /// 办理地点.
    #[serde(default)]
    pub location: String,
    /// 咨询电话.
    #[serde(default)]
    pub phone: String,
    /// 申请材料.
    pub materials: Vec<Material>,
    /// 表单字段.
    #[serde(default)]
    pub fields: Vec<FormField>,
    /// 办理流程.
    pub stages: Vec<Stage>,
    /// 办理结果.
    pub result: ResultSpec,
}

fn two() -> u32 {
    2
}
fn five() -> u32 {
    5
}
fn four() -> OnlineDepth {
    4
}
fn local() -> TongbanScope {
    TongbanScope::Local
}

/// The longest legal limit accepted (a year of working days).
pub const MAX_LIMIT_DAYS: u32 = 250;

impl ItemSpec {
    /// Check every element; all problems at once, by field path.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            e.add("name", "事项名称不能为空且不超过 100 字");
        }
        if self.legal_basis.iter().all(|b| b.trim().is_empty()) {
            e.add("legal_basis", "须填写设定依据");
        }
        if self.legal_limit_days > MAX_LIMIT_DAYS {
            e.add(
                "legal_limit_days",
                format!("法定时限不能超过 {MAX_LIMIT_DAYS} 个工作日"),
            );
        }
        if self.promised_limit_days > self.legal_limit_days {
            e.add("promised_limit_days", "承诺时限不能超过法定时限");
        }
        match self.processing_type {
            ProcessingType::Immediate => {
                if self.promised_limit_days != 0 {
                    e.add("promised_limit_days", "即办件承诺时限须为 0（当场办结）");
                }
            }
            ProcessingType::Promised => {
                if self.promised_limit_days == 0 {
                    e.add("promised_limit_days", "承诺件承诺时限须至少 1 个工作日");
                }
            }
        }
        if self.pre_review_days > 10 {
            e.add("pre_review_days", "网上预审时限不能超过 10 个工作日");
        }
        if self.rongque_days == 0 || self.rongque_days > 60 {
            e.add("rongque_days", "容缺补正期限须在 1–60 个工作日之间");
        }
        if self.service_objects.is_empty() {
            e.add("service_objects", "至少选择一个服务对象");
        }
        if self.visits > 5 {
            e.add("visits", "到现场次数不能超过 5 次");
        }
        if !(1..=4).contains(&self.online_depth) {
            e.add("online_depth", "网上办理深度须为 1–4");
        }
        if self.result.name.trim().is_empty() {
            e.add("result.name", "须写明办理结果名称");
        }
        for (i, f) in self.fees.iter().enumerate() {
            if f.name.trim().is_empty() || f.standard.trim().is_empty() || f.basis.trim().is_empty()
            {
                e.add(format!("fees[{i}]"), "收费须写明项目、标准和依据");
            }
        }

        if self.materials.is_empty() {
            e.add("materials", "至少需要一项申请材料");
        }
        let mut codes = BTreeSet::new();
        let mut names = BTreeSet::new();
        for (i, m) in self.materials.iter().enumerate() {
            e.nest(&format!("materials[{i}]"), m.validate());
            if !codes.insert(m.code.as_str()) {
                e.add(format!("materials[{i}].code"), "材料编码重复");
            }
            if !names.insert(m.name.trim()) {
                e.add(format!("materials[{i}].name"), "材料名称重复");
            }
            if let Requirement::Conditional {
                when: Some(rule), ..
            } = &m.requirement
                && !self.fields.iter().any(|f| f.key == rule.field)
            {
                e.add(
                    format!("materials[{i}].requirement.when.field"),
                    "引用的表单字段不存在",
                );
            }
        }
        let mut keys = BTreeSet::new();
        for (i, f) in self.fields.iter().enumerate() {
            e.nest(&format!("fields[{i}]"), f.validate());
            if !keys.insert(f.key.as_str()) {
                e.add(format!("fields[{i}].key"), "字段键重复");
            }
        }

        self.validate_stages(&mut e);
        if e.is_empty() { Ok(()) } else { Err(e) }
    }

    fn validate_stages(&self, e: &mut FieldErrors) {
        let mut last: Option<StageKind> = None;
        let mut seen = BTreeSet::new();
        for (i, s) in self.stages.iter().enumerate() {
            if !seen.insert(s.kind) {
                e.add(format!("stages[{i}].kind"), "环节重复");
            }
            if let Some(prev) = last
                && s.kind < prev
            {
                e.add(
                    format!("stages[{i}].kind"),
                    "环节顺序须为 收件→受理→审查→(特别程序)→决定→制证→出件",
                );
            }
            if s.days > MAX_LIMIT_DAYS {
                e.add(format!("stages[{i}].days"), "环节时限过长");
            }
            last = Some(s.kind);
        }
        if self.processing_type == ProcessingType::Promised {
            for k in [StageKind::Accept, StageKind::Review, StageKind::Decide] {
                if !seen.contains(&k) {
                    e.add("stages", format!("承诺件须包含“{}”环节", k.label()));
                }
            }
            let counted: u32 = self
                .stages
                .iter()
                .filter(|s| {
                    matches!(
                        s.kind,
                        StageKind::Review | StageKind::Decide | StageKind::Produce
                    )
                })
                .map(|s| s.days)
                .sum();
            if counted > self.promised_limit_days {
                e.add(
                    "stages",
                    format!(
                        "审查、决定、制证环节时限合计 {counted} 个工作日，超过承诺时限 {} 个工作日",
                        self.promised_limit_days
                    ),
                );
            }
        }
    }

    /// The budget of a stage, if the process has it.
    pub fn stage_days(&self, kind: StageKind) -> Option<u32> {
        self.stages.iter().find(|s| s.kind == kind).map(|s| s.days)
    }

    /// The special procedures the process declares.
    pub fn special_procedures(&self) -> impl Iterator<Item = StageKind> + '_ {
        self.stages
            .iter()
            .map(|s| s.kind)
            .filter(|k| k.is_special())
    }

    /// The material with this code.
    pub fn material(&self, code: &str) -> Option<&Material> {
        self.materials.iter().find(|m| m.code == code)
    }
}

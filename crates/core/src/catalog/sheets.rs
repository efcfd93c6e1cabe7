//! The catalog as a spreadsheet (事项目录导入导出): the column layout of
//! `docs/IMPORT.md`, written from and read into catalog values. Pure: no store, no
//! file format. Every problem found while reading is reported by cell (`材料!C5`) with
//! the column's name and the rule, and reading goes on to find the others.

use std::collections::BTreeMap;

use super::field::{FieldKind, FormField};
use super::material::{FieldRule, Material, MaterialForm, Medium, Requirement};
use super::spec::{
    BreachPolicy, Fee, ItemSpec, ItemType, ProcessingType, ResultKind, ResultSpec, ServiceObject,
    Stage, StageKind, TongbanScope,
};
use super::{BasicItem, ItemStatus};
use crate::bundle::{
    BundleEntry, BundleSpec, CombinedCertificate, Condition, MaterialSkip, Question,
};
use crate::error::FieldErrors;
use crate::table::{Sheet, Workbook, cell_ref};

/// One column of a sheet.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Its header, exactly as in row 1.
    pub name: &'static str,
    /// A value is needed in every row.
    pub required: bool,
    /// What goes in it (for docs/IMPORT.md and the template).
    pub help: &'static str,
}

/// One sheet of the layout.
#[derive(Debug, Clone, Copy)]
pub struct SheetLayout {
    /// The sheet's name.
    pub name: &'static str,
    /// What one row is.
    pub help: &'static str,
    /// Its columns, in order.
    pub columns: &'static [Column],
}

const fn c(name: &'static str, required: bool, help: &'static str) -> Column {
    Column {
        name,
        required,
        help,
    }
}

/// Sheet names.
pub mod sheet {
    /// 基本目录.
    pub const BASIC: &str = "基本目录";
    /// 事项.
    pub const ITEMS: &str = "事项";
    /// 材料.
    pub const MATERIALS: &str = "材料";
    /// 表单字段.
    pub const FIELDS: &str = "表单字段";
    /// 环节.
    pub const STAGES: &str = "环节";
    /// 收费.
    pub const FEES: &str = "收费";
    /// 一件事.
    pub const BUNDLES: &str = "一件事";
    /// 一件事问题.
    pub const QUESTIONS: &str = "一件事问题";
    /// 一件事事项.
    pub const ENTRIES: &str = "一件事事项";
    /// 一件事免交材料.
    pub const SKIPS: &str = "一件事免交材料";
    /// 多证合一.
    pub const COMBINED: &str = "多证合一";
}

/// The layout: every sheet and column, in order.
pub const LAYOUT: &[SheetLayout] = &[
    SheetLayout {
        name: sheet::BASIC,
        help: "一行一个基本目录事项；已有的须与系统中一致，没有的将新建",
        columns: &[
            c("基本编码", true, "6–20 位大写字母或数字"),
            c("事项名称", true, ""),
            c(
                "事项类型",
                true,
                "行政许可、行政给付、行政确认、行政裁决、行政奖励、行政征收、其他行政权力、公共服务",
            ),
            c("设定依据", true, ""),
        ],
    },
    SheetLayout {
        name: sheet::ITEMS,
        help: "一行一个实施清单事项，以实施编码区分：系统中没有的新建，有的内容不同则保存为新草稿",
        columns: &[
            c("实施编码", true, "6–80 位字母、数字或连字符"),
            c("基本编码", true, "基本目录中的编码"),
            c("实施部门信用代码", true, "实施部门的统一社会信用代码"),
            c("事项名称", true, "不超过 100 字"),
            c("子项名称", false, "基本事项拆分的业务办理项"),
            c("别名", false, "群众常用的其他叫法，用“、”分隔"),
            c("主题", false, "用“、”分隔，如 企业开办、生育收养"),
            c("设定依据", true, "每条法律条款一行"),
            c("受理条件", false, ""),
            c("办件类型", true, "即办件 或 承诺件"),
            c("法定时限", true, "工作日，0–250"),
            c("承诺时限", true, "工作日；即办件为 0"),
            c("预审时限", false, "网上预审工作日，默认 2"),
            c("容缺补正期限", false, "工作日，默认 5"),
            c("违诺处理", false, "终止办理（默认）或 暂停办理"),
            c("服务对象", true, "自然人、法人，用“、”分隔"),
            c("到现场次数", true, "0（零跑腿）到 5"),
            c("网办深度", false, "1–4，默认 4"),
            c("通办范围", false, "本地（默认）、全市通办 或 全省通办"),
            c("可代办", false, "是 或 否（默认）"),
            c("办理地点", false, ""),
            c("咨询电话", false, ""),
            c("结果类型", true, "证照 或 批文"),
            c("结果名称", true, "如 食品经营许可证"),
            c("状态", false, "在用（默认）、暂停 或 取消"),
            c("发布", false, "是：导入后发布；否（默认）：保存为草稿"),
        ],
    },
    SheetLayout {
        name: sheet::MATERIALS,
        help: "一行一项申请材料，按事项的实施编码归属，顺序即指南中的顺序",
        columns: &[
            c("实施编码", true, "事项表中的实施编码"),
            c("材料编码", true, "事项内唯一，如 M01"),
            c("材料名称", true, "具体名称，不得使用“其他材料”等兜底表述"),
            c("来源渠道", false, "默认 申请人自备"),
            c("必要性", true, "必要、非必要 或 情形"),
            c("适用情形", false, "必要性为“情形”时必填，如 委托他人代办的"),
            c("判断字段", false, "由表单字段决定是否需要时：字段键"),
            c("字段取值", false, "该字段等于此值时需要"),
            c(
                "原件或复印件",
                false,
                "原件（默认）、复印件 或 原件及复印件",
            ),
            c("份数", false, "1–20，默认 1"),
            c("介质", false, "纸质、电子 或 纸质或电子（默认）"),
            c("容缺", false, "是 或 否（默认）"),
            c(
                "免提交证照",
                false,
                "可由该类电子证照替代时填证照类型，如 营业执照",
            ),
            c("填报须知", false, ""),
        ],
    },
    SheetLayout {
        name: sheet::FIELDS,
        help: "一行一个表单字段；同一字段键在不同事项中即同一字段",
        columns: &[
            c("实施编码", true, ""),
            c("字段键", true, "小写字母开头，小写字母、数字、下划线"),
            c("字段名称", true, ""),
            c(
                "类型",
                true,
                "文本、数字、日期、单选、是否、身份证号码、统一社会信用代码、联系电话、地址",
            ),
            c("必填", false, "是 或 否（默认）"),
            c("选项", false, "单选字段的选项，用“、”分隔"),
            c("说明", false, ""),
        ],
    },
    SheetLayout {
        name: sheet::STAGES,
        help: "一行一个办理环节，按 收件→受理→审查→（特别程序）→决定→制证→出件 的顺序",
        columns: &[
            c("实施编码", true, ""),
            c(
                "环节",
                true,
                "收件、受理、审查、现场踏勘、专家评审、听证、决定、制证、出件",
            ),
            c("时限", true, "工作日"),
            c("责任人", false, "如 审查人员"),
        ],
    },
    SheetLayout {
        name: sheet::FEES,
        help: "一行一项收费；不收费的事项不填",
        columns: &[
            c("实施编码", true, ""),
            c("收费项目", true, ""),
            c("收费标准", true, "如 每件 80 元"),
            c("收费依据", true, ""),
        ],
    },
    SheetLayout {
        name: sheet::BUNDLES,
        help: "一行一个“一件事”，以编码区分",
        columns: &[
            c("一件事编码", true, "如 440902-YJS-001"),
            c("区划代码", true, "所服务的区划"),
            c("名称", true, "如 开办餐馆"),
            c("说明", false, ""),
            c("发布", false, "是 或 否（默认）"),
        ],
    },
    SheetLayout {
        name: sheet::QUESTIONS,
        help: "一行一个情形问题",
        columns: &[
            c("一件事编码", true, ""),
            c("问题标识", true, "小写字母、数字、下划线"),
            c("问题", true, ""),
            c("选项", true, "至少两个，用“、”分隔"),
        ],
    },
    SheetLayout {
        name: sheet::ENTRIES,
        help: "一行一个包含的事项",
        columns: &[
            c("一件事编码", true, ""),
            c("实施编码", true, ""),
            c(
                "适用条件",
                false,
                "留空为总是需要；否则如 private_rooms=是；area_over_1000=是",
            ),
            c(
                "前置事项",
                false,
                "须先办结的本一件事中其他事项的实施编码，用“、”分隔",
            ),
        ],
    },
    SheetLayout {
        name: sheet::SKIPS,
        help: "一行一项在某种情形下免交的材料",
        columns: &[
            c("一件事编码", true, ""),
            c("实施编码", true, ""),
            c("材料编码", true, ""),
            c("免交条件", true, "如 chain=是"),
        ],
    },
    SheetLayout {
        name: sheet::COMBINED,
        help: "一行一个多证合一的合并证照",
        columns: &[
            c("一件事编码", true, ""),
            c("证照名称", true, ""),
            c("实施编码", true, "合并的事项，用“、”分隔，至少两个"),
        ],
    },
];

fn layout(name: &str) -> &'static SheetLayout {
    LAYOUT.iter().find(|l| l.name == name).unwrap_or(&LAYOUT[0])
}

// ---- Labels ------------------------------------------------------------------------

const ITEM_TYPES: &[ItemType] = &[
    ItemType::License,
    ItemType::Payment,
    ItemType::Confirmation,
    ItemType::Ruling,
    ItemType::Reward,
    ItemType::Levy,
    ItemType::OtherPower,
    ItemType::PublicService,
];
const PROCESSING: &[ProcessingType] = &[ProcessingType::Immediate, ProcessingType::Promised];
const BREACH: &[BreachPolicy] = &[BreachPolicy::Terminate, BreachPolicy::Hold];
const OBJECTS: &[ServiceObject] = &[ServiceObject::Person, ServiceObject::Enterprise];
const SCOPES: &[TongbanScope] = &[
    TongbanScope::Local,
    TongbanScope::City,
    TongbanScope::Province,
];
const RESULTS: &[ResultKind] = &[ResultKind::Certificate, ResultKind::Document];
const STATUSES: &[ItemStatus] = &[
    ItemStatus::Active,
    ItemStatus::Suspended,
    ItemStatus::Cancelled,
];
const FORMS: &[MaterialForm] = &[
    MaterialForm::Original,
    MaterialForm::Copy,
    MaterialForm::OriginalAndCopy,
];
const MEDIA: &[Medium] = &[Medium::Paper, Medium::Electronic, Medium::Either];
const KINDS: &[FieldKind] = &[
    FieldKind::Text,
    FieldKind::Number,
    FieldKind::Date,
    FieldKind::Choice,
    FieldKind::YesNo,
    FieldKind::IdNumber,
    FieldKind::CreditCode,
    FieldKind::Phone,
    FieldKind::Address,
];
const STAGES: &[StageKind] = &[
    StageKind::Receive,
    StageKind::Accept,
    StageKind::Review,
    StageKind::SiteInspection,
    StageKind::ExpertReview,
    StageKind::Hearing,
    StageKind::Decide,
    StageKind::Produce,
    StageKind::Issue,
];

/// A value as the spreadsheet writes it.
trait Label: Copy + PartialEq + serde::Serialize + 'static {
    fn text(self) -> &'static str;
}

impl Label for ItemType {
    fn text(self) -> &'static str {
        self.label()
    }
}
impl Label for ProcessingType {
    fn text(self) -> &'static str {
        self.label()
    }
}
impl Label for ItemStatus {
    fn text(self) -> &'static str {
        self.label()
    }
}
impl Label for MaterialForm {
    fn text(self) -> &'static str {
        self.label()
    }
}
impl Label for StageKind {
    fn text(self) -> &'static str {
        self.label()
    }
}
impl Label for BreachPolicy {
    fn text(self) -> &'static str {
        match self {
            BreachPolicy::Terminate => "终止办理",
            BreachPolicy::Hold => "暂停办理",
        }
    }
}
impl Label for ServiceObject {
    fn text(self) -> &'static str {
        match self {
            ServiceObject::Person => "自然人",
            ServiceObject::Enterprise => "法人",
        }
    }
}
impl Label for TongbanScope {
    fn text(self) -> &'static str {
        match self {
            TongbanScope::Local => "本地",
            TongbanScope::City => "全市通办",
            TongbanScope::Province => "全省通办",
        }
    }
}
impl Label for ResultKind {
    fn text(self) -> &'static str {
        match self {
            ResultKind::Certificate => "证照",
            ResultKind::Document => "批文",
        }
    }
}
impl Label for Medium {
    fn text(self) -> &'static str {
        match self {
            Medium::Paper => "纸质",
            Medium::Electronic => "电子",
            Medium::Either => "纸质或电子",
        }
    }
}
impl Label for FieldKind {
    fn text(self) -> &'static str {
        match self {
            FieldKind::Text => "文本",
            FieldKind::Number => "数字",
            FieldKind::Date => "日期",
            FieldKind::Choice => "单选",
            FieldKind::YesNo => "是否",
            FieldKind::IdNumber => "身份证号码",
            FieldKind::CreditCode => "统一社会信用代码",
            FieldKind::Phone => "联系电话",
            FieldKind::Address => "地址",
        }
    }
}

/// A value by its label, or by its code in the API (`license`, `promised`, …).
fn by_label<T: Label>(all: &[T], v: &str) -> Option<T> {
    let v = v.trim();
    all.iter().copied().find(|x| {
        x.text() == v
            || serde_json::to_value(x)
                .ok()
                .and_then(|j| j.as_str().map(|s| s == v))
                .unwrap_or(false)
    })
}

fn labels<T: Label>(all: &[T]) -> String {
    all.iter().map(|x| x.text()).collect::<Vec<_>>().join("、")
}

fn yes_no(b: bool) -> String {
    if b { "是" } else { "否" }.to_string()
}

/// Items of a list cell: split on line breaks and the usual separators.
fn list(v: &str) -> Vec<String> {
    v.split(['\n', '、', '，', ',', '；', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Lines of a cell (legal bases, which contain 、 themselves).
fn lines(v: &str) -> Vec<String> {
    v.lines()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Conditions `q1=是；q2=否`.
fn conditions_text(cs: &[Condition]) -> String {
    cs.iter()
        .map(|c| format!("{}={}", c.question, c.equals))
        .collect::<Vec<_>>()
        .join("；")
}

// ---- Reading -----------------------------------------------------------------------

/// One row being read, with where its cells are.
struct Row<'a> {
    sheet: &'a str,
    number: usize,
    cells: &'a [String],
    index: &'a BTreeMap<&'static str, usize>,
}

impl Row<'_> {
    fn get(&self, col: &str) -> &str {
        self.index
            .get(col)
            .and_then(|i| self.cells.get(*i))
            .map(|s| s.trim())
            .unwrap_or("")
    }

    /// The address of a column's cell in this row.
    fn at(&self, col: &str) -> String {
        let i = self.index.get(col).copied().unwrap_or(0);
        cell_ref(self.sheet, i, self.number)
    }

    fn err(&self, e: &mut FieldErrors, col: &str, rule: impl std::fmt::Display) {
        e.add(self.at(col), format!("{col}：{rule}"));
    }

    fn choice<T: Label>(
        &self,
        e: &mut FieldErrors,
        col: &str,
        all: &[T],
        default: Option<T>,
    ) -> Option<T> {
        let v = self.get(col);
        if v.is_empty() {
            return default;
        }
        let r = by_label(all, v);
        if r.is_none() {
            self.err(e, col, format!("须为以下之一：{}", labels(all)));
        }
        r
    }

    fn number(&self, e: &mut FieldErrors, col: &str, default: Option<u32>) -> Option<u32> {
        let v = self.get(col);
        if v.is_empty() {
            return default;
        }
        // Spreadsheets store numbers as decimals: "5" and "5.0" are both 5.
        let parsed = v.parse::<u32>().ok().or_else(|| {
            v.parse::<f64>()
                .ok()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u32::MAX as f64)
                .map(|f| f as u32)
        });
        if parsed.is_none() {
            self.err(e, col, "须为不小于 0 的整数");
        }
        parsed
    }

    fn flag(&self, e: &mut FieldErrors, col: &str) -> bool {
        match self.get(col) {
            "" | "否" | "false" | "FALSE" | "0" | "N" | "n" => false,
            "是" | "true" | "TRUE" | "1" | "Y" | "y" => true,
            _ => {
                self.err(e, col, "须为 是 或 否");
                false
            }
        }
    }
}

/// A sheet's rows, each with its column index; a missing required column is reported.
fn rows<'a>(
    wb: &'a Workbook,
    name: &'static str,
    e: &mut FieldErrors,
) -> Option<(&'a Sheet, BTreeMap<&'static str, usize>)> {
    let sheet = wb.sheet(name)?;
    let l = layout(name);
    let mut index = BTreeMap::new();
    for col in l.columns {
        match sheet.header.iter().position(|h| h.trim() == col.name) {
            Some(i) => {
                index.insert(col.name, i);
            }
            None if col.required => e.add(
                cell_ref(name, sheet.header.len(), 1),
                format!("缺少“{}”列", col.name),
            ),
            None => {}
        }
    }
    for (i, h) in sheet.header.iter().enumerate() {
        let h = h.trim();
        if !h.is_empty() && !l.columns.iter().any(|c| c.name == h) {
            e.add(cell_ref(name, i, 1), format!("不认识的列“{h}”"));
        }
    }
    Some((sheet, index))
}

fn each_row<'a>(
    sheet: &'a Sheet,
    index: &'a BTreeMap<&'static str, usize>,
    e: &mut FieldErrors,
    mut f: impl FnMut(&Row<'a>, &mut FieldErrors),
) {
    let l = layout(&sheet.name);
    for (i, cells) in sheet.rows.iter().enumerate() {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let row = Row {
            sheet: l.name,
            number: Sheet::row_number(i),
            cells,
            index,
        };
        for col in l.columns.iter().filter(|c| c.required) {
            if index.contains_key(col.name) && row.get(col.name).is_empty() {
                row.err(e, col.name, "不能为空");
            }
        }
        // Read on all the same (the first rule recorded for a cell wins), so that the
        // rows that refer to this one are not reported as well.
        f(&row, e);
    }
}

/// Where an item's parts came from, to put a rule broken by the item's content back
/// on the cell that holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemOrigin {
    /// Its row of 事项.
    pub row: usize,
    /// The 材料 row of each material.
    pub materials: Vec<usize>,
    /// The 表单字段 row of each field.
    pub fields: Vec<usize>,
    /// The 环节 row of each stage.
    pub stages: Vec<usize>,
    /// The 收费 row of each fee.
    pub fees: Vec<usize>,
}

/// One item read from the workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    /// 实施编码.
    pub code: String,
    /// 基本编码.
    pub basic_code: String,
    /// The implementing department's credit code.
    pub department: String,
    /// 状态.
    pub status: ItemStatus,
    /// 发布.
    pub publish: bool,
    /// The content.
    pub spec: ItemSpec,
    /// Where it came from.
    pub origin: ItemOrigin,
}

/// One bundle entry read, by item code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRow {
    /// Its 一件事事项 row.
    pub row: usize,
    /// The item's 实施编码.
    pub item: String,
    /// 适用条件.
    pub when: Vec<Condition>,
    /// 前置事项 (codes).
    pub after: Vec<String>,
    /// 免交材料, each with its row.
    pub skips: Vec<(usize, MaterialSkip)>,
}

/// One bundle read; items by code until [`BundleRow::resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRow {
    /// Its 一件事 row.
    pub row: usize,
    /// 一件事编码.
    pub code: String,
    /// 区划代码.
    pub region: String,
    /// 发布.
    pub publish: bool,
    /// 名称.
    pub name: String,
    /// 说明.
    pub description: String,
    /// Questions, each with its row.
    pub questions: Vec<(usize, Question)>,
    /// Entries.
    pub entries: Vec<EntryRow>,
    /// 多证合一: row, name, item codes.
    pub combined: Vec<(usize, String, Vec<String>)>,
}

/// Everything read from a workbook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogRows {
    /// Basic items, each with its row.
    pub basic_items: Vec<(usize, BasicItem)>,
    /// Items.
    pub items: Vec<ItemRow>,
    /// Bundles.
    pub bundles: Vec<BundleRow>,
}

fn conditions(row: &Row, e: &mut FieldErrors, col: &str) -> Vec<Condition> {
    let mut out = Vec::new();
    for part in list(row.get(col)) {
        match part.split_once(['=', '＝']) {
            Some((q, a)) if !q.trim().is_empty() && !a.trim().is_empty() => out.push(Condition {
                question: q.trim().to_string(),
                equals: a.trim().to_string(),
            }),
            _ => row.err(e, col, format!("“{part}”应写成“问题标识=选项”")),
        }
    }
    out
}

/// Read a workbook against the layout. A workbook needs the 事项 sheet or the
/// 一件事 sheet; every other sheet is optional. All problems at once, by cell.
pub fn read_catalog(wb: &Workbook) -> Result<CatalogRows, FieldErrors> {
    let (rows, e) = read_catalog_all(wb);
    if e.is_empty() { Ok(rows) } else { Err(e) }
}

/// Read a workbook as far as it can be read: the rows (those with problems too, with
/// defaults where a cell could not be read) and every problem found.
pub fn read_catalog_all(wb: &Workbook) -> (CatalogRows, FieldErrors) {
    let mut e = FieldErrors::new();
    let mut out = CatalogRows::default();
    for s in &wb.sheets {
        if !LAYOUT.iter().any(|l| l.name == s.name.trim()) {
            e.add(
                format!("{}!A1", s.name),
                format!(
                    "不认识的工作表“{}”（应为：{}）",
                    s.name,
                    LAYOUT.iter().map(|l| l.name).collect::<Vec<_>>().join("、")
                ),
            );
        }
    }
    if wb.sheet(sheet::ITEMS).is_none() && wb.sheet(sheet::BUNDLES).is_none() {
        e.add(
            format!("{}!A1", sheet::ITEMS),
            "文件中没有“事项”或“一件事”工作表",
        );
    }

    if let Some((s, ix)) = rows(wb, sheet::BASIC, &mut e) {
        let mut seen = BTreeMap::new();
        each_row(s, &ix, &mut e, |r, e| {
            let b = BasicItem {
                code: r.get("基本编码").to_string(),
                name: r.get("事项名称").to_string(),
                item_type: r
                    .choice(e, "事项类型", ITEM_TYPES, None)
                    .unwrap_or(ItemType::License),
                legal_basis: r.get("设定依据").to_string(),
            };
            if let Err(fe) = b.validate() {
                for (k, v) in fe.fields() {
                    let col = match k.as_str() {
                        "code" => "基本编码",
                        "name" => "事项名称",
                        _ => "设定依据",
                    };
                    r.err(e, col, v);
                }
            }
            if seen.insert(b.code.clone(), r.number).is_some() {
                r.err(e, "基本编码", "与上面的行重复");
            }
            out.basic_items.push((r.number, b));
        });
    }

    // Items first: the other sheets attach to them by code.
    let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
    if let Some((s, ix)) = rows(wb, sheet::ITEMS, &mut e) {
        each_row(s, &ix, &mut e, |r, e| {
            let code = r.get("实施编码").to_string();
            if by_code.contains_key(&code) {
                r.err(e, "实施编码", "与上面的行重复");
                return;
            }
            let processing = r.choice(e, "办件类型", PROCESSING, None);
            let result_kind = r.choice(e, "结果类型", RESULTS, None);
            let mut objects = Vec::new();
            for o in list(r.get("服务对象")) {
                match by_label(OBJECTS, &o) {
                    Some(x) if !objects.contains(&x) => objects.push(x),
                    Some(_) => {}
                    None => r.err(e, "服务对象", format!("“{o}”须为 自然人 或 法人")),
                }
            }
            let visits = r.number(e, "到现场次数", None);
            let depth = r.number(e, "网办深度", Some(4));
            let spec = ItemSpec {
                name: r.get("事项名称").to_string(),
                sub_item: r.get("子项名称").to_string(),
                aliases: list(r.get("别名")),
                themes: list(r.get("主题")),
                legal_basis: lines(r.get("设定依据")),
                conditions: r.get("受理条件").to_string(),
                processing_type: processing.unwrap_or(ProcessingType::Promised),
                legal_limit_days: r.number(e, "法定时限", None).unwrap_or(0),
                promised_limit_days: r.number(e, "承诺时限", None).unwrap_or(0),
                pre_review_days: r.number(e, "预审时限", Some(2)).unwrap_or(2),
                rongque_days: r.number(e, "容缺补正期限", Some(5)).unwrap_or(5),
                breach_policy: r
                    .choice(e, "违诺处理", BREACH, Some(BreachPolicy::Terminate))
                    .unwrap_or_default(),
                fees: vec![],
                service_objects: objects,
                visits: visits.map(|v| v.min(255) as u8).unwrap_or(0),
                online_depth: depth.map(|v| v.min(255) as u8).unwrap_or(4),
                tongban_scope: r
                    .choice(e, "通办范围", SCOPES, Some(TongbanScope::Local))
                    .unwrap_or(TongbanScope::Local),
                agent_allowed: r.flag(e, "可代办"),
                location: r.get("办理地点").to_string(),
                phone: r.get("咨询电话").to_string(),
                materials: vec![],
                fields: vec![],
                stages: vec![],
                result: ResultSpec {
                    kind: result_kind.unwrap_or(ResultKind::Document),
                    name: r.get("结果名称").to_string(),
                },
            };
            by_code.insert(code.clone(), out.items.len());
            out.items.push(ItemRow {
                code,
                basic_code: r.get("基本编码").to_string(),
                department: r.get("实施部门信用代码").to_uppercase(),
                status: r
                    .choice(e, "状态", STATUSES, Some(ItemStatus::Active))
                    .unwrap_or(ItemStatus::Active),
                publish: r.flag(e, "发布"),
                spec,
                origin: ItemOrigin {
                    row: r.number,
                    ..ItemOrigin::default()
                },
            });
        });
    }
    let item_of = |r: &Row, e: &mut FieldErrors| -> Option<usize> {
        let code = r.get("实施编码");
        let i = by_code.get(code).copied();
        if i.is_none() {
            r.err(e, "实施编码", "“事项”表中没有这个实施编码");
        }
        i
    };

    if let Some((s, ix)) = rows(wb, sheet::MATERIALS, &mut e) {
        each_row(s, &ix, &mut e, |r, e| {
            let Some(i) = item_of(r, e) else { return };
            let requirement = match r.get("必要性") {
                "必要" | "required" => Requirement::Required,
                "非必要" | "optional" => Requirement::Optional,
                "情形" | "conditional" => {
                    let (field, equals) = (r.get("判断字段"), r.get("字段取值"));
                    let when = match (field.is_empty(), equals.is_empty()) {
                        (true, true) => None,
                        (false, false) => Some(FieldRule {
                            field: field.to_string(),
                            equals: equals.to_string(),
                        }),
                        (true, false) => {
                            r.err(e, "判断字段", "填写了字段取值时须填写判断字段");
                            None
                        }
                        (false, true) => {
                            r.err(e, "字段取值", "填写了判断字段时须填写字段取值");
                            None
                        }
                    };
                    Requirement::Conditional {
                        condition: r.get("适用情形").to_string(),
                        when,
                    }
                }
                _ => {
                    r.err(e, "必要性", "须为 必要、非必要 或 情形");
                    Requirement::Optional
                }
            };
            let m = Material {
                code: r.get("材料编码").to_string(),
                name: r.get("材料名称").to_string(),
                source: match r.get("来源渠道") {
                    "" => "申请人自备".to_string(),
                    s => s.to_string(),
                },
                requirement,
                form: r
                    .choice(e, "原件或复印件", FORMS, Some(MaterialForm::Original))
                    .unwrap_or(MaterialForm::Original),
                copies: r.number(e, "份数", Some(1)).unwrap_or(1),
                medium: r
                    .choice(e, "介质", MEDIA, Some(Medium::Either))
                    .unwrap_or(Medium::Either),
                rongque: r.flag(e, "容缺"),
                certificate_type: Some(r.get("免提交证照").to_string()).filter(|s| !s.is_empty()),
                notes: r.get("填报须知").to_string(),
            };
            let item = &mut out.items[i];
            item.spec.materials.push(m);
            item.origin.materials.push(r.number);
        });
    }

    if let Some((s, ix)) = rows(wb, sheet::FIELDS, &mut e) {
        each_row(s, &ix, &mut e, |r, e| {
            let Some(i) = item_of(r, e) else { return };
            let f = FormField {
                key: r.get("字段键").to_string(),
                label: r.get("字段名称").to_string(),
                kind: r.choice(e, "类型", KINDS, None).unwrap_or(FieldKind::Text),
                required: r.flag(e, "必填"),
                options: list(r.get("选项")),
                help: r.get("说明").to_string(),
            };
            let item = &mut out.items[i];
            item.spec.fields.push(f);
            item.origin.fields.push(r.number);
        });
    }

    if let Some((s, ix)) = rows(wb, sheet::STAGES, &mut e) {
        each_row(s, &ix, &mut e, |r, e| {
            let Some(i) = item_of(r, e) else { return };
            let Some(kind) = r.choice(e, "环节", STAGES, None) else {
                return;
            };
            let st = Stage {
                kind,
                days: r.number(e, "时限", None).unwrap_or(0),
                responsible: r.get("责任人").to_string(),
            };
            let item = &mut out.items[i];
            item.spec.stages.push(st);
            item.origin.stages.push(r.number);
        });
    }

    if let Some((s, ix)) = rows(wb, sheet::FEES, &mut e) {
        each_row(s, &ix, &mut e, |r, e| {
            let Some(i) = item_of(r, e) else { return };
            let item = &mut out.items[i];
            item.spec.fees.push(Fee {
                name: r.get("收费项目").to_string(),
                standard: r.get("收费标准").to_string(),
                basis: r.get("收费依据").to_string(),
            });
            item.origin.fees.push(r.number);
        });
    }

    // Every item's content against the catalog's rules, each problem on its cell.
    for item in &out.items {
        if let Err(fe) = item.spec.validate() {
            for (path, rule) in fe.fields() {
                let (addr, col) = locate_item_path(item, path);
                e.add(addr, format!("{col}：{rule}"));
            }
        }
    }

    read_bundles(wb, &mut e, &mut out);
    (out, e)
}

fn read_bundles(wb: &Workbook, e: &mut FieldErrors, out: &mut CatalogRows) {
    let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
    if let Some((s, ix)) = rows(wb, sheet::BUNDLES, e) {
        each_row(s, &ix, e, |r, e| {
            let code = r.get("一件事编码").to_string();
            if by_code.contains_key(&code) {
                r.err(e, "一件事编码", "与上面的行重复");
                return;
            }
            if code.chars().count() > 40 {
                r.err(e, "一件事编码", "不超过 40 个字符");
            }
            by_code.insert(code.clone(), out.bundles.len());
            out.bundles.push(BundleRow {
                row: r.number,
                code,
                region: r.get("区划代码").to_string(),
                publish: r.flag(e, "发布"),
                name: r.get("名称").to_string(),
                description: r.get("说明").to_string(),
                questions: vec![],
                entries: vec![],
                combined: vec![],
            });
        });
    }
    let bundle_of = |r: &Row, e: &mut FieldErrors| -> Option<usize> {
        let i = by_code.get(r.get("一件事编码")).copied();
        if i.is_none() {
            r.err(e, "一件事编码", "“一件事”表中没有这个编码");
        }
        i
    };
    if let Some((s, ix)) = rows(wb, sheet::QUESTIONS, e) {
        each_row(s, &ix, e, |r, e| {
            let Some(b) = bundle_of(r, e) else { return };
            out.bundles[b].questions.push((
                r.number,
                Question {
                    key: r.get("问题标识").to_string(),
                    text: r.get("问题").to_string(),
                    options: list(r.get("选项")),
                },
            ));
        });
    }
    if let Some((s, ix)) = rows(wb, sheet::ENTRIES, e) {
        each_row(s, &ix, e, |r, e| {
            let Some(b) = bundle_of(r, e) else { return };
            let when = conditions(r, e, "适用条件");
            out.bundles[b].entries.push(EntryRow {
                row: r.number,
                item: r.get("实施编码").to_string(),
                when,
                after: list(r.get("前置事项")),
                skips: vec![],
            });
        });
    }
    if let Some((s, ix)) = rows(wb, sheet::SKIPS, e) {
        each_row(s, &ix, e, |r, e| {
            let Some(b) = bundle_of(r, e) else { return };
            let when = conditions(r, e, "免交条件");
            let code = r.get("实施编码");
            match out.bundles[b].entries.iter_mut().find(|x| x.item == code) {
                Some(entry) => entry.skips.push((
                    r.number,
                    MaterialSkip {
                        code: r.get("材料编码").to_string(),
                        when,
                    },
                )),
                None => r.err(e, "实施编码", "“一件事事项”表中该一件事没有这个事项"),
            }
        });
    }
    if let Some((s, ix)) = rows(wb, sheet::COMBINED, e) {
        each_row(s, &ix, e, |r, e| {
            let Some(b) = bundle_of(r, e) else { return };
            out.bundles[b].combined.push((
                r.number,
                r.get("证照名称").to_string(),
                list(r.get("实施编码")),
            ));
        });
    }
}

impl ItemRow {
    /// The cell of a rule broken at `path` (`spec.materials[2].name`, `name`, …) of
    /// this item's content.
    pub fn locate(&self, path: &str) -> String {
        locate_item_path(self, path.strip_prefix("spec.").unwrap_or(path)).0
    }
}

/// The cell (and column name) of a rule broken at `path` of an item's content.
fn locate_item_path(item: &ItemRow, path: &str) -> (String, &'static str) {
    let o = &item.origin;
    let items = layout(sheet::ITEMS);
    let col_of = |l: &SheetLayout, name: &'static str| {
        l.columns.iter().position(|c| c.name == name).unwrap_or(0)
    };
    let on_item = |name: &'static str| (cell_ref(sheet::ITEMS, col_of(items, name), o.row), name);
    let indexed = |rest: &str| -> Option<(usize, String)> {
        let (i, tail) = rest.split_once(']')?;
        Some((i.parse().ok()?, tail.trim_start_matches('.').to_string()))
    };
    let part =
        |sheet_name: &'static str, rows: &[usize], rest: &str, cols: &[(&str, &'static str)]| {
            let l = layout(sheet_name);
            match indexed(rest) {
                Some((i, tail)) if i < rows.len() => {
                    let name = cols
                        .iter()
                        .find(|(k, _)| tail.starts_with(k) && !k.is_empty())
                        .or_else(|| cols.iter().find(|(k, _)| k.is_empty()))
                        .map(|(_, n)| *n)
                        .unwrap_or(l.columns[1].name);
                    (cell_ref(sheet_name, col_of(l, name), rows[i]), name)
                }
                _ => on_item("实施编码"),
            }
        };
    if let Some(rest) = path.strip_prefix("materials[") {
        return part(
            sheet::MATERIALS,
            &o.materials,
            rest,
            &[
                ("code", "材料编码"),
                ("name", "材料名称"),
                ("copies", "份数"),
                ("requirement.condition", "适用情形"),
                ("requirement.when.field", "判断字段"),
                ("rongque", "容缺"),
                ("certificate_type", "免提交证照"),
                ("", "材料名称"),
            ],
        );
    }
    if let Some(rest) = path.strip_prefix("fields[") {
        return part(
            sheet::FIELDS,
            &o.fields,
            rest,
            &[
                ("key", "字段键"),
                ("label", "字段名称"),
                ("options", "选项"),
                ("", "字段键"),
            ],
        );
    }
    if let Some(rest) = path.strip_prefix("stages[") {
        return part(
            sheet::STAGES,
            &o.stages,
            rest,
            &[("kind", "环节"), ("days", "时限"), ("", "环节")],
        );
    }
    if let Some(rest) = path.strip_prefix("fees[") {
        return part(sheet::FEES, &o.fees, rest, &[("", "收费项目")]);
    }
    match path {
        "name" => on_item("事项名称"),
        "legal_basis" => on_item("设定依据"),
        "legal_limit_days" => on_item("法定时限"),
        "promised_limit_days" => on_item("承诺时限"),
        "pre_review_days" => on_item("预审时限"),
        "rongque_days" => on_item("容缺补正期限"),
        "service_objects" => on_item("服务对象"),
        "visits" => on_item("到现场次数"),
        "online_depth" => on_item("网办深度"),
        "result.name" => on_item("结果名称"),
        "stages" => on_item("承诺时限"),
        _ => on_item("实施编码"),
    }
}

impl BundleRow {
    /// The bundle's content with items by id (`ids`: 实施编码 → item id). An unknown
    /// code is reported on its cell.
    pub fn resolve(&self, ids: &BTreeMap<String, i64>) -> Result<BundleSpec, FieldErrors> {
        let mut e = FieldErrors::new();
        let col =
            |l: &SheetLayout, n: &str| l.columns.iter().position(|c| c.name == n).unwrap_or(0);
        let mut id =
            |code: &str, sheet_name: &'static str, column: &str, row: usize| match ids.get(code) {
                Some(i) => *i,
                None => {
                    e.add(
                        cell_ref(sheet_name, col(layout(sheet_name), column), row),
                        format!("{column}：没有实施编码为“{code}”的事项"),
                    );
                    0
                }
            };
        let mut entries = Vec::new();
        for x in &self.entries {
            let item_id = id(&x.item, sheet::ENTRIES, "实施编码", x.row);
            let after = x
                .after
                .iter()
                .map(|a| id(a, sheet::ENTRIES, "前置事项", x.row))
                .collect();
            entries.push(BundleEntry {
                item_id,
                when: x.when.clone(),
                skip_materials: x.skips.iter().map(|(_, s)| s.clone()).collect(),
                after,
            });
        }
        let combined = self
            .combined
            .iter()
            .map(|(row, name, codes)| CombinedCertificate {
                name: name.clone(),
                item_ids: codes
                    .iter()
                    .map(|c| id(c, sheet::COMBINED, "实施编码", *row))
                    .collect(),
            })
            .collect();
        if !e.is_empty() {
            return Err(e);
        }
        Ok(BundleSpec {
            name: self.name.clone(),
            description: self.description.clone(),
            questions: self.questions.iter().map(|(_, q)| q.clone()).collect(),
            entries,
            combined_certificates: combined,
        })
    }

    /// The cell of a rule broken at `path` of this bundle's content (as
    /// `BundleSpec::validate` and the bundle use cases name them).
    pub fn locate(&self, path: &str) -> String {
        let path = path.strip_prefix("spec.").unwrap_or(path);
        let col = |sheet_name: &'static str, n: &str| {
            layout(sheet_name)
                .columns
                .iter()
                .position(|c| c.name == n)
                .unwrap_or(0)
        };
        let index = |rest: &str| -> Option<(usize, String)> {
            let (i, tail) = rest.split_once(']')?;
            Some((i.parse().ok()?, tail.trim_start_matches('.').to_string()))
        };
        if let Some((i, tail)) = path.strip_prefix("questions[").and_then(index)
            && let Some((row, _)) = self.questions.get(i)
        {
            let c = match tail.as_str() {
                "key" => "问题标识",
                "text" => "问题",
                _ => "选项",
            };
            return cell_ref(sheet::QUESTIONS, col(sheet::QUESTIONS, c), *row);
        }
        if let Some((i, tail)) = path.strip_prefix("entries[").and_then(index)
            && let Some(x) = self.entries.get(i)
        {
            if let Some((j, _)) = tail.strip_prefix("skip_materials[").and_then(index)
                && let Some((row, _)) = x.skips.get(j)
            {
                return cell_ref(sheet::SKIPS, col(sheet::SKIPS, "免交条件"), *row);
            }
            let c = if tail.starts_with("when") {
                "适用条件"
            } else if tail.starts_with("after") {
                "前置事项"
            } else {
                "实施编码"
            };
            return cell_ref(sheet::ENTRIES, col(sheet::ENTRIES, c), x.row);
        }
        if let Some((i, tail)) = path.strip_prefix("combined_certificates[").and_then(index)
            && let Some((row, _, _)) = self.combined.get(i)
        {
            let c = if tail == "name" {
                "证照名称"
            } else {
                "实施编码"
            };
            return cell_ref(sheet::COMBINED, col(sheet::COMBINED, c), *row);
        }
        let c = match path {
            "name" => "名称",
            "region" => "区划代码",
            p if p.starts_with("fields") => "一件事编码",
            _ => "一件事编码",
        };
        cell_ref(sheet::BUNDLES, col(sheet::BUNDLES, c), self.row)
    }
}

// ---- Writing -----------------------------------------------------------------------

/// One item to write.
#[derive(Debug, Clone)]
pub struct ItemOut {
    /// 实施编码.
    pub code: String,
    /// 基本编码.
    pub basic_code: String,
    /// The department's credit code.
    pub department: String,
    /// Status.
    pub status: ItemStatus,
    /// The content written is the published version (not a draft).
    pub published: bool,
    /// The content.
    pub spec: ItemSpec,
}

/// One bundle to write (items by code).
#[derive(Debug, Clone)]
pub struct BundleOut {
    /// Code.
    pub code: String,
    /// Region.
    pub region: String,
    /// The content written is the published version.
    pub published: bool,
    /// The content.
    pub spec: BundleSpec,
}

fn header(name: &str) -> Sheet {
    let l = layout(name);
    Sheet {
        name: l.name.to_string(),
        header: l.columns.iter().map(|c| c.name.to_string()).collect(),
        rows: vec![],
    }
}

/// The workbook of a catalog: every sheet of the layout, in order (empty sheets too,
/// so that the file is also the template). `codes` maps item ids to 实施编码.
pub fn write_catalog(
    basic: &[BasicItem],
    items: &[ItemOut],
    bundles: &[BundleOut],
    codes: &BTreeMap<i64, String>,
) -> Workbook {
    let mut sheets: BTreeMap<&str, Sheet> =
        LAYOUT.iter().map(|l| (l.name, header(l.name))).collect();
    let mut push = |name: &str, row: Vec<String>| {
        if let Some(s) = sheets.get_mut(name) {
            s.rows.push(row);
        }
    };
    for b in basic {
        push(
            sheet::BASIC,
            vec![
                b.code.clone(),
                b.name.clone(),
                b.item_type.text().into(),
                b.legal_basis.clone(),
            ],
        );
    }
    for it in items {
        let s = &it.spec;
        push(
            sheet::ITEMS,
            vec![
                it.code.clone(),
                it.basic_code.clone(),
                it.department.clone(),
                s.name.clone(),
                s.sub_item.clone(),
                s.aliases.join("、"),
                s.themes.join("、"),
                s.legal_basis.join("\n"),
                s.conditions.clone(),
                s.processing_type.text().into(),
                s.legal_limit_days.to_string(),
                s.promised_limit_days.to_string(),
                s.pre_review_days.to_string(),
                s.rongque_days.to_string(),
                s.breach_policy.text().into(),
                s.service_objects
                    .iter()
                    .map(|o| o.text())
                    .collect::<Vec<_>>()
                    .join("、"),
                s.visits.to_string(),
                s.online_depth.to_string(),
                s.tongban_scope.text().into(),
                yes_no(s.agent_allowed),
                s.location.clone(),
                s.phone.clone(),
                s.result.kind.text().into(),
                s.result.name.clone(),
                it.status.text().into(),
                yes_no(it.published),
            ],
        );
        for m in &s.materials {
            let (req, cond, field, equals) = match &m.requirement {
                Requirement::Required => ("必要", "", "", ""),
                Requirement::Optional => ("非必要", "", "", ""),
                Requirement::Conditional { condition, when } => (
                    "情形",
                    condition.as_str(),
                    when.as_ref().map(|w| w.field.as_str()).unwrap_or(""),
                    when.as_ref().map(|w| w.equals.as_str()).unwrap_or(""),
                ),
            };
            push(
                sheet::MATERIALS,
                vec![
                    it.code.clone(),
                    m.code.clone(),
                    m.name.clone(),
                    m.source.clone(),
                    req.into(),
                    cond.into(),
                    field.into(),
                    equals.into(),
                    m.form.text().into(),
                    m.copies.to_string(),
                    m.medium.text().into(),
                    yes_no(m.rongque),
                    m.certificate_type.clone().unwrap_or_default(),
                    m.notes.clone(),
                ],
            );
        }
        for f in &s.fields {
            push(
                sheet::FIELDS,
                vec![
                    it.code.clone(),
                    f.key.clone(),
                    f.label.clone(),
                    f.kind.text().into(),
                    yes_no(f.required),
                    f.options.join("、"),
                    f.help.clone(),
                ],
            );
        }
        for st in &s.stages {
            push(
                sheet::STAGES,
                vec![
                    it.code.clone(),
                    st.kind.text().into(),
                    st.days.to_string(),
                    st.responsible.clone(),
                ],
            );
        }
        for fee in &s.fees {
            push(
                sheet::FEES,
                vec![
                    it.code.clone(),
                    fee.name.clone(),
                    fee.standard.clone(),
                    fee.basis.clone(),
                ],
            );
        }
    }
    let code = |id: &i64| codes.get(id).cloned().unwrap_or_else(|| id.to_string());
    for b in bundles {
        let s = &b.spec;
        push(
            sheet::BUNDLES,
            vec![
                b.code.clone(),
                b.region.clone(),
                s.name.clone(),
                s.description.clone(),
                yes_no(b.published),
            ],
        );
        for q in &s.questions {
            push(
                sheet::QUESTIONS,
                vec![
                    b.code.clone(),
                    q.key.clone(),
                    q.text.clone(),
                    q.options.join("、"),
                ],
            );
        }
        for x in &s.entries {
            push(
                sheet::ENTRIES,
                vec![
                    b.code.clone(),
                    code(&x.item_id),
                    conditions_text(&x.when),
                    x.after.iter().map(code).collect::<Vec<_>>().join("、"),
                ],
            );
            for sk in &x.skip_materials {
                push(
                    sheet::SKIPS,
                    vec![
                        b.code.clone(),
                        code(&x.item_id),
                        sk.code.clone(),
                        conditions_text(&sk.when),
                    ],
                );
            }
        }
        for cc in &s.combined_certificates {
            push(
                sheet::COMBINED,
                vec![
                    b.code.clone(),
                    cc.name.clone(),
                    cc.item_ids.iter().map(code).collect::<Vec<_>>().join("、"),
                ],
            );
        }
    }
    Workbook {
        sheets: LAYOUT
            .iter()
            .filter_map(|l| sheets.remove(l.name))
            .collect(),
    }
}

/// Problems by cell in reading order: sheet (as in the layout), row, column.
pub fn sorted_cells(e: &FieldErrors) -> Vec<(String, String)> {
    let key = |cell: &str| {
        let (sheet_name, addr) = cell.rsplit_once('!').unwrap_or(("", cell));
        let order = LAYOUT
            .iter()
            .position(|l| l.name == sheet_name)
            .map(|p| p + 1)
            .unwrap_or(0);
        let letters: String = addr
            .chars()
            .take_while(|c| c.is_ascii_uppercase())
            .collect();
        let row: usize = addr[letters.len()..].parse().unwrap_or(0);
        let col = letters
            .bytes()
            .fold(0usize, |n, b| n * 26 + (b - b'A' + 1) as usize);
        (order, sheet_name.to_string(), row, col)
    };
    let mut v: Vec<(String, String)> = e
        .fields()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    v.sort_by_key(|(k, _)| key(k));
    v
}

/// The layout as Markdown tables (docs/IMPORT.md is generated from it, and a test
/// keeps the two the same).
pub fn layout_markdown() -> String {
    let mut out = String::new();
    for l in LAYOUT {
        out.push_str(&format!(
            "### {}\n\n{}。\n\n| 列 | 必填 | 内容 |\n|---|---|---|\n",
            l.name, l.help
        ));
        for c in l.columns {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                c.name,
                if c.required { "是" } else { "" },
                c.help
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;

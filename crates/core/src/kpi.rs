//! 效能指标 — the supervision figures of DOMAIN §11, computed from the rollups (never
//! from the cases themselves, so that they stay fast over ten million cases), each next
//! to its target from the seeds:
//!
//! | figure | target | source |
//! |---|---|---|
//! | 按时办结率 on-time completion | 100 % | seed 001 |
//! | 即办件 share of decisions | ≥ 1/3 | seed 000 |
//! | 网上申办 online-application share | ≥ 90 % | seed 000 |
//! | 最多跑一次 share | ≥ 85 % | seed 000 |
//! | 一窗受理 one-window acceptance share | ≥ 70 % | seed 000 |
//! | 满意率 satisfaction | ≥ 99 % | seed 002 |
//! | 回访率 call-back of 差评 | 100 % | seed 004 (98.5 % satisfied on call-back) |
//!
//! and the 1000-point quarterly window assessment of seed 002 (千分制考核).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldErrors, Result};
use crate::org::WindowKind;
use crate::store::RatingStatRow;

/// One case-statistics rollup row, with its every dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStatRow {
    /// Department.
    pub department_id: i64,
    /// Item.
    pub item_id: i64,
    /// Receiving window (0: none).
    pub window_id: i64,
    /// Receiving staff member (0: none).
    pub staff_id: i64,
    /// `YYYY-MM`.
    pub month: String,
    /// Channel (`window`, `online`, `post`, `agent`).
    pub channel: String,
    /// Received.
    pub received: i64,
    /// Decided.
    pub decided: i64,
    /// Approved.
    pub approved: i64,
    /// Decided on time.
    pub on_time: i64,
    /// Working days to decision, summed.
    pub working_days: i64,
    /// Decided 即办件.
    pub immediate: i64,
    /// Refused.
    pub refused: i64,
    /// Withdrawn.
    pub withdrawn: i64,
    /// Terminated.
    pub terminated: i64,
}

/// How figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Per department.
    #[default]
    Department,
    /// Per item.
    Item,
    /// Per receiving window.
    Window,
    /// Per receiving staff member.
    Staff,
    /// Per region (the department's).
    Region,
    /// Per month.
    Month,
}

/// What the figures need besides the rollups.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Department → (name, region code).
    pub departments: BTreeMap<i64, (String, String)>,
    /// Item → (name, visits of its published version).
    pub items: BTreeMap<i64, (String, u8)>,
    /// Window → (name, kind).
    pub windows: BTreeMap<i64, (String, WindowKind)>,
    /// Staff account → name.
    pub staff: BTreeMap<i64, String>,
    /// Region code → name.
    pub regions: BTreeMap<String, String>,
    /// (department, month) → (yellow, red) marks.
    pub warnings: BTreeMap<(i64, String), (i64, i64)>,
}

/// The figures of one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Kpi {
    /// The group's key (an id, a region code or a month).
    pub key: String,
    /// Its name.
    pub label: String,
    /// Cases received.
    pub received: i64,
    /// Cases decided.
    pub decided: i64,
    /// 按时办结率.
    pub on_time_rate: Option<f64>,
    /// Average working days to a decision.
    pub average_working_days: Option<f64>,
    /// 即办件 share of decisions.
    pub immediate_share: Option<f64>,
    /// Online applications among those received.
    pub online_share: Option<f64>,
    /// Received on items of at most one visit (最多跑一次).
    pub max_one_visit_share: Option<f64>,
    /// Received through the one window (综合受理: comprehensive windows, online,
    /// post and agents) rather than a department's own window.
    pub one_window_share: Option<f64>,
    /// Ratings counted (appeals upheld left out).
    pub ratings: i64,
    /// 满意率.
    pub satisfaction_rate: Option<f64>,
    /// 差评率.
    pub bad_rate: Option<f64>,
    /// 差评 counted.
    pub bad: i64,
    /// Rectifications reported on time, of those reported.
    pub rectified_on_time_rate: Option<f64>,
    /// 差评 called back (reached), of all 差评.
    pub call_back_rate: Option<f64>,
    /// Clocks marked yellow (department and month groupings only).
    pub yellow: Option<i64>,
    /// Clocks marked red (department and month groupings only).
    pub red: Option<i64>,
}

/// A target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Target {
    /// Which figure (a field of [`Kpi`]).
    pub figure: &'static str,
    /// What it is called.
    pub label: &'static str,
    /// The least (or, for `at_most`, the most) it should be.
    pub value: f64,
    /// True when the figure should not exceed the value.
    pub at_most: bool,
    /// Where the target comes from.
    pub source: &'static str,
}

/// The seeds' targets.
pub const TARGETS: &[Target] = &[
    Target {
        figure: "on_time_rate",
        label: "按时办结率",
        value: 1.0,
        at_most: false,
        source: "seed 001：按时办结率纳入考核",
    },
    Target {
        figure: "immediate_share",
        label: "即办件占比",
        value: 1.0 / 3.0,
        at_most: false,
        source: "seed 000：即办件不少于三分之一",
    },
    Target {
        figure: "online_share",
        label: "网上申办率",
        value: 0.9,
        at_most: false,
        source: "seed 000：网上可办率 90% 以上",
    },
    Target {
        figure: "max_one_visit_share",
        label: "最多跑一次占比",
        value: 0.85,
        at_most: false,
        source: "seed 000：最多跑一次 85% 以上",
    },
    Target {
        figure: "one_window_share",
        label: "一窗受理率",
        value: 0.7,
        at_most: false,
        source: "seed 000：一窗受理 70% 以上",
    },
    Target {
        figure: "satisfaction_rate",
        label: "群众满意率",
        value: 0.99,
        at_most: false,
        source: "seed 002：满意率 99% 以上",
    },
    Target {
        figure: "call_back_rate",
        label: "差评回访率",
        value: 1.0,
        at_most: false,
        source: "DOMAIN §7：差评 100% 回访",
    },
    Target {
        figure: "rectified_on_time_rate",
        label: "差评整改及时率",
        value: 1.0,
        at_most: false,
        source: "DOMAIN §7：限期整改",
    },
];

impl Kpi {
    /// A figure by its name.
    pub fn figure(&self, name: &str) -> Option<f64> {
        match name {
            "on_time_rate" => self.on_time_rate,
            "average_working_days" => self.average_working_days,
            "immediate_share" => self.immediate_share,
            "online_share" => self.online_share,
            "max_one_visit_share" => self.max_one_visit_share,
            "one_window_share" => self.one_window_share,
            "satisfaction_rate" => self.satisfaction_rate,
            "bad_rate" => self.bad_rate,
            "rectified_on_time_rate" => self.rectified_on_time_rate,
            "call_back_rate" => self.call_back_rate,
            _ => None,
        }
    }
}

impl Target {
    /// Whether `v` meets it.
    pub fn met(&self, v: f64) -> bool {
        // Rates are compared to a thousandth: 2/3 of 1 is met by 0.6666….
        if self.at_most {
            v <= self.value + 1e-9
        } else {
            v + 1e-9 >= self.value
        }
    }
}

#[derive(Default)]
struct Acc {
    received: i64,
    decided: i64,
    on_time: i64,
    days: i64,
    immediate: i64,
    online: i64,
    one_visit: i64,
    one_window: i64,
    n: [i64; 5],
    invalid: i64,
    on_time_fix: i64,
    late_fix: i64,
    called: i64,
    yellow: i64,
    red: i64,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn key_of(
    by: GroupBy,
    ctx: &Context,
    department: i64,
    item: i64,
    window: i64,
    staff: i64,
    month: &str,
) -> Option<(String, String)> {
    Some(match by {
        GroupBy::Department => (
            department.to_string(),
            ctx.departments
                .get(&department)
                .map(|d| d.0.clone())
                .unwrap_or_default(),
        ),
        GroupBy::Item => (
            item.to_string(),
            ctx.items
                .get(&item)
                .map(|i| i.0.clone())
                .unwrap_or_default(),
        ),
        GroupBy::Window => {
            if window == 0 {
                return None;
            }
            (
                window.to_string(),
                ctx.windows
                    .get(&window)
                    .map(|w| w.0.clone())
                    .unwrap_or_default(),
            )
        }
        GroupBy::Staff => {
            if staff == 0 {
                return None;
            }
            (
                staff.to_string(),
                ctx.staff.get(&staff).cloned().unwrap_or_default(),
            )
        }
        GroupBy::Region => {
            let r = ctx
                .departments
                .get(&department)
                .map(|d| d.1.clone())
                .unwrap_or_default();
            let name = ctx.regions.get(&r).cloned().unwrap_or_default();
            (r, name)
        }
        GroupBy::Month => (month.to_string(), month.to_string()),
    })
}

/// The figures, one group each, in key order. Window and staff groupings count only
/// what was received at a window by a staff member.
pub fn compute(
    by: GroupBy,
    cases: &[CaseStatRow],
    ratings: &[RatingStatRow],
    ctx: &Context,
) -> Vec<Kpi> {
    let mut acc: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for r in cases {
        let Some(k) = key_of(
            by,
            ctx,
            r.department_id,
            r.item_id,
            r.window_id,
            r.staff_id,
            &r.month,
        ) else {
            continue;
        };
        let a = acc.entry(k).or_default();
        a.received += r.received;
        a.decided += r.decided;
        a.on_time += r.on_time;
        a.days += r.working_days;
        a.immediate += r.immediate;
        if r.channel == "online" {
            a.online += r.received;
        }
        if ctx.items.get(&r.item_id).is_some_and(|i| i.1 <= 1) {
            a.one_visit += r.received;
        }
        let own_window = r.window_id != 0
            && ctx
                .windows
                .get(&r.window_id)
                .is_some_and(|w| w.1 != WindowKind::Acceptance);
        if !own_window {
            a.one_window += r.received;
        }
    }
    for r in ratings {
        let Some(k) = key_of(
            by,
            ctx,
            r.department_id,
            r.item_id,
            r.window_id,
            r.staff_id,
            &r.month,
        ) else {
            continue;
        };
        let a = acc.entry(k).or_default();
        for i in 0..5 {
            a.n[i] += r.n[i];
        }
        a.invalid += r.invalid;
        a.on_time_fix += r.rectified_on_time;
        a.late_fix += r.rectified_late;
        a.called += r.called_back;
    }
    if matches!(by, GroupBy::Department | GroupBy::Month | GroupBy::Region) {
        for ((d, m), (y, red)) in &ctx.warnings {
            if let Some(k) = key_of(by, ctx, *d, 0, 0, 0, m) {
                let a = acc.entry(k).or_default();
                a.yellow += y;
                a.red += red;
            }
        }
    }
    let marks = matches!(by, GroupBy::Department | GroupBy::Month | GroupBy::Region);
    acc.into_iter()
        .map(|((key, label), a)| {
            // An upheld appeal sets a 差评 aside.
            let mut n = a.n;
            let mut invalid = a.invalid;
            for slot in n.iter_mut().take(2) {
                let take = invalid.min(*slot);
                *slot -= take;
                invalid -= take;
            }
            let total: i64 = n.iter().sum();
            let bad = n[0] + n[1];
            Kpi {
                key,
                label,
                received: a.received,
                decided: a.decided,
                on_time_rate: ratio(a.on_time, a.decided),
                average_working_days: ratio(a.days, a.decided),
                immediate_share: ratio(a.immediate, a.decided),
                online_share: ratio(a.online, a.received),
                max_one_visit_share: ratio(a.one_visit, a.received),
                one_window_share: ratio(a.one_window, a.received),
                ratings: total,
                satisfaction_rate: ratio(total - bad, total),
                bad_rate: ratio(bad, total),
                bad,
                rectified_on_time_rate: ratio(a.on_time_fix, a.on_time_fix + a.late_fix),
                call_back_rate: ratio(a.called, bad),
                yellow: marks.then_some(a.yellow),
                red: marks.then_some(a.red),
            }
        })
        .collect()
}

/// The figures over everything (one group).
pub fn total(cases: &[CaseStatRow], ratings: &[RatingStatRow], ctx: &Context) -> Kpi {
    let mut flat_ctx = ctx.clone();
    flat_ctx.departments = ctx
        .departments
        .keys()
        .map(|k| (*k, ("全部".to_string(), String::new())))
        .collect();
    let mut one = compute(GroupBy::Region, cases, ratings, &flat_ctx);
    match one.pop() {
        Some(mut k) if one.is_empty() => {
            k.key = "all".into();
            k.label = "合计".into();
            k
        }
        _ => Kpi {
            key: "all".into(),
            label: "合计".into(),
            ..Kpi::default()
        },
    }
}

/// How one criterion of the window assessment is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Measure {
    /// The points times a rate of the window's figures (an unmeasured rate scores full).
    Rate {
        /// `on_time_rate`, `satisfaction_rate`, `rectified_on_time_rate`,
        /// `call_back_rate`, `one_window_share`, `online_share`.
        figure: RateFigure,
    },
    /// Full points less `per` for each red clock of the window's cases.
    PerRed {
        /// Points taken per red clock.
        per: u32,
    },
    /// Full points less the deductions supervisors recorded (日常巡查: attendance,
    /// discipline, conduct).
    Deductions,
}

/// A rate the assessment can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateFigure {
    /// 按时办结率.
    OnTimeRate,
    /// 满意率.
    SatisfactionRate,
    /// 差评整改及时率.
    RectifiedOnTimeRate,
    /// 回访率.
    CallBackRate,
    /// 一窗受理率.
    OneWindowShare,
    /// 网上申办率.
    OnlineShare,
}

impl RateFigure {
    fn of(self, k: &Kpi) -> Option<f64> {
        match self {
            RateFigure::OnTimeRate => k.on_time_rate,
            RateFigure::SatisfactionRate => k.satisfaction_rate,
            RateFigure::RectifiedOnTimeRate => k.rectified_on_time_rate,
            RateFigure::CallBackRate => k.call_back_rate,
            RateFigure::OneWindowShare => k.one_window_share,
            RateFigure::OnlineShare => k.online_share,
        }
    }
}

/// One criterion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Its name.
    pub label: String,
    /// Its points.
    pub points: u32,
    /// How it is measured.
    pub measure: Measure,
}

/// The assessment scheme (千分制): its criteria's points add up to 1000.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    /// The criteria.
    pub criteria: Vec<Criterion>,
}

impl Default for Scheme {
    fn default() -> Self {
        let c = |label: &str, points, measure| Criterion {
            label: label.into(),
            points,
            measure,
        };
        Scheme {
            criteria: vec![
                c(
                    "按时办结",
                    250,
                    Measure::Rate {
                        figure: RateFigure::OnTimeRate,
                    },
                ),
                c(
                    "群众满意",
                    250,
                    Measure::Rate {
                        figure: RateFigure::SatisfactionRate,
                    },
                ),
                c(
                    "差评整改及时",
                    100,
                    Measure::Rate {
                        figure: RateFigure::RectifiedOnTimeRate,
                    },
                ),
                c(
                    "差评回访",
                    50,
                    Measure::Rate {
                        figure: RateFigure::CallBackRate,
                    },
                ),
                c("无超期办件", 150, Measure::PerRed { per: 10 }),
                c("日常巡查（出勤、纪律、行为规范）", 200, Measure::Deductions),
            ],
        }
    }
}

impl Scheme {
    /// The points must add up to 1000; every criterion named.
    pub fn validate(&self) -> Result<()> {
        let mut e = FieldErrors::new();
        let sum: u32 = self.criteria.iter().map(|c| c.points).sum();
        if sum != 1000 {
            e.add(
                "criteria",
                format!("各项分值合计须为 1000 分（现为 {sum} 分）"),
            );
        }
        for (i, c) in self.criteria.iter().enumerate() {
            if c.label.trim().is_empty() {
                e.add(format!("criteria[{i}].label"), "请填写考核项名称");
            }
        }
        e.into_result()
    }
}

/// One criterion's score.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Scored {
    /// Criterion.
    pub label: String,
    /// Its points.
    pub points: u32,
    /// Scored.
    pub score: f64,
}

/// A window's assessment for a quarter.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Assessment {
    /// Window.
    pub window_id: i64,
    /// Its name.
    pub window: String,
    /// Out of 1000.
    pub total: f64,
    /// Per criterion.
    pub criteria: Vec<Scored>,
}

/// Score a window: its figures, its red clocks, the deductions recorded.
pub fn assess(
    scheme: &Scheme,
    window_id: i64,
    window: &str,
    k: &Kpi,
    reds: i64,
    deducted: u32,
) -> Assessment {
    let criteria: Vec<Scored> = scheme
        .criteria
        .iter()
        .map(|c| {
            let p = f64::from(c.points);
            let score = match c.measure {
                Measure::Rate { figure } => p * figure.of(k).unwrap_or(1.0),
                Measure::PerRed { per } => (p - f64::from(per) * reds as f64).max(0.0),
                Measure::Deductions => (p - f64::from(deducted)).max(0.0),
            };
            Scored {
                label: c.label.clone(),
                points: c.points,
                score: (score * 10.0).round() / 10.0,
            }
        })
        .collect();
    Assessment {
        window_id,
        window: window.to_string(),
        total: (criteria.iter().map(|c| c.score).sum::<f64>() * 10.0).round() / 10.0,
        criteria,
    }
}

/// The months of a quarter `YYYY-Qn`.
pub fn quarter_months(q: &str) -> Result<(String, String)> {
    let bad = || Error::field("quarter", "季度格式应为 YYYY-Q1 … YYYY-Q4");
    let (y, n) = q.split_once("-Q").ok_or_else(bad)?;
    let y: i32 = y.parse().map_err(|_| bad())?;
    let n: u32 = n.parse().map_err(|_| bad())?;
    if !(1..=4).contains(&n) || !(2000..=2099).contains(&y) {
        return Err(bad());
    }
    let first = (n - 1) * 3 + 1;
    Ok((format!("{y}-{first:02}"), format!("{y}-{:02}", first + 2)))
}

#[cfg(test)]
mod tests;

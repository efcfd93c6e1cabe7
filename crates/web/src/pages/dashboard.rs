//! 效能看板: the supervisor's and the department's dashboard — KPIs next to their
//! targets, charts (Apache ECharts, vendored), the table by department, item, window,
//! staff member, region or month with drill-down to the cases and ratings behind a
//! number, the XLSX export, and the quarterly window assessment.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tongban_core::Error;
use tongban_core::actor::Role;
use tongban_core::kpi::{GroupBy, Kpi, TARGETS};
use tongban_core::rating::reason_text;
use tongban_core::store::CaseOrder;
use tongban_core::usecase::cases::{CaseQuery, list_cases};
use tongban_core::usecase::kpi::{Deduction, KpiQuery, add_deduction, assessments, kpis};
use tongban_core::usecase::ratings::{RatingQuery, list_ratings};

use super::cases::CaseRow;
use super::form::PageForm;
use super::{Chrome, PageResult, SignedIn, Viewer, date, render};
use crate::state::AppState;

fn allowed(v: &Viewer) -> PageResult<()> {
    if matches!(
        v.actor.role,
        Role::Supervisor | Role::DeptReviewer | Role::DeptApprover
    ) {
        Ok(())
    } else {
        Err(Error::forbidden("只有督查人员和部门人员可以查看效能看板").into())
    }
}

/// The dashboard's query.
#[derive(Deserialize, Default)]
pub struct DashQuery {
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
    quarter: Option<String>,
}

struct Card {
    label: &'static str,
    value: String,
    target: String,
    met: Option<bool>,
}

struct Row {
    key: String,
    label: String,
    received: i64,
    decided: i64,
    on_time: String,
    days: String,
    immediate: String,
    online: String,
    one_visit: String,
    one_window: String,
    ratings: i64,
    satisfaction: String,
    bad: i64,
    call_back: String,
    yellow: String,
    red: String,
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn row(k: &Kpi) -> Row {
    Row {
        key: k.key.clone(),
        label: k.label.clone(),
        received: k.received,
        decided: k.decided,
        on_time: pct(k.on_time_rate),
        days: k
            .average_working_days
            .map(|d| format!("{d:.1}"))
            .unwrap_or_else(|| "—".into()),
        immediate: pct(k.immediate_share),
        online: pct(k.online_share),
        one_visit: pct(k.max_one_visit_share),
        one_window: pct(k.one_window_share),
        ratings: k.ratings,
        satisfaction: pct(k.satisfaction_rate),
        bad: k.bad,
        call_back: pct(k.call_back_rate),
        yellow: k.yellow.map(|x| x.to_string()).unwrap_or_default(),
        red: k.red.map(|x| x.to_string()).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    page: Chrome,
    from: String,
    to: String,
    by: String,
    groups: Vec<(&'static str, &'static str)>,
    cards: Vec<Card>,
    rows: Vec<Row>,
    by_department: bool,
    export: String,
    chart_json: String,
    supervisor: bool,
    quarter: String,
    assessment: Vec<(i64, String, String, Vec<String>)>,
    criteria: Vec<String>,
}

const GROUPS: [(&str, &str); 6] = [
    ("department", "按部门"),
    ("item", "按事项"),
    ("window", "按窗口"),
    ("staff", "按人员"),
    ("region", "按区划"),
    ("month", "按月份"),
];

fn group_of(s: &str) -> GroupBy {
    match s {
        "item" => GroupBy::Item,
        "window" => GroupBy::Window,
        "staff" => GroupBy::Staff,
        "region" => GroupBy::Region,
        "month" => GroupBy::Month,
        _ => GroupBy::Department,
    }
}

fn quarter_of(month: &str) -> String {
    let (y, m) = month.split_once('-').unwrap_or(("2026", "01"));
    let m: u32 = m.parse().unwrap_or(1);
    format!("{y}-Q{}", (m.saturating_sub(1)) / 3 + 1)
}

/// The dashboard.
pub async fn dashboard(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(q): Query<DashQuery>,
) -> PageResult {
    allowed(&v)?;
    let today = tongban_core::time::china_date(s.clock.now());
    let from = q
        .from
        .clone()
        .filter(|x| !x.is_empty())
        .unwrap_or_else(|| today.format("%Y-01").to_string());
    let to =
        q.to.clone()
            .filter(|x| !x.is_empty())
            .unwrap_or_else(|| today.format("%Y-%m").to_string());
    let by_name = q.by.clone().unwrap_or_else(|| "department".into());
    let by = group_of(&by_name);
    let supervisor = v.actor.role == Role::Supervisor;
    let quarter = q
        .quarter
        .clone()
        .filter(|x| !x.is_empty())
        .unwrap_or_else(|| quarter_of(&to));
    let a = v.actor.clone();
    let (f, t, qq) = (from.clone(), to.clone(), quarter.clone());
    let (report, months, assessment) = s
        .read(move |tx, _| {
            let q = KpiQuery {
                from: f.clone(),
                to: t.clone(),
                by: Some(by),
            };
            let report = kpis(tx, &a, &q)?;
            let months = kpis(
                tx,
                &a,
                &KpiQuery {
                    from: f,
                    to: t,
                    by: Some(GroupBy::Month),
                },
            )?;
            let assessment = if a.role == Role::Supervisor {
                assessments(tx, &a, &qq)?
            } else {
                vec![]
            };
            Ok((report, months, assessment))
        })
        .await?;
    let cards: Vec<Card> = std::iter::once(Card {
        label: "收件",
        value: report.total.received.to_string(),
        target: String::new(),
        met: None,
    })
    .chain(std::iter::once(Card {
        label: "平均办理工作日",
        value: report
            .total
            .average_working_days
            .map(|d| format!("{d:.1}"))
            .unwrap_or_else(|| "—".into()),
        target: String::new(),
        met: None,
    }))
    .chain(TARGETS.iter().map(|tg| {
        let v = report.total.figure(tg.figure);
        Card {
            label: tg.label,
            value: pct(v),
            target: format!(
                "目标 {}{:.1}%",
                if tg.at_most { "≤" } else { "≥" },
                tg.value * 100.0
            ),
            met: v.map(|v| tg.met(v)),
        }
    }))
    .collect();
    let chart = serde_json::json!({
        "groups": report.rows.iter().map(|k| k.label.clone()).collect::<Vec<_>>(),
        "on_time": report.rows.iter().map(|k| k.on_time_rate.map(|x| (x * 1000.0).round() / 10.0)).collect::<Vec<_>>(),
        "satisfaction": report.rows.iter().map(|k| k.satisfaction_rate.map(|x| (x * 1000.0).round() / 10.0)).collect::<Vec<_>>(),
        "months": months.rows.iter().map(|k| k.key.clone()).collect::<Vec<_>>(),
        "received": months.rows.iter().map(|k| k.received).collect::<Vec<_>>(),
        "decided": months.rows.iter().map(|k| k.decided).collect::<Vec<_>>(),
        "online": months.rows.iter().map(|k| k.online_share.map(|x| (x * 1000.0).round() / 10.0)).collect::<Vec<_>>(),
    });
    let export = format!("/api/v1/kpi/export?from={from}&to={to}&by={by_name}");
    Ok(render(&DashboardPage {
        page: Chrome::new("效能看板", Some(&v), "/dashboard"),
        groups: GROUPS.to_vec(),
        by_department: by == GroupBy::Department,
        cards,
        rows: report.rows.iter().map(row).collect(),
        export,
        // `</` cannot end the script element early: JSON escapes nothing of the kind.
        chart_json: chart.to_string().replace("</", "<\\/"),
        supervisor,
        criteria: assessment
            .first()
            .map(|a| {
                a.criteria
                    .iter()
                    .map(|c| format!("{}（{}）", c.label, c.points))
                    .collect()
            })
            .unwrap_or_default(),
        assessment: assessment
            .iter()
            .map(|a| {
                (
                    a.window_id,
                    a.window.clone(),
                    format!("{:.1}", a.total),
                    a.criteria
                        .iter()
                        .map(|c| format!("{:.1}", c.score))
                        .collect(),
                )
            })
            .collect(),
        quarter,
        from,
        to,
        by: by_name,
    }))
}

/// Record a deduction from the dashboard.
pub async fn deduction(State(s): State<AppState>, f: PageForm) -> PageResult {
    let d = Deduction {
        window_id: f
            .data
            .text("window_id")
            .parse()
            .map_err(|_| Error::field("window_id", "请选择窗口"))?,
        quarter: f.data.text("quarter"),
        points: f
            .data
            .text("points")
            .parse()
            .map_err(|_| Error::field("points", "扣分须为整数"))?,
        reason: f.data.text("reason"),
    };
    let quarter = d.quarter.clone();
    let a = f.viewer.actor.clone();
    s.write(move |tx, env| add_deduction(tx, &a, env, &d))
        .await?;
    Ok(Redirect::to(&format!("/dashboard?quarter={quarter}#assessment")).into_response())
}

/// A drill-down.
#[derive(Deserialize, Default)]
pub struct DrillQuery {
    department_id: Option<i64>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "drill_cases.html")]
struct DrillCasesPage {
    page: Chrome,
    heading: String,
    rows: Vec<CaseRow>,
    next: String,
    query: String,
}

fn month_bounds(from: &str, to: &str) -> PageResult<(chrono::NaiveDate, chrono::NaiveDate)> {
    tongban_core::usecase::stats::check_months(from, to)?;
    let first = chrono::NaiveDate::parse_from_str(&format!("{from}-01"), "%Y-%m-%d")
        .map_err(|_| Error::field("from", "月份格式应为 YYYY-MM"))?;
    let start_of_to = chrono::NaiveDate::parse_from_str(&format!("{to}-01"), "%Y-%m-%d")
        .map_err(|_| Error::field("to", "月份格式应为 YYYY-MM"))?;
    let last = start_of_to
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(start_of_to);
    Ok((first, last))
}

/// The cases behind a department's 收件 figure: those it received in the period.
pub async fn drill_cases(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(q): Query<DrillQuery>,
) -> PageResult {
    allowed(&v)?;
    let (from, to) = (
        q.from.clone().unwrap_or_default(),
        q.to.clone().unwrap_or_default(),
    );
    let (first, last) = month_bounds(&from, &to)?;
    let a = v.actor.clone();
    let yellow = s.settings.yellow_days;
    let cq = CaseQuery {
        department_id: q.department_id,
        created_from: Some(first),
        created_to: Some(last),
        order: Some(CaseOrder::Newest),
        cursor: q.cursor.clone().filter(|c| !c.is_empty()),
        limit: Some(100),
        ..CaseQuery::default()
    };
    let page = s
        .read(move |tx, env| list_cases(tx, &a, env, &cq, yellow))
        .await?;
    Ok(render(&DrillCasesPage {
        page: Chrome::new("办件明细", Some(&v), "/dashboard"),
        heading: format!("{from} 至 {to} 收件"),
        rows: page.items.iter().map(CaseRow::from).collect(),
        next: page.next_cursor.unwrap_or_default(),
        query: format!(
            "department_id={}&from={from}&to={to}",
            q.department_id.map(|d| d.to_string()).unwrap_or_default()
        ),
    }))
}

#[derive(Template)]
#[template(path = "drill_ratings.html")]
struct DrillRatingsPage {
    page: Chrome,
    rows: Vec<(i64, String, String, &'static str, String, String, String)>,
}

/// The ratings behind a department's 差评 figure (newest first).
pub async fn drill_ratings(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    Query(q): Query<DrillQuery>,
) -> PageResult {
    allowed(&v)?;
    let a = v.actor.clone();
    let rq = RatingQuery {
        bad: Some(true),
        department_id: q.department_id,
        limit: Some(200),
        ..RatingQuery::default()
    };
    let page = s.read(move |tx, _| list_ratings(tx, &a, &rq)).await?;
    Ok(render(&DrillRatingsPage {
        page: Chrome::new("差评明细", Some(&v), "/dashboard"),
        rows: page
            .items
            .iter()
            .map(|r| {
                (
                    r.case_id,
                    r.case_number.clone(),
                    r.item_name.clone(),
                    r.level.label(),
                    r.reasons
                        .iter()
                        .map(|c| reason_text(*c))
                        .collect::<Vec<_>>()
                        .join("；"),
                    r.comment.clone(),
                    date(tongban_core::time::china_date(r.at)),
                )
            })
            .collect(),
    }))
}

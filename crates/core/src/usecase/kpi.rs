//! 效能指标 use cases: the figures per department, item, window, staff member, region
//! or month over a period, next to their targets; the quarterly 1000-point window
//! assessment with the deductions supervisors record.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Env;
use super::stats::check_months;
use crate::actor::{Actor, Role};
use crate::error::{Error, Result};
use crate::kpi::{
    Assessment, Context, GroupBy, Kpi, Scheme, TARGETS, Target, assess, compute, quarter_months,
    total,
};
use crate::store::{ItemFilter, Tx};

/// A KPI query.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, `YYYY-MM`.
    pub to: String,
    /// `department` (default), `item`, `window`, `staff`, `region`, `month`.
    pub by: Option<GroupBy>,
}

/// The figures of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KpiReport {
    /// First month.
    pub from: String,
    /// Last month.
    pub to: String,
    /// How the rows are grouped.
    pub by: GroupBy,
    /// Over everything in scope.
    pub total: Kpi,
    /// One row per group.
    pub rows: Vec<Kpi>,
    /// The targets the figures are judged against.
    pub targets: Vec<Target>,
}

/// The scope of KPIs: a region prefix, and a department for department staff.
fn scope(tx: &mut dyn Tx, actor: &Actor) -> Result<(String, Option<i64>)> {
    match actor.role {
        Role::Supervisor | Role::SysAdmin => Ok((
            actor
                .region
                .as_ref()
                .map(|r| r.prefix().to_string())
                .ok_or(Error::forbidden("账号未设置区划范围"))?,
            None,
        )),
        Role::DeptReviewer | Role::DeptApprover => {
            let d = actor
                .department_id
                .ok_or(Error::forbidden("账号未归属部门"))?;
            let dept = tx
                .department(d)?
                .ok_or(Error::forbidden("账号未归属部门"))?;
            Ok((dept.region.prefix().to_string(), Some(d)))
        }
        _ => Err(Error::forbidden("无权查看效能指标")),
    }
}

fn context(tx: &mut dyn Tx, prefix: &str, from: &str, to: &str) -> Result<Context> {
    let mut ctx = Context::default();
    for d in tx.departments(None)? {
        ctx.departments
            .insert(d.id, (d.name.clone(), d.region.as_str().to_string()));
    }
    let mut after = 0;
    loop {
        let page = tx.items(&ItemFilter {
            region_prefix: Some(prefix.to_string()),
            after_id: Some(after),
            limit: 1000,
            ..ItemFilter::default()
        })?;
        let n = page.len();
        for i in &page {
            let visits = match i.published_version {
                Some(v) => tx
                    .published_spec(i.id, v)?
                    .map(|s| s.visits)
                    .unwrap_or(u8::MAX),
                None => u8::MAX,
            };
            ctx.items.insert(i.id, (i.name.clone(), visits));
            after = i.id;
        }
        if n < 1000 {
            break;
        }
    }
    for h in tx.halls(None)? {
        for w in tx.windows(h.id)? {
            ctx.windows
                .insert(w.id, (format!("{} {}", h.name, w.name), w.kind));
        }
    }
    for a in tx.accounts(None)? {
        ctx.staff.insert(a.id, a.name.clone());
    }
    for r in tx.regions(None)? {
        ctx.regions
            .insert(r.code.as_str().to_string(), r.name.clone());
    }
    for (d, m, y, r) in tx.warning_counts(prefix, from, to)? {
        ctx.warnings.insert((d, m), (y, r));
    }
    Ok(ctx)
}

/// The figures in the actor's scope.
pub fn kpis(tx: &mut dyn Tx, actor: &Actor, q: &KpiQuery) -> Result<KpiReport> {
    check_months(&q.from, &q.to)?;
    let (prefix, department) = scope(tx, actor)?;
    let mut cases = tx.case_stat_rows(&prefix, &q.from, &q.to)?;
    let mut ratings = tx.rating_stats(&prefix, &q.from, &q.to)?;
    let mut ctx = context(tx, &prefix, &q.from, &q.to)?;
    if let Some(d) = department {
        cases.retain(|r| r.department_id == d);
        ratings.retain(|r| r.department_id == d);
        ctx.warnings.retain(|(dd, _), _| *dd == d);
    }
    let by = q.by.unwrap_or_default();
    Ok(KpiReport {
        from: q.from.clone(),
        to: q.to.clone(),
        by,
        total: total(&cases, &ratings, &ctx),
        rows: compute(by, &cases, &ratings, &ctx),
        targets: TARGETS.to_vec(),
    })
}

/// The assessment scheme's settings name.
const SCHEME: &str = "assessment_scheme";

/// The scheme in force.
pub fn scheme(tx: &mut dyn Tx) -> Result<Scheme> {
    match tx.setting(SCHEME)? {
        Some(j) => serde_json::from_str(&j).map_err(|e| Error::Store(format!("scheme: {e}"))),
        None => Ok(Scheme::default()),
    }
}

/// Change the scheme (system administrators).
pub fn save_scheme(tx: &mut dyn Tx, actor: &Actor, env: &Env, s: &Scheme) -> Result<Scheme> {
    actor.require(&[Role::SysAdmin])?;
    s.validate()?;
    let j = serde_json::to_string(s).map_err(|e| Error::Store(e.to_string()))?;
    tx.save_setting(SCHEME, &j, actor.account_id, env.now)?;
    Ok(s.clone())
}

/// The windows' scores for a quarter (`YYYY-Qn`), best first.
pub fn assessments(tx: &mut dyn Tx, actor: &Actor, quarter: &str) -> Result<Vec<Assessment>> {
    actor.require(&[Role::Supervisor, Role::SysAdmin])?;
    let (from, to) = quarter_months(quarter)?;
    let (prefix, _) = scope(tx, actor)?;
    let cases = tx.case_stat_rows(&prefix, &from, &to)?;
    let ratings = tx.rating_stats(&prefix, &from, &to)?;
    let ctx = context(tx, &prefix, &from, &to)?;
    let reds: BTreeMap<i64, i64> = tx
        .red_marks_by_window(&prefix, &from, &to)?
        .into_iter()
        .collect();
    let mut deducted: BTreeMap<i64, u32> = BTreeMap::new();
    for (w, p, _) in tx.deductions(quarter)? {
        *deducted.entry(w).or_default() += p;
    }
    let figures: BTreeMap<i64, Kpi> = compute(GroupBy::Window, &cases, &ratings, &ctx)
        .into_iter()
        .filter_map(|k| k.key.parse().ok().map(|id| (id, k)))
        .collect();
    let s = scheme(tx)?;
    // Every window of the region's halls is assessed, also one that received nothing.
    let mut out: Vec<Assessment> = Vec::new();
    for h in tx.halls(Some(&prefix))? {
        for w in tx.windows(h.id)? {
            let k = figures.get(&w.id).cloned().unwrap_or_default();
            out.push(assess(
                &s,
                w.id,
                &format!("{} {}", h.name, w.name),
                &k,
                reds.get(&w.id).copied().unwrap_or(0),
                deducted.get(&w.id).copied().unwrap_or(0),
            ));
        }
    }
    out.sort_by(|a, b| {
        b.total
            .total_cmp(&a.total)
            .then(a.window_id.cmp(&b.window_id))
    });
    Ok(out)
}

/// Points a supervisor takes off a window for a quarter (日常巡查).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deduction {
    /// The window.
    pub window_id: i64,
    /// `YYYY-Qn`.
    pub quarter: String,
    /// Points, 1–200.
    pub points: u32,
    /// Why (e.g. 迟到、脱岗).
    pub reason: String,
}

/// Record a deduction (supervisors of the window's region).
pub fn add_deduction(tx: &mut dyn Tx, actor: &Actor, env: &Env, d: &Deduction) -> Result<i64> {
    actor.require(&[Role::Supervisor])?;
    let mut e = crate::FieldErrors::new();
    if let Err(Error::Validation(fe)) = quarter_months(&d.quarter) {
        for (k, v) in fe.fields() {
            e.add(k.clone(), v.clone());
        }
    }
    if !(1..=200).contains(&d.points) {
        e.add("points", "扣分须在 1–200 之间");
    }
    if d.reason.trim().is_empty() || d.reason.chars().count() > 200 {
        e.add("reason", "请写明扣分原因（不超过 200 字）");
    }
    let hall_ok = match tx.window(d.window_id)? {
        None => {
            e.add("window_id", "窗口不存在");
            false
        }
        Some(w) => tx
            .hall(w.hall_id)?
            .is_some_and(|h| actor.region_contains(&h.region)),
    };
    e.into_result()?;
    if !hall_ok {
        return Err(Error::forbidden("超出本账号的区划范围"));
    }
    tx.add_deduction(
        d.window_id,
        &d.quarter,
        d.points,
        d.reason.trim(),
        actor.account_id,
        env.now,
    )
}

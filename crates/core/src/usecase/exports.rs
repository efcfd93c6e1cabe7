//! Case lists and statistics as spreadsheets (导出): the same scope and filters as
//! the lists on screen, personal names masked as they are there.

use std::collections::BTreeMap;

use super::Env;
use super::cases::{CaseQuery, list_cases};
use super::stats::{MonthRange, on_time};
use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::store::Tx;
use crate::table::Sheet;

/// The most cases one export holds.
pub const MAX_EXPORT_ROWS: usize = 100_000;

fn department_names(tx: &mut dyn Tx) -> Result<BTreeMap<i64, String>> {
    Ok(tx
        .departments(None)?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect())
}

/// Every case the list `q` would page through (up to [`MAX_EXPORT_ROWS`]), one row
/// each. `q.cursor` and `q.limit` are ignored.
pub fn cases_sheet(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    q: &CaseQuery,
    yellow_days: u32,
) -> Result<Sheet> {
    let names = department_names(tx)?;
    let mut s = Sheet::new(
        "办件",
        &[
            "办件编号",
            "事项",
            "实施部门",
            "申请人",
            "渠道",
            "状态",
            "期限",
            "计时",
            "预警",
            "容缺补正期限",
            "收件时间",
        ],
    );
    let mut q = CaseQuery {
        cursor: None,
        limit: Some(200),
        ..q.clone()
    };
    loop {
        let page = list_cases(tx, actor, env, &q, yellow_days)?;
        for c in &page.items {
            if s.rows.len() >= MAX_EXPORT_ROWS {
                return Ok(s);
            }
            s.rows.push(vec![
                c.number.clone(),
                c.item_name.clone(),
                names.get(&c.department_id).cloned().unwrap_or_default(),
                c.applicant_name.clone(),
                c.channel.label().to_string(),
                c.state_label.clone(),
                c.due
                    .map(|d| {
                        format!(
                            "{d}{}",
                            if c.due_provisional {
                                "（暂定）"
                            } else {
                                ""
                            }
                        )
                    })
                    .unwrap_or_default(),
                c.due_clock
                    .map(|k| k.label().to_string())
                    .unwrap_or_default(),
                c.warning.label().to_string(),
                c.rongque_due.map(|d| d.to_string()).unwrap_or_default(),
                crate::time::china_date(c.created_at).to_string(),
            ]);
        }
        match page.next_cursor {
            Some(cur) => q.cursor = Some(cur),
            None => return Ok(s),
        }
    }
}

/// On-time completion per department and month (as `GET /stats/on-time`).
pub fn on_time_sheet(tx: &mut dyn Tx, actor: &Actor, q: &MonthRange) -> Result<Sheet> {
    let rows = on_time(tx, actor, q)?;
    let names = department_names(tx)?;
    let mut s = Sheet::new(
        "按时办结率",
        &[
            "部门",
            "月份",
            "收件",
            "办结",
            "按时办结",
            "按时办结率",
            "平均办理工作日",
        ],
    );
    for r in rows {
        s.rows.push(vec![
            names
                .get(&r.department_id)
                .cloned()
                .ok_or(Error::Store(format!(
                    "department {} missing",
                    r.department_id
                )))?,
            r.month.clone(),
            r.received.to_string(),
            r.decided.to_string(),
            r.on_time.to_string(),
            format!("{:.1}%", r.rate * 100.0),
            format!("{:.1}", r.average_working_days),
        ]);
    }
    Ok(s)
}

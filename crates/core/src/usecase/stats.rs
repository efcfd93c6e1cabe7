//! Statistics use cases (the rollups kept by [`crate::stats`]).

use serde::Deserialize;

use crate::actor::{Actor, Role};
use crate::error::{Error, Result};
use crate::stats::OnTimeRow;
use crate::store::Tx;

/// A month range, `YYYY-MM`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthRange {
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, `YYYY-MM`.
    pub to: String,
}

fn check_month(field: &str, m: &str) -> Result<()> {
    let ok =
        m.len() == 7 && chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_ok();
    if ok {
        Ok(())
    } else {
        Err(Error::field(field, "月份格式应为 YYYY-MM"))
    }
}

/// Check a month range `from..=to` (`YYYY-MM`).
pub fn check_months(from: &str, to: &str) -> Result<()> {
    check_month("from", from)?;
    check_month("to", to)?;
    if from > to {
        return Err(Error::field("to", "结束月份不能早于开始月份"));
    }
    Ok(())
}

/// On-time completion (按时办结率) per department and month: supervisors and
/// administrators over their region, department staff over their own department.
pub fn on_time(tx: &mut dyn Tx, actor: &Actor, q: &MonthRange) -> Result<Vec<OnTimeRow>> {
    check_month("from", &q.from)?;
    check_month("to", &q.to)?;
    if q.from > q.to {
        return Err(Error::field("to", "结束月份不能早于开始月份"));
    }
    let region = actor
        .region
        .as_ref()
        .map(|r| r.prefix().to_string())
        .unwrap_or_default();
    match actor.role {
        Role::Supervisor | Role::SysAdmin | Role::CatalogAdmin => {
            if region.is_empty() {
                return Err(Error::forbidden("账号未设置区划范围"));
            }
            tx.on_time_by_department_month(&region, &q.from, &q.to)
        }
        Role::DeptReviewer | Role::DeptApprover => {
            let dept = actor
                .department_id
                .ok_or(Error::forbidden("账号未归属部门"))?;
            let d = tx
                .department(dept)?
                .ok_or(Error::forbidden("账号未归属部门"))?;
            Ok(tx
                .on_time_by_department_month(d.region.prefix(), &q.from, &q.to)?
                .into_iter()
                .filter(|r| r.department_id == dept)
                .collect())
        }
        Role::System => tx.on_time_by_department_month("", &q.from, &q.to),
        Role::Applicant
        | Role::Agent
        | Role::AcceptanceClerk
        | Role::IssuanceClerk
        | Role::HotlineOperator
        | Role::HandlingUnit => Err(Error::forbidden("该角色不能查看统计")),
    }
}

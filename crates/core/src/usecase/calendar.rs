//! Calendar use cases: load or edit a year's notice, and recompute the deadlines of
//! open cases that depended on it.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use super::Env;
use crate::actor::{Actor, Role};
use crate::calendar::{Calendar, CalendarYear};
use crate::case::{Event, EventData};
use crate::error::{Error, Result};
use crate::hotline::{STEP_RECOMPUTE_REPLY_DUE, Step};
use crate::store::{OrderListFilter, Recompute, Tx};

/// What loading a year changed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarSaved {
    /// The year saved.
    pub year: i32,
    /// Working days in it.
    pub working_days: u32,
    /// Open cases whose deadlines were recomputed.
    pub cases_recomputed: u32,
    /// 12345 work orders waiting for their reply whose reply deadline moved.
    pub orders_recomputed: u32,
}

/// Save a year's notice and recompute open cases. `in_force` is given the new calendar
/// before the open cases are swept, so that a decision made elsewhere meanwhile (off the
/// writer) either commits before the sweep reads its case, or finds the calendar it
/// counted with replaced once it has committed.
pub fn save_year(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    y: &CalendarYear,
    in_force: impl FnOnce(Arc<Calendar>),
) -> Result<CalendarSaved> {
    actor.require(&[Role::SysAdmin, Role::CatalogAdmin])?;
    y.validate().map_err(Error::Validation)?;
    let mut y = y.clone();
    y.holidays.sort();
    y.adjusted_workdays.sort();
    y.source = y.source.trim().to_string();
    let mut years = tx.calendar_years()?;
    let replacing = years.iter().any(|x| x.year == y.year);
    years.retain(|x| x.year != y.year);
    years.push(y.clone());
    tx.save_calendar_year(&y, actor.account_id, env.now)?;
    let cal = Arc::new(Calendar::new(&years));
    in_force(cal.clone());
    // Provisional deadlines always; when an existing year is edited, every open case
    // due from that year on may move too.
    let which = Recompute {
        due_from: replacing
            .then(|| NaiveDate::from_ymd_opt(y.year, 1, 1))
            .flatten(),
        updated_since: None,
    };
    let reason = format!("载入 {} 年节假日安排，重新计算期限", y.year);
    let recomputed = recompute_open_cases(tx, actor, env, &cal, &which, &reason)?;
    let orders = recompute_open_orders(tx, actor, env, &cal, &reason)?;
    Ok(CalendarSaved {
        year: y.year,
        working_days: y.working_day_count(),
        cases_recomputed: recomputed,
        orders_recomputed: orders,
    })
}

/// Count again the reply deadlines of the open 12345 work orders still waiting for
/// their reply (答复期限), recording a step on each that moved. Hotline actions run in
/// the writer with the calendar in force, so every order is either counted with the
/// new calendar already or swept here. Returns how many moved.
pub fn recompute_open_orders(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    cal: &Calendar,
    reason: &str,
) -> Result<u32> {
    let mut moved = 0;
    let mut before_id = None;
    loop {
        let page = tx.orders(&OrderListFilter {
            open_only: true,
            before_id,
            limit: 500,
            ..Default::default()
        })?;
        let Some(last) = page.last() else { break };
        before_id = Some(last.id);
        for mut o in page {
            let Some((due, provisional)) = o
                .reply_due_recounted(cal)
                .map_err(|e| Error::field("year", e.to_string()))?
            else {
                continue;
            };
            let was = o.reply_due.map(|d| d.to_string()).unwrap_or_default();
            o.steps.push(Step {
                action: STEP_RECOMPUTE_REPLY_DUE.into(),
                from: Some(o.state),
                to: o.state,
                text: format!("{reason}：答复期限 {was} → {due}"),
                by: actor.account_id,
                by_name: actor.name.clone(),
                unit: None,
                at: env.now,
            });
            let expected = o.version;
            o.reply_due = Some(due);
            o.reply_provisional = provisional;
            o.version += 1;
            o.updated_at = env.now;
            tx.update_order(&o, expected)?;
            moved += 1;
        }
    }
    Ok(moved)
}

/// Recompute the clocks of the open cases `which` selects against `cal`, recording an
/// event on each case whose deadlines moved. Returns how many moved.
pub fn recompute_open_cases(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    cal: &Calendar,
    which: &Recompute,
    reason: &str,
) -> Result<u32> {
    let mut recomputed = 0;
    let mut after = 0;
    loop {
        let ids = tx.recompute_case_ids(which, after, 500)?;
        let Some(&last) = ids.last() else { break };
        after = last;
        for id in ids {
            let Some(before) = tx.shared_case(id)? else {
                continue;
            };
            let mut case = (*before).clone();
            let moved = case
                .clocks
                .recompute(cal)
                .map_err(|e| Error::field("year", e.to_string()))?;
            if moved {
                case.version += 1;
                case.updated_at = env.now;
                let case = std::sync::Arc::new(case);
                tx.save_shared_case(case.clone(), before.version)?;
                tx.append_event(
                    id,
                    &Event {
                        seq: case.version as u32,
                        at: env.now,
                        actor_id: actor.account_id,
                        actor_name: actor.name.clone(),
                        actor_role: actor.role,
                        action: "recompute_deadlines".into(),
                        from: Some(case.state),
                        to: case.state,
                        reason: Some(reason.to_string()),
                        data: EventData::of(
                            &serde_json::json!({ "before": before.due(), "after": case.due() }),
                        ),
                    },
                )?;
                recomputed += 1;
            }
        }
    }
    Ok(recomputed)
}

//! 效能监察 use cases: the warning sweep (marks and 督办 orders), orders answered and
//! closed, the settings.

use serde::{Deserialize, Serialize};

use super::Env;
use crate::actor::{Actor, Role};
use crate::case::{CaseState, Warning};
use crate::error::{Error, Result};
use crate::store::{CaseFilter, CaseOrder, CaseScope, OrderFilter, TaskFilter, Tx};
use crate::supervision::{
    OrderAction, OrderState, SupervisionOrder, SupervisionSettings, WarningMark, act_on_order,
    can_see_order, case_marks, task_mark,
};

/// The settings' name in the store.
const SETTINGS: &str = "supervision";

/// The supervision settings in force (defaults until an administrator saves some).
pub fn settings(tx: &mut dyn Tx) -> Result<SupervisionSettings> {
    match tx.setting(SETTINGS)? {
        Some(json) => {
            serde_json::from_str(&json).map_err(|e| Error::Store(format!("settings: {e}")))
        }
        None => Ok(SupervisionSettings::default()),
    }
}

/// Change them (system administrators).
pub fn save_settings(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    s: &SupervisionSettings,
) -> Result<SupervisionSettings> {
    actor.require(&[Role::SysAdmin])?;
    s.validate()?;
    let json = serde_json::to_string(s).map_err(|e| Error::Store(e.to_string()))?;
    tx.save_setting(SETTINGS, &json, actor.account_id, env.now)?;
    Ok(s.clone())
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WarningSweep {
    /// Cases and tasks looked at.
    pub looked_at: u32,
    /// Marks new or raised to red.
    pub marked: u32,
    /// 督办 orders opened.
    pub orders_opened: u32,
    /// Tasks newly marked overdue (逾期).
    pub tasks_overdue: u32,
}

impl WarningSweep {
    /// Add another sweep's counts.
    pub fn add(&mut self, o: &WarningSweep) {
        self.looked_at += o.looked_at;
        self.marked += o.marked;
        self.orders_opened += o.orders_opened;
        self.tasks_overdue += o.tasks_overdue;
    }
}

/// The open states that wait on a department clock (those `Case::due_clock` names).
const WAITING: [CaseState; 6] = [
    CaseState::Submitted,
    CaseState::Received,
    CaseState::UnderReview,
    CaseState::Decided,
    CaseState::ResultCorrection,
    CaseState::Delivered,
];

fn record(
    tx: &mut dyn Tx,
    env: &Env,
    marks: Vec<WarningMark>,
    open_orders: bool,
    r: &mut WarningSweep,
) -> Result<()> {
    for m in marks {
        if tx.mark_warning(&m, env.now)? {
            r.marked += 1;
        }
        if open_orders
            && m.level == Warning::Red
            && tx
                .insert_supervision_order(&SupervisionOrder::for_mark(&m, env.now))?
                .is_some()
        {
            r.orders_opened += 1;
        }
    }
    Ok(())
}

/// The cases one department waits on that are within `yellow_days` of a deadline or
/// past it, after `after` (the sort key and id of the last one seen), up to `limit`.
pub fn near_deadline_cases(
    tx: &mut dyn Tx,
    env: &Env,
    department_id: i64,
    yellow_days: u32,
    after: Option<(String, i64)>,
    limit: u32,
) -> Result<Vec<(String, i64)>> {
    let threshold = env
        .cal
        .deadline(env.today(), yellow_days)
        .map_err(|e| Error::Store(e.to_string()))?
        .deadline;
    Ok(tx
        .cases(&CaseFilter {
            scope: CaseScope::Department(department_id),
            states: WAITING.to_vec(),
            item_id: None,
            department_id: None,
            due_before: Some(threshold),
            due_after: None,
            rongque_due_before: None,
            number: None,
            created: None,
            order: CaseOrder::Due,
            after,
            limit,
        })?
        .into_iter()
        .map(|c| (c.sort_key, c.id))
        .collect())
}

/// Mark the clocks of `case_ids` and open 督办 orders for the red ones.
pub fn sweep_cases(
    tx: &mut dyn Tx,
    env: &Env,
    yellow_days: u32,
    case_ids: &[i64],
) -> Result<WarningSweep> {
    let open_orders = settings(tx)?.open_orders;
    let mut r = WarningSweep::default();
    for id in case_ids {
        if let Some(case) = tx.case(*id)? {
            r.looked_at += 1;
            let marks = case_marks(&case, env.cal, env.today(), yellow_days);
            record(tx, env, marks, open_orders, &mut r)?;
        }
    }
    Ok(r)
}

/// Cases with an open 容缺 commitment due within `yellow_days` or past.
pub fn near_rongque_cases(
    tx: &mut dyn Tx,
    env: &Env,
    yellow_days: u32,
    limit: u32,
) -> Result<Vec<i64>> {
    let threshold = env
        .cal
        .deadline(env.today(), yellow_days)
        .map_err(|e| Error::Store(e.to_string()))?
        .deadline;
    tx.rongque_overdue_case_ids(threshold.succ_opt().unwrap_or(threshold), limit)
}

/// Mark the open rectification tasks near or past their due date (and those past it
/// 逾期), opening 督办 orders for the red ones; a page of tasks after `after_id`.
/// Returns what it did and the last id looked at.
pub fn sweep_tasks(
    tx: &mut dyn Tx,
    env: &Env,
    yellow_days: u32,
    after_id: i64,
    limit: u32,
) -> Result<(WarningSweep, Option<i64>)> {
    let open_orders = settings(tx)?.open_orders;
    let threshold = env
        .cal
        .deadline(env.today(), yellow_days)
        .map_err(|e| Error::Store(e.to_string()))?
        .deadline;
    let tasks = tx.tasks(&TaskFilter {
        open_only: true,
        due_before: Some(threshold),
        after_id: Some(after_id),
        limit,
        ..TaskFilter::default()
    })?;
    let mut r = WarningSweep::default();
    let last = tasks.last().map(|t| t.id);
    for t in &tasks {
        r.looked_at += 1;
        if let Some(o) = crate::rating::rectification::mark_overdue(t, env.today()) {
            let mut o = o;
            o.version = t.version + 1;
            tx.update_task(&o, t.version)?;
            r.tasks_overdue += 1;
        }
        if let Some(m) = task_mark(t, env.cal, env.today(), yellow_days) {
            record(tx, env, vec![m], open_orders, &mut r)?;
        }
    }
    Ok((r, last.filter(|_| tasks.len() == limit as usize)))
}

/// Mark the open work orders' sign and reply clocks and open 督办 orders for the red
/// ones; a page of orders before `before_id` (newest first). Returns what it did and
/// the last id looked at when there may be more.
pub fn sweep_work_orders(
    tx: &mut dyn Tx,
    env: &Env,
    yellow_days: u32,
    before_id: Option<i64>,
    limit: u32,
) -> Result<(WarningSweep, Option<i64>)> {
    use crate::hotline::OrderState as S;
    let open_orders = settings(tx)?.open_orders;
    let sign_minutes = super::hotline::settings(tx)?.deadlines.sign_minutes;
    let orders = tx.orders(&crate::store::OrderListFilter {
        states: vec![S::Dispatched, S::Returned, S::Handling],
        open_only: true,
        before_id,
        limit,
        ..Default::default()
    })?;
    let mut r = WarningSweep::default();
    for o in &orders {
        r.looked_at += 1;
        let marks = crate::supervision::order_marks(o, env.cal, env.now, yellow_days, sign_minutes);
        record(tx, env, marks, open_orders, &mut r)?;
    }
    let last = orders.last().map(|o| o.id);
    Ok((r, last.filter(|_| orders.len() == limit as usize)))
}

/// A list query for orders.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// `open`, `answered`, `closed`, comma-separated (default all).
    pub state: Option<String>,
    /// Orders before this id (newest first).
    pub before_id: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}

/// 督办 orders in scope: a department its own, supervisors their region.
pub fn list_orders(
    tx: &mut dyn Tx,
    actor: &Actor,
    q: &OrderQuery,
) -> Result<Vec<SupervisionOrder>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::field("limit", "每页条数须在 1–200 之间"));
    }
    let mut states = Vec::new();
    for s in q
        .state
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        states.push(match s {
            "open" => OrderState::Open,
            "answered" => OrderState::Answered,
            "closed" => OrderState::Closed,
            _ => return Err(Error::field("state", format!("未知状态“{s}”"))),
        });
    }
    let mut f = OrderFilter {
        states,
        before_id: q.before_id,
        limit,
        ..OrderFilter::default()
    };
    match actor.role {
        Role::DeptReviewer | Role::DeptApprover => {
            f.department_id = Some(
                actor
                    .department_id
                    .ok_or(Error::forbidden("账号未归属部门"))?,
            )
        }
        Role::Supervisor | Role::SysAdmin => {
            f.region_prefix = Some(
                actor
                    .region
                    .as_ref()
                    .map(|r| r.prefix().to_string())
                    .ok_or(Error::forbidden("账号未设置区划范围"))?,
            )
        }
        _ => return Err(Error::forbidden("无权查看督办单")),
    }
    tx.supervision_orders(&f)
}

/// Answer, close or send back an order.
pub fn order_action(
    tx: &mut dyn Tx,
    actor: &Actor,
    env: &Env,
    id: i64,
    action: &OrderAction,
) -> Result<SupervisionOrder> {
    let o = tx
        .supervision_order(id)?
        .filter(|o| can_see_order(actor, o))
        .ok_or(Error::NotFound {
            entity: "督办单"
        })?;
    let next = act_on_order(&o, actor, action, env.now)?;
    tx.update_supervision_order(&next)?;
    Ok(next)
}

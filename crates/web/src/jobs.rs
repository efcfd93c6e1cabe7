//! Background work, safe with several servers on one database.
//!
//! Every tick, each server
//! 1. reloads the working-day calendar if another server changed it (it compares the
//!    database's calendar revision with the one it holds), and sweeps again the cases
//!    whose recount after a calendar change failed ([`AppState::recount_waiting`]), and
//! 2. folds the statistics changes recorded since the last tick into the rollups, and
//! 3. for each periodic job, tries to take the job's lease ([`JobStore`]); only the
//!    server that gets it runs the job, then gives the lease back with the job's next
//!    due time. A server that dies holding a lease loses it when the lease expires, so a
//!    job is never lost; and because the next due time is shared, it is not run twice in
//!    one period. The jobs themselves are idempotent besides (a breach is recorded only
//!    for a commitment still open), so even an expired lease taken over mid-run cannot
//!    record anything twice.
//!
//! [`JobStore`]: tongban_core::store::JobStore

use std::time::Duration;

use chrono::Duration as Span;
use serde::Serialize;
use tongban_core::Result;
use tongban_core::usecase::jobs::{SweepReport, breach_overdue, overdue_rongque_cases};
use tongban_core::usecase::supervision::{
    WarningSweep, near_deadline_cases, near_rongque_cases, sweep_cases, sweep_tasks,
    sweep_work_orders,
};

use crate::state::AppState;

/// Cases handled per sweep transaction.
const BATCH: u32 = 200;
/// The 容缺 sweep's job name.
pub const RONGQUE_SWEEP: &str = "rongque_sweep";
/// The warning sweep's job name (yellow and red marks, 督办 orders).
pub const WARNING_SWEEP: &str = "warning_sweep";
/// How long a lease lasts: longer than any run.
pub const LEASE: Span = Span::minutes(10);

/// What one tick did on this server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tick {
    /// The calendar was reloaded.
    pub calendar_reloaded: bool,
    /// Jobs this server ran (it held their lease).
    pub ran: Vec<String>,
    /// Breaches recorded by the 容缺 sweep.
    pub breaches: u32,
    /// Statistics changes folded into the rollups.
    pub folded: u64,
    /// What the warning sweep did, when this server ran it.
    pub warnings: WarningSweep,
}

/// Statistics changes folded per transaction.
const FOLD_BATCH: u32 = 20_000;

/// Fold every recorded statistics change into the rollups ([`tongban_core::stats`]),
/// a batch per transaction. Safe on several servers at once: each change is taken by
/// exactly one fold.
pub async fn fold_stats(s: &AppState) -> Result<u64> {
    let mut total = 0;
    loop {
        let n = s.write(|tx, _| tx.fold_stats(FOLD_BATCH)).await?;
        total += n;
        if n < FOLD_BATCH as u64 {
            return Ok(total);
        }
    }
}

/// Run every sweep once, now, on this server (administrators' "run now"; no lease).
/// Each case is handled in its own transaction: one that fails is logged and left for
/// the next sweep, and does not hold up the others.
pub async fn run_once(s: &AppState) -> Result<SweepReport> {
    let mut total = SweepReport::default();
    loop {
        let ids = s
            .read(|tx, env| overdue_rongque_cases(tx, env, BATCH))
            .await?;
        let mut progress = false;
        for id in &ids {
            let id = *id;
            match s.write(move |tx, env| breach_overdue(tx, env, id)).await {
                Ok(n) => {
                    total.breaches += n;
                    progress |= n > 0;
                }
                Err(e) => {
                    tracing::warn!(case = id, error = %e, "容缺 sweep skipped a case");
                    total.skipped += 1;
                }
            }
        }
        if ids.len() < BATCH as usize || !progress {
            return Ok(total);
        }
    }
}

/// Mark every clock near or past its end and open 督办 orders for the red ones, now,
/// on this server (see `usecase::supervision`). Cases are read a department at a time
/// off the writer and marked in batches; each batch is one transaction.
pub async fn warning_sweep(s: &AppState) -> Result<WarningSweep> {
    let yellow = s.settings.yellow_days;
    let mut total = WarningSweep::default();
    let departments = s.read(|tx, _| tx.departments(None)).await?;
    for d in departments {
        let mut after: Option<(String, i64)> = None;
        loop {
            let a = after.clone();
            let page = s
                .read(move |tx, env| near_deadline_cases(tx, env, d.id, yellow, a, BATCH))
                .await?;
            let ids: Vec<i64> = page.iter().map(|(_, id)| *id).collect();
            if !ids.is_empty() {
                let r = s
                    .write(move |tx, env| sweep_cases(tx, env, yellow, &ids))
                    .await?;
                total.add(&r);
            }
            if page.len() < BATCH as usize {
                break;
            }
            after = page.last().cloned();
        }
    }
    let rongque = s
        .read(move |tx, env| near_rongque_cases(tx, env, yellow, 50_000))
        .await?;
    for chunk in rongque.chunks(BATCH as usize) {
        let ids = chunk.to_vec();
        let r = s
            .write(move |tx, env| sweep_cases(tx, env, yellow, &ids))
            .await?;
        total.add(&r);
    }
    let mut after = 0;
    loop {
        let (r, last) = s
            .write(move |tx, env| sweep_tasks(tx, env, yellow, after, BATCH))
            .await?;
        total.add(&r);
        match last {
            Some(l) => after = l,
            None => break,
        }
    }
    let mut before: Option<i64> = None;
    loop {
        let (r, last) = s
            .write(move |tx, env| sweep_work_orders(tx, env, yellow, before, BATCH))
            .await?;
        total.add(&r);
        match last {
            Some(l) => before = Some(l),
            None => break,
        }
    }
    Ok(total)
}

/// One tick of the background loop for the server `node`; jobs are next due `every`
/// after they ran.
pub async fn tick(s: &AppState, node: &str, every: Span) -> Result<Tick> {
    let calendar_reloaded = s.refresh_calendar().await?;
    // Writes decided with a replaced calendar whose recount failed: tried again.
    s.recount_waiting().await?;
    let mut t = Tick {
        calendar_reloaded,
        folded: fold_stats(s).await?,
        ..Tick::default()
    };
    let owner = node.to_string();
    let taken = s
        .write(move |tx, env| tx.take_lease(RONGQUE_SWEEP, &owner, env.now, env.now + LEASE))
        .await?;
    if taken {
        let result = run_once(s).await;
        let note = match &result {
            Ok(r) => format!("breaches={}", r.breaches),
            Err(e) => format!("failed: {e}"),
        };
        let owner = node.to_string();
        s.write(move |tx, env| {
            tx.release_lease(RONGQUE_SWEEP, &owner, env.now, env.now + every, &note)
        })
        .await?;
        t.breaches = result?.breaches;
        t.ran.push(RONGQUE_SWEEP.to_string());
    }
    let owner = node.to_string();
    let taken = s
        .write(move |tx, env| tx.take_lease(WARNING_SWEEP, &owner, env.now, env.now + LEASE))
        .await?;
    if taken {
        let result = warning_sweep(s).await;
        let note = match &result {
            Ok(r) => format!("marked={} orders={}", r.marked, r.orders_opened),
            Err(e) => format!("failed: {e}"),
        };
        let owner = node.to_string();
        s.write(move |tx, env| {
            tx.release_lease(WARNING_SWEEP, &owner, env.now, env.now + every, &note)
        })
        .await?;
        t.warnings = result?;
        t.ran.push(WARNING_SWEEP.to_string());
    }
    Ok(t)
}

/// A name for this server process, unique among the servers sharing a database.
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let host = if host.is_empty() {
        "node".to_string()
    } else {
        host
    };
    format!(
        "{host}-{}-{}",
        std::process::id(),
        &crate::auth::new_token()[..8]
    )
}

/// How often a server ticks (and so how soon it sees another server's calendar change).
pub const TICK: Duration = Duration::from_secs(30);

/// Tick until the process ends; jobs are due every `every`.
pub fn spawn(s: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    let node = node_name();
    let period = Span::from_std(every).unwrap_or(Span::minutes(5));
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK.min(every));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match tick(&s, &node, period).await {
                Ok(t) if t.breaches > 0 || t.calendar_reloaded => {
                    tracing::info!(node = %node, breaches = t.breaches, calendar_reloaded = t.calendar_reloaded, "background tick")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(node = %node, error = %e, "background tick failed"),
            }
        }
    })
}

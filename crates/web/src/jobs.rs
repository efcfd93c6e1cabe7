//! Background work: the sweeps run every few minutes by each server.
//!
//! On SQLite there is one server process. On PostgreSQL several may share the
//! database; a sweep's writes are idempotent per case (a breach is recorded once: the
//! second attempt finds the commitment already breached and skips it).

use std::time::Duration;

use tongban_core::Result;
use tongban_core::usecase::jobs::{SweepReport, sweep_rongque};

use crate::state::AppState;

/// Cases handled per sweep transaction.
const BATCH: u32 = 200;

/// Run every sweep once, until nothing is left.
pub async fn run_once(s: &AppState) -> Result<SweepReport> {
    let mut total = SweepReport::default();
    loop {
        let r = s.write(|tx, env| sweep_rongque(tx, env, BATCH)).await?;
        total.breaches += r.breaches;
        if r.breaches < BATCH {
            return Ok(total);
        }
    }
}

/// Run the sweeps every `every` until the process ends.
pub fn spawn(s: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_once(&s).await {
                Ok(r) if r.breaches > 0 => tracing::info!(breaches = r.breaches, "rongque sweep"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "sweep failed"),
            }
        }
    })
}

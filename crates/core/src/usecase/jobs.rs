//! Background jobs: the sweeps the platform runs on its own.

use serde::Serialize;

use super::Env;
use super::cases::act;
use crate::actor::Actor;
use crate::case::{Action, CommitmentStatus};
use crate::error::Result;
use crate::store::Tx;

/// What a sweep did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SweepReport {
    /// 容缺 commitments found broken.
    pub breaches: u32,
    /// Cases that could not be handled (left for the next sweep; see the log).
    pub skipped: u32,
}

/// Cases with a 容缺 commitment past its due date, at most `limit` (read them on a
/// snapshot, then handle each in its own transaction with [`breach_overdue`]).
pub fn overdue_rongque_cases(tx: &mut dyn Tx, env: &Env, limit: u32) -> Result<Vec<i64>> {
    tx.rongque_overdue_case_ids(env.today(), limit)
}

/// Record every 容缺 commitment of case `id` whose due date has passed (失信): the case
/// is terminated or held per its item, and the applicant barred. Returns how many.
/// A commitment already written off or breached is skipped, so running this twice for
/// one case records nothing twice.
pub fn breach_overdue(tx: &mut dyn Tx, env: &Env, id: i64) -> Result<u32> {
    let system = Actor::system();
    let today = env.today();
    let Some(case) = tx.case(id)? else {
        return Ok(0);
    };
    let overdue: Vec<u32> = case
        .commitments
        .iter()
        .filter(|k| k.status == CommitmentStatus::Open && k.due < today)
        .map(|k| k.seq)
        .collect();
    for seq in &overdue {
        act(
            tx,
            &system,
            env,
            id,
            &Action::BreachCommitment { commitment: *seq },
            None,
        )?;
    }
    Ok(overdue.len() as u32)
}

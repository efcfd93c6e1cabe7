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
}

/// Record every 容缺 commitment whose due date has passed (失信): the case is
/// terminated or held per its item, and the applicant barred. At most `limit` cases.
pub fn sweep_rongque(tx: &mut dyn Tx, env: &Env, limit: u32) -> Result<SweepReport> {
    let system = Actor::system();
    let today = env.today();
    let mut report = SweepReport::default();
    for id in tx.rongque_overdue_case_ids(today, limit)? {
        let Some(case) = tx.case(id)? else { continue };
        let overdue: Vec<u32> = case
            .commitments
            .iter()
            .filter(|k| k.status == CommitmentStatus::Open && k.due < today)
            .map(|k| k.seq)
            .collect();
        for seq in overdue {
            act(
                tx,
                &system,
                env,
                id,
                &Action::BreachCommitment { commitment: seq },
                None,
            )?;
            report.breaches += 1;
        }
    }
    Ok(report)
}

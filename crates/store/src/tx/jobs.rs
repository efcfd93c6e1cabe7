//! Job leases.

use chrono::{DateTime, Utc};
use tongban_core::Error;
use tongban_core::store::JobStore;

use super::{SqlTx, ms};
use crate::conn::ConnExt;

impl JobStore for SqlTx<'_> {
    fn take_lease(
        &mut self,
        job: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, Error> {
        // One statement, atomic on both backends: insert the first lease, or take over
        // one that has expired and is due. A row comes back only when we got it.
        let got = self.c.opt(
            "INSERT INTO job_leases (name, owner, lease_until, next_run_at, last_run_at, last_note) \
             VALUES (?, ?, ?, 0, NULL, '') \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until \
             WHERE job_leases.lease_until <= ? AND job_leases.next_run_at <= ? \
             RETURNING owner",
            &[job.into(), owner.into(), ms(until).into(), ms(now).into(), ms(now).into()],
            |r| r.text(0),
        )?;
        Ok(got.as_deref() == Some(owner))
    }

    fn release_lease(
        &mut self,
        job: &str,
        owner: &str,
        now: DateTime<Utc>,
        next_run: DateTime<Utc>,
        note: &str,
    ) -> Result<(), Error> {
        self.c.execute(
            "UPDATE job_leases SET lease_until = 0, next_run_at = ?, last_run_at = ?, last_note = ? \
             WHERE name = ? AND owner = ?",
            &[ms(next_run).into(), ms(now).into(), note.into(), job.into(), owner.into()],
        )?;
        Ok(())
    }
}

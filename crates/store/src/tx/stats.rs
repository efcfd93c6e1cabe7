//! Statistics rollups.

use tongban_core::Error;
use tongban_core::kpi::CaseStatRow;
use tongban_core::stats::{OnTimeRow, StatDelta};
use tongban_core::store::StatsStore;

use super::{SqlTx, prefix_end};
use crate::conn::{ConnExt, Val};

impl StatsStore for SqlTx<'_> {
    fn add_stats(&mut self, deltas: &[StatDelta]) -> Result<(), Error> {
        for d in deltas.iter().filter(|d| !d.is_empty()) {
            self.c.append(
                crate::sql::INSERT_STAT_DELTA,
                &[
                    d.department_id.into(),
                    d.item_id.into(),
                    d.window_id.into(),
                    d.staff_id.into(),
                    d.month.as_str().into(),
                    d.channel.as_str().into(),
                    d.received.into(),
                    d.decided.into(),
                    d.approved.into(),
                    d.on_time.into(),
                    d.working_days.into(),
                    d.immediate.into(),
                    d.refused.into(),
                    d.withdrawn.into(),
                    d.terminated.into(),
                ],
            )?;
        }
        Ok(())
    }

    fn fold_stats(&mut self, limit: u32) -> Result<u64, Error> {
        // DELETE … RETURNING takes exactly the rows it removes, so a change committed by
        // another transaction while this one runs is either folded here or left for the
        // next fold, never dropped (a separate SELECT and DELETE could disagree on
        // PostgreSQL under READ COMMITTED).
        let taken = self.c.all(
            "DELETE FROM case_stat_deltas WHERE id IN (SELECT id FROM case_stat_deltas ORDER BY id LIMIT ?) \
             RETURNING department_id, item_id, month, channel, received, decided, approved, on_time, \
             working_days, immediate, refused, withdrawn, terminated, window_id, staff_id",
            &[limit.into()],
            |r| {
                Ok(StatDelta {
                    department_id: r.int(0)?,
                    item_id: r.int(1)?,
                    month: r.text(2)?,
                    channel: r.text(3)?,
                    received: r.int(4)?,
                    decided: r.int(5)?,
                    approved: r.int(6)?,
                    on_time: r.int(7)?,
                    working_days: r.int(8)?,
                    immediate: r.int(9)?,
                    refused: r.int(10)?,
                    withdrawn: r.int(11)?,
                    terminated: r.int(12)?,
                    window_id: r.int(13)?,
                    staff_id: r.int(14)?,
                })
            },
        )?;
        let n = taken.len() as u64;
        type Key = (i64, i64, i64, i64, String, String);
        let mut sums: std::collections::BTreeMap<Key, StatDelta> =
            std::collections::BTreeMap::new();
        for d in taken {
            let key = (
                d.department_id,
                d.item_id,
                d.window_id,
                d.staff_id,
                d.month.clone(),
                d.channel.clone(),
            );
            match sums.get_mut(&key) {
                Some(e) => e.add(&d),
                None => {
                    sums.insert(key, d);
                }
            }
        }
        // In key order, so that two folds never lock rollup rows in opposite orders;
        // sent together (PostgreSQL: one pipeline, not a round trip per rollup row).
        const UPSERT: &str = "INSERT INTO case_stats (department_id, item_id, window_id, staff_id, month, channel, received, decided, \
                 approved, on_time, working_days, immediate, refused, withdrawn, terminated) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (department_id, item_id, window_id, staff_id, month, channel) DO UPDATE SET \
                 received = case_stats.received + excluded.received, \
                 decided = case_stats.decided + excluded.decided, \
                 approved = case_stats.approved + excluded.approved, \
                 on_time = case_stats.on_time + excluded.on_time, \
                 working_days = case_stats.working_days + excluded.working_days, \
                 immediate = case_stats.immediate + excluded.immediate, \
                 refused = case_stats.refused + excluded.refused, \
                 withdrawn = case_stats.withdrawn + excluded.withdrawn, \
                 terminated = case_stats.terminated + excluded.terminated";
        let rows: Vec<Vec<Val>> = sums
            .values()
            .map(|d| {
                vec![
                    d.department_id.into(),
                    d.item_id.into(),
                    d.window_id.into(),
                    d.staff_id.into(),
                    d.month.as_str().into(),
                    d.channel.as_str().into(),
                    d.received.into(),
                    d.decided.into(),
                    d.approved.into(),
                    d.on_time.into(),
                    d.working_days.into(),
                    d.immediate.into(),
                    d.refused.into(),
                    d.withdrawn.into(),
                    d.terminated.into(),
                ]
            })
            .collect();
        let stmts: Vec<(&str, &[Val])> = rows.iter().map(|p| (UPSERT, p.as_slice())).collect();
        if !stmts.is_empty() {
            for r in self.c.execute_many(&stmts) {
                r?;
            }
        }
        Ok(n)
    }

    fn on_time_by_department_month(
        &mut self,
        region_prefix: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<OnTimeRow>, Error> {
        let (a, b) = if region_prefix.is_empty() {
            (String::new(), "\u{7f}".to_string())
        } else {
            (region_prefix.to_string(), prefix_end(region_prefix))
        };
        self.c.all(
            "SELECT s.department_id, s.month, CAST(SUM(s.received) AS BIGINT), CAST(SUM(s.decided) AS BIGINT), \
             CAST(SUM(s.on_time) AS BIGINT), CAST(SUM(s.working_days) AS BIGINT) \
             FROM (SELECT department_id, month, received, decided, on_time, working_days FROM case_stats \
                   UNION ALL \
                   SELECT department_id, month, received, decided, on_time, working_days FROM case_stat_deltas) s \
             JOIN departments d ON d.id = s.department_id \
             WHERE d.region >= ? AND d.region < ? AND s.month >= ? AND s.month <= ? \
             GROUP BY s.department_id, s.month ORDER BY s.department_id, s.month",
            &[a.as_str().into(), b.as_str().into(), from.into(), to.into()],
            |r| {
                let (decided, on_time, days) = (r.int(3)?, r.int(4)?, r.int(5)?);
                Ok(OnTimeRow {
                    department_id: r.int(0)?,
                    month: r.text(1)?,
                    received: r.int(2)?,
                    decided,
                    on_time,
                    rate: if decided == 0 { 1.0 } else { on_time as f64 / decided as f64 },
                    average_working_days: if decided == 0 { 0.0 } else { days as f64 / decided as f64 },
                })
            },
        )
    }

    fn case_stat_rows(
        &mut self,
        region_prefix: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<CaseStatRow>, Error> {
        let (a, b) = if region_prefix.is_empty() {
            (String::new(), "\u{7f}".to_string())
        } else {
            (region_prefix.to_string(), prefix_end(region_prefix))
        };
        self.c.all(
            "SELECT s.department_id, s.item_id, s.window_id, s.staff_id, s.month, s.channel, \
             CAST(SUM(s.received) AS BIGINT), CAST(SUM(s.decided) AS BIGINT), CAST(SUM(s.approved) AS BIGINT), \
             CAST(SUM(s.on_time) AS BIGINT), CAST(SUM(s.working_days) AS BIGINT), CAST(SUM(s.immediate) AS BIGINT), \
             CAST(SUM(s.refused) AS BIGINT), CAST(SUM(s.withdrawn) AS BIGINT), CAST(SUM(s.terminated) AS BIGINT) \
             FROM (SELECT department_id, item_id, window_id, staff_id, month, channel, received, decided, approved, \
                          on_time, working_days, immediate, refused, withdrawn, terminated FROM case_stats \
                   UNION ALL \
                   SELECT department_id, item_id, window_id, staff_id, month, channel, received, decided, approved, \
                          on_time, working_days, immediate, refused, withdrawn, terminated FROM case_stat_deltas) s \
             JOIN departments d ON d.id = s.department_id \
             WHERE d.region >= ? AND d.region < ? AND s.month >= ? AND s.month <= ? \
             GROUP BY s.department_id, s.item_id, s.window_id, s.staff_id, s.month, s.channel \
             ORDER BY s.department_id, s.item_id, s.window_id, s.staff_id, s.month, s.channel",
            &[a.as_str().into(), b.as_str().into(), from.into(), to.into()],
            |r| {
                Ok(CaseStatRow {
                    department_id: r.int(0)?,
                    item_id: r.int(1)?,
                    window_id: r.int(2)?,
                    staff_id: r.int(3)?,
                    month: r.text(4)?,
                    channel: r.text(5)?,
                    received: r.int(6)?,
                    decided: r.int(7)?,
                    approved: r.int(8)?,
                    on_time: r.int(9)?,
                    working_days: r.int(10)?,
                    immediate: r.int(11)?,
                    refused: r.int(12)?,
                    withdrawn: r.int(13)?,
                    terminated: r.int(14)?,
                })
            },
        )
    }
}

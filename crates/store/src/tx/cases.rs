//! Cases and their events.

use std::sync::Arc;

use chrono::NaiveDate;
use tongban_core::Error;
use tongban_core::case::{Case, Event};
use tongban_core::store::{CaseFilter, CaseOrder, CaseScope, CaseStore, CaseSummary, Recompute};

use super::{
    SerialBlock, SerialBlocks, SerialKey, SqlTx, date, enum_of, instant, ms, name_of, prefix_end,
};
use crate::conn::{Backend, ConnExt, Row, Val, from_json, from_packed_json, to_packed_json};
use crate::sql;

type R<T> = Result<T, Error>;

/// The sort key of a case without a running deadline: after every date.
const NO_DUE: &str = "9999-12-31";

/// The columns kept beside the JSON, computed from the case.
struct Cols {
    processing_type: String,
    applicant_kind: String,
    channel: String,
    state: String,
    due_date: Option<String>,
    due_clock: Option<String>,
    due_provisional: bool,
    due_sort: String,
    rongque_due: Option<String>,
    data: Vec<u8>,
}

fn cols(c: &Case) -> R<Cols> {
    let due_clock = c.due_clock();
    let due = c.due();
    Ok(Cols {
        processing_type: name_of(&c.processing_type),
        applicant_kind: name_of(&c.applicant.kind),
        channel: name_of(&c.channel),
        state: c.state.as_str().to_string(),
        due_date: due.map(|d| d.to_string()),
        due_clock: due_clock.map(|k| name_of(&k)),
        due_provisional: due_clock
            .and_then(|k| c.clocks.get(k))
            .is_some_and(|k| k.provisional),
        due_sort: due
            .map(|d| d.to_string())
            .unwrap_or_else(|| NO_DUE.to_string()),
        rongque_due: c.rongque_due().map(|d| d.to_string()),
        data: to_packed_json(c)?,
    })
}

const SUMMARY_COLS: &str = "id, number, item_id, item_name, processing_type, department_id, region, applicant_name, \
                            applicant_kind, channel, state, due_date, due_clock, due_provisional, rongque_due, \
                            created_at, updated_at, version, due_sort";

/// [`SUMMARY_COLS`] from `cases c JOIN case_keys k` (PostgreSQL, migration 8): the
/// never-changing columns from the key table, whose indexes order and filter by them.
const SUMMARY_COLS_KEYED: &str = "c.id, k.number, c.item_id, c.item_name, c.processing_type, k.department_id, \
                                  k.region, c.applicant_name, c.applicant_kind, c.channel, c.state, c.due_date, \
                                  c.due_clock, c.due_provisional, c.rongque_due, k.created_at, c.updated_at, \
                                  c.version, c.due_sort";

fn summary_row(r: &dyn Row, order: CaseOrder) -> R<CaseSummary> {
    let created = r.int(15)?;
    Ok(CaseSummary {
        id: r.int(0)?,
        number: r.text(1)?,
        item_id: r.int(2)?,
        item_name: r.text(3)?,
        processing_type: enum_of(&r.text(4)?)?,
        department_id: r.int(5)?,
        region: r.text(6)?,
        applicant_name: r.text(7)?,
        applicant_kind: enum_of(&r.text(8)?)?,
        channel: enum_of(&r.text(9)?)?,
        state: enum_of(&r.text(10)?)?,
        due: r.opt_text(11)?.map(|s| date(&s)).transpose()?,
        due_clock: r.opt_text(12)?.map(|s| enum_of(&s)).transpose()?,
        due_provisional: r.int(13)? != 0,
        rongque_due: r.opt_text(14)?.map(|s| date(&s)).transpose()?,
        created_at: instant(created)?,
        updated_at: instant(r.int(16)?)?,
        version: r.int(17)?,
        sort_key: match order {
            CaseOrder::Due => r.text(18)?,
            CaseOrder::Newest => created.to_string(),
        },
    })
}

/// The JSON holds everything but the id, which the row gives (it is not known when a
/// new case's JSON is written).
fn case_row(r: &dyn Row) -> R<Case> {
    let mut c: Case = from_packed_json(&r.bytes(1)?)?;
    c.id = r.int(0)?;
    Ok(c)
}

fn event_row(r: &dyn Row) -> R<Event> {
    Ok(Event {
        seq: r.int(0)? as u32,
        at: instant(r.int(1)?)?,
        actor_id: r.int(2)?,
        actor_name: r.text(3)?,
        actor_role: enum_of(&r.text(4)?)?,
        action: r.text(5)?,
        from: r.opt_text(6)?.map(|s| enum_of(&s)).transpose()?,
        to: enum_of(&r.text(7)?)?,
        reason: r.opt_text(8)?,
        data: from_json(&r.text(9)?)?,
    })
}

impl CaseStore for SqlTx<'_> {
    fn next_case_serial(&mut self, region6: &str, day: NaiveDate) -> R<u32> {
        let d = day.to_string();
        if let Some(blocks) = self.serials {
            return self.serial_from_blocks(blocks, region6, day);
        }
        if self.c.backend() == Backend::Postgres {
            // The new case's id comes in the same round trip, so that the case, its
            // event and its statistics can then be held back and sent together.
            let (serial, id) = self.c.one(
                sql::NEXT_SERIAL_AND_ID,
                &[region6.into(), d.as_str().into()],
                |r| Ok((r.int(0)? as u32, r.int(1)?)),
            )?;
            self.next_case_id = Some(id);
            return Ok(serial);
        }
        let key = [region6.into(), d.as_str().into()];
        self.c.execute(sql::NEXT_SERIAL, &key)?;
        self.c
            .one(sql::SERIAL_TAKEN, &key, |r| Ok(r.int(0)? as u32))
    }

    fn insert_shared_case(&mut self, mut case: Case) -> R<Arc<Case>> {
        let c = &case;
        let k = cols(c)?;
        let reserved = self.next_case_id.take();
        let params = [
            reserved.into(),
            c.number.as_str().into(),
            c.item_id.into(),
            c.item_name.as_str().into(),
            k.processing_type.as_str().into(),
            c.department_id.into(),
            c.region.as_str().into(),
            c.applicant.id.into(),
            c.applicant.name.as_str().into(),
            k.applicant_kind.as_str().into(),
            c.agent.as_ref().map(|a| a.account_id).into(),
            k.channel.as_str().into(),
            k.state.as_str().into(),
            (!c.state.is_final()).into(),
            k.due_date.as_ref().into(),
            k.due_clock.as_ref().into(),
            k.due_provisional.into(),
            c.clocks.any_provisional().into(),
            k.due_sort.as_str().into(),
            k.rongque_due.as_ref().into(),
            ms(c.created_at).into(),
            ms(c.updated_at).into(),
            c.version.into(),
            Val::Bytes(&k.data),
        ];
        let id = match reserved {
            // The id was taken with the serial: a plain append, sent with what follows.
            Some(id) => {
                self.c.append(sql::INSERT_CASE_WITH_ID, &params)?;
                id
            }
            None if self.c.backend() == Backend::Sqlite => {
                self.c.execute(sql::INSERT_CASE, &params[1..])?;
                self.c.one(sql::LAST_INSERT_ID, &[], |r| r.int(0))?
            }
            None => self
                .c
                .one(sql::INSERT_CASE_RETURNING_ID, &params[1..], |r| r.int(0))?,
        };
        if self.c.backend() == Backend::Postgres {
            self.c.append(
                sql::INSERT_CASE_KEYS,
                &[
                    id.into(),
                    c.number.as_str().into(),
                    c.department_id.into(),
                    c.region.as_str().into(),
                    c.applicant.id.into(),
                    c.agent.as_ref().map(|a| a.account_id).into(),
                    ms(c.created_at).into(),
                ],
            )?;
        }
        case.id = id;
        self.filed.push((id, None));
        let case = Arc::new(case);
        if self.cases.is_some() {
            self.saved.push((id, case.version, case.clone()));
        }
        Ok(case)
    }

    fn shared_case(&mut self, id: i64) -> R<Option<Arc<Case>>> {
        if let Some((version, case)) = self.cases.and_then(|c| c.get(id)) {
            match self.c.opt(
                "SELECT version FROM cases WHERE id = ?",
                &[id.into()],
                |r| r.int(0),
            )? {
                None => return Ok(None),
                Some(v) if v == version => return Ok(Some(case)),
                Some(_) => {}
            }
        }
        Ok(self
            .c
            .opt(
                "SELECT id, data FROM cases WHERE id = ?",
                &[id.into()],
                case_row,
            )?
            .map(Arc::new))
    }

    fn shared_case_to_save(&mut self, id: i64) -> R<Option<Arc<Case>>> {
        if self.trust_kept
            && let Some((version, case)) = self.cases.and_then(|c| c.get(id))
        {
            self.trusted.push((id, version));
            return Ok(Some(case));
        }
        self.shared_case(id)
    }

    fn case_by_number(&mut self, number: &str) -> R<Option<Case>> {
        // On PostgreSQL the index on numbers is the key table's (migration 8).
        let sql = match self.c.backend() {
            Backend::Sqlite => "SELECT id, data FROM cases WHERE number = ?",
            Backend::Postgres => {
                "SELECT c.id, c.data FROM case_keys k JOIN cases c ON c.id = k.id WHERE k.number = ?"
            }
        };
        self.c.opt(sql, &[number.into()], case_row)
    }

    fn save_shared_case(&mut self, case: Arc<Case>, expected_version: i64) -> R<()> {
        let c = &*case;
        let k = cols(c)?;
        self.c.execute_exact(
            sql::UPDATE_CASE,
            &[
                k.state.as_str().into(),
                (!c.state.is_final()).into(),
                k.due_date.as_ref().into(),
                k.due_clock.as_ref().into(),
                k.due_provisional.into(),
                c.clocks.any_provisional().into(),
                k.due_sort.as_str().into(),
                k.rongque_due.as_ref().into(),
                ms(c.updated_at).into(),
                c.version.into(),
                Val::Bytes(&k.data),
                c.id.into(),
                expected_version.into(),
            ],
            1,
            "办件已被他人同时处理，请刷新后重试",
        )?;
        // Only a save that raised the version may stand for that version.
        if self.cases.is_some() && c.version > expected_version {
            self.saved.push((c.id, c.version, case.clone()));
        }
        Ok(())
    }

    fn append_event(&mut self, case_id: i64, e: &Event) -> R<u32> {
        let seq = i64::from(e.seq);
        let role = name_of(&e.actor_role);
        let data = e.data.json();
        self.c.append(
            sql::INSERT_EVENT,
            &[
                case_id.into(),
                seq.into(),
                ms(e.at).into(),
                e.actor_id.into(),
                e.actor_name.as_str().into(),
                role.as_str().into(),
                e.action.as_str().into(),
                e.from.map(|s| s.as_str()).into(),
                e.to.as_str().into(),
                e.reason.as_deref().into(),
                data.into(),
            ],
        )?;
        Ok(seq as u32)
    }

    fn events(&mut self, case_id: i64) -> R<Vec<Event>> {
        self.c.all(
            "SELECT seq, at, actor_id, actor_name, actor_role, action, from_state, to_state, reason, data \
             FROM case_events WHERE case_id = ? ORDER BY seq",
            &[case_id.into()],
            event_row,
        )
    }

    fn cases(&mut self, f: &CaseFilter) -> R<Vec<CaseSummary>> {
        self.case_summaries(f)
    }

    fn recompute_case_ids(&mut self, which: &Recompute, after_id: i64, limit: u32) -> R<Vec<i64>> {
        // Absent bounds become bounds nothing meets, so that one statement serves.
        let due_from = which
            .due_from
            .map(|d| d.to_string())
            .unwrap_or_else(|| NO_DUE.to_string());
        let since = which.updated_since.map(ms).unwrap_or(i64::MAX);
        self.c.all(
            "SELECT id FROM cases WHERE is_open = 1 AND id > ? \
             AND (any_provisional = 1 OR (due_date IS NOT NULL AND due_date >= ?) OR updated_at >= ?) \
             ORDER BY id LIMIT ?",
            &[after_id.into(), due_from.as_str().into(), since.into(), limit.into()],
            |r| r.int(0),
        )
    }

    fn rongque_overdue_case_ids(&mut self, day: NaiveDate, limit: u32) -> R<Vec<i64>> {
        let d = day.to_string();
        self.c.all(
            "SELECT id FROM cases WHERE is_open = 1 AND rongque_due IS NOT NULL AND rongque_due < ? \
             AND state <> 'draft' ORDER BY rongque_due, id LIMIT ?",
            &[d.as_str().into(), limit.into()],
            |r| r.int(0),
        )
    }
}

impl SqlTx<'_> {
    /// A serial of the region's day and the new case's id from a block: one this job
    /// claimed, one committed earlier, or a new one claimed now (see [`SerialBlocks`]).
    fn serial_from_blocks(
        &mut self,
        blocks: &SerialBlocks,
        region6: &str,
        day: NaiveDate,
    ) -> R<u32> {
        let key: SerialKey = (region6.to_string(), day);
        let mine = self
            .claimed
            .iter_mut()
            .find(|(k, b)| *k == key && !b.is_empty())
            .and_then(|(_, b)| b.take());
        let (serial, id) = match mine.or_else(|| blocks.take(&key)) {
            Some(got) => got,
            None if !self.may_claim => {
                return Err(Error::Store(
                    "no case-number serial held; to be taken in the writer".into(),
                ));
            }
            None => {
                let own = self.claimed.iter().filter(|(k, _)| *k == key).count() as u32;
                let n = blocks.next_size(&key, own, std::time::Instant::now());
                let d = day.to_string();
                let rows = self.c.all(
                    sql::CLAIM_SERIALS_AND_IDS,
                    &[
                        region6.into(),
                        d.as_str().into(),
                        i64::from(n).into(),
                        i64::from(n).into(),
                        i64::from(n).into(),
                    ],
                    |r| Ok((r.int(0)?, r.int(1)?)),
                )?;
                let last = rows.first().map(|r| r.0).unwrap_or(0);
                let first = last + 1 - i64::from(n);
                if rows.len() != n as usize || first < 1 || last > i64::from(u32::MAX) {
                    return Err(Error::Store(format!(
                        "claimed {} serials ending at {last}, wanted {n}",
                        rows.len()
                    )));
                }
                let mut ids: Vec<i64> = rows.into_iter().map(|r| r.1).collect();
                // Handed out from the end: the smallest id with the first serial.
                ids.sort_unstable_by(|a, b| b.cmp(a));
                let mut block = SerialBlock {
                    next: first as u32,
                    ids,
                };
                let got = block
                    .take()
                    .ok_or_else(|| Error::Store("empty serial block".into()))?;
                self.claimed.push((key, block));
                got
            }
        };
        self.next_case_id = Some(id);
        Ok(serial)
    }

    /// The cases a filter selects.
    ///
    /// A department's inbox over several open states reads one ordered range of the
    /// index `(department_id, state, due_sort, id)` per state, as the arms of one
    /// `UNION ALL` under the page's `ORDER BY … LIMIT`: SQLite merges the arms as
    /// co-routines, PostgreSQL (whose arms are each ordered and limited too) with a
    /// Merge Append, so either reads about one row per place on the page, table row
    /// included, and stops. One range over all the department's open cases would also
    /// walk those waiting elsewhere (delivered results waiting to be archived, say),
    /// thousands of rows at a million cases.
    ///
    /// On PostgreSQL the indexes on the columns that never change are the key table's
    /// (migration 8): a query that needs one of them (an applicant's cases, a number,
    /// a time of receipt, newest first, or a scope over closed cases too) reads
    /// `case_keys k` joined to `cases c`, the rest `cases` alone.
    fn case_summaries(&mut self, f: &CaseFilter) -> R<Vec<CaseSummary>> {
        let open_only = !f.states.is_empty() && f.states.iter().all(|s| !s.is_final());
        let keyed = self.c.backend() == Backend::Postgres
            && (!open_only
                || f.order == CaseOrder::Newest
                || matches!(f.scope, CaseScope::Owner { .. })
                || f.number.is_some()
                || f.created.is_some());
        // A column both tables have, named for the query's FROM.
        let col =
            |plain: &'static str, from_keys: &'static str| if keyed { from_keys } else { plain };
        let mut conds: Vec<&str> = Vec::new();
        let mut params: Vec<Val> = Vec::new();
        let end;
        match &f.scope {
            CaseScope::All => {}
            CaseScope::Department(d) => {
                conds.push(col("department_id = ?", "k.department_id = ?"));
                params.push((*d).into());
            }
            CaseScope::RegionPrefix(p) => {
                end = prefix_end(p);
                conds.push(col(
                    "region >= ? AND region < ?",
                    "k.region >= ? AND k.region < ?",
                ));
                params.push(p.as_str().into());
                params.push(end.as_str().into());
            }
            CaseScope::Owner {
                applicant_id,
                agent_account,
            } => {
                conds.push(col(
                    "(applicant_id = ? OR agent_account = ?)",
                    "(k.applicant_id = ? OR k.agent_account = ?)",
                ));
                params.push(applicant_id.unwrap_or(-1).into());
                params.push(agent_account.unwrap_or(-1).into());
            }
        }
        // Open states only: say so, so that the inbox reads the index of open cases.
        if open_only {
            conds.push("is_open = 1");
        }
        // The states each arm of the query selects: one arm with all of them, or one
        // arm per state for a department's deadline-ordered inbox.
        let states: Vec<&str> = f.states.iter().map(|s| s.as_str()).collect();
        let arms: Vec<&[&str]> = if f.order == CaseOrder::Due
            && matches!(f.scope, CaseScope::Department(_))
            && states.len() > 1
            && open_only
        {
            states.chunks(1).collect()
        } else {
            vec![&states[..]]
        };
        if let Some(i) = f.item_id {
            conds.push("item_id = ?");
            params.push(i.into());
        }
        if let Some(d) = f.department_id {
            conds.push(col("department_id = ?", "k.department_id = ?"));
            params.push(d.into());
        }
        if let Some(n) = &f.number {
            conds.push(col("number = ?", "k.number = ?"));
            params.push(n.as_str().into());
        }
        if let Some((from, to)) = f.created {
            conds.push(col(
                "created_at >= ? AND created_at < ?",
                "k.created_at >= ? AND k.created_at < ?",
            ));
            params.push(super::ms(from).into());
            params.push(super::ms(to).into());
        }
        let (before, after, rq) = (
            f.due_before.map(|d| d.to_string()),
            f.due_after.map(|d| d.to_string()),
            f.rongque_due_before.map(|d| d.to_string()),
        );
        if let Some(d) = &before {
            conds.push("due_date <= ?");
            params.push(d.as_str().into());
        }
        if let Some(d) = &after {
            conds.push("due_date >= ?");
            params.push(d.as_str().into());
        }
        if let Some(d) = &rq {
            conds.push("is_open = 1 AND rongque_due <= ?");
            params.push(d.as_str().into());
        }
        let cursor_key;
        let newest_key: i64;
        match (&f.after, f.order) {
            (Some((k, id)), CaseOrder::Due) => {
                cursor_key = k.clone();
                conds.push(col(
                    "(due_sort, id) > (?, ?)",
                    "(c.due_sort, c.id) > (?, ?)",
                ));
                params.push(cursor_key.as_str().into());
                params.push((*id).into());
            }
            (Some((k, id)), CaseOrder::Newest) => {
                newest_key = k
                    .parse()
                    .map_err(|_| Error::field("cursor", "翻页游标无效"))?;
                conds.push(col(
                    "(created_at, id) < (?, ?)",
                    "(k.created_at, k.id) < (?, ?)",
                ));
                params.push(newest_key.into());
                params.push((*id).into());
            }
            (None, _) => {}
        }
        // The output's names: `created_at` is the key table's when joined, so that
        // PostgreSQL orders by its index.
        let order_by = match f.order {
            CaseOrder::Due => " ORDER BY due_sort, id",
            CaseOrder::Newest => " ORDER BY created_at DESC, id DESC",
        };
        // PostgreSQL merges the arms (Merge Append) only when each is ordered and
        // limited itself; SQLite merges plain arms and would sort limited ones.
        let limited_arms = arms.len() > 1 && self.c.backend() == Backend::Postgres;
        let mut sql = String::new();
        let mut all: Vec<Val> = Vec::with_capacity((params.len() + 2) * arms.len() + 1);
        for (i, arm) in arms.iter().enumerate() {
            if i > 0 {
                sql.push_str(" UNION ALL ");
            }
            let state_in = match arm.len() {
                0 => String::new(),
                1 => "state = ?".to_string(),
                n => format!("state IN ({})", vec!["?"; n].join(", ")),
            };
            let mut c = conds.clone();
            if !arm.is_empty() {
                c.push(&state_in);
            }
            if c.is_empty() {
                c.push("1 = 1");
            }
            if limited_arms {
                sql.push_str("SELECT * FROM (");
            }
            let (cols, from) = if keyed {
                (
                    SUMMARY_COLS_KEYED,
                    " FROM case_keys k JOIN cases c ON c.id = k.id WHERE ",
                )
            } else {
                (SUMMARY_COLS, " FROM cases WHERE ")
            };
            sql.push_str("SELECT ");
            sql.push_str(cols);
            sql.push_str(from);
            sql.push_str(&c.join(" AND "));
            all.extend(params.iter().cloned());
            all.extend(arm.iter().map(|s| Val::from(*s)));
            if limited_arms {
                sql.push_str(order_by);
                sql.push_str(" LIMIT ?) AS arm");
                sql.push_str(&i.to_string());
                all.push(f.limit.into());
            }
        }
        sql.push_str(order_by);
        sql.push_str(" LIMIT ?");
        all.push(f.limit.into());
        self.c.all(&sql, &all, |r| summary_row(r, f.order))
    }
}

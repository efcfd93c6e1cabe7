//! The replays of one batch, run together.
//!
//! A replay whose writes are at most one version guard (a write that must change
//! exactly one row: the case saved at the version it was decided on) and appends (plain
//! `INSERT INTO t (…) VALUES (?, …)`: the event, the statistics changes; a new case's
//! row on PostgreSQL's 收件, which guards nothing) is run in a group with the others
//! like it:
//!
//! 1. every job's guard, in job order, sent together ([`Conn::execute_many`]: one round
//!    trip on PostgreSQL). A guard that changes no row means the case moved since the
//!    job was decided: that job fails with a conflict and has written nothing;
//! 2. the appends of the jobs whose guard held (or that had none), as one multi-row
//!    `INSERT` per table (in chunks of a power of two rows, so that few statements are
//!    prepared), the tables in an order that keeps each job's where the jobs agree (a
//!    new case before its event; [`table_order`]).
//!
//! On PostgreSQL, when every guard is a case's save ([`sql::UPDATE_CASE`], the step of
//! every transition) and no two save the same case, steps 1 and 2 go in one round trip:
//! the saves as one `UPDATE cases … FROM (VALUES …)` per chunk of rows, the appends
//! behind them ([`saves_at_once`]). If a save's version moved, its statement changes
//! fewer rows than it has; that attempt is rolled back to a savepoint of its own and the
//! group runs as above, which finds out whose.
//!
//! Appends touch no row another job reads or guards, so running them after every
//! guard is the same as running each job's writes together. The group runs under one
//! savepoint; if any statement fails other than by a guard changing no row, the group is
//! rolled back and its jobs are replayed one by one in their own savepoints, so that the
//! failing job fails alone. Other replays (several guards, updates without a guard) are
//! replayed one by one from the start.

use tongban_core::Error;

use super::{Counters, ReplyFn};
use std::cmp::Ordering;
use std::sync::atomic::Ordering::Relaxed;

use crate::conn::{Conn, OwnedVal, Recorded, Val, replay};
use crate::sql;

/// How a replayed job ended.
pub(super) enum Outcome {
    /// Its writes stand (to be committed), or it failed alone and wrote nothing.
    Done(Result<(), Error>),
    /// It was alone in the transaction and failed: the transaction is rolled back.
    RolledBack(Error),
}

/// Most rows in one multi-row `INSERT`.
const MAX_ROWS: usize = 256;

/// A replay that can run in the group: its guard, if any (a job that only adds rows,
/// such as 收件, has none), and its appends.
struct Plan<'a> {
    guard: Option<(&'a Recorded, &'a str)>,
    appends: Vec<(&'a str, &'a Recorded)>,
}

/// `INSERT INTO t (cols) VALUES (?, …, ?)` with as many `?` as parameters: the text
/// up to and including `VALUES `, which names the table and columns.
fn append_head(w: &Recorded) -> Option<&str> {
    if w.exact.is_some() {
        return None;
    }
    let s = w.sql.trim_end();
    if !s.get(..12)?.eq_ignore_ascii_case("INSERT INTO ") {
        return None;
    }
    let at = s.find(" VALUES (")? + " VALUES ".len();
    let tuple = s[at..].strip_prefix('(')?.strip_suffix(')')?;
    if !tuple.chars().all(|c| matches!(c, '?' | ',' | ' ')) {
        return None;
    }
    (tuple.matches('?').count() == w.params.len() && !w.params.is_empty()).then(|| &s[..at])
}

/// Whether a replay runs in a group (one guard and appends): such a replay locks only
/// its guarded row, in the group's row order. Any other is replayed alone, locking rows
/// in the order it was decided, and is left to the first writer.
pub(super) fn groupable(writes: &[Recorded]) -> bool {
    plan(writes).is_some()
}

fn plan(writes: &[Recorded]) -> Option<Plan<'_>> {
    let mut guard = None;
    let mut appends = Vec::new();
    for w in writes {
        match &w.exact {
            Some((1, why)) if guard.is_none() => guard = Some((w, why.as_str())),
            Some(_) => return None,
            None => appends.push((append_head(w)?, w)),
        }
    }
    if guard.is_none() && appends.is_empty() {
        return None;
    }
    Some(Plan { guard, appends })
}

/// Run the replays of a batch; one outcome per job, in order. `single`: the batch is
/// this one job (no savepoints; a failure rolls the transaction back).
pub(super) fn run(
    conn: &mut dyn Conn,
    single: bool,
    jobs: &[(Vec<Recorded>, ReplyFn)],
    stats: &Counters,
) -> Vec<Outcome> {
    let plans: Vec<Option<Plan>> = jobs.iter().map(|(w, _)| plan(w)).collect();
    let mut out: Vec<Option<Outcome>> = jobs.iter().map(|_| None).collect();
    for (i, (w, _)) in jobs.iter().enumerate() {
        if plans[i].is_none() {
            out[i] = Some(alone(conn, single, w));
        }
    }
    let grouped: Vec<(usize, &Plan)> = plans
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.as_ref().map(|p| (i, p)))
        .collect();
    if !grouped.is_empty() {
        let ps: Vec<&Plan> = grouped.iter().map(|(_, p)| *p).collect();
        match together(conn, single, &ps, stats) {
            Ok(results) => {
                for ((i, _), r) in grouped.iter().zip(results) {
                    out[*i] = Some(match r {
                        Err(e) if single => {
                            let _ = conn.batch("ROLLBACK");
                            Outcome::RolledBack(e)
                        }
                        r => Outcome::Done(r),
                    });
                }
            }
            Err(e) if single => {
                let _ = conn.batch("ROLLBACK");
                out[grouped[0].0] = Some(Outcome::RolledBack(e));
            }
            Err(e) => {
                stats.groups_one_by_one.fetch_add(1, Relaxed);
                tracing::warn!(error = %e, jobs = grouped.len(), "group replay failed; replaying its jobs one by one");
                for (i, _) in &grouped {
                    out[*i] = Some(alone(conn, false, &jobs[*i].0));
                }
            }
        }
    }
    out.into_iter()
        .map(|o| o.unwrap_or_else(|| Outcome::Done(Err(Error::Store("replay not run".into())))))
        .collect()
}

/// Replay one job by itself, in its own savepoint unless it is alone.
fn alone(conn: &mut dyn Conn, single: bool, writes: &[Recorded]) -> Outcome {
    if single {
        return match replay(conn, writes) {
            Ok(()) => Outcome::Done(Ok(())),
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                Outcome::RolledBack(e)
            }
        };
    }
    if let Err(e) = conn.batch_deferred("SAVEPOINT job") {
        return Outcome::Done(Err(e));
    }
    let r = replay(conn, writes);
    let end = conn.batch_deferred(if r.is_ok() {
        "RELEASE job"
    } else {
        "ROLLBACK TO job; RELEASE job"
    });
    Outcome::Done(r.and(end))
}

fn params(w: &Recorded) -> Vec<Val<'_>> {
    w.params.iter().map(|p| p.borrow()).collect()
}

/// The group: guards, then appends, under one savepoint. `Ok` holds each job's result
/// (a conflict for a guard that changed no row); `Err` means the group was rolled back.
fn together(
    conn: &mut dyn Conn,
    single: bool,
    plans: &[&Plan],
    stats: &Counters,
) -> Result<Vec<Result<(), Error>>, Error> {
    if !single {
        conn.batch_deferred("SAVEPOINT grp")?;
    }
    let r = guards_and_appends(conn, plans, stats);
    if !single {
        let end = conn.batch_deferred(match r {
            Ok(_) => "RELEASE grp",
            Err(_) => "ROLLBACK TO grp; RELEASE grp",
        });
        if let (Ok(_), Err(e)) = (&r, end) {
            return Err(e);
        }
    }
    r
}

/// A job's version guard: the job's place in the batch, the guarding statement, and
/// what its failure means.
type Guard<'a> = (usize, &'a Recorded, &'a str);

fn guards_and_appends(
    conn: &mut dyn Conn,
    plans: &[&Plan],
    stats: &Counters,
) -> Result<Vec<Result<(), Error>>, Error> {
    // The guards lock their rows in one order, the same in every batch (by row, not by
    // job), so that two writers' batches guarding the same rows cannot deadlock.
    let mut keyed: Vec<(Guard, &[OwnedVal])> = plans
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.guard.map(|(g, why)| ((i, g, why), where_params(g))))
        .collect();
    keyed.sort_by(|a, b| row_order((a.0.1, a.1), (b.0.1, b.1)));
    let order: Vec<Guard> = keyed.into_iter().map(|(o, _)| o).collect();
    if saves_at_once(conn, plans, &order, stats)? {
        return Ok(plans.iter().map(|_| Ok(())).collect());
    }
    let guard_params: Vec<Vec<Val>> = order.iter().map(|(_, g, _)| params(g)).collect();
    let guards: Vec<(&str, &[Val])> = order
        .iter()
        .zip(&guard_params)
        .map(|((_, g, _), v)| (g.sql.as_str(), v.as_slice()))
        .collect();
    let mut results: Vec<Result<(), Error>> = plans.iter().map(|_| Ok(())).collect();
    for (&(i, _, why), r) in order.iter().zip(conn.execute_many(&guards)) {
        match r? {
            1 => {}
            0 => results[i] = Err(Error::Conflict(why.to_string())),
            n => return Err(Error::Store(format!("a version guard changed {n} rows"))),
        }
    }
    // The appends of the jobs that held (or guard nothing), by statement, the
    // statements in an order that keeps every job's (a new case's row before its event's).
    let held: Vec<&Plan> = plans
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_ok())
        .map(|(p, _)| *p)
        .collect();
    let sqls = appends(&held);
    let stmts: Vec<(&str, &[Val])> = sqls
        .iter()
        .map(|(s, v, _)| (s.as_str(), v.as_slice()))
        .collect();
    for r in conn.execute_many(&stmts) {
        r?;
    }
    Ok(results)
}

/// PostgreSQL, a group whose guards are all saves of distinct cases ([`sql::UPDATE_CASE`],
/// the lifecycle's every step): the saves as one `UPDATE … FROM (VALUES …)` per chunk of
/// rows, in the guards' row order, and the appends right behind them, all in one round
/// trip, where the saves were a statement each and the appends waited for their counts.
/// Under a savepoint of its own: if a save's version moved, its statement's count falls
/// short, the attempt is rolled back, and `false` has the group run statement by
/// statement (which finds out whose). The rows are listed in the guards' row order; the
/// planner's nested loop over the `VALUES` (an index probe per row) locks them in that
/// order, as the statement-by-statement path does. A plan that scanned `cases` instead
/// (PostgreSQL 15 picks a hash join over a scan only while the table holds a few dozen
/// rows; from about 200 it probes, even for 64 rows of `VALUES`) would lock in the
/// table's order; two writers could then deadlock, which PostgreSQL
/// breaks after `deadlock_timeout`, failing one group, whose jobs are then replayed one by
/// one: a stall, not a wrong answer. `false` too when the group is not of that kind,
/// and on SQLite, where a statement costs no round trip.
fn saves_at_once(
    conn: &mut dyn Conn,
    plans: &[&Plan],
    order: &[Guard],
    stats: &Counters,
) -> Result<bool, Error> {
    /// [`sql::UPDATE_CASE`]'s parameters, and where its `id` is among them.
    const PARAMS: usize = 13;
    const ID: usize = 11;
    // Checked first: on SQLite, the one writer's serial path, nothing else is looked at.
    if conn.backend() != crate::conn::Backend::Postgres || order.len() < 2 {
        return Ok(false);
    }
    let saves: Vec<&Recorded> = order.iter().map(|(_, g, _)| *g).collect();
    // Sorted by row: a case saved twice would be side by side.
    let distinct = saves
        .windows(2)
        .all(|w| w[0].params.get(ID) != w[1].params.get(ID));
    if !distinct
        || !saves
            .iter()
            .all(|g| g.sql == sql::UPDATE_CASE && g.params.len() == PARAMS)
    {
        return Ok(false);
    }
    let updates = multi_rows(
        sql::UPDATE_CASES_HEAD,
        sql::UPDATE_CASES_ROW,
        sql::UPDATE_CASES_TAIL,
        &saves,
    );
    let inserts = appends(plans);
    conn.batch_deferred("SAVEPOINT saves")?;
    let stmts: Vec<(&str, &[Val])> = updates
        .iter()
        .chain(&inserts)
        .map(|(s, v, _)| (s.as_str(), v.as_slice()))
        .collect();
    // A short count comes first: a stale save's event can then fail too (its number is
    // the one the case's mover took), and that is the stale save's doing, not a reason
    // to replay the whole group job by job.
    let (mut short, mut failed) = (false, None);
    for (k, r) in conn.execute_many(&stmts).into_iter().enumerate() {
        match (r, updates.get(k)) {
            (Ok(n), Some(u)) => short |= n != u.2 as u64,
            (Ok(_), None) => {}
            (Err(e), Some(_)) => return Err(e),
            (Err(e), None) => failed = failed.or(Some(e)),
        }
    }
    if short {
        stats.saves_fell_short.fetch_add(1, Relaxed);
        conn.batch_deferred("ROLLBACK TO saves; RELEASE saves")?;
        return Ok(false);
    }
    if let Some(e) = failed {
        return Err(e);
    }
    stats.saves_at_once.fetch_add(1, Relaxed);
    // Released with the group's own savepoint.
    Ok(true)
}

/// The appends of these jobs as multi-row `INSERT`s, the tables in [`table_order`].
fn appends<'a>(held: &[&Plan<'a>]) -> Vec<(String, Vec<Val<'a>>, usize)> {
    let mut by_head: Vec<(&str, Vec<&Recorded>)> = table_order(held)
        .into_iter()
        .map(|h| (h, Vec::new()))
        .collect();
    for p in held {
        for (head, w) in &p.appends {
            if let Some((_, rows)) = by_head.iter_mut().find(|(h, _)| h == head) {
                rows.push(w);
            }
        }
    }
    by_head
        .iter()
        .flat_map(|(head, rows)| {
            let tuple = format!("({})", vec!["?"; rows[0].params.len()].join(", "));
            multi_rows(head, &tuple, "", rows)
        })
        .collect()
}

/// The statements of the jobs' appends in one order that keeps each job's own order
/// where the jobs agree (a topological order of "comes before in some job", ties broken
/// by first appearance). Jobs that disagree (one appends to `a` before `b`, another `b`
/// before `a`) get first appearance for the rest; should that break a foreign key, the
/// group fails and its jobs are replayed one by one.
fn table_order<'a>(plans: &[&Plan<'a>]) -> Vec<&'a str> {
    let mut heads: Vec<&'a str> = Vec::new();
    let mut before: Vec<(usize, usize)> = Vec::new();
    for p in plans {
        let mut prev: Option<usize> = None;
        for (head, _) in &p.appends {
            let i = match heads.iter().position(|h| h == head) {
                Some(i) => i,
                None => {
                    heads.push(head);
                    heads.len() - 1
                }
            };
            if let Some(j) = prev
                && j != i
                && !before.contains(&(j, i))
            {
                before.push((j, i));
            }
            prev = Some(i);
        }
    }
    let mut placed = vec![false; heads.len()];
    let mut out = Vec::with_capacity(heads.len());
    while out.len() < heads.len() {
        // The first statement not placed with nothing unplaced before it; with a cycle,
        // the first not placed.
        let free = |i: usize| !before.iter().any(|&(j, k)| k == i && !placed[j]);
        let next = (0..heads.len())
            .find(|&i| !placed[i] && free(i))
            .or_else(|| (0..heads.len()).find(|&i| !placed[i]));
        let Some(i) = next else { break };
        placed[i] = true;
        out.push(heads[i]);
    }
    out
}

/// The parameters of a statement's `WHERE` clause (the row's key first: `… WHERE id = ?
/// AND version = ?`); found once per guard, not in every comparison of the sort, where
/// the search through the statement's text had been 6 % of the SQLite writer's time.
fn where_params(w: &Recorded) -> &[OwnedVal] {
    let at = w.sql.find(" WHERE ").unwrap_or(w.sql.len());
    let before = w.sql[..at].matches('?').count();
    w.params.get(before..).unwrap_or(&[])
}

/// The order guards take their row locks in: by statement, then by the parameters of
/// its `WHERE` clause ([`where_params`], given with each).
fn row_order((a, ka): (&Recorded, &[OwnedVal]), (b, kb): (&Recorded, &[OwnedVal])) -> Ordering {
    fn rank(v: &OwnedVal) -> u8 {
        match v {
            OwnedVal::Null => 0,
            OwnedVal::Int(_) => 1,
            OwnedVal::Real(_) => 2,
            OwnedVal::Text(_) => 3,
            OwnedVal::Bytes(_) => 4,
        }
    }
    fn val(a: &OwnedVal, b: &OwnedVal) -> Ordering {
        match (a, b) {
            (OwnedVal::Int(x), OwnedVal::Int(y)) => x.cmp(y),
            (OwnedVal::Real(x), OwnedVal::Real(y)) => x.total_cmp(y),
            (OwnedVal::Text(x), OwnedVal::Text(y)) => x.cmp(y),
            (OwnedVal::Bytes(x), OwnedVal::Bytes(y)) => x.cmp(y),
            _ => rank(a).cmp(&rank(b)),
        }
    }
    a.sql.cmp(&b.sql).then_with(|| {
        ka.iter()
            .zip(kb)
            .map(|(x, y)| val(x, y))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| ka.len().cmp(&kb.len()))
    })
}

/// Rows in the next chunk: all of them up to [`MAX_ROWS`], else the largest power of
/// two (so that at most a few statement texts per table are ever prepared).
fn chunk(left: usize) -> usize {
    if left >= MAX_ROWS {
        MAX_ROWS
    } else {
        1 << (usize::BITS - 1 - left.leading_zeros())
    }
}

/// `head`, then `tuple` once per row (separated by `, `), then `tail`, with every row's
/// parameters: one statement per chunk of rows ([`chunk`]), each with the number of rows
/// it carries. A multi-row `INSERT … VALUES (…), (…)`, or PostgreSQL's saves of
/// several cases ([`sql::UPDATE_CASES_HEAD`]).
fn multi_rows<'a>(
    head: &str,
    tuple: &str,
    tail: &str,
    rows: &[&'a Recorded],
) -> Vec<(String, Vec<Val<'a>>, usize)> {
    let mut out = Vec::new();
    let mut rest = rows;
    while !rest.is_empty() {
        let (now, later) = rest.split_at(chunk(rest.len()));
        let mut sql =
            String::with_capacity(head.len() + now.len() * (tuple.len() + 2) + tail.len());
        sql.push_str(head);
        let mut vals = Vec::with_capacity(now.len() * now[0].params.len());
        for (k, w) in now.iter().enumerate() {
            if k > 0 {
                sql.push_str(", ");
            }
            sql.push_str(tuple);
            vals.extend(w.params.iter().map(|p| p.borrow()));
        }
        sql.push_str(tail);
        out.push((sql, vals, now.len()));
        rest = later;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(sql: &str, n: usize, exact: Option<u64>) -> Recorded {
        Recorded {
            sql: sql.into(),
            params: (0..n).map(|i| OwnedVal::Int(i as i64)).collect(),
            exact: exact.map(|r| (r, "moved".into())),
        }
    }

    #[test]
    fn only_plain_inserts_are_appends() {
        assert_eq!(
            append_head(&rec("INSERT INTO t (a, b) VALUES (?, ?)", 2, None)),
            Some("INSERT INTO t (a, b) VALUES ")
        );
        for sql in [
            "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO NOTHING",
            "INSERT INTO t (a, b) VALUES (?, 1)",
            "INSERT INTO t (a, b) SELECT ?, ?",
            "UPDATE t SET a = ?, b = ?",
        ] {
            assert_eq!(append_head(&rec(sql, 2, None)), None, "{sql}");
        }
        assert_eq!(
            append_head(&rec("INSERT INTO t (a, b) VALUES (?, ?)", 3, None)),
            None
        );
    }

    #[test]
    fn a_group_takes_at_most_one_single_row_guard_and_appends_only() {
        let guard = rec("UPDATE c SET v = ? WHERE id = ? AND v = ?", 3, Some(1));
        let app = rec("INSERT INTO e (a) VALUES (?)", 1, None);
        assert!(plan(&[guard.clone(), app.clone(), app.clone()]).is_some());
        assert!(plan(std::slice::from_ref(&guard)).is_some());
        // Rows added and nothing guarded (收件): a group member too.
        assert!(plan(std::slice::from_ref(&app)).is_some());
        assert!(plan(&[]).is_none());
        assert!(plan(&[guard.clone(), guard.clone()]).is_none());
        assert!(plan(&[rec("UPDATE a SET x = ?", 1, None), guard.clone()]).is_none());
        assert!(plan(&[rec("UPDATE c SET v = ?", 1, Some(2))]).is_none());
    }

    #[test]
    fn tables_keep_every_jobs_order() {
        let w = rec("INSERT INTO x (a) VALUES (?)", 1, None);
        let job = |heads: &[&'static str]| Plan {
            guard: None,
            appends: heads.iter().map(|h| (*h, &w)).collect(),
        };
        fn order<'a>(jobs: &[Plan<'a>]) -> Vec<&'a str> {
            table_order(&jobs.iter().collect::<Vec<_>>())
        }
        // A job saving a case (event, stats), then receipts (case, event, stats).
        assert_eq!(
            order(&[job(&["e", "s"]), job(&["c", "e", "s"])]),
            ["c", "e", "s"]
        );
        // Jobs that disagree (e before s, then s before e): first appearance decides.
        assert_eq!(
            order(&[job(&["e", "s"]), job(&["s", "c", "e"])]),
            ["e", "s", "c"]
        );
        // A statement new to the group goes before one placed already when a job says so.
        assert_eq!(order(&[job(&["e"]), job(&["c", "e"])]), ["c", "e"]);
        assert_eq!(
            order(&[job(&["e", "r"]), job(&["c", "e"]), job(&["s"])]),
            ["c", "e", "r", "s"]
        );
        assert_eq!(order(&[]), Vec::<&str>::new());
    }

    #[test]
    fn chunks_are_powers_of_two_up_to_the_cap() {
        let mut left = 300;
        let mut sizes = Vec::new();
        while left > 0 {
            let n = chunk(left);
            sizes.push(n);
            left -= n;
        }
        assert_eq!(sizes, vec![256, 32, 8, 4]);
        assert_eq!(chunk(1), 1);
    }

    #[test]
    fn multi_row_inserts_carry_every_row() {
        let a = rec("INSERT INTO e (a, b) VALUES (?, ?)", 2, None);
        let stmts = multi_rows("INSERT INTO e (a, b) VALUES ", "(?, ?)", "", &[&a, &a, &a]);
        // Three rows: a chunk of two, then one.
        let sqls: Vec<&str> = stmts.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(
            sqls,
            [
                "INSERT INTO e (a, b) VALUES (?, ?), (?, ?)",
                "INSERT INTO e (a, b) VALUES (?, ?)"
            ]
        );
        assert_eq!(stmts.iter().map(|s| s.1.len()).sum::<usize>(), 6);
        assert_eq!(stmts.iter().map(|s| s.2).collect::<Vec<_>>(), [2, 1]);
        // A head, typed rows and a tail, as PostgreSQL's saves of several cases.
        let u = rec(sql::UPDATE_CASE, 13, Some(1));
        let stmts = multi_rows(
            sql::UPDATE_CASES_HEAD,
            sql::UPDATE_CASES_ROW,
            sql::UPDATE_CASES_TAIL,
            &[&u, &u],
        );
        assert_eq!(stmts.len(), 1);
        assert_eq!(stmts[0].0.matches('?').count(), 26);
        assert!(
            stmts[0]
                .0
                .ends_with("WHERE c.id = v.id AND c.version = v.expected")
        );
        assert_eq!((stmts[0].1.len(), stmts[0].2), (26, 2));
    }
}

#[cfg(test)]
mod lock_order {
    use super::*;
    use crate::conn::{Backend, Row};

    /// A real SQLite connection that notes the case each guard locked, in order.
    struct Noting {
        c: rusqlite::Connection,
        guarded: Vec<i64>,
        /// Every statement run.
        sqls: Vec<String>,
    }

    impl Conn for Noting {
        fn backend(&self) -> Backend {
            Backend::Sqlite
        }
        fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, Error> {
            self.sqls.push(sql.to_string());
            if sql.starts_with("UPDATE")
                && let Some(Val::Int(id)) = params.get(1)
            {
                self.guarded.push(*id);
            }
            self.c
                .execute(sql, rusqlite::params_from_iter(params.iter()))
                .map(|n| n as u64)
                .map_err(|e| Error::Store(e.to_string()))
        }
        fn query(
            &mut self,
            _: &str,
            _: &[Val],
            _: &mut dyn FnMut(&dyn Row) -> Result<(), Error>,
        ) -> Result<(), Error> {
            Err(Error::Store("a replay does not query".into()))
        }
        fn batch(&mut self, sql: &str) -> Result<(), Error> {
            self.c
                .execute_batch(sql)
                .map_err(|e| Error::Store(e.to_string()))
        }
    }

    fn guard(id: i64, version: i64) -> Recorded {
        Recorded {
            sql: "UPDATE c SET v = ? WHERE id = ? AND v = ?".into(),
            params: vec![
                OwnedVal::Int(version + 1),
                OwnedVal::Int(id),
                OwnedVal::Int(version),
            ],
            exact: Some((1, format!("case {id} moved"))),
        }
    }

    fn event(id: i64) -> Recorded {
        Recorded {
            sql: "INSERT INTO e (case_id) VALUES (?)".into(),
            params: vec![OwnedVal::Int(id)],
            exact: None,
        }
    }

    #[test]
    fn guards_lock_rows_in_row_order_and_answer_each_job_in_job_order() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE c (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
             CREATE TABLE e (case_id INTEGER NOT NULL);
             INSERT INTO c VALUES (2, 1), (5, 1), (9, 1), (10, 1);
             BEGIN;",
        )
        .unwrap();
        let mut conn = Noting {
            c,
            guarded: vec![],
            sqls: vec![],
        };
        // Jobs in the order they arrived: 10, 5, 9 (at a version it no longer has), 2.
        let jobs: Vec<(Vec<Recorded>, super::super::ReplyFn)> = [(10, 1), (5, 1), (9, 0), (2, 1)]
            .into_iter()
            .map(|(id, v)| {
                (
                    vec![guard(id, v), event(id)],
                    Box::new(|_: Result<(), Error>| {}) as super::super::ReplyFn,
                )
            })
            .collect();
        let out = run(&mut conn, false, &jobs, &Counters::default());
        // Locked by row, 2 < 5 < 9 < 10 (numerically, not as text), whatever the jobs' order.
        assert_eq!(conn.guarded, vec![2, 5, 9, 10]);
        let answers: Vec<Option<String>> = out
            .iter()
            .map(|o| match o {
                Outcome::Done(Ok(())) => None,
                Outcome::Done(Err(e)) => Some(e.to_string()),
                Outcome::RolledBack(e) => Some(format!("rolled back: {e}")),
            })
            .collect();
        assert_eq!(answers[0], None);
        assert_eq!(answers[1], None);
        assert!(
            answers[2].as_deref().unwrap().contains("case 9 moved"),
            "{answers:?}"
        );
        assert_eq!(answers[3], None);
        let events: Vec<i64> = conn
            .c
            .prepare("SELECT case_id FROM e ORDER BY case_id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(events, vec![2, 5, 10]);
    }

    /// New cases (rows added, nothing guarded) join a group after jobs that guard: the
    /// group inserts the cases before the events that refer to them, as each job did,
    /// in one statement per table.
    #[test]
    fn new_rows_join_the_group_in_their_tables_order() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE c (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
             CREATE TABLE e (case_id INTEGER NOT NULL REFERENCES c (id));
             INSERT INTO c VALUES (2, 1), (5, 1);
             BEGIN;",
        )
        .unwrap();
        let mut conn = Noting {
            c,
            guarded: vec![],
            sqls: vec![],
        };
        let new_case = |id: i64| Recorded {
            sql: "INSERT INTO c (id, v) VALUES (?, ?)".into(),
            params: vec![OwnedVal::Int(id), OwnedVal::Int(1)],
            exact: None,
        };
        let reply = || Box::new(|_: Result<(), Error>| {}) as super::super::ReplyFn;
        let jobs: Vec<(Vec<Recorded>, super::super::ReplyFn)> = vec![
            (vec![guard(5, 1), event(5)], reply()),
            (vec![new_case(7), event(7)], reply()),
            (vec![guard(2, 1), event(2)], reply()),
            (vec![new_case(8), event(8)], reply()),
        ];
        let out = run(&mut conn, false, &jobs, &Counters::default());
        assert!(out.iter().all(|o| matches!(o, Outcome::Done(Ok(())))));
        let inserts: Vec<&str> = conn
            .sqls
            .iter()
            .map(String::as_str)
            .filter(|s| s.starts_with("INSERT"))
            .collect();
        assert_eq!(
            inserts,
            [
                "INSERT INTO c (id, v) VALUES (?, ?), (?, ?)",
                "INSERT INTO e (case_id) VALUES (?), (?), (?), (?)",
            ]
        );
        let events: i64 = conn
            .c
            .query_row("SELECT COUNT(*) FROM e", [], |r| r.get(0))
            .unwrap();
        assert_eq!(events, 4);
    }
}

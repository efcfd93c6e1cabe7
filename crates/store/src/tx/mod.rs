//! [`SqlTx`]: the store contract of `tongban-core` in SQL, once, for both backends.
//! One file per aggregate.

mod auth;
mod bundles;
mod calendar;
mod cases;
mod catalog;
mod hotline;
mod jobs;
mod org;
mod ratings;
mod search;
mod serials;
mod stats;
mod supervision;

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use tongban_core::Error;

use tongban_core::case::Case;
use tongban_core::catalog::ItemSpec;

use crate::conn::Conn;
pub use serials::SerialBlocks;
pub(crate) use serials::{SerialBlock, SerialKey};

/// Published item versions by (item, version): their content never changes, so once
/// read it is kept for the life of the process (a few hundred items, a few KB each).
#[derive(Default)]
pub struct SpecCache(
    std::sync::RwLock<std::collections::HashMap<(i64, u32), std::sync::Arc<ItemSpec>>>,
);

impl SpecCache {
    fn get(&self, key: (i64, u32)) -> Option<std::sync::Arc<ItemSpec>> {
        self.0.read().ok().and_then(|m| m.get(&key).cloned())
    }

    fn put(&self, key: (i64, u32), spec: std::sync::Arc<ItemSpec>) {
        if let Ok(mut m) = self.0.write() {
            m.insert(key, spec);
        }
    }
}

/// Cases as last saved by this process, decoded, by id, with their version: reading a
/// case whose stored version is still that one costs a lookup of the version instead of
/// decoding the whole aggregate. Sound because every save raises the version (a save is
/// guarded by the version it replaces) and only committed saves are kept; a case changed
/// by another server simply has another version. At most [`CaseCache::MAX`] cases.
///
/// Two generations of half that each: when the newer one is full it becomes the older,
/// and the older is let go. So the cases saved last are always there (no emptying the
/// whole cache at once), and what is let go is freed outside the lock.
#[derive(Default)]
pub struct CaseCache(std::sync::Mutex<Generations>);

type CaseMap = std::collections::HashMap<i64, (i64, Arc<Case>)>;

#[derive(Default)]
struct Generations {
    newer: CaseMap,
    older: CaseMap,
}

impl CaseCache {
    /// Cases kept at most.
    pub const MAX: usize = 4096;

    fn get(&self, id: i64) -> Option<(i64, Arc<Case>)> {
        let g = self.0.lock().ok()?;
        g.newer.get(&id).or_else(|| g.older.get(&id)).cloned()
    }

    /// Keep committed saves (a later version wins over an earlier one).
    pub(crate) fn put(&self, saved: Vec<Saved>) {
        // Dropped after the lock is released: the replaced versions, a retired generation.
        let mut replaced: Vec<Arc<Case>> = Vec::with_capacity(saved.len());
        let mut retired: Vec<CaseMap> = Vec::new();
        {
            let Ok(mut g) = self.0.lock() else { return };
            for (id, version, case) in saved {
                let known = g
                    .newer
                    .get(&id)
                    .or_else(|| g.older.get(&id))
                    .map(|(v, _)| *v);
                if known.is_some_and(|v| v > version) {
                    continue;
                }
                if let Some((_, old)) = g.older.remove(&id) {
                    replaced.push(old);
                }
                if !g.newer.contains_key(&id) && g.newer.len() >= Self::MAX / 2 {
                    let full = std::mem::take(&mut g.newer);
                    retired.push(std::mem::replace(&mut g.older, full));
                }
                if let Some((_, old)) = g.newer.insert(id, (version, case)) {
                    replaced.push(old);
                }
            }
        }
        drop(replaced);
        drop(retired);
    }

    /// Cases held now (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0
            .lock()
            .map(|g| g.newer.len() + g.older.len())
            .unwrap_or(0)
    }
}

/// Which 一件事 bundle case each case belongs to, if any, as committed: a case is filed
/// with its bundle membership in one transaction and neither changes afterwards
/// (`insert_bundle_case` takes only children filed in its own transaction), and cases
/// are never deleted, so an answer once committed stays true. It is filled from two
/// places only: the cases a write of this server filed, once that write has committed
/// (`SqlTx::filed`; a writer's transaction may still roll back, and SQLite gives a
/// rolled-back case's id to the next one), and reads on read-only snapshots of cases
/// that exist (what those read is committed). It spares the bundle rules (决定, 制证,
/// 送达) their first lookup, so that on a case in no bundle, kept by this server, such
/// an action needs no database at all (a bundle's child still reads its bundle case and
/// siblings). Bounded: emptied when it reaches [`BundleCache::MAX`] entries.
#[derive(Default)]
pub struct BundleCache(std::sync::RwLock<std::collections::HashMap<i64, Option<i64>>>);

impl BundleCache {
    /// Entries kept at most (about 24 bytes each, and the map's overhead).
    pub const MAX: usize = 1 << 16;

    pub(crate) fn get(&self, case_id: i64) -> Option<Option<i64>> {
        self.0.read().ok()?.get(&case_id).copied()
    }

    pub(crate) fn put(&self, case_id: i64, bundle_case: Option<i64>) {
        self.put_all(&[(case_id, bundle_case)]);
    }

    /// Keep the membership of cases filed by a committed transaction.
    pub(crate) fn put_all(&self, filed: &[(i64, Option<i64>)]) {
        if filed.is_empty() {
            return;
        }
        if let Ok(mut m) = self.0.write() {
            for &(case_id, bundle_case) in filed {
                if m.len() >= Self::MAX {
                    m.clear();
                }
                m.insert(case_id, bundle_case);
            }
        }
    }
}

/// A case saved in a transaction: id, version, content.
pub(crate) type Saved = (i64, i64, Arc<Case>);

/// A transaction as the use cases see it.
pub struct SqlTx<'a> {
    pub(crate) c: &'a mut dyn Conn,
    pub(crate) specs: &'a SpecCache,
    pub(crate) cases: Option<&'a CaseCache>,
    /// Cases saved here, for the cache once committed.
    pub(crate) saved: Vec<Saved>,
    /// Hand out kept cases to be saved without checking their version (a decision on a
    /// snapshot: its guard checks at the commit).
    pub(crate) trust_kept: bool,
    /// Kept cases handed out unchecked (id, version): a failure may be a stale copy's
    /// doing.
    pub(crate) trusted: Vec<(i64, i64)>,
    /// The id taken for the next case inserted (PostgreSQL: with its serial).
    pub(crate) next_case_id: Option<i64>,
    /// Bundle membership read before, given only to read-only snapshots (which may
    /// also add to it: what they read is committed).
    pub(crate) bundles: Option<&'a BundleCache>,
    /// Cases filed here and the bundle case each belongs to, if any: for the
    /// [`BundleCache`] once committed.
    pub(crate) filed: Vec<(i64, Option<i64>)>,
    /// Case-number serials in blocks (a writer's job on PostgreSQL).
    pub(crate) serials: Option<&'a SerialBlocks>,
    /// Blocks claimed here, for [`SerialBlocks`] once committed.
    pub(crate) claimed: Vec<(SerialKey, SerialBlock)>,
    /// Whether a new block may be claimed here (not in a decision off the writer,
    /// which takes only a serial the server holds).
    pub(crate) may_claim: bool,
}

impl<'a> SqlTx<'a> {
    /// Wrap a connection that is inside a transaction.
    pub fn new(c: &'a mut dyn Conn, specs: &'a SpecCache) -> Self {
        SqlTx {
            c,
            specs,
            cases: None,
            saved: Vec::new(),
            trust_kept: false,
            trusted: Vec::new(),
            next_case_id: None,
            bundles: None,
            filed: Vec::new(),
            serials: None,
            claimed: Vec::new(),
            may_claim: true,
        }
    }

    /// The same, reading cases through `cases` (the caller keeps [`SqlTx::saved`] in
    /// it once the transaction has committed).
    pub(crate) fn with_cases(
        c: &'a mut dyn Conn,
        specs: &'a SpecCache,
        cases: &'a CaseCache,
    ) -> Self {
        SqlTx {
            c,
            specs,
            cases: Some(cases),
            saved: Vec::new(),
            trust_kept: false,
            trusted: Vec::new(),
            next_case_id: None,
            bundles: None,
            filed: Vec::new(),
            serials: None,
            claimed: Vec::new(),
            may_claim: true,
        }
    }
}

impl<'a> SqlTx<'a> {
    /// Case-number serials from and into `serials` (the caller keeps
    /// [`SqlTx::claimed`] in it once the transaction has committed).
    pub(crate) fn taking_serials(mut self, serials: &'a SerialBlocks) -> Self {
        self.serials = Some(serials);
        self
    }

    /// On a read-only snapshot: bundle membership from and into `bundles`.
    pub(crate) fn reading_committed(mut self, bundles: &'a BundleCache) -> Self {
        self.bundles = Some(bundles);
        self
    }
}

/// Instant → stored milliseconds.
pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Stored milliseconds → instant.
pub(crate) fn instant(v: i64) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| Error::Store(format!("bad instant {v}")))
}

/// Stored `YYYY-MM-DD` → date.
pub(crate) fn date(s: &str) -> Result<NaiveDate, Error> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| Error::Store(format!("bad date {s}")))
}

/// A snake_case enum from its stored name.
pub(crate) fn enum_of<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, Error> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| Error::Store(format!("bad stored value {s}")))
}

/// A snake_case enum's stored name.
pub(crate) fn name_of<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The exclusive upper bound of a prefix range: `4409` → `440:` (the next byte).
pub(crate) fn prefix_end(prefix: &str) -> String {
    let mut b = prefix.as_bytes().to_vec();
    if let Some(last) = b.last_mut() {
        *last += 1;
    }
    String::from_utf8(b).unwrap_or_default()
}

#[cfg(test)]
mod cache_tests {
    use super::*;
    use tongban_core::case::Channel;
    use tongban_core::testing::{monday, new_case, promised_spec};

    fn saved(id: i64, version: i64) -> Saved {
        // Built once: building a case (its spec, its clocks on the calendar) twelve
        // thousand times had made these tests take two minutes in a debug build.
        static TEMPLATE: std::sync::OnceLock<Case> = std::sync::OnceLock::new();
        let mut c = TEMPLATE
            .get_or_init(|| new_case(&promised_spec(), Channel::Window, false, monday()))
            .clone();
        c.id = id;
        c.version = version;
        (id, version, Arc::new(c))
    }

    #[test]
    fn the_case_cache_keeps_the_latest_saves_within_its_bound() {
        let cache = CaseCache::default();
        let n = CaseCache::MAX as i64 * 3;
        for id in 1..=n {
            cache.put(vec![saved(id, 1)]);
        }
        assert!(cache.len() <= CaseCache::MAX, "{} cases held", cache.len());
        // The last half of the bound saved is always there; the first saves are gone.
        for id in n - CaseCache::MAX as i64 / 2 + 1..=n {
            assert_eq!(
                cache.get(id).map(|(v, c)| (v, c.id)),
                Some((1, id)),
                "case {id}"
            );
        }
        assert!(cache.get(1).is_none());
    }

    #[test]
    fn a_later_version_wins_and_a_resave_of_an_older_generation_moves_it_forward() {
        let cache = CaseCache::default();
        cache.put(vec![saved(7, 3)]);
        cache.put(vec![saved(7, 2)]);
        assert_eq!(
            cache.get(7).map(|(v, _)| v),
            Some(3),
            "an earlier version never replaces a later one"
        );
        // Push case 7 into the older generation, then save it again: it is held once,
        // at the new version, and survives the next retirement.
        for id in 100..100 + CaseCache::MAX as i64 / 2 {
            cache.put(vec![saved(id, 1)]);
        }
        cache.put(vec![saved(7, 4)]);
        assert_eq!(cache.get(7).map(|(v, c)| (v, c.version)), Some((4, 4)));
        // Enough new cases to retire the generation case 7 is now in, once.
        for id in 10_000..10_000 + CaseCache::MAX as i64 / 2 - 1 {
            cache.put(vec![saved(id, 1)]);
        }
        assert_eq!(cache.get(7).map(|(v, _)| v), Some(4));
        assert!(cache.len() <= CaseCache::MAX);
    }
}

#[cfg(test)]
mod plan_tests {
    use rusqlite::{Connection, StatementStatus};

    /// How often SQLite prepared a cached page statement again over three runs, its
    /// cursor and LIMIT bound anew each time as a list's pages are.
    fn reprepared(c: &Connection) -> i32 {
        c.execute_batch(
            "CREATE TABLE t (x INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3), (4), (5);",
        )
        .expect("table");
        let sql = "SELECT x FROM t WHERE x > ? ORDER BY x LIMIT ?";
        for after in 0..3 {
            let mut st = c.prepare_cached(sql).expect("prepared");
            let n = st
                .query_map((after, 2), |r| r.get::<_, i64>(0))
                .expect("ran")
                .count();
            assert_eq!(n, 2);
        }
        c.prepare_cached(sql)
            .expect("cached")
            .get_status(StatementStatus::RePrepare)
    }

    /// The store's connections never plan a cached statement again because a value was
    /// bound anew (the query planner stability guarantee, `sqlite::open_conn`); a plain
    /// connection of the bundled SQLite does, at every run of a statement with a bound
    /// LIMIT: a department's inbox page was parsed and planned at every request.
    #[test]
    fn the_stores_connections_plan_a_statement_once() {
        let plain = Connection::open_in_memory().expect("open");
        assert!(reprepared(&plain) >= 2);
        let dir = tempfile::tempdir().expect("temp dir");
        let ours = crate::sqlite::open_conn(&dir.path().join("t.db"), false).expect("open");
        assert_eq!(reprepared(&ours), 0);
    }
}

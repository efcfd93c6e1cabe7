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
mod stats;
mod supervision;

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use tongban_core::Error;

use tongban_core::case::Case;
use tongban_core::catalog::ItemSpec;

use crate::conn::Conn;

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
#[derive(Default)]
pub struct CaseCache(std::sync::Mutex<std::collections::HashMap<i64, (i64, Arc<Case>)>>);

impl CaseCache {
    /// Cases kept at most (the cache starts over when full).
    pub const MAX: usize = 4096;

    fn get(&self, id: i64) -> Option<(i64, Arc<Case>)> {
        self.0.lock().ok()?.get(&id).cloned()
    }

    /// Keep committed saves (a later version wins over an earlier one).
    pub(crate) fn put(&self, saved: Vec<Saved>) {
        let Ok(mut m) = self.0.lock() else { return };
        for (id, version, case) in saved {
            if m.len() >= Self::MAX {
                m.clear();
            }
            match m.get(&id) {
                Some((v, _)) if *v > version => {}
                _ => {
                    m.insert(id, (version, case));
                }
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
}

impl<'a> SqlTx<'a> {
    /// Wrap a connection that is inside a transaction.
    pub fn new(c: &'a mut dyn Conn, specs: &'a SpecCache) -> Self {
        SqlTx {
            c,
            specs,
            cases: None,
            saved: Vec::new(),
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
        }
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

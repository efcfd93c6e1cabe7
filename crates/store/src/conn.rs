//! The one seam between the SQL code path and the two database drivers.
//!
//! All queries are written once, with `?` placeholders, against [`Conn`]. What differs
//! per backend lives in a few named places: placeholder numbering and value
//! encoding for PostgreSQL (`postgres.rs`), the DDL tokens in `migrate.rs`, and the
//! mapping of unique-key violations ([`unique_violation`]).

use tongban_core::Error;

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    /// NULL.
    Null,
    /// An integer (booleans are stored as 0/1).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Bytes(&'a [u8]),
}

impl From<i64> for Val<'_> {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<u32> for Val<'_> {
    fn from(v: u32) -> Self {
        Val::Int(i64::from(v))
    }
}
impl From<i32> for Val<'_> {
    fn from(v: i32) -> Self {
        Val::Int(i64::from(v))
    }
}
impl From<bool> for Val<'_> {
    fn from(v: bool) -> Self {
        Val::Int(i64::from(v))
    }
}
impl From<f64> for Val<'_> {
    fn from(v: f64) -> Self {
        Val::Real(v)
    }
}
impl<'a> From<&'a str> for Val<'a> {
    fn from(v: &'a str) -> Self {
        Val::Text(v)
    }
}
impl<'a> From<&'a String> for Val<'a> {
    fn from(v: &'a String) -> Self {
        Val::Text(v.as_str())
    }
}
impl<'a, T: Into<Val<'a>>> From<Option<T>> for Val<'a> {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Val::Null)
    }
}

/// A result row.
pub trait Row {
    /// An integer column.
    fn int(&self, i: usize) -> Result<i64, Error>;
    /// A nullable integer column.
    fn opt_int(&self, i: usize) -> Result<Option<i64>, Error>;
    /// A text column.
    fn text(&self, i: usize) -> Result<String, Error>;
    /// A nullable text column.
    fn opt_text(&self, i: usize) -> Result<Option<String>, Error>;
    /// A float column.
    fn real(&self, i: usize) -> Result<f64, Error>;
    /// A bytes column.
    fn bytes(&self, i: usize) -> Result<Vec<u8>, Error>;
}

/// What makes a commit that [`Conn::commit`] returned early durable (SQLite: the
/// WAL's `fdatasync`); run on another thread.
pub type OwedSync = Box<dyn FnOnce() -> Result<(), Error> + Send>;

/// A connection, inside the transaction its owner opened.
pub trait Conn {
    /// Which database.
    fn backend(&self) -> Backend;
    /// Run a statement; returns the rows changed.
    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, Error>;
    /// Run a query, calling `f` for each row.
    fn query(
        &mut self,
        sql: &str,
        params: &[Val],
        f: &mut dyn FnMut(&dyn Row) -> Result<(), Error>,
    ) -> Result<(), Error>;
    /// Run several statements without parameters (DDL, transaction control).
    fn batch(&mut self, sql: &str) -> Result<(), Error>;

    /// Run transaction control that needs no answer now (`SAVEPOINT`, `RELEASE` …). A
    /// driver may hold it back and send it with the next statement, in the same round
    /// trip (PostgreSQL); an error then surfaces on that statement, or on the `COMMIT`.
    fn batch_deferred(&mut self, sql: &'static str) -> Result<(), Error> {
        self.batch(sql)
    }

    /// Run a plain `INSERT` of one row that returns nothing (no `RETURNING`, no
    /// `ON CONFLICT`): it adds its row or fails. A driver may hold it back and send it
    /// with the next statement, in the same round trip (PostgreSQL); its error then
    /// surfaces on that statement, or on [`Conn::flush`]. Whoever runs a use case flushes
    /// before deciding whether it succeeded.
    fn append(&mut self, sql: &str, params: &[Val]) -> Result<(), Error> {
        self.execute(sql, params).map(|_| ())
    }

    /// Send what [`Conn::append`] held back; the first failure among it.
    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// Give back the memory the connection holds but does not need now (its page cache);
    /// called by a writer that has had nothing to do for [`crate::writer::IDLE_AFTER`],
    /// outside any transaction. The default holds nothing to give back.
    fn release_memory(&mut self) {}

    /// Run several statements, each with its own result (rows changed), in order. A
    /// driver that can send them together (PostgreSQL: one pipeline, one round trip)
    /// does; the others run them one after another. A failed statement leaves the
    /// transaction as a failed `execute` would.
    fn execute_many(&mut self, stmts: &[(&str, &[Val])]) -> Vec<Result<u64, Error>> {
        stmts.iter().map(|(sql, p)| self.execute(sql, p)).collect()
    }

    /// Run a statement that must change exactly `rows` rows; otherwise the
    /// transaction's view was out of date: `Conflict(why)`.
    fn execute_exact(
        &mut self,
        sql: &str,
        params: &[Val],
        rows: u64,
        why: &str,
    ) -> Result<(), Error> {
        if self.execute(sql, params)? == rows {
            Ok(())
        } else {
            Err(Error::Conflict(why.to_string()))
        }
    }

    /// Commit the open transaction. A driver may return it committed and visible but
    /// not yet on disk, with what puts it there ([`OwedSync`]): the writer then answers
    /// the transaction's jobs only once that has run, and meanwhile runs the next jobs
    /// (SQLite's writer). The default commits durably and owes nothing.
    fn commit(&mut self) -> Result<Option<OwedSync>, Error> {
        self.batch("COMMIT").map(|()| None)
    }

    /// Upkeep between two write transactions, run by the writer once a batch has been
    /// committed and answered (so that it holds up no answer): on SQLite, letting the
    /// WAL start over from its beginning.
    fn after_batch(&mut self) {}
}

/// A parameter value that owns its text (for statements kept to run later).
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedVal {
    /// NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
}

impl OwnedVal {
    pub(crate) fn of(v: &Val) -> OwnedVal {
        match v {
            Val::Null => OwnedVal::Null,
            Val::Int(i) => OwnedVal::Int(*i),
            Val::Real(f) => OwnedVal::Real(*f),
            Val::Text(t) => OwnedVal::Text((*t).to_string()),
            Val::Bytes(b) => OwnedVal::Bytes(b.to_vec()),
        }
    }

    pub(crate) fn borrow(&self) -> Val<'_> {
        match self {
            OwnedVal::Null => Val::Null,
            OwnedVal::Int(i) => Val::Int(*i),
            OwnedVal::Real(f) => Val::Real(*f),
            OwnedVal::Text(t) => Val::Text(t),
            OwnedVal::Bytes(b) => Val::Bytes(b),
        }
    }
}

/// A write kept to run later, with the rows it must change (if it must).
#[derive(Debug, Clone)]
pub struct Recorded {
    pub(crate) sql: String,
    pub(crate) params: Vec<OwnedVal>,
    pub(crate) exact: Option<(u64, String)>,
}

/// Runs a use case against a read snapshot (or against [`Offline`]) while keeping its
/// writes to run later, in
/// the writer's transaction ([`crate::Db::write_optimistic`]). The use case must not
/// read what it wrote, and its writes must not return rows (an `INSERT … RETURNING`
/// cannot be kept: it is refused).
pub struct RecordingConn<'a> {
    inner: &'a mut dyn Conn,
    /// The writes, in order.
    pub writes: Vec<Recorded>,
}

impl<'a> RecordingConn<'a> {
    /// Record over a connection inside a read snapshot.
    pub fn new(inner: &'a mut dyn Conn) -> Self {
        RecordingConn {
            inner,
            writes: Vec::new(),
        }
    }
}

fn is_write(sql: &str) -> bool {
    let head = sql.trim_start().get(..6).unwrap_or("").to_ascii_uppercase();
    matches!(head.as_str(), "INSERT" | "UPDATE" | "DELETE")
}

impl Conn for RecordingConn<'_> {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }

    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, Error> {
        self.writes.push(Recorded {
            sql: sql.to_string(),
            params: params.iter().map(OwnedVal::of).collect(),
            exact: None,
        });
        Ok(1)
    }

    fn execute_exact(
        &mut self,
        sql: &str,
        params: &[Val],
        rows: u64,
        why: &str,
    ) -> Result<(), Error> {
        self.writes.push(Recorded {
            sql: sql.to_string(),
            params: params.iter().map(OwnedVal::of).collect(),
            exact: Some((rows, why.to_string())),
        });
        Ok(())
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Val],
        f: &mut dyn FnMut(&dyn Row) -> Result<(), Error>,
    ) -> Result<(), Error> {
        // What a write just did (an id, a serial taken) cannot be read back from a
        // snapshot while the write waits to run later.
        if is_write(sql) || sql == crate::sql::LAST_INSERT_ID || sql == crate::sql::SERIAL_TAKEN {
            return Err(Error::Store(format!(
                "a write that returns rows cannot be deferred: {sql}"
            )));
        }
        self.inner.query(sql, params, f)
    }

    fn batch(&mut self, sql: &str) -> Result<(), Error> {
        Err(Error::Store(format!("cannot defer a batch: {sql}")))
    }
}

/// No database at all: a decision is first tried on this, on the caller's thread, with
/// no snapshot taken (`Inner::record_offline`). Writes never reach it (the [`RecordingConn`]
/// over it keeps them); any read marks it as wanted and fails, and a decision that
/// wanted the database — whatever it did with the failure — is made again on a
/// snapshot.
pub(crate) struct Offline {
    backend: Backend,
    /// A read was asked for.
    pub(crate) wanted: bool,
}

impl Offline {
    pub(crate) fn new(backend: Backend) -> Offline {
        Offline {
            backend,
            wanted: false,
        }
    }

    fn want(&mut self) -> Error {
        self.wanted = true;
        Error::Store("a decision made without the database wanted to read it".into())
    }
}

impl Conn for Offline {
    fn backend(&self) -> Backend {
        self.backend
    }

    fn execute(&mut self, _sql: &str, _params: &[Val]) -> Result<u64, Error> {
        Err(self.want())
    }

    fn query(
        &mut self,
        _sql: &str,
        _params: &[Val],
        _f: &mut dyn FnMut(&dyn Row) -> Result<(), Error>,
    ) -> Result<(), Error> {
        Err(self.want())
    }

    fn batch(&mut self, _sql: &str) -> Result<(), Error> {
        Err(self.want())
    }
}

/// Run kept writes in the current transaction.
pub fn replay(c: &mut dyn Conn, writes: &[Recorded]) -> Result<(), Error> {
    for w in writes {
        let params: Vec<Val> = w.params.iter().map(OwnedVal::borrow).collect();
        match &w.exact {
            Some((rows, why)) => c.execute_exact(&w.sql, &params, *rows, why)?,
            None => {
                c.execute(&w.sql, &params)?;
            }
        }
    }
    Ok(())
}

/// Query helpers over any [`Conn`].
pub trait ConnExt: Conn {
    /// All rows, mapped.
    fn all<T>(
        &mut self,
        sql: &str,
        params: &[Val],
        map: impl Fn(&dyn Row) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        self.query(sql, params, &mut |r| {
            out.push(map(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row, mapped, if any.
    fn opt<T>(
        &mut self,
        sql: &str,
        params: &[Val],
        map: impl Fn(&dyn Row) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        let mut out = None;
        self.query(sql, params, &mut |r| {
            if out.is_none() {
                out = Some(map(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row, mapped; an error if there is none.
    fn one<T>(
        &mut self,
        sql: &str,
        params: &[Val],
        map: impl Fn(&dyn Row) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.opt(sql, params, map)?
            .ok_or_else(|| Error::Store(format!("no row for: {sql}")))
    }
}

impl<C: Conn + ?Sized> ConnExt for C {}

/// Turn a unique-key violation on `table.column` into a user-facing conflict.
/// Both drivers report the violated key; this is the one table of messages.
pub fn unique_violation(key: &str) -> Error {
    let msg = match key {
        "accounts.username" => "用户名已被使用",
        "departments.credit_code" => "该统一社会信用代码已登记",
        "items.code" => "实施编码已存在",
        "basic_items.code" => "基本编码已存在",
        "applicants.identifier" => "该证件号码已登记",
        "regions.code" => "区划代码已存在",
        "cases.number" => "办件编号重复",
        "calendar_years.year" => "该年度日历已存在",
        "bundles.code" => "一件事编码已存在",
        "ratings.case_id" => "该办件已评价（一事一评）",
        "hotline_categories.code" => "派单目录编码已存在",
        "work_orders.number" => "工单编号重复",
        "rectifications.rating_id" => "该评价已有整改工单",
        _ => "数据重复",
    };
    Error::Conflict(msg.to_string())
}

/// A value into a compressed JSON column (LZ4 block with its length in front).
pub fn to_packed_json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, Error> {
    thread_local! {
        /// The JSON before compression: one buffer per thread, grown to the largest
        /// value written, instead of a vector grown from empty for every case saved.
        static JSON: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    JSON.with(|buf| {
        let mut buf = buf
            .try_borrow_mut()
            .map_err(|_| Error::Store("JSON buffer busy".into()))?;
        buf.clear();
        serde_json::to_writer(&mut *buf, v).map_err(|e| Error::Store(format!("JSON: {e}")))?;
        let packed = compress_prepend_size(&buf)?;
        // A rare huge value does not stay resident in every thread.
        if buf.capacity() > 1 << 20 {
            *buf = Vec::new();
        }
        Ok(packed)
    })
}

/// `lz4_flex::compress_prepend_size`, with the hash table and the output buffer kept per
/// thread: the crate's own function allocates and zeroes an 8 KiB table for every value,
/// which was about 5 % of the server's CPU time on the lifecycle benchmark.
fn compress_prepend_size(input: &[u8]) -> Result<Vec<u8>, Error> {
    use lz4_flex::block::{CompressTable, compress_into_with_table, get_maximum_output_size};
    thread_local! {
        static LZ4: std::cell::RefCell<(CompressTable, Vec<u8>)> =
            std::cell::RefCell::new((CompressTable::default(), Vec::new()));
    }
    LZ4.with(|cell| {
        let mut cell = cell
            .try_borrow_mut()
            .map_err(|_| Error::Store("compression buffer busy".into()))?;
        let (table, out) = &mut *cell;
        let max = get_maximum_output_size(input.len());
        if out.len() < max {
            out.resize(max, 0);
        }
        let n = compress_into_with_table(input, &mut out[..max], table)
            .map_err(|e| Error::Store(format!("compress: {e}")))?;
        let len = u32::try_from(input.len()).map_err(|_| Error::Store("value too large".into()))?;
        let mut packed = Vec::with_capacity(4 + n);
        packed.extend_from_slice(&len.to_le_bytes());
        packed.extend_from_slice(&out[..n]);
        if out.len() > 1 << 20 {
            *out = Vec::new();
        }
        Ok(packed)
    })
}

/// A compressed JSON column into a value.
pub fn from_packed_json<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<T, Error> {
    let json = lz4_flex::decompress_size_prepended(b)
        .map_err(|e| Error::Store(format!("bad stored data: {e}")))?;
    serde_json::from_slice(&json).map_err(|e| Error::Store(format!("bad stored JSON: {e}")))
}

/// A JSON column into a value.
pub fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, Error> {
    serde_json::from_str(s).map_err(|e| Error::Store(format!("bad stored JSON: {e}")))
}

/// A value into a JSON column.
pub fn to_json<T: serde::Serialize>(v: &T) -> Result<String, Error> {
    serde_json::to_string(v).map_err(|e| Error::Store(format!("JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values packed with the kept table read back through the crate's own decoder, as do
    /// rows the crate's own function packed before, also after a value too large for the
    /// small table has upgraded it and the table is dirty from earlier values.
    #[test]
    fn packed_json_is_the_crates_format_and_reads_back() {
        let small: Vec<String> = (0..200).map(|i| format!("材料{i}")).collect();
        let large: Vec<String> = (0..20_000)
            .map(|i| format!("办件{}", i * 7919 % 10_007))
            .collect();
        for v in [&small, &large, &small, &Vec::new()] {
            let packed = to_packed_json(v).unwrap();
            let json = serde_json::to_vec(v).unwrap();
            assert_eq!(lz4_flex::decompress_size_prepended(&packed).unwrap(), json);
            let back: Vec<String> = from_packed_json(&packed).unwrap();
            assert_eq!(&back, v);
            let before: Vec<String> =
                from_packed_json(&lz4_flex::compress_prepend_size(&json)).unwrap();
            assert_eq!(&before, v);
        }
    }

    /// A use case run on a snapshot with its writes kept for later cannot read back what
    /// a kept write would have done: a write returning rows, the id of the row inserted
    /// last, the serial just taken. Each is refused, and other reads go to the snapshot.
    #[test]
    fn a_recording_refuses_to_read_back_its_own_writes() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE case_serials (region TEXT, day TEXT, last INTEGER, PRIMARY KEY (region, day));
             INSERT INTO case_serials VALUES ('440902', '2026-12-05', 7);",
        )
        .unwrap();
        let mut inner = crate::sqlite::SqliteConn::new(c);
        let mut rec = RecordingConn::new(&mut inner);
        let key = [Val::from("440902"), Val::from("2026-12-05")];
        rec.execute(crate::sql::NEXT_SERIAL, &key).unwrap();
        for (sql, params) in [
            (crate::sql::SERIAL_TAKEN, &key[..]),
            (crate::sql::LAST_INSERT_ID, &[][..]),
            (
                "INSERT INTO case_serials (region, day, last) VALUES (?, ?, 1) RETURNING last",
                &key[..],
            ),
        ] {
            let got = rec.one(sql, params, |r| r.int(0));
            assert!(
                matches!(&got, Err(Error::Store(m)) if m.contains("cannot be deferred")),
                "{sql}: {got:?}"
            );
        }
        assert_eq!(rec.writes.len(), 1);
        let last = rec
            .one(
                "SELECT last FROM case_serials WHERE day = ? AND region = ?",
                &[key[1].clone(), key[0].clone()],
                |r| r.int(0),
            )
            .unwrap();
        assert_eq!(last, 7, "the kept write has not run");
    }
}

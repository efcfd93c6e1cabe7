//! Embedded SQLite: one writer thread with group commit ([`crate::writer`]), a small
//! pool of read-only connections. WAL with `synchronous=FULL`: a commit answered is on
//! disk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OpenFlags};
use tongban_core::Error;

use crate::conn::{Backend, Conn, Row, Val, unique_violation};
use crate::writer::Writer;

impl rusqlite::ToSql for Val<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Val::Null => ToSqlOutput::Owned(Value::Null),
            Val::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Val::Real(v) => ToSqlOutput::Owned(Value::Real(*v)),
            Val::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Val::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

/// Map a SQLite error: unique violations become conflicts, the rest store errors.
pub(crate) fn map_err(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, Some(msg)) = &e
        && f.code == rusqlite::ErrorCode::ConstraintViolation
        && let Some(key) = msg.strip_prefix("UNIQUE constraint failed: ")
    {
        // "table.col" or "table.a, table.b": the first column names the key.
        let key = key.split(',').next().unwrap_or(key).trim();
        return unique_violation(key);
    }
    Error::Store(format!("sqlite: {e}"))
}

struct SqliteRow<'a, 'b>(&'a rusqlite::Row<'b>);

impl Row for SqliteRow<'_, '_> {
    fn int(&self, i: usize) -> Result<i64, Error> {
        self.0.get(i).map_err(map_err)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, Error> {
        self.0.get(i).map_err(map_err)
    }
    fn text(&self, i: usize) -> Result<String, Error> {
        self.0.get(i).map_err(map_err)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, Error> {
        self.0.get(i).map_err(map_err)
    }
    fn real(&self, i: usize) -> Result<f64, Error> {
        self.0.get(i).map_err(map_err)
    }
    fn bytes(&self, i: usize) -> Result<Vec<u8>, Error> {
        self.0.get(i).map_err(map_err)
    }
}

/// A SQLite connection as a [`Conn`].
pub struct SqliteConn(pub Connection);

impl Conn for SqliteConn {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, Error> {
        let mut st = self.0.prepare_cached(sql).map_err(map_err)?;
        st.execute(rusqlite::params_from_iter(params.iter()))
            .map(|n| n as u64)
            .map_err(map_err)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Val],
        f: &mut dyn FnMut(&dyn Row) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut st = self.0.prepare_cached(sql).map_err(map_err)?;
        let mut rows = st
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(map_err)?;
        while let Some(r) = rows.next().map_err(map_err)? {
            f(&SqliteRow(r))?;
        }
        Ok(())
    }

    fn batch(&mut self, sql: &str) -> Result<(), Error> {
        // Transaction control (BEGIN, SAVEPOINT, COMMIT …) runs on every request: keep
        // those single statements prepared instead of parsing them each time.
        if !sql.contains(';') {
            let mut st = self.0.prepare_cached(sql).map_err(map_err)?;
            return st.raw_execute().map(|_| ()).map_err(map_err);
        }
        self.0.execute_batch(sql).map_err(map_err)
    }
}

/// Open a connection with the pragmas every connection needs.
pub fn open_conn(path: &Path, read_only: bool) -> Result<Connection, Error> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    };
    let c = Connection::open_with_flags(path, flags).map_err(map_err)?;
    c.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(map_err)?;
    c.set_prepared_statement_cache_capacity(256);
    let pragmas = if read_only {
        "PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384; PRAGMA mmap_size=268435456;"
    } else {
        // WAL for concurrent readers; FULL so that every commit is on disk before it
        // is acknowledged.
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; \
         PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
    };
    c.execute_batch(pragmas).map_err(map_err)?;
    Ok(c)
}

/// The SQLite side of a [`crate::Db`]: one writer thread (group commit) and a pool of
/// read-only connections.
pub struct SqliteDb {
    path: PathBuf,
    pub(crate) writer: Writer,
    readers: Arc<Mutex<Vec<SqliteConn>>>,
}

impl SqliteDb {
    /// Open (creating) the database file, run migrations, start the writer.
    pub fn open(path: &Path) -> Result<SqliteDb, Error> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Store(format!("creating {}: {e}", dir.display())))?;
        }
        let mut conn = SqliteConn(open_conn(path, false)?);
        crate::migrate::run(&mut conn, false)?;

        let writer = Writer::start(vec![Box::new(conn)], "BEGIN IMMEDIATE", "tb-sqlite-write")?;
        Ok(SqliteDb {
            path: path.to_path_buf(),
            writer,
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Run `f` on a reader connection inside a read transaction (a consistent snapshot).
    pub(crate) fn with_reader<R>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let conn = self
            .readers
            .lock()
            .map_err(|_| Error::Store("reader pool poisoned".into()))?
            .pop();
        let mut conn = match conn {
            Some(c) => c,
            None => SqliteConn(open_conn(&self.path, true)?),
        };
        conn.batch("BEGIN")?;
        let r = f(&mut conn);
        let end = conn.batch(if r.is_ok() { "COMMIT" } else { "ROLLBACK" });
        if end.is_ok()
            && let Ok(mut pool) = self.readers.lock()
            && pool.len() < 16
        {
            pool.push(conn);
        }
        let r = r?;
        end?;
        Ok(r)
    }

    /// Stop the writer after the jobs already queued.
    pub fn close(&self) {
        self.writer.close();
    }
}

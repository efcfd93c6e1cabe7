//! Embedded SQLite: one writer thread with group commit ([`crate::writer`]), a small
//! pool of read-only connections, and a checkpointer thread. WAL with
//! `synchronous=FULL`: a commit answered is on disk (the writer's sync thread syncs the
//! WAL before it answers, while the writer runs the next batch: [`crate::writer`]).
//!
//! Checkpoints (copying the WAL back into the database file, with an fsync of the
//! file) run on their own thread and connection rather than inside the writer's
//! `COMMIT`, where SQLite's automatic checkpoint would hold up every job of the batch
//! that crossed the threshold. The writer's WAL hook tells the checkpointer each time
//! another [`CHECKPOINT_PAGES`] pages have been appended; the checkpointer runs a
//! `PASSIVE` checkpoint, which never blocks the writer or readers.
//!
//! The WAL starts over from its beginning only when a write transaction begins with
//! every frame copied back and no reader on one, which under steady load never
//! happens by itself (the writer commits again before the checkpointer is done). So
//! once the WAL holds [`RESTART_PAGES`], the writer, between two batches, copies the
//! few frames left and waits a moment for readers of older frames (`RESTART`, with a
//! busy timeout of a few milliseconds); the next transaction then writes from the
//! start of the file. Should readers stay on (a long export), it gives up and tries
//! again [`CHECKPOINT_PAGES`] later: the WAL grows meanwhile, the writer never stalls.
//!
//! SQLite runs one checkpoint at a time, so a restart tried while the checkpointer is
//! in a pass is skipped too. A writer that outruns the checkpoints (a bulk import, the
//! benchmark's dataset generator: hundreds of megabytes a second into a file of
//! gigabytes) would skip every time and grow the WAL without bound, 43 GB for 10 M
//! generated cases. Past [`WAL_CEILING_PAGES`] the writer therefore waits, between two
//! batches, for the checkpointer's pass to end and then restarts the WAL itself: the
//! writer is slowed to the speed of the checkpoints, the disk is not filled.
//!
//! The writer's connections use SQLite's own VFS but for their WAL files, whose
//! writes reach the file in one call per commit instead of two per page
//! ([`wal_vfs`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OpenFlags};
use tongban_core::Error;

use crate::conn::{Backend, Conn, Row, Val, unique_violation};
use crate::writer::Writer;

pub mod wal_vfs;

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

/// A SQLite connection as a [`Conn`]; the writer's also restarts the WAL between
/// batches (see the module's documentation).
pub struct SqliteConn(pub Connection, Option<WalRestart>);

impl SqliteConn {
    /// A connection that does no WAL upkeep (readers, tests).
    pub fn new(c: Connection) -> SqliteConn {
        SqliteConn(c, None)
    }
}

impl Conn for SqliteConn {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    /// The writer's page cache (up to 8 MiB) and what its last statements sorted in
    /// memory live in SQLite's heap: the C heap, which keeps freed memory for reuse,
    /// unless the program gave SQLite another allocator (`tongban` gives it mimalloc,
    /// which returns what is freed by itself). After a start that folded a busy day's
    /// statistics, that was some 12 MB of an idle server's 93 MB. `shrink_memory` frees
    /// the cache's pages; `malloc_trim` hands the C heap's free pages back.
    fn release_memory(&mut self) {
        let _ = self.0.execute_batch("PRAGMA shrink_memory");
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim takes a plain integer and works on the allocator's own
        // state under its locks; it is safe from any thread.
        unsafe {
            libc::malloc_trim(0);
        }
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

    /// The writer's commit leaves the WAL's sync to the writer's sync thread
    /// ([`wal_vfs::commit_deferring_sync`]), so that the next batch runs during it.
    fn commit(&mut self) -> Result<Option<crate::conn::OwedSync>, Error> {
        if self.1.is_none() {
            return self.batch("COMMIT").map(|()| None);
        }
        let (r, owed) = wal_vfs::commit_deferring_sync(|| self.batch("COMMIT"));
        r?;
        Ok(owed.map(|o| {
            Box::new(move || {
                o.sync()
                    .map_err(|e| Error::Store(format!("WAL sync failed: {e}")))
            }) as crate::conn::OwedSync
        }))
    }

    fn after_batch(&mut self) {
        if let Some(r) = &mut self.1 {
            r.after_batch(&self.0);
        }
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
    let c = if read_only {
        Connection::open_with_flags(path, flags).map_err(map_err)?
    } else {
        // The writer's WAL writes reach the file in one call per commit (`wal_vfs`);
        // safe because this connection is at `synchronous=FULL` (below).
        let vfs = wal_vfs::register().map_err(Error::Store)?;
        Connection::open_with_flags_and_vfs(path, flags, vfs).map_err(map_err)?
    };
    c.busy_timeout(std::time::Duration::from_millis(u64::from(BUSY_TIMEOUT_MS)))
        .map_err(map_err)?;
    c.set_prepared_statement_cache_capacity(256);
    // The query planner stability guarantee: a statement's plan never depends on the
    // values bound to it. Without it the bundled SQLite reads some bound values while it
    // plans (a LIMIT since 3.47) and prepares the statement again whenever one of them
    // is bound anew, which a cached statement run again always is: every inbox page was
    // parsed and planned from its text. Nothing here needs a value-dependent plan.
    c.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(map_err)?;
    let pragmas = if read_only {
        // The memory map, if any, is the reader pool's to choose (`ReaderPool`).
        "PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384;"
    } else {
        // WAL for concurrent readers; FULL so that every commit is on disk before it
        // is acknowledged.
        //
        // An 8 MiB page cache (2,048 pages), not more. Each commit of a database under
        // 1 GiB walks the writer's whole page cache: a b-tree split that reorders its
        // new pages renames one of them to the page at the 1 GiB lock byte for a moment
        // (`balance_nonroot`), which leaves SQLite's cache believing it holds a page
        // beyond the end of the file, and the commit then truncates the cache by
        // scanning every hash slot and page. With 64 MiB that scan was 4.6 % of all CPU
        // time in the lifecycle benchmark; the smaller cache read no more from the
        // file (the OS keeps it; readers map it), and it bounds the idle server's memory.
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; \
         PRAGMA cache_size=-8192; PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=67108864;"
    };
    c.execute_batch(pragmas).map_err(map_err)?;
    Ok(c)
}

/// WAL pages appended between two checkpoints (SQLite's own default threshold).
pub const CHECKPOINT_PAGES: i32 = 1000;
/// WAL pages at which the writer restarts the WAL (32 MiB of 4 KiB pages).
pub const RESTART_PAGES: i32 = 8000;
/// WAL pages past which the writer waits for the checkpointer instead of growing the
/// WAL further (128,000 pages, 500 MiB).
pub const WAL_CEILING_PAGES: i32 = 16 * RESTART_PAGES;
/// How long the writer waits for readers of older frames when it restarts the WAL.
const RESTART_WAIT_MS: u32 = 3;
/// The busy timeout otherwise.
const BUSY_TIMEOUT_MS: u32 = 10_000;

/// When the writer restarts the WAL.
struct WalRestart {
    /// Frames in the WAL after the last commit (set by the WAL hook).
    wal_pages: Arc<std::sync::atomic::AtomicI32>,
    /// Frames at which to try to restart next.
    restart_at: i32,
    /// Frames past which the writer waits for the checkpointer ([`WAL_CEILING_PAGES`]).
    ceiling: i32,
    /// Held by the checkpointer while it runs a pass.
    checkpointing: Arc<Mutex<()>>,
    /// Times the writer waited for the checkpointer at the ceiling (tests watch it).
    #[cfg(test)]
    ceiling_waits: Arc<std::sync::atomic::AtomicU64>,
}

impl WalRestart {
    fn after_batch(&mut self, c: &Connection) {
        let pages = self.wal_pages.load(std::sync::atomic::Ordering::Relaxed);
        if pages < self.restart_at.min(self.ceiling) {
            if pages < RESTART_PAGES {
                self.restart_at = RESTART_PAGES;
            }
            return;
        }
        // One checkpoint at a time: below the ceiling, skip while the checkpointer is
        // in a pass; at the ceiling, wait for the pass to end.
        let guard = if pages >= self.ceiling {
            #[cfg(test)]
            self.ceiling_waits
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Some(self.checkpointing.lock().unwrap_or_else(|e| e.into_inner()))
        } else {
            self.checkpointing.try_lock().ok()
        };
        if guard.is_none() {
            self.restart_at = pages + CHECKPOINT_PAGES;
            return;
        }
        let busy = c
            .busy_timeout(std::time::Duration::from_millis(u64::from(RESTART_WAIT_MS)))
            .and_then(|()| {
                c.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0))
            });
        let _ = c.busy_timeout(std::time::Duration::from_millis(u64::from(BUSY_TIMEOUT_MS)));
        match busy {
            // The next write transaction starts the WAL over.
            Ok(0) => self.restart_at = RESTART_PAGES,
            Ok(_) | Err(_) => {
                tracing::debug!(
                    pages,
                    "WAL not restarted: readers still on it; trying later"
                );
                self.restart_at = pages + CHECKPOINT_PAGES;
            }
        }
    }
}

/// The SQLite side of a [`crate::Db`]: one writer thread (group commit), a pool of
/// read-only connections and a checkpointer.
pub struct SqliteDb {
    path: PathBuf,
    pub(crate) writer: Writer,
    readers: ReaderPool,
    /// Readers without a memory map, for the snapshots use cases decide writes on.
    deciders: ReaderPool,
    checkpointer: Checkpointer,
    /// Held by the checkpointer while it runs a pass.
    #[cfg(test)]
    checkpointing: Arc<Mutex<()>>,
    /// Times the writer waited for the checkpointer at the WAL's ceiling.
    #[cfg(test)]
    ceiling_waits: Arc<std::sync::atomic::AtomicU64>,
}

/// How much of the file plain readers memory-map.
const READER_MMAP_BYTES: i64 = 256 << 20;

/// Read-only connections kept for reuse (at most 16), all mapping as much of the file.
struct ReaderPool {
    conns: Mutex<Vec<SqliteConn>>,
    /// `PRAGMA mmap_size` of its connections; 0 for none.
    mmap_bytes: i64,
}

impl ReaderPool {
    fn new(mmap_bytes: i64) -> ReaderPool {
        ReaderPool {
            conns: Mutex::new(Vec::new()),
            mmap_bytes,
        }
    }
}

/// The thread that checkpoints the WAL when the writer's hook asks it to.
struct Checkpointer {
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Checkpointer {
    /// Hook the writer's connection and start the thread. The thread ends when the
    /// writer's connection (and with it the hook's sender) is dropped.
    fn start(
        path: &Path,
        writer: &mut Connection,
        wal_pages: Arc<std::sync::atomic::AtomicI32>,
        checkpointing: Arc<Mutex<()>>,
    ) -> Result<Checkpointer, Error> {
        let conn = open_conn(path, false)?;
        // Never checkpoint inside this connection's own commits (it commits nothing).
        conn.execute_batch("PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-1024;")
            .map_err(map_err)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
        // Ask for a checkpoint each time the WAL has grown by CHECKPOINT_PAGES since the
        // last request; a WAL that was restarted from its beginning starts over. The
        // hook replaces SQLite's automatic checkpoint on this connection.
        let mut next_at = CHECKPOINT_PAGES;
        writer
            .wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: i32| {
                wal_pages.store(pages, std::sync::atomic::Ordering::Relaxed);
                if pages < next_at - CHECKPOINT_PAGES {
                    next_at = CHECKPOINT_PAGES;
                }
                if pages >= next_at {
                    next_at = pages + CHECKPOINT_PAGES;
                    // Full means a request is already waiting: one checkpoint serves both.
                    let _ = tx.try_send(());
                }
                Ok(())
            }))
            .map_err(map_err)?;
        let thread = std::thread::Builder::new()
            .name("tb-sqlite-ckpt".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    let _pass = checkpointing.lock().unwrap_or_else(|e| e.into_inner());
                    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE);") {
                        tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
                    }
                }
                // The writer is gone: leave an empty WAL, so that the next start need
                // not read it back.
                if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);") {
                    tracing::warn!(error = %e, "final WAL checkpoint failed");
                }
            })
            .map_err(|e| Error::Store(format!("checkpointer thread: {e}")))?;
        Ok(Checkpointer {
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Wait for the thread (after the writer's connection is gone).
    fn join(&self) {
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

impl SqliteDb {
    /// Open (creating) the database file, run migrations, start the writer.
    pub fn open(path: &Path) -> Result<SqliteDb, Error> {
        SqliteDb::open_with_ceiling(path, WAL_CEILING_PAGES)
    }

    /// [`SqliteDb::open`] with another WAL ceiling (tests).
    fn open_with_ceiling(path: &Path, ceiling: i32) -> Result<SqliteDb, Error> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Store(format!("creating {}: {e}", dir.display())))?;
        }
        let mut conn = SqliteConn::new(open_conn(path, false)?);
        crate::migrate::run(&mut conn, false)?;
        let wal_pages = Arc::new(std::sync::atomic::AtomicI32::new(0));
        let checkpointing = Arc::new(Mutex::new(()));
        #[cfg(test)]
        let ceiling_waits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let checkpointer =
            Checkpointer::start(path, &mut conn.0, wal_pages.clone(), checkpointing.clone())?;
        conn.1 = Some(WalRestart {
            wal_pages,
            restart_at: RESTART_PAGES,
            ceiling,
            checkpointing: checkpointing.clone(),
            #[cfg(test)]
            ceiling_waits: ceiling_waits.clone(),
        });
        let writer = Writer::start(vec![Box::new(conn)], "BEGIN IMMEDIATE", "tb-sqlite-write")?;
        Ok(SqliteDb {
            path: path.to_path_buf(),
            writer,
            readers: ReaderPool::new(READER_MMAP_BYTES),
            deciders: ReaderPool::new(0),
            checkpointer,
            #[cfg(test)]
            checkpointing,
            #[cfg(test)]
            ceiling_waits,
        })
    }

    /// Run `f` on a reader connection inside a read transaction (a consistent snapshot).
    pub(crate) fn with_reader<R>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.with_pooled(&self.readers, f)
    }

    /// Run `f` on a snapshot to decide writes on ([`crate::Db::write_optimistic`]), on a
    /// reader without a memory map. Such snapshots follow one another as fast as the
    /// writer commits, and SQLite drops a connection's map whenever the WAL changed
    /// since its last snapshot: with a map, nearly every one began with a `munmap` of
    /// the file and its TLB shootdowns on both cores, a fifth of the lifecycle
    /// throughput. Plain reads keep the map, which serves large read-mostly work (lists,
    /// statistics, exports over millions of cases) from the OS page cache without copies.
    pub(crate) fn with_decider<R>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.with_pooled(&self.deciders, f)
    }

    fn with_pooled<R>(
        &self,
        pool: &ReaderPool,
        f: impl FnOnce(&mut dyn Conn) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let conn = pool
            .conns
            .lock()
            .map_err(|_| Error::Store("reader pool poisoned".into()))?
            .pop();
        let mut conn = match conn {
            Some(c) => c,
            None => {
                let c = open_conn(&self.path, true)?;
                if pool.mmap_bytes > 0 {
                    c.execute_batch(&format!("PRAGMA mmap_size={};", pool.mmap_bytes))
                        .map_err(map_err)?;
                }
                SqliteConn::new(c)
            }
        };
        conn.batch("BEGIN")?;
        let r = f(&mut conn);
        let end = conn.batch(if r.is_ok() { "COMMIT" } else { "ROLLBACK" });
        if end.is_ok()
            && let Ok(mut pool) = pool.conns.lock()
            && pool.len() < 16
        {
            pool.push(conn);
        }
        let r = r?;
        end?;
        Ok(r)
    }

    /// Times the writer waited for the checkpointer because the WAL had reached
    /// [`WAL_CEILING_PAGES`].
    #[cfg(test)]
    fn wal_ceiling_waits(&self) -> u64 {
        self.ceiling_waits
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Stop the writer after the jobs already queued, then the checkpointer.
    pub fn close(&self) {
        self.writer.close();
        self.checkpointer.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::ConnExt;
    use crate::writer::{Completion, WriteJob};

    /// Run `sql` in the writer (as a use case would be) and wait for the commit.
    fn write(db: &SqliteDb, sql: &'static str, rows: usize) {
        let (tx, rx) = std::sync::mpsc::channel();
        db.writer
            .submit(WriteJob::Run(Box::new(move |c: &mut dyn Conn| {
                let blob = vec![7u8; 1000];
                let ok = (0..rows).all(|_| c.execute(sql, &[Val::Bytes(&blob)]).is_ok());
                let done: Completion = Box::new(move |e| {
                    let _ = tx.send(e.is_none());
                });
                (ok, done)
            })))
            .unwrap();
        assert!(rx.recv().unwrap(), "the write committed");
    }

    /// Create the test table `blobs` through the writer.
    fn create_blobs(db: &SqliteDb) {
        let (tx, rx) = std::sync::mpsc::channel();
        db.writer
            .submit(WriteJob::Run(Box::new(move |c: &mut dyn Conn| {
                let ok = c
                    .batch("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB NOT NULL)")
                    .is_ok();
                (
                    ok,
                    Box::new(move |e: Option<&Error>| tx.send(e.is_none()).unwrap()),
                )
            })))
            .unwrap();
        assert!(rx.recv().unwrap());
    }

    fn wal_bytes(path: &Path) -> u64 {
        std::fs::metadata(format!("{}-wal", path.display()))
            .map(|m| m.len())
            .unwrap_or(0)
    }

    fn count(db: &SqliteDb) -> i64 {
        db.with_reader(|c| c.one("SELECT count(*) FROM blobs", &[], |r| r.int(0)))
            .unwrap()
    }

    #[test]
    fn snapshots_that_decide_writes_are_not_memory_mapped_and_plain_reads_are() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(&dir.path().join("t.db")).unwrap();
        let map = |c: &mut dyn Conn| c.one("PRAGMA mmap_size", &[], |r| r.int(0));
        // Twice each: once on a new connection, once on the one the pool kept.
        for _ in 0..2 {
            assert_eq!(db.with_decider(map).unwrap(), 0);
            assert!(db.with_reader(map).unwrap() > 0);
        }
    }

    const INSERT: &str = "INSERT INTO blobs (b) VALUES (?)";
    /// Pages one `write` appends, about (500 rows of 1 KB).
    const PAGES_PER_WRITE: u64 = 130;

    /// Every write the writer answered is in the files at that moment, as a process
    /// killed then would leave them: group commits from several threads through the
    /// writer's WAL buffer (`wal_vfs`), copied while the database is still open.
    #[test]
    fn every_answered_write_is_in_the_files_when_it_is_answered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = Arc::new(SqliteDb::open(&path).unwrap());
        create_blobs(&db);
        // 400 rows of 1 KB: well under a checkpoint's worth of WAL pages, so nothing
        // but the writer touches the files while they are copied.
        std::thread::scope(|s| {
            for _ in 0..8 {
                let db = db.clone();
                s.spawn(move || {
                    for _ in 0..10 {
                        write(&db, INSERT, 5);
                    }
                });
            }
        });
        let c = wal_vfs::tests::after_crash(&path, &dir.path().join("killed.db"));
        let rows: i64 = c
            .query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 400);
        wal_vfs::tests::assert_intact(&c);
        // Each commit's sync was done by the writer's sync thread, before its answer.
        let stats = db.writer.stats();
        assert!(stats.syncs > 0);
        assert_eq!(stats.syncs, stats.batches, "{stats:?}");
    }

    #[test]
    fn the_wal_starts_over_under_load_and_waits_for_a_long_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = SqliteDb::open(&path).unwrap();
        create_blobs(&db);

        // Three times the restart threshold, with reads in between: the WAL never holds
        // much more than the threshold.
        let bound = (RESTART_PAGES as u64 + 2 * CHECKPOINT_PAGES as u64 + PAGES_PER_WRITE) * 4120;
        let writes = 3 * RESTART_PAGES as u64 / PAGES_PER_WRITE;
        let mut largest = 0;
        for _ in 0..writes {
            write(&db, INSERT, 500);
            assert!(count(&db) > 0);
            largest = largest.max(wal_bytes(&path));
        }
        assert!(
            largest <= bound,
            "WAL grew to {largest} bytes (bound {bound})"
        );
        assert!(
            largest as f64 > 0.5 * RESTART_PAGES as f64 * 4096.0,
            "the WAL did fill up to near the threshold: {largest}"
        );

        // A reader that stays on its snapshot: the writer goes on (the WAL grows past the
        // threshold rather than the writer waiting), and the reader sees its snapshot.
        let mut reader = SqliteConn::new(open_conn(&path, true).unwrap());
        reader.batch("BEGIN").unwrap();
        let before = reader
            .one("SELECT count(*) FROM blobs", &[], |r| r.int(0))
            .unwrap();
        for _ in 0..writes {
            write(&db, INSERT, 500);
        }
        assert!(wal_bytes(&path) > bound, "held by the reader, the WAL grew");
        assert_eq!(
            reader
                .one("SELECT count(*) FROM blobs", &[], |r| r.int(0))
                .unwrap(),
            before
        );
        reader.batch("COMMIT").unwrap();
        drop(reader);

        // Once the reader is gone, the WAL starts over within CHECKPOINT_PAGES: new
        // frames go to its beginning, and the file is cut back to its size limit.
        let again = 2 * CHECKPOINT_PAGES as u64 / PAGES_PER_WRITE;
        for _ in 0..again {
            write(&db, INSERT, 500);
        }
        assert!(
            wal_bytes(&path) <= 64 << 20,
            "WAL cut back: {}",
            wal_bytes(&path)
        );
        let total = count(&db);
        assert_eq!(total, (2 * writes + again) as i64 * 500);
        db.close();
        drop(db);
        assert_eq!(wal_bytes(&path), 0, "closing leaves an empty WAL");

        // Everything acknowledged is in the database file.
        let c = open_conn(&path, true).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, total);
    }

    #[test]
    fn a_writer_that_outruns_the_checkpoints_waits_at_the_ceiling() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let ceiling = 3 * RESTART_PAGES;
        let db = SqliteDb::open_with_ceiling(&path, ceiling).unwrap();
        create_blobs(&db);

        // A checkpoint pass that does not end (as one over a large file under a bulk
        // load): the writer cannot restart the WAL, which grows past the restart
        // threshold, until it reaches the ceiling; there the writer waits.
        let pass = db.checkpointing.lock().unwrap();
        let writes = 2 * ceiling as u64 / PAGES_PER_WRITE;
        let bound = (ceiling as u64 + 2 * PAGES_PER_WRITE) * 4120;
        std::thread::scope(|s| {
            let load = s.spawn(|| {
                for _ in 0..writes {
                    write(&db, INSERT, 500);
                }
            });
            while db.wal_ceiling_waits() == 0 {
                assert!(
                    !load.is_finished(),
                    "all writes done without waiting; WAL {} bytes",
                    wal_bytes(&path)
                );
                std::thread::yield_now();
            }
            let held = wal_bytes(&path);
            assert!(
                held > (2 * RESTART_PAGES as u64) * 4096,
                "the WAL grew past the restart threshold: {held}"
            );
            assert!(
                held <= bound,
                "WAL {held} bytes at the ceiling (bound {bound})"
            );
            // The pass ends: the writer restarts the WAL and the load goes on.
            drop(pass);
            load.join().unwrap();
        });
        assert!(
            wal_bytes(&path) <= bound,
            "after the ceiling the WAL starts over: {}",
            wal_bytes(&path)
        );
        assert_eq!(count(&db), writes as i64 * 500);
    }
}

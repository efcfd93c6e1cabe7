//! Tongban's persistence: the store contract of `tongban-core` ([`tongban_core::store::Tx`])
//! in one SQL code path, over embedded SQLite (the default) or PostgreSQL, chosen by
//! the database URL.
//!
//! [`Db::write`] runs a use case in a write transaction and answers only after the
//! commit; [`Db::read`] runs one on a read-only snapshot. Both run the synchronous use
//! case on a blocking thread so that the async server never waits on the database.

pub mod conn;
pub mod migrate;
pub mod postgres;
mod readers;
pub mod sql;
pub mod sqlite;
pub mod tx;
pub mod writer;

#[cfg(feature = "testing")]
pub mod testing;

use std::path::PathBuf;
use std::sync::Arc;

use tongban_core::store::Tx;
use tongban_core::{Error, Result};

pub use conn::Backend;
pub use tx::SqlTx;

use sqlite::SqliteDb;
use tx::{BundleCache, CaseCache, SpecCache};
use writer::{Completion, WriteJob};

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string.
    Postgres(String),
}

impl DbUrl {
    /// Parse `sqlite://path`, `sqlite:path`, a bare path, or `postgres://…` / `postgresql://…`.
    pub fn parse(url: &str) -> Result<DbUrl> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(Error::field(
                "database_url",
                "数据库地址须为 sqlite://文件路径 或 postgres://…",
            ));
        }
        Ok(DbUrl::Sqlite(PathBuf::from(path)))
    }
}

/// How to open a database.
#[derive(Debug, Clone)]
pub struct Options {
    /// PostgreSQL connections per server.
    pub pool_size: usize,
    /// For PostgreSQL-compatible distributed engines: no table lock in migrations, no
    /// `COLLATE "C"` in the DDL.
    pub portable_sql: bool,
    /// PostgreSQL writer threads (each group-commits the writes it gathers; while one
    /// commits, the next batch runs). The first runs the use cases and replays, the
    /// others replays only (see [`writer`]: why use cases stay on one thread).
    pub pg_writers: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pool_size: 16,
            portable_sql: false,
            pg_writers: 2,
        }
    }
}

enum Kind {
    Sqlite(SqliteDb),
    Postgres {
        pool: Arc<postgres::PgPool>,
        /// One thread per pooled connection, for the synchronous use cases.
        readers: readers::Readers,
        writer: writer::Writer,
    },
}

struct Inner {
    kind: Kind,
    /// Published item versions never change: their content is kept once read.
    specs: SpecCache,
    /// Cases as last saved here, decoded.
    cases: CaseCache,
    /// Bundle membership of cases, as committed.
    bundles: BundleCache,
    /// Case-number serials claimed in blocks and committed (PostgreSQL).
    serials: tx::SerialBlocks,
    /// Optimistic decisions made without the database, and on a snapshot.
    decided_offline: std::sync::atomic::AtomicU64,
    decided_on_snapshot: std::sync::atomic::AtomicU64,
    /// Where tests hold replays between their decision and their commit.
    #[cfg(feature = "testing")]
    gate: testing::ReplayGate,
}

/// How the optimistic decisions so far were made ([`Db::decision_stats`]). One call may
/// count in both: a refusal made offline on a kept copy that turns out stale is made
/// again on a snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct DecisionStats {
    /// Without the database: on a case this server keeps, reading nothing.
    pub offline: u64,
    /// On a snapshot (the decision wanted to read, or was made again).
    pub on_snapshot: u64,
}

/// The database: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

impl Db {
    /// Open the database, creating and migrating it as needed.
    pub fn open(url: &DbUrl) -> Result<Db> {
        Db::open_with(url, &Options::default())
    }

    /// Open with options.
    pub fn open_with(url: &DbUrl, o: &Options) -> Result<Db> {
        let kind = match url {
            DbUrl::Sqlite(path) => Kind::Sqlite(SqliteDb::open(path)?),
            DbUrl::Postgres(u) => off_runtime(|| {
                let pool = postgres::PgPool::open(u, o.pool_size, o.portable_sql)?;
                let conns = (0..o.pg_writers.max(1))
                    .map(|_| {
                        pool.connect()
                            .map(|c| Box::new(c) as Box<dyn conn::Conn + Send>)
                    })
                    .collect::<Result<Vec<_>>>()?;
                let writer = writer::Writer::start(conns, "BEGIN", "tb-pg-write")?;
                let readers = readers::Readers::start(o.pool_size, "tb-pg-read")?;
                Ok::<_, Error>(Kind::Postgres {
                    pool,
                    readers,
                    writer,
                })
            })?,
        };
        Ok(Db {
            inner: Arc::new(Inner {
                kind,
                specs: SpecCache::default(),
                cases: CaseCache::default(),
                bundles: BundleCache::default(),
                serials: tx::SerialBlocks::default(),
                decided_offline: Default::default(),
                decided_on_snapshot: Default::default(),
                #[cfg(feature = "testing")]
                gate: Default::default(),
            }),
        })
    }

    /// Which backend.
    pub fn backend(&self) -> Backend {
        match &self.inner.kind {
            Kind::Sqlite(_) => Backend::Sqlite,
            Kind::Postgres { .. } => Backend::Postgres,
        }
    }

    fn submit<R, F>(&self, f: F, reply: impl FnOnce(Result<R>) + Send + 'static) -> Result<()>
    where
        F: FnOnce(&mut dyn Tx) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let job = write_job(self.inner.clone(), f, reply);
        match &self.inner.kind {
            Kind::Sqlite(db) => db.writer.submit(job),
            Kind::Postgres { writer, .. } => writer.submit(job),
        }
    }

    /// Run `f` in a write transaction (with other writes, group-committed). Its result
    /// is returned once the transaction is durably committed; if `f` fails, nothing it
    /// wrote remains.
    pub async fn write<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&mut dyn Tx) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(f, move |r| {
            let _ = tx.send(r);
        })?;
        rx.await
            .map_err(|_| Error::Store("the write was not carried out".into()))?
    }

    /// Run `f` optimistically: off the writer, keeping its writes — first without the
    /// database at all (see [`Inner::record_offline`]; it succeeds when `f` reads
    /// nothing it has not kept), else on a read snapshot — then run just those writes
    /// in the writer's (group-committed) transaction. A
    /// write that must change exactly one row (a case saved at the version it was read
    /// at) and does not means someone changed it meanwhile: `f` runs again on a fresh
    /// snapshot, up to three times. The result is returned once the writes are durably
    /// committed.
    ///
    /// `f` must not read what it wrote, nor write with `RETURNING` (such a write is
    /// refused). Moving the reading, the rules and the serializing out of the writer is
    /// what lets one writer keep up with many requests.
    pub async fn write_optimistic<R, F>(&self, f: F) -> Result<R>
    where
        F: Fn(&mut dyn Tx) -> Result<R> + Send + Sync + 'static,
        R: Send + 'static,
    {
        let f = Arc::new(f);
        let mut attempt = 0;
        // The first decision may take the case it saves from the cache unchecked; should
        // it fail, it is decided again on what the database holds.
        let mut trust = true;
        loop {
            let (inner, g) = (self.inner.clone(), f.clone());
            // First without the database. If the decision wants to read, it is made
            // again on a snapshot, as before; if it refuses on a kept copy, that copy's
            // version is checked on a snapshot before the refusal is answered.
            let offline = if trust {
                inner.record_offline(|tx| g(tx))
            } else {
                None
            };
            let decided = match (offline, &inner.kind) {
                (Some(Offline::Decided(d)), _) => Ok(d),
                (Some(Offline::Refused(e, trusted)), _) if trusted.is_empty() => {
                    Ok(Recorded::Failed(e, false))
                }
                (Some(Offline::Refused(e, trusted)), Kind::Sqlite(_)) => inner
                    .stale_now(&trusted)
                    .map(|stale| Recorded::Failed(e, stale)),
                (Some(Offline::Refused(e, trusted)), Kind::Postgres { readers, .. }) => {
                    let on = inner.clone();
                    readers
                        .run(move || {
                            on.stale_now(&trusted)
                                .map(|stale| Recorded::Failed(e, stale))
                        })
                        .await?
                }
                (None, Kind::Sqlite(_)) => inner.record(trust, |tx| g(tx)),
                (None, Kind::Postgres { readers, .. }) => {
                    let on = inner.clone();
                    readers.run(move || on.record(trust, |tx| g(tx))).await?
                }
            };
            let (r, writes, saved, trusted) = match decided {
                Ok(Recorded::Decided(r, writes, saved, trusted)) => (r, writes, saved, trusted),
                Ok(Recorded::Failed(e, stale)) => {
                    if stale {
                        trust = false;
                        continue;
                    }
                    return Err(e);
                }
                Err(e) => return Err(e),
            };
            match self.replay(writes).await {
                Ok(()) => {
                    self.inner.cases.put(saved);
                    return Ok(r);
                }
                // A guard that failed on an unchecked copy is the copy's doing, not a
                // race with another writer: it does not count as an attempt.
                Err(Error::Conflict(_)) if trusted => trust = false,
                Err(Error::Conflict(_)) if attempt < 2 => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Run `f`, which only adds rows (收件: a new case, its event, its statistics),
    /// as a replay when it can be decided without the database: it reads nothing (the
    /// item and the applicant were read beforehand, on a snapshot) and the case-number
    /// serial it takes is one this server holds ([`tx::SerialBlocks`]). Its inserts then
    /// join the writer's group of appends, on either writer, instead of running alone
    /// in the first writer and waiting there on a round trip of their own. Otherwise —
    /// it wants to read, the server holds no serial, or it fails — it runs in the
    /// writer as [`Db::write`] runs it, and the writer decides (a serial taken off the
    /// writer by a decision that then goes to the writer is not used: a gap). SQLite:
    /// always [`Db::write`], where the same work costs microseconds.
    pub async fn write_inserts<R, F>(&self, f: F) -> Result<R>
    where
        F: Fn(&mut dyn Tx) -> Result<R> + Send + Sync + 'static,
        R: Send + 'static,
    {
        if let Kind::Postgres { .. } = &self.inner.kind
            && let Some(d) = self.inner.decide_inserts(&f)
        {
            self.replay(d.writes).await?;
            self.inner.cases.put(d.saved);
            self.inner.bundles.put_all(&d.filed);
            return d.result;
        }
        self.write(move |tx| f(tx)).await
    }

    /// Replay recorded writes in a writer's transaction; `Ok` once they are committed.
    async fn replay(&self, writes: Vec<conn::Recorded>) -> Result<()> {
        #[cfg(feature = "testing")]
        self.inner.gate.pass().await;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = WriteJob::Replay {
            writes,
            reply: Box::new(move |r| {
                let _ = tx.send(r);
            }),
        };
        match &self.inner.kind {
            Kind::Sqlite(db) => db.writer.submit(job)?,
            Kind::Postgres { writer, .. } => writer.submit(job)?,
        }
        rx.await
            .map_err(|_| Error::Store("the write was not carried out".into()))?
    }

    /// Run `f` on a read-only snapshot.
    pub async fn read<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&mut dyn Tx) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let inner = self.inner.clone();
        match &inner.kind {
            // SQLite reads take microseconds: run them here rather than pay for a hop to
            // a blocking thread and back.
            Kind::Sqlite(_) => inner.read_blocking(f),
            Kind::Postgres { readers, .. } => {
                let on = inner.clone();
                readers.run(move || on.read_blocking(f)).await?
            }
        }
    }

    /// Run `f` on a read-only snapshot, blocking this thread (start-up, commands, tests).
    pub fn read_blocking<R: Send>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<R> + Send,
    ) -> Result<R> {
        off_runtime(|| self.inner.read_blocking(f))
    }

    /// Run `f` in a write transaction, blocking this thread until it commits.
    pub fn write_blocking<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&mut dyn Tx) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        self.submit(f, move |r| {
            let _ = tx.send(r);
        })?;
        rx.recv()
            .map_err(|_| Error::Store("the write was not carried out".into()))?
    }

    /// Run raw SQL on a read snapshot (tests and diagnostics only).
    #[cfg(feature = "testing")]
    pub fn read_raw<R: Send>(
        &self,
        f: impl FnOnce(&mut dyn conn::Conn) -> Result<R> + Send,
    ) -> Result<R> {
        off_runtime(|| match &self.inner.kind {
            Kind::Sqlite(db) => db.with_reader(f),
            Kind::Postgres { pool, .. } => pool.run(true, f),
        })
    }

    /// Hold every replay (the writes of a decision made off the writer) before it
    /// reaches a writer, until the guard is dropped: tests use it to act between a
    /// decision and its commit.
    #[cfg(feature = "testing")]
    pub async fn hold_replays(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        self.inner.gate.hold().await
    }

    /// Replays waiting at the gate [`Db::hold_replays`] closed.
    #[cfg(feature = "testing")]
    pub fn replays_held(&self) -> usize {
        self.inner.gate.waiting()
    }

    /// How the optimistic decisions so far were made.
    pub fn decision_stats(&self) -> DecisionStats {
        use std::sync::atomic::Ordering::Relaxed;
        DecisionStats {
            offline: self.inner.decided_offline.load(Relaxed),
            on_snapshot: self.inner.decided_on_snapshot.load(Relaxed),
        }
    }

    /// What the writers have done so far.
    pub fn writer_stats(&self) -> writer::WriterStats {
        match &self.inner.kind {
            Kind::Sqlite(db) => db.writer.stats(),
            Kind::Postgres { writer, .. } => writer.stats(),
        }
    }

    /// Stop the writers after queued work.
    pub fn close(&self) {
        match &self.inner.kind {
            Kind::Sqlite(db) => db.close(),
            Kind::Postgres {
                readers, writer, ..
            } => {
                readers.close();
                off_runtime(|| writer.close())
            }
        }
    }
}

/// Run blocking database work so that it may be called from anywhere: from inside an
/// async runtime it moves to a plain thread, because the synchronous PostgreSQL client
/// refuses to block a thread that drives async tasks.
pub(crate) fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| {
            s.spawn(f)
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    } else {
        f()
    }
}

/// Wrap a use case as a job for a writer: run it, and `reply` with its result once the
/// commit's outcome is known (a success whose commit failed becomes an error).
fn write_job<R, F>(
    inner: Arc<Inner>,
    f: F,
    reply: impl FnOnce(Result<R>) + Send + 'static,
) -> WriteJob
where
    F: FnOnce(&mut dyn Tx) -> Result<R> + Send + 'static,
    R: Send + 'static,
{
    WriteJob::Run(Box::new(move |conn| {
        let mut tx = SqlTx::with_cases(conn, &inner.specs, &inner.cases);
        if matches!(inner.kind, Kind::Postgres { .. }) {
            tx = tx.taking_serials(&inner.serials);
        }
        let r = f(&mut tx);
        let saved = std::mem::take(&mut tx.saved);
        let filed = std::mem::take(&mut tx.filed);
        let claimed = std::mem::take(&mut tx.claimed);
        // What the use case appended may still be held back: its failure is the use
        // case's.
        let r = match (r, conn.flush()) {
            (Ok(_), Err(e)) => Err(e),
            (r, _) => r,
        };
        let ok = r.is_ok();
        let completion: Completion = Box::new(move |commit_err| {
            let committed = ok && commit_err.is_none();
            if committed {
                inner.cases.put(saved);
                inner.bundles.put_all(&filed);
            }
            inner.serials.resolve(claimed, committed);
            reply(match (r, commit_err) {
                (Ok(_), Some(e)) => Err(Error::Store(format!("commit failed: {e}"))),
                (r, _) => r,
            })
        });
        (ok, completion)
    }))
}

/// What a decision made ([`Inner::decide`]): its result, the writes it kept, the cases
/// they save, the kept cases it was handed unchecked (id, version), and the cases it
/// filed (for the caches once committed).
struct Decision<R> {
    result: Result<R>,
    writes: Vec<conn::Recorded>,
    saved: Vec<tx::Saved>,
    trusted: Vec<(i64, i64)>,
    filed: Vec<(i64, Option<i64>)>,
}

/// A decision made without the database ([`Inner::record_offline`]).
enum Offline<R> {
    /// It succeeded.
    Decided(Recorded<R>),
    /// It failed, having been handed these kept cases unchecked (id, version): the
    /// failure stands if none has moved since.
    Refused(Error, Vec<(i64, i64)>),
}

/// A decision on a snapshot ([`Inner::record`]).
enum Recorded<R> {
    /// Its result, the writes to replay, the cases they save, and whether it was
    /// handed a kept case unchecked.
    Decided(R, Vec<conn::Recorded>, Vec<tx::Saved>, bool),
    /// It failed; true when it had been handed a kept case unchecked that was out of
    /// date (the failure may be the stale copy's doing).
    Failed(Error, bool),
}

impl Inner {
    /// Decide `f` on a snapshot, keeping its writes. `trust`: the case it saves may
    /// come from the cache unchecked.
    fn record<R>(&self, trust: bool, f: impl Fn(&mut dyn Tx) -> Result<R>) -> Result<Recorded<R>> {
        self.decided_on_snapshot
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match &self.kind {
            Kind::Sqlite(db) => db.with_decider(|c| self.record_on(c, trust, &f)),
            Kind::Postgres { pool, .. } => pool.run(true, |c| self.record_on(c, trust, &f)),
        }
    }

    /// `f` decided without the database, on the caller's thread. An action on a case
    /// this server keeps, under an item version it has read before, reads nothing: it
    /// needs no snapshot, and on PostgreSQL no hop to a reader thread and back. Trusts
    /// the kept case as the first decision does. `None` if it wanted to read.
    fn record_offline<R>(&self, f: impl Fn(&mut dyn Tx) -> Result<R>) -> Option<Offline<R>> {
        let backend = match &self.kind {
            Kind::Sqlite(_) => Backend::Sqlite,
            Kind::Postgres { .. } => Backend::Postgres,
        };
        let mut none = conn::Offline::new(backend);
        // On the caller's thread, which is an async worker: a panicking use case is
        // decided again on a snapshot, where the reader threads catch it.
        let d = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.decide(&mut none, true, None, f)
        }))
        .ok()?;
        if none.wanted {
            return None;
        }
        self.decided_offline
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(match d.result {
            Ok(r) => Offline::Decided(Recorded::Decided(
                r,
                d.writes,
                d.saved,
                !d.trusted.is_empty(),
            )),
            Err(e) => Offline::Refused(e, d.trusted),
        })
    }

    /// [`Db::write_inserts`]'s decision: `f` without the database and with only the
    /// serials this server holds; `None` unless it succeeded reading nothing.
    fn decide_inserts<R>(&self, f: impl Fn(&mut dyn Tx) -> Result<R>) -> Option<Decision<R>> {
        let mut none = conn::Offline::new(Backend::Postgres);
        let d = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.decide(&mut none, false, Some(&self.serials), f)
        }))
        .ok()?;
        if none.wanted || d.result.is_err() {
            return None;
        }
        self.decided_offline
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(d)
    }

    /// Run `f` over `c`, keeping its writes rather than making them. With `serials`, a
    /// case-number serial comes only from those this server holds (none is claimed).
    fn decide<R>(
        &self,
        c: &mut dyn conn::Conn,
        trust: bool,
        serials: Option<&tx::SerialBlocks>,
        f: impl Fn(&mut dyn Tx) -> Result<R>,
    ) -> Decision<R> {
        let mut rec = conn::RecordingConn::new(c);
        let mut tx =
            SqlTx::with_cases(&mut rec, &self.specs, &self.cases).reading_committed(&self.bundles);
        if let Some(s) = serials {
            tx = tx.taking_serials(s);
            tx.may_claim = false;
        }
        tx.trust_kept = trust;
        let result = f(&mut tx);
        let (trusted, saved, filed) = (
            std::mem::take(&mut tx.trusted),
            std::mem::take(&mut tx.saved),
            std::mem::take(&mut tx.filed),
        );
        Decision {
            result,
            writes: rec.writes,
            saved,
            trusted,
            filed,
        }
    }

    /// Whether any of the cases handed out unchecked (id, version) has moved since.
    fn stale(c: &mut dyn conn::Conn, trusted: &[(i64, i64)]) -> Result<bool> {
        let mut stale = false;
        for &(id, version) in trusted {
            stale |= conn::ConnExt::opt(
                c,
                "SELECT version FROM cases WHERE id = ?",
                &[id.into()],
                |r| r.int(0),
            )? != Some(version);
        }
        Ok(stale)
    }

    /// [`Inner::stale`] on a snapshot.
    fn stale_now(&self, trusted: &[(i64, i64)]) -> Result<bool> {
        match &self.kind {
            Kind::Sqlite(db) => db.with_decider(|c| Self::stale(c, trusted)),
            Kind::Postgres { pool, .. } => pool.run(true, |c| Self::stale(c, trusted)),
        }
    }

    /// `f` decided on the snapshot `c` is in.
    fn record_on<R>(
        &self,
        c: &mut dyn conn::Conn,
        trust: bool,
        f: impl Fn(&mut dyn Tx) -> Result<R>,
    ) -> Result<Recorded<R>> {
        let d = self.decide(c, trust, None, f);
        Ok(match d.result {
            Ok(r) => Recorded::Decided(r, d.writes, d.saved, !d.trusted.is_empty()),
            // A failure on an unchecked copy stands if the copy was current.
            Err(e) => Recorded::Failed(e, Self::stale(c, &d.trusted)?),
        })
    }

    fn read_blocking<R>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<R>) -> Result<R> {
        match &self.kind {
            Kind::Sqlite(db) => db.with_reader(|c| {
                f(&mut SqlTx::with_cases(c, &self.specs, &self.cases)
                    .reading_committed(&self.bundles))
            }),
            Kind::Postgres { pool, .. } => pool.run(true, |c| {
                f(&mut SqlTx::with_cases(c, &self.specs, &self.cases)
                    .reading_committed(&self.bundles))
            }),
        }
    }
}

//! Group commit: writer threads that gather concurrent use cases into one transaction.
//!
//! Each writer thread owns one connection. It takes every job waiting (up to
//! [`MAX_BATCH`]), runs them in one transaction, commits once, and only then answers
//! each job: a success answered is a success on disk. One commit (one fsync) is shared
//! by the whole batch, which is where the write rate comes from. A failing job rolls
//! back alone; the others still commit.
//!
//! A connection may commit without waiting for the disk and hand back the sync it owes
//! ([`Conn::commit`]; SQLite's writer does). The writer's sync thread ([`Syncer`]) then
//! syncs and answers the batch, while the writer goes on: the jobs that arrive
//! meanwhile run in its next transaction, which it commits only once that sync is over.
//! So one sync is under way at a time, each for everything that gathered during the one
//! before, and the writer's work overlaps the disk's wait instead of following it. A
//! commit is visible to readers from the moment it is written, up to one sync before it
//! is durable and answered: a request answered never depends on one that is not (its
//! own commit comes later, and a sync covers every write before it). If a sync fails,
//! its jobs are told so and the writer takes no new job.
//!
//! Two kinds of job:
//! - a use case run here ([`WriteJob::Run`]), inside its own `SAVEPOINT`;
//! - writes decided elsewhere, on a snapshot or without the database, and replayed here
//!   ([`WriteJob::Replay`], see [`crate::Db::write_optimistic`] and, for 收件 on
//!   PostgreSQL, [`crate::Db::write_inserts`]). Because they are data, the replays of a
//!   batch are run together ([`group`]): every job's version guard first (pipelined on
//!   PostgreSQL; a receipt has none), then the appends of the jobs whose guard held as
//!   one multi-row `INSERT` per table, all under one savepoint. Should anything but a
//!   guard fail, the group is rolled back and its jobs are replayed again one by one,
//!   each in its own savepoint, so the failing one fails alone.
//!
//! SQLite has one writer thread (SQLite allows one writer anyway); PostgreSQL has two
//! per server by default, so that one batch runs while the other commits. Use cases
//! (`Run`) go to the first writer only: they lock rows every writer would want (the
//! day's case-number serial of a region, the hotline's serial, rating rollups) in the
//! order their code happens to, and two batches holding such rows in opposite orders
//! would deadlock. Replays go to any writer: they lock only the rows they guard (and
//! rows they add, which no one else has yet), and a group takes those in one fixed order
//! ([`group`]). Jobs on the same case in two
//! batches are ordered by the row lock and the case's version check.

mod group;

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};

use tongban_core::Error;

use crate::conn::{Conn, OwedSync, Recorded};

/// Jobs gathered into one transaction at most.
pub const MAX_BATCH: usize = 256;

/// How long a writer waits with nothing to do before it gives back its connection's
/// spare memory ([`Conn::release_memory`]), once per quiet spell.
pub const IDLE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// A use case run inside the writer's transaction: it returns whether it succeeded and
/// how to answer once the commit's outcome is known.
pub(crate) type RunJob = Box<dyn FnOnce(&mut dyn Conn) -> (bool, Completion) + Send>;
/// Answers a job: called with the commit error, if the commit failed.
pub(crate) type Completion = Box<dyn FnOnce(Option<&Error>) + Send>;
/// Answers a replayed job with its outcome, once the commit's outcome is known.
pub(crate) type ReplyFn = Box<dyn FnOnce(Result<(), Error>) + Send>;

/// What a writer runs.
pub(crate) enum WriteJob {
    /// A use case, run in the writer.
    Run(RunJob),
    /// Writes recorded on a snapshot, to be replayed here.
    Replay {
        /// The writes, in the order the use case made them.
        writes: Vec<Recorded>,
        /// Told the outcome after the commit.
        reply: ReplyFn,
    },
}

/// Writer threads and the queue that feeds them.
pub struct Writer {
    queue: Arc<Queue>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    stats: Arc<Counters>,
}

/// What the writers have done (for benchmarks and diagnostics).
#[derive(Debug, Default)]
pub struct Counters {
    /// Transactions committed (or attempted).
    pub batches: std::sync::atomic::AtomicU64,
    /// Jobs run.
    pub jobs: std::sync::atomic::AtomicU64,
    /// Microseconds spent committing.
    pub commit_us: std::sync::atomic::AtomicU64,
    /// Microseconds spent running jobs.
    pub run_us: std::sync::atomic::AtomicU64,
    /// Microseconds the writers' sync threads spent making commits durable (while the
    /// writer ran the next jobs).
    pub sync_us: std::sync::atomic::AtomicU64,
    /// Commits synced on the sync threads.
    pub syncs: std::sync::atomic::AtomicU64,
    /// Groups whose case saves went as one statement (PostgreSQL).
    pub saves_at_once: std::sync::atomic::AtomicU64,
    /// Groups whose saves in one statement fell short (a case moved) and ran guard by
    /// guard.
    pub saves_fell_short: std::sync::atomic::AtomicU64,
    /// Groups rolled back and replayed job by job (a statement failed).
    pub groups_one_by_one: std::sync::atomic::AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct WriterStats {
    /// Transactions.
    pub batches: u64,
    /// Jobs.
    pub jobs: u64,
    /// Time committing, µs.
    pub commit_us: u64,
    /// Time running jobs, µs.
    pub run_us: u64,
    /// Time syncing commits on the sync thread, µs (SQLite).
    pub sync_us: u64,
    /// Commits synced there.
    pub syncs: u64,
    /// Jobs waiting for a writer now.
    pub queued: u64,
    /// Groups whose case saves went as one statement (PostgreSQL).
    pub saves_at_once: u64,
    /// Of those tried so, groups that fell short (a case had moved) and ran guard by guard.
    pub saves_fell_short: u64,
    /// Groups rolled back and replayed job by job (a statement other than a guard failed).
    pub groups_one_by_one: u64,
}

impl Writer {
    /// Start one writer thread per connection; `begin` opens a write transaction.
    pub fn start(
        conns: Vec<Box<dyn Conn + Send>>,
        begin: &'static str,
        name: &str,
    ) -> Result<Writer, Error> {
        Self::start_idle_after(conns, begin, name, IDLE_AFTER)
    }

    fn start_idle_after(
        conns: Vec<Box<dyn Conn + Send>>,
        begin: &'static str,
        name: &str,
        idle_after: std::time::Duration,
    ) -> Result<Writer, Error> {
        let queue = Arc::new(Queue {
            idle_after,
            ..Queue::default()
        });
        let stats = Arc::new(Counters::default());
        let mut threads = Vec::new();
        let alone = conns.len() == 1;
        for (i, mut conn) in conns.into_iter().enumerate() {
            let queue = queue.clone();
            let stats = stats.clone();
            let name = name.to_string();
            // The first writer runs the use cases (and replays); the others replays only.
            let role = match (i, alone) {
                (0, true) => Role::Only,
                (0, false) => Role::First,
                _ => Role::Other,
            };
            threads.push(
                std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn(move || {
                        // However the first writer ends, nothing is queued for it after.
                        let _gone = (role != Role::Other).then(|| FirstGone(queue.clone()));
                        // Declared after `_gone`, so dropped before it: what is owed is
                        // synced and answered first.
                        let mut syncer =
                            Syncer::new(format!("{name}-{i}-sync"), queue.clone(), stats.clone());
                        let mut worked = false;
                        while let Some(next) = queue.next_batch(role, worked) {
                            match next {
                                Next::Batch(batch) => {
                                    run_batch(
                                        conn.as_mut(),
                                        begin,
                                        batch,
                                        &stats,
                                        role,
                                        &mut syncer,
                                    );
                                    worked = true;
                                }
                                Next::Idle => {
                                    conn.release_memory();
                                    worked = false;
                                }
                            }
                        }
                    })
                    .map_err(|e| Error::Store(format!("writer thread: {e}")))?,
            );
        }
        Ok(Writer {
            queue,
            threads: Mutex::new(threads),
            stats,
        })
    }

    /// Queue a job.
    pub(crate) fn submit(&self, job: WriteJob) -> Result<(), Error> {
        self.queue.push(job)
    }

    /// What the writers have done so far.
    pub fn stats(&self) -> WriterStats {
        use std::sync::atomic::Ordering::Relaxed;
        WriterStats {
            batches: self.stats.batches.load(Relaxed),
            jobs: self.stats.jobs.load(Relaxed),
            commit_us: self.stats.commit_us.load(Relaxed),
            run_us: self.stats.run_us.load(Relaxed),
            sync_us: self.stats.sync_us.load(Relaxed),
            syncs: self.stats.syncs.load(Relaxed),
            saves_at_once: self.stats.saves_at_once.load(Relaxed),
            saves_fell_short: self.stats.saves_fell_short.load(Relaxed),
            groups_one_by_one: self.stats.groups_one_by_one.load(Relaxed),
            queued: self
                .queue
                .state
                .lock()
                .map(|w| (w.runs.len() + w.replays.len()) as u64)
                .unwrap_or(0),
        }
    }

    /// Stop after the jobs already queued.
    pub fn close(&self) {
        self.queue.close();
        let threads = self
            .threads
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.close();
    }
}

/// What a writer does next.
enum Next {
    /// Run these jobs in one transaction.
    Batch(Vec<WriteJob>),
    /// Nothing came for [`IDLE_AFTER`] since the last batch: give memory back.
    Idle,
}

/// Which jobs a writer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The only writer: everything, use cases first, in one batch.
    Only,
    /// The first of several: use cases while any wait, else replays.
    First,
    /// Another: replays that run as a group.
    Other,
}

/// Marks the first writer gone when its thread ends (also by a panic), so that what
/// only it could run is refused instead of waiting for ever.
struct FirstGone(Arc<Queue>);

impl Drop for FirstGone {
    fn drop(&mut self) {
        let left = match self.0.state.lock() {
            Ok(mut w) => {
                w.first_gone = true;
                std::mem::take(&mut w.runs)
            }
            Err(_) => VecDeque::new(),
        };
        // Dropped unrun: each caller sees that its job was not done.
        drop(left);
    }
}

/// The jobs waiting for a writer: for the first writer only (use cases, and replays
/// that do not run as a group: they lock rows in the order they were decided), and for
/// any.
#[derive(Default)]
struct Queue {
    state: Mutex<Waiting>,
    ready: Condvar,
    /// [`IDLE_AFTER`], but for tests.
    idle_after: std::time::Duration,
}

#[derive(Default)]
struct Waiting {
    runs: VecDeque<WriteJob>,
    replays: VecDeque<WriteJob>,
    closed: bool,
    first_gone: bool,
    /// Writers waiting for a job: a push wakes them only if there are any (under load
    /// none waits, and a wake-up is a system call).
    idle: usize,
}

impl Waiting {
    /// Whether a job a writer in `role` runs is waiting.
    fn has_work(&self, role: Role) -> bool {
        !self.replays.is_empty() || (role != Role::Other && !self.runs.is_empty())
    }
}

impl Queue {
    fn push(&self, job: WriteJob) -> Result<(), Error> {
        let mut w = self
            .state
            .lock()
            .map_err(|_| Error::Store("writer lock poisoned".into()))?;
        if w.closed {
            return Err(Error::Store("the database is closed".into()));
        }
        let first_only = match &job {
            WriteJob::Run(_) => true,
            WriteJob::Replay { writes, .. } => !group::groupable(writes),
        };
        if first_only {
            if w.first_gone {
                return Err(Error::Store("the writer has stopped".into()));
            }
            w.runs.push_back(job);
        } else {
            w.replays.push_back(job);
        }
        let wake = w.idle > 0;
        drop(w);
        if wake {
            self.ready.notify_all();
        }
        Ok(())
    }

    fn close(&self) {
        if let Ok(mut w) = self.state.lock() {
            w.closed = true;
        }
        self.ready.notify_all();
    }

    /// Wait for a job this writer runs, then take every other such job already
    /// waiting, up to [`MAX_BATCH`]. None once closed and drained. A writer that has
    /// `worked` since it last gave memory back is told [`Next::Idle`] after waiting
    /// [`IDLE_AFTER`] in vain.
    fn next_batch(&self, role: Role, worked: bool) -> Option<Next> {
        let mut w = self.state.lock().ok()?;
        let mut waited = std::time::Duration::ZERO;
        loop {
            if w.has_work(role) {
                break;
            }
            // Closed: done once nothing this writer could take is left (use cases
            // left for the first writer are its to drain).
            if w.closed {
                return None;
            }
            w.idle += 1;
            if worked {
                if waited >= self.idle_after {
                    w.idle -= 1;
                    return Some(Next::Idle);
                }
                let t = std::time::Instant::now();
                w = self
                    .ready
                    .wait_timeout(w, self.idle_after.saturating_sub(waited))
                    .ok()?
                    .0;
                waited += t.elapsed();
            } else {
                w = self.ready.wait(w).ok()?;
            }
            w.idle -= 1;
        }
        Some(Next::Batch(take(&mut w, role, MAX_BATCH)))
    }

    /// While `syncing` (the writer's last commit is being synced), wait for more jobs
    /// this writer runs and take up to `max` of them into the transaction it holds
    /// open; None once the sync is done (time to commit), or when closed and drained.
    fn more_while(&self, role: Role, syncing: &AtomicBool, max: usize) -> Option<Vec<WriteJob>> {
        let mut w = self.state.lock().ok()?;
        loop {
            if w.has_work(role) {
                return Some(take(&mut w, role, max));
            }
            if w.closed || !syncing.load(Ordering::Acquire) {
                return None;
            }
            w.idle += 1;
            w = self.ready.wait(w).ok()?;
            w.idle -= 1;
        }
    }

    /// Wait until `syncing` is over (the sync thread wakes the writers when it is).
    fn wait_while(&self, syncing: &AtomicBool) {
        let Ok(mut w) = self.state.lock() else {
            return;
        };
        while syncing.load(Ordering::Acquire) {
            w = match self.ready.wait(w) {
                Ok(w) => w,
                Err(_) => return,
            };
        }
    }

    /// Wake the writers (a sync ended). Under the lock, so that a writer that has just
    /// seen the sync under way is already waiting when told.
    fn wake(&self) {
        let _w = self.state.lock();
        self.ready.notify_all();
    }
}

/// Take up to `max` of the jobs waiting that a writer in `role` runs.
fn take(w: &mut Waiting, role: Role, max: usize) -> Vec<WriteJob> {
    let mut batch = Vec::new();
    if role != Role::Other {
        let n = w.runs.len().min(max);
        batch.extend(w.runs.drain(..n));
    }
    // The first of several writers takes use cases while any wait (each holds it
    // for round trips; replays have the other writers); the only one fills the
    // batch with replays too (one commit for both).
    if batch.is_empty() || role == Role::Only {
        let n = w.replays.len().min(max - batch.len());
        batch.extend(w.replays.drain(..n));
    }
    batch
}

/// A commit's owed sync and the answers that wait for it.
type Owed = (OwedSync, Vec<Completion>);

/// A writer's sync thread: makes each commit its connection left owed durable
/// ([`Conn::commit`]), then answers the commit's jobs. One commit is synced at a time;
/// the writer commits again only once the last sync is done, and runs the jobs that
/// arrive meanwhile in its next transaction, so that the disk's wait and the next
/// batch's work overlap instead of following each other.
struct Syncer {
    name: String,
    shared: Arc<SyncShared>,
    /// Started at the first commit that owes a sync.
    thread: Option<(mpsc::Sender<Owed>, std::thread::JoinHandle<()>)>,
}

/// What a writer and its sync thread share.
struct SyncShared {
    queue: Arc<Queue>,
    stats: Arc<Counters>,
    /// A sync is under way (or waiting to start).
    busy: AtomicBool,
    /// A sync failed: nothing is committed or answered as done any more.
    failed: AtomicBool,
}

impl Syncer {
    fn new(name: String, queue: Arc<Queue>, stats: Arc<Counters>) -> Syncer {
        Syncer {
            name,
            shared: Arc::new(SyncShared {
                queue,
                stats,
                busy: AtomicBool::new(false),
                failed: AtomicBool::new(false),
            }),
            thread: None,
        }
    }

    fn queue(&self) -> &Queue {
        &self.shared.queue
    }

    fn busy(&self) -> bool {
        self.shared.busy.load(Ordering::Acquire)
    }

    fn failed(&self) -> bool {
        self.shared.failed.load(Ordering::Acquire)
    }

    /// Sync `owed` and then answer `done` with the outcome, on the sync thread.
    fn submit(&mut self, owed: OwedSync, done: Vec<Completion>) {
        if self.thread.is_none() {
            let (tx, rx) = mpsc::channel::<Owed>();
            let shared = self.shared.clone();
            match std::thread::Builder::new()
                .name(self.name.clone())
                .spawn(move || {
                    // However this thread ends, the writer is not left waiting for it.
                    let _guard = SyncThreadGone(shared.clone());
                    for (owed, done) in rx {
                        shared.sync_and_answer(owed, done);
                    }
                }) {
                Ok(t) => self.thread = Some((tx, t)),
                Err(e) => tracing::warn!(error = %e, "no sync thread; the writer syncs itself"),
            }
        }
        self.shared.busy.store(true, Ordering::Release);
        let job = match &self.thread {
            Some((tx, _)) => match tx.send((owed, done)) {
                Ok(()) => return,
                Err(mpsc::SendError(job)) => job,
            },
            None => (owed, done),
        };
        self.shared.sync_and_answer(job.0, job.1);
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        if let Some((tx, t)) = self.thread.take() {
            drop(tx);
            let _ = t.join();
        }
    }
}

/// What a job hears when a sync before its own failed.
fn earlier_sync_failed() -> Error {
    Error::Store("an earlier WAL sync failed; restart the server".into())
}

/// Marks the syncs failed and wakes the writer if the sync thread ends by a panic: what
/// it had not synced is never answered as done (its answers are dropped: each caller
/// sees that its job was not done).
struct SyncThreadGone(Arc<SyncShared>);

impl Drop for SyncThreadGone {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fail();
        }
    }
}

impl SyncShared {
    fn sync_and_answer(&self, owed: OwedSync, done: Vec<Completion>) {
        let r = if self.failed.load(Ordering::Acquire) {
            // A sync after a failed one can report success for pages the OS dropped
            // (Linux reports a writeback error once per file): never trust it.
            Err(earlier_sync_failed())
        } else {
            let started = std::time::Instant::now();
            let r = owed();
            self.stats
                .sync_us
                .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            self.stats.syncs.fetch_add(1, Ordering::Relaxed);
            r
        };
        if let Err(e) = &r {
            tracing::error!(error = %e, jobs = done.len(), "a commit could not be synced; writes stop");
            self.fail();
        } else {
            self.busy.store(false, Ordering::Release);
            self.queue.wake();
        }
        for c in done {
            // One answer's panic must not keep the others from being sent.
            let _ = catch_unwind(AssertUnwindSafe(|| c(r.as_ref().err())));
        }
    }

    /// After a failed sync, what the disk holds of that commit is unknown, and the OS
    /// may have dropped pages that readers already saw: the writer commits nothing more
    /// (what it holds open is rolled back, what is queued is dropped unrun) and takes no
    /// new job until the server is restarted and SQLite recovers the WAL.
    fn fail(&self) {
        self.failed.store(true, Ordering::Release);
        self.queue.close();
        self.busy.store(false, Ordering::Release);
        self.queue.wake();
    }
}

/// Run one job in its own savepoint (or, alone in its transaction, without one: then a
/// failure rolls back the transaction). Returns false when the transaction is over.
fn in_savepoint(
    conn: &mut dyn Conn,
    single: bool,
    run: impl FnOnce(&mut dyn Conn) -> bool,
) -> Result<bool, ()> {
    if !single && conn.batch_deferred("SAVEPOINT job").is_err() {
        return Err(());
    }
    let ok = run(conn);
    if single {
        if !ok {
            let _ = conn.batch("ROLLBACK");
            return Ok(false);
        }
    } else {
        let _ = conn.batch_deferred(if ok {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        });
    }
    Ok(true)
}

/// Run a use case, catching a panic (it rolls back alone).
fn run_one(conn: &mut dyn Conn, job: RunJob) -> (bool, Completion) {
    match catch_unwind(AssertUnwindSafe(|| job(conn))) {
        Ok(r) => r,
        Err(_) => {
            // What it held back goes out now, inside its savepoint (rolled back next),
            // so that an error of its cannot surface on the next job's statement.
            let _ = conn.flush();
            tracing::error!("a write job panicked; it is rolled back alone");
            (false, Box::new(|_: Option<&Error>| {}) as Completion)
        }
    }
}

/// A replayed job's answer, once the commit's outcome is known.
fn replied(reply: ReplyFn, r: Result<(), Error>) -> Completion {
    Box::new(move |commit_err| {
        reply(match (r, commit_err) {
            (Ok(()), Some(e)) => Err(Error::Store(format!("commit failed: {e}"))),
            (r, _) => r,
        })
    })
}

fn run_batch(
    conn: &mut dyn Conn,
    begin: &'static str,
    batch: Vec<WriteJob>,
    stats: &Counters,
    role: Role,
    syncer: &mut Syncer,
) {
    use std::sync::atomic::Ordering::Relaxed;
    if syncer.failed() {
        // Dropped unrun: each caller sees that its job was not done.
        return;
    }
    let started = std::time::Instant::now();
    stats.batches.fetch_add(1, Relaxed);
    stats.jobs.fetch_add(batch.len() as u64, Relaxed);
    if let Err(e) = conn.batch_deferred(begin) {
        // The jobs are dropped unrun; each caller sees that its job was not done.
        tracing::error!(error = %e, jobs = batch.len(), "cannot begin a write transaction");
        return;
    }
    let single = batch.len() == 1;
    let mut taken = batch.len();
    let mut done: Vec<Completion> = Vec::with_capacity(batch.len());
    if !run_jobs(conn, batch, single, stats, &mut done) {
        return;
    }
    let mut ran = started.elapsed();
    // While the last commit is being synced, what arrives joins this transaction.
    while taken < MAX_BATCH && syncer.busy() {
        let Some(more) = syncer
            .queue()
            .more_while(role, &syncer.shared.busy, MAX_BATCH - taken)
        else {
            break;
        };
        let t = std::time::Instant::now();
        taken += more.len();
        stats.jobs.fetch_add(more.len() as u64, Relaxed);
        // Not alone in the transaction: never the end of it.
        run_jobs(conn, more, false, stats, &mut done);
        ran += t.elapsed();
    }
    // The commit waits for the last one's sync: one sync at a time, each for all that
    // gathered meanwhile.
    syncer.queue().wait_while(&syncer.shared.busy);
    if syncer.failed() {
        // Built on a commit that may not be on disk: not committed, not answered done.
        let _ = conn.batch("ROLLBACK");
        let e = earlier_sync_failed();
        for c in done {
            c(Some(&e));
        }
        return;
    }
    let t = std::time::Instant::now();
    let commit = conn.commit();
    stats.run_us.fetch_add(ran.as_micros() as u64, Relaxed);
    stats
        .commit_us
        .fetch_add(t.elapsed().as_micros() as u64, Relaxed);
    match commit {
        Ok(Some(owed)) => syncer.submit(owed, done),
        Ok(None) => {
            for c in done {
                c(None);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, jobs = done.len(), "commit failed");
            let _ = conn.batch("ROLLBACK");
            for c in done {
                c(Some(&e));
            }
        }
    }
    conn.after_batch();
}

/// Run jobs in the open transaction, adding how to answer each to `done`. False when
/// the transaction is over: a job `single` in it failed, rolled it back and was
/// answered.
fn run_jobs(
    conn: &mut dyn Conn,
    jobs: Vec<WriteJob>,
    single: bool,
    stats: &Counters,
    done: &mut Vec<Completion>,
) -> bool {
    let mut replays: Vec<(Vec<Recorded>, ReplyFn)> = Vec::new();
    // Use cases first, each in its own savepoint; any order of the jobs of one batch is
    // a valid order (they were all in flight at once).
    for job in jobs {
        match job {
            WriteJob::Run(job) => {
                let mut answer = None;
                let r = in_savepoint(conn, single, |c| {
                    let (ok, completion) = run_one(c, job);
                    answer = Some(completion);
                    ok
                });
                match (r, answer) {
                    (Ok(true), Some(a)) => done.push(a),
                    (Ok(false), Some(a)) => {
                        a(None);
                        return false;
                    }
                    _ => {}
                }
            }
            WriteJob::Replay { writes, reply } => replays.push((writes, reply)),
        }
    }
    if !replays.is_empty() {
        let outcomes = group::run(conn, single, &replays, stats);
        for ((_, reply), r) in replays.into_iter().zip(outcomes) {
            match r {
                group::Outcome::Done(r) => done.push(replied(reply, r)),
                group::Outcome::RolledBack(e) => {
                    reply(Err(e));
                    return false;
                }
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::OwnedVal;
    use std::sync::mpsc::TryRecvError;

    fn run_job() -> WriteJob {
        WriteJob::Run(Box::new(|_| {
            (true, Box::new(|_: Option<&Error>| {}) as Completion)
        }))
    }

    /// A replay that runs in a group: one version guard.
    fn replay_job() -> WriteJob {
        WriteJob::Replay {
            writes: vec![Recorded {
                sql: "UPDATE c SET v = ? WHERE id = ? AND v = ?".into(),
                params: vec![OwnedVal::Int(2), OwnedVal::Int(1), OwnedVal::Int(1)],
                exact: Some((1, "moved".into())),
            }],
            reply: Box::new(|_| {}),
        }
    }

    /// A replay that does not (an update without a guard).
    fn lone_replay_job() -> WriteJob {
        WriteJob::Replay {
            writes: vec![Recorded {
                sql: "UPDATE a SET bar = ? WHERE id = ?".into(),
                params: vec![OwnedVal::Int(1), OwnedVal::Int(1)],
                exact: None,
            }],
            reply: Box::new(|_| {}),
        }
    }

    impl Queue {
        /// The next batch of a writer that has not worked since it last gave memory back.
        fn take(&self, role: Role) -> Option<Vec<WriteJob>> {
            match self.next_batch(role, false)? {
                Next::Batch(b) => Some(b),
                Next::Idle => panic!("a writer that has not worked is never told Idle"),
            }
        }
    }

    fn kinds(b: &[WriteJob]) -> String {
        b.iter()
            .map(|j| match j {
                WriteJob::Run(_) => 'U',
                WriteJob::Replay { writes, .. } if group::groupable(writes) => 'R',
                WriteJob::Replay { .. } => 'L',
            })
            .collect()
    }

    #[test]
    fn use_cases_go_to_the_first_writer_only_and_replays_to_any() {
        let q = Queue::default();
        for j in [
            run_job(),
            replay_job(),
            lone_replay_job(),
            run_job(),
            replay_job(),
        ] {
            q.push(j).unwrap();
        }
        // Another writer takes the grouped replays and leaves the use cases and the
        // replay that locks in its own order.
        assert_eq!(kinds(&q.take(Role::Other).unwrap()), "RR");
        q.push(replay_job()).unwrap();
        // The first of several takes those while any wait, and replays when none does.
        assert_eq!(kinds(&q.take(Role::First).unwrap()), "ULU");
        assert_eq!(kinds(&q.take(Role::First).unwrap()), "R");
        // The only writer takes both kinds into one batch (one commit).
        for j in [replay_job(), run_job(), replay_job()] {
            q.push(j).unwrap();
        }
        assert_eq!(kinds(&q.take(Role::Only).unwrap()), "URR");
        // Closed: the other writers stop at once when no replay is left; the first
        // still drains the use cases queued before.
        q.push(run_job()).unwrap();
        q.close();
        assert!(q.take(Role::Other).is_none());
        assert_eq!(kinds(&q.take(Role::First).unwrap()), "U");
        assert!(q.take(Role::First).is_none());
        assert!(q.push(run_job()).is_err());
    }

    #[test]
    fn once_the_first_writer_is_gone_its_jobs_are_refused_not_left_waiting() {
        let q = Arc::new(Queue::default());
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        q.push(WriteJob::Run(Box::new(move |_| {
            let _keep = &tx;
            (true, Box::new(|_: Option<&Error>| {}) as Completion)
        })))
        .unwrap();
        drop(FirstGone(q.clone()));
        // The queued use case was dropped unrun (its caller is told), and new ones
        // are refused; replays still go to the other writers.
        assert!(rx.recv().is_err());
        assert!(q.push(run_job()).is_err());
        assert!(q.push(lone_replay_job()).is_err());
        q.push(replay_job()).unwrap();
        assert_eq!(kinds(&q.take(Role::Other).unwrap()), "R");
    }

    #[test]
    fn a_waiting_writer_is_woken_by_its_kind_of_job() {
        let q = Arc::new(Queue::default());
        let (first, other) = (q.clone(), q.clone());
        let first = std::thread::spawn(move || kinds(&first.take(Role::First).unwrap()));
        let other = std::thread::spawn(move || other.take(Role::Other).map(|b| kinds(&b)));
        // Both waiting (so that the pushes below must wake them).
        while q.state.lock().unwrap().idle < 2 {
            std::thread::yield_now();
        }
        q.push(run_job()).unwrap();
        assert_eq!(first.join().unwrap(), "U");
        q.push(replay_job()).unwrap();
        assert_eq!(other.join().unwrap().as_deref(), Some("R"));
    }

    #[test]
    fn a_batch_holds_at_most_max_batch_jobs() {
        let q = Queue::default();
        for _ in 0..MAX_BATCH + 3 {
            q.push(replay_job()).unwrap();
        }
        for _ in 0..MAX_BATCH + 1 {
            q.push(run_job()).unwrap();
        }
        assert_eq!(q.take(Role::Other).unwrap().len(), MAX_BATCH);
        assert_eq!(q.take(Role::First).unwrap().len(), MAX_BATCH);
        assert_eq!(kinds(&q.take(Role::Only).unwrap()), "URRR");
    }

    /// A connection that does nothing but count the transactions it commits and the
    /// times it is asked to give memory back.
    struct Counting(Arc<(std::sync::atomic::AtomicU64, std::sync::atomic::AtomicU64)>);

    impl Conn for Counting {
        fn backend(&self) -> crate::conn::Backend {
            crate::conn::Backend::Sqlite
        }
        fn execute(&mut self, _: &str, _: &[crate::conn::Val]) -> Result<u64, Error> {
            Ok(0)
        }
        fn query(
            &mut self,
            _: &str,
            _: &[crate::conn::Val],
            _: &mut dyn FnMut(&dyn crate::conn::Row) -> Result<(), Error>,
        ) -> Result<(), Error> {
            Ok(())
        }
        fn batch(&mut self, sql: &str) -> Result<(), Error> {
            if sql == "COMMIT" {
                self.0.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            Ok(())
        }
        fn release_memory(&mut self) {
            self.0.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_writer_gives_memory_back_once_per_quiet_spell_after_working() {
        use std::sync::atomic::Ordering::SeqCst;
        let counts: Arc<(std::sync::atomic::AtomicU64, std::sync::atomic::AtomicU64)> =
            Arc::default();
        // Quiet at once: the writer gives memory back as soon as it finds no job.
        let writer = Writer::start_idle_after(
            vec![Box::new(Counting(counts.clone()))],
            "BEGIN",
            "test-writer",
            std::time::Duration::ZERO,
        )
        .unwrap();
        let (commits, releases) = (|| counts.0.load(SeqCst), || counts.1.load(SeqCst));
        // Spins until `done`; a writer that never gets there fails the test, not hangs it.
        let until = |done: &dyn Fn() -> bool, what: &str| {
            let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !done() {
                assert!(std::time::Instant::now() < give_up, "{what}");
                std::thread::yield_now();
            }
        };
        let waiting = || writer.queue.state.lock().unwrap().idle == 1;
        // Before any work, nothing to give back: the writer waits without releasing.
        until(&waiting, "the writer waits for a job");
        assert_eq!(releases(), 0);
        for round in 1..=3 {
            let (tx, rx) = std::sync::mpsc::channel();
            writer
                .submit(WriteJob::Run(Box::new(move |_| {
                    (
                        true,
                        Box::new(move |_: Option<&Error>| tx.send(()).unwrap()) as Completion,
                    )
                })))
                .unwrap();
            rx.recv().unwrap();
            // Then it waits for the next job again, having released once.
            until(
                &|| releases() == round && waiting(),
                "the writer released once and waits again",
            );
            assert_eq!(commits(), round);
            assert_eq!(releases(), round, "one release per quiet spell, not a loop");
        }
        writer.close();
    }

    /// A connection whose commits owe their sync, as SQLite's writer's do: it tells the
    /// test each statement it runs and each commit, and each sync waits for the test to
    /// give its outcome.
    struct Owing {
        ran: std::sync::mpsc::Sender<String>,
        outcomes: Arc<Mutex<std::sync::mpsc::Receiver<Result<(), Error>>>>,
    }

    impl Conn for Owing {
        fn backend(&self) -> crate::conn::Backend {
            crate::conn::Backend::Sqlite
        }
        fn execute(&mut self, sql: &str, _: &[crate::conn::Val]) -> Result<u64, Error> {
            self.ran.send(sql.to_string()).unwrap();
            Ok(1)
        }
        fn query(
            &mut self,
            _: &str,
            _: &[crate::conn::Val],
            _: &mut dyn FnMut(&dyn crate::conn::Row) -> Result<(), Error>,
        ) -> Result<(), Error> {
            Ok(())
        }
        fn batch(&mut self, _: &str) -> Result<(), Error> {
            Ok(())
        }
        fn commit(&mut self) -> Result<Option<OwedSync>, Error> {
            self.ran.send("COMMIT".into()).unwrap();
            let outcomes = self.outcomes.clone();
            Ok(Some(Box::new(move || {
                let outcome = outcomes.lock().unwrap().recv();
                outcome.unwrap_or_else(|_| Err(Error::Store("test over".into())))
            })))
        }
    }

    /// A writer over an [`Owing`] connection, and what the test sees of it.
    struct OwingWriter {
        writer: Writer,
        /// Statements run and commits, in order.
        ran: std::sync::mpsc::Receiver<String>,
        /// Each owed sync's outcome, given by the test.
        outcome: std::sync::mpsc::Sender<Result<(), Error>>,
        answer: std::sync::mpsc::Sender<(&'static str, Option<String>)>,
        /// Each job's answer: its name and its error, if any.
        answers: std::sync::mpsc::Receiver<(&'static str, Option<String>)>,
    }

    const LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

    impl OwingWriter {
        fn start() -> OwingWriter {
            let (ran_tx, ran) = std::sync::mpsc::channel();
            let (outcome, outcomes) = std::sync::mpsc::channel();
            let (answer, answers) = std::sync::mpsc::channel();
            let writer = Writer::start(
                vec![Box::new(Owing {
                    ran: ran_tx,
                    outcomes: Arc::new(Mutex::new(outcomes)),
                })],
                "BEGIN",
                "test-writer",
            )
            .unwrap();
            OwingWriter {
                writer,
                ran,
                outcome,
                answer,
                answers,
            }
        }

        /// A use case that runs the statement `name` and is answered on `answers`.
        fn submit(&self, name: &'static str) -> Result<(), Error> {
            let answer = self.answer.clone();
            self.writer
                .submit(WriteJob::Run(Box::new(move |c: &mut dyn Conn| {
                    c.execute(name, &[]).unwrap();
                    let done = move |e: Option<&Error>| {
                        let _ = answer.send((name, e.map(|e| e.to_string())));
                    };
                    (true, Box::new(done) as Completion)
                })))
        }

        /// A use case whose answer panics.
        fn submit_panicking(&self, name: &'static str) -> Result<(), Error> {
            self.writer
                .submit(WriteJob::Run(Box::new(move |c: &mut dyn Conn| {
                    c.execute(name, &[]).unwrap();
                    let done =
                        move |_: Option<&Error>| -> () { panic!("the answer to {name} panics") };
                    (true, Box::new(done) as Completion)
                })))
        }

        fn next_ran(&self) -> String {
            self.ran.recv_timeout(LIMIT).unwrap()
        }

        fn next_answer(&self) -> (&'static str, Option<String>) {
            self.answers.recv_timeout(LIMIT).unwrap()
        }

        /// A committed, its sync under way; B and C then run in the next transaction,
        /// which is not committed while the sync lasts, and A is not answered.
        fn a_syncing_while_b_and_c_run(&self) {
            self.submit("A").unwrap();
            assert_eq!(
                (self.next_ran(), self.next_ran()),
                ("A".into(), "COMMIT".into())
            );
            self.submit("B").unwrap();
            self.submit("C").unwrap();
            assert_eq!((self.next_ran(), self.next_ran()), ("B".into(), "C".into()));
            // The writer waits (for more jobs or the sync's end), and has not committed.
            let give_up = std::time::Instant::now() + LIMIT;
            while self.writer.queue.state.lock().unwrap().idle != 1 {
                assert!(std::time::Instant::now() < give_up, "the writer waits");
                std::thread::yield_now();
            }
            assert_eq!(
                self.ran.try_recv().err(),
                Some(TryRecvError::Empty),
                "no commit before the last one is synced"
            );
            assert_eq!(self.answers.try_recv().err(), Some(TryRecvError::Empty));
        }
    }

    #[test]
    fn a_commit_owing_its_sync_is_answered_after_it_while_the_next_jobs_gather_for_one_commit() {
        let w = OwingWriter::start();
        w.a_syncing_while_b_and_c_run();
        // Synced: A is answered, and B and C are committed together.
        w.outcome.send(Ok(())).unwrap();
        assert_eq!(w.next_answer(), ("A", None));
        assert_eq!(w.next_ran(), "COMMIT");
        w.outcome.send(Ok(())).unwrap();
        let mut both = [w.next_answer(), w.next_answer()];
        both.sort();
        assert_eq!(both, [("B", None), ("C", None)]);
        w.writer.close();
    }

    #[test]
    fn after_a_failed_sync_nothing_more_is_committed_or_answered_as_done() {
        let w = OwingWriter::start();
        w.a_syncing_while_b_and_c_run();
        // A's sync fails: A hears it, and so do B and C, built on A and never committed.
        w.outcome.send(Err(Error::Store("EIO".into()))).unwrap();
        let mut all = [w.next_answer(), w.next_answer(), w.next_answer()];
        all.sort();
        let [(a, a_err), (b, b_err), (c, c_err)] = all;
        assert_eq!((a, b, c), ("A", "B", "C"));
        assert!(
            a_err.is_some_and(|e| e.contains("EIO")),
            "A hears the disk's error"
        );
        for e in [b_err, c_err] {
            assert!(
                e.is_some_and(|e| e.contains("earlier WAL sync failed")),
                "B and C fail"
            );
        }
        assert!(w.ran.try_recv().is_err(), "no commit after");
        assert!(w.submit("D").is_err(), "no new job after a failed sync");
        w.writer.close();
        assert_eq!(
            w.ran.try_recv().err(),
            Some(TryRecvError::Disconnected),
            "nothing ran"
        );
    }

    #[test]
    fn a_panicking_answer_does_not_stop_the_syncs_or_the_other_answers() {
        let w = OwingWriter::start();
        w.submit_panicking("A").unwrap();
        assert_eq!((w.next_ran(), w.next_ran()), ("A".into(), "COMMIT".into()));
        w.submit("B").unwrap();
        assert_eq!(w.next_ran(), "B");
        // A's answer panics on the sync thread; B is still committed, synced, answered.
        w.outcome.send(Ok(())).unwrap();
        assert_eq!(w.next_ran(), "COMMIT");
        w.outcome.send(Ok(())).unwrap();
        assert_eq!(w.next_answer(), ("B", None));
        w.submit("C").unwrap();
        assert_eq!((w.next_ran(), w.next_ran()), ("C".into(), "COMMIT".into()));
        w.outcome.send(Ok(())).unwrap();
        assert_eq!(w.next_answer(), ("C", None));
        w.writer.close();
    }
}

//! Group commit: writer threads that gather concurrent use cases into one transaction.
//!
//! Each writer thread owns one connection. It takes every job waiting (up to
//! [`MAX_BATCH`]), runs them in one transaction, commits once, and only then answers
//! each job: a success answered is a success on disk. One commit (one fsync) is shared
//! by the whole batch, which is where the write rate comes from. A failing job rolls
//! back alone; the others still commit.
//!
//! Two kinds of job:
//! - a use case run here ([`WriteJob::Run`]), inside its own `SAVEPOINT`;
//! - writes decided elsewhere on a snapshot and replayed here ([`WriteJob::Replay`],
//!   see [`crate::Db::write_optimistic`]). Because they are data, the replays of a batch
//!   are run together ([`group`]): every job's version guard first (pipelined on
//!   PostgreSQL), then the appends of the jobs whose guard held as one multi-row
//!   `INSERT` per table, all under one savepoint. Should anything but a guard fail, the
//!   group is rolled back and its jobs are replayed again one by one, each in its own
//!   savepoint, so the failing one fails alone.
//!
//! SQLite has one writer thread (SQLite allows one writer anyway); PostgreSQL has two
//! per server by default, so that one batch runs while the other commits. Use cases
//! (`Run`) go to the first writer only: they lock rows every writer would want (the
//! day's case-number serial of a region, the hotline's serial, rating rollups) in the
//! order their code happens to, and two batches holding such rows in opposite orders
//! would deadlock. Replays go to any writer: they lock only the rows they guard, and a
//! group takes those in one fixed order ([`group`]). Jobs on the same case in two
//! batches are ordered by the row lock and the case's version check.

mod group;

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};

use tongban_core::Error;

use crate::conn::{Conn, Recorded};

/// Jobs gathered into one transaction at most.
pub const MAX_BATCH: usize = 256;

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
}

impl Writer {
    /// Start one writer thread per connection; `begin` opens a write transaction.
    pub fn start(
        conns: Vec<Box<dyn Conn + Send>>,
        begin: &'static str,
        name: &str,
    ) -> Result<Writer, Error> {
        let queue = Arc::new(Queue::default());
        let stats = Arc::new(Counters::default());
        let mut threads = Vec::new();
        for (i, mut conn) in conns.into_iter().enumerate() {
            let queue = queue.clone();
            let stats = stats.clone();
            // The first writer runs the use cases (and replays); the others replays only.
            let runs = i == 0;
            threads.push(
                std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn(move || {
                        while let Some(batch) = queue.next_batch(runs) {
                            run_batch(conn.as_mut(), begin, batch, &stats);
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

/// The jobs waiting for a writer: use cases (for the first writer) and replays (for
/// any).
#[derive(Default)]
struct Queue {
    state: Mutex<Waiting>,
    ready: Condvar,
}

#[derive(Default)]
struct Waiting {
    runs: VecDeque<WriteJob>,
    replays: VecDeque<WriteJob>,
    closed: bool,
    /// Writers waiting for a job: a push wakes them only if there are any (under load
    /// none waits, and a wake-up is a system call).
    idle: usize,
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
        match job {
            WriteJob::Run(_) => w.runs.push_back(job),
            WriteJob::Replay { .. } => w.replays.push_back(job),
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

    /// Wait for a job this writer runs (`runs`: use cases too), then take every other
    /// such job already waiting, up to [`MAX_BATCH`]. None once closed and drained.
    fn next_batch(&self, runs: bool) -> Option<Vec<WriteJob>> {
        let mut w = self.state.lock().ok()?;
        loop {
            let mine = !w.replays.is_empty() || (runs && !w.runs.is_empty());
            if mine {
                break;
            }
            // Closed: done once nothing this writer could take is left (use cases
            // left for the first writer are its to drain).
            if w.closed {
                return None;
            }
            w.idle += 1;
            w = self.ready.wait(w).ok()?;
            w.idle -= 1;
        }
        // The first writer takes use cases while any wait (each holds it for several
        // round trips; replays have the other writers), else replays.
        let from = if runs && !w.runs.is_empty() {
            &mut w.runs
        } else {
            &mut w.replays
        };
        let n = from.len().min(MAX_BATCH);
        Some(from.drain(..n).collect())
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

fn run_batch(conn: &mut dyn Conn, begin: &'static str, batch: Vec<WriteJob>, stats: &Counters) {
    use std::sync::atomic::Ordering::Relaxed;
    let started = std::time::Instant::now();
    stats.batches.fetch_add(1, Relaxed);
    stats.jobs.fetch_add(batch.len() as u64, Relaxed);
    if let Err(e) = conn.batch_deferred(begin) {
        // The jobs are dropped unrun; each caller sees that its job was not done.
        tracing::error!(error = %e, jobs = batch.len(), "cannot begin a write transaction");
        return;
    }
    let single = batch.len() == 1;
    let mut done: Vec<Completion> = Vec::with_capacity(batch.len());
    let mut replays: Vec<(Vec<Recorded>, ReplyFn)> = Vec::new();
    // Use cases first, each in its own savepoint; any order of the jobs of one batch is
    // a valid order (they were all in flight at once).
    for job in batch {
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
                    (Ok(false), Some(a)) => return a(None),
                    _ => {}
                }
            }
            WriteJob::Replay { writes, reply } => replays.push((writes, reply)),
        }
    }
    if !replays.is_empty() {
        let outcomes = group::run(conn, single, &replays);
        for ((_, reply), r) in replays.into_iter().zip(outcomes) {
            match r {
                group::Outcome::Done(r) => done.push(replied(reply, r)),
                group::Outcome::RolledBack(e) => return reply(Err(e)),
            }
        }
    }
    let ran = started.elapsed();
    let commit = conn.batch("COMMIT").err();
    stats.run_us.fetch_add(ran.as_micros() as u64, Relaxed);
    stats
        .commit_us
        .fetch_add((started.elapsed() - ran).as_micros() as u64, Relaxed);
    if let Some(e) = &commit {
        tracing::error!(error = %e, jobs = done.len(), "commit failed");
        let _ = conn.batch("ROLLBACK");
    }
    for c in done {
        c(commit.as_ref());
    }
    conn.after_batch();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_job() -> WriteJob {
        WriteJob::Run(Box::new(|_| {
            (true, Box::new(|_: Option<&Error>| {}) as Completion)
        }))
    }

    fn replay_job() -> WriteJob {
        WriteJob::Replay {
            writes: vec![],
            reply: Box::new(|_| {}),
        }
    }

    fn kinds(b: &[WriteJob]) -> String {
        b.iter()
            .map(|j| match j {
                WriteJob::Run(_) => 'U',
                WriteJob::Replay { .. } => 'R',
            })
            .collect()
    }

    #[test]
    fn use_cases_go_to_the_first_writer_only_and_replays_to_any() {
        let q = Queue::default();
        for j in [run_job(), replay_job(), run_job(), replay_job()] {
            q.push(j).unwrap();
        }
        // Another writer takes the replays and leaves the use cases.
        assert_eq!(kinds(&q.next_batch(false).unwrap()), "RR");
        q.push(replay_job()).unwrap();
        // The first takes the use cases while any wait, and replays when none does.
        assert_eq!(kinds(&q.next_batch(true).unwrap()), "UU");
        assert_eq!(kinds(&q.next_batch(true).unwrap()), "R");
        // Closed: the other writers stop at once when no replay is left; the first
        // still drains the use cases queued before.
        q.push(run_job()).unwrap();
        q.close();
        assert!(q.next_batch(false).is_none());
        assert_eq!(kinds(&q.next_batch(true).unwrap()), "U");
        assert!(q.next_batch(true).is_none());
        assert!(q.push(run_job()).is_err());
    }

    #[test]
    fn a_waiting_writer_is_woken_by_its_kind_of_job() {
        let q = Arc::new(Queue::default());
        let (first, other) = (q.clone(), q.clone());
        let first = std::thread::spawn(move || kinds(&first.next_batch(true).unwrap()));
        let other = std::thread::spawn(move || other.next_batch(false).map(|b| kinds(&b)));
        // Whether or not they are waiting yet, each gets the job it may take.
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
        assert_eq!(q.next_batch(false).unwrap().len(), MAX_BATCH);
        assert_eq!(q.next_batch(true).unwrap().len(), MAX_BATCH);
        assert_eq!(kinds(&q.next_batch(true).unwrap()), "U");
        assert_eq!(kinds(&q.next_batch(true).unwrap()), "RRR");
    }
}

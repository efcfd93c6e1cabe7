//! Group commit: writer threads that gather concurrent use cases into one transaction.
//!
//! Each writer thread owns one connection. It takes every job waiting (up to
//! [`MAX_BATCH`]), runs each inside its own `SAVEPOINT` — a failing job rolls back alone
//! — commits once, and only then answers each job: a success answered is a success on
//! disk. One commit (one fsync) is shared by the whole batch, which is where the write
//! rate comes from.
//!
//! SQLite has one writer thread (SQLite allows one writer anyway); PostgreSQL has a few,
//! so that one's round trips overlap another's commit. Jobs on the same case in two
//! PostgreSQL batches are ordered by the row lock and the case's version check.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};

use tongban_core::Error;

use crate::conn::Conn;

/// Jobs gathered into one transaction at most.
pub const MAX_BATCH: usize = 256;

/// What a writer runs: the job's body inside its savepoint; it returns whether it
/// succeeded and how to answer once the commit's outcome is known.
pub(crate) type WriteJob = Box<dyn FnOnce(&mut dyn Conn) -> (bool, Completion) + Send>;
/// Answers a job: called with the commit error, if the commit failed.
pub(crate) type Completion = Box<dyn FnOnce(Option<&Error>) + Send>;

/// Writer threads and the queue that feeds them.
pub struct Writer {
    queue: Mutex<Option<mpsc::Sender<WriteJob>>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Writer {
    /// Start one writer thread per connection; `begin` opens a write transaction.
    pub fn start(
        conns: Vec<Box<dyn Conn + Send>>,
        begin: &'static str,
        name: &str,
    ) -> Result<Writer, Error> {
        let (tx, rx) = mpsc::channel::<WriteJob>();
        let rx = Arc::new(Mutex::new(rx));
        let mut threads = Vec::new();
        for (i, mut conn) in conns.into_iter().enumerate() {
            let rx = rx.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn(move || {
                        while let Some(batch) = next_batch(&rx) {
                            run_batch(conn.as_mut(), begin, batch);
                        }
                    })
                    .map_err(|e| Error::Store(format!("writer thread: {e}")))?,
            );
        }
        Ok(Writer {
            queue: Mutex::new(Some(tx)),
            threads: Mutex::new(threads),
        })
    }

    /// Queue a job.
    pub(crate) fn submit(&self, job: WriteJob) -> Result<(), Error> {
        let guard = self
            .queue
            .lock()
            .map_err(|_| Error::Store("writer lock poisoned".into()))?;
        match guard.as_ref() {
            Some(tx) => tx
                .send(job)
                .map_err(|_| Error::Store("the writer has stopped".into())),
            None => Err(Error::Store("the database is closed".into())),
        }
    }

    /// Stop after the jobs already queued.
    pub fn close(&self) {
        if let Ok(mut q) = self.queue.lock() {
            q.take();
        }
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

/// Wait for a job, then take every other job already waiting. The queue is shared by
/// the writer threads: one waits while the others run their batches.
fn next_batch(rx: &Mutex<mpsc::Receiver<WriteJob>>) -> Option<Vec<WriteJob>> {
    let rx = rx.lock().ok()?;
    let first = rx.recv().ok()?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(j) => batch.push(j),
            Err(_) => break,
        }
    }
    Some(batch)
}

fn run_batch(conn: &mut dyn Conn, begin: &str, batch: Vec<WriteJob>) {
    if let Err(e) = conn.batch(begin) {
        // The jobs are dropped unrun; each caller sees that its job was not done.
        tracing::error!(error = %e, jobs = batch.len(), "cannot begin a write transaction");
        return;
    }
    let single = batch.len() == 1;
    let mut done: Vec<Completion> = Vec::with_capacity(batch.len());
    for job in batch {
        if !single && conn.batch("SAVEPOINT job").is_err() {
            continue;
        }
        let (ok, completion) = match catch_unwind(AssertUnwindSafe(|| job(conn))) {
            Ok(r) => r,
            Err(_) => {
                tracing::error!("a write job panicked; it is rolled back alone");
                (false, Box::new(|_: Option<&Error>| {}) as Completion)
            }
        };
        if single {
            if !ok {
                let _ = conn.batch("ROLLBACK");
                completion(None);
                return;
            }
        } else {
            let _ = conn.batch(if ok {
                "RELEASE job"
            } else {
                "ROLLBACK TO job; RELEASE job"
            });
        }
        done.push(completion);
    }
    let commit = conn.batch("COMMIT").err();
    if let Some(e) = &commit {
        tracing::error!(error = %e, jobs = done.len(), "commit failed");
        let _ = conn.batch("ROLLBACK");
    }
    for c in done {
        c(commit.as_ref());
    }
}

//! A fixed set of threads for blocking reads (PostgreSQL's synchronous use cases).
//!
//! One thread per pooled connection, fed by one queue: a read waits in the queue rather
//! than on a thread of its own. (Handing each read to the async runtime's blocking pool
//! instead grew a thread per waiting request under load — hundreds, each with its own
//! allocator heap — and creating them cost more than the reads.)

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};

use tongban_core::Error;

type Job = Box<dyn FnOnce() + Send>;

/// The reader threads and their queue.
pub(crate) struct Readers {
    queue: Mutex<Option<mpsc::Sender<Job>>>,
}

impl Readers {
    /// Start `n` threads named `name-<i>`.
    pub(crate) fn start(n: usize, name: &str) -> Result<Readers, Error> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..n.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            // A panicking read drops its answer: its caller sees an error.
                            Ok(job) => {
                                let _ = catch_unwind(AssertUnwindSafe(job));
                            }
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| Error::Store(format!("reader thread: {e}")))?;
        }
        Ok(Readers {
            queue: Mutex::new(Some(tx)),
        })
    }

    /// Run `f` on a reader thread and wait for it without blocking the runtime.
    pub(crate) async fn run<R, F>(&self, f: F) -> Result<R, Error>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.queue
            .lock()
            .map_err(|_| Error::Store("reader queue poisoned".into()))?
            .as_ref()
            .ok_or_else(|| Error::Store("the database is closed".into()))?
            .send(job)
            .map_err(|_| Error::Store("the readers have stopped".into()))?;
        rx.await
            .map_err(|_| Error::Store("the read was not carried out".into()))
    }

    /// Take no more reads; the threads end after the reads queued.
    pub(crate) fn close(&self) {
        if let Ok(mut q) = self.queue.lock() {
            q.take();
        }
    }
}

//! What every handler shares: the database, the calendar in force, the clock, settings.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use tongban_core::actor::Actor;
use tongban_core::calendar::{Calendar, CalendarYear};
use tongban_core::case::{Application, Case};
use tongban_core::org::{Session, SessionKind};
use tongban_core::store::Recompute;
use tongban_core::store::Tx;
use tongban_core::usecase::Env;
use tongban_core::usecase::calendar::{
    CalendarSaved, recompute_open_cases, recompute_open_orders, save_year,
};
use tongban_core::usecase::cases::{plan_receive, receive_case, receive_planned};
use tongban_core::{Error, Result};
use tongban_store::Db;

use crate::auth::PasswordCost;
use crate::clock::Clock;

/// Settings of the web layer.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Working days left at which a deadline turns yellow.
    pub yellow_days: u32,
    /// Argon2id cost for new passwords.
    pub password_cost: PasswordCost,
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For`.
    pub trust_proxy: bool,
    /// Where uploaded files are stored (content-addressed).
    pub files_dir: std::path::PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            yellow_days: 1,
            password_cost: PasswordCost::default(),
            secure_cookies: false,
            trust_proxy: false,
            files_dir: std::env::temp_dir().join("tongban-files"),
        }
    }
}

/// Sessions recently read from the database, so that a request does not cost a query
/// to find out who sent it. An entry lives [`SESSION_CACHE_TTL`]; signing out on this
/// server removes it at once, and changes to accounts clear the cache. On other
/// servers an ended session may be honoured for at most the TTL.
#[derive(Default)]
pub struct SessionCache(
    std::sync::Mutex<std::collections::HashMap<String, (Actor, Session, std::time::Instant)>>,
);

/// How long a session is trusted without asking the database again.
pub const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether a session held since `at` may still be trusted: held less than
/// [`SESSION_CACHE_TTL`] and not expired by its own end.
fn live(s: &Session, at: std::time::Instant, now: DateTime<Utc>) -> bool {
    at.elapsed() < SESSION_CACHE_TTL && s.expires_at > now
}

impl SessionCache {
    /// A live cached session (not expired by its own end either).
    pub fn get(&self, token_hash: &str, now: DateTime<Utc>) -> Option<(Actor, Session)> {
        let mut m = self.0.lock().ok()?;
        match m.get(token_hash) {
            Some((a, s, at)) if live(s, *at, now) => Some((a.clone(), s.clone())),
            Some(_) => {
                m.remove(token_hash);
                None
            }
            None => None,
        }
    }

    /// The actor of a live cached session of this kind, copying nothing else; `None`
    /// otherwise (the caller then asks [`SessionCache::get`] or the database, which
    /// decide and clean up as before).
    pub fn actor(&self, token_hash: &str, now: DateTime<Utc>, kind: SessionKind) -> Option<Actor> {
        let m = self.0.lock().ok()?;
        match m.get(token_hash) {
            Some((a, s, at)) if live(s, *at, now) && s.kind == kind => Some(a.clone()),
            _ => None,
        }
    }

    /// Remember a session read from the database.
    pub fn put(&self, token_hash: String, v: (Actor, Session)) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() > 50_000 {
                m.retain(|_, (_, _, at)| at.elapsed() < SESSION_CACHE_TTL);
            }
            m.insert(token_hash, (v.0, v.1, std::time::Instant::now()));
        }
    }

    /// Forget one session (signed out here).
    pub fn forget(&self, token_hash: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(token_hash);
        }
    }

    /// Forget every session (an account changed).
    pub fn clear(&self) {
        if let Ok(mut m) = self.0.lock() {
            m.clear();
        }
    }
}

/// The shared state.
///
/// Cloned for every request (axum's extractors take it by value): one reference count,
/// not one per part and a copy of the files directory's path, which had been about 2 %
/// of the server's CPU time on the lifecycle benchmark.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    /// The database.
    pub db: Db,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub settings: Arc<Settings>,
    calendar: Arc<RwLock<Arc<Calendar>>>,
    /// Sessions recently seen.
    pub sessions: Arc<SessionCache>,
    /// Uploaded files.
    pub files: crate::files::FileStore,
    /// Catalog search on this server.
    pub search: Arc<crate::search::Search>,
    /// The 12345 knowledge base, searched.
    pub kb: Arc<crate::kb_search::KbSearch>,
    /// The database's calendar revision the calendar above was built from, and when
    /// this server last found it current.
    calendar_checked: std::sync::Mutex<(i64, DateTime<Utc>)>,
    /// Writes decided off the writer whose calendar was replaced before they committed.
    recount: Recount,
}

/// Writes decided off the writer (optimistic actions, receipts filed without the
/// database) with a calendar that was replaced before they committed: their deadlines
/// were counted with the old calendar, and the sweep that came with the new one may have
/// run before they committed (or, on another server, paged past their case). Their cases
/// are counted again by one more sweep ([`AppState::recount_if_replaced`]).
#[derive(Default)]
struct Recount {
    /// The earliest decision among those waiting for a sweep.
    since: std::sync::Mutex<Option<DateTime<Utc>>>,
    /// One sweep at a time: whoever waited for it finds its decision swept already.
    running: tokio::sync::Mutex<()>,
}

impl Recount {
    /// Add a decision made at or after `t` to those the next sweep takes.
    fn wait_for(&self, t: DateTime<Utc>) {
        let mut since = self.since.lock().unwrap_or_else(|e| e.into_inner());
        *since = Some(since.map_or(t, |s| s.min(t)));
    }

    /// Take the decisions waiting (for a sweep starting now); `None` if an earlier
    /// sweep took them.
    fn taken(&self) -> Option<DateTime<Utc>> {
        self.since.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// How far before a write's start its decisions are looked for: the wall clock may step
/// back a little (an NTP correction) between the start and the decision.
const RECOUNT_SLACK: chrono::Duration = chrono::Duration::minutes(1);

fn read_lock(c: &RwLock<Arc<Calendar>>) -> Arc<Calendar> {
    c.read()
        .map(|c| c.clone())
        .unwrap_or_else(|e| e.into_inner().clone())
}

fn write_lock(c: &RwLock<Arc<Calendar>>, cal: impl Into<Arc<Calendar>>) {
    let cal = cal.into();
    match c.write() {
        Ok(mut g) => *g = cal,
        Err(e) => *e.into_inner() = cal,
    }
}

impl AppState {
    /// State over a database, with the calendar loaded from it.
    pub fn new(db: Db, clock: Arc<dyn Clock>, settings: Settings) -> Result<AppState> {
        let (revision, years) =
            db.read_blocking(|tx| Ok((tx.calendar_revision()?, tx.calendar_years()?)))?;
        let now = clock.now();
        Ok(AppState(Arc::new(Shared {
            db,
            clock,
            files: crate::files::FileStore::new(settings.files_dir.clone()),
            search: Arc::new(crate::search::Search::new()?),
            kb: Arc::new(crate::kb_search::KbSearch::new()?),
            settings: Arc::new(settings),
            calendar: Arc::new(RwLock::new(Arc::new(Calendar::new(&years)))),
            sessions: Arc::new(SessionCache::default()),
            calendar_checked: std::sync::Mutex::new((revision, now)),
            recount: Recount::default(),
        })))
    }

    /// The calendar in force.
    pub fn calendar(&self) -> Arc<Calendar> {
        read_lock(&self.calendar)
    }

    /// Load or correct a year (`PUT /calendar/{year}`). The new calendar is put in
    /// force inside the write, before its sweep of the open cases, so that a use case
    /// queued behind it already counts with it, and a decision made off the writer
    /// meanwhile either commits before the sweep reads its case or is counted again
    /// ([`AppState::recount_if_replaced`]); if the commit fails, the calendar is
    /// reloaded from the database.
    pub async fn save_calendar_year(&self, actor: Actor, y: CalendarYear) -> Result<CalendarSaved> {
        let handle = self.calendar.clone();
        let r = self
            .write(move |tx, env| save_year(tx, &actor, env, &y, |cal| write_lock(&handle, cal)))
            .await;
        if r.is_err() {
            let years = self.db.read(|tx| tx.calendar_years()).await?;
            write_lock(&self.calendar, Calendar::new(&years));
        }
        let revision = self.db.read(|tx| tx.calendar_revision()).await?;
        *self
            .calendar_checked
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = (revision, self.clock.now());
        r
    }

    /// Reload the calendar if another server changed it (its revision moved). Cases this
    /// server changed since it last found its calendar current may carry deadlines
    /// counted with the old one: they are recomputed. True when it was reloaded.
    pub async fn refresh_calendar(&self) -> Result<bool> {
        let (held, checked_at) = *self
            .calendar_checked
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now();
        let current = self.db.read(|tx| tx.calendar_revision()).await?;
        if current == held {
            *self
                .calendar_checked
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = (held, now);
            return Ok(false);
        }
        let (revision, years) = self
            .db
            .read(|tx| Ok((tx.calendar_revision()?, tx.calendar_years()?)))
            .await?;
        write_lock(&self.calendar, Calendar::new(&years));
        self.recount_changed_since(checked_at).await?;
        *self
            .calendar_checked
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = (revision, now);
        Ok(true)
    }

    /// Run a use case in a write transaction, with the time of now and the calendar in
    /// force when the transaction runs.
    pub async fn write<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&mut dyn Tx, &Env) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let now = self.clock.now();
        let handle = self.calendar.clone();
        self.db
            .write(move |tx| {
                let cal = read_lock(&handle);
                f(tx, &Env { now, cal: &cal })
            })
            .await
    }

    /// Run a use case optimistically (see [`Db::write_optimistic`]): read and decide
    /// off the writer, then commit just the writes, retrying if the case moved meanwhile.
    pub async fn write_optimistic<R, F>(&self, f: F) -> Result<R>
    where
        F: Fn(&mut dyn Tx, &Env) -> Result<R> + Send + Sync + 'static,
        R: Send + 'static,
    {
        self.recounted(self.db.write_optimistic(self.decided_now(f)))
            .await
    }

    /// Run `write`, whose decisions are made off the writer with the calendar of then,
    /// and recount what it committed if that calendar was replaced meanwhile
    /// ([`AppState::recount_if_replaced`]).
    async fn recounted<R>(&self, write: impl std::future::Future<Output = Result<R>>) -> Result<R> {
        let (cal, from) = (self.calendar(), self.clock.now());
        let r = write.await?;
        self.recount_if_replaced(&cal, from).await;
        Ok(r)
    }

    /// After a write decided off the writer has committed: if the calendar in force when
    /// it started (`cal`, at `from`) has been replaced since, its decision may have
    /// counted deadlines with the old one after the new one's sweep passed its case.
    /// Sweep again the open cases changed since `from` (and those with provisional
    /// deadlines), with the calendar in force now. Concurrent callers share one sweep
    /// that starts after each has committed. A write that started before the change but
    /// decided after it is swept for nothing: nothing moves. Calendar changes are rare;
    /// the common path is one pointer comparison. A failed sweep is logged: the write
    /// itself has committed and is answered as such.
    async fn recount_if_replaced(&self, cal: &Arc<Calendar>, from: DateTime<Utc>) {
        if Arc::ptr_eq(cal, &self.calendar()) {
            return;
        }
        self.recount.wait_for(from - RECOUNT_SLACK);
        // On a task of its own, so that a request dropped meanwhile (its client gone)
        // does not drop the sweep its write needs.
        let me = self.clone();
        if let Err(e) = tokio::spawn(async move { me.recount_waiting().await }).await {
            tracing::error!(error = %e, "recounting deadlines decided with a replaced calendar");
        }
    }

    /// Sweep the open cases the writes waiting for a recount changed, if any wait (see
    /// [`AppState::recount_if_replaced`]). The background tick calls it too, so that a
    /// sweep that failed is tried again.
    pub async fn recount_waiting(&self) -> Result<()> {
        let _one = self.recount.running.lock().await;
        let Some(since) = self.recount.taken() else {
            return Ok(());
        };
        let swept = self.recount_changed_since(since).await;
        if let Err(e) = &swept {
            tracing::error!(error = %e, "recounting deadlines decided with a replaced calendar");
            self.recount.wait_for(since);
        }
        swept
    }

    /// Recount, with the calendar in force, the deadlines of the open cases changed since
    /// `since` (and of those with provisional deadlines), and the reply deadlines of the
    /// open 12345 work orders still waiting for their reply, in the writer.
    async fn recount_changed_since(&self, since: DateTime<Utc>) -> Result<()> {
        let which = Recompute {
            due_from: None,
            updated_since: Some(since),
        };
        self.write(move |tx, env| {
            let reason = "节假日安排已更新，重新计算期限";
            recompute_open_cases(tx, &Actor::system(), env, env.cal, &which, reason)?;
            // Work orders this server dispatched or extended with the old calendar after
            // the loading server's sweep: every open one still waiting for its reply is
            // counted again (few, and only those whose day moves are saved).
            recompute_open_orders(tx, &Actor::system(), env, env.cal, reason)
        })
        .await
        .map(|_| ())
    }

    /// `f` as a decision the store may make more than once: each time with the time of
    /// then and the calendar in force then.
    fn decided_now<R>(
        &self,
        f: impl Fn(&mut dyn Tx, &Env) -> Result<R> + Send + Sync + 'static,
    ) -> impl Fn(&mut dyn Tx) -> Result<R> + Send + Sync + 'static {
        let handle = self.calendar.clone();
        let clock = self.clock.clone();
        move |tx| {
            let cal = read_lock(&handle);
            f(
                tx,
                &Env {
                    now: clock.now(),
                    cal: &cal,
                },
            )
        }
    }

    /// Run a use case on a read-only snapshot, with the time and calendar of now.
    pub async fn read<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&mut dyn Tx, &Env) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let now = self.clock.now();
        let cal = self.calendar();
        self.db.read(move |tx| f(tx, &Env { now, cal: &cal })).await
    }

    /// 收件. On PostgreSQL the item, the applicant and the application's rules are read
    /// and checked on a snapshot, off the writer: those reads are round trips the writer
    /// would otherwise wait on, and a refused application never reaches it. The case is
    /// then filed without the database when it can be ([`Db::write_inserts`]: the
    /// applicant on record as given, a serial this server holds), its rows joining the
    /// writer's group of appends; otherwise the writer takes the day's serial and writes
    /// the case (registering or updating the applicant there if needed). On SQLite the
    /// same reads cost the writer microseconds, less than a snapshot of their own: all of
    /// it runs in the writer.
    ///
    /// [`Db::write_inserts`]: tongban_store::Db::write_inserts
    pub async fn receive(&self, actor: Actor, app: Application) -> Result<Arc<Case>> {
        if self.db.backend() == tongban_store::Backend::Sqlite {
            return self
                .write(move |tx, env| receive_case(tx, &actor, env, &app))
                .await;
        }
        let (a, n) = (actor.clone(), app.clone());
        let plan = self
            .read(move |tx, env| plan_receive(tx, &a, env, &n, false))
            .await?;
        self.recounted(self.db.write_inserts(
            self.decided_now(move |tx, env| receive_planned(tx, &actor, env, &app, plan.clone())),
        ))
        .await
    }

    /// Run `f` with the time and calendar of now, without the database (to build an
    /// answer from what a write returned, off the writer).
    pub fn with_env<R>(&self, f: impl FnOnce(&Env) -> R) -> R {
        let cal = self.calendar();
        f(&Env {
            now: self.clock.now(),
            cal: &cal,
        })
    }

    /// Hash a password with the configured cost, off the async threads.
    pub async fn hash_password(&self, password: String) -> Result<String> {
        let cost = self.settings.password_cost;
        tokio::task::spawn_blocking(move || cost.hash(&password))
            .await
            .map_err(|e| Error::Store(format!("hashing: {e}")))
    }
}

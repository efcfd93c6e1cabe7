//! What every handler shares: the database, the calendar in force, the clock, settings.

use std::sync::{Arc, RwLock};

use tongban_core::calendar::Calendar;
use tongban_core::store::Tx;
use tongban_core::usecase::Env;
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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            yellow_days: 1,
            password_cost: PasswordCost::default(),
            secure_cookies: false,
            trust_proxy: false,
        }
    }
}

/// The shared state.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub settings: Arc<Settings>,
    calendar: Arc<RwLock<Arc<Calendar>>>,
    /// The database's calendar revision the calendar above was built from.
    calendar_revision: Arc<std::sync::Mutex<(i64, i64)>>,
}

impl AppState {
    /// State over a database, with the calendar loaded from it.
    pub fn new(db: Db, clock: Arc<dyn Clock>, settings: Settings) -> Result<AppState> {
        let (revision, years) =
            db.read_blocking(|tx| Ok((tx.calendar_revision()?, tx.calendar_years()?)))?;
        Ok(AppState {
            db,
            clock,
            settings: Arc::new(settings),
            calendar: Arc::new(RwLock::new(Arc::new(Calendar::new(&years)))),
            calendar_revision: Arc::new(std::sync::Mutex::new(revision)),
        })
    }

    /// The calendar in force.
    pub fn calendar(&self) -> Arc<Calendar> {
        self.calendar
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Put a new calendar in force (after the change committed).
    pub fn set_calendar(&self, cal: Calendar) {
        match self.calendar.write() {
            Ok(mut c) => *c = Arc::new(cal),
            Err(e) => *e.into_inner() = Arc::new(cal),
        }
    }

    /// Reload the calendar if the database's differs from the one in force (another
    /// server may have loaded a year). True when it was reloaded.
    pub async fn refresh_calendar(&self) -> Result<bool> {
        let held = *self
            .calendar_revision
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let now = self.db.read(|tx| tx.calendar_revision()).await?;
        if now == held {
            return Ok(false);
        }
        let (revision, years) = self
            .db
            .read(|tx| Ok((tx.calendar_revision()?, tx.calendar_years()?)))
            .await?;
        self.set_calendar(Calendar::new(&years));
        *self
            .calendar_revision
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = revision;
        Ok(true)
    }

    /// Run a use case in a write transaction, with the time and calendar of now.
    pub async fn write<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&mut dyn Tx, &Env) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let now = self.clock.now();
        let cal = self.calendar();
        self.db
            .write(move |tx| f(tx, &Env { now, cal: &cal }))
            .await
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

    /// Hash a password with the configured cost, off the async threads.
    pub async fn hash_password(&self, password: String) -> Result<String> {
        let cost = self.settings.password_cost;
        tokio::task::spawn_blocking(move || cost.hash(&password))
            .await
            .map_err(|e| Error::Store(format!("hashing: {e}")))
    }
}

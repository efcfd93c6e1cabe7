//! Databases for tests (feature `testing`): a fresh SQLite file, or a fresh database
//! on the PostgreSQL server named by `TONGBAN_TEST_POSTGRES_URL`.
//!
//! Without that variable, PostgreSQL tests are skipped — unless
//! `TONGBAN_REQUIRE_POSTGRES=1`, as the README test command sets, where its absence
//! is a failure.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::{Backend, Db, DbUrl};

/// A database for one test; the SQLite file is deleted when this is dropped.
pub struct TestDb {
    /// The database.
    pub db: Db,
    /// Its URL (to open a second handle, as a second server would).
    pub url: DbUrl,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Another handle on the same database, as a second server process would open.
    /// (The first handle owns the SQLite file's directory; keep it alive.)
    pub fn another_handle(&self) -> TestDb {
        TestDb {
            db: Db::open(&self.url).expect("open a second handle"),
            url: self.url.clone(),
            _dir: None,
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh, migrated database on `backend`; `None` when PostgreSQL is not available
/// and not required.
pub fn fresh(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = DbUrl::Sqlite(dir.path().join("tongban.db"));
            let db = Db::open(&url).expect("open sqlite");
            Some(TestDb {
                db,
                url,
                _dir: Some(dir),
            })
        }
        Backend::Postgres => {
            let url = postgres_url()?;
            let db = Db::open(&url).expect("open postgres");
            Some(TestDb {
                db,
                url,
                _dir: None,
            })
        }
    }
}

/// A new, empty database on the test server, as a URL.
pub fn postgres_url() -> Option<DbUrl> {
    let Ok(base) = std::env::var("TONGBAN_TEST_POSTGRES_URL") else {
        if std::env::var("TONGBAN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!("TONGBAN_REQUIRE_POSTGRES=1 but TONGBAN_TEST_POSTGRES_URL is not set");
        }
        eprintln!("PostgreSQL test skipped: TONGBAN_TEST_POSTGRES_URL is not set");
        return None;
    };
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    crate::off_runtime(|| {
        let mut admin =
            postgres::Client::connect(&base, postgres::NoTls).expect("connect to the test server");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
    });
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("TONGBAN_TEST_POSTGRES_URL must end in /database"),
    };
    Some(DbUrl::Postgres(url))
}

/// A fingerprint of everything stored: per table, the row count and a content measure.
/// Two equal fingerprints around a refused request show that it changed nothing.
pub fn fingerprint(db: &Db) -> Vec<(String, i64, i64)> {
    const TABLES: &[(&str, &str)] = &[
        ("regions", "LENGTH(name)"),
        ("departments", "LENGTH(name) + active"),
        ("halls", "LENGTH(name)"),
        ("windows", "LENGTH(name)"),
        (
            "applicants",
            "LENGTH(name) + LENGTH(phone) + COALESCE(LENGTH(bar_reason), 0)",
        ),
        (
            "accounts",
            "LENGTH(password_hash) + active + LENGTH(immediate_departments)",
        ),
        ("sessions", "LENGTH(csrf)"),
        ("basic_items", "LENGTH(name)"),
        (
            "items",
            "LENGTH(name) + LENGTH(status) + COALESCE(published_version, 0) + COALESCE(draft_version, 0) + search_rev",
        ),
        ("search_synonyms", "LENGTH(words)"),
        ("revisions", "value"),
        ("item_versions", "LENGTH(spec) + LENGTH(state)"),
        ("calendar_years", "LENGTH(data)"),
        ("case_serials", "last"),
        ("cases", "version + LENGTH(data)"),
        ("case_events", "LENGTH(data)"),
        ("case_stat_deltas", "received + decided"),
        ("case_stats", "received + decided"),
        ("bundles", "LENGTH(data)"),
        ("bundle_cases", "LENGTH(data)"),
        ("bundle_children", "bundle_case_id"),
        ("ratings", "LENGTH(data)"),
        ("rating_invitations", "case_id"),
        ("rectifications", "version + LENGTH(data)"),
        (
            "rating_stats",
            "n1 + n2 + n3 + n4 + n5 + invalid + called_back",
        ),
        ("warning_marks", "LENGTH(level)"),
        ("supervision_orders", "LENGTH(data)"),
        ("settings", "LENGTH(data)"),
        ("assessment_deductions", "points"),
        ("work_orders", "version + LENGTH(data)"),
        ("work_order_units", "unit"),
        ("work_order_serials", "last"),
        ("hotline_categories", "LENGTH(data)"),
        ("kb_articles", "LENGTH(data)"),
        ("open311_keys", "LENGTH(name)"),
    ];
    // PostgreSQL's key table of cases (migration 8).
    const POSTGRES_ONLY: &[(&str, &str)] = &[("case_keys", "LENGTH(number) + created_at % 1000")];
    let postgres = db.backend() == Backend::Postgres;
    db.read_raw(|c| {
        let mut out = Vec::new();
        let extra = if postgres { POSTGRES_ONLY } else { &[] };
        for (t, measure) in TABLES.iter().chain(extra) {
            let (n, m) = crate::conn::ConnExt::one(
                c,
                &format!("SELECT COUNT(*), CAST(COALESCE(SUM({measure}), 0) AS BIGINT) FROM {t}"),
                &[],
                |r| Ok((r.int(0)?, r.int(1)?)),
            )?;
            out.push((t.to_string(), n, m));
        }
        Ok(out)
    })
    .expect("fingerprint")
}

/// A gate replays pass on their way to a writer ([`Db::hold_replays`]).
#[derive(Default)]
pub(crate) struct ReplayGate {
    lock: std::sync::Arc<tokio::sync::RwLock<()>>,
    waiting: std::sync::atomic::AtomicUsize,
}

impl ReplayGate {
    /// Wait while the gate is held.
    pub(crate) async fn pass(&self) {
        /// Counts a replay waiting until it passes or is dropped while waiting.
        struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _counted = Waiting(&self.waiting);
        drop(self.lock.read().await);
    }

    /// Close the gate until the guard is dropped.
    pub(crate) async fn hold(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        self.lock.clone().write_owned().await
    }

    /// Replays waiting.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

//! The ceilings measured in the same run, to judge our figures against: how often this
//! disk can fsync, and how fast raw SQL runs the same lifecycle with nothing of Tongban
//! around it — on SQLite with one commit per step and with batched commits, and on
//! PostgreSQL with one commit per step from 8 clients.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::rng::Rng;

/// The ceilings.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Ceilings {
    /// `write` + `fdatasync` of 4 KiB per second in the data directory.
    pub fsync_per_s: f64,
    /// Raw SQLite lifecycle steps per second, one commit per step.
    pub sqlite_single_steps_per_s: f64,
    /// Raw SQLite lifecycle steps per second, 100 steps per commit.
    pub sqlite_batched_steps_per_s: f64,
    /// Raw PostgreSQL lifecycle steps per second, one commit per step, 8 clients.
    pub postgres_single_steps_per_s: Option<f64>,
    /// The PostgreSQL server's version and durability settings, as it reported them.
    pub postgres_server: Option<String>,
}

/// The PostgreSQL server's version and the settings that decide durability and commit
/// speed, as the server reports them.
pub fn postgres_server(url: &str) -> anyhow::Result<String> {
    let mut c = postgres::Client::connect(url, postgres::NoTls)?;
    let version: String = c.query_one("SHOW server_version", &[])?.get(0);
    let settings: String = c
        .query_one(
            "SELECT string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY name) FROM pg_settings \
             WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_init_zero', 'wal_sync_method', \
             'shared_buffers', 'max_wal_size', 'commit_delay')",
            &[],
        )?
        .get(0);
    Ok(format!("PostgreSQL {version}: {settings}"))
}

/// The size of a case as stored: a realistic aggregate's JSON (about 3 KB), compressed
/// as the store keeps it.
const CASE_BYTES: usize = 1700;
/// The size of an event as stored.
const EVENT_BYTES: usize = 300;

/// fsyncs per second in `dir`.
pub fn fsync_rate(dir: &Path, for_: Duration) -> anyhow::Result<f64> {
    let path = dir.join("fsync-probe");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&path)?;
    let buf = vec![7u8; 4096];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < for_ {
        f.write_all(&buf)?;
        f.sync_data()?;
        n += 1;
    }
    let _ = std::fs::remove_file(&path);
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Raw SQLite lifecycle steps per second (8 steps per case: an insert, then seven
/// updates, each with an event), `per_commit` steps per commit, durable (WAL, FULL).
pub fn sqlite_raw(dir: &Path, per_commit: usize, for_: Duration) -> anyhow::Result<f64> {
    let path = dir.join(format!("raw-{per_commit}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let c = rusqlite::Connection::open(&path)?;
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE cases (id INTEGER PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL, data TEXT NOT NULL);
         CREATE TABLE events (case_id INTEGER NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (case_id, seq));",
    )?;
    let data = "案".repeat(CASE_BYTES / 3);
    let event = "e".repeat(EVENT_BYTES);
    let start = Instant::now();
    let mut steps = 0u64;
    let mut case = 0i64;
    let mut seq = 0i64;
    c.execute_batch("BEGIN")?;
    let mut in_tx = 0;
    while start.elapsed() < for_ {
        if seq == 0 {
            case += 1;
            c.prepare_cached(
                "INSERT INTO cases (id, state, version, data) VALUES (?1, 'received', 1, ?2)",
            )?
            .execute(rusqlite::params![case, data])?;
        } else {
            c.prepare_cached("UPDATE cases SET state = ?1, version = version + 1, data = ?2 WHERE id = ?3 AND version = ?4")?
                .execute(rusqlite::params!["next", data, case, seq])?;
        }
        c.prepare_cached("INSERT INTO events (case_id, seq, at, data) VALUES (?1, ?2, ?3, ?4)")?
            .execute(rusqlite::params![case, seq + 1, steps as i64, event])?;
        seq = (seq + 1) % 8;
        steps += 1;
        in_tx += 1;
        if in_tx == per_commit {
            c.execute_batch("COMMIT; BEGIN")?;
            in_tx = 0;
        }
    }
    c.execute_batch("COMMIT")?;
    let rate = steps as f64 / start.elapsed().as_secs_f64();
    drop(c);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(rate)
}

/// Raw PostgreSQL lifecycle steps per second, one commit per step, `clients` threads.
pub fn postgres_raw(url: &str, clients: usize, for_: Duration) -> anyhow::Result<f64> {
    let mut admin = postgres::Client::connect(url, postgres::NoTls)?;
    admin.batch_execute(
        "DROP TABLE IF EXISTS raw_events; DROP TABLE IF EXISTS raw_cases;
         CREATE TABLE raw_cases (id BIGINT PRIMARY KEY, state TEXT NOT NULL, version BIGINT NOT NULL, data TEXT NOT NULL);
         CREATE TABLE raw_events (case_id BIGINT NOT NULL, seq BIGINT NOT NULL, at BIGINT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (case_id, seq));",
    )?;
    let start = Instant::now();
    let mut threads = Vec::new();
    for k in 0..clients {
        let url = url.to_string();
        threads.push(std::thread::spawn(move || -> anyhow::Result<u64> {
            let mut c = postgres::Client::connect(&url, postgres::NoTls)?;
            let ins = c.prepare("INSERT INTO raw_cases (id, state, version, data) VALUES ($1, 'received', 1, $2)")?;
            let upd = c.prepare("UPDATE raw_cases SET state = $1, version = version + 1, data = $2 WHERE id = $3 AND version = $4")?;
            let ev = c.prepare("INSERT INTO raw_events (case_id, seq, at, data) VALUES ($1, $2, $3, $4)")?;
            let data = "案".repeat(CASE_BYTES / 3);
            let event = "e".repeat(EVENT_BYTES);
            let mut rng = Rng::new(k as u64);
            let mut steps = 0u64;
            let mut case = (k as i64) << 40;
            let mut seq = 0i64;
            while start.elapsed() < for_ {
                let mut tx = c.transaction()?;
                if seq == 0 {
                    case += 1;
                    tx.execute(&ins, &[&case, &data])?;
                } else {
                    tx.execute(&upd, &[&"next", &data, &case, &seq])?;
                }
                tx.execute(&ev, &[&case, &(seq + 1), &(rng.below(1 << 40) as i64), &event])?;
                tx.commit()?;
                seq = (seq + 1) % 8;
                steps += 1;
            }
            Ok(steps)
        }));
    }
    let mut steps = 0;
    for t in threads {
        steps += t
            .join()
            .map_err(|_| anyhow::anyhow!("raw client panicked"))??;
    }
    let rate = steps as f64 / start.elapsed().as_secs_f64();
    admin.batch_execute("DROP TABLE IF EXISTS raw_events; DROP TABLE IF EXISTS raw_cases;")?;
    Ok(rate)
}

/// Deadline arithmetic.
#[derive(Debug, Clone, Serialize)]
pub struct DeadlineResult {
    /// Calls per second, mixed dates and limits.
    pub calls_per_s: f64,
    /// Nanoseconds per call with 1 working day.
    pub ns_n1: f64,
    /// Nanoseconds per call with 2,000 working days.
    pub ns_n2000: f64,
}

/// Measure `Calendar::deadline`.
pub fn deadlines(cal: &tongban_core::calendar::Calendar) -> DeadlineResult {
    let base = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("date");
    let mut rng = Rng::new(42);
    let inputs: Vec<(chrono::NaiveDate, u32)> = (0..4096)
        .map(|_| {
            (
                base + chrono::Duration::days(rng.below(2500) as i64),
                rng.below(60) as u32,
            )
        })
        .collect();
    let run = |n: Option<u32>, calls: usize| {
        let start = Instant::now();
        let mut sink = 0i64;
        for i in 0..calls {
            let (d, k) = inputs[i & 4095];
            if let Ok(x) = cal.deadline(d, n.unwrap_or(k)) {
                sink = sink.wrapping_add(
                    x.deadline
                        .and_hms_opt(0, 0, 0)
                        .map(|t| t.and_utc().timestamp())
                        .unwrap_or(0),
                );
            }
        }
        std::hint::black_box(sink);
        start.elapsed().as_secs_f64()
    };
    let calls = 5_000_000;
    let mixed = run(None, calls);
    let n1 = run(Some(1), calls);
    let n2000 = run(Some(2000), calls);
    DeadlineResult {
        calls_per_s: calls as f64 / mixed,
        ns_n1: n1 * 1e9 / calls as f64,
        ns_n2000: n2000 * 1e9 / calls as f64,
    }
}

//! The ceilings measured in the same run, to judge our figures against: how often this
//! disk can fsync, and how fast raw SQL runs the same lifecycle with nothing of Tongban
//! around it — on SQLite with one commit per step and with batched commits, and on
//! PostgreSQL with one commit per step from 8 clients.
//!
//! Each raw lifecycle runs twice: on two bare tables (a case and its events, primary keys
//! only), and on Tongban's own schema with the statements the store runs
//! (`tongban_store::sql`: the day's serial, the case row with the columns lists filter
//! and sort on and its indexes, the event, the statistics changes). The first is the
//! ceiling the targets name; the second says how much of the distance to it is the
//! schema's and how much the rest of the platform's. Every step writes a new case value
//! (1.7 KB of fresh bytes, as a compressed case changes whole), and each figure comes
//! with the CPU time the machine spent per step.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde::Serialize;
use tongban_core::case::CaseState;
use tongban_store::conn::Val;
use tongban_store::{DbUrl, sql};

use super::cpu;
use super::rng::Rng;

/// A raw lifecycle's figures.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Raw {
    /// Steps per second.
    pub steps_per_s: f64,
    /// Machine CPU microseconds per step (the database server's included).
    pub cpu_us_per_step: f64,
    /// KiB the machine wrote to disk per step.
    pub disk_kib_per_step: f64,
}

/// The ceilings.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Ceilings {
    /// `write` + `fdatasync` of 4 KiB per second in the data directory.
    pub fsync_per_s: f64,
    /// Raw SQLite lifecycle on bare tables, one commit per step.
    pub sqlite_single: Raw,
    /// The same, 100 steps per commit.
    pub sqlite_batched: Raw,
    /// Raw SQLite lifecycle on our schema, one commit per step.
    pub sqlite_ours_single: Raw,
    /// The same, 100 steps per commit.
    pub sqlite_ours_batched: Raw,
    /// Raw PostgreSQL lifecycle on bare tables, one commit per step, 8 clients.
    pub postgres_single: Option<Raw>,
    /// The same on our schema.
    pub postgres_ours_single: Option<Raw>,
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
/// The size of an event's data as stored.
const EVENT_BYTES: usize = 300;
/// Steps of one lifecycle (收件 and seven actions).
const STEPS: u32 = 8;
/// The state after each step, as the lifecycle workload leaves it.
const STATES: [&str; 8] = [
    "received",
    "under_review",
    "under_review",
    "decided",
    "result_ready",
    "ready_to_deliver",
    "delivered",
    "archived",
];
/// The action of each step.
const ACTIONS: [&str; 8] = [
    "receive",
    "accept",
    "review",
    "approve",
    "produce_result",
    "check_result_ok",
    "deliver_pickup",
    "archive",
];

/// Which tables a raw lifecycle writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// `raw_cases (id, state, version, data)` and `raw_events (case_id, seq, at, data)`,
    /// primary keys only.
    Bare,
    /// Tongban's tables, indexes and constraints, as the migrations make them.
    Ours,
}

/// What a raw lifecycle runs its statements on.
trait RawConn {
    /// Run a statement; rows changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> anyhow::Result<u64>;
    /// Run a statement; the integers of its first row.
    fn ints(&mut self, sql: &str, params: &[Val]) -> anyhow::Result<Vec<i64>>;
    /// Run statements without parameters (transaction control).
    fn batch(&mut self, sql: &str) -> anyhow::Result<()>;
    /// PostgreSQL: the case's id is taken with the serial, as the store does there.
    fn is_postgres(&self) -> bool;
}

impl RawConn for rusqlite::Connection {
    fn exec(&mut self, sql: &str, params: &[Val]) -> anyhow::Result<u64> {
        Ok(self
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(params.iter()))? as u64)
    }

    fn ints(&mut self, sql: &str, params: &[Val]) -> anyhow::Result<Vec<i64>> {
        let mut st = self.prepare_cached(sql)?;
        let n = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
        let row = rows
            .next()?
            .ok_or_else(|| anyhow::anyhow!("no row: {sql}"))?;
        (0..n).map(|i| Ok(row.get::<_, i64>(i)?)).collect()
    }

    fn batch(&mut self, sql: &str) -> anyhow::Result<()> {
        Ok(self.execute_batch(sql)?)
    }

    fn is_postgres(&self) -> bool {
        false
    }
}

/// A PostgreSQL client with its statements prepared once each.
struct PgRaw {
    c: postgres::Client,
    prepared: std::collections::HashMap<String, postgres::Statement>,
}

impl PgRaw {
    fn statement(&mut self, sql: &str) -> anyhow::Result<postgres::Statement> {
        if let Some(st) = self.prepared.get(sql) {
            return Ok(st.clone());
        }
        let st = self
            .c
            .prepare(&tongban_store::postgres::number_placeholders(sql))?;
        self.prepared.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    fn args<'a>(params: &'a [Val]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
        params
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect()
    }
}

impl RawConn for PgRaw {
    fn exec(&mut self, sql: &str, params: &[Val]) -> anyhow::Result<u64> {
        let st = self.statement(sql)?;
        Ok(self.c.execute(&st, &Self::args(params))?)
    }

    fn ints(&mut self, sql: &str, params: &[Val]) -> anyhow::Result<Vec<i64>> {
        let st = self.statement(sql)?;
        let row = self.c.query_one(&st, &Self::args(params))?;
        (0..row.len())
            .map(|i| Ok(row.try_get::<_, i64>(i)?))
            .collect()
    }

    fn batch(&mut self, sql: &str) -> anyhow::Result<()> {
        Ok(self.c.batch_execute(sql)?)
    }

    fn is_postgres(&self) -> bool {
        true
    }
}

/// The item the raw lifecycle on our schema files its cases under (the foreign key
/// from `cases` to `items` is checked as in production).
#[derive(Debug, Clone, Default)]
struct Item {
    id: i64,
    name: String,
    department_id: i64,
    region: String,
}

/// One client's lifecycles, a step at a time.
struct Lifecycle {
    schema: Schema,
    rng: Rng,
    item: Item,
    /// The case's value as stored, rewritten at every step.
    data: Vec<u8>,
    /// The event's data.
    event: String,
    /// Ids of bare cases: this client's own range.
    next_bare_id: i64,
    case_id: i64,
    number: String,
    step: u32,
    at: i64,
}

impl Lifecycle {
    fn new(schema: Schema, client: u64, item: Item) -> Lifecycle {
        Lifecycle {
            schema,
            rng: Rng::new(client),
            item,
            data: vec![0; CASE_BYTES],
            event: format!("{{\"note\":\"{}\"}}", "e".repeat(EVENT_BYTES - 11)),
            next_bare_id: ((client as i64) << 40) + 1,
            case_id: 0,
            number: String::new(),
            step: 0,
            at: 1_796_000_000_000,
        }
    }

    /// Run the next step's statements (no transaction control).
    fn step(&mut self, c: &mut dyn RawConn) -> anyhow::Result<()> {
        for chunk in self.data.chunks_mut(8) {
            let r = self.rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        self.at += 1;
        match self.schema {
            Schema::Bare => self.bare(c)?,
            Schema::Ours => self.ours(c)?,
        }
        self.step = (self.step + 1) % STEPS;
        Ok(())
    }

    fn bare(&mut self, c: &mut dyn RawConn) -> anyhow::Result<()> {
        let (k, state) = (i64::from(self.step), STATES[self.step as usize]);
        if k == 0 {
            self.case_id = self.next_bare_id;
            self.next_bare_id += 1;
            c.exec(
                "INSERT INTO raw_cases (id, state, version, data) VALUES (?, ?, 1, ?)",
                &[self.case_id.into(), state.into(), Val::Bytes(&self.data)],
            )?;
        } else {
            let n = c.exec(
                "UPDATE raw_cases SET state = ?, version = ?, data = ? WHERE id = ? AND version = ?",
                &[
                    state.into(),
                    (k + 1).into(),
                    Val::Bytes(&self.data),
                    self.case_id.into(),
                    k.into(),
                ],
            )?;
            anyhow::ensure!(n == 1, "raw update changed {n} rows");
        }
        c.exec(
            "INSERT INTO raw_events (case_id, seq, at, data) VALUES (?, ?, ?, ?)",
            &[
                self.case_id.into(),
                (k + 1).into(),
                self.at.into(),
                self.event.as_str().into(),
            ],
        )?;
        Ok(())
    }

    fn ours(&mut self, c: &mut dyn RawConn) -> anyhow::Result<()> {
        let k = i64::from(self.step);
        let state = STATES[self.step as usize];
        let open = CaseState::parse(state).is_some_and(|s| !s.is_final());
        let due = "2026-12-24";
        let day = "2026-12-05";
        if k == 0 {
            let region = self.item.region.clone();
            let (serial, reserved) = if c.is_postgres() {
                let r = c.ints(
                    sql::NEXT_SERIAL_AND_ID,
                    &[region.as_str().into(), day.into()],
                )?;
                (r[0], Some(r[1]))
            } else {
                let key = [region.as_str().into(), day.into()];
                c.exec(sql::NEXT_SERIAL, &key)?;
                (c.ints(sql::SERIAL_TAKEN, &key)?[0], None)
            };
            self.number = format!("{region}20261205{serial:06}");
            let applicant = 1 + self.rng.below(50_000) as i64;
            let params: [Val; 24] = [
                reserved.into(),
                self.number.as_str().into(),
                self.item.id.into(),
                self.item.name.as_str().into(),
                "promised".into(),
                self.item.department_id.into(),
                region.as_str().into(),
                applicant.into(),
                "张伟".into(),
                "person".into(),
                Val::Null,
                "window".into(),
                state.into(),
                open.into(),
                due.into(),
                "promised".into(),
                false.into(),
                false.into(),
                due.into(),
                Val::Null,
                self.at.into(),
                self.at.into(),
                1i64.into(),
                Val::Bytes(&self.data),
            ];
            self.case_id = match reserved {
                Some(id) => {
                    c.exec(sql::INSERT_CASE_WITH_ID, &params)?;
                    id
                }
                None => {
                    c.exec(sql::INSERT_CASE, &params[1..])?;
                    c.ints(sql::LAST_INSERT_ID, &[])?[0]
                }
            };
            if c.is_postgres() {
                c.exec(
                    sql::INSERT_CASE_KEYS,
                    &[
                        self.case_id.into(),
                        self.number.as_str().into(),
                        self.item.department_id.into(),
                        region.as_str().into(),
                        applicant.into(),
                        Val::Null,
                        self.at.into(),
                    ],
                )?;
            }
        } else {
            let n = c.exec(
                sql::UPDATE_CASE,
                &[
                    state.into(),
                    open.into(),
                    open.then_some(due).into(),
                    open.then_some("promised").into(),
                    false.into(),
                    false.into(),
                    (if open { due } else { "9999-12-31" }).into(),
                    Val::Null,
                    self.at.into(),
                    (k + 1).into(),
                    Val::Bytes(&self.data),
                    self.case_id.into(),
                    k.into(),
                ],
            )?;
            anyhow::ensure!(n == 1, "raw update changed {n} rows");
        }
        let from = (k > 0).then(|| STATES[self.step as usize - 1]);
        c.exec(
            sql::INSERT_EVENT,
            &[
                self.case_id.into(),
                (k + 1).into(),
                self.at.into(),
                7i64.into(),
                "李审查".into(),
                "reviewer".into(),
                ACTIONS[self.step as usize].into(),
                from.into(),
                state.into(),
                Val::Null,
                self.event.as_str().into(),
            ],
        )?;
        // Statistics change on receipt and on decision, as `core::stats::deltas` makes them.
        if k == 0 || k == 3 {
            let (received, decided) = (i64::from(k == 0), i64::from(k == 3));
            c.exec(
                sql::INSERT_STAT_DELTA,
                &[
                    self.item.department_id.into(),
                    self.item.id.into(),
                    0i64.into(),
                    5i64.into(),
                    "2026-12".into(),
                    "window".into(),
                    received.into(),
                    decided.into(),
                    decided.into(),
                    decided.into(),
                    (3 * decided).into(),
                    0i64.into(),
                    0i64.into(),
                    0i64.into(),
                    0i64.into(),
                ],
            )?;
        }
        Ok(())
    }
}

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

const BARE_SQLITE: &str = "CREATE TABLE raw_cases (id INTEGER PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL);
     CREATE TABLE raw_events (case_id INTEGER NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (case_id, seq));";

const BARE_POSTGRES: &str = "DROP TABLE IF EXISTS raw_events; DROP TABLE IF EXISTS raw_cases;
     CREATE TABLE raw_cases (id BIGINT PRIMARY KEY, state TEXT NOT NULL, version BIGINT NOT NULL, data BYTEA NOT NULL);
     CREATE TABLE raw_events (case_id BIGINT NOT NULL, seq BIGINT NOT NULL, at BIGINT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (case_id, seq));";

/// A fresh database with our schema and the demo county (the item the cases are filed
/// under), closed again: the raw lifecycle writes it with plain SQL.
fn our_schema(url: &DbUrl) -> anyhow::Result<()> {
    let db = super::fresh_demo(url)?;
    db.close();
    Ok(())
}

/// The 食品经营许可 item of the demo county (as the lifecycle workload files), any item
/// failing that.
const ITEM_SQL: &str = "SELECT id, name, department_id, region FROM items \
     ORDER BY CASE WHEN name LIKE '%食品经营%' THEN 0 ELSE 1 END, id LIMIT 1";

/// Raw SQLite lifecycle steps per second, `per_commit` steps per commit, durable (WAL,
/// FULL), on `schema`.
pub fn sqlite_raw(
    dir: &Path,
    schema: Schema,
    per_commit: usize,
    for_: Duration,
) -> anyhow::Result<Raw> {
    let path = dir.join(format!("raw-{schema:?}-{per_commit}.db").to_lowercase());
    let remove = || {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    };
    remove();
    if schema == Schema::Ours {
        our_schema(&DbUrl::Sqlite(path.clone()))?;
    }
    let mut c = rusqlite::Connection::open(&path)?;
    // As the store's writer has it, but for checkpoints: here SQLite's own, inside the
    // commit that crosses 1,000 pages (the store runs them on a thread of their own).
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-8192;",
    )?;
    let item = match schema {
        Schema::Bare => {
            c.execute_batch(BARE_SQLITE)?;
            Item::default()
        }
        Schema::Ours => c.query_row(ITEM_SQL, [], |r| {
            Ok(Item {
                id: r.get(0)?,
                name: r.get(1)?,
                department_id: r.get(2)?,
                region: r.get(3)?,
            })
        })?,
    };
    let mut life = Lifecycle::new(schema, 1, item);
    let a = cpu::sample();
    let start = Instant::now();
    let mut steps = 0u64;
    c.batch("BEGIN")?;
    let mut in_tx = 0;
    while start.elapsed() < for_ {
        life.step(&mut c)?;
        steps += 1;
        in_tx += 1;
        if in_tx == per_commit {
            c.batch("COMMIT; BEGIN")?;
            in_tx = 0;
        }
    }
    c.batch("COMMIT")?;
    let usage = cpu::between(a, cpu::sample());
    drop(c);
    remove();
    Ok(Raw {
        steps_per_s: steps as f64 / usage.seconds,
        cpu_us_per_step: usage.machine_us_per(steps as f64),
        disk_kib_per_step: usage.disk_kib_per(steps as f64),
    })
}

/// Raw PostgreSQL lifecycle steps per second, one commit per step, `clients` threads, on
/// `schema` (ours in a database of its own on the same server).
pub fn postgres_raw(
    admin: &str,
    schema: Schema,
    clients: usize,
    for_: Duration,
) -> anyhow::Result<Raw> {
    let url = match schema {
        Schema::Bare => {
            let mut c = postgres::Client::connect(admin, postgres::NoTls)?;
            c.batch_execute(BARE_POSTGRES)?;
            admin.to_string()
        }
        Schema::Ours => {
            let url = super::pg_database(admin, "tongban_bench_raw")?;
            our_schema(&url)?;
            match url {
                DbUrl::Postgres(u) => u,
                DbUrl::Sqlite(_) => unreachable!("pg_database names a PostgreSQL database"),
            }
        }
    };
    let item = match schema {
        Schema::Bare => Item::default(),
        Schema::Ours => {
            let mut c = postgres::Client::connect(&url, postgres::NoTls)?;
            let r = c.query_one(ITEM_SQL, &[])?;
            Item {
                id: r.get(0),
                name: r.get(1),
                department_id: r.get(2),
                region: r.get(3),
            }
        }
    };
    // Every client connects and prepares, then all start together.
    let ready = Arc::new(Barrier::new(clients + 1));
    let go = Arc::new(std::sync::OnceLock::<Instant>::new());
    let mut threads = Vec::new();
    for k in 0..clients {
        let (url, item, ready, go) = (url.clone(), item.clone(), ready.clone(), go.clone());
        threads.push(std::thread::spawn(move || -> anyhow::Result<u64> {
            let set_up = || -> anyhow::Result<(PgRaw, Lifecycle)> {
                let mut c = PgRaw {
                    c: postgres::Client::connect(&url, postgres::NoTls)?,
                    prepared: Default::default(),
                };
                // Prepare every statement with a throwaway lifecycle, rolled back.
                let mut life = Lifecycle::new(schema, k as u64 + 1, item);
                c.batch("BEGIN")?;
                for _ in 0..STEPS {
                    life.step(&mut c)?;
                }
                c.batch("ROLLBACK")?;
                Ok((c, Lifecycle::new(schema, k as u64 + 101, life.item)))
            };
            let set = std::panic::catch_unwind(std::panic::AssertUnwindSafe(set_up))
                .unwrap_or_else(|_| Err(anyhow::anyhow!("raw client panicked while setting up")));
            // Whatever happened, so that the others are not left waiting.
            ready.wait();
            let (mut c, mut life) = set?;
            let start = *go.wait();
            let mut steps = 0u64;
            while start.elapsed() < for_ {
                c.batch("BEGIN")?;
                life.step(&mut c)?;
                c.batch("COMMIT")?;
                steps += 1;
            }
            Ok(steps)
        }));
    }
    ready.wait();
    let a = cpu::sample();
    let _ = go.set(Instant::now());
    let mut steps = 0;
    let mut failed = None;
    for t in threads {
        match t.join() {
            Ok(Ok(n)) => steps += n,
            Ok(Err(e)) => failed = Some(e),
            Err(_) => failed = Some(anyhow::anyhow!("raw client panicked")),
        }
    }
    let usage = cpu::between(a, cpu::sample());
    if let Some(e) = failed {
        return Err(e);
    }
    match schema {
        Schema::Bare => {
            let mut c = postgres::Client::connect(admin, postgres::NoTls)?;
            c.batch_execute("DROP TABLE IF EXISTS raw_events; DROP TABLE IF EXISTS raw_cases;")?;
        }
        Schema::Ours => {
            let mut c = postgres::Client::connect(admin, postgres::NoTls)?;
            c.batch_execute("DROP DATABASE IF EXISTS tongban_bench_raw")?;
        }
    }
    Ok(Raw {
        steps_per_s: steps as f64 / usage.seconds,
        cpu_us_per_step: usage.machine_us_per(steps as f64),
        disk_kib_per_step: usage.disk_kib_per(steps as f64),
    })
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

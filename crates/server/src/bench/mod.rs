//! `tongban bench`: the benchmark suite. It measures, in one run on one machine, the
//! ceilings our figures are judged against and the figures themselves, prints both with
//! their ratios, and writes `docs/PERFORMANCE.md` and a JSON copy.
//!
//! Everything runs in this process over real TCP on loopback: the server on its own
//! runtime (two worker threads), the load generator on another.

mod ceilings;
mod client;
mod cpu;
mod dataset;
mod load;
mod report;
mod rng;
pub mod search;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tongban_core::actor::Role;
use tongban_core::calendar::{Calendar, builtin};
use tongban_core::case::ApplicantKind;
use tongban_core::usecase::Env;
use tongban_core::usecase::org::{NewStaff, create_staff};
use tongban_store::{Db, DbUrl, Options as DbOptions};
use tongban_web::auth::PasswordCost;
use tongban_web::clock::SystemClock;
use tongban_web::{AppState, Settings};

use crate::demo;
pub use load::{LifecycleResult, ReadResult};

/// Dataset sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Size {
    /// 10 thousand cases.
    S,
    /// 1 million.
    M,
    /// 10 million.
    L,
}

impl Size {
    /// Cases.
    pub fn cases(self) -> u64 {
        match self {
            Size::S => 10_000,
            Size::M => 1_000_000,
            Size::L => 10_000_000,
        }
    }

    /// Parse `s`, `m`, `l`.
    pub fn parse(s: &str) -> Option<Size> {
        match s.trim().to_ascii_lowercase().as_str() {
            "s" => Some(Size::S),
            "m" => Some(Size::M),
            "l" => Some(Size::L),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Size::S => "s",
            Size::M => "m",
            Size::L => "l",
        }
    }

    /// Whether the dataset writes every case's log. Not at 10 M: the reads and
    /// statistics measured do not read logs, and they would double its size.
    fn with_events(self) -> bool {
        self != Size::L
    }

    /// Disk a generated SQLite dataset of this size takes: per case, with its rollups
    /// and indexes, rounded up (measured on 2026-12-06: 42 MB for 10 k cases and
    /// 4.16 GB for 1 M with their events, 21.5 GB for 10 M without).
    fn sqlite_bytes(self) -> u64 {
        self.cases() * if self.with_events() { 4_300 } else { 2_300 }
    }
}

/// The first of some timings, and the others sorted (the first query on a dataset is
/// reported apart: see the statistics in `read_set`).
fn first_apart(mut times: Vec<f64>) -> (f64, Vec<f64>) {
    let first = if times.is_empty() {
        0.0
    } else {
        times.remove(0)
    };
    times.sort_by(|a, b| a.total_cmp(b));
    (first, times)
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Dataset sizes for the read and statistics workloads.
    pub sizes: Vec<Size>,
    /// Run on SQLite.
    pub sqlite: bool,
    /// A PostgreSQL server (admin URL ending in a database name) to also run on.
    pub postgres_url: Option<String>,
    /// Concurrent clients for the lifecycle workload.
    pub clients: Vec<usize>,
    /// Seconds each measurement runs (after a warm-up).
    pub seconds: u64,
    /// Where databases and probes go (on the disk being measured).
    pub data_dir: PathBuf,
    /// Write the report to this Markdown file.
    pub doc: Option<PathBuf>,
    /// Seed of the datasets.
    pub seed: u64,
    /// Sizes for PostgreSQL (default: `sizes`): generating 10 M cases on PostgreSQL
    /// takes hours and more disk than SQLite.
    pub postgres_sizes: Option<Vec<Size>>,
    /// Items in the catalog-search workload (0 skips it).
    pub search_docs: usize,
    /// The source the binary was built from (a commit, `-dirty` with uncommitted
    /// changes), when the caller knows it.
    pub source: Option<String>,
}

/// Everything measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// When.
    pub at: String,
    /// The machine.
    pub machine: report::Machine,
    /// The ceilings.
    pub ceilings: ceilings::Ceilings,
    /// Deadline arithmetic.
    pub deadline: ceilings::DeadlineResult,
    /// Whole lifecycles over HTTP.
    pub lifecycle: Vec<LifecycleResult>,
    /// The HTTP exchange alone, on the lifecycle's server and load generator.
    pub http_floor: Option<load::FloorResult>,
    /// Reads over HTTP, by backend and size.
    pub reads: Vec<ReadSet>,
    /// Cold start and idle memory of `tongban serve`.
    pub startup: Option<report::Startup>,
    /// Catalog search at scale.
    pub search: Option<search::SearchBench>,
}

/// The reads and statistics on one dataset.
#[derive(Debug, Clone, Serialize)]
pub struct ReadSet {
    /// Backend.
    pub backend: String,
    /// Cases in the dataset.
    pub cases: u64,
    /// Of which open.
    pub open: u64,
    /// Seconds to generate it (0 when reused).
    pub generated_in_s: f64,
    /// One case by id.
    pub by_id: ReadResult,
    /// A department's inbox page (open cases, earliest deadline first, 50).
    pub inbox: ReadResult,
    /// The same page read by one client at a time: its latency without queueing.
    pub inbox_one: ReadResult,
    /// An applicant's own cases (newest first, 20).
    pub mine: ReadResult,
    /// On-time completion per department × month over the whole dataset, ms (median of 20).
    pub stats_ms_p50: f64,
    /// The slowest of those 20, ms.
    pub stats_ms_max: f64,
    /// The query before those 20, ms: the run's first on this dataset (on one kept from
    /// an earlier run, the first on the database just opened: a new reader connection,
    /// and its pages read from disk unless the OS still holds them).
    pub stats_ms_first: f64,
    /// Rows the statistics query returned.
    pub stats_rows: usize,
    /// The KPI report by department (every figure and target, `GET /kpi`) over the
    /// whole dataset, as a city supervisor asks for it, ms (median of 20).
    pub kpi_ms_p50: f64,
    /// The slowest of those 20, ms.
    pub kpi_ms_max: f64,
    /// The report before those 20 (the run's first on this dataset), ms.
    pub kpi_ms_first: f64,
    /// The same by receiving window, median ms.
    pub kpi_window_ms_p50: f64,
}

fn bar(len: u64, msg: &str) -> ProgressBar {
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template("{msg:24} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b.set_message(msg.to_string());
    b
}

fn e(x: tongban_core::Error) -> anyhow::Error {
    anyhow::anyhow!("{x}")
}

/// A PostgreSQL database URL on the same server as `admin`, created empty.
fn pg_database(admin: &str, name: &str) -> anyhow::Result<DbUrl> {
    let mut c = postgres::Client::connect(admin, postgres::NoTls)?;
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    c.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let server = admin.rsplit_once('/').map(|(s, _)| s).unwrap_or(admin);
    Ok(DbUrl::Postgres(format!("{server}/{name}")))
}

fn pg_database_exists(admin: &str, name: &str) -> anyhow::Result<bool> {
    let mut c = postgres::Client::connect(admin, postgres::NoTls)?;
    Ok(!c
        .query("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])?
        .is_empty())
}

/// The ids of a dataset's cases, to read one at random.
enum CaseIds {
    /// 1 to n.
    Dense(i64),
    /// Any other ids: PostgreSQL takes them from a sequence, in blocks for receipts
    /// (`SerialBlocks`), so they may skip.
    Listed(Vec<i64>),
}

fn case_ids(url: &DbUrl) -> anyhow::Result<CaseIds> {
    const COUNT: &str = "SELECT COUNT(*), CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM cases";
    const IDS: &str = "SELECT id FROM cases ORDER BY id";
    let (n, max, ids) = match url {
        DbUrl::Sqlite(p) => {
            let c = rusqlite::Connection::open(p)?;
            let (n, max): (i64, i64) = c.query_row(COUNT, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
            if n == max {
                return Ok(CaseIds::Dense(n.max(1)));
            }
            let mut st = c.prepare(IDS)?;
            let ids = st
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            (n, max, ids)
        }
        DbUrl::Postgres(u) => {
            let mut c = postgres::Client::connect(u, postgres::NoTls)?;
            let r = c.query_one(COUNT, &[])?;
            let (n, max): (i64, i64) = (r.get(0), r.get(1));
            if n == max {
                return Ok(CaseIds::Dense(n.max(1)));
            }
            let ids = c.query(IDS, &[])?.iter().map(|r| r.get(0)).collect();
            (n, max, ids)
        }
    };
    anyhow::ensure!(
        !ids.is_empty(),
        "no cases to read ({n} counted, {max} the largest id)"
    );
    Ok(CaseIds::Listed(ids))
}

/// Open a fresh database with the calendar and the demo county.
fn fresh_demo(url: &DbUrl) -> anyhow::Result<Db> {
    let db = Db::open_with(url, &DbOptions::default()).map_err(e)?;
    let hash = PasswordCost::default().hash(demo::DEMO_PASSWORD);
    let now = Utc::now();
    db.write_blocking(move |tx| {
        for y in builtin::years() {
            tx.save_calendar_year(&y, 0, now)?;
        }
        demo::load(tx, now, &Calendar::new(&builtin::years()), &hash).map(|_| ())
    })
    .map_err(e)?;
    Ok(db)
}

/// Write out the page cache's dirty pages before a measurement, so that none pays for
/// the writeback of the one before: a SQLite run leaves gigabytes of checkpointed pages
/// for the kernel to flush while the next measurement (the PostgreSQL runs, whose
/// ceilings were measured on a quiet disk) is under way.
fn settle_disk() {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// A thread's busy share: `busy_us` (the writer's running jobs and committing,
/// summed over its threads; or its sync thread's syncing) over `elapsed` of wall-clock
/// time.
fn busy_share(busy_us: u64, elapsed: Duration) -> f64 {
    busy_us as f64 / (elapsed.as_micros() as f64).max(1.0)
}

/// The server, on its own runtime.
struct Server {
    addr: SocketAddr,
    /// Serving until dropped.
    _rt: tokio::runtime::Runtime,
}

impl Server {
    fn start(db: Db) -> anyhow::Result<Server> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("bench-server")
            .enable_all()
            .build()?;
        let state = AppState::new(db, Arc::new(SystemClock), Settings::default()).map_err(e)?;
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        rt.spawn(async move {
            let _ = tongban_web::serve(listener, state, std::future::pending()).await;
        });
        Ok(Server { addr, _rt: rt })
    }
}

/// The load generator's runtime: one thread. Its tasks only write requests and read
/// answers; with a second thread they were woken across threads and stolen back and
/// forth, which cost the shared cores more than the work (five alternating same-hour
/// pairs at 64, 64 and 128 clients: 113 against 120 µs of machine CPU per transition,
/// the HTTP exchange alone 16.8 against 20.5 µs per request).
fn client_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-client")
        .enable_all()
        .build()?)
}

/// Sign in and return a bearer token.
async fn token(addr: SocketAddr, username: &str) -> anyhow::Result<String> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let body = serde_json::json!({"username": username, "password": demo::DEMO_PASSWORD, "kind": "bearer"}).to_string();
    let req = hyper::Request::builder()
        .method(hyper::Method::POST)
        .uri("/api/v1/auth/login")
        .header(hyper::header::HOST, "bench")
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(http_body_util::Full::new(Bytes::from(body)))?;
    let resp = sender.send_request(req).await?;
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await?
        .to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&bytes)?;
    v["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("sign-in of {username} failed: {v}"))
}

/// Makes (or names) the database for a workload.
type DatabaseMaker = Box<dyn Fn(&str) -> anyhow::Result<DbUrl>>;

/// Run the suite.
pub fn run(o: &Options) -> anyhow::Result<Report> {
    std::fs::create_dir_all(&o.data_dir)
        .with_context(|| format!("creating the data directory {}", o.data_dir.display()))?;
    // What would stop the run later is found out now, not after minutes (or an hour) of
    // measurements: a report that cannot be written, a PostgreSQL server out of reach.
    if let Some(doc) = &o.doc {
        writable(doc)?;
    }
    if let Some(url) = &o.postgres_url {
        reachable(url)?;
    }
    room_for_sqlite(o, free_bytes(&o.data_dir)?)?;
    files_for_clients(o)?;
    let measure = Duration::from_secs(o.seconds.max(1));
    let warmup = Duration::from_secs(2);
    println!("== 天花板 ceilings (same machine, same run)");
    settle_disk();
    let mut ceil = ceilings::Ceilings {
        fsync_per_s: ceilings::fsync_rate(&o.data_dir, Duration::from_secs(3))?,
        ..Default::default()
    };
    println!(
        "fsync (4 KiB write + fdatasync):        {:>10.0} /s",
        ceil.fsync_per_s
    );
    let raw_line = |what: &str, r: &ceilings::Raw| {
        println!(
            "{what:<52} {:>9.0} steps/s  {:>6.1} µs CPU/step  {:>5.1} KiB written/step",
            r.steps_per_s, r.cpu_us_per_step, r.disk_kib_per_step
        );
    };
    let five = Duration::from_secs(5);
    use ceilings::Schema::{Bare, Ours};
    settle_disk();
    ceil.sqlite_single = ceilings::sqlite_raw(&o.data_dir, Bare, 1, five)?;
    raw_line(
        "raw SQLite lifecycle, bare tables, 1 step/commit:",
        &ceil.sqlite_single,
    );
    settle_disk();
    ceil.sqlite_batched = ceilings::sqlite_raw(&o.data_dir, Bare, 100, five)?;
    raw_line(
        "raw SQLite lifecycle, bare tables, 100 steps/commit:",
        &ceil.sqlite_batched,
    );
    settle_disk();
    ceil.sqlite_ours_single = ceilings::sqlite_raw(&o.data_dir, Ours, 1, five)?;
    raw_line(
        "raw SQLite lifecycle, our schema, 1 step/commit:",
        &ceil.sqlite_ours_single,
    );
    settle_disk();
    ceil.sqlite_ours_batched = ceilings::sqlite_raw(&o.data_dir, Ours, 100, five)?;
    raw_line(
        "raw SQLite lifecycle, our schema, 100 steps/commit:",
        &ceil.sqlite_ours_batched,
    );
    if let Some(url) = &o.postgres_url {
        let eight = Duration::from_secs(8);
        settle_disk();
        let r = ceilings::postgres_raw(url, Bare, 8, eight)?;
        raw_line("raw PostgreSQL lifecycle, bare tables, 8 clients:", &r);
        ceil.postgres_single = Some(r);
        settle_disk();
        let r = ceilings::postgres_raw(url, Ours, 8, eight)?;
        raw_line("raw PostgreSQL lifecycle, our schema, 8 clients:", &r);
        ceil.postgres_ours_single = Some(r);
        let server = ceilings::postgres_server(url)?;
        println!("{server}");
        ceil.postgres_server = Some(server);
    }
    let deadline = ceilings::deadlines(&Calendar::builtin());
    println!(
        "deadline(): {:.1} M calls/s; {:.1} ns with n = 1, {:.1} ns with n = 2000",
        deadline.calls_per_s / 1e6,
        deadline.ns_n1,
        deadline.ns_n2000
    );

    let mut backends: Vec<(String, DatabaseMaker)> = Vec::new();
    if o.sqlite {
        let dir = o.data_dir.clone();
        backends.push((
            "sqlite".into(),
            Box::new(move |name: &str| {
                let path = dir.join(format!("{name}.db"));
                Ok(DbUrl::Sqlite(path))
            }),
        ));
    }
    if let Some(url) = o.postgres_url.clone() {
        backends.push((
            "postgres".into(),
            Box::new(move |name: &str| pg_database(&url, &format!("tongban_bench_{name}"))),
        ));
    }

    let mut lifecycle = Vec::new();
    let mut http_floor = None;
    let crt = client_runtime()?;
    let mut startup_db: Option<DbUrl> = None;
    for (backend, make) in &backends {
        println!("\n== 办件全流程 lifecycle over HTTP ({backend})");
        let url = make("lifecycle")?;
        if let DbUrl::Sqlite(p) = &url {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
            }
        }
        let db = fresh_demo(&url)?;
        let food = db
            .read_blocking(|tx| {
                Ok(tx
                    .items(&tongban_core::store::ItemFilter {
                        name_contains: Some("食品经营许可".into()),
                        region_prefix: Some("440902".into()),
                        limit: 5,
                        ..Default::default()
                    })?
                    .into_iter()
                    .next())
            })
            .map_err(e)?
            .ok_or_else(|| anyhow::anyhow!("no 食品经营许可 in 茂南区"))?;
        let spec = db
            .read_blocking(move |tx| tx.published_spec(food.id, 1))
            .map_err(e)?
            .ok_or_else(|| anyhow::anyhow!("no spec"))?;
        let app = demo::full_application(
            food.id,
            &spec,
            tongban_core::case::Channel::Window,
            tongban_core::case::ApplicantInput {
                kind: ApplicantKind::Enterprise,
                identifier: demo::DEMO_ENTERPRISE_CODE.into(),
                name: "茂名市好味餐饮管理有限公司".into(),
                phone: "0668-2281234".into(),
                legal_representative: Some("张伟".into()),
            },
        );
        let body = Bytes::from(serde_json::to_vec(&app)?);
        let server = Server::start(db.clone())?;
        let tokens = crt.block_on(async {
            anyhow::Ok(load::Tokens {
                clerk: token(server.addr, "clerk").await?,
                reviewer: token(server.addr, "reviewer").await?,
                approver: token(server.addr, "approver").await?,
                issuer: token(server.addr, "issuer").await?,
            })
        })?;
        for &clients in &o.clients {
            settle_disk();
            let (before, started) = (db.writer_stats(), Instant::now());
            let mut r = crt.block_on(load::lifecycles(
                server.addr,
                tokens.clone(),
                body.clone(),
                clients,
                warmup,
                measure,
                backend,
            ))?;
            let (after, elapsed) = (db.writer_stats(), started.elapsed());
            let (b, j) = (after.batches - before.batches, after.jobs - before.jobs);
            r.jobs_per_commit = j as f64 / b.max(1) as f64;
            let (cu, ru) = (
                after.commit_us - before.commit_us,
                after.run_us - before.run_us,
            );
            r.commit_share = cu as f64 / (cu + ru).max(1) as f64;
            r.writer_busy = busy_share(cu + ru, elapsed);
            r.sync_busy = busy_share(after.sync_us - before.sync_us, elapsed);
            println!(
                "{clients:>3} clients: {:>8.0} transitions/s  {:>7.1} cases/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}  ({:.1} writes/commit, writer busy {:.0} % of the time, {:.0} % of it in commit, syncing {:.0} %; CPU {:.0} µs/transition, {:.0} in this process, machine {:.0} % busy; {:.1} KiB written/transition)",
                r.transitions_per_s,
                r.cases_per_s,
                r.all.p50_ms,
                r.all.p99_ms,
                r.errors,
                r.jobs_per_commit,
                100.0 * r.writer_busy,
                100.0 * r.commit_share,
                100.0 * r.sync_busy,
                r.cpu_us_per_transition,
                r.own_cpu_us_per_transition,
                100.0 * r.cpu.busy_share(),
                r.disk_kib_per_transition,
            );
            lifecycle.push(r);
        }
        if http_floor.is_none() {
            settle_disk();
            let f = crt.block_on(load::http_floor(
                server.addr,
                tokens.clerk.clone(),
                64,
                warmup,
                measure,
            ))?;
            println!(
                "HTTP exchange alone (GET /healthz, {} clients): {:>8.0} requests/s  p50 {:>6.2} ms  p99 {:>6.2} ms  (CPU {:.1} µs/request, machine {:.0} % busy)",
                f.clients,
                f.per_s,
                f.latency.p50_ms,
                f.latency.p99_ms,
                f.cpu_us_per_request,
                100.0 * f.busy,
            );
            http_floor = Some(f);
        }
        drop(server);
        db.close();
        if backend == "sqlite" {
            startup_db = Some(url);
        }
    }

    let mut reads = Vec::new();
    for (backend, make) in &backends {
        let sizes = match (backend.as_str(), &o.postgres_sizes) {
            ("postgres", Some(p)) => p.clone(),
            _ => o.sizes.clone(),
        };
        for &size in &sizes {
            println!(
                "\n== 查询与统计 reads and statistics ({backend}, {} cases)",
                size.cases()
            );
            reads.push(read_set(
                o,
                backend,
                make.as_ref(),
                size,
                &crt,
                warmup,
                measure,
            )?);
        }
    }

    let search = if o.search_docs > 0 {
        println!("\n== 事项搜索 catalog search ({} items)", o.search_docs);
        let docs = search::documents(&search::demo_documents()?, o.search_docs, o.seed);
        let b = search::run(docs, o.seconds)?;
        println!(
            "index built in {:.1} s ({:.0} items/s); {:.0} searches/s; p50 {:.2} ms, p99 {:.2} ms; floor p99 {:.3} ms",
            b.build_seconds,
            b.docs_per_second,
            b.queries_per_second,
            b.p50_ms,
            b.p99_ms,
            b.floor_p99_ms
        );
        Some(b)
    } else {
        None
    };

    let startup = match &startup_db {
        Some(DbUrl::Sqlite(p)) => Some(report::startup(p)?),
        _ => None,
    };
    if let Some(s) = &startup {
        println!(
            "\n== 启动 cold start: first answer after {:.0} ms; idle memory {:.1} MB ({:.1} MB at 3 s)",
            s.first_answer_ms, s.idle_rss_mb, s.rss_at_3s_mb
        );
    }
    let report = Report {
        at: Utc::now().to_rfc3339(),
        machine: report::machine(o.source.clone()),
        ceilings: ceil,
        deadline,
        lifecycle,
        http_floor,
        reads,
        startup,
        search,
    };
    let json = o.data_dir.join("bench.json");
    std::fs::write(&json, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", json.display()))?;
    if let Some(doc) = &o.doc {
        std::fs::write(doc, report::markdown(&report, o))
            .with_context(|| format!("writing the report {}", doc.display()))?;
        println!("\nwrote {}", doc.display());
    }
    Ok(report)
}

/// Whether the report can be written to `path`, found out without changing a report
/// already there (opened to append, nothing appended) and without leaving a new one
/// (the file made is removed; where `path` is a link to nothing yet, the file made at
/// its target, not the link).
fn writable(path: &std::path::Path) -> anyhow::Result<()> {
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("the report cannot be written to {}", path.display()))?;
    if !existed && let Ok(made) = std::fs::canonicalize(path) {
        let _ = std::fs::remove_file(made);
    }
    Ok(())
}

/// Whether this process may open the files the clients need, its soft limit raised to
/// the hard one first: each simulated client holds two connections (its own and the
/// server's), the HTTP exchange alone is measured with 64 clients, and the rest is
/// databases, probes and the runtimes' own.
fn files_for_clients(o: &Options) -> anyhow::Result<()> {
    let most = o.clients.iter().copied().max().unwrap_or(1);
    let needed = 2 * most.max(64) as u64 + 256;
    if let Some(limit) = crate::raise_open_files_limit()
        && limit < needed
    {
        anyhow::bail!(
            "{most} clients (and 64 for the HTTP exchange alone) need about {needed} open \
             files and this process may open {limit} (raise `ulimit -n`)"
        );
    }
    Ok(())
}

/// Disk the rest of a run may take on SQLite: the lifecycle's database (every run adds
/// its cases) and the ceilings' probes.
const SQLITE_RUN_BYTES: u64 = 1_000_000_000;

/// A dataset's name: its SQLite file (`.db`) and its marker (`{backend}-{name}.ready`).
fn dataset_name(size: Size, seed: u64) -> String {
    format!("reads_{}_{}", size.name(), seed)
}

/// Whether the SQLite dataset `name` was generated whole by an earlier run (its marker
/// is written last) and is still there.
fn sqlite_dataset_kept(o: &Options, name: &str) -> bool {
    o.data_dir.join(format!("sqlite-{name}.ready")).exists()
        && o.data_dir.join(format!("{name}.db")).exists()
}

/// Whether the SQLite datasets still to be generated (those not kept from an earlier run)
/// fit in `free` bytes: a run that fills the disk at 10 M cases has spent most of an hour
/// first.
fn room_for_sqlite(o: &Options, free: u64) -> anyhow::Result<()> {
    if !o.sqlite {
        return Ok(());
    }
    let to_make: Vec<Size> = o
        .sizes
        .iter()
        .copied()
        .filter(|&size| !sqlite_dataset_kept(o, &dataset_name(size, o.seed)))
        .collect();
    let needed = to_make.iter().map(|s| s.sqlite_bytes()).sum::<u64>() + SQLITE_RUN_BYTES;
    if free < needed {
        let names = to_make
            .iter()
            .map(|s| {
                let bytes = s.sqlite_bytes() as f64;
                if bytes < 1e9 {
                    format!("{} {:.0} MB", s.name(), bytes / 1e6)
                } else {
                    format!("{} {:.1} GB", s.name(), bytes / 1e9)
                }
            })
            .collect::<Vec<_>>();
        anyhow::bail!(
            "the run needs about {:.1} GB free in {} (SQLite datasets to generate: {}; \
             1 GB for the rest) and {:.1} GB are: free some, choose smaller --sizes or \
             another --data-dir",
            needed as f64 / 1e9,
            o.data_dir.display(),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            },
            free as f64 / 1e9,
        );
    }
    Ok(())
}

/// Bytes an unprivileged process may still write in the file system holding `dir`.
fn free_bytes(dir: &std::path::Path) -> anyhow::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .with_context(|| format!("the data directory {}", dir.display()))?;
    // SAFETY: an all-zero statvfs is a valid value of that plain C struct.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: path is a NUL-terminated string we own; statvfs writes only `st`.
    if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("free space in {}", dir.display()));
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Whether `--postgres-url` can be used: a `postgres://` URL ending in a database name
/// (the run makes its own databases beside that one), of a server that answers within
/// ten seconds unless the URL sets its own `connect_timeout`, as a role that may create
/// databases. The URL is shown with its password hidden; a string in any other form is
/// not shown at all.
fn reachable(url: &str) -> anyhow::Result<()> {
    let database = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .and_then(|rest| rest.split_once('/'))
        .map(|(_, db)| db.split('?').next().unwrap_or_default());
    if database.is_none_or(str::is_empty) {
        anyhow::bail!(
            "--postgres-url takes a postgres:// URL ending in a database name, \
             e.g. postgres://postgres@127.0.0.1:5432/postgres"
        );
    }
    let shown = crate::redact(url);
    let mut config: postgres::Config = url
        .parse()
        .with_context(|| format!("reading --postgres-url {shown}"))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    let mut client = config
        .connect(postgres::NoTls)
        .with_context(|| format!("connecting to PostgreSQL at {shown}"))?;
    let may_create: bool = client
        .query_one(
            "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .with_context(|| format!("reading the role's rights at {shown}"))?
        .get(0);
    if !may_create {
        anyhow::bail!(
            "the role of --postgres-url {shown} may not create databases, and the run \
             makes its own (tongban_bench_*): use a role with CREATEDB"
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn read_set(
    o: &Options,
    backend: &str,
    make: &dyn Fn(&str) -> anyhow::Result<DbUrl>,
    size: Size,
    crt: &tokio::runtime::Runtime,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<ReadSet> {
    let name = dataset_name(size, o.seed);
    let marker = o.data_dir.join(format!("{backend}-{name}.ready"));
    let reuse = match (backend, &o.postgres_url) {
        ("postgres", Some(url)) => {
            marker.exists() && pg_database_exists(url, &format!("tongban_bench_{name}"))?
        }
        _ => sqlite_dataset_kept(o, &name),
    };
    let started = Instant::now();
    let (db, info, url) = if reuse {
        let url = match (backend, &o.postgres_url) {
            ("postgres", Some(url)) => {
                let server = url.rsplit_once('/').map(|(s, _)| s).unwrap_or(url);
                DbUrl::Postgres(format!("{server}/tongban_bench_{name}"))
            }
            _ => DbUrl::Sqlite(o.data_dir.join(format!("{name}.db"))),
        };
        let db = Db::open(&url).map_err(e)?;
        let info: (u64, u64, Vec<i64>) = serde_json::from_slice(&std::fs::read(&marker)?)?;
        println!("reusing the dataset ({} cases)", info.0);
        (db, info, url)
    } else {
        let url = make(&name)?;
        if let DbUrl::Sqlite(p) = &url {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
            }
        }
        let db = fresh_demo(&url)?;
        let b = bar(size.cases(), "generating cases");
        let d = dataset::generate(
            &db,
            size.cases(),
            o.seed,
            size.with_events(),
            Utc::now(),
            &b,
        )?;
        b.finish();
        // Accounts to read with: a reviewer in every department, twenty applicants.
        let hash = PasswordCost::default().hash(demo::DEMO_PASSWORD);
        let sample: Vec<i64> = d
            .applicants
            .iter()
            .step_by((d.applicants.len() / 20).max(1))
            .take(20)
            .copied()
            .collect();
        let (h2, s2) = (hash.clone(), sample.clone());
        db.write_blocking(move |tx| {
            let admin = tx
                .account_by_username("admin")?
                .ok_or(tongban_core::Error::NotFound { entity: "admin" })?
                .actor();
            let env = Env {
                now: Utc::now(),
                cal: &Calendar::builtin(),
            };
            for dept in tx.departments(None)? {
                create_staff(
                    tx,
                    &admin,
                    &env,
                    &NewStaff {
                        username: format!("bench-reviewer-{}", dept.id),
                        name: "审查员".into(),
                        role: Role::DeptReviewer,
                        department_id: dept.id,
                        region: None,
                        window_id: None,
                        immediate_departments: vec![],
                        password: demo::DEMO_PASSWORD.into(),
                    },
                    &h2,
                )?;
            }
            for id in &s2 {
                let a = tx.applicant(*id)?.ok_or(tongban_core::Error::NotFound {
                    entity: "applicant",
                })?;
                tongban_core::usecase::org::register(
                    tx,
                    &env,
                    &tongban_core::usecase::org::Registration {
                        kind: a.kind,
                        identifier: a.identifier.clone(),
                        name: a.name.clone(),
                        phone: a.phone.clone(),
                        legal_representative: a.legal_representative.clone(),
                        password: demo::DEMO_PASSWORD.into(),
                    },
                    &h2,
                )?;
            }
            Ok(())
        })
        .map_err(e)?;
        let idents: Vec<i64> = sample;
        std::fs::write(&marker, serde_json::to_vec(&(d.cases, d.open, &idents))?)?;
        (db, (d.cases, d.open, idents), url)
    };
    let generated_in_s = if reuse {
        0.0
    } else {
        started.elapsed().as_secs_f64()
    };
    let (cases, open, applicant_ids) = info;
    println!("{cases} cases ({open} open), ready in {generated_in_s:.0} s");

    // The statistics, straight from the store: what a dashboard waits for. The first
    // query opens a reader connection and, on a dataset reused from an earlier run,
    // reads its pages from the disk unless the OS still holds them, which depends on
    // what ran before; it is reported apart, and the median and slowest are of the 20
    // that follow it.
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..21 {
        let t = Instant::now();
        rows = db
            .read_blocking(|tx| {
                tx.on_time_by_department_month("4409", "2024-01", "2026-12")
                    .map(|r| r.len())
            })
            .map_err(e)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (stats_first, times) = first_apart(times);
    println!(
        "on-time rate per department × month: {rows} rows, p50 {:.2} ms, max {:.2} ms (first query {stats_first:.2} ms)",
        times[10], times[19]
    );

    // The KPIs (效能指标) a supervisor's dashboard asks for, through the use case.
    let supervisor = db
        .read_blocking(|tx| tx.account_by_username("supervisor"))
        .map_err(e)?
        .ok_or_else(|| anyhow::anyhow!("no supervisor in the dataset"))?
        .actor();
    // As with the statistics, the first report is timed apart: it is the first to read
    // the rating and warning tables, which may not be in the page cache yet.
    let kpi_times = |by: tongban_core::kpi::GroupBy| -> anyhow::Result<(f64, Vec<f64>)> {
        let mut t = Vec::new();
        for _ in 0..21 {
            let a = supervisor.clone();
            let start = Instant::now();
            db.read_blocking(move |tx| {
                tongban_core::usecase::kpi::kpis(
                    tx,
                    &a,
                    &tongban_core::usecase::kpi::KpiQuery {
                        from: "2024-01".into(),
                        to: "2026-12".into(),
                        by: Some(by),
                    },
                )
                .map(|r| r.rows.len())
            })
            .map_err(e)?;
            t.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(first_apart(t))
    };
    let (kpi_first, kpi) = kpi_times(tongban_core::kpi::GroupBy::Department)?;
    let (_, kpi_window) = kpi_times(tongban_core::kpi::GroupBy::Window)?;
    println!(
        "KPIs by department: p50 {:.2} ms, max {:.2} ms (first {kpi_first:.2} ms); by window p50 {:.2} ms",
        kpi[10], kpi[19], kpi_window[10]
    );

    let departments: Vec<i64> = db
        .read_blocking(|tx| Ok(tx.departments(None)?.into_iter().map(|d| d.id).collect()))
        .map_err(e)?;
    let usernames: Vec<String> = db
        .read_blocking(move |tx| {
            let mut out = Vec::new();
            for id in applicant_ids {
                if let Some(a) = tx.applicant(id)? {
                    out.push(a.identifier);
                }
            }
            Ok(out)
        })
        .map_err(e)?;
    let server = Server::start(db.clone())?;
    let addr = server.addr;
    let (sup, reviewers, applicants) = crt.block_on(async {
        let sup = token(addr, "supervisor").await?;
        let mut reviewers = Vec::new();
        for d in &departments {
            reviewers.push(token(addr, &format!("bench-reviewer-{d}")).await?);
        }
        let mut applicants = Vec::new();
        for u in &usernames {
            applicants.push(token(addr, u).await?);
        }
        anyhow::Ok((sup, reviewers, applicants))
    })?;
    let ids = case_ids(&url)?;
    let clients = 8;
    let (per_s, lat) = crt.block_on(load::reads(
        addr,
        "one case by id",
        Arc::new(move |r| {
            let id = match &ids {
                CaseIds::Dense(n) => 1 + r.below(*n as u64) as i64,
                CaseIds::Listed(ids) => ids[r.below(ids.len() as u64) as usize],
            };
            (format!("/api/v1/cases/{id}"), 0)
        }),
        Arc::new(vec![sup]),
        clients,
        warmup,
        measure,
    ))?;
    println!(
        "case by id:            {per_s:>8.0} /s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        lat.p50_ms, lat.p99_ms
    );
    let by_id = ReadResult {
        backend: backend.into(),
        cases,
        per_s,
        latency: lat,
    };
    // The inbox twice: by 8 clients at once (two cores, so mostly queueing in the
    // p99) and by one client at a time (the latency of the page itself).
    let n = reviewers.len();
    let reviewers = Arc::new(reviewers);
    let inbox_page = |c: usize| -> anyhow::Result<ReadResult> {
        let (per_s, lat) = crt.block_on(load::reads(
            addr,
            "department inbox page",
            Arc::new(move |r| {
                ("/api/v1/cases?state=received,correction_requested,under_review,paused,decided,result_correction&limit=50".to_string(), r.below(n as u64) as usize)
            }),
            reviewers.clone(),
            c,
            warmup,
            measure,
        ))?;
        println!(
            "department inbox page: {per_s:>8.0} /s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({c} client{})",
            lat.p50_ms,
            lat.p99_ms,
            if c == 1 { "" } else { "s" }
        );
        Ok(ReadResult {
            backend: backend.into(),
            cases,
            per_s,
            latency: lat,
        })
    };
    let inbox = inbox_page(clients)?;
    let inbox_one = inbox_page(1)?;
    let n = applicants.len().max(1);
    let (per_s, lat) = crt.block_on(load::reads(
        addr,
        "an applicant's own cases",
        Arc::new(move |r| {
            (
                "/api/v1/cases?order=newest&limit=20".to_string(),
                r.below(n as u64) as usize,
            )
        }),
        Arc::new(applicants),
        clients,
        warmup,
        measure,
    ))?;
    println!(
        "applicant's own cases: {per_s:>8.0} /s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        lat.p50_ms, lat.p99_ms
    );
    let mine = ReadResult {
        backend: backend.into(),
        cases,
        per_s,
        latency: lat,
    };
    drop(server);
    db.close();
    Ok(ReadSet {
        backend: backend.into(),
        cases,
        open,
        generated_in_s,
        by_id,
        inbox,
        inbox_one,
        mine,
        stats_ms_p50: times[10],
        stats_ms_max: times[19],
        stats_ms_first: stats_first,
        stats_rows: rows,
        kpi_ms_p50: kpi[10],
        kpi_ms_max: kpi[19],
        kpi_ms_first: kpi_first,
        kpi_window_ms_p50: kpi_window[10],
    })
}

#[cfg(test)]
mod tests {
    use super::{Options, Size, run};

    fn options(data_dir: &str, postgres_url: Option<&str>) -> Options {
        Options {
            sizes: vec![],
            sqlite: true,
            postgres_url: postgres_url.map(str::to_string),
            clients: vec![1],
            seconds: 1,
            data_dir: data_dir.into(),
            doc: None,
            seed: 1,
            postgres_sizes: None,
            search_docs: 0,
            source: None,
        }
    }

    /// What would stop a run is said before it measures anything, with what it was
    /// about: the data directory it could not make, the report it could not write (not
    /// at the end of an hour's run), the PostgreSQL server it could not reach (its
    /// password hidden).
    #[test]
    fn a_run_that_cannot_start_names_what_stops_it() {
        let e = run(&options("/proc/no-such-dir/bench", None)).expect_err("no directory");
        assert_eq!(
            e.to_string(),
            "creating the data directory /proc/no-such-dir/bench"
        );

        let dir = tempfile::tempdir().expect("temp dir");
        let mut no_doc = options(&dir.path().display().to_string(), None);
        no_doc.doc = Some("/proc/no-such-dir/PERFORMANCE.md".into());
        let e = run(&no_doc).expect_err("no place for the report");
        assert_eq!(
            e.to_string(),
            "the report cannot be written to /proc/no-such-dir/PERFORMANCE.md"
        );
        let doc = dir.path().join("PERFORMANCE.md");
        std::fs::write(&doc, "the last run's report").expect("written");
        super::writable(&doc).expect("an existing report can be replaced");
        assert_eq!(
            std::fs::read_to_string(&doc).expect("read"),
            "the last run's report",
            "finding out changes nothing"
        );
        std::fs::remove_file(&doc).expect("removed");
        super::writable(&doc).expect("a new report can be written");
        assert!(!doc.exists(), "and none is left behind");

        let url = "postgres://bench:secret@127.0.0.1:1/postgres";
        let e = run(&options(&dir.path().display().to_string(), Some(url))).expect_err("refused");
        assert_eq!(
            e.to_string(),
            "connecting to PostgreSQL at postgres://bench:***@127.0.0.1:1/postgres"
        );
        assert!(
            std::fs::read_dir(dir.path())
                .expect("listed")
                .next()
                .is_none(),
            "no database made before the server was tried"
        );
        for url in [
            "postgres://bench:secret@127.0.0.1:1",
            "postgres://bench:secret@127.0.0.1:1/",
            "host=127.0.0.1 port=1 user=bench password=secret",
        ] {
            let e = run(&options(&dir.path().display().to_string(), Some(url)))
                .expect_err("not a URL the run can use");
            assert!(
                e.to_string()
                    .starts_with("--postgres-url takes a postgres:// URL ending")
                    && !e.to_string().contains("secret"),
                "{url}: {e}"
            );
        }

        // A link to a report not written yet stays a link, and nothing is left at its
        // target.
        let target = dir.path().join("target.md");
        let link = dir.path().join("link.md");
        std::os::unix::fs::symlink(&target, &link).expect("linked");
        super::writable(&link).expect("writable through the link");
        assert!(!target.exists(), "no file left at the target");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("the link is there")
                .file_type()
                .is_symlink()
        );
    }

    /// A PostgreSQL role that may not create databases is refused before the run, which
    /// makes its own. On the test server (`TONGBAN_TEST_POSTGRES_URL`, trust auth), as
    /// the store's PostgreSQL tests are.
    #[test]
    fn a_postgres_role_that_cannot_create_databases_is_refused() {
        let Ok(admin) = std::env::var("TONGBAN_TEST_POSTGRES_URL") else {
            assert_ne!(
                std::env::var("TONGBAN_REQUIRE_POSTGRES").as_deref(),
                Ok("1"),
                "TONGBAN_REQUIRE_POSTGRES=1 but TONGBAN_TEST_POSTGRES_URL is not set"
            );
            eprintln!("PostgreSQL test skipped: TONGBAN_TEST_POSTGRES_URL is not set");
            return;
        };
        super::reachable(&admin).expect("the test server's admin may");
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("admin");
        c.batch_execute(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tb_bench_no_createdb') THEN
                 CREATE ROLE tb_bench_no_createdb LOGIN NOCREATEDB NOSUPERUSER;
               END IF;
             END $$",
        )
        .expect("role");
        let (scheme_user, rest) = admin.split_once('@').expect("user@host in the test URL");
        let scheme = &scheme_user[..scheme_user.find("://").expect("a URL") + 3];
        let url = format!("{scheme}tb_bench_no_createdb@{rest}");
        let e = super::reachable(&url).expect_err("refused");
        assert!(e.to_string().contains("may not create databases"), "{e}");
    }

    /// SQLite datasets are only generated where they fit (4.3 KB a case with its log,
    /// 2.3 KB at 10 M without, 1 GB besides);
    /// those kept from an earlier run need no room, and without SQLite none is made.
    #[test]
    fn datasets_are_generated_only_where_they_fit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut big = options(&dir.path().display().to_string(), None);
        big.sizes = vec![Size::S, Size::M];
        let gb = 1_000_000_000;
        let e = super::room_for_sqlite(&big, 2 * gb).expect_err("4.3 GB + 1 GB do not fit in 2");
        assert_eq!(
            e.to_string(),
            format!(
                "the run needs about 5.3 GB free in {} (SQLite datasets to generate: s 43 MB, \
                 m 4.3 GB; 1 GB for the rest) and 2.0 GB are: free some, choose smaller --sizes \
                 or another --data-dir",
                dir.path().display()
            )
        );
        super::room_for_sqlite(&big, 6 * gb).expect("they fit in 6");
        let m = super::dataset_name(Size::M, big.seed);
        std::fs::write(dir.path().join(format!("sqlite-{m}.ready")), "{}").expect("marked");
        std::fs::write(dir.path().join(format!("{m}.db")), "").expect("kept");
        super::room_for_sqlite(&big, 2 * gb).expect("M is kept: S and the rest fit in 2");
        // 10 M cases are generated without their logs: about half as much per case.
        big.sizes = vec![Size::L];
        let e = super::room_for_sqlite(&big, 20 * gb).expect_err("24 GB do not fit in 20");
        assert!(e.to_string().contains("about 24.0 GB free"), "{e}");
        assert!(e.to_string().contains("l 23.0 GB;"), "{e}");
        super::room_for_sqlite(&big, 25 * gb).expect("L fits in 25");
        big.sqlite = false;
        super::room_for_sqlite(&big, 0).expect("no SQLite datasets without SQLite");
        assert!(super::free_bytes(dir.path()).expect("statvfs") > 0);
    }
}

//! The machine, the cold start, and the report as Markdown.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Options, Report};

/// What the numbers were measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Memory, GiB.
    pub memory_gib: f64,
    /// Kernel.
    pub kernel: String,
    /// Whether this binary is a release build.
    pub build: String,
    /// The source it was built from (a commit, `-dirty` with uncommitted changes), when
    /// the run was told (`scripts/bench.sh` tells it).
    pub source: Option<String>,
    /// `/proc/loadavg` when the run ended (1, 5, 15 minutes; this run's own load
    /// included): how busy the shared machine was.
    pub load: String,
}

/// The machine at hand, running a binary built from `source`.
pub fn machine(source: Option<String>) -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let kib = proc_kib("/proc/meminfo", "MemTotal");
    Machine {
        cpu,
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        memory_gib: kib / 1024.0 / 1024.0,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_string(),
        build: format!("release={}", !cfg!(debug_assertions)),
        source,
        load: std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Cold start and idle memory.
#[derive(Debug, Clone, Serialize)]
pub struct Startup {
    /// From `exec` to the first answered request, ms.
    pub first_answer_ms: f64,
    /// Resident memory once settled: the first of three readings 250 ms apart that agree
    /// within 0.5 MB, from 3 s after the first answer on (at most 10 s), MB.
    pub idle_rss_mb: f64,
    /// Resident memory 3 s after the first answer, MB: the start's sweeps may still hold
    /// what they read then, which the allocator returns about a second after it is freed.
    pub rss_at_3s_mb: f64,
}

/// The kB figure of the line starting with `key` in a `/proc` file such as
/// `/proc/meminfo` (0 if it cannot be read).
fn proc_kib(path: &str, key: &str) -> f64 {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Resident memory of a process, MB (0 if it cannot be read).
fn rss_mb(pid: u32) -> f64 {
    proc_kib(&format!("/proc/{pid}/status"), "VmRSS") / 1024.0
}

/// The first of three readings in a row that agree within 0.5 MB.
fn settled(readings: &[f64]) -> Option<f64> {
    readings
        .windows(3)
        .find(|w| {
            let (lo, hi) = w
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            hi - lo <= 0.5
        })
        .map(|w| w[0])
}

/// One `GET /healthz` to a local port: the answer, or None while nothing answers there.
///
/// Connecting to a port nothing listens on can connect the socket to itself when the
/// system picks the same port as its source (TCP simultaneous open, possible for any
/// port in the ephemeral range); such a socket would then hold the port the server is
/// about to bind and wait for an answer forever. It is dropped at once, and no read
/// waits longer than two seconds.
fn probe(port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    if s.local_addr().ok()? == s.peer_addr().ok()? {
        return None;
    }
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    Some(buf)
}

/// Start `tongban serve` on an existing database, time its first answer, read its idle
/// memory, stop it.
pub fn startup(db: &Path) -> anyhow::Result<Startup> {
    startup_of(&std::env::current_exe()?, db)
}

/// [`startup`], starting `exe serve …`.
fn startup_of(exe: &Path, db: &Path) -> anyhow::Result<Startup> {
    // A port the system says is free now (the child binds it a moment later).
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port();
    let start = Instant::now();
    let mut child = std::process::Command::new(exe)
        .args(["serve", "--no-demo", "--bind", &format!("127.0.0.1:{port}")])
        .env("TONGBAN_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let mut first = None;
    while start.elapsed() < Duration::from_secs(30) {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("tongban serve exited ({status}) before it answered");
        }
        if probe(port).is_some_and(|a| a.starts_with("HTTP/1.1 200")) {
            first = Some(start.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_secs(3));
    // Then every 250 ms until it has settled, 7 s more at most (the last reading then).
    let mut readings = vec![rss_mb(child.id())];
    while settled(&readings).is_none() && readings.len() < 29 {
        std::thread::sleep(Duration::from_millis(250));
        readings.push(rss_mb(child.id()));
    }
    let idle = settled(&readings).unwrap_or(readings[readings.len() - 1]);
    let _ = child.kill();
    let _ = child.wait();
    let first = first.ok_or_else(|| anyhow::anyhow!("the server did not answer within 30 s"))?;
    Ok(Startup {
        first_answer_ms: first.as_secs_f64() * 1000.0,
        idle_rss_mb: idle,
        rss_at_3s_mb: readings[0],
    })
}

/// Most clients the issue's lifecycle targets name (1, 8 and 64).
const TARGET_CLIENTS: usize = 64;

/// The lifecycle's p99 target.
const P99_TARGET_MS: f64 = 25.0;

/// The p99 target's cell: the worst p99 at up to [`TARGET_CLIENTS`] clients (what the
/// target is judged on), then the p99 at every client count measured, more included.
fn p99_cell(r: &Report, backend: &str) -> (String, bool) {
    let runs: Vec<_> = r
        .lifecycle
        .iter()
        .filter(|l| l.backend == backend)
        .collect();
    let judged = runs
        .iter()
        .filter(|l| l.clients <= TARGET_CLIENTS)
        .max_by(|a, b| a.all.p99_ms.total_cmp(&b.all.p99_ms));
    let all = runs
        .iter()
        .map(|l| format!("{:.2} ms at {}", l.all.p99_ms, l.clients))
        .collect::<Vec<_>>()
        .join(", ");
    match judged {
        Some(w) => (
            format!(
                "{:.2} ms (the worst run at up to {TARGET_CLIENTS} clients, {} clients); by clients: {all}",
                w.all.p99_ms, w.clients
            ),
            w.all.p99_ms < P99_TARGET_MS,
        ),
        None => (
            format!("no run at up to {TARGET_CLIENTS} clients; by clients: {all}"),
            false,
        ),
    }
}

/// The SQLite ratio target's rows: judged on our schema's batched ceiling (the issue's
/// ceiling is the raw lifecycle statements, which are the store's own on the schema the
/// other targets need), then the bare tables' as a stricter reference, met or not.
fn sqlite_ratio_rows(ours_pct: f64, bare_pct: f64) -> [String; 2] {
    [
        format!(
            "| SQLite ≥ 25 % of the batched raw ceiling | {ours_pct:.0} % of our schema's (the lifecycle's own statements, raw) | {} |",
            mark(ours_pct >= 25.0)
        ),
        reference_row(&format!("{bare_pct:.0} %"), bare_pct >= 25.0),
    ]
}

/// A ratio target's row against the bare tables' ceiling, the stricter reference shown
/// under the judged row.
fn reference_row(figure: &str, ok: bool) -> String {
    format!(
        "| the same against the bare tables' (a stricter reference) | {figure} | {} |",
        mark(ok)
    )
}

fn mark(ok: bool) -> &'static str {
    if ok { "met" } else { "**not met**" }
}

/// The report as Markdown (docs/PERFORMANCE.md).
pub fn markdown(r: &Report, o: &Options) -> String {
    let mut s = String::new();
    let c = &r.ceilings;
    let _ = writeln!(s, "# Performance\n");
    let _ = writeln!(
        s,
        "Written by `tongban bench` on {}. Every figure below was measured in that one run, on the machine below, \
         with the load generator in the same process as the server (the server's runtime of two threads and the load generator's of one, over TCP \
         on loopback). Every measurement, ceilings included, starts after `sync(2)` has written out the page \
         cache's dirty pages, so that none pays for the writeback of the one before. The machine is shared and \
         noisy: read the ratios to the ceilings measured in the same run rather than the absolute numbers.\n",
        r.at
    );
    let m = &r.machine;
    let _ = writeln!(
        s,
        "## Machine\n\n| | |\n|---|---|\n| CPU | {} |\n| logical CPUs | {} |\n| memory | {:.1} GiB |\n| kernel | {} |\n| build | {} |\n| source | {} |\n| load average at the end (1, 5, 15 min; this run included) | {} |\n",
        m.cpu,
        m.cpus,
        m.memory_gib,
        m.kernel,
        m.build,
        m.source
            .as_deref()
            .unwrap_or("not recorded (run through scripts/bench.sh to record it)"),
        m.load
    );
    let _ = writeln!(
        s,
        "## How to reproduce\n\n```sh\ncargo build --release\nscripts/bench.sh            # SQLite and a durable throwaway PostgreSQL; sizes S and M\nscripts/bench.sh --sizes s,m,l   # adds 10 M cases (generated in 25-45 minutes; on SQLite about 23 GB, S and M 4.3 GB more; the run checks for room first)\nscripts/bench.sh --sizes s,m,l --postgres-sizes s --clients 1,8,64,128,256   # everything, PostgreSQL at size S\n```\n"
    );
    let _ = writeln!(
        s,
        "This run: sizes {:?} (PostgreSQL {:?}), lifecycle clients {:?}, {} s per measurement after a 2 s warm-up, seed {}. \
         `--postgres-sizes` keeps PostgreSQL to the smaller datasets (generating 1 M cases there has taken over ten minutes on this machine).\n",
        o.sizes,
        o.postgres_sizes.as_ref().unwrap_or(&o.sizes),
        o.clients,
        o.seconds,
        o.seed
    );
    let _ = writeln!(s, "## Ceilings (same run)");
    let raw = |s: &mut String, what: &str, r: &super::ceilings::Raw| {
        let _ = writeln!(
            s,
            "| {what} | {:.0} steps/s | {:.1} µs | {:.1} KiB |",
            r.steps_per_s, r.cpu_us_per_step, r.disk_kib_per_step
        );
    };
    let _ = writeln!(
        s,
        "\nA raw lifecycle step is what one step of the lifecycle writes, in plain SQL from one thread per client with \
         nothing of Tongban around it: on *bare tables*, the case (a new 1.7 KB value at every step, as a compressed case \
         changes whole) inserted or updated under its version, and its event, in two tables with primary keys only; on \
         *our schema*, the statements the store runs (`tongban_store::sql`) on the tables, indexes and foreign keys the \
         migrations make: the day's serial and the case row (on PostgreSQL also its key row) on receipt, the case saved whole under its version with the \
         columns lists sort on, the event, and the statistics change on receipt and decision. SQLite as the store's \
         writer sets it up (WAL, `synchronous=FULL`, foreign keys on), with SQLite's own VFS (the writer's writes its \
         WAL frames in one call per commit: ARCHITECTURE.md) and, as in the whole process, mimalloc for its memory. The targets are judged against \
         our schema's: the issue's ceiling is the raw lifecycle statements, and these are the statements the lifecycle runs, \
         with the indexes and rollups its inbox and statistics targets need. The bare tables are a stricter reference shown \
         beside them: what the steps would cost with none of that. CPU is the whole machine's busy time per step, the \
         PostgreSQL server's included; disk is what the machine wrote to its disks per step (`pgpgout`: \
         the WAL, and whatever else was flushed meanwhile).\n\n| ceiling | figure | CPU per step | disk per step |\n|---|---|---|---|"
    );
    let _ = writeln!(
        s,
        "| fsync: 4 KiB write + fdatasync in the data directory | {:.0} /s | | |",
        c.fsync_per_s
    );
    raw(
        &mut s,
        "raw SQLite lifecycle, bare tables, 1 commit per step",
        &c.sqlite_single,
    );
    raw(&mut s, "the same, 100 steps per commit", &c.sqlite_batched);
    raw(
        &mut s,
        "raw SQLite lifecycle, our schema, 1 commit per step",
        &c.sqlite_ours_single,
    );
    raw(
        &mut s,
        "the same, 100 steps per commit",
        &c.sqlite_ours_batched,
    );
    if let Some(p) = &c.postgres_single {
        raw(
            &mut s,
            "raw PostgreSQL lifecycle, bare tables, 1 commit per step, 8 clients",
            p,
        );
    }
    if let Some(p) = &c.postgres_ours_single {
        raw(
            &mut s,
            "raw PostgreSQL lifecycle, our schema, 1 commit per step, 8 clients",
            p,
        );
    }
    if let Some(server) = &c.postgres_server {
        let _ = writeln!(
            s,
            "\nThe PostgreSQL server (a throwaway cluster `scripts/with-postgres.sh` starts for the run, on the same machine): {server}. \
             Durable as in production: every acknowledged commit is on disk. `wal_init_zero` is off because a fresh cluster has no WAL \
             segments to recycle yet and would zero-fill a new 16 MB segment inside a commit every second or so under this load; a server \
             that has run a while recycles its segments instead."
        );
    }
    if let Some(f) = &r.http_floor {
        let quarter = c.sqlite_ours_batched.steps_per_s / 4.0;
        let bare_quarter = c.sqlite_batched.steps_per_s / 4.0;
        let _ = writeln!(
            s,
            "\nThe HTTP exchange alone, with nothing behind it: `GET /healthz` from the lifecycle's load generator to the \
             lifecycle's server ({} clients, kept-alive connections, the same headers), {:.0} requests/s, p50 {:.2} ms, \
             p99 {:.2} ms, **{:.1} µs of the machine's CPU per request** (machine {:.0} % busy). Every transition pays it. \
             For a quarter of our schema's batched ceiling ({:.0} transitions/s) the machine's {} logical CPUs have {:.1} µs \
             per transition in all, the exchange included; for a quarter of the bare tables' ({:.0}), {:.1} µs.",
            f.clients,
            f.per_s,
            f.latency.p50_ms,
            f.latency.p99_ms,
            f.cpu_us_per_request,
            100.0 * f.busy,
            quarter,
            r.machine.cpus,
            r.machine.cpus as f64 * 1e6 / quarter.max(1.0),
            bare_quarter,
            r.machine.cpus as f64 * 1e6 / bare_quarter.max(1.0),
        );
    }
    let _ = writeln!(s, "\n## Lifecycle over HTTP\n");
    let _ = writeln!(
        s,
        "One lifecycle is 8 requests through the JSON API, each as the right person: 收件 (a clerk receives a \
         食品经营许可 application at the window) → 受理 → 审查 → 决定 (the approver) → 制证 → 出件核验 → 送达 → 归档. \
         \"Transitions\" counts all 8. Every request is a full use case: session, scope and state checks, the \
         transition, the case saved whole, its event, the statistics rollup — and its 2xx is sent only after the \
         commit (durable). CPU per transition is the machine's busy time over the measured interval (the load generator \
         and, on PostgreSQL, the database server included) divided by the transitions, with this process's own in \
         brackets; the two come from different kernel accounts and can disagree by a few per cent when the machine \
         is mostly idle. The writer is busy while it runs jobs or commits, as a share of the run's wall-clock time, \
         summed over its threads (PostgreSQL has two, each committing with its fsync): near 100 % per thread it is the \
         bound, well under it the rest of the machine is. On SQLite the commit writes the WAL and the writer's sync \
         thread then syncs it, answering the commit's requests after, while the writer runs the next batch: \
         \"syncing\" is that thread's share of the time.\n"
    );
    let _ = writeln!(
        s,
        "| backend | clients | transitions/s | cases/s | p50 ms | p99 ms | errors | CPU µs per transition (this process) | KiB written per transition | writes per commit; writer busy; syncing | vs bare tables' ceilings (stricter) | vs our schema's (judged) |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for l in &r.lifecycle {
        let (bare, ours) = match l.backend.as_str() {
            "sqlite" => (
                format!(
                    "{:.0} % of batched raw; {:.1}× single-commit raw",
                    100.0 * l.transitions_per_s / c.sqlite_batched.steps_per_s.max(1.0),
                    l.transitions_per_s / c.sqlite_single.steps_per_s.max(1.0)
                ),
                format!(
                    "{:.0} % of batched raw; {:.1}× single-commit raw",
                    100.0 * l.transitions_per_s / c.sqlite_ours_batched.steps_per_s.max(1.0),
                    l.transitions_per_s / c.sqlite_ours_single.steps_per_s.max(1.0)
                ),
            ),
            _ => {
                let x = |p: &Option<super::ceilings::Raw>| {
                    p.map(|p| {
                        format!(
                            "{:.2}× raw single-commit",
                            l.transitions_per_s / p.steps_per_s.max(1.0)
                        )
                    })
                    .unwrap_or_default()
                };
                (x(&c.postgres_single), x(&c.postgres_ours_single))
            }
        };
        let _ = writeln!(
            s,
            "| {} | {} | {:.0} | {:.1} | {:.2} | {:.2} | {} | {:.0} ({:.0}) | {:.1} | {:.1}; {:.0} %; {:.0} % | {} | {} |",
            l.backend,
            l.clients,
            l.transitions_per_s,
            l.cases_per_s,
            l.all.p50_ms,
            l.all.p99_ms,
            l.errors,
            l.cpu_us_per_transition,
            l.own_cpu_us_per_transition,
            l.disk_kib_per_transition,
            l.jobs_per_commit,
            100.0 * l.writer_busy,
            100.0 * l.sync_busy,
            bare,
            ours
        );
    }
    // Per step, for each backend: the run at the most clients up to those the targets
    // name (where the p99 targets are judged).
    for (backend, name) in [("sqlite", "SQLite"), ("postgres", "PostgreSQL")] {
        let Some(run) = r
            .lifecycle
            .iter()
            .filter(|l| l.backend == backend && l.clients <= TARGET_CLIENTS)
            .max_by_key(|l| l.clients)
        else {
            continue;
        };
        let _ = writeln!(
            s,
            "\nPer step, {name}, {} clients:\n\n| step | p50 ms | p99 ms |\n|---|---|---|",
            run.clients
        );
        for st in &run.steps {
            let _ = writeln!(s, "| {} | {:.2} | {:.2} |", st.name, st.p50_ms, st.p99_ms);
        }
    }
    let _ = writeln!(s, "\n## Reads and statistics\n");
    let _ = writeln!(
        s,
        "8 clients (the inbox also with one). \"Inbox\" is a department reviewer's page of 50 open cases, earliest deadline first, scoped to \
         the department; \"mine\" an applicant's 20 newest cases; \"by id\" one case read whole by a city \
         supervisor. Statistics: the on-time completion rate per department × month over the whole dataset, from \
         the rollups each transition keeps (median and slowest of 20, after the run's first query on the dataset, shown \
         in brackets: on a dataset kept from an earlier run, a new reader connection and the pages read from the disk unless the \
         OS still holds them). KPIs: the whole `GET /kpi` report \
         (on-time, average days, 即办件, online, 最多跑一次, 一窗受理, satisfaction, rectification, call-back, warnings \
         and their targets) by department and by window over the whole dataset, through the use case, for a city \
         supervisor (median and slowest of 20, after a first report, in brackets, timed apart as the statistics' is).\n"
    );
    let _ = writeln!(
        s,
        "| backend | cases (open) | by id /s, p99 ms | inbox /s, p99 ms | inbox 1 client p50 / p99 ms | mine /s, p99 ms | statistics p50 / max (first) ms | KPIs by department p50 / max (first) ms | KPIs by window p50 ms |\n|---|---|---|---|---|---|---|---|---|"
    );
    for x in &r.reads {
        let _ = writeln!(
            s,
            "| {} | {} ({}) | {:.0}, {:.2} | {:.0}, {:.2} | {:.2} / {:.2} | {:.0}, {:.2} | {:.2} / {:.2} ({:.2}) | {:.2} / {:.2} ({:.2}) | {:.2} |",
            x.backend,
            x.cases,
            x.open,
            x.by_id.per_s,
            x.by_id.latency.p99_ms,
            x.inbox.per_s,
            x.inbox.latency.p99_ms,
            x.inbox_one.latency.p50_ms,
            x.inbox_one.latency.p99_ms,
            x.mine.per_s,
            x.mine.latency.p99_ms,
            x.stats_ms_p50,
            x.stats_ms_max,
            x.stats_ms_first,
            x.kpi_ms_p50,
            x.kpi_ms_max,
            x.kpi_ms_first,
            x.kpi_window_ms_p50
        );
    }
    if let Some(b) = &r.search {
        let _ = write!(s, "\n{}", super::search::markdown(b));
    }
    let d = &r.deadline;
    let _ = writeln!(
        s,
        "\n## Deadline arithmetic\n\n`Calendar::deadline(from, n)`: {:.1} million calls/s over mixed dates and limits; {:.1} ns with n = 1 and {:.1} ns with n = 2,000 — the same, as the precomputed tables promise.\n",
        d.calls_per_s / 1e6,
        d.ns_n1,
        d.ns_n2000
    );
    if let Some(st) = &r.startup {
        let _ = writeln!(
            s,
            "## Cold start and idle memory\n\n`tongban serve` on the SQLite database the lifecycle workload just wrote (its background sweeps run at start): first answer {:.0} ms after exec; resident memory once idle {:.1} MB (settled: the first of three readings 250 ms apart, from 3 s after the first answer on, that agree within 0.5 MB), {:.1} MB at 3 s, when the start's sweeps may not have given back what they read yet.\n",
            st.first_answer_ms, st.idle_rss_mb, st.rss_at_3s_mb
        );
    }
    let _ = writeln!(
        s,
        "## Against the targets\n\n| target | figure | |\n|---|---|---|"
    );
    if let Some(best) = r
        .lifecycle
        .iter()
        .filter(|l| l.backend == "sqlite")
        .max_by(|a, b| a.transitions_per_s.total_cmp(&b.transitions_per_s))
    {
        let pct = 100.0 * best.transitions_per_s / c.sqlite_batched.steps_per_s.max(1.0);
        let _ = writeln!(
            s,
            "| SQLite lifecycle ≥ 20,000 transitions/s | {:.0} ({} clients) | {} |",
            best.transitions_per_s,
            best.clients,
            mark(best.transitions_per_s >= 20_000.0)
        );
        let (cell, ok) = p99_cell(r, "sqlite");
        let _ = writeln!(s, "| SQLite p99 < 25 ms | {cell} | {} |", mark(ok));
        let ours = 100.0 * best.transitions_per_s / c.sqlite_ours_batched.steps_per_s.max(1.0);
        for row in sqlite_ratio_rows(ours, pct) {
            let _ = writeln!(s, "{row}");
        }
    }
    // Judged on the fastest run whose p99 also meets its target, so that both hold at
    // one load; every client count's ratio is shown beside it.
    let pg: Vec<_> = r
        .lifecycle
        .iter()
        .filter(|l| l.backend == "postgres")
        .collect();
    let by_rate = |a: &&&super::load::LifecycleResult, b: &&&super::load::LifecycleResult| {
        a.transitions_per_s.total_cmp(&b.transitions_per_s)
    };
    let within = pg
        .iter()
        .filter(|l| l.all.p99_ms < P99_TARGET_MS)
        .max_by(by_rate)
        .copied();
    let how = if within.is_some() {
        "judged: the fastest run with p99 < 25 ms"
    } else {
        "no run had p99 < 25 ms; judged on the fastest"
    };
    let judged = within.or_else(|| pg.iter().max_by(by_rate).copied());
    if let (Some(best), Some(bare)) = (judged, c.postgres_single) {
        // Judged on our schema's ceiling where it was measured (always, beside the bare
        // tables'), the bare tables' shown as the stricter reference.
        let (p, name, reference) = match c.postgres_ours_single {
            Some(o) => (o, "our schema's", Some(bare)),
            None => (bare, "the bare tables'", None),
        };
        let x = best.transitions_per_s / p.steps_per_s.max(1.0);
        let by_clients = pg
            .iter()
            .map(|l| {
                format!(
                    "{:.2}× at {} (p99 {:.2} ms)",
                    l.transitions_per_s / p.steps_per_s.max(1.0),
                    l.clients,
                    l.all.p99_ms
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            s,
            "| PostgreSQL ≥ 1.5× raw single-commit lifecycle | {x:.2}× {name} at {} clients, p99 {:.2} ms ({how}); by clients: {by_clients} | {} |",
            best.clients,
            best.all.p99_ms,
            mark(x >= 1.5)
        );
        if let Some(bare) = reference {
            let xb = best.transitions_per_s / bare.steps_per_s.max(1.0);
            let row = reference_row(&format!("{xb:.2}× at {} clients", best.clients), xb >= 1.5);
            let _ = writeln!(s, "{row}");
        }
        let (cell, ok) = p99_cell(r, "postgres");
        let _ = writeln!(s, "| PostgreSQL p99 < 25 ms | {cell} | {} |", mark(ok));
    }
    // Size L: 10 M generated; about 2 % of the draws make no case (see `dataset`).
    let is_l = |x: &&super::ReadSet| x.cases > super::Size::M.cases();
    for x in r.reads.iter().filter(is_l) {
        let _ = writeln!(
            s,
            "| inbox page at 10 M p99 < 5 ms ({}, {} cases, one client) | {:.2} ms | {} |",
            x.backend,
            x.cases,
            x.inbox_one.latency.p99_ms,
            mark(x.inbox_one.latency.p99_ms < 5.0)
        );
        let _ = writeln!(
            s,
            "| inbox page at 10 M p99 < 5 ms ({}, 8 clients on 2 cores) | {:.2} ms | {} |",
            x.backend,
            x.inbox.latency.p99_ms,
            mark(x.inbox.latency.p99_ms < 5.0)
        );
        let _ = writeln!(
            s,
            "| statistics over 10 M < 50 ms ({}) | {:.2} ms (slowest of 20; the run's first query on the dataset {:.2} ms) | {} |",
            x.backend,
            x.stats_ms_max,
            x.stats_ms_first,
            mark(x.stats_ms_max < 50.0)
        );
        let _ = writeln!(
            s,
            "| KPI report over 10 M ({}) | {:.2} ms (slowest of 20; the run's first {:.2} ms) | — |",
            x.backend, x.kpi_ms_max, x.kpi_ms_first
        );
    }
    if !r.reads.iter().any(|x| is_l(&x)) {
        let _ = writeln!(
            s,
            "| inbox page and statistics at 10 M | not run at size L in this run | — |"
        );
    }
    let _ = writeln!(
        s,
        "| deadline in constant time | {:.1} ns (n = 1) vs {:.1} ns (n = 2,000) | {} |",
        d.ns_n1,
        d.ns_n2000,
        mark(d.ns_n2000 < d.ns_n1 * 2.0)
    );
    if let Some(st) = &r.startup {
        let _ = writeln!(
            s,
            "| answers within 1 s of a cold start | {:.0} ms | {} |",
            st.first_answer_ms,
            mark(st.first_answer_ms < 1000.0)
        );
        let _ = writeln!(
            s,
            "| idle memory < 100 MB | {:.1} MB once settled ({:.1} MB at 3 s) | {} |",
            st.idle_rss_mb,
            st.rss_at_3s_mb,
            mark(st.idle_rss_mb < 100.0)
        );
    }
    let _ = writeln!(
        s,
        "\nThe full figures of this run are in `target/bench/bench.json` when run with the defaults."
    );
    s
}

#[cfg(test)]
mod tests {
    use super::{settled, sqlite_ratio_rows, startup_of};
    use std::path::Path;

    /// A server that exits without answering is reported as such at once, not waited
    /// for (until the 30 s give-up, whose error says something else).
    #[test]
    fn a_server_that_exits_before_answering_is_reported() {
        let e = startup_of(Path::new("/bin/false"), Path::new("/nonexistent/x.db"))
            .expect_err("/bin/false never answers");
        assert!(e.to_string().contains("exited"), "{e}");
    }

    /// Idle memory is the first of three readings in a row that agree: after a drop
    /// (the start's memory given back), the level it drops to; a level that holds from
    /// the first reading, that level; readings that never agree, none.
    #[test]
    fn idle_memory_is_the_level_the_readings_settle_at() {
        assert_eq!(settled(&[92.0, 82.1, 82.0, 82.3]), Some(82.1));
        assert_eq!(settled(&[97.6, 97.6, 97.5]), Some(97.6));
        assert_eq!(settled(&[90.0, 80.0, 91.0, 81.0]), None);
        assert_eq!(settled(&[80.0, 81.0]), None);
    }

    /// The ratio target is judged on our schema's ceiling, and the bare tables' row says
    /// plainly whether the stricter reference is met: each row's verdict follows its own
    /// figure, 25 % included.
    #[test]
    fn the_sqlite_ratio_is_judged_on_our_schema_with_the_bare_tables_beside() {
        let [judged, bare] = sqlite_ratio_rows(38.1, 19.6);
        assert!(judged.contains("38 % of our schema's"), "{judged}");
        assert!(judged.ends_with("| met |"), "{judged}");
        assert!(bare.contains("| 20 % |"), "{bare}");
        assert!(bare.ends_with("| **not met** |"), "{bare}");
        let [judged, bare] = sqlite_ratio_rows(24.9, 25.0);
        assert!(judged.ends_with("| **not met** |"), "{judged}");
        assert!(bare.ends_with("| met |"), "{bare}");
    }
}

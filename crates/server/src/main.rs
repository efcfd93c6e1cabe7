//! `tongban`: the one binary. `serve` runs the platform (demo data on an empty
//! database), `migrate` brings a database's schema up to date, `calendar deadline`
//! answers a working-day question.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

/// mimalloc: faster than the system allocator for the many short-lived strings a request
/// makes, and it does not stall in consolidation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use tongban::{demo, redact};
use tongban_core::calendar::{Calendar, builtin};
use tongban_store::{Db, DbUrl, Options};
use tongban_web::auth::PasswordCost;
use tongban_web::clock::{Clock, SystemClock};
use tongban_web::{AppState, Settings};

/// Tongban 通办 — 一体化政务服务平台.
#[derive(Parser, Debug)]
#[command(name = "tongban", version, about)]
struct Cli {
    /// Database: `sqlite://path/to/file.db` (default) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "TONGBAN_DATABASE_URL",
        default_value = "sqlite://data/tongban.db",
        global = true
    )]
    database_url: String,
    /// PostgreSQL connections per server for reads.
    #[arg(long, env = "TONGBAN_PG_POOL", default_value_t = 16, global = true)]
    pg_pool: usize,
    /// PostgreSQL writer threads per server (each group-commits the writes it gathers;
    /// the first also runs the use cases that are not replayed).
    #[arg(long, env = "TONGBAN_PG_WRITERS", default_value_t = 2, global = true)]
    pg_writers: usize,
    /// For PostgreSQL-compatible distributed engines (CockroachDB, YugabyteDB): no table
    /// lock in migrations (run `tongban migrate` once first) and no COLLATE "C".
    #[arg(long, env = "TONGBAN_PORTABLE_SQL", global = true)]
    portable_sql: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the platform.
    Serve(ServeArgs),
    /// Create or update the database schema, then exit.
    Migrate,
    /// Run the benchmark suite and write docs/PERFORMANCE.md.
    Bench(BenchArgs),
    /// Working-day calendar questions.
    Calendar {
        #[command(subcommand)]
        q: CalendarCmd,
    },
    /// Import the catalog from a spreadsheet (docs/IMPORT.md).
    Import {
        #[command(subcommand)]
        what: ImportCmd,
    },
    /// Export the catalog to a spreadsheet (docs/IMPORT.md).
    Export {
        #[command(subcommand)]
        what: ExportCmd,
    },
    /// Catalog search: rebuild every server's index, or try a query.
    Search {
        #[command(subcommand)]
        q: SearchCmd,
    },
}

#[derive(Subcommand, Debug)]
enum ImportCmd {
    /// Check every row of FILE (.xlsx, a .zip of .csv, or one .csv), report every
    /// problem by cell, and write the catalog only if there is none.
    Catalog {
        /// The file.
        file: std::path::PathBuf,
        /// The catalog administrator the changes are made as (their region bounds them).
        #[arg(long = "as", default_value = "catalog")]
        as_user: String,
        /// Only check and report what would change.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ExportCmd {
    /// Write the catalog to FILE: .xlsx, or .zip for one CSV per sheet.
    Catalog {
        /// The file to write.
        file: std::path::PathBuf,
        /// The catalog administrator whose region is exported.
        #[arg(long = "as", default_value = "catalog")]
        as_user: String,
    },
}

#[derive(Subcommand, Debug)]
enum SearchCmd {
    /// Ask every server on the database to rebuild its index from the database (each
    /// does so within seconds, at its next look at the catalog revision).
    Rebuild,
    /// Build an index from the database here and show what a query finds.
    Query {
        /// What a person would type, e.g. 开饭店 or yyzz.
        text: String,
        /// Results.
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TONGBAN_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Do not load the demo county into an empty database.
    #[arg(long, env = "TONGBAN_NO_DEMO")]
    no_demo: bool,
    /// Where uploaded materials are stored.
    #[arg(long, env = "TONGBAN_FILES_DIR", default_value = "data/files")]
    files_dir: std::path::PathBuf,
    /// Working days left at which a deadline turns yellow.
    #[arg(long, env = "TONGBAN_YELLOW_DAYS", default_value_t = 1)]
    yellow_days: u32,
    /// Mark cookies Secure (set when served over HTTPS).
    #[arg(long, env = "TONGBAN_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Take client addresses from X-Forwarded-For (behind a trusted proxy).
    #[arg(long, env = "TONGBAN_TRUST_PROXY")]
    trust_proxy: bool,
    /// Seconds between runs of each background job (shared by all servers on the database).
    #[arg(long, env = "TONGBAN_JOBS_EVERY", default_value_t = 300)]
    jobs_every: u64,
}

/// A dataset size on the command line: s, m or l, or `none` (no dataset).
fn size_arg(s: &str) -> Result<Option<tongban::bench::Size>, String> {
    match s {
        "none" => Ok(None),
        _ => tongban::bench::Size::parse(s)
            .map(Some)
            .ok_or_else(|| "sizes are s, m, l or none".to_string()),
    }
}

#[derive(clap::Args, Debug)]
struct BenchArgs {
    /// Dataset sizes for reads and statistics: s (10 k), m (1 M), l (10 M); `none` skips them.
    #[arg(long, default_value = "s,m", value_delimiter = ',', value_parser = size_arg)]
    sizes: Vec<Option<tongban::bench::Size>>,
    /// Concurrent clients for the lifecycle workload (each one connection).
    #[arg(long, default_value = "1,8,64", value_delimiter = ',',
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4_096))]
    clients: Vec<usize>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    seconds: u64,
    /// A PostgreSQL server to also run on (an admin URL, e.g. postgres://postgres@127.0.0.1:5432/postgres).
    #[arg(long, env = "TONGBAN_BENCH_POSTGRES_URL")]
    postgres_url: Option<String>,
    /// Skip SQLite.
    #[arg(long)]
    no_sqlite: bool,
    /// Where the benchmark databases go.
    #[arg(long, default_value = "target/bench")]
    data_dir: std::path::PathBuf,
    /// Write the Markdown report here.
    #[arg(long, default_value = "docs/PERFORMANCE.md")]
    doc: std::path::PathBuf,
    /// Dataset seed.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Dataset sizes for PostgreSQL (default: --sizes).
    #[arg(long, value_delimiter = ',', value_parser = size_arg)]
    postgres_sizes: Option<Vec<Option<tongban::bench::Size>>>,
    /// Items in the catalog-search workload (0 skips it).
    #[arg(long, default_value_t = 100_000)]
    search_docs: usize,
    /// The source the binary was built from, for the report (`scripts/bench.sh` passes
    /// the commit of the tree it has just built, `-dirty` with uncommitted changes).
    #[arg(long, env = "TONGBAN_BENCH_SOURCE")]
    source: Option<String>,
}

#[derive(Subcommand, Debug)]
enum CalendarCmd {
    /// The deadline N working days after DATE (the day itself not counted).
    Deadline {
        /// The day of the event, YYYY-MM-DD.
        date: NaiveDate,
        /// Working days.
        working_days: u32,
    },
}

fn open(url: &str, options: &Options) -> anyhow::Result<Db> {
    let url = DbUrl::parse(url).map_err(|e| anyhow::anyhow!("{e}"))?;
    let db =
        Db::open_with(&url, options).map_err(|e| anyhow::anyhow!("opening the database: {e}"))?;
    // The calendar ships with the State Council's notices; load them into a new database.
    db.write_blocking(|tx| {
        if tx.calendar_years()?.is_empty() {
            for y in builtin::years() {
                tx.save_calendar_year(&y, 0, chrono::Utc::now())?;
            }
        }
        Ok(())
    })
    .map_err(|e| anyhow::anyhow!("loading the calendar: {e}"))?;
    Ok(db)
}

/// No transparent huge pages for this process. mimalloc asks for them on the arenas it
/// reserves, and an idle server then holds 2 MiB pages of which it uses a few KiB:
/// 125 MB resident instead of 89 MB after a cold start on a 10 k-case database, the same
/// throughput. The kernel checks the flag at each page fault, so setting it here also
/// covers the arena mimalloc reserved before `main`.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Give memory the server no longer uses back to the OS, also when it is quiet.
/// mimalloc returns freed memory a second after it was freed, but only when some thread
/// next calls into the allocator; an idle server calls none and kept some 20 MB it had
/// freed (the start's sweeps, the last requests). This thread calls in once a second:
/// what expired is returned, what was freed less than a second ago is left for reuse.
fn spawn_memory_trimmer() {
    let spawned = std::thread::Builder::new()
        .name("tb-mem-trim".into())
        .spawn(|| {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                // SAFETY: mi_collect takes a plain flag and touches only the allocator's
                // own state; it is safe from any thread at any time.
                unsafe { libmimalloc_sys::mi_collect(false) };
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "memory trimmer not started");
    }
}

fn main() -> anyhow::Result<()> {
    no_transparent_huge_pages();
    // Before anything opens a database (SQLite takes its allocator only before then).
    tongban::sqlite_heap::install();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let options = Options {
        pool_size: cli.pg_pool.max(1),
        portable_sql: cli.portable_sql,
        pg_writers: cli.pg_writers.max(1),
    };
    match cli.command {
        Command::Migrate => {
            open(&cli.database_url, &options)?;
            println!(
                "数据库已是最新结构 (schema up to date): {}",
                redact(&cli.database_url)
            );
            Ok(())
        }
        Command::Calendar {
            q: CalendarCmd::Deadline { date, working_days },
        } => {
            let db = open(&cli.database_url, &options)?;
            let years = db
                .read_blocking(|tx| tx.calendar_years())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let d = Calendar::new(&years)
                .deadline(date, working_days)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", d.deadline);
            if d.provisional {
                eprintln!("（暂定：所跨年度尚未载入国务院节假日安排，按周一至周五计算）");
            }
            Ok(())
        }
        Command::Bench(b) => {
            tongban::bench::run(&tongban::bench::Options {
                sizes: b.sizes.into_iter().flatten().collect(),
                sqlite: !b.no_sqlite,
                postgres_url: b.postgres_url,
                clients: b.clients,
                seconds: b.seconds,
                data_dir: b.data_dir,
                doc: Some(b.doc),
                seed: b.seed,
                source: b.source,
                postgres_sizes: b.postgres_sizes.map(|v| v.into_iter().flatten().collect()),
                search_docs: b.search_docs,
            })?;
            Ok(())
        }
        Command::Search { q } => search_command(&cli.database_url, &options, q),
        Command::Import { what } => import_command(&cli.database_url, &options, what),
        Command::Export { what } => export_command(&cli.database_url, &options, what),
        Command::Serve(args) => {
            spawn_memory_trimmer();
            tongban::raise_open_files_limit();
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(serve(cli.database_url, options, args))
        }
    }
}

/// The account a command acts as.
fn acting_as(db: &Db, username: &str) -> anyhow::Result<tongban_core::actor::Actor> {
    let name = username.to_string();
    let account = db
        .read_blocking(move |tx| tx.account_by_username(&name))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("没有用户名为“{username}”的账号"))?;
    if !account.active {
        anyhow::bail!("账号“{username}”已停用");
    }
    Ok(account.actor())
}

fn import_command(url: &str, options: &Options, what: ImportCmd) -> anyhow::Result<()> {
    let ImportCmd::Catalog {
        file,
        as_user,
        dry_run,
    } = what;
    let db = open(url, options)?;
    let actor = acting_as(&db, &as_user)?;
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let csv_sheet = if tongban_core::catalog::sheets::LAYOUT
        .iter()
        .any(|l| l.name == stem)
    {
        stem
    } else {
        "事项".to_string()
    };
    let wb = tongban_sheets::read(&bytes, &csv_sheet).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rows: usize = wb.sheets.iter().map(|s| s.rows.len()).sum();
    eprintln!(
        "读取 {}：{} 个工作表，{rows} 行",
        file.display(),
        wb.sheets.len()
    );
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(if dry_run { "检查" } else { "写入" });
    let pb = bar.clone();
    let cal = Calendar::new(
        &db.read_blocking(|tx| tx.calendar_years())
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let now = chrono::Utc::now();
    let run = move |tx: &mut dyn tongban_core::store::Tx| {
        let env = tongban_core::usecase::Env { now, cal: &cal };
        let progress = |done: usize, total: usize| {
            pb.set_length(total as u64);
            pb.set_position(done as u64);
        };
        tongban_core::usecase::catalog_io::import_catalog(tx, &actor, &env, &wb, dry_run, &progress)
    };
    let result = if dry_run {
        db.read_blocking(run)
    } else {
        db.write_blocking(run)
    };
    bar.finish_and_clear();
    match result {
        Ok(r) => {
            println!(
                "{}基本目录新增 {}；事项新增 {}、内容变更 {}、发布 {}、状态变更 {}、未变 {}；一件事新增 {}、变更 {}、发布 {}、未变 {}",
                if r.dry_run {
                    "（仅检查，未写入）"
                } else {
                    "导入完成："
                },
                r.basic_items_created,
                r.items_created,
                r.items_changed,
                r.items_published,
                r.items_status_changed,
                r.items_unchanged,
                r.bundles_created,
                r.bundles_changed,
                r.bundles_published,
                r.bundles_unchanged
            );
            Ok(())
        }
        Err(tongban_core::Error::Validation(fe)) => {
            let errors = tongban_core::catalog::sheets::sorted_cells(&fe);
            eprintln!("文件有 {} 处问题，未写入任何内容：", errors.len());
            for (cell, rule) in errors {
                eprintln!("  {cell}  {rule}");
            }
            std::process::exit(2);
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

fn export_command(url: &str, options: &Options, what: ExportCmd) -> anyhow::Result<()> {
    let ExportCmd::Catalog { file, as_user } = what;
    let db = open(url, options)?;
    let actor = acting_as(&db, &as_user)?;
    let format = match file.extension().and_then(|e| e.to_str()) {
        Some("xlsx") => tongban_sheets::Format::Xlsx,
        Some("zip") => tongban_sheets::Format::CsvZip,
        _ => anyhow::bail!("文件名须以 .xlsx 或 .zip 结尾"),
    };
    let wb = db
        .read_blocking(move |tx| tongban_core::usecase::catalog_io::export_catalog(tx, &actor))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bytes = tongban_sheets::write(&wb, format).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(&file, bytes).with_context(|| format!("writing {}", file.display()))?;
    let rows: Vec<String> = wb
        .sheets
        .iter()
        .filter(|s| !s.rows.is_empty())
        .map(|s| format!("{} {} 行", s.name, s.rows.len()))
        .collect();
    println!("已导出到 {}：{}", file.display(), rows.join("，"));
    Ok(())
}

fn search_command(url: &str, options: &Options, q: SearchCmd) -> anyhow::Result<()> {
    let db = open(url, options)?;
    match q {
        SearchCmd::Rebuild => {
            let rev = db
                .write_blocking(|tx| {
                    tongban_core::usecase::search::request_rebuild(
                        tx,
                        &tongban_core::actor::Actor::system(),
                    )
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("已请求重建搜索索引（第 {rev} 次）：每台服务器将在数秒内从数据库重建。");
            Ok(())
        }
        SearchCmd::Query { text, limit } => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let state = AppState::new(db, Arc::new(SystemClock), Settings::default())
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let started = std::time::Instant::now();
                let r = state
                    .search
                    .refresh(&state)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                state
                    .search
                    .refresh_popularity(&state)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                eprintln!(
                    "索引 {} 个事项，用时 {:.0} ms；检索：{}",
                    r.indexed,
                    started.elapsed().as_secs_f64() * 1e3,
                    state.search.expand(&text)
                );
                let hits = state
                    .search
                    .search(&state, &text, &tongban_search::Filters::default(), limit)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                for h in hits {
                    println!(
                        "{:>6}  {:<30} {}  ({:.2})",
                        h.item_id, h.name, h.department, h.score
                    );
                }
                Ok(())
            })
        }
    }
}

async fn serve(database_url: String, options: Options, args: ServeArgs) -> anyhow::Result<()> {
    let url = database_url.clone();
    let db = tokio::task::spawn_blocking(move || open(&url, &options)).await??;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let settings = Settings {
        yellow_days: args.yellow_days,
        password_cost: PasswordCost::default(),
        secure_cookies: args.secure_cookies,
        trust_proxy: args.trust_proxy,
        files_dir: args.files_dir.clone(),
    };
    let state =
        AppState::new(db.clone(), clock.clone(), settings).map_err(|e| anyhow::anyhow!("{e}"))?;

    let empty = db
        .read_blocking(demo::is_empty)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut accounts = None;
    if empty && !args.no_demo {
        let hash = state
            .hash_password(demo::DEMO_PASSWORD.into())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let cal = state.calendar();
        let now = clock.now();
        accounts = Some(
            db.write(move |tx| demo::load(tx, now, &cal, &hash))
                .await
                .map_err(|e| anyhow::anyhow!("loading the demo county: {e}"))?,
        );
    }

    let jobs = tongban_web::jobs::spawn(state.clone(), Duration::from_secs(args.jobs_every.max(1)));
    let follower = tongban_web::search::follow(state.clone());
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    let addr = listener.local_addr()?;
    println!();
    println!("  通办 Tongban 已启动: http://{addr}/");
    println!("  API 文档 (OpenAPI):  http://{addr}/api/v1/docs/");
    println!("  数据库: {}", redact(&database_url));
    if let Some(accounts) = &accounts {
        println!();
        println!("  演示账号（密码均为 {}）:", demo::DEMO_PASSWORD);
        for a in accounts {
            println!(
                "    {:<20} {:<12} {}",
                a.username,
                a.role.label(),
                a.description
            );
        }
        println!();
        println!(
            "  Open311 GeoReport v2: http://{addr}/open311/v2/services.json（演示 api_key: {}）",
            demo::DEMO_OPEN311_KEY
        );
    }
    println!();
    tongban_web::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    jobs.abort();
    follower.abort();
    db.close();
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command};

    fn bench(args: &[&str]) -> Result<super::BenchArgs, String> {
        let argv = ["tongban", "bench"].iter().chain(args);
        match Cli::try_parse_from(argv)
            .map_err(|e| e.to_string())?
            .command
        {
            Command::Bench(b) => Ok(b),
            other => Err(format!("not bench: {other:?}")),
        }
    }

    /// A benchmark asked for what it cannot measure is refused before it starts, naming
    /// the option and what it takes, instead of running minutes to report nothing.
    #[test]
    fn bench_options_out_of_range_are_refused_naming_the_option() {
        for (args, option) in [
            (&["--clients", "0"][..], "--clients"),
            (&["--clients", "8,5000"], "--clients"),
            (&["--seconds", "0"], "--seconds"),
            (&["--sizes", "s,xl"], "--sizes"),
            (&["--postgres-sizes", "q"], "--postgres-sizes"),
        ] {
            let e = bench(args).expect_err("refused");
            assert!(
                e.contains(option) && e.contains("invalid value"),
                "{args:?}: {e}"
            );
        }
        let b = bench(&[
            "--clients",
            "1,4096",
            "--seconds",
            "3600",
            "--sizes",
            "none",
        ])
        .expect("the bounds themselves are taken");
        assert_eq!(
            (b.clients, b.seconds, b.sizes),
            (vec![1, 4096], 3600, vec![None])
        );
    }
}

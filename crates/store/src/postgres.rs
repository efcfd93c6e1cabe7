//! PostgreSQL: a pool of synchronous clients, used from blocking threads.
//!
//! The named places where PostgreSQL differs from SQLite for the shared SQL:
//! - placeholders: queries are written with `?`; [`number_placeholders`] turns them into
//!   `$1, $2, …` once per statement (cached with the prepared statement);
//! - values: [`Val`] encodes itself for whatever type PostgreSQL inferred for the
//!   parameter (an integer bound to an `INT4` column is sent as `INT4`);
//! - rows: integers are read from `INT2/INT4/INT8`, whichever the expression produced;
//! - errors: unique violations are mapped by constraint name (`table_column_key`).

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, Condvar, Mutex};

use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Statement};
use tongban_core::Error;

use crate::conn::{Backend, Conn, OwnedVal, Row, Val, unique_violation};

impl ToSql for Val<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    v.to_string().as_str().to_sql(&Type::TEXT, out)
                }
                _ => Err(format!("cannot send an integer as {ty}").into()),
            },
            Val::Real(v) => match *ty {
                Type::FLOAT8 => v.to_sql(ty, out),
                Type::FLOAT4 => (*v as f32).to_sql(ty, out),
                _ => Err(format!("cannot send a float as {ty}").into()),
            },
            Val::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    s.to_sql(ty, out)
                }
                _ => Err(format!("cannot send text as {ty}").into()),
            },
            Val::Bytes(b) => match *ty {
                Type::BYTEA => b.to_sql(ty, out),
                _ => Err(format!("cannot send bytes as {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// `?` → `$1, $2, …`, outside quoted literals and identifiers.
pub fn number_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// Map a PostgreSQL error: unique violations become conflicts, the rest store errors.
pub(crate) fn map_err(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        if *db.code() == tokio_postgres::error::SqlState::UNIQUE_VIOLATION {
            let table = db.table().unwrap_or("");
            let constraint = db.constraint().unwrap_or("");
            let key = match constraint.strip_suffix("_pkey") {
                Some(t) => format!(
                    "{t}.{}",
                    match t {
                        "regions" | "basic_items" => "code",
                        "calendar_years" => "year",
                        _ => "id",
                    }
                ),
                None => {
                    let col = constraint
                        .strip_prefix(&format!("{table}_"))
                        .and_then(|c| c.strip_suffix("_key"))
                        .unwrap_or(constraint);
                    format!("{table}.{col}")
                }
            };
            return unique_violation(&key);
        }
        if *db.code() == tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED
            || *db.code() == tokio_postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
        {
            // Two transactions (from other servers) wanted the same rows in opposite
            // orders; one was chosen to fail. Nothing was written: it may be retried.
            return Error::Conflict("数据库并发冲突，请重试".into());
        }
        return Error::Store(format!("postgres: {}: {}", db.code().code(), db.message()));
    }
    Error::Store(format!("postgres: {e}"))
}

struct PgRow<'a>(&'a tokio_postgres::Row);

impl PgRow<'_> {
    fn ty(&self, i: usize) -> Result<&Type, Error> {
        self.0
            .columns()
            .get(i)
            .map(|c| c.type_())
            .ok_or_else(|| Error::Store(format!("no column {i}")))
    }
}

impl Row for PgRow<'_> {
    fn int(&self, i: usize) -> Result<i64, Error> {
        self.opt_int(i)?
            .ok_or_else(|| Error::Store(format!("column {i} is NULL")))
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, Error> {
        let r = match *self.ty(i)? {
            Type::INT8 => self.0.try_get::<_, Option<i64>>(i),
            Type::INT4 => self
                .0
                .try_get::<_, Option<i32>>(i)
                .map(|v| v.map(i64::from)),
            Type::INT2 => self
                .0
                .try_get::<_, Option<i16>>(i)
                .map(|v| v.map(i64::from)),
            Type::BOOL => self
                .0
                .try_get::<_, Option<bool>>(i)
                .map(|v| v.map(i64::from)),
            ref t => return Err(Error::Store(format!("column {i} is {t}, not an integer"))),
        };
        r.map_err(map_err)
    }
    fn text(&self, i: usize) -> Result<String, Error> {
        self.opt_text(i)?
            .ok_or_else(|| Error::Store(format!("column {i} is NULL")))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, Error> {
        self.0.try_get::<_, Option<String>>(i).map_err(map_err)
    }
    fn bytes(&self, i: usize) -> Result<Vec<u8>, Error> {
        self.0.try_get::<_, Vec<u8>>(i).map_err(map_err)
    }
    fn real(&self, i: usize) -> Result<f64, Error> {
        match *self.ty(i)? {
            Type::FLOAT4 => self.0.try_get::<_, f32>(i).map(f64::from).map_err(map_err),
            _ => self.0.try_get::<_, f64>(i).map_err(map_err),
        }
    }
}

/// A PostgreSQL client with its prepared statements.
///
/// The client is `tokio-postgres` driven by a runtime of its own on the calling thread
/// (as the synchronous `postgres` crate does), so that several statements can be sent
/// before their answers are read: [`Conn::execute_many`] is one round trip, and a
/// transaction's `BEGIN` travels with its first statement.
pub struct PgConn {
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
    statements: HashMap<String, Statement>,
    /// Statement lookups since `statements` was last emptied ([`REPREPARE_EVERY`]).
    lookups: u32,
    /// Transaction control and appends not sent yet, in the order they were made: they
    /// go out ahead of the next statement, in its round trip.
    pending: Vec<Held>,
    /// A lazily opened transaction whose `BEGIN` is still pending.
    unopened: bool,
}

/// Something held back to go out with the next statement.
enum Held {
    /// Transaction control (`SAVEPOINT`, `RELEASE` …), as a simple query.
    Control(&'static str),
    /// A plain `INSERT` ([`Conn::append`]).
    Append(Statement, Vec<OwnedVal>),
}

/// Send what was held back, in order (runs of transaction control as one simple
/// query), without awaiting any answer: the caller queues its own statement behind it
/// before awaiting both. The first failure is the answer.
async fn send_held(
    client: &tokio_postgres::Client,
    held: Vec<Held>,
) -> Result<(), tokio_postgres::Error> {
    type Sent<'a> = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), tokio_postgres::Error>> + 'a>,
    >;
    let control =
        |sql: String| -> Sent<'_> { Box::pin(async move { client.batch_execute(&sql).await }) };
    let mut sends: Vec<Sent> = Vec::with_capacity(held.len());
    let mut controls: Vec<&'static str> = Vec::new();
    for h in held {
        match h {
            Held::Control(sql) => controls.push(sql),
            Held::Append(st, p) => {
                if !controls.is_empty() {
                    sends.push(control(controls.join("; ")));
                    controls.clear();
                }
                sends.push(Box::pin(async move {
                    let vals: Vec<Val> = p.iter().map(OwnedVal::borrow).collect();
                    client.execute(&st, &refs(&vals)).await.map(|_| ())
                }));
            }
        }
    }
    if !controls.is_empty() {
        sends.push(control(controls.join("; ")));
    }
    for r in futures_util::future::join_all(sends).await {
        r?;
    }
    Ok(())
}

/// Statement lookups after which a connection prepares its statements again.
///
/// PostgreSQL plans a prepared statement for its first five runs, then keeps one
/// generic plan until the table's statistics change (an `ANALYZE`, which autovacuum
/// runs at most once a minute per database). A plan made while a table was small (a
/// new database, a county's first hours, every benchmark run) can outlive that size:
/// the writer's saves of a group of cases (`UPDATE cases … FROM (VALUES …)`) were seen
/// hash-joining a sequential scan of `cases` planned for 390 rows while the table grew
/// past 20,000, which cost a third of the lifecycle's throughput for as long as it
/// lasted. Preparing again every few thousand statements (every second or two under
/// load, a few dozen statements each time) bounds how long a plan can be outgrown;
/// preparing every statement each time (`plan_cache_mode = force_custom_plan`) costs
/// about 35 µs per transition.
const REPREPARE_EVERY: u32 = 8192;

impl PgConn {
    fn statement(&mut self, sql: &str) -> Result<Statement, Error> {
        self.lookups += 1;
        if self.lookups >= REPREPARE_EVERY {
            // Dropping a `Statement` closes it on the server once no one holds it.
            self.lookups = 0;
            self.statements.clear();
        }
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        // What is held back goes first: after a failed statement the transaction
        // accepts nothing (not even a prepare) until a pending `ROLLBACK TO`.
        let numbered = number_placeholders(sql);
        let st = self.run(async |c| c.prepare(&numbered).await)?;
        if self.statements.len() > 512 {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    /// Open a transaction with `begin` when the first statement is sent (in the same
    /// round trip). If none is, there is no transaction to end: see [`PgConn::end`].
    fn begin_lazily(&mut self, begin: &'static str) {
        self.pending.push(Held::Control(begin));
        self.unopened = true;
    }

    /// End the transaction opened by [`PgConn::begin_lazily`], if it was opened.
    fn end(&mut self, sql: &str) -> Result<(), Error> {
        if self.unopened {
            self.unopened = false;
            self.pending.clear();
            return Ok(());
        }
        self.batch(sql)
    }

    /// What is held back, to be sent now.
    fn take_pending(&mut self) -> Vec<Held> {
        self.unopened = false;
        std::mem::take(&mut self.pending)
    }

    /// Run `f` on the client, preceded in the same pipeline by what is pending.
    fn run<T, F>(&mut self, f: F) -> Result<T, Error>
    where
        F: AsyncFnOnce(&tokio_postgres::Client) -> Result<T, tokio_postgres::Error>,
    {
        let pending = self.take_pending();
        let client = &self.client;
        if pending.is_empty() {
            return self.rt.block_on(f(client)).map_err(map_err);
        }
        let (b, r) = self.rt.block_on(futures_util::future::join(
            send_held(client, pending),
            f(client),
        ));
        b.map_err(map_err)?;
        r.map_err(map_err)
    }
}

fn refs<'a>(params: &'a [Val<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Conn for PgConn {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, Error> {
        let st = self.statement(sql)?;
        let p = refs(params);
        self.run(async |c| c.execute(&st, &p).await)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Val],
        f: &mut dyn FnMut(&dyn Row) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let st = self.statement(sql)?;
        let p = refs(params);
        for r in self.run(async |c| c.query(&st, &p).await)? {
            f(&PgRow(&r))?;
        }
        Ok(())
    }

    fn batch(&mut self, sql: &str) -> Result<(), Error> {
        self.run(async |c| c.batch_execute(sql).await)
    }

    fn batch_deferred(&mut self, sql: &'static str) -> Result<(), Error> {
        self.pending.push(Held::Control(sql));
        Ok(())
    }

    fn append(&mut self, sql: &str, params: &[Val]) -> Result<(), Error> {
        let st = self.statement(sql)?;
        self.pending
            .push(Held::Append(st, params.iter().map(OwnedVal::of).collect()));
        // There is now something to send: a lazily opened transaction is opened by it.
        self.unopened = false;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Error> {
        if !self.pending.iter().any(|h| matches!(h, Held::Append(..))) {
            return Ok(());
        }
        self.run(async |_| Ok(()))
    }

    fn execute_many(&mut self, stmts: &[(&str, &[Val])]) -> Vec<Result<u64, Error>> {
        let mut prepared = Vec::with_capacity(stmts.len());
        for (sql, _) in stmts {
            match self.statement(sql) {
                Ok(st) => prepared.push(st),
                Err(e) => {
                    // Nothing was sent: every statement is reported as not run.
                    let msg = e.to_string();
                    return stmts
                        .iter()
                        .map(|_| Err(Error::Store(msg.clone())))
                        .collect();
                }
            }
        }
        let params: Vec<Vec<&(dyn ToSql + Sync)>> = stmts.iter().map(|(_, p)| refs(p)).collect();
        let held = self.take_pending();
        let client = &self.client;
        // Every request is queued before any answer is awaited: one pipeline.
        let all = futures_util::future::join_all(
            prepared
                .iter()
                .zip(&params)
                .map(|(st, p)| client.execute(st, p.as_slice())),
        );
        let (b, rows) = self
            .rt
            .block_on(futures_util::future::join(send_held(client, held), all));
        if let Err(e) = b {
            let msg = map_err(e).to_string();
            return stmts
                .iter()
                .map(|_| Err(Error::Store(msg.clone())))
                .collect();
        }
        rows.into_iter().map(|r| r.map_err(map_err)).collect()
    }
}

/// A fixed-size pool of clients.
pub struct PgPool {
    url: String,
    idle: Mutex<Vec<PgConn>>,
    open: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

/// A connection to `url` without running the migrations (to test them).
#[cfg(test)]
pub(crate) fn connect_unmigrated(url: &str) -> Result<PgConn, Error> {
    PgPool {
        url: url.to_string(),
        idle: Mutex::new(Vec::new()),
        open: Mutex::new(0),
        freed: Condvar::new(),
        max: 1,
    }
    .connect()
}

impl PgPool {
    /// Connect once (to fail early), run migrations.
    pub fn open(url: &str, max: usize, portable_sql: bool) -> Result<Arc<PgPool>, Error> {
        let pool = Arc::new(PgPool {
            url: url.to_string(),
            idle: Mutex::new(Vec::new()),
            open: Mutex::new(0),
            freed: Condvar::new(),
            max: max.max(1),
        });
        let mut c = pool.connect()?;
        crate::migrate::run(&mut c, portable_sql)?;
        pool.put(c);
        *pool
            .open
            .lock()
            .map_err(|_| Error::Store("pool poisoned".into()))? = 1;
        Ok(pool)
    }

    /// A new connection outside the pool (for the writer threads).
    pub(crate) fn connect(&self) -> Result<PgConn, Error> {
        self.connect_with("SET client_min_messages TO WARNING")
    }

    /// A pooled connection: read-only unless a transaction says otherwise.
    fn connect_reader(&self) -> Result<PgConn, Error> {
        self.connect_with(
            "SET client_min_messages TO WARNING; \
             SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        )
    }

    fn connect_with(&self, setup: &str) -> Result<PgConn, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Store(format!("postgres client runtime: {e}")))?;
        let (client, connection) = rt
            .block_on(tokio_postgres::connect(&self.url, NoTls))
            .map_err(map_err)?;
        // Driven whenever the client waits on this thread's runtime.
        rt.spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "postgres connection closed");
            }
        });
        let mut c = PgConn {
            rt,
            client,
            statements: HashMap::new(),
            lookups: 0,
            pending: Vec::new(),
            unopened: false,
        };
        // NOTICEs (e.g. "already exists, skipping") are not worth a log line.
        c.batch(setup)?;
        Ok(c)
    }

    fn take(&self) -> Result<PgConn, Error> {
        loop {
            if let Some(c) = self
                .idle
                .lock()
                .map_err(|_| Error::Store("pool poisoned".into()))?
                .pop()
            {
                if !c.client.is_closed() {
                    return Ok(c);
                }
                *self
                    .open
                    .lock()
                    .map_err(|_| Error::Store("pool poisoned".into()))? -= 1;
                continue;
            }
            let mut open = self
                .open
                .lock()
                .map_err(|_| Error::Store("pool poisoned".into()))?;
            if *open < self.max {
                *open += 1;
                drop(open);
                return self.connect_reader().inspect_err(|_| {
                    if let Ok(mut o) = self.open.lock() {
                        *o -= 1;
                    }
                });
            }
            let (guard, _) = self
                .freed
                .wait_timeout(open, std::time::Duration::from_millis(50))
                .map_err(|_| Error::Store("pool poisoned".into()))?;
            drop(guard);
        }
    }

    fn put(&self, c: PgConn) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(c);
        }
        self.freed.notify_one();
    }

    fn discard(&self) {
        if let Ok(mut o) = self.open.lock() {
            *o = o.saturating_sub(1);
        }
        self.freed.notify_one();
    }

    /// Run `f` read-only, or (not `read_only`) in a read-write transaction committed
    /// when it succeeds.
    ///
    /// A read runs its statements without `BEGIN … COMMIT`, each on its own: under
    /// `READ COMMITTED` every statement takes its own snapshot either way, so the
    /// transaction would only cost two more statements per read. The session is
    /// read-only, so a read that tries to write still fails.
    pub fn run<R>(
        &self,
        read_only: bool,
        f: impl FnOnce(&mut dyn Conn) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut c = self.take()?;
        if !read_only {
            c.begin_lazily("BEGIN READ WRITE");
        }
        let r = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut c))) {
            Ok(r) => r,
            Err(panic) => {
                // The connection may be mid-transaction: drop it and free its place.
                drop(c);
                self.discard();
                std::panic::resume_unwind(panic);
            }
        };
        let end = match (&r, read_only) {
            (_, true) => Ok(()),
            (Ok(_), false) => c.end("COMMIT"),
            (Err(_), false) => c.end("ROLLBACK"),
        };
        match end {
            Ok(()) => self.put(c),
            Err(_) => self.discard(),
        }
        let r = r?;
        end?;
        Ok(r)
    }
}

impl Drop for PgPool {
    fn drop(&mut self) {
        // Closing a synchronous client blocks; never do that on an async worker thread.
        let idle = self.idle.get_mut().map(std::mem::take).unwrap_or_default();
        crate::off_runtime(move || drop(idle));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::ConnExt;

    #[test]
    fn placeholders_are_numbered_outside_literals() {
        assert_eq!(
            number_placeholders("SELECT a FROM t WHERE b = ? AND c = '?' AND d IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d IN ($2, $3)"
        );
    }

    /// A statement is prepared anew after [`REPREPARE_EVERY`] lookups, and the old
    /// one is closed on the server.
    #[test]
    fn statements_are_prepared_again_now_and_then() {
        let Some(crate::DbUrl::Postgres(url)) = crate::testing::postgres_url() else {
            return;
        };
        let mut c = connect_unmigrated(&url).unwrap();
        let add = |c: &mut PgConn| c.one("SELECT ?::bigint + 1", &[1i64.into()], |r| r.int(0));
        let names = |c: &mut PgConn| {
            c.all(
                "SELECT name FROM pg_prepared_statements WHERE statement = 'SELECT $1::bigint + 1'",
                &[],
                |r| r.text(0),
            )
        };
        assert_eq!(add(&mut c).unwrap(), 2);
        let first = names(&mut c).unwrap();
        assert_eq!(first.len(), 1);
        // The same statement until the count is reached …
        for _ in 0..REPREPARE_EVERY / 2 {
            add(&mut c).unwrap();
        }
        assert_eq!(names(&mut c).unwrap(), first);
        // … then another, and only that one.
        for _ in 0..REPREPARE_EVERY / 2 {
            assert_eq!(add(&mut c).unwrap(), 2);
        }
        let later = names(&mut c).unwrap();
        assert_eq!(later.len(), 1);
        assert_ne!(later, first);
    }
}

//! The one seam between the SQL code path and the two database drivers.
//!
//! All queries are written once, with `?` placeholders, against [`Conn`]. What differs
//! per backend lives in a few named places: placeholder numbering and value
//! encoding for PostgreSQL (`postgres.rs`), the DDL tokens in `migrate.rs`, and the
//! mapping of unique-key violations ([`unique_violation`]).

use tongban_core::Error;

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    /// NULL.
    Null,
    /// An integer (booleans are stored as 0/1).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(&'a str),
}

impl From<i64> for Val<'_> {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<u32> for Val<'_> {
    fn from(v: u32) -> Self {
        Val::Int(i64::from(v))
    }
}
impl From<i32> for Val<'_> {
    fn from(v: i32) -> Self {
        Val::Int(i64::from(v))
    }
}
impl From<bool> for Val<'_> {
    fn from(v: bool) -> Self {
        Val::Int(i64::from(v))
    }
}
impl From<f64> for Val<'_> {
    fn from(v: f64) -> Self {
        Val::Real(v)
    }
}
impl<'a> From<&'a str> for Val<'a> {
    fn from(v: &'a str) -> Self {
        Val::Text(v)
    }
}
impl<'a> From<&'a String> for Val<'a> {
    fn from(v: &'a String) -> Self {
        Val::Text(v.as_str())
    }
}
impl<'a, T: Into<Val<'a>>> From<Option<T>> for Val<'a> {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Val::Null)
    }
}

/// A result row.
pub trait Row {
    /// An integer column.
    fn int(&self, i: usize) -> Result<i64, Error>;
    /// A nullable integer column.
    fn opt_int(&self, i: usize) -> Result<Option<i64>, Error>;
    /// A text column.
    fn text(&self, i: usize) -> Result<String, Error>;
    /// A nullable text column.
    fn opt_text(&self, i: usize) -> Result<Option<String>, Error>;
    /// A float column.
    fn real(&self, i: usize) -> Result<f64, Error>;
}

/// A connection, inside the transaction its owner opened.
pub trait Conn {
    /// Which database.
    fn backend(&self) -> Backend;
    /// Run a statement; returns the rows changed.
    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, Error>;
    /// Run a query, calling `f` for each row.
    fn query(
        &mut self,
        sql: &str,
        params: &[Val],
        f: &mut dyn FnMut(&dyn Row) -> Result<(), Error>,
    ) -> Result<(), Error>;
    /// Run several statements without parameters (DDL, transaction control).
    fn batch(&mut self, sql: &str) -> Result<(), Error>;
}

/// Query helpers over any [`Conn`].
pub trait ConnExt: Conn {
    /// All rows, mapped.
    fn all<T>(
        &mut self,
        sql: &str,
        params: &[Val],
        map: impl Fn(&dyn Row) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        self.query(sql, params, &mut |r| {
            out.push(map(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row, mapped, if any.
    fn opt<T>(
        &mut self,
        sql: &str,
        params: &[Val],
        map: impl Fn(&dyn Row) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        let mut out = None;
        self.query(sql, params, &mut |r| {
            if out.is_none() {
                out = Some(map(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row, mapped; an error if there is none.
    fn one<T>(
        &mut self,
        sql: &str,
        params: &[Val],
        map: impl Fn(&dyn Row) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.opt(sql, params, map)?
            .ok_or_else(|| Error::Store(format!("no row for: {sql}")))
    }
}

impl<C: Conn + ?Sized> ConnExt for C {}

/// Turn a unique-key violation on `table.column` into a user-facing conflict.
/// Both drivers report the violated key; this is the one table of messages.
pub fn unique_violation(key: &str) -> Error {
    let msg = match key {
        "accounts.username" => "用户名已被使用",
        "departments.credit_code" => "该统一社会信用代码已登记",
        "items.code" => "实施编码已存在",
        "basic_items.code" => "基本编码已存在",
        "applicants.identifier" => "该证件号码已登记",
        "regions.code" => "区划代码已存在",
        "cases.number" => "办件编号重复",
        "calendar_years.year" => "该年度日历已存在",
        _ => "数据重复",
    };
    Error::Conflict(msg.to_string())
}

/// A JSON column into a value.
pub fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, Error> {
    serde_json::from_str(s).map_err(|e| Error::Store(format!("bad stored JSON: {e}")))
}

/// A value into a JSON column.
pub fn to_json<T: serde::Serialize>(v: &T) -> Result<String, Error> {
    serde_json::to_string(v).map_err(|e| Error::Store(format!("JSON: {e}")))
}

//! The HTTP suite: the whole application in-process, on SQLite and on PostgreSQL.

mod app;
mod flows;

//! The HTTP suite: the whole application in-process, on SQLite and on PostgreSQL.

mod app;
mod auth;
mod bundles;
mod calendar;
mod catalog;
mod catalog_io;
mod flows;
mod hotline;
mod input;
mod kpi;
mod nodes;
mod pages;
mod ratings;
mod scope;
mod search;
mod stats;

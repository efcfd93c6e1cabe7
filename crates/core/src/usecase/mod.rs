//! Use cases: load, check permission, apply the rule, save — through one [`Tx`], so
//! that each commits whole or not at all. HTTP handlers and pages call these and
//! nothing else.

pub mod auth;
pub mod bundles;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod catalog_io;
pub mod exports;
pub mod hotline;
pub mod jobs;
pub mod kpi;
pub mod kpi_sheet;
pub mod org;
pub mod ratings;
pub mod search;
pub mod stats;
pub mod supervision;

use chrono::{DateTime, NaiveDate, Utc};

use crate::calendar::Calendar;

/// What every use case gets besides the store: the time and the calendar.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// Now (injected; never read from a clock here).
    pub now: DateTime<Utc>,
    /// The working-day calendar in force.
    pub cal: &'a Calendar,
}

impl Env<'_> {
    /// Today in China.
    pub fn today(&self) -> NaiveDate {
        crate::time::china_date(self.now)
    }
}

/// Trim and check a required text of at most `max` characters.
pub(crate) fn text(
    e: &mut crate::FieldErrors,
    field: &str,
    v: &str,
    what: &str,
    max: usize,
) -> String {
    let t = v.trim();
    if t.is_empty() {
        e.add(field, format!("须填写{what}"));
    } else if t.chars().count() > max {
        e.add(field, format!("{what}不能超过 {max} 字"));
    }
    t.to_string()
}

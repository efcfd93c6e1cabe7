//! The working-day calendar (工作日历).
//!
//! Limits are counted in working days (行政许可法 §82): Monday–Friday, minus the official
//! holidays, plus the weekend days the State Council's yearly notice makes working days
//! (调休). The notices are data ([`CalendarYear`]), shipped for 2020–2026 in
//! [`builtin`] and editable by administrators.
//!
//! [`Calendar`] precomputes, for every day from 2000 to 2099, how many working days
//! precede it and where each working day falls, so that [`Calendar::deadline`] is two
//! array reads. For a year no notice covers, Monday–Friday is assumed and the result is
//! marked provisional.

pub mod builtin;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use crate::error::FieldErrors;

/// First day the calendar covers.
pub const FIRST_YEAR: i32 = 2000;
/// Last year the calendar covers.
pub const LAST_YEAR: i32 = 2099;
/// The longest limit the calendar counts (ten years of working days).
pub const MAX_WORKING_DAYS: u32 = 2500;

/// A named day in a year's notice.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct NamedDay {
    /// The date.
    pub date: NaiveDate,
    /// The festival it belongs to, e.g. 春节.
    pub name: String,
}

/// One year's notice: its holidays and its adjusted working days.
/// 国务院办公厅关于 YYYY 年部分节假日安排的通知.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CalendarYear {
    /// The year.
    pub year: i32,
    /// Days off (放假), weekend days inside a holiday included.
    pub holidays: Vec<NamedDay>,
    /// Weekend days made working days (调休上班).
    pub adjusted_workdays: Vec<NamedDay>,
    /// Where the data comes from (the notice's title).
    pub source: String,
}

impl CalendarYear {
    /// Check a year's data: dates inside the year, no day both off and on, adjusted
    /// working days on weekends only, no duplicates.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if !(FIRST_YEAR..=LAST_YEAR).contains(&self.year) {
            e.add("year", format!("年份须在 {FIRST_YEAR}–{LAST_YEAR} 之间"));
            return Err(e);
        }
        let mut seen = BTreeSet::new();
        for (i, d) in self.holidays.iter().enumerate() {
            if d.date.year() != self.year {
                e.add(format!("holidays[{i}].date"), "日期不在该年度内");
            }
            if d.name.trim().is_empty() {
                e.add(format!("holidays[{i}].name"), "节日名称不能为空");
            }
            if !seen.insert(d.date) {
                e.add(format!("holidays[{i}].date"), "日期重复");
            }
        }
        for (i, d) in self.adjusted_workdays.iter().enumerate() {
            if d.date.year() != self.year {
                e.add(format!("adjusted_workdays[{i}].date"), "日期不在该年度内");
            }
            if !matches!(d.date.weekday(), Weekday::Sat | Weekday::Sun) {
                e.add(
                    format!("adjusted_workdays[{i}].date"),
                    "调休上班日必须是周六或周日",
                );
            }
            if d.name.trim().is_empty() {
                e.add(format!("adjusted_workdays[{i}].name"), "节日名称不能为空");
            }
            if !seen.insert(d.date) {
                e.add(
                    format!("adjusted_workdays[{i}].date"),
                    "日期重复或与放假日期冲突",
                );
            }
        }
        if self.source.trim().is_empty() {
            e.add("source", "须注明数据来源（通知名称）");
        }
        if e.is_empty() { Ok(()) } else { Err(e) }
    }

    /// Number of working days in the year under this notice.
    pub fn working_day_count(&self) -> u32 {
        let holidays: BTreeSet<_> = self.holidays.iter().map(|d| d.date).collect();
        let workdays: BTreeSet<_> = self.adjusted_workdays.iter().map(|d| d.date).collect();
        let mut d = NaiveDate::from_ymd_opt(self.year, 1, 1).expect("valid year");
        let mut n = 0;
        while d.year() == self.year {
            if is_working(d, &holidays, &workdays) {
                n += 1;
            }
            d += Duration::days(1);
        }
        n
    }
}

fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn is_working(
    d: NaiveDate,
    holidays: &BTreeSet<NaiveDate>,
    workdays: &BTreeSet<NaiveDate>,
) -> bool {
    workdays.contains(&d) || (is_weekday(d) && !holidays.contains(&d))
}

/// A computed deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Deadline {
    /// The last day (inclusive) by which the thing must be done.
    pub deadline: NaiveDate,
    /// True when a year after the start has no notice loaded yet (Monday–Friday assumed).
    pub provisional: bool,
}

/// Why a calendar question could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A date outside 2000–2099.
    #[error("日期超出日历范围（{FIRST_YEAR}–{LAST_YEAR} 年）")]
    OutOfRange,
    /// Too many working days asked for.
    #[error("工作日数不能超过 {MAX_WORKING_DAYS}")]
    TooManyDays,
}

/// The precomputed working-day calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    first: NaiveDate,
    /// `cum[i]` = working days in `[first, first + i]`.
    cum: Vec<u32>,
    /// `work[k]` = day index of the (k+1)-th working day.
    work: Vec<u16>,
    /// `official_before[y - FIRST_YEAR]` = number of years with a notice before year `y`.
    official_before: Vec<u16>,
    years: Vec<CalendarYear>,
}

impl Calendar {
    /// Build from the years that have notices; other years count Monday–Friday.
    /// Years are assumed valid ([`CalendarYear::validate`]); a later entry for the same
    /// year replaces an earlier one.
    pub fn new(years: &[CalendarYear]) -> Calendar {
        let mut by_year: std::collections::BTreeMap<i32, CalendarYear> = Default::default();
        for y in years {
            if (FIRST_YEAR..=LAST_YEAR).contains(&y.year) {
                by_year.insert(y.year, y.clone());
            }
        }
        let holidays: BTreeSet<NaiveDate> = by_year
            .values()
            .flat_map(|y| y.holidays.iter().map(|d| d.date))
            .collect();
        let workdays: BTreeSet<NaiveDate> = by_year
            .values()
            .flat_map(|y| y.adjusted_workdays.iter().map(|d| d.date))
            .collect();
        let first = NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1).expect("valid");
        let last = NaiveDate::from_ymd_opt(LAST_YEAR, 12, 31).expect("valid");
        let days = (last - first).num_days() as usize + 1;
        let mut cum = Vec::with_capacity(days);
        let mut work = Vec::with_capacity(days * 5 / 7 + 1);
        let mut count = 0u32;
        let mut d = first;
        for i in 0..days {
            if is_working(d, &holidays, &workdays) {
                count += 1;
                work.push(i as u16);
            }
            cum.push(count);
            d += Duration::days(1);
        }
        let mut official_before = Vec::with_capacity((LAST_YEAR - FIRST_YEAR + 2) as usize);
        let mut n = 0u16;
        for y in FIRST_YEAR..=LAST_YEAR + 1 {
            official_before.push(n);
            if by_year.contains_key(&y) {
                n += 1;
            }
        }
        Calendar {
            first,
            cum,
            work,
            official_before,
            years: by_year.into_values().collect(),
        }
    }

    /// The calendar with the notices shipped in [`builtin`].
    pub fn builtin() -> Calendar {
        Calendar::new(&builtin::years())
    }

    fn index(&self, d: NaiveDate) -> Result<usize, CalendarError> {
        let i = (d - self.first).num_days();
        if i < 0 || i as usize >= self.cum.len() {
            Err(CalendarError::OutOfRange)
        } else {
            Ok(i as usize)
        }
    }

    /// True when a notice for `year` is loaded.
    pub fn has_year(&self, year: i32) -> bool {
        self.official_years_in(year, year) == 1
    }

    fn official_years_in(&self, from: i32, to: i32) -> u16 {
        if from > to || from < FIRST_YEAR || to > LAST_YEAR {
            return 0;
        }
        let a = (from - FIRST_YEAR) as usize;
        let b = (to - FIRST_YEAR) as usize + 1;
        self.official_before[b] - self.official_before[a]
    }

    /// The notices loaded, by year.
    pub fn years(&self) -> &[CalendarYear] {
        &self.years
    }

    /// The notice for one year, if loaded.
    pub fn year(&self, year: i32) -> Option<&CalendarYear> {
        self.years.iter().find(|y| y.year == year)
    }

    /// True when `d` is a working day.
    pub fn is_working_day(&self, d: NaiveDate) -> Result<bool, CalendarError> {
        let i = self.index(d)?;
        let before = if i == 0 { 0 } else { self.cum[i - 1] };
        Ok(self.cum[i] > before)
    }

    /// `deadline(from, n)`: the day of the event is not counted; the deadline is the
    /// `n`-th working day after `from`. With `n = 0` it is `from` itself (same-day items).
    /// Constant time.
    pub fn deadline(&self, from: NaiveDate, n: u32) -> Result<Deadline, CalendarError> {
        if n > MAX_WORKING_DAYS {
            return Err(CalendarError::TooManyDays);
        }
        let i = self.index(from)?;
        if n == 0 {
            return Ok(Deadline {
                deadline: from,
                provisional: false,
            });
        }
        let k = self.cum[i] as usize + n as usize; // 1-based ordinal of the target working day
        let day = *self.work.get(k - 1).ok_or(CalendarError::OutOfRange)?;
        let date = self.first + Duration::days(i64::from(day));
        let from_next_year = (from + Duration::days(1)).year();
        let span = date.year() - from_next_year + 1;
        let provisional =
            span > 0 && i32::from(self.official_years_in(from_next_year, date.year())) != span;
        Ok(Deadline {
            deadline: date,
            provisional,
        })
    }

    /// Working days in `(a, b]`: after `a`, up to and including `b`. Negative when `b < a`.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> Result<i64, CalendarError> {
        let ia = self.index(a)?;
        let ib = self.index(b)?;
        Ok(i64::from(self.cum[ib]) - i64::from(self.cum[ia]))
    }

    /// True when counting from `from` to `to` crosses a year without a notice.
    pub fn is_provisional_between(&self, from: NaiveDate, to: NaiveDate) -> bool {
        if to <= from {
            return false;
        }
        let a = (from + Duration::days(1)).year();
        let b = to.year();
        if b < a {
            return false;
        }
        i32::from(self.official_years_in(a.max(FIRST_YEAR), b.min(LAST_YEAR))) != b - a + 1
    }
}

#[cfg(test)]
mod tests;

//! Working hours (工作时间) for clocks counted in minutes: the 30-minute sign clock of
//! a dispatched order runs only on working days, inside the working periods.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::error::{Error, FieldErrors, Result};

/// One period of the working day, China time, e.g. 08:30–12:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Period {
    /// Start, `HH:MM`.
    #[schema(value_type = String)]
    pub start: NaiveTime,
    /// End, `HH:MM`.
    #[schema(value_type = String)]
    pub end: NaiveTime,
}

/// The working day's periods, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkingHours {
    /// Periods, in order, not overlapping.
    pub periods: Vec<Period>,
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

impl Default for WorkingHours {
    /// 08:30–12:00 and 14:30–17:30, as government offices in Guangdong keep them.
    fn default() -> Self {
        WorkingHours {
            periods: vec![
                Period {
                    start: hm(8, 30),
                    end: hm(12, 0),
                },
                Period {
                    start: hm(14, 30),
                    end: hm(17, 30),
                },
            ],
        }
    }
}

const CHINA: i64 = 8;

fn local(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    (t + Duration::hours(CHINA)).naive_utc()
}

fn utc(t: chrono::NaiveDateTime) -> DateTime<Utc> {
    t.and_utc() - Duration::hours(CHINA)
}

impl WorkingHours {
    /// Check: at least one period, each starting before it ends, in order.
    pub fn validate(&self) -> Result<()> {
        let mut e = FieldErrors::new();
        if self.periods.is_empty() {
            e.add("periods", "至少需要一个工作时段");
        }
        for (i, p) in self.periods.iter().enumerate() {
            if p.start >= p.end {
                e.add(format!("periods[{i}]"), "开始时间须早于结束时间");
            }
            if i > 0 && self.periods[i - 1].end > p.start {
                e.add(format!("periods[{i}]"), "工作时段须按先后排列且不重叠");
            }
        }
        e.into_result()
    }

    /// The instant `minutes` working minutes after `from` (China time): time outside
    /// the periods, and days that are not working days, do not count. Calendar errors
    /// (a date outside 2000–2099) are store errors.
    pub fn add_minutes(
        &self,
        cal: &Calendar,
        from: DateTime<Utc>,
        minutes: u32,
    ) -> Result<DateTime<Utc>> {
        if self.periods.is_empty() {
            return Err(Error::Store("no working periods".into()));
        }
        let mut left = i64::from(minutes);
        let mut at = local(from);
        // At most one year of days: the calendar has at least one working day a week.
        for _ in 0..400 {
            let day: NaiveDate = at.date();
            if cal
                .is_working_day(day)
                .map_err(|e| Error::Store(e.to_string()))?
            {
                for p in &self.periods {
                    let (s, e) = (day.and_time(p.start), day.and_time(p.end));
                    if at >= e {
                        continue;
                    }
                    let start = at.max(s);
                    let room = (e - start).num_minutes();
                    if left <= room {
                        return Ok(utc(start + Duration::minutes(left)));
                    }
                    left -= room;
                    at = e;
                }
            }
            at = day
                .succ_opt()
                .ok_or_else(|| Error::Store("date out of range".into()))?
                .and_time(NaiveTime::MIN);
        }
        Err(Error::Store("no working time within a year".into()))
    }

    /// Working minutes between two instants (0 when `to` is not after `from`).
    pub fn minutes_between(
        &self,
        cal: &Calendar,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<i64> {
        if to <= from {
            return Ok(0);
        }
        let (a, b) = (local(from), local(to));
        let mut total = 0;
        let mut day = a.date();
        while day <= b.date() {
            if cal
                .is_working_day(day)
                .map_err(|e| Error::Store(e.to_string()))?
            {
                for p in &self.periods {
                    let s = day.and_time(p.start).max(a);
                    let e = day.and_time(p.end).min(b);
                    if e > s {
                        total += (e - s).num_minutes();
                    }
                }
            }
            day = day
                .succ_opt()
                .ok_or_else(|| Error::Store("date out of range".into()))?;
        }
        Ok(total)
    }
}

//! China Standard Time (UTC+8, no daylight saving): the day that counts for deadlines.

use chrono::{DateTime, Duration, NaiveDate, Utc};

pub mod iso;

/// The calendar date in China at instant `t`.
pub fn china_date(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(8)).date_naive()
}

/// The instant a day begins in China (00:00 China Standard Time).
pub fn china_day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc() - Duration::hours(8))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Format an instant as China local time, `YYYY-MM-DD HH:MM`.
pub fn china_datetime(t: DateTime<Utc>) -> String {
    (t + Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_utc_evening_is_the_next_day_in_china() {
        let t = DateTime::parse_from_rfc3339("2026-11-22T17:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            china_date(t),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
        assert_eq!(china_datetime(t), "2026-11-23 01:30");
    }
}

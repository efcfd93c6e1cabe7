use super::*;
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dl(cal: &Calendar, from: &str, n: u32) -> (NaiveDate, bool) {
    let r = cal.deadline(d(from), n).unwrap();
    (r.deadline, r.provisional)
}

#[test]
fn every_shipped_notice_is_valid() {
    for y in builtin::years() {
        assert_eq!(y.validate(), Ok(()), "year {}", y.year);
    }
    let years: Vec<i32> = builtin::years().iter().map(|y| y.year).collect();
    assert_eq!(years, (2020..=2026).collect::<Vec<_>>());
}

#[test]
fn the_day_of_the_event_is_not_counted() {
    let cal = Calendar::builtin();
    // Monday 2026-11-23 + 2 working days = Wednesday.
    assert_eq!(dl(&cal, "2026-11-23", 2), (d("2026-11-25"), false));
    // An event on Saturday: the first working day after is Monday.
    assert_eq!(dl(&cal, "2026-11-21", 1), (d("2026-11-23"), false));
    // Friday + 1 = Monday.
    assert_eq!(dl(&cal, "2026-11-27", 1), (d("2026-11-30"), false));
    // Zero working days: the same day (即办件).
    assert_eq!(dl(&cal, "2026-11-21", 0), (d("2026-11-21"), false));
}

#[test]
fn spring_festival_2026_and_its_working_saturdays() {
    let cal = Calendar::builtin();
    // Friday 13 Feb: Saturday 14 Feb is worked (调休), then the break 15–23 Feb.
    assert_eq!(dl(&cal, "2026-02-13", 1), (d("2026-02-14"), false));
    assert_eq!(dl(&cal, "2026-02-13", 2), (d("2026-02-24"), false));
    // Saturday 28 Feb is worked too.
    assert_eq!(dl(&cal, "2026-02-26", 2), (d("2026-02-28"), false));
    assert!(!cal.is_working_day(d("2026-02-16")).unwrap());
    assert!(cal.is_working_day(d("2026-02-14")).unwrap());
}

#[test]
fn national_day_2026() {
    let cal = Calendar::builtin();
    // Sunday 20 Sep is worked.
    assert_eq!(dl(&cal, "2026-09-18", 1), (d("2026-09-20"), false));
    // Wednesday 30 Sep → the break 1–7 Oct → Thursday 8 Oct, Friday 9, Saturday 10 (worked), Monday 12.
    assert_eq!(dl(&cal, "2026-09-30", 1), (d("2026-10-08"), false));
    assert_eq!(dl(&cal, "2026-09-30", 3), (d("2026-10-10"), false));
    assert_eq!(dl(&cal, "2026-09-30", 4), (d("2026-10-12"), false));
}

#[test]
fn the_2020_extension_cancelled_the_working_saturday() {
    let cal = Calendar::builtin();
    // Sunday 19 Jan 2020 was worked; 1 Feb (Saturday) was not, after the extension.
    assert!(cal.is_working_day(d("2020-01-19")).unwrap());
    assert!(!cal.is_working_day(d("2020-02-01")).unwrap());
    assert_eq!(dl(&cal, "2020-01-23", 1), (d("2020-02-03"), false));
}

#[test]
fn other_years_adjusted_days() {
    let cal = Calendar::builtin();
    // 2024: Sunday 4 Feb and Sunday 18 Feb worked.
    assert_eq!(dl(&cal, "2024-02-03", 1), (d("2024-02-04"), false));
    assert_eq!(dl(&cal, "2024-02-09", 1), (d("2024-02-18"), false));
    // 2023: the break from 29 Sep to 6 Oct, then Saturday 7 and Sunday 8 worked.
    assert_eq!(dl(&cal, "2023-09-28", 2), (d("2023-10-08"), false));
    // 2025: 2 days of Labour Day break → Tuesday 6 May.
    assert_eq!(dl(&cal, "2025-04-30", 1), (d("2025-05-06"), false));
}

#[test]
fn year_end_into_a_year_without_a_notice_is_provisional() {
    let cal = Calendar::builtin();
    // 31 Dec 2026 is in 2026: not provisional.
    assert_eq!(dl(&cal, "2026-12-30", 1), (d("2026-12-31"), false));
    // Into 2027, for which no notice is loaded: Monday–Friday assumed.
    assert_eq!(dl(&cal, "2026-12-30", 2), (d("2027-01-01"), true));
    // Loading 2027 makes it firm and moves it past New Year's Day.
    let mut years = builtin::years();
    years.push(CalendarYear {
        year: 2027,
        holidays: vec![NamedDay {
            date: d("2027-01-01"),
            name: "元旦".into(),
        }],
        adjusted_workdays: vec![],
        source: "测试".into(),
    });
    let cal = Calendar::new(&years);
    assert_eq!(dl(&cal, "2026-12-30", 2), (d("2027-01-04"), false));
    assert!(cal.has_year(2027));
}

#[test]
fn years_before_the_notices_are_provisional_too() {
    let cal = Calendar::builtin();
    assert_eq!(dl(&cal, "2019-12-30", 1), (d("2019-12-31"), true));
    assert!(!cal.has_year(2019));
}

#[test]
fn out_of_range_is_an_error_not_a_panic() {
    let cal = Calendar::builtin();
    assert_eq!(
        cal.deadline(d("1999-12-31"), 1),
        Err(CalendarError::OutOfRange)
    );
    assert_eq!(
        cal.deadline(d("2099-12-30"), 5),
        Err(CalendarError::OutOfRange)
    );
    assert_eq!(
        cal.deadline(d("2026-01-01"), MAX_WORKING_DAYS + 1),
        Err(CalendarError::TooManyDays)
    );
}

#[test]
fn invalid_year_data_is_refused_with_the_field() {
    let y = CalendarYear {
        year: 2027,
        holidays: vec![NamedDay {
            date: d("2026-12-31"),
            name: "元旦".into(),
        }],
        adjusted_workdays: vec![NamedDay {
            date: d("2027-01-05"),
            name: "元旦".into(),
        }],
        source: "".into(),
    };
    let e = y.validate().unwrap_err();
    assert!(e.fields().contains_key("holidays[0].date"));
    assert!(e.fields().contains_key("adjusted_workdays[0].date"));
    assert!(e.fields().contains_key("source"));
}

#[test]
fn working_day_counts_of_the_shipped_years() {
    // Every year has between 240 and 255 working days.
    for y in builtin::years() {
        let n = y.working_day_count();
        assert!((240..=255).contains(&n), "{}: {n}", y.year);
    }
}

/// The obvious slow definition, to check the precomputed one against.
fn naive_deadline(cal: &Calendar, from: NaiveDate, n: u32) -> NaiveDate {
    let mut day = from;
    let mut left = n;
    while left > 0 {
        day += Duration::days(1);
        if cal.is_working_day(day).unwrap() {
            left -= 1;
        }
    }
    day
}

proptest! {
    #[test]
    fn deadline_matches_counting_day_by_day(offset in 0i64..(365 * 8), n in 0u32..60) {
        let cal = Calendar::builtin();
        let from = d("2019-06-01") + Duration::days(offset);
        let got = cal.deadline(from, n).unwrap();
        prop_assert_eq!(got.deadline, naive_deadline(&cal, from, n));
        if n > 0 {
            prop_assert!(cal.is_working_day(got.deadline).unwrap());
            prop_assert_eq!(cal.working_days_between(from, got.deadline).unwrap(), i64::from(n));
        }
        prop_assert_eq!(got.provisional, cal.is_provisional_between(from, got.deadline));
    }

    #[test]
    fn deadlines_grow_with_n(offset in 0i64..3000, n in 1u32..200) {
        let cal = Calendar::builtin();
        let from = d("2020-01-01") + Duration::days(offset);
        let a = cal.deadline(from, n).unwrap().deadline;
        let b = cal.deadline(from, n + 1).unwrap().deadline;
        prop_assert!(b > a);
    }
}

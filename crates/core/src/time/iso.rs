//! Instants and dates to and from JSON, in exactly chrono's own format, without going
//! through `core::fmt` or chrono's general parser: a case holds some thirty of them and
//! is written whole at every transition, where chrono's formatting alone was about 3 %
//! of the server's CPU time.
//!
//! Written: an instant as `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z` (fraction
//! shortest of the three that is exact, none when zero), a date as `YYYY-MM-DD` — what
//! chrono writes. Years outside 0–9999 and leap seconds go to chrono itself. Read: that
//! form directly; anything else (an offset, a comma) through chrono as before.
//!
//! Use as `#[serde(with = "crate::time::iso::instant")]` and its `_opt`, `date`,
//! `date_opt` siblings (an optional field also needs `#[serde(default)]`).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

fn put2(b: &mut [u8], v: u32) {
    b[0] = b'0' + (v / 10) as u8;
    b[1] = b'0' + (v % 10) as u8;
}

fn put_digits(b: &mut [u8], mut v: u32) {
    for c in b.iter_mut().rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// `YYYY-MM-DD` into `b[..10]`; `false` for a year chrono writes with a sign.
fn put_date(b: &mut [u8], d: NaiveDate) -> bool {
    let y = d.year();
    if !(0..=9999).contains(&y) {
        return false;
    }
    put_digits(&mut b[0..4], y as u32);
    b[4] = b'-';
    put2(&mut b[5..7], d.month());
    b[7] = b'-';
    put2(&mut b[8..10], d.day());
    true
}

/// An instant as chrono writes it, or `None` where chrono's own writing is needed.
fn format_instant(t: &DateTime<Utc>, b: &mut [u8; 30]) -> Option<usize> {
    let n = t.naive_utc();
    let nano = n.nanosecond();
    if nano >= 1_000_000_000 || !put_date(b, n.date()) {
        return None;
    }
    b[10] = b'T';
    put2(&mut b[11..13], n.hour());
    b[13] = b':';
    put2(&mut b[14..16], n.minute());
    b[16] = b':';
    put2(&mut b[17..19], n.second());
    let mut len = 19;
    if nano != 0 {
        b[19] = b'.';
        let (v, digits) = if nano.is_multiple_of(1_000_000) {
            (nano / 1_000_000, 3)
        } else if nano.is_multiple_of(1_000) {
            (nano / 1_000, 6)
        } else {
            (nano, 9)
        };
        put_digits(&mut b[20..20 + digits], v);
        len = 20 + digits;
    }
    b[len] = b'Z';
    Some(len + 1)
}

fn digits(s: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

fn parse_date(s: &[u8]) -> Option<NaiveDate> {
    if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&s[0..4])? as i32,
        digits(&s[5..7])?,
        digits(&s[8..10])?,
    )
}

/// The form [`format_instant`] writes; `None` for any other.
fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.as_bytes();
    if s.len() < 20 || s[10] != b'T' || s[13] != b':' || s[16] != b':' || s[s.len() - 1] != b'Z' {
        return None;
    }
    let date = parse_date(&s[0..10])?;
    let (h, m, sec) = (
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    );
    let nano = match &s[19..s.len() - 1] {
        [] => 0,
        [b'.', f @ ..] if matches!(f.len(), 3 | 6 | 9) => {
            digits(f)? * 10u32.pow(9 - f.len() as u32)
        }
        _ => return None,
    };
    // Second 60 (a leap second) is not taken here; chrono reads it.
    let time = NaiveTime::from_hms_nano_opt(h, m, sec, nano)?;
    Some(NaiveDateTime::new(date, time).and_utc())
}

struct InstantVisitor;

impl Visitor<'_> for InstantVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an RFC 3339 date and time")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match parse_instant(v) {
            Some(t) => Ok(t),
            None => v
                .parse::<DateTime<chrono::FixedOffset>>()
                .map(|t| t.with_timezone(&Utc))
                .map_err(E::custom),
        }
    }
}

struct DateVisitor;

impl Visitor<'_> for DateVisitor {
    type Value = NaiveDate;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a date YYYY-MM-DD")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match parse_date(v.as_bytes()) {
            Some(d) => Ok(d),
            None => v.parse::<NaiveDate>().map_err(E::custom),
        }
    }
}

/// `DateTime<Utc>`.
pub mod instant {
    use super::*;

    /// Write as chrono does.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        let mut b = [0u8; 30];
        match format_instant(t, &mut b) {
            Some(n) => s.serialize_str(ascii(&b[..n])?),
            None => t.serialize(s),
        }
    }

    /// Read what chrono reads.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        d.deserialize_str(InstantVisitor)
    }
}

/// `NaiveDate`.
pub mod date {
    use super::*;

    /// Write as chrono does.
    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        let mut b = [0u8; 10];
        if put_date(&mut b, *d) {
            s.serialize_str(ascii(&b)?)
        } else {
            d.serialize(s)
        }
    }

    /// Read what chrono reads.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        d.deserialize_str(DateVisitor)
    }
}

/// The digits and punctuation written above, as text.
fn ascii<E: serde::ser::Error>(b: &[u8]) -> Result<&str, E> {
    std::str::from_utf8(b).map_err(E::custom)
}

/// An instant written and read by [`instant`], for the optional form.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(transparent)]
struct Instant(#[serde(with = "instant")] DateTime<Utc>);

/// A date written and read by [`date`], for the optional form.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(transparent)]
struct Date(#[serde(with = "date")] NaiveDate);

/// `Option<DateTime<Utc>>`.
pub mod instant_opt {
    use super::*;

    /// Write as chrono does; `None` as null.
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        t.map(Instant).serialize(s)
    }

    /// Read what chrono reads; null as `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Ok(Option::<Instant>::deserialize(d)?.map(|w| w.0))
    }
}

/// `Option<NaiveDate>`.
pub mod date_opt {
    use super::*;

    /// Write as chrono does; `None` as null.
    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        d.map(Date).serialize(s)
    }

    /// Read what chrono reads; null as `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        Ok(Option::<Date>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Ours {
        #[serde(with = "instant")]
        t: DateTime<Utc>,
        #[serde(default, with = "instant_opt")]
        o: Option<DateTime<Utc>>,
        #[serde(with = "date")]
        d: NaiveDate,
        #[serde(default, with = "date_opt")]
        p: Option<NaiveDate>,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Chrono {
        t: DateTime<Utc>,
        o: Option<DateTime<Utc>>,
        d: NaiveDate,
        p: Option<NaiveDate>,
    }

    fn instant_from(secs: i64, nano: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, nano).unwrap()
    }

    /// Fractions as they come: none, whole milliseconds, microseconds, nanoseconds.
    fn nanos() -> impl Strategy<Value = u32> {
        prop_oneof![
            Just(0u32),
            (0u32..1000).prop_map(|m| m * 1_000_000),
            (0u32..1_000_000).prop_map(|u| u * 1_000),
            0u32..1_000_000_000,
        ]
    }

    proptest! {
        /// The same text as chrono's, and the same value read back by both.
        #[test]
        fn written_and_read_as_chrono_does(
            // Years -300 to 12000: both sides of the 0–9999 fast path.
            secs in -71_700_000_000i64..316_500_000_000,
            nano in nanos(),
            other in proptest::option::of(0i64..4_102_444_800),
            days in -200_000i32..4_000_000,
            some_day in proptest::option::of(0i32..800_000),
        ) {
            let t = instant_from(secs, nano);
            let o = other.map(|s| instant_from(s, nano / 7));
            let d = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
            let p = some_day.and_then(NaiveDate::from_num_days_from_ce_opt);
            let ours = serde_json::to_string(&Ours { t, o, d, p }).unwrap();
            let theirs = serde_json::to_string(&Chrono { t, o, d, p }).unwrap();
            prop_assert_eq!(&ours, &theirs);
            let back: Ours = serde_json::from_str(&theirs).unwrap();
            prop_assert_eq!(back, Ours { t, o, d, p });
            let back: Chrono = serde_json::from_str(&ours).unwrap();
            prop_assert_eq!(back, Chrono { t, o, d, p });
        }
    }

    #[test]
    fn other_forms_are_read_as_chrono_reads_them() {
        for s in [
            "2026-12-03T14:37:06+08:00",
            "2026-12-03T06:37:06.5Z",
            "2026-12-03T06:37:06.1234Z",
            "2026-12-03 06:37:06Z",
            "2026-12-03T06:37:06z",
            "2016-12-31T23:59:60Z",
            "2026-12-03T24:00:00Z",
            "2026-12-03T06:37:06.Z",
            "2026-12-03T06:37:06.12345678901Z",
        ] {
            let json = format!("{{\"t\":\"{s}\",\"d\":\"2026-12-03\"}}");
            let ours: Result<Ours, _> = serde_json::from_str(&json);
            let theirs: Result<Chrono, _> = serde_json::from_str(&json);
            match (ours, theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a.t, b.t, "{s}"),
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{s}: ours {a:?}, chrono {b:?}"),
            }
        }
    }

    #[test]
    fn bad_text_is_an_error_not_a_panic() {
        for s in ["", "2026", "2026-13-01", "2026-02-30", "２０２６-12-03"] {
            let json = format!("{{\"t\":\"{s}\",\"d\":\"{s}\"}}");
            assert!(serde_json::from_str::<Ours>(&json).is_err(), "{s}");
        }
        assert!(serde_json::from_str::<Ours>(r#"{"t":5,"d":"2026-12-03"}"#).is_err());
    }

    #[test]
    fn absent_and_null_optionals_are_none() {
        let a: Ours =
            serde_json::from_str(r#"{"t":"2026-12-03T06:37:06Z","d":"2026-12-03"}"#).unwrap();
        assert_eq!((a.o, a.p), (None, None));
        let b: Ours = serde_json::from_str(
            r#"{"t":"2026-12-03T06:37:06Z","o":null,"d":"2026-12-03","p":null}"#,
        )
        .unwrap();
        assert_eq!((b.o, b.p), (None, None));
    }
}

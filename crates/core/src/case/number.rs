//! 办件编号 — the case number printed on every notice.
//!
//! Format: `RRRRRR-YYYYMMDD-SSSSS-C`
//! - `RRRRRR`: the 6-digit county-level (or higher) region code of the implementing
//!   department;
//! - `YYYYMMDD`: the day the case was created, in China Standard Time;
//! - `SSSSS`: that region's serial for that day, from 00001 (more digits past 99999);
//! - `C`: an ISO 7064 MOD 11-2 check character (0–9 or X) over all digits before it,
//!   so that a number read out over the phone or typed at a window is caught when wrong.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::region::RegionCode;

/// A case number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "440902-20261123-00001-5")]
pub struct CaseNumber(String);

/// Why a case number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseNumberError {
    /// Not of the form `RRRRRR-YYYYMMDD-SSSSS-C`.
    #[error("办件编号格式应为 区划代码-日期-序号-校验位")]
    Format,
    /// The check character is wrong.
    #[error("办件编号校验位错误")]
    Checksum,
}

fn check_char(digits: &str) -> char {
    // ISO 7064 MOD 11-2 over any number of digits.
    let mut p: u32 = 0;
    for b in digits.bytes() {
        p = ((p + u32::from(b - b'0')) * 2) % 11;
    }
    let c = (12 - p % 11) % 11;
    if c == 10 {
        'X'
    } else {
        char::from(b'0' + c as u8)
    }
}

impl CaseNumber {
    /// Make the number for `serial` on `date` in `region` (its county part is used).
    pub fn new(region: &RegionCode, date: NaiveDate, serial: u32) -> CaseNumber {
        let body = format!(
            "{}-{}-{serial:05}",
            region.county_part(),
            date.format("%Y%m%d")
        );
        let digits: String = body.chars().filter(char::is_ascii_digit).collect();
        CaseNumber(format!("{body}-{}", check_char(&digits)))
    }

    /// Parse a typed number (spaces ignored, lowercase x accepted).
    pub fn parse(s: &str) -> Result<CaseNumber, CaseNumberError> {
        let s: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let parts: Vec<&str> = s.split('-').collect();
        let [r, d, n, c] = parts.as_slice() else {
            return Err(CaseNumberError::Format);
        };
        let digits_ok = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
        if r.len() != 6
            || !digits_ok(r)
            || d.len() != 8
            || !digits_ok(d)
            || n.len() < 5
            || !digits_ok(n)
            || c.len() != 1
        {
            return Err(CaseNumberError::Format);
        }
        if NaiveDate::parse_from_str(d, "%Y%m%d").is_err() {
            return Err(CaseNumberError::Format);
        }
        let digits = format!("{r}{d}{n}");
        if !c.starts_with(check_char(&digits)) {
            return Err(CaseNumberError::Checksum);
        }
        Ok(CaseNumber(s))
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CaseNumber {
    type Error = CaseNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CaseNumber::parse(&s)
    }
}

impl From<CaseNumber> for String {
    fn from(v: CaseNumber) -> String {
        v.0
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_round_trip_and_typos_are_caught() {
        let r = RegionCode::parse("440902001").unwrap();
        let n = CaseNumber::new(&r, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), 17);
        assert!(n.as_str().starts_with("440902-20261123-00017-"));
        assert_eq!(CaseNumber::parse(n.as_str()).unwrap(), n);
        assert_eq!(
            CaseNumber::parse(&n.as_str().replace("00017", "00071")),
            Err(CaseNumberError::Checksum)
        );
        assert_eq!(
            CaseNumber::parse("440902-2026-1-1"),
            Err(CaseNumberError::Format)
        );
    }

    #[test]
    fn serials_past_99999_widen() {
        let r = RegionCode::parse("440902").unwrap();
        let n = CaseNumber::new(&r, NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(), 123_456);
        assert!(CaseNumber::parse(n.as_str()).is_ok());
        assert!(n.as_str().contains("-123456-"));
    }

    proptest! {
        #[test]
        fn a_changed_digit_is_caught(serial in 1u32..99999, pos in 0usize..19, delta in 1u8..10) {
            let r = RegionCode::parse("440902").unwrap();
            let n = CaseNumber::new(&r, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), serial);
            let digit_positions: Vec<usize> = n.as_str().char_indices().filter(|(_, c)| c.is_ascii_digit()).map(|(i, _)| i).take(19).collect();
            let i = digit_positions[pos];
            let mut b = n.as_str().as_bytes().to_vec();
            b[i] = b'0' + (b[i] - b'0' + delta) % 10;
            let s = String::from_utf8(b).unwrap();
            prop_assert!(CaseNumber::parse(&s).is_err());
        }
    }
}

//! Identity numbers people and enterprises type in, parsed once at the boundary.
//!
//! - [`IdNumber`] — 公民身份号码, GB 11643-1999: 18 characters, ISO 7064 MOD 11-2 check.
//! - [`CreditCode`] — 统一社会信用代码, GB 32100-2015: 18 characters from a 31-letter alphabet.
//! - [`Phone`] — a mainland mobile or landline number.
//!
//! Each has a `mask` for lists and logs (DOMAIN §10: personal data is masked).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identity value was refused (the text is shown to people).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Wrong number of characters.
    #[error("应为 {expected} 位，实际 {actual} 位")]
    Length {
        /// Required length.
        expected: usize,
        /// Length given.
        actual: usize,
    },
    /// A character outside the allowed set.
    #[error("第 {position} 位字符“{ch}”不合法")]
    Character {
        /// 1-based position.
        position: usize,
        /// The character.
        ch: char,
    },
    /// The birth date part is not a real date.
    #[error("出生日期“{0}”不是有效日期")]
    BirthDate(String),
    /// The address code does not start with a province code.
    #[error("地址码“{0}”不是有效的省级行政区划代码开头")]
    Region(String),
    /// The check character does not match.
    #[error("校验码错误（应为“{expected}”）")]
    Checksum {
        /// The correct check character.
        expected: char,
    },
    /// Not a phone number.
    #[error("不是有效的手机号码或固定电话号码")]
    Phone,
}

/// First two digits of every province-level division in GB/T 2260 (plus 71/81/82 for Taiwan, HK, Macao).
const PROVINCE_PREFIXES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// True when `two` (two ASCII digits) is a province prefix.
pub(crate) fn is_province_prefix(two: &str) -> bool {
    two.parse::<u8>()
        .map(|p| PROVINCE_PREFIXES.contains(&p))
        .unwrap_or(false)
}

/// 公民身份号码 — an 18-character resident identity number (GB 11643).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "11010519491231002X")]
pub struct IdNumber(String);

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

impl IdNumber {
    /// Parse and check: length, digits, province prefix, a real birth date after 1900, checksum.
    /// A lowercase `x` is accepted and stored as `X`; surrounding spaces are ignored.
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let s = s.trim().to_ascii_uppercase();
        let n = s.chars().count();
        if n != 18 {
            return Err(IdentityError::Length {
                expected: 18,
                actual: n,
            });
        }
        let bytes = s.as_bytes();
        for (i, &b) in bytes.iter().enumerate().take(17) {
            if !b.is_ascii_digit() {
                return Err(IdentityError::Character {
                    position: i + 1,
                    ch: b as char,
                });
            }
        }
        let last = bytes[17] as char;
        if !(last.is_ascii_digit() || last == 'X') {
            return Err(IdentityError::Character {
                position: 18,
                ch: last,
            });
        }
        if !is_province_prefix(&s[0..2]) {
            return Err(IdentityError::Region(s[0..6].to_string()));
        }
        let birth = &s[6..14];
        let date = NaiveDate::parse_from_str(birth, "%Y%m%d")
            .map_err(|_| IdentityError::BirthDate(birth.to_string()))?;
        if date.year() < 1900 {
            return Err(IdentityError::BirthDate(birth.to_string()));
        }
        let expected = Self::check_char(&s[..17]);
        if last != expected {
            return Err(IdentityError::Checksum { expected });
        }
        Ok(IdNumber(s))
    }

    /// The check character for the first 17 digits (ISO 7064 MOD 11-2).
    pub fn check_char(first17: &str) -> char {
        let sum: u32 = first17
            .bytes()
            .zip(ID_WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        ID_CHECK[(sum % 11) as usize]
    }

    /// The birth date the number carries.
    pub fn birth_date(&self) -> NaiveDate {
        // Checked in `parse`.
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked at parse")
    }

    /// The full number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Masked for lists: region code and the last four characters, e.g. `440902********123X`.
    pub fn mask(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

impl TryFrom<String> for IdNumber {
    type Error = IdentityError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        IdNumber::parse(&s)
    }
}

impl From<IdNumber> for String {
    fn from(v: IdNumber) -> String {
        v.0
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 统一社会信用代码 — the 18-character unified social credit code (GB 32100) of an
/// enterprise, public institution or government department.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "91440902MA4UH2K21R")]
pub struct CreditCode(String);

/// The GB 32100 alphabet: digits and capitals without I, O, S, V, Z.
const CREDIT_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn credit_value(c: char) -> Option<u32> {
    CREDIT_ALPHABET.find(c).map(|i| i as u32)
}

impl CreditCode {
    /// Parse and check: length, alphabet, a numeric region part (positions 3–8), checksum.
    /// Lowercase letters are accepted and stored in capitals.
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let s = s.trim().to_ascii_uppercase();
        let n = s.chars().count();
        if n != 18 {
            return Err(IdentityError::Length {
                expected: 18,
                actual: n,
            });
        }
        for (i, c) in s.chars().enumerate() {
            if credit_value(c).is_none() {
                return Err(IdentityError::Character {
                    position: i + 1,
                    ch: c,
                });
            }
        }
        if let Some((i, c)) = s
            .chars()
            .enumerate()
            .skip(2)
            .take(6)
            .find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(IdentityError::Character {
                position: i + 1,
                ch: c,
            });
        }
        let expected = Self::check_char(&s[..17]);
        let last = s.chars().nth(17).expect("length checked");
        if last != expected {
            return Err(IdentityError::Checksum { expected });
        }
        Ok(CreditCode(s))
    }

    /// The check character for the first 17 characters (which must be in the alphabet).
    pub fn check_char(first17: &str) -> char {
        let sum: u32 = first17
            .chars()
            .zip(CREDIT_WEIGHTS)
            .map(|(c, w)| credit_value(c).unwrap_or(0) * w)
            .sum();
        let v = (31 - sum % 31) % 31;
        CREDIT_ALPHABET.as_bytes()[v as usize] as char
    }

    /// The region code part (positions 3–8).
    pub fn region_part(&self) -> &str {
        &self.0[2..8]
    }

    /// The full code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CreditCode {
    type Error = IdentityError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CreditCode::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(v: CreditCode) -> String {
        v.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A contact phone: a mainland mobile (11 digits starting 13–19) or a landline with area
/// code (`0` + 2–3 digits, optional `-`, 7–8 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "13800138000")]
pub struct Phone(String);

impl Phone {
    /// Parse: spaces and dashes inside mobile numbers are ignored.
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let t: String = s.trim().chars().filter(|c| *c != ' ').collect();
        let digits: String = t.chars().filter(|c| *c != '-').collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(IdentityError::Phone);
        }
        let b = digits.as_bytes();
        if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            return Ok(Phone(digits));
        }
        if b.first() == Some(&b'0') && (10..=12).contains(&b.len()) && b.get(1) != Some(&b'0') {
            return Ok(Phone(t));
        }
        Err(IdentityError::Phone)
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Masked for lists: `138****8000`.
    pub fn mask(&self) -> String {
        let n = self.0.chars().count();
        if n < 8 {
            return "****".into();
        }
        let head: String = self.0.chars().take(3).collect();
        let tail: String = self.0.chars().skip(n - 4).collect();
        format!("{head}****{tail}")
    }
}

impl TryFrom<String> for Phone {
    type Error = IdentityError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Phone::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(v: Phone) -> String {
        v.0
    }
}

/// Mask a person's name for lists: keep the first and (for 3+ characters) the last character.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_standard_example_id_number_is_valid() {
        // The example printed in GB 11643-1999.
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.mask(), "110105********002X");
    }

    #[test]
    fn lowercase_x_is_normalised() {
        assert_eq!(
            IdNumber::parse(" 11010519491231002x ").unwrap().as_str(),
            "11010519491231002X"
        );
    }

    #[test]
    fn id_numbers_with_faults_are_refused_with_the_reason() {
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdentityError::Checksum { expected: 'X' })
        );
        assert!(matches!(
            IdNumber::parse("1101051949123100"),
            Err(IdentityError::Length { .. })
        ));
        assert!(matches!(
            IdNumber::parse("11010519490230002X"),
            Err(IdentityError::BirthDate(_))
        ));
        assert!(matches!(
            IdNumber::parse("99010519491231002X"),
            Err(IdentityError::Region(_))
        ));
        assert!(matches!(
            IdNumber::parse("1101051949123100AX"),
            Err(IdentityError::Character { position: 17, .. })
        ));
    }

    #[test]
    fn february_29_is_real_only_in_leap_years() {
        let ok = "44090220000229123";
        let ok = format!("{ok}{}", IdNumber::check_char(ok));
        assert!(IdNumber::parse(&ok).is_ok());
        let bad = "44090219990229123";
        let bad = format!("{bad}{}", IdNumber::check_char(bad));
        assert!(matches!(
            IdNumber::parse(&bad),
            Err(IdentityError::BirthDate(_))
        ));
    }

    #[test]
    fn published_credit_codes_are_valid() {
        // The implementing department's code in DOMAIN §3's sample implementation code.
        assert!(CreditCode::parse("115113010833722043").is_ok());
        // Lowercase accepted.
        let c = CreditCode::parse("91350100m000100y43").unwrap();
        assert_eq!(c.as_str(), "91350100M000100Y43");
        assert_eq!(c.region_part(), "350100");
    }

    #[test]
    fn credit_codes_with_faults_are_refused() {
        assert!(matches!(
            CreditCode::parse("91350100M000100Y44"),
            Err(IdentityError::Checksum { expected: '3' })
        ));
        assert!(matches!(
            CreditCode::parse("91350100M0001O0Y43"),
            Err(IdentityError::Character {
                position: 14,
                ch: 'O'
            })
        ));
        assert!(matches!(
            CreditCode::parse("9135A100M000100Y43"),
            Err(IdentityError::Character { position: 5, .. })
        ));
    }

    #[test]
    fn phones() {
        assert_eq!(
            Phone::parse("138 0013 8000").unwrap().as_str(),
            "13800138000"
        );
        assert_eq!(
            Phone::parse("0668-2281234").unwrap().as_str(),
            "0668-2281234"
        );
        assert!(Phone::parse("12800138000").is_err());
        assert!(Phone::parse("1380013800").is_err());
        assert!(Phone::parse("abc").is_err());
        assert_eq!(Phone::parse("13800138000").unwrap().mask(), "138****8000");
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳小明"), "欧**明");
        assert_eq!(mask_name("李"), "*");
    }

    fn id_body() -> impl Strategy<Value = String> {
        (
            prop::sample::select(PROVINCE_PREFIXES),
            0u32..10000,
            1900i32..2026,
            1u32..13,
            1u32..29,
            0u32..1000,
        )
            .prop_map(|(p, r, y, m, d, s)| format!("{p:02}{r:04}{y:04}{m:02}{d:02}{s:03}"))
    }

    proptest! {
        #[test]
        fn every_correctly_checked_id_number_parses(body in id_body()) {
            let s = format!("{body}{}", IdNumber::check_char(&body));
            let parsed = IdNumber::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.as_str());
        }

        #[test]
        fn any_wrong_check_character_is_refused(body in id_body(), c in prop::sample::select(ID_CHECK.to_vec())) {
            prop_assume!(c != IdNumber::check_char(&body));
            let s = format!("{body}{c}");
            let is_checksum = matches!(IdNumber::parse(&s), Err(IdentityError::Checksum { .. }));
            prop_assert!(is_checksum);
        }

        #[test]
        fn a_single_changed_digit_is_caught(body in id_body(), pos in 0usize..17, delta in 1u8..10) {
            let s = format!("{body}{}", IdNumber::check_char(&body));
            let mut b = s.clone().into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(IdNumber::parse(&changed).is_err());
        }

        #[test]
        fn every_correctly_checked_credit_code_parses(
            head in "[159ANY][1-9A-Y]",
            region in "[0-9]{6}",
            org in "[0-9A-HJ-NP-RTUW-Y]{9}",
        ) {
            let body = format!("{head}{region}{org}");
            prop_assume!(body.chars().all(|c| credit_value(c).is_some()));
            let s = format!("{body}{}", CreditCode::check_char(&body));
            let parsed = CreditCode::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.as_str());
        }

        #[test]
        fn a_single_changed_credit_character_is_caught(
            region in "[0-9]{6}",
            org in "[0-9A-HJ-NP-RTUW-Y]{9}",
            pos in 0usize..17,
            delta in 1usize..31,
        ) {
            let body = format!("91{region}{org}");
            let s = format!("{body}{}", CreditCode::check_char(&body));
            let mut chars: Vec<char> = s.chars().collect();
            let v = credit_value(chars[pos]).unwrap() as usize;
            chars[pos] = CREDIT_ALPHABET.as_bytes()[(v + delta) % 31] as char;
            let changed: String = chars.into_iter().collect();
            prop_assert!(CreditCode::parse(&changed).is_err());
        }
    }
}

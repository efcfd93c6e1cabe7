//! Clocks in working days (DOMAIN §5): started by an event, paused by special
//! procedures, extended within the legal limit, finished on time or late.
//!
//! A running clock remembers the day it (re)started and how many working days were
//! left then; its deadline is `calendar.deadline(origin, remaining)`. Pausing on day `p`
//! uses up the working days in `(origin, p]`; resuming on `r` restarts from `r` with
//! what is left — the day of each event is not counted. That is also all that is
//! needed to recompute a provisional deadline when a new year's notice is loaded.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError};

/// One clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Clock {
    /// The budget in working days, extensions included.
    pub budget: u32,
    /// The day the clock was first started.
    #[serde(with = "crate::time::iso::date")]
    pub started: NaiveDate,
    /// The day counting last (re)started; `None` while paused or finished.
    #[serde(default, with = "crate::time::iso::date_opt")]
    pub origin: Option<NaiveDate>,
    /// Working days left at `origin` (or now, while paused).
    pub remaining: u32,
    /// The current deadline; kept while paused and after finishing for the record.
    #[serde(with = "crate::time::iso::date")]
    pub deadline: NaiveDate,
    /// The deadline depends on a year without a loaded notice.
    pub provisional: bool,
    /// The day the clock stopped for good.
    #[serde(default, with = "crate::time::iso::date_opt")]
    pub finished: Option<NaiveDate>,
    /// Paused after its deadline had passed: resuming does not forgive lateness.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overdue_when_paused: bool,
}

/// How near its end a clock is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// Plenty of time.
    None,
    /// 黄牌 — the deadline is near.
    Yellow,
    /// 红牌 — overdue.
    Red,
}

impl Warning {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Warning::None => "正常",
            Warning::Yellow => "临近期限",
            Warning::Red => "已超期",
        }
    }
}

impl Clock {
    /// Start a clock on `today` with `budget` working days.
    pub fn start(cal: &Calendar, today: NaiveDate, budget: u32) -> Result<Clock, CalendarError> {
        let d = cal.deadline(today, budget)?;
        Ok(Clock {
            budget,
            started: today,
            origin: Some(today),
            remaining: budget,
            deadline: d.deadline,
            provisional: d.provisional,
            finished: None,
            overdue_when_paused: false,
        })
    }

    /// True while counting.
    pub fn is_running(&self) -> bool {
        self.origin.is_some() && self.finished.is_none()
    }

    /// True while paused.
    pub fn is_paused(&self) -> bool {
        self.origin.is_none() && self.finished.is_none()
    }

    /// Stop counting on `today`, keeping what is left.
    pub fn pause(&mut self, cal: &Calendar, today: NaiveDate) -> Result<(), CalendarError> {
        if let (Some(origin), None) = (self.origin, self.finished) {
            let used = cal.working_days_between(origin, today)?.max(0) as u32;
            self.remaining = self.remaining.saturating_sub(used);
            self.overdue_when_paused = today > self.deadline;
            self.origin = None;
        }
        Ok(())
    }

    /// Count again from `today`. A clock that was already overdue when paused keeps its
    /// (past) deadline: a pause does not forgive lateness.
    pub fn resume(&mut self, cal: &Calendar, today: NaiveDate) -> Result<(), CalendarError> {
        if self.origin.is_none() && self.finished.is_none() {
            self.origin = Some(today);
            if !self.overdue_when_paused {
                self.recompute(cal)?;
            }
        }
        Ok(())
    }

    /// Add `days` working days to the budget.
    pub fn extend(&mut self, cal: &Calendar, days: u32) -> Result<(), CalendarError> {
        self.budget = self.budget.saturating_add(days);
        if self.overdue_when_paused {
            // Lateness is not forgiven: the extension counts from the deadline missed.
            let d = cal.deadline(self.deadline, days)?;
            self.deadline = d.deadline;
            self.provisional = d.provisional;
            return Ok(());
        }
        self.remaining = self.remaining.saturating_add(days);
        self.recompute(cal)
    }

    /// Recompute the deadline of a running clock (after an extension or a new calendar).
    pub fn recompute(&mut self, cal: &Calendar) -> Result<(), CalendarError> {
        if self.overdue_when_paused {
            // Its deadline is the one it missed, whatever the calendar says since.
            return Ok(());
        }
        if let (Some(origin), None) = (self.origin, self.finished) {
            let d = cal.deadline(origin, self.remaining)?;
            self.deadline = d.deadline;
            self.provisional = d.provisional;
        }
        Ok(())
    }

    /// Stop for good on `today`.
    pub fn finish(&mut self, today: NaiveDate) {
        if self.finished.is_none() {
            self.finished = Some(today);
            self.origin = None;
        }
    }

    /// True when finished after the deadline, or still open and past it on `today`.
    pub fn is_late(&self, today: NaiveDate) -> bool {
        match (self.finished, self.origin) {
            (Some(f), _) => f > self.deadline,
            (None, Some(_)) => today > self.deadline,
            (None, None) => self.overdue_when_paused,
        }
    }

    /// Yellow when at most `yellow_days` working days remain, red when past the deadline.
    /// Paused and finished clocks never warn.
    pub fn warning(&self, cal: &Calendar, today: NaiveDate, yellow_days: u32) -> Warning {
        if !self.is_running() {
            return Warning::None;
        }
        warning_for(cal, self.deadline, today, yellow_days)
    }
}

/// The warning for a deadline seen on `today`.
pub fn warning_for(
    cal: &Calendar,
    deadline: NaiveDate,
    today: NaiveDate,
    yellow_days: u32,
) -> Warning {
    if today > deadline {
        Warning::Red
    } else {
        match cal.working_days_between(today, deadline) {
            Ok(left) if left <= i64::from(yellow_days) => Warning::Yellow,
            Ok(_) => Warning::None,
            Err(_) => Warning::None,
        }
    }
}

/// Which clock a case is waiting on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// 网上预审 (2 working days, seed 001).
    PreReview,
    /// 受理 (2 working days).
    Acceptance,
    /// 承诺时限.
    Promised,
    /// 法定时限.
    Legal,
    /// The current stage's budget.
    Stage,
    /// 结果更正 (1 working day, seed 001).
    ResultCorrection,
    /// 归档 (1 working day).
    Archive,
}

impl ClockKind {
    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            ClockKind::PreReview => "预审时限",
            ClockKind::Acceptance => "受理时限",
            ClockKind::Promised => "承诺时限",
            ClockKind::Legal => "法定时限",
            ClockKind::Stage => "环节时限",
            ClockKind::ResultCorrection => "结果更正时限",
            ClockKind::Archive => "归档时限",
        }
    }
}

/// A case's clocks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Clocks {
    /// 网上预审.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_review: Option<Clock>,
    /// 受理.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Clock>,
    /// 承诺时限.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised: Option<Clock>,
    /// 法定时限.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal: Option<Clock>,
    /// The current stage's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Clock>,
    /// 结果更正.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_correction: Option<Clock>,
    /// 归档.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<Clock>,
}

impl Clocks {
    /// The clock of a kind.
    pub fn get(&self, kind: ClockKind) -> Option<&Clock> {
        match kind {
            ClockKind::PreReview => self.pre_review.as_ref(),
            ClockKind::Acceptance => self.acceptance.as_ref(),
            ClockKind::Promised => self.promised.as_ref(),
            ClockKind::Legal => self.legal.as_ref(),
            ClockKind::Stage => self.stage.as_ref(),
            ClockKind::ResultCorrection => self.result_correction.as_ref(),
            ClockKind::Archive => self.archive.as_ref(),
        }
    }

    /// Every clock that is set, with its kind.
    pub fn all_mut(&mut self) -> impl Iterator<Item = &mut Clock> {
        [
            &mut self.pre_review,
            &mut self.acceptance,
            &mut self.promised,
            &mut self.legal,
            &mut self.stage,
            &mut self.result_correction,
            &mut self.archive,
        ]
        .into_iter()
        .flatten()
    }

    /// Every clock that is set, with its kind.
    pub fn all(&self) -> impl Iterator<Item = (ClockKind, &Clock)> {
        [
            (ClockKind::PreReview, &self.pre_review),
            (ClockKind::Acceptance, &self.acceptance),
            (ClockKind::Promised, &self.promised),
            (ClockKind::Legal, &self.legal),
            (ClockKind::Stage, &self.stage),
            (ClockKind::ResultCorrection, &self.result_correction),
            (ClockKind::Archive, &self.archive),
        ]
        .into_iter()
        .filter_map(|(k, c)| c.as_ref().map(|c| (k, c)))
    }

    /// Recompute every running clock against a (new) calendar. Returns true when any
    /// deadline or provisional mark changed.
    pub fn recompute(&mut self, cal: &Calendar) -> Result<bool, CalendarError> {
        let mut changed = false;
        for c in self.all_mut() {
            let before = (c.deadline, c.provisional);
            c.recompute(cal)?;
            changed |= before != (c.deadline, c.provisional);
        }
        Ok(changed)
    }

    /// True when a running clock has a provisional deadline.
    pub fn any_provisional(&self) -> bool {
        self.all().any(|(_, c)| c.provisional && c.is_running())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_pause_moves_the_deadline_by_the_working_days_paused() {
        let cal = Calendar::builtin();
        // Monday 2 Nov 2026, 10 working days → Monday 16 Nov.
        let mut c = Clock::start(&cal, d("2026-11-02"), 10).unwrap();
        assert_eq!(c.deadline, d("2026-11-16"));
        // Paused on Wednesday 4 Nov after 2 working days (3rd, 4th); resumed Wednesday 11 Nov.
        c.pause(&cal, d("2026-11-04")).unwrap();
        assert_eq!(c.remaining, 8);
        assert!(c.is_paused());
        assert_eq!(c.warning(&cal, d("2026-12-01"), 2), Warning::None);
        c.resume(&cal, d("2026-11-11")).unwrap();
        // 8 working days after 11 Nov → Monday 23 Nov: moved by the 5 working days paused.
        assert_eq!(c.deadline, d("2026-11-23"));
    }

    #[test]
    fn a_same_day_pause_and_resume_changes_nothing() {
        let cal = Calendar::builtin();
        let mut c = Clock::start(&cal, d("2026-11-02"), 10).unwrap();
        c.pause(&cal, d("2026-11-05")).unwrap();
        c.resume(&cal, d("2026-11-05")).unwrap();
        assert_eq!(c.deadline, d("2026-11-16"));
    }

    #[test]
    fn an_overdue_clock_stays_overdue_through_a_pause() {
        let cal = Calendar::builtin();
        let mut c = Clock::start(&cal, d("2026-11-02"), 2).unwrap();
        assert_eq!(c.deadline, d("2026-11-04"));
        c.pause(&cal, d("2026-11-10")).unwrap();
        c.resume(&cal, d("2026-11-12")).unwrap();
        assert_eq!(c.deadline, d("2026-11-04"));
        assert!(c.is_late(d("2026-11-12")));
    }

    #[test]
    fn a_new_calendar_or_an_extension_does_not_forgive_lateness() {
        let cal = Calendar::builtin();
        let mut c = Clock::start(&cal, d("2026-11-02"), 2).unwrap();
        c.pause(&cal, d("2026-11-10")).unwrap();
        assert!(
            c.is_late(d("2026-11-10")),
            "paused after its deadline: late"
        );
        c.resume(&cal, d("2026-11-12")).unwrap();
        c.recompute(&cal).unwrap();
        assert_eq!(c.deadline, d("2026-11-04"));
        // An extension of 3 counts from the missed deadline: Monday 9 November.
        c.extend(&cal, 3).unwrap();
        assert_eq!(c.deadline, d("2026-11-09"));
    }

    #[test]
    fn extension_adds_working_days() {
        let cal = Calendar::builtin();
        let mut c = Clock::start(&cal, d("2026-11-02"), 10).unwrap();
        c.extend(&cal, 5).unwrap();
        assert_eq!((c.budget, c.deadline), (15, d("2026-11-23")));
    }

    #[test]
    fn warnings_count_working_days_left() {
        let cal = Calendar::builtin();
        // Deadline Monday 16 Nov.
        let c = Clock::start(&cal, d("2026-11-02"), 10).unwrap();
        assert_eq!(c.warning(&cal, d("2026-11-12"), 1), Warning::None);
        // Friday 13th: one working day left (Monday) → yellow with a 1-day threshold.
        assert_eq!(c.warning(&cal, d("2026-11-13"), 1), Warning::Yellow);
        // Saturday: still one working day left.
        assert_eq!(c.warning(&cal, d("2026-11-14"), 1), Warning::Yellow);
        assert_eq!(c.warning(&cal, d("2026-11-16"), 1), Warning::Yellow);
        assert_eq!(c.warning(&cal, d("2026-11-17"), 1), Warning::Red);
    }

    #[test]
    fn finishing_records_lateness() {
        let cal = Calendar::builtin();
        let mut c = Clock::start(&cal, d("2026-11-02"), 2).unwrap();
        c.finish(d("2026-11-05"));
        assert!(c.is_late(d("2026-11-05")));
        assert_eq!(c.warning(&cal, d("2026-11-30"), 1), Warning::None);
        let mut c = Clock::start(&cal, d("2026-11-02"), 2).unwrap();
        c.finish(d("2026-11-04"));
        assert!(!c.is_late(d("2026-12-31")));
    }
}

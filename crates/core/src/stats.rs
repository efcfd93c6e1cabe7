//! Incremental statistics: each transition records its small change (by department,
//! item, month and channel) in the same transaction; a periodic job folds the changes
//! into rollup rows, so that figures over millions of cases are sums over a few
//! thousand rows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::case::{Case, CaseState, Outcome};
use crate::catalog::ProcessingType;
use crate::time::china_date;

/// What one transition adds to one rollup row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatDelta {
    /// Department.
    pub department_id: i64,
    /// Item.
    pub item_id: i64,
    /// `YYYY-MM` (China time) of the event counted.
    pub month: String,
    /// Channel.
    pub channel: String,
    /// The window that received the case (0: none).
    #[serde(default)]
    pub window_id: i64,
    /// The staff member who received it at a window or by post (0: none).
    #[serde(default)]
    pub staff_id: i64,
    /// 收件: received (counted once, when first received).
    pub received: i64,
    /// 办结: decided.
    pub decided: i64,
    /// Decided to approve.
    pub approved: i64,
    /// Decided within the promised limit (按时办结).
    pub on_time: i64,
    /// Working days from acceptance (即办件: receipt) to decision, summed.
    pub working_days: i64,
    /// Decided 即办件.
    pub immediate: i64,
    /// 不予受理.
    pub refused: i64,
    /// 撤回.
    pub withdrawn: i64,
    /// 终止.
    pub terminated: i64,
}

impl StatDelta {
    /// Add another change for the same key.
    pub fn add(&mut self, d: &StatDelta) {
        self.received += d.received;
        self.decided += d.decided;
        self.approved += d.approved;
        self.on_time += d.on_time;
        self.working_days += d.working_days;
        self.immediate += d.immediate;
        self.refused += d.refused;
        self.withdrawn += d.withdrawn;
        self.terminated += d.terminated;
    }

    /// True when it adds nothing.
    pub fn is_empty(&self) -> bool {
        self.received == 0
            && self.decided == 0
            && self.refused == 0
            && self.withdrawn == 0
            && self.terminated == 0
    }
}

fn month(t: DateTime<Utc>) -> String {
    china_date(t).format("%Y-%m").to_string()
}

/// The changes a transition from `before` (none for a new case) to `after` makes.
pub fn deltas(before: Option<&Case>, after: &Case, cal: &Calendar) -> Vec<StatDelta> {
    let base = |at: DateTime<Utc>| StatDelta {
        department_id: after.department_id,
        item_id: after.item_id,
        month: month(at),
        channel: after.channel.as_str().to_string(),
        window_id: after.window_id.unwrap_or(0),
        staff_id: match after.channel {
            crate::case::Channel::Window | crate::case::Channel::Post => after.created_by,
            crate::case::Channel::Online | crate::case::Channel::Agent => 0,
        },
        ..StatDelta::default()
    };
    let mut out = Vec::new();
    if let (None, Some(at)) = (before.and_then(|b| b.received_at), after.received_at) {
        // Counted the first time it is received (a correction supplied re-receives it).
        out.push(StatDelta {
            received: 1,
            ..base(at)
        });
    }
    if let (None, Some(at), Some(d)) = (
        before.and_then(|b| b.decided_at),
        after.decided_at,
        &after.decision,
    ) {
        let clock = after.clocks.promised.as_ref();
        let on_time = clock.is_some_and(|c| !c.is_late(china_date(at)));
        let start = match after.processing_type {
            ProcessingType::Promised => after.accepted_at,
            ProcessingType::Immediate => after.received_at,
        };
        let days = start
            .and_then(|s| cal.working_days_between(china_date(s), china_date(at)).ok())
            .unwrap_or(0)
            .max(0);
        out.push(StatDelta {
            decided: 1,
            approved: i64::from(d.outcome == Outcome::Approved),
            on_time: i64::from(on_time),
            working_days: days,
            immediate: i64::from(after.processing_type == ProcessingType::Immediate),
            ..base(at)
        });
    }
    let before_state = before.map(|b| b.state);
    if before_state != Some(after.state) {
        let at = after.updated_at;
        match after.state {
            CaseState::Refused => out.push(StatDelta {
                refused: 1,
                ..base(at)
            }),
            CaseState::Withdrawn if after.received_at.is_some() => out.push(StatDelta {
                withdrawn: 1,
                ..base(at)
            }),
            CaseState::Terminated => out.push(StatDelta {
                terminated: 1,
                ..base(at)
            }),
            _ => {}
        }
    }
    out
}

/// On-time completion (按时办结率) of one department in one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OnTimeRow {
    /// Department.
    pub department_id: i64,
    /// `YYYY-MM`.
    pub month: String,
    /// Cases received.
    pub received: i64,
    /// Cases decided.
    pub decided: i64,
    /// Of which within the promised limit.
    pub on_time: i64,
    /// `on_time / decided` (1.0 when nothing was decided).
    pub rate: f64,
    /// Average working days to a decision.
    pub average_working_days: f64,
}

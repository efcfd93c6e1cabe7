//! Warning marks, 督办 orders (stored whole, as JSON), settings.

use chrono::{DateTime, Utc};
use tongban_core::Error;
use tongban_core::store::{OrderFilter, SupervisionStore};
use tongban_core::supervision::{SupervisionOrder, WarningMark};

use super::{SqlTx, ms, prefix_end};
use crate::conn::{ConnExt, Val, from_json, to_json};

type R<T> = Result<T, Error>;

impl SupervisionStore for SqlTx<'_> {
    fn mark_warning(&mut self, m: &WarningMark, at: DateTime<Utc>) -> R<bool> {
        let (level, clock, due) = (name_of_level(m), m.clock.as_str(), m.due.to_string());
        let month = tongban_core::time::china_date(at)
            .format("%Y-%m")
            .to_string();
        let before = self.c.opt(
            "SELECT level FROM warning_marks WHERE subject = ? AND subject_id = ? AND clock = ? AND due = ?",
            &[m.subject.as_str().into(), m.subject_id.into(), clock.as_str().into(), due.as_str().into()],
            |r| r.text(0),
        )?;
        match before.as_deref() {
            Some("red") => Ok(false),
            Some(l) if l == level => Ok(false),
            Some(_) => {
                self.c.execute(
                    "UPDATE warning_marks SET level = ?, month = ?, marked_at = ? WHERE subject = ? AND subject_id = ? AND clock = ? AND due = ?",
                    &[
                        level.into(),
                        month.as_str().into(),
                        ms(at).into(),
                        m.subject.as_str().into(),
                        m.subject_id.into(),
                        clock.as_str().into(),
                        due.as_str().into(),
                    ],
                )?;
                Ok(true)
            }
            None => {
                let n = self.c.execute(
                    "INSERT INTO warning_marks (subject, subject_id, clock, due, level, department_id, window_id, region, month, marked_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subject, subject_id, clock, due) DO NOTHING",
                    &[
                        m.subject.as_str().into(),
                        m.subject_id.into(),
                        clock.as_str().into(),
                        due.as_str().into(),
                        level.into(),
                        m.department_id.into(),
                        m.window_id.into(),
                        m.region.as_str().into(),
                        month.as_str().into(),
                        ms(at).into(),
                    ],
                )?;
                Ok(n == 1)
            }
        }
    }

    fn marks_of(
        &mut self,
        subject: tongban_core::supervision::Subject,
        subject_id: i64,
    ) -> R<Vec<(String, chrono::NaiveDate, tongban_core::case::Warning)>> {
        let rows = self.c.all(
            "SELECT clock, due, level FROM warning_marks WHERE subject = ? AND subject_id = ? ORDER BY clock, due",
            &[subject.as_str().into(), subject_id.into()],
            |r| Ok((r.text(0)?, r.text(1)?, r.text(2)?)),
        )?;
        rows.into_iter()
            .map(|(c, d, l)| {
                let level = if l == "red" {
                    tongban_core::case::Warning::Red
                } else {
                    tongban_core::case::Warning::Yellow
                };
                Ok((c, super::date(&d)?, level))
            })
            .collect()
    }

    fn insert_supervision_order(&mut self, o: &SupervisionOrder) -> R<Option<i64>> {
        let (clock, due) = (o.clock.as_str(), o.due.to_string());
        let id = self.c.opt(
            "INSERT INTO supervision_orders (subject, subject_id, clock, due, department_id, region, state, opened_at, data) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}') ON CONFLICT (subject, subject_id, clock, due) DO NOTHING RETURNING id",
            &[
                o.subject.as_str().into(),
                o.subject_id.into(),
                clock.as_str().into(),
                due.as_str().into(),
                o.department_id.into(),
                o.region.as_str().into(),
                o.state.as_str().into(),
                ms(o.opened_at).into(),
            ],
            |r| r.int(0),
        )?;
        if let Some(id) = id {
            let mut with_id = o.clone();
            with_id.id = id;
            self.update_supervision_order(&with_id)?;
        }
        Ok(id)
    }

    fn supervision_order(&mut self, id: i64) -> R<Option<SupervisionOrder>> {
        self.c.opt(
            "SELECT data FROM supervision_orders WHERE id = ?",
            &[id.into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn update_supervision_order(&mut self, o: &SupervisionOrder) -> R<()> {
        self.c.execute_exact(
            "UPDATE supervision_orders SET state = ?, data = ? WHERE id = ?",
            &[
                o.state.as_str().into(),
                to_json(o)?.as_str().into(),
                o.id.into(),
            ],
            1,
            "督办单不存在",
        )
    }

    fn supervision_orders(&mut self, f: &OrderFilter) -> R<Vec<SupervisionOrder>> {
        let end = f
            .region_prefix
            .as_deref()
            .map(prefix_end)
            .unwrap_or_default();
        let mut sql = "SELECT data FROM supervision_orders WHERE id < ?".to_string();
        let mut params: Vec<Val> = vec![f.before_id.unwrap_or(i64::MAX).into()];
        if let Some(d) = f.department_id {
            sql.push_str(" AND department_id = ?");
            params.push(d.into());
        }
        if let Some(p) = f.region_prefix.as_deref().filter(|p| !p.is_empty()) {
            sql.push_str(" AND region >= ? AND region < ?");
            params.push(p.into());
            params.push(end.as_str().into());
        }
        let states: Vec<&str> = f.states.iter().map(|s| s.as_str()).collect();
        if !states.is_empty() {
            sql.push_str(&format!(
                " AND state IN ({})",
                vec!["?"; states.len()].join(", ")
            ));
            params.extend(states.iter().map(|s| Val::from(*s)));
        }
        sql.push_str(" ORDER BY id DESC LIMIT ?");
        params.push(f.limit.into());
        self.c.all(&sql, &params, |r| from_json(&r.text(0)?))
    }

    fn warning_counts(
        &mut self,
        region_prefix: &str,
        from: &str,
        to: &str,
    ) -> R<Vec<(i64, String, i64, i64)>> {
        let (a, b) = if region_prefix.is_empty() {
            (String::new(), "\u{7f}".to_string())
        } else {
            (region_prefix.to_string(), prefix_end(region_prefix))
        };
        self.c.all(
            "SELECT department_id, month, \
             CAST(SUM(CASE WHEN level = 'yellow' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN level = 'red' THEN 1 ELSE 0 END) AS BIGINT) \
             FROM warning_marks WHERE region >= ? AND region < ? AND month >= ? AND month <= ? \
             GROUP BY department_id, month ORDER BY department_id, month",
            &[a.as_str().into(), b.as_str().into(), from.into(), to.into()],
            |r| Ok((r.int(0)?, r.text(1)?, r.int(2)?, r.int(3)?)),
        )
    }

    fn red_marks_by_window(
        &mut self,
        region_prefix: &str,
        from: &str,
        to: &str,
    ) -> R<Vec<(i64, i64)>> {
        let (a, b) = if region_prefix.is_empty() {
            (String::new(), "\u{7f}".to_string())
        } else {
            (region_prefix.to_string(), prefix_end(region_prefix))
        };
        self.c.all(
            "SELECT window_id, CAST(COUNT(*) AS BIGINT) FROM warning_marks WHERE level = 'red' AND window_id <> 0 \
             AND region >= ? AND region < ? AND month >= ? AND month <= ? GROUP BY window_id ORDER BY window_id",
            &[a.as_str().into(), b.as_str().into(), from.into(), to.into()],
            |r| Ok((r.int(0)?, r.int(1)?)),
        )
    }

    fn add_deduction(
        &mut self,
        window_id: i64,
        quarter: &str,
        points: u32,
        reason: &str,
        by: i64,
        at: DateTime<Utc>,
    ) -> R<i64> {
        self.c.one(
            "INSERT INTO assessment_deductions (window_id, quarter, points, reason, by_account, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            &[window_id.into(), quarter.into(), points.into(), reason.into(), by.into(), ms(at).into()],
            |r| r.int(0),
        )
    }

    fn deductions(&mut self, quarter: &str) -> R<Vec<(i64, u32, String)>> {
        self.c.all(
            "SELECT window_id, points, reason FROM assessment_deductions WHERE quarter = ? ORDER BY window_id, id",
            &[quarter.into()],
            |r| Ok((r.int(0)?, r.int(1)? as u32, r.text(2)?)),
        )
    }

    fn setting(&mut self, name: &str) -> R<Option<String>> {
        self.c.opt(
            "SELECT data FROM settings WHERE name = ?",
            &[name.into()],
            |r| r.text(0),
        )
    }

    fn save_setting(&mut self, name: &str, json: &str, by: i64, at: DateTime<Utc>) -> R<()> {
        self.c.execute(
            "INSERT INTO settings (name, data, updated_by, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            &[name.into(), json.into(), by.into(), ms(at).into()],
        )?;
        Ok(())
    }
}

fn name_of_level(m: &WarningMark) -> &'static str {
    match m.level {
        tongban_core::case::Warning::Red => "red",
        tongban_core::case::Warning::Yellow | tongban_core::case::Warning::None => "yellow",
    }
}

//! Ratings (stored whole, as JSON), invitations, rectification tasks, rating rollups.

use chrono::{DateTime, Utc};
use tongban_core::Error;
use tongban_core::rating::rectification::Task;
use tongban_core::rating::{Rating, RatingChannel};
use tongban_core::store::{RatingFilter, RatingStatRow, RatingStore, TaskFilter};

use super::{SqlTx, enum_of, ms, name_of, prefix_end};
use crate::conn::{ConnExt, Val, from_json, to_json};

type R<T> = Result<T, Error>;

fn scope<'a>(
    sql: &mut String,
    params: &mut Vec<Val<'a>>,
    department_id: Option<i64>,
    prefix: Option<&'a str>,
    end: &'a str,
) {
    if let Some(d) = department_id {
        sql.push_str(" AND department_id = ?");
        params.push(d.into());
    }
    if let Some(p) = prefix.filter(|p| !p.is_empty()) {
        sql.push_str(" AND region >= ? AND region < ?");
        params.push(p.into());
        params.push(end.into());
    }
}

impl RatingStore for SqlTx<'_> {
    fn insert_rating(&mut self, r: &Rating) -> R<i64> {
        let id = self.c.one(
            "INSERT INTO ratings (case_id, department_id, item_id, region, window_id, staff_id, applicant_id, level, bad, at, data) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}') RETURNING id",
            &[
                r.case_id.into(),
                r.department_id.into(),
                r.item_id.into(),
                r.region.as_str().into(),
                r.window_id.into(),
                r.staff_id.into(),
                r.applicant_id.into(),
                i64::from(r.level.score()).into(),
                r.level.is_bad().into(),
                ms(r.at).into(),
            ],
            |row| row.int(0),
        )?;
        let mut with_id = r.clone();
        with_id.id = id;
        self.update_rating(&with_id)?;
        Ok(id)
    }

    fn rating(&mut self, id: i64) -> R<Option<Rating>> {
        self.c
            .opt("SELECT data FROM ratings WHERE id = ?", &[id.into()], |r| {
                from_json(&r.text(0)?)
            })
    }

    fn rating_of_case(&mut self, case_id: i64) -> R<Option<Rating>> {
        self.c.opt(
            "SELECT data FROM ratings WHERE case_id = ?",
            &[case_id.into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn update_rating(&mut self, r: &Rating) -> R<()> {
        self.c.execute_exact(
            "UPDATE ratings SET data = ? WHERE id = ?",
            &[to_json(r)?.as_str().into(), r.id.into()],
            1,
            "评价不存在",
        )
    }

    fn ratings(&mut self, f: &RatingFilter) -> R<Vec<Rating>> {
        let end = f
            .region_prefix
            .as_deref()
            .map(prefix_end)
            .unwrap_or_default();
        let mut sql = "SELECT data FROM ratings WHERE 1 = 1".to_string();
        let mut params: Vec<Val> = vec![];
        scope(
            &mut sql,
            &mut params,
            f.department_id,
            f.region_prefix.as_deref(),
            &end,
        );
        if f.bad_only {
            sql.push_str(" AND bad = 1");
        }
        if let Some((at, id)) = f.before {
            sql.push_str(" AND (at, id) < (?, ?)");
            params.push(at.into());
            params.push(id.into());
        }
        sql.push_str(" ORDER BY at DESC, id DESC LIMIT ?");
        params.push(f.limit.into());
        self.c.all(&sql, &params, |r| from_json(&r.text(0)?))
    }

    fn insert_rating_invitation(
        &mut self,
        token_hash: &str,
        case_id: i64,
        channel: RatingChannel,
        at: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> R<()> {
        let ch = name_of(&channel);
        self.c.execute(
            "INSERT INTO rating_invitations (token_hash, case_id, channel, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            &[token_hash.into(), case_id.into(), ch.as_str().into(), ms(at).into(), ms(expires).into()],
        )?;
        Ok(())
    }

    fn rating_invitation(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> R<Option<(i64, RatingChannel)>> {
        let row = self.c.opt(
            "SELECT case_id, channel FROM rating_invitations WHERE token_hash = ? AND expires_at > ?",
            &[token_hash.into(), ms(now).into()],
            |r| Ok((r.int(0)?, r.text(1)?)),
        )?;
        match row {
            Some((id, ch)) => Ok(Some((id, enum_of(&ch)?))),
            None => Ok(None),
        }
    }

    fn delete_rating_invitations(&mut self, case_id: i64) -> R<()> {
        self.c.execute(
            "DELETE FROM rating_invitations WHERE case_id = ?",
            &[case_id.into()],
        )?;
        Ok(())
    }

    fn insert_task(&mut self, t: &Task) -> R<i64> {
        let id = self.c.one(
            "INSERT INTO rectifications (rating_id, case_id, department_id, region, state, is_open, due, version, data) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}') RETURNING id",
            &[
                t.rating_id.into(),
                t.case_id.into(),
                t.department_id.into(),
                t.region.as_str().into(),
                t.state.as_str().into(),
                (!t.state.is_final()).into(),
                t.due.to_string().as_str().into(),
                t.version.into(),
            ],
            |r| r.int(0),
        )?;
        let mut with_id = t.clone();
        with_id.id = id;
        self.update_task(&with_id, t.version)?;
        Ok(id)
    }

    fn task(&mut self, id: i64) -> R<Option<Task>> {
        self.c.opt(
            "SELECT data FROM rectifications WHERE id = ?",
            &[id.into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn task_of_rating(&mut self, rating_id: i64) -> R<Option<Task>> {
        self.c.opt(
            "SELECT data FROM rectifications WHERE rating_id = ?",
            &[rating_id.into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn update_task(&mut self, t: &Task, expected_version: i64) -> R<()> {
        let due = t.due.to_string();
        self.c.execute_exact(
            "UPDATE rectifications SET state = ?, is_open = ?, due = ?, version = ?, data = ? WHERE id = ? AND version = ?",
            &[
                t.state.as_str().into(),
                (!t.state.is_final()).into(),
                due.as_str().into(),
                t.version.into(),
                to_json(t)?.as_str().into(),
                t.id.into(),
                expected_version.into(),
            ],
            1,
            "整改工单已被他人更新，请刷新后重试",
        )
    }

    fn tasks(&mut self, f: &TaskFilter) -> R<Vec<Task>> {
        let end = f
            .region_prefix
            .as_deref()
            .map(prefix_end)
            .unwrap_or_default();
        let mut sql = "SELECT data FROM rectifications WHERE id > ?".to_string();
        let mut params: Vec<Val> = vec![f.after_id.unwrap_or(0).into()];
        scope(
            &mut sql,
            &mut params,
            f.department_id,
            f.region_prefix.as_deref(),
            &end,
        );
        if f.open_only {
            sql.push_str(" AND is_open = 1");
        }
        let due;
        if let Some(d) = f.due_before {
            due = d.to_string();
            sql.push_str(" AND due <= ?");
            params.push(due.as_str().into());
        }
        sql.push_str(" ORDER BY id LIMIT ?");
        params.push(f.limit.into());
        self.c.all(&sql, &params, |r| from_json(&r.text(0)?))
    }

    fn add_rating_stats(&mut self, d: &RatingStatRow) -> R<()> {
        self.c.execute(
            "INSERT INTO rating_stats (department_id, item_id, window_id, staff_id, region, month, n1, n2, n3, n4, n5, \
             invalid, rectified_on_time, rectified_late, called_back) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (department_id, item_id, window_id, staff_id, month) DO UPDATE SET \
             n1 = rating_stats.n1 + excluded.n1, n2 = rating_stats.n2 + excluded.n2, n3 = rating_stats.n3 + excluded.n3, \
             n4 = rating_stats.n4 + excluded.n4, n5 = rating_stats.n5 + excluded.n5, \
             invalid = rating_stats.invalid + excluded.invalid, \
             rectified_on_time = rating_stats.rectified_on_time + excluded.rectified_on_time, \
             rectified_late = rating_stats.rectified_late + excluded.rectified_late, \
             called_back = rating_stats.called_back + excluded.called_back",
            &[
                d.department_id.into(),
                d.item_id.into(),
                d.window_id.into(),
                d.staff_id.into(),
                d.region.as_str().into(),
                d.month.as_str().into(),
                d.n[0].into(),
                d.n[1].into(),
                d.n[2].into(),
                d.n[3].into(),
                d.n[4].into(),
                d.invalid.into(),
                d.rectified_on_time.into(),
                d.rectified_late.into(),
                d.called_back.into(),
            ],
        )?;
        Ok(())
    }

    fn rating_stats(&mut self, region_prefix: &str, from: &str, to: &str) -> R<Vec<RatingStatRow>> {
        let (a, b) = if region_prefix.is_empty() {
            (String::new(), "\u{7f}".to_string())
        } else {
            (region_prefix.to_string(), prefix_end(region_prefix))
        };
        self.c.all(
            "SELECT department_id, item_id, window_id, staff_id, region, month, n1, n2, n3, n4, n5, invalid, \
             rectified_on_time, rectified_late, called_back FROM rating_stats \
             WHERE region >= ? AND region < ? AND month >= ? AND month <= ? ORDER BY department_id, month",
            &[a.as_str().into(), b.as_str().into(), from.into(), to.into()],
            |r| {
                Ok(RatingStatRow {
                    department_id: r.int(0)?,
                    item_id: r.int(1)?,
                    window_id: r.int(2)?,
                    staff_id: r.int(3)?,
                    region: r.text(4)?,
                    month: r.text(5)?,
                    n: [r.int(6)?, r.int(7)?, r.int(8)?, r.int(9)?, r.int(10)?],
                    invalid: r.int(11)?,
                    rectified_on_time: r.int(12)?,
                    rectified_late: r.int(13)?,
                    called_back: r.int(14)?,
                })
            },
        )
    }
}

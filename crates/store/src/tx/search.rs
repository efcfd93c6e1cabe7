//! What catalog search needs: revision counters, changed items, synonyms, popularity.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use tongban_core::Error;
use tongban_core::store::SearchStore;

use super::{SqlTx, ms};
use crate::conn::{Conn, ConnExt, from_json, to_json};

type R<T> = Result<T, Error>;

/// Raise the counter `name` by one and return its new value. The row lock this takes
/// on PostgreSQL orders concurrent bumps: a later value always commits after an
/// earlier one, so a reader that sees value N sees every stamp up to N.
pub(crate) fn bump(c: &mut dyn Conn, name: &str) -> R<i64> {
    c.one(
        "INSERT INTO revisions (name, value) VALUES (?, 1) \
         ON CONFLICT (name) DO UPDATE SET value = revisions.value + 1 RETURNING value",
        &[name.into()],
        |r| r.int(0),
    )
}

impl SearchStore for SqlTx<'_> {
    fn revision(&mut self, name: &str) -> R<i64> {
        self.c.one(
            "SELECT COALESCE(MAX(value), 0) FROM revisions WHERE name = ?",
            &[name.into()],
            |r| r.int(0),
        )
    }

    fn bump_revision(&mut self, name: &str) -> R<i64> {
        bump(self.c, name)
    }

    fn items_changed_since(&mut self, after: i64, limit: u32) -> R<Vec<(i64, i64)>> {
        self.c.all(
            "SELECT id, search_rev FROM items WHERE search_rev > ? ORDER BY search_rev, id LIMIT ?",
            &[after.into(), limit.into()],
            |r| Ok((r.int(0)?, r.int(1)?)),
        )
    }

    fn synonyms(&mut self) -> R<BTreeMap<String, Vec<String>>> {
        let rows = self.c.all(
            "SELECT term, words FROM search_synonyms ORDER BY term",
            &[],
            |r| Ok((r.text(0)?, r.text(1)?)),
        )?;
        rows.into_iter()
            .map(|(t, w)| Ok((t, from_json::<Vec<String>>(&w)?)))
            .collect()
    }

    fn replace_synonyms(
        &mut self,
        s: &BTreeMap<String, Vec<String>>,
        by: i64,
        at: DateTime<Utc>,
    ) -> R<()> {
        self.c.execute("DELETE FROM search_synonyms", &[])?;
        for (term, words) in s {
            let w = to_json(words)?;
            self.c.execute(
                "INSERT INTO search_synonyms (term, words, updated_by, updated_at) VALUES (?, ?, ?, ?)",
                &[term.as_str().into(), w.as_str().into(), by.into(), ms(at).into()],
            )?;
        }
        bump(self.c, tongban_core::store::revision::SYNONYMS)?;
        Ok(())
    }

    fn item_popularity(&mut self) -> R<Vec<(i64, u64)>> {
        self.c.all(
            "SELECT item_id, CAST(SUM(received) AS BIGINT) FROM \
             (SELECT item_id, received FROM case_stats UNION ALL SELECT item_id, received FROM case_stat_deltas) t \
             GROUP BY item_id HAVING SUM(received) > 0 ORDER BY item_id",
            &[],
            |r| Ok((r.int(0)?, r.int(1)?.max(0) as u64)),
        )
    }
}

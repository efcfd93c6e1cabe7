//! 12345: work orders (stored whole, as JSON), the dispatch catalogue, the knowledge
//! base, Open311 keys.

use chrono::{DateTime, NaiveDate, Utc};
use tongban_core::Error;
use tongban_core::hotline::WorkOrder;
use tongban_core::hotline::kb::{Article, Category};
use tongban_core::store::{HotlineStore, OrderListFilter};

use super::{SqlTx, ms, name_of, prefix_end};
use crate::conn::{ConnExt, Val, from_json, to_json};

type R<T> = Result<T, Error>;

fn month(t: DateTime<Utc>) -> String {
    tongban_core::time::china_date(t)
        .format("%Y-%m")
        .to_string()
}

impl SqlTx<'_> {
    fn order_units(&mut self, o: &WorkOrder) -> R<()> {
        self.c.execute(
            "DELETE FROM work_order_units WHERE order_id = ?",
            &[o.id.into()],
        )?;
        let mut units: Vec<i64> = o.assisting.clone();
        units.extend(o.lead);
        units.sort_unstable();
        units.dedup();
        for u in units {
            self.c.execute(
                "INSERT INTO work_order_units (order_id, unit) VALUES (?, ?)",
                &[o.id.into(), u.into()],
            )?;
        }
        Ok(())
    }
}

impl HotlineStore for SqlTx<'_> {
    fn next_order_serial(&mut self, day: NaiveDate) -> R<u32> {
        let d = day.to_string();
        self.c.one(
            "INSERT INTO work_order_serials (day, last) VALUES (?, 1) \
             ON CONFLICT (day) DO UPDATE SET last = work_order_serials.last + 1 RETURNING last",
            &[d.as_str().into()],
            |r| Ok(r.int(0)? as u32),
        )
    }

    fn insert_order(&mut self, o: &WorkOrder) -> R<i64> {
        let (t, s) = (name_of(&o.order_type), name_of(&o.source));
        let id = self.c.one(
            "INSERT INTO work_orders (number, state, is_open, region, lead, category_id, order_type, source, month, \
             created_at, updated_at, version, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}') RETURNING id",
            &[
                o.number.as_str().into(),
                o.state.as_str().into(),
                (!o.state.is_final()).into(),
                o.region.as_str().into(),
                o.lead.into(),
                o.category_id.into(),
                t.as_str().into(),
                s.as_str().into(),
                month(o.created_at).as_str().into(),
                ms(o.created_at).into(),
                ms(o.updated_at).into(),
                o.version.into(),
            ],
            |r| r.int(0),
        )?;
        let mut with_id = o.clone();
        with_id.id = id;
        self.update_order(&with_id, o.version)?;
        Ok(id)
    }

    fn order(&mut self, id: i64) -> R<Option<WorkOrder>> {
        self.c.opt(
            "SELECT data FROM work_orders WHERE id = ?",
            &[id.into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn order_by_number(&mut self, number: &str) -> R<Option<WorkOrder>> {
        self.c.opt(
            "SELECT data FROM work_orders WHERE number = ?",
            &[number.into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn update_order(&mut self, o: &WorkOrder, expected_version: i64) -> R<()> {
        self.c.execute_exact(
            "UPDATE work_orders SET state = ?, is_open = ?, lead = ?, updated_at = ?, version = ?, data = ? \
             WHERE id = ? AND version = ?",
            &[
                o.state.as_str().into(),
                (!o.state.is_final()).into(),
                o.lead.into(),
                ms(o.updated_at).into(),
                o.version.into(),
                to_json(o)?.as_str().into(),
                o.id.into(),
                expected_version.into(),
            ],
            1,
            "工单已被他人更新，请刷新后重试",
        )?;
        self.order_units(o)
    }

    fn orders(&mut self, f: &OrderListFilter) -> R<Vec<WorkOrder>> {
        let end = f
            .region_prefix
            .as_deref()
            .map(prefix_end)
            .unwrap_or_default();
        let mut sql = String::from("SELECT data FROM work_orders o WHERE o.id < ?");
        let mut params: Vec<Val> = vec![f.before_id.unwrap_or(i64::MAX).into()];
        if let Some(p) = f.region_prefix.as_deref().filter(|p| !p.is_empty()) {
            sql.push_str(" AND o.region >= ? AND o.region < ?");
            params.push(p.into());
            params.push(end.as_str().into());
        }
        if let Some(u) = f.unit {
            sql.push_str(" AND o.id IN (SELECT order_id FROM work_order_units WHERE unit = ?)");
            params.push(u.into());
        }
        if f.open_only {
            sql.push_str(" AND o.is_open = 1");
        }
        let states: Vec<&str> = f.states.iter().map(|s| s.as_str()).collect();
        if !states.is_empty() {
            sql.push_str(&format!(
                " AND o.state IN ({})",
                vec!["?"; states.len()].join(", ")
            ));
            params.extend(states.iter().map(|s| Val::from(*s)));
        }
        sql.push_str(" ORDER BY o.id DESC LIMIT ?");
        params.push(f.limit.into());
        self.c.all(&sql, &params, |r| from_json(&r.text(0)?))
    }

    fn orders_in_months(&mut self, region_prefix: &str, from: &str, to: &str) -> R<Vec<WorkOrder>> {
        let (a, b) = if region_prefix.is_empty() {
            (String::new(), "\u{7f}".to_string())
        } else {
            (region_prefix.to_string(), prefix_end(region_prefix))
        };
        self.c.all(
            "SELECT data FROM work_orders WHERE month >= ? AND month <= ? AND region >= ? AND region < ? ORDER BY id",
            &[from.into(), to.into(), a.as_str().into(), b.as_str().into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn orders_since(
        &mut self,
        region_prefix: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> R<Vec<WorkOrder>> {
        let (a, b) = if region_prefix.is_empty() {
            (String::new(), "\u{7f}".to_string())
        } else {
            (region_prefix.to_string(), prefix_end(region_prefix))
        };
        self.c.all(
            "SELECT data FROM work_orders WHERE region >= ? AND region < ? AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?",
            &[a.as_str().into(), b.as_str().into(), ms(since).into(), limit.into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn insert_category(&mut self, c: &Category) -> R<i64> {
        let id = self.c.one(
            "INSERT INTO hotline_categories (code, active, data) VALUES (?, ?, '{}') RETURNING id",
            &[c.code.as_str().into(), c.active.into()],
            |r| r.int(0),
        )?;
        let mut with_id = c.clone();
        with_id.id = id;
        self.update_category(&with_id)?;
        Ok(id)
    }

    fn update_category(&mut self, c: &Category) -> R<()> {
        self.c.execute_exact(
            "UPDATE hotline_categories SET code = ?, active = ?, data = ? WHERE id = ?",
            &[
                c.code.as_str().into(),
                c.active.into(),
                to_json(c)?.as_str().into(),
                c.id.into(),
            ],
            1,
            "派单目录不存在",
        )
    }

    fn category(&mut self, id: i64) -> R<Option<Category>> {
        self.c.opt(
            "SELECT data FROM hotline_categories WHERE id = ?",
            &[id.into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn category_by_code(&mut self, code: &str) -> R<Option<Category>> {
        self.c.opt(
            "SELECT data FROM hotline_categories WHERE code = ?",
            &[code.into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn categories(&mut self) -> R<Vec<Category>> {
        self.c.all(
            "SELECT data FROM hotline_categories ORDER BY id",
            &[],
            |r| from_json(&r.text(0)?),
        )
    }

    fn insert_article(&mut self, a: &Article) -> R<i64> {
        let id = self.c.one(
            "INSERT INTO kb_articles (region, withdrawn, updated_at, data) VALUES (?, ?, ?, '{}') RETURNING id",
            &[a.region.as_str().into(), a.withdrawn.into(), ms(a.updated_at).into()],
            |r| r.int(0),
        )?;
        let mut with_id = a.clone();
        with_id.id = id;
        self.update_article(&with_id)?;
        Ok(id)
    }

    fn update_article(&mut self, a: &Article) -> R<()> {
        super::search::bump(self.c, "kb")?;
        self.c.execute_exact(
            "UPDATE kb_articles SET withdrawn = ?, updated_at = ?, data = ? WHERE id = ?",
            &[
                a.withdrawn.into(),
                ms(a.updated_at).into(),
                to_json(a)?.as_str().into(),
                a.id.into(),
            ],
            1,
            "知识条目不存在",
        )
    }

    fn article(&mut self, id: i64) -> R<Option<Article>> {
        self.c.opt(
            "SELECT data FROM kb_articles WHERE id = ?",
            &[id.into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn articles(&mut self, prefix: Option<&str>) -> R<Vec<Article>> {
        let (a, b) = match prefix {
            Some(p) if !p.is_empty() => (p.to_string(), prefix_end(p)),
            _ => (String::new(), "\u{7f}".to_string()),
        };
        self.c.all(
            "SELECT data FROM kb_articles WHERE region >= ? AND region < ? ORDER BY id",
            &[a.as_str().into(), b.as_str().into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn insert_open311_key(
        &mut self,
        key_hash: &str,
        name: &str,
        by: i64,
        at: DateTime<Utc>,
    ) -> R<()> {
        self.c.execute(
            "INSERT INTO open311_keys (key_hash, name, created_by, created_at) VALUES (?, ?, ?, ?)",
            &[key_hash.into(), name.into(), by.into(), ms(at).into()],
        )?;
        Ok(())
    }

    fn open311_key(&mut self, key_hash: &str) -> R<Option<String>> {
        self.c.opt(
            "SELECT name FROM open311_keys WHERE key_hash = ?",
            &[key_hash.into()],
            |r| r.text(0),
        )
    }
}

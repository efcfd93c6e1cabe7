//! 一件事 bundles (stored whole, as JSON) and bundle cases.

use tongban_core::Error;
use tongban_core::bundle::{Bundle, BundleCase};
use tongban_core::store::BundleStore;

use super::{SqlTx, ms, prefix_end};
use crate::conn::{ConnExt, from_json, to_json};

type R<T> = Result<T, Error>;

impl BundleStore for SqlTx<'_> {
    fn insert_bundle(&mut self, b: &Bundle) -> R<i64> {
        let id = self.c.one(
            "INSERT INTO bundles (code, region, name, updated_at, data) VALUES (?, ?, ?, ?, ?) RETURNING id",
            &[
                b.code.as_str().into(),
                b.region.as_str().into(),
                b.name.as_str().into(),
                ms(b.updated_at).into(),
                to_json(b)?.as_str().into(),
            ],
            |r| r.int(0),
        )?;
        let mut with_id = b.clone();
        with_id.id = id;
        self.update_bundle(&with_id)?;
        Ok(id)
    }

    fn update_bundle(&mut self, b: &Bundle) -> R<()> {
        self.c.execute_exact(
            "UPDATE bundles SET name = ?, updated_at = ?, data = ? WHERE id = ?",
            &[
                b.name.as_str().into(),
                ms(b.updated_at).into(),
                to_json(b)?.as_str().into(),
                b.id.into(),
            ],
            1,
            "一件事不存在",
        )
    }

    fn bundle(&mut self, id: i64) -> R<Option<Bundle>> {
        self.c
            .opt("SELECT data FROM bundles WHERE id = ?", &[id.into()], |r| {
                from_json(&r.text(0)?)
            })
    }

    fn bundles(&mut self, prefix: Option<&str>) -> R<Vec<Bundle>> {
        let (a, b) = match prefix {
            Some(p) if !p.is_empty() => (p.to_string(), prefix_end(p)),
            _ => (String::new(), "\u{7f}".to_string()),
        };
        self.c.all(
            "SELECT data FROM bundles WHERE region >= ? AND region < ? ORDER BY region, id",
            &[a.as_str().into(), b.as_str().into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn insert_bundle_case(&mut self, c: &BundleCase) -> R<i64> {
        // Membership is final once committed (servers keep it: `BundleCache`), so a
        // bundle takes only children filed in this same transaction.
        if let Some(child) = c
            .children
            .iter()
            .find(|ch| !self.filed.contains(&(ch.case_id, None)))
        {
            return Err(Error::Store(format!(
                "case {} was not filed with its bundle case",
                child.case_id
            )));
        }
        let id = self.c.one(
            "INSERT INTO bundle_cases (bundle_id, applicant_id, created_at, data) VALUES (?, ?, ?, ?) RETURNING id",
            &[
                c.bundle_id.into(),
                c.applicant_id.into(),
                ms(c.created_at).into(),
                to_json(c)?.as_str().into(),
            ],
            |r| r.int(0),
        )?;
        let mut with_id = c.clone();
        with_id.id = id;
        self.c.execute(
            "UPDATE bundle_cases SET data = ? WHERE id = ?",
            &[to_json(&with_id)?.as_str().into(), id.into()],
        )?;
        for child in &c.children {
            self.c.execute(
                "INSERT INTO bundle_children (case_id, bundle_case_id) VALUES (?, ?)",
                &[child.case_id.into(), id.into()],
            )?;
            if let Some(f) = self.filed.iter_mut().find(|(c, _)| *c == child.case_id) {
                f.1 = Some(id);
            }
        }
        Ok(id)
    }

    fn bundle_case(&mut self, id: i64) -> R<Option<BundleCase>> {
        self.c.opt(
            "SELECT data FROM bundle_cases WHERE id = ?",
            &[id.into()],
            |r| from_json(&r.text(0)?),
        )
    }

    fn update_bundle_case(&mut self, c: &BundleCase) -> R<()> {
        self.c.execute_exact(
            "UPDATE bundle_cases SET data = ? WHERE id = ?",
            &[to_json(c)?.as_str().into(), c.id.into()],
            1,
            "一件事办件不存在",
        )
    }

    fn bundle_case_of(&mut self, case_id: i64) -> R<Option<i64>> {
        if let Some(known) = self.bundles.and_then(|b| b.get(case_id)) {
            return Ok(known);
        }
        // The case itself too: only an existing case's membership is final.
        let found = self.c.opt(
            "SELECT b.bundle_case_id FROM cases c LEFT JOIN bundle_children b ON b.case_id = c.id WHERE c.id = ?",
            &[case_id.into()],
            |r| r.opt_int(0),
        )?;
        match found {
            Some(bundle_case) => {
                if let Some(b) = self.bundles {
                    b.put(case_id, bundle_case);
                }
                Ok(bundle_case)
            }
            None => Ok(None),
        }
    }
}

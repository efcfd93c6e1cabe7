//! Regions, departments, halls, windows, applicants.

use tongban_core::Error;
use tongban_core::identity::CreditCode;
use tongban_core::org::{Applicant, Department, Hall, NewDepartment, RongqueBar, Window};
use tongban_core::region::{Region, RegionCode};
use tongban_core::store::{ApplicantStore, NewWindow, OrgStore};

use super::{SqlTx, enum_of, instant, ms, name_of, prefix_end};
use crate::conn::{ConnExt, Row};

type R<T> = Result<T, Error>;

fn code(s: String) -> R<RegionCode> {
    RegionCode::parse(&s).map_err(|_| Error::Store(format!("bad region {s}")))
}

fn region_row(r: &dyn Row) -> R<Region> {
    let code = code(r.text(0)?)?;
    Ok(Region {
        name: r.text(1)?,
        parent: r.opt_text(2)?.map(code_opt).transpose()?,
        level: code.level(),
        code,
    })
}

fn code_opt(s: String) -> R<RegionCode> {
    code(s)
}

const DEPT_COLS: &str = "id, name, short_name, credit_code, region, active";

fn dept_row(r: &dyn Row) -> R<Department> {
    Ok(Department {
        id: r.int(0)?,
        name: r.text(1)?,
        short_name: r.text(2)?,
        credit_code: CreditCode::parse(&r.text(3)?).map_err(|e| Error::Store(e.to_string()))?,
        region: code(r.text(4)?)?,
        active: r.int(5)? != 0,
    })
}

const HALL_COLS: &str = "id, name, region, address, phone, department_id";

fn hall_row(r: &dyn Row) -> R<Hall> {
    Ok(Hall {
        id: r.int(0)?,
        name: r.text(1)?,
        region: code(r.text(2)?)?,
        address: r.text(3)?,
        phone: r.text(4)?,
        department_id: r.int(5)?,
    })
}

fn window_row(r: &dyn Row) -> R<Window> {
    Ok(Window {
        id: r.int(0)?,
        hall_id: r.int(1)?,
        name: r.text(2)?,
        kind: enum_of(&r.text(3)?)?,
        theme: r.opt_text(4)?,
    })
}

/// `WHERE col >= ? AND col < ?` parameters for a prefix (empty prefix: everything).
fn range(prefix: Option<&str>) -> (String, String) {
    match prefix {
        Some(p) if !p.is_empty() => (p.to_string(), prefix_end(p)),
        _ => (String::new(), "\u{7f}".to_string()),
    }
}

impl OrgStore for SqlTx<'_> {
    fn region(&mut self, code: &RegionCode) -> R<Option<Region>> {
        self.c.opt(
            "SELECT code, name, parent FROM regions WHERE code = ?",
            &[code.as_str().into()],
            region_row,
        )
    }

    fn insert_region(&mut self, r: &Region) -> R<()> {
        self.c.execute(
            "INSERT INTO regions (code, name, parent, level) VALUES (?, ?, ?, ?)",
            &[
                r.code.as_str().into(),
                r.name.as_str().into(),
                r.parent.as_ref().map(|p| p.as_str()).into(),
                name_of(&r.level).as_str().into(),
            ],
        )?;
        Ok(())
    }

    fn regions(&mut self, prefix: Option<&str>) -> R<Vec<Region>> {
        let (a, b) = range(prefix);
        self.c.all(
            "SELECT code, name, parent FROM regions WHERE code >= ? AND code < ? ORDER BY code",
            &[a.as_str().into(), b.as_str().into()],
            region_row,
        )
    }

    fn department(&mut self, id: i64) -> R<Option<Department>> {
        self.c.opt(
            &format!("SELECT {DEPT_COLS} FROM departments WHERE id = ?"),
            &[id.into()],
            dept_row,
        )
    }

    fn insert_department(&mut self, d: &NewDepartment) -> R<i64> {
        self.c.one(
            "INSERT INTO departments (name, short_name, credit_code, region, active) VALUES (?, ?, ?, ?, 1) RETURNING id",
            &[d.name.as_str().into(), d.short_name.as_str().into(), d.credit_code.as_str().into(), d.region.as_str().into()],
            |r| r.int(0),
        )
    }

    fn update_department(&mut self, d: &Department) -> R<()> {
        // The department's name is indexed with its items: a rename reindexes them.
        let renamed = self.c.opt(
            "SELECT id FROM departments WHERE id = ? AND name <> ?",
            &[d.id.into(), d.name.as_str().into()],
            |r| r.int(0),
        )?;
        if renamed.is_some() {
            let rev = super::search::bump(self.c, tongban_core::store::revision::CATALOG)?;
            self.c.execute(
                "UPDATE items SET search_rev = ? WHERE department_id = ?",
                &[rev.into(), d.id.into()],
            )?;
        }
        self.c.execute(
            "UPDATE departments SET name = ?, short_name = ?, active = ? WHERE id = ?",
            &[
                d.name.as_str().into(),
                d.short_name.as_str().into(),
                d.active.into(),
                d.id.into(),
            ],
        )?;
        Ok(())
    }

    fn departments(&mut self, prefix: Option<&str>) -> R<Vec<Department>> {
        let (a, b) = range(prefix);
        self.c.all(
            &format!("SELECT {DEPT_COLS} FROM departments WHERE region >= ? AND region < ? ORDER BY region, id"),
            &[a.as_str().into(), b.as_str().into()],
            dept_row,
        )
    }

    fn hall(&mut self, id: i64) -> R<Option<Hall>> {
        self.c.opt(
            &format!("SELECT {HALL_COLS} FROM halls WHERE id = ?"),
            &[id.into()],
            hall_row,
        )
    }

    fn insert_hall(&mut self, h: &Hall) -> R<i64> {
        self.c.one(
            "INSERT INTO halls (name, region, address, phone, department_id) VALUES (?, ?, ?, ?, ?) RETURNING id",
            &[h.name.as_str().into(), h.region.as_str().into(), h.address.as_str().into(), h.phone.as_str().into(), h.department_id.into()],
            |r| r.int(0),
        )
    }

    fn halls(&mut self, prefix: Option<&str>) -> R<Vec<Hall>> {
        let (a, b) = range(prefix);
        self.c.all(
            &format!(
                "SELECT {HALL_COLS} FROM halls WHERE region >= ? AND region < ? ORDER BY region, id"
            ),
            &[a.as_str().into(), b.as_str().into()],
            hall_row,
        )
    }

    fn window(&mut self, id: i64) -> R<Option<Window>> {
        self.c.opt(
            "SELECT id, hall_id, name, kind, theme FROM windows WHERE id = ?",
            &[id.into()],
            window_row,
        )
    }

    fn insert_window(&mut self, hall_id: i64, w: &NewWindow) -> R<i64> {
        self.c.one(
            "INSERT INTO windows (hall_id, name, kind, theme) VALUES (?, ?, ?, ?) RETURNING id",
            &[
                hall_id.into(),
                w.name.trim().into(),
                name_of(&w.kind).as_str().into(),
                w.theme.as_deref().map(str::trim).into(),
            ],
            |r| r.int(0),
        )
    }

    fn windows(&mut self, hall_id: i64) -> R<Vec<Window>> {
        self.c.all(
            "SELECT id, hall_id, name, kind, theme FROM windows WHERE hall_id = ? ORDER BY id",
            &[hall_id.into()],
            window_row,
        )
    }
}

const APPLICANT_COLS: &str =
    "id, kind, name, identifier, phone, legal_representative, bar_reason, bar_since, created_at";

fn applicant_row(r: &dyn Row) -> R<Applicant> {
    let bar = match (r.opt_text(6)?, r.opt_int(7)?) {
        (Some(reason), Some(since)) => Some(RongqueBar {
            reason,
            since: instant(since)?,
        }),
        _ => None,
    };
    Ok(Applicant {
        id: r.int(0)?,
        kind: enum_of(&r.text(1)?)?,
        name: r.text(2)?,
        identifier: r.text(3)?,
        phone: r.text(4)?,
        legal_representative: r.opt_text(5)?,
        rongque_bar: bar,
        created_at: instant(r.int(8)?)?,
    })
}

impl ApplicantStore for SqlTx<'_> {
    fn applicant(&mut self, id: i64) -> R<Option<Applicant>> {
        self.c.opt(
            &format!("SELECT {APPLICANT_COLS} FROM applicants WHERE id = ?"),
            &[id.into()],
            applicant_row,
        )
    }

    fn applicant_by_identifier(&mut self, identifier: &str) -> R<Option<Applicant>> {
        self.c.opt(
            &format!("SELECT {APPLICANT_COLS} FROM applicants WHERE identifier = ?"),
            &[identifier.into()],
            applicant_row,
        )
    }

    fn insert_applicant(&mut self, a: &Applicant) -> R<i64> {
        let kind = name_of(&a.kind);
        self.c.one(
            "INSERT INTO applicants (kind, name, identifier, phone, legal_representative, bar_reason, bar_since, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[
                kind.as_str().into(),
                a.name.as_str().into(),
                a.identifier.as_str().into(),
                a.phone.as_str().into(),
                a.legal_representative.as_deref().into(),
                a.rongque_bar.as_ref().map(|b| b.reason.as_str()).into(),
                a.rongque_bar.as_ref().map(|b| ms(b.since)).into(),
                ms(a.created_at).into(),
            ],
            |r| r.int(0),
        )
    }

    fn insert_applicant_if_absent(&mut self, a: &Applicant) -> R<Applicant> {
        let kind = name_of(&a.kind);
        self.c.execute(
            "INSERT INTO applicants (kind, name, identifier, phone, legal_representative, bar_reason, bar_since, created_at) \
             VALUES (?, ?, ?, ?, ?, NULL, NULL, ?) ON CONFLICT (identifier) DO NOTHING",
            &[
                kind.as_str().into(),
                a.name.as_str().into(),
                a.identifier.as_str().into(),
                a.phone.as_str().into(),
                a.legal_representative.as_deref().into(),
                ms(a.created_at).into(),
            ],
        )?;
        self.applicant_by_identifier(&a.identifier)?
            .ok_or_else(|| Error::Store("applicant vanished after insert".into()))
    }

    fn update_applicant_contact(&mut self, a: &Applicant) -> R<()> {
        self.c.execute(
            "UPDATE applicants SET phone = ?, legal_representative = ? WHERE id = ?",
            &[
                a.phone.as_str().into(),
                a.legal_representative.as_deref().into(),
                a.id.into(),
            ],
        )?;
        Ok(())
    }

    fn set_rongque_bar(&mut self, applicant_id: i64, bar: Option<&RongqueBar>) -> R<()> {
        match bar {
            Some(b) => self.c.execute(
                "UPDATE applicants SET bar_reason = ?, bar_since = ? WHERE id = ? AND bar_reason IS NULL",
                &[b.reason.as_str().into(), ms(b.since).into(), applicant_id.into()],
            )?,
            None => self.c.execute(
                "UPDATE applicants SET bar_reason = NULL, bar_since = NULL WHERE id = ?",
                &[applicant_id.into()],
            )?,
        };
        Ok(())
    }
}

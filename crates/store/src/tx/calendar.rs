//! The calendar's years.

use chrono::{DateTime, Utc};
use tongban_core::Error;
use tongban_core::calendar::CalendarYear;
use tongban_core::store::CalendarStore;

use super::{SqlTx, ms};
use crate::conn::{ConnExt, from_json, to_json};

impl CalendarStore for SqlTx<'_> {
    fn calendar_years(&mut self) -> Result<Vec<CalendarYear>, Error> {
        self.c
            .all("SELECT data FROM calendar_years ORDER BY year", &[], |r| {
                from_json(&r.text(0)?)
            })
    }

    fn save_calendar_year(
        &mut self,
        y: &CalendarYear,
        by: i64,
        at: DateTime<Utc>,
    ) -> Result<(), Error> {
        let data = to_json(y)?;
        self.c.execute(
            "INSERT INTO calendar_years (year, data, updated_by, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (year) DO UPDATE SET data = excluded.data, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
            &[i64::from(y.year).into(), data.as_str().into(), by.into(), ms(at).into()],
        )?;
        self.c.execute(
            "INSERT INTO revisions (name, value) VALUES ('calendar', 1) \
             ON CONFLICT (name) DO UPDATE SET value = revisions.value + 1",
            &[],
        )?;
        Ok(())
    }

    fn calendar_revision(&mut self) -> Result<i64, Error> {
        self.c.one(
            "SELECT COALESCE(MAX(value), 0) FROM revisions WHERE name = 'calendar'",
            &[],
            |r| r.int(0),
        )
    }
}

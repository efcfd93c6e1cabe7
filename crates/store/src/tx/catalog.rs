//! Basic items, items and their versions.

use tongban_core::Error;
use tongban_core::catalog::{BasicItem, Item, ItemSpec, ItemVersion, VersionState};
use tongban_core::region::RegionCode;
use tongban_core::store::{CatalogStore, ItemFilter, revision};

use super::{SqlTx, enum_of, instant, ms, name_of, prefix_end};
use crate::conn::{ConnExt, Row, Val, from_json, to_json};

type R<T> = Result<T, Error>;

const ITEM_COLS: &str = "id, code, basic_code, item_type, department_id, region, name, status, published_version, draft_version, updated_at";

fn item_row(r: &dyn Row) -> R<Item> {
    let region = r.text(5)?;
    Ok(Item {
        id: r.int(0)?,
        code: r.text(1)?,
        basic_code: r.text(2)?,
        item_type: enum_of(&r.text(3)?)?,
        department_id: r.int(4)?,
        region: RegionCode::parse(&region)
            .map_err(|_| Error::Store(format!("bad region {region}")))?,
        name: r.text(6)?,
        status: enum_of(&r.text(7)?)?,
        published_version: r.opt_int(8)?.map(|v| v as u32),
        draft_version: r.opt_int(9)?.map(|v| v as u32),
        updated_at: instant(r.int(10)?)?,
    })
}

fn version_row(r: &dyn Row) -> R<ItemVersion> {
    Ok(ItemVersion {
        item_id: r.int(0)?,
        version: r.int(1)? as u32,
        state: enum_of(&r.text(2)?)?,
        spec: from_json(&r.text(3)?)?,
        published_at: r.opt_int(4)?.map(instant).transpose()?,
    })
}

impl CatalogStore for SqlTx<'_> {
    fn basic_item(&mut self, code: &str) -> R<Option<BasicItem>> {
        self.c.opt(
            "SELECT code, name, item_type, legal_basis FROM basic_items WHERE code = ?",
            &[code.into()],
            |r| {
                Ok(BasicItem {
                    code: r.text(0)?,
                    name: r.text(1)?,
                    item_type: enum_of(&r.text(2)?)?,
                    legal_basis: r.text(3)?,
                })
            },
        )
    }

    fn insert_basic_item(&mut self, b: &BasicItem) -> R<()> {
        let t = name_of(&b.item_type);
        self.c.execute(
            "INSERT INTO basic_items (code, name, item_type, legal_basis) VALUES (?, ?, ?, ?)",
            &[
                b.code.as_str().into(),
                b.name.as_str().into(),
                t.as_str().into(),
                b.legal_basis.as_str().into(),
            ],
        )?;
        Ok(())
    }

    fn basic_items(&mut self) -> R<Vec<BasicItem>> {
        self.c.all(
            "SELECT code, name, item_type, legal_basis FROM basic_items ORDER BY code",
            &[],
            |r| {
                Ok(BasicItem {
                    code: r.text(0)?,
                    name: r.text(1)?,
                    item_type: enum_of(&r.text(2)?)?,
                    legal_basis: r.text(3)?,
                })
            },
        )
    }

    fn item(&mut self, id: i64) -> R<Option<Item>> {
        self.c.opt(
            &format!("SELECT {ITEM_COLS} FROM items WHERE id = ?"),
            &[id.into()],
            item_row,
        )
    }

    fn item_by_code(&mut self, code: &str) -> R<Option<Item>> {
        self.c.opt(
            &format!("SELECT {ITEM_COLS} FROM items WHERE code = ?"),
            &[code.into()],
            item_row,
        )
    }

    fn insert_item(&mut self, i: &Item) -> R<i64> {
        let (t, s) = (name_of(&i.item_type), name_of(&i.status));
        let rev = super::search::bump(self.c, revision::CATALOG)?;
        self.c.one(
            "INSERT INTO items (code, basic_code, item_type, department_id, region, name, status, published_version, \
             draft_version, updated_at, search_rev) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[
                i.code.as_str().into(),
                i.basic_code.as_str().into(),
                t.as_str().into(),
                i.department_id.into(),
                i.region.as_str().into(),
                i.name.as_str().into(),
                s.as_str().into(),
                i.published_version.into(),
                i.draft_version.into(),
                ms(i.updated_at).into(),
                rev.into(),
            ],
            |r| r.int(0),
        )
    }

    fn update_item(&mut self, i: &Item) -> R<()> {
        let s = name_of(&i.status);
        let rev = super::search::bump(self.c, revision::CATALOG)?;
        self.c.execute(
            "UPDATE items SET name = ?, status = ?, published_version = ?, draft_version = ?, updated_at = ?, \
             search_rev = ? WHERE id = ?",
            &[
                i.name.as_str().into(),
                s.as_str().into(),
                i.published_version.into(),
                i.draft_version.into(),
                ms(i.updated_at).into(),
                rev.into(),
                i.id.into(),
            ],
        )?;
        Ok(())
    }

    fn items(&mut self, f: &ItemFilter) -> R<Vec<Item>> {
        let mut sql = format!("SELECT {ITEM_COLS} FROM items WHERE id > ?");
        let end;
        let like;
        let statuses: Vec<String> = f.statuses.iter().map(name_of).collect();
        let mut params: Vec<Val> = vec![f.after_id.unwrap_or(0).into()];
        if let Some(p) = &f.region_prefix {
            end = prefix_end(p);
            sql.push_str(" AND region >= ? AND region < ?");
            params.push(p.as_str().into());
            params.push(end.as_str().into());
        }
        if let Some(d) = f.department_id {
            sql.push_str(" AND department_id = ?");
            params.push(d.into());
        }
        if !statuses.is_empty() {
            sql.push_str(&format!(
                " AND status IN ({})",
                vec!["?"; statuses.len()].join(", ")
            ));
            params.extend(statuses.iter().map(|s| Val::from(s.as_str())));
        }
        if f.published_only {
            sql.push_str(" AND published_version IS NOT NULL");
        }
        if let Some(n) = &f.name_contains {
            like = format!("%{}%", n.replace(['%', '_', '\\'], ""));
            sql.push_str(" AND name LIKE ?");
            params.push(like.as_str().into());
        }
        sql.push_str(" ORDER BY id LIMIT ?");
        params.push(f.limit.into());
        self.c.all(&sql, &params, item_row)
    }

    fn count_items_of(&mut self, basic_code: &str, department_id: i64) -> R<u32> {
        self.c.one(
            "SELECT COUNT(*) FROM items WHERE basic_code = ? AND department_id = ?",
            &[basic_code.into(), department_id.into()],
            |r| Ok(r.int(0)? as u32),
        )
    }

    fn item_version(&mut self, item_id: i64, version: u32) -> R<Option<ItemVersion>> {
        self.c.opt(
            "SELECT item_id, version, state, spec, published_at FROM item_versions WHERE item_id = ? AND version = ?",
            &[item_id.into(), version.into()],
            version_row,
        )
    }

    fn save_item_version(&mut self, v: &ItemVersion) -> R<()> {
        let state = name_of(&v.state);
        let spec = to_json(&v.spec)?;
        let existing = self.c.opt(
            "SELECT state, spec FROM item_versions WHERE item_id = ? AND version = ?",
            &[v.item_id.into(), v.version.into()],
            |r| Ok((enum_of::<VersionState>(&r.text(0)?)?, r.text(1)?)),
        )?;
        match existing {
            None => {
                self.c.execute(
                    "INSERT INTO item_versions (item_id, version, state, spec, published_at) VALUES (?, ?, ?, ?, ?)",
                    &[v.item_id.into(), v.version.into(), state.as_str().into(), spec.as_str().into(), v.published_at.map(ms).into()],
                )?;
            }
            // A published version's content never changes; only its state may move on.
            Some((VersionState::Published | VersionState::Superseded, old)) if old != spec => {
                return Err(Error::Store(format!(
                    "refusing to change the content of published version {} of item {}",
                    v.version, v.item_id
                )));
            }
            Some(_) => {
                self.c.execute(
                    "UPDATE item_versions SET state = ?, spec = ?, published_at = ? WHERE item_id = ? AND version = ?",
                    &[state.as_str().into(), spec.as_str().into(), v.published_at.map(ms).into(), v.item_id.into(), v.version.into()],
                )?;
            }
        }
        Ok(())
    }

    fn published_spec(
        &mut self,
        item_id: i64,
        version: u32,
    ) -> R<Option<std::sync::Arc<ItemSpec>>> {
        if let Some(s) = self.specs.get((item_id, version)) {
            return Ok(Some(s));
        }
        let v = self.item_version(item_id, version)?;
        Ok(match v {
            Some(v) if v.state != VersionState::Draft => {
                let spec = std::sync::Arc::new(v.spec);
                self.specs.put((item_id, version), spec.clone());
                Some(spec)
            }
            _ => None,
        })
    }

    fn item_versions(&mut self, item_id: i64) -> R<Vec<ItemVersion>> {
        self.c.all(
            "SELECT item_id, version, state, spec, published_at FROM item_versions WHERE item_id = ? ORDER BY version",
            &[item_id.into()],
            version_row,
        )
    }
}

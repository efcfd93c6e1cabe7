//! Accounts, sessions, sign-in attempts.

use chrono::{DateTime, Utc};
use tongban_core::Error;
use tongban_core::org::{Account, Session, SessionKind};
use tongban_core::region::RegionCode;
use tongban_core::store::AuthStore;

use super::{SqlTx, enum_of, instant, ms, name_of, prefix_end};
use crate::conn::{ConnExt, Row, from_json, to_json};

type R<T> = Result<T, Error>;

const ACCOUNT_COLS: &str = "id, username, name, role, department_id, region, applicant_id, window_id, \
                            immediate_departments, password_hash, active, created_at";

fn account_row(r: &dyn Row) -> R<Account> {
    account_row_at(r, 0)
}

fn account_row_at(r: &dyn Row, o: usize) -> R<Account> {
    Ok(Account {
        id: r.int(o)?,
        username: r.text(o + 1)?,
        name: r.text(o + 2)?,
        role: enum_of(&r.text(o + 3)?)?,
        department_id: r.opt_int(o + 4)?,
        region: r
            .opt_text(o + 5)?
            .map(|s| RegionCode::parse(&s).map_err(|_| Error::Store(format!("bad region {s}"))))
            .transpose()?,
        applicant_id: r.opt_int(o + 6)?,
        window_id: r.opt_int(o + 7)?,
        immediate_departments: from_json(&r.text(o + 8)?)?,
        password_hash: r.text(o + 9)?,
        active: r.int(o + 10)? != 0,
        created_at: instant(r.int(o + 11)?)?,
    })
}

impl AuthStore for SqlTx<'_> {
    fn account(&mut self, id: i64) -> R<Option<Account>> {
        self.c.opt(
            &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ?"),
            &[id.into()],
            account_row,
        )
    }

    fn account_by_username(&mut self, username: &str) -> R<Option<Account>> {
        self.c.opt(
            &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE username = ?"),
            &[username.into()],
            account_row,
        )
    }

    fn insert_account(&mut self, a: &Account) -> R<i64> {
        let role = name_of(&a.role);
        let imm = to_json(&a.immediate_departments)?;
        self.c.one(
            "INSERT INTO accounts (username, name, role, department_id, region, applicant_id, window_id, \
             immediate_departments, password_hash, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[
                a.username.as_str().into(),
                a.name.as_str().into(),
                role.as_str().into(),
                a.department_id.into(),
                a.region.as_ref().map(|r| r.as_str()).into(),
                a.applicant_id.into(),
                a.window_id.into(),
                imm.as_str().into(),
                a.password_hash.as_str().into(),
                a.active.into(),
                ms(a.created_at).into(),
            ],
            |r| r.int(0),
        )
    }

    fn update_account(&mut self, a: &Account) -> R<()> {
        let role = name_of(&a.role);
        let imm = to_json(&a.immediate_departments)?;
        self.c.execute(
            "UPDATE accounts SET name = ?, role = ?, department_id = ?, region = ?, window_id = ?, \
             immediate_departments = ?, password_hash = ?, active = ? WHERE id = ?",
            &[
                a.name.as_str().into(),
                role.as_str().into(),
                a.department_id.into(),
                a.region.as_ref().map(|r| r.as_str()).into(),
                a.window_id.into(),
                imm.as_str().into(),
                a.password_hash.as_str().into(),
                a.active.into(),
                a.id.into(),
            ],
        )?;
        Ok(())
    }

    fn accounts(&mut self, prefix: Option<&str>) -> R<Vec<Account>> {
        match prefix {
            Some(p) if !p.is_empty() => {
                let end = prefix_end(p);
                self.c.all(
                    &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE region >= ? AND region < ? ORDER BY id"),
                    &[p.into(), end.as_str().into()],
                    account_row,
                )
            }
            _ => self.c.all(
                &format!(
                    "SELECT {ACCOUNT_COLS} FROM accounts WHERE region IS NOT NULL ORDER BY id"
                ),
                &[],
                account_row,
            ),
        }
    }

    fn insert_session(&mut self, s: &Session) -> R<()> {
        self.c.execute(
            "INSERT INTO sessions (token_hash, account_id, kind, created_at, expires_at, csrf) VALUES (?, ?, ?, ?, ?, ?)",
            &[
                s.token_hash.as_str().into(),
                s.account_id.into(),
                s.kind.as_str().into(),
                ms(s.created_at).into(),
                ms(s.expires_at).into(),
                s.csrf.as_str().into(),
            ],
        )?;
        Ok(())
    }

    fn session(&mut self, token_hash: &str, now: DateTime<Utc>) -> R<Option<(Session, Account)>> {
        let cols: String = ACCOUNT_COLS
            .split(", ")
            .map(|c| format!("a.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        self.c.opt(
            &format!(
                "SELECT s.token_hash, s.account_id, s.kind, s.created_at, s.expires_at, s.csrf, {cols} \
                 FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ? AND s.expires_at > ?"
            ),
            &[token_hash.into(), ms(now).into()],
            |r| {
                let s = Session {
                    token_hash: r.text(0)?,
                    account_id: r.int(1)?,
                    kind: if r.text(2)? == "bearer" { SessionKind::Bearer } else { SessionKind::Cookie },
                    created_at: instant(r.int(3)?)?,
                    expires_at: instant(r.int(4)?)?,
                    csrf: r.text(5)?,
                };
                Ok((s, account_row_at(r, 6)?))
            },
        )
    }

    fn delete_session(&mut self, token_hash: &str) -> R<()> {
        self.c.execute(
            "DELETE FROM sessions WHERE token_hash = ?",
            &[token_hash.into()],
        )?;
        Ok(())
    }

    fn delete_sessions_of(&mut self, account_id: i64) -> R<()> {
        self.c.execute(
            "DELETE FROM sessions WHERE account_id = ?",
            &[account_id.into()],
        )?;
        Ok(())
    }

    fn record_login_attempt(&mut self, key: &str, ok: bool, at: DateTime<Utc>) -> R<()> {
        if ok {
            // A success clears the failures counted against this key.
            self.c.execute(
                "DELETE FROM login_attempts WHERE key = ? AND ok = 0",
                &[key.into()],
            )?;
        } else {
            self.c.execute(
                "INSERT INTO login_attempts (key, ok, at) VALUES (?, 0, ?)",
                &[key.into(), ms(at).into()],
            )?;
        }
        Ok(())
    }

    fn login_failures(
        &mut self,
        key: &str,
        since: DateTime<Utc>,
    ) -> R<(u32, Option<DateTime<Utc>>)> {
        self.c.one(
            "SELECT COUNT(*), MIN(at) FROM login_attempts WHERE key = ? AND ok = 0 AND at > ?",
            &[key.into(), ms(since).into()],
            |r| Ok((r.int(0)? as u32, r.opt_int(1)?.map(instant).transpose()?)),
        )
    }
}

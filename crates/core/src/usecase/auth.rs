//! Signing in and out, with throttling of failed attempts.
//!
//! Password hashing and token generation are done by the caller (they need a random
//! source and CPU time this crate does not own, and must not hold a transaction open);
//! the rules are here. Signing in is two steps: [`login_precheck`] on a snapshot, the
//! caller's password check, then [`login_record`] in a write transaction.

use chrono::{DateTime, Duration, Utc};

use super::Env;
use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::org::{Account, Session, SessionKind};
use crate::store::Tx;

/// Failed attempts allowed per username in [`WINDOW_MINUTES`].
pub const MAX_FAILURES_PER_USER: u32 = 5;
/// Failed attempts allowed per client address in [`WINDOW_MINUTES`].
pub const MAX_FAILURES_PER_ADDRESS: u32 = 20;
/// The throttling window.
pub const WINDOW_MINUTES: i64 = 15;
/// Cookie sessions last this long.
pub const COOKIE_HOURS: i64 = 12;
/// Bearer tokens last this long.
pub const BEARER_DAYS: i64 = 30;

/// What a sign-in attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    /// Signed in: the session to hand out (the caller holds the raw token).
    Ok(Box<(Account, Session)>),
    /// Wrong name or password, or a disabled account.
    Failed,
    /// Too many failures were recorded meanwhile (attempts sent in parallel): no
    /// session, whatever the password.
    Throttled {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
}

/// The first half of signing in, on a read snapshot: throttling, and the account to
/// check the password against (the caller verifies it outside any transaction).
#[derive(Debug)]
pub enum Precheck {
    /// Too many failures: wait.
    Throttled {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// Check the password against this account (none: unknown or disabled).
    Check(Option<Box<Account>>),
}

fn throttled(tx: &mut dyn Tx, key: &str, max: u32, now: DateTime<Utc>) -> Result<Option<u64>> {
    let since = now - Duration::minutes(WINDOW_MINUTES);
    let (n, oldest) = tx.login_failures(key, since)?;
    if n >= max {
        let free_at = oldest.unwrap_or(now) + Duration::minutes(WINDOW_MINUTES);
        Ok(Some((free_at - now).num_seconds().max(1) as u64))
    } else {
        Ok(None)
    }
}

fn keys(username: &str, address: &str) -> (String, String) {
    (
        format!("u:{}", username.trim().to_ascii_uppercase()),
        format!("a:{address}"),
    )
}

/// Throttling and the account for a sign-in attempt.
pub fn login_precheck(
    tx: &mut dyn Tx,
    env: &Env,
    username: &str,
    address: &str,
) -> Result<Precheck> {
    let (user_key, addr_key) = keys(username, address);
    for (key, max) in [
        (&user_key, MAX_FAILURES_PER_USER),
        (&addr_key, MAX_FAILURES_PER_ADDRESS),
    ] {
        if let Some(retry_after_secs) = throttled(tx, key, max, env.now)? {
            return Ok(Precheck::Throttled { retry_after_secs });
        }
    }
    let account = match tx.account_by_username(username.trim())? {
        Some(acc) => Some(acc),
        // Applicants sign in with an ID number that may have been typed with a lowercase x.
        None => tx.account_by_username(&username.trim().to_ascii_uppercase())?,
    };
    Ok(Precheck::Check(account.filter(|a| a.active).map(Box::new)))
}

/// A finished password check, to record.
pub struct LoginResult<'a> {
    /// Login name as typed.
    pub username: &'a str,
    /// Client address.
    pub address: &'a str,
    /// The account checked, when the password matched it.
    pub account: Option<&'a Account>,
    /// Cookie or bearer.
    pub kind: SessionKind,
    /// SHA-256 of the new token.
    pub token_hash: String,
    /// CSRF token for the session's forms.
    pub csrf: String,
}

/// The second half of signing in: record the attempt; on success open the session.
/// A failure is an `Ok(Failed)` so that its record commits.
pub fn login_record(tx: &mut dyn Tx, env: &Env, r: &LoginResult) -> Result<LoginOutcome> {
    let (user_key, addr_key) = keys(r.username, r.address);
    // Checked again here, where the attempt is written: parallel attempts all passed the
    // snapshot's check, but only the first few may count.
    for (key, max) in [
        (&user_key, MAX_FAILURES_PER_USER),
        (&addr_key, MAX_FAILURES_PER_ADDRESS),
    ] {
        if let Some(retry_after_secs) = throttled(tx, key, max, env.now)? {
            return Ok(LoginOutcome::Throttled { retry_after_secs });
        }
    }
    let Some(account) = r.account else {
        tx.record_login_attempt(&user_key, false, env.now)?;
        tx.record_login_attempt(&addr_key, false, env.now)?;
        return Ok(LoginOutcome::Failed);
    };
    tx.record_login_attempt(&user_key, true, env.now)?;
    let expires_at = match r.kind {
        SessionKind::Cookie => env.now + Duration::hours(COOKIE_HOURS),
        SessionKind::Bearer => env.now + Duration::days(BEARER_DAYS),
    };
    let session = Session {
        token_hash: r.token_hash.clone(),
        account_id: account.id,
        kind: r.kind,
        created_at: env.now,
        expires_at,
        csrf: r.csrf.clone(),
    };
    tx.insert_session(&session)?;
    Ok(LoginOutcome::Ok(Box::new((account.clone(), session))))
}

/// The actor behind a session token hash, if the session is live and the account active.
pub fn authenticate(tx: &mut dyn Tx, env: &Env, token_hash: &str) -> Result<(Actor, Session)> {
    match tx.session(token_hash, env.now)? {
        Some((s, acc)) if acc.active => Ok((acc.actor(), s)),
        _ => Err(Error::Unauthenticated),
    }
}

/// End a session.
pub fn logout(tx: &mut dyn Tx, token_hash: &str) -> Result<()> {
    tx.delete_session(token_hash)
}

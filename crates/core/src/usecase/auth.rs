//! Signing in and out, with throttling of failed attempts.
//!
//! Password hashing and token generation are done by the caller (they need a random
//! source and CPU time this crate does not own); the rules are here.

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

/// What a sign-in attempt came to. A failure is an `Ok` so that its record commits.
#[derive(Debug)]
pub enum LoginOutcome {
    /// Signed in: the session to hand out (the caller holds the raw token).
    Ok(Box<(Account, Session)>),
    /// Wrong name or password, or a disabled account.
    Failed,
    /// Too many failures: wait.
    Throttled {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
}

/// A sign-in request, with what the caller prepared.
pub struct LoginAttempt<'a> {
    /// Login name.
    pub username: &'a str,
    /// Client address (for per-address throttling).
    pub address: &'a str,
    /// Checks the password against an account's hash.
    pub verify: &'a dyn Fn(&str) -> bool,
    /// Cookie or bearer.
    pub kind: SessionKind,
    /// SHA-256 of the new token.
    pub token_hash: String,
    /// CSRF token for the session's forms.
    pub csrf: String,
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

/// Try to sign in.
pub fn login(tx: &mut dyn Tx, env: &Env, a: &LoginAttempt) -> Result<LoginOutcome> {
    let user_key = format!("u:{}", a.username.trim().to_ascii_uppercase());
    let addr_key = format!("a:{}", a.address);
    for (key, max) in [
        (&user_key, MAX_FAILURES_PER_USER),
        (&addr_key, MAX_FAILURES_PER_ADDRESS),
    ] {
        if let Some(retry_after_secs) = throttled(tx, key, max, env.now)? {
            return Ok(LoginOutcome::Throttled { retry_after_secs });
        }
    }
    let account = match tx.account_by_username(a.username.trim())? {
        Some(acc) => Some(acc),
        // Applicants sign in with an ID number that may have been typed with a lowercase x.
        None => tx.account_by_username(&a.username.trim().to_ascii_uppercase())?,
    };
    let ok = account
        .as_ref()
        .is_some_and(|acc| acc.active && (a.verify)(&acc.password_hash));
    if !ok {
        if account.is_none() {
            // Spend the same time as a real check, so that timing does not tell which names exist.
            (a.verify)(
                "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            );
        }
        tx.record_login_attempt(&user_key, false, env.now)?;
        tx.record_login_attempt(&addr_key, false, env.now)?;
        return Ok(LoginOutcome::Failed);
    }
    let account = account.expect("checked");
    tx.record_login_attempt(&user_key, true, env.now)?;
    let expires_at = match a.kind {
        SessionKind::Cookie => env.now + Duration::hours(COOKIE_HOURS),
        SessionKind::Bearer => env.now + Duration::days(BEARER_DAYS),
    };
    let session = Session {
        token_hash: a.token_hash.clone(),
        account_id: account.id,
        kind: a.kind,
        created_at: env.now,
        expires_at,
        csrf: a.csrf.clone(),
    };
    tx.insert_session(&session)?;
    Ok(LoginOutcome::Ok(Box::new((account, session))))
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

//! Who is asking: passwords (Argon2id), session tokens, and the extractors that turn a
//! cookie or a bearer token into an [`Actor`].
//!
//! A token is 32 random bytes, base64url; only its SHA-256 is stored. Cookie sessions
//! must also send their CSRF token (header `X-CSRF-Token`, or the `_csrf` form field for
//! pages) with every request that changes something.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};
use tongban_core::actor::Actor;
use tongban_core::org::{Session, SessionKind};
use tongban_core::usecase::auth::authenticate;
use tongban_core::{Error, Result};

use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "tb_session";
/// The CSRF header.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Argon2id with the configured cost.
#[derive(Clone, Copy, Debug)]
pub struct PasswordCost {
    /// Memory in KiB (OWASP: 19456).
    pub memory_kib: u32,
    /// Iterations (OWASP: 2).
    pub iterations: u32,
}

impl Default for PasswordCost {
    fn default() -> Self {
        PasswordCost {
            memory_kib: 19_456,
            iterations: 2,
        }
    }
}

impl PasswordCost {
    fn argon2(&self) -> Argon2<'static> {
        let params = Params::new(self.memory_kib.max(8), self.iterations.max(1), 1, None)
            .unwrap_or_default();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Hash a password into a PHC string.
    pub fn hash(&self, password: &str) -> String {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    }
}

/// Check a password against a PHC string (the string carries its own cost).
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A new random token (base64url, 43 characters).
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex_hash(token, &mut [0; 64]).to_string()
}

/// [`token_hash`] written into `out` instead of a new string.
fn hex_hash<'a>(token: &str, out: &'a mut [u8; 64]) -> &'a str {
    // 32 bytes always fit 64 hex digits, which are always UTF-8.
    let _ = hex::encode_to_slice(Sha256::digest(token.as_bytes()), out);
    std::str::from_utf8(out).unwrap_or_default()
}

/// The actor of a request with a bearer token whose session this server holds: the
/// path every API call of an integration takes, without copying the token, its hash
/// or the session. `None` for anything else (a cookie, no token or a malformed one, a
/// session not held or no longer live), which [`session_of`] then resolves as always.
/// A bearer session needs no CSRF token, and [`SessionCache::actor`] checks the rest
/// as [`session_lookup`] does: held less than its time to live, not expired, a bearer
/// session.
///
/// [`SessionCache::actor`]: crate::state::SessionCache::actor
fn held_bearer_actor(parts: &Parts, state: &AppState) -> Option<Actor> {
    let t = bearer_token(parts).filter(|t| well_formed(t))?;
    let mut hex = [0; 64];
    state.sessions.actor(
        hex_hash(t, &mut hex),
        state.clock.now(),
        SessionKind::Bearer,
    )
}

/// The bearer token of an `Authorization` header, if the request has one.
fn bearer_token(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))?;
    Some(t.trim())
}

/// Whether a token could be one of ours (anything else is refused without a lookup).
fn well_formed(token: &str) -> bool {
    !token.is_empty() && token.len() <= 100
}

/// The token a request carries, and how.
pub fn request_token(parts: &Parts) -> Option<(String, SessionKind)> {
    if let Some(t) = bearer_token(parts) {
        return Some((t.to_string(), SessionKind::Bearer));
    }
    cookie(parts, COOKIE).map(|t| (t, SessionKind::Cookie))
}

/// A cookie's value.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Resolve the session of a request, if any.
pub async fn session_of(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<(Actor, Session, String)>> {
    let Some((actor, session, token)) = session_lookup(parts, state).await? else {
        return Ok(None);
    };
    if session.kind == SessionKind::Cookie && !safe(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if sent != session.csrf {
            return Err(Error::forbidden("缺少或错误的 CSRF 令牌，请刷新页面后重试"));
        }
    }
    Ok(Some((actor, session, token)))
}

/// The session a request carries, without the CSRF check (pages check the `_csrf`
/// form field themselves, after reading the body).
pub async fn session_lookup(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<(Actor, Session, String)>> {
    let Some((token, kind)) = request_token(parts) else {
        return Ok(None);
    };
    if !well_formed(&token) {
        return Err(Error::Unauthenticated);
    }
    let hash = token_hash(&token);
    let now = state.clock.now();
    let (actor, session) = match state.sessions.get(&hash, now) {
        Some(hit) => hit,
        None => {
            let h = hash.clone();
            let found = state.read(move |tx, env| authenticate(tx, env, &h)).await?;
            state.sessions.put(hash, found.clone());
            found
        }
    };
    if session.kind != kind {
        return Err(Error::Unauthenticated);
    }
    Ok(Some((actor, session, token)))
}

/// A signed-in user (401 otherwise).
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(actor) = held_bearer_actor(parts, state) {
            return Ok(Auth(actor));
        }
        match session_of(parts, state).await? {
            Some((actor, _, _)) => Ok(Auth(actor)),
            None => Err(ApiError(Error::Unauthenticated)),
        }
    }
}

/// A signed-in user with the session's token (for signing out).
pub struct AuthSession {
    /// The actor.
    pub actor: Actor,
    /// The session.
    pub session: Session,
    /// The raw token.
    pub token: String,
}

impl FromRequestParts<AppState> for AuthSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match session_of(parts, state).await? {
            Some((actor, session, token)) => Ok(AuthSession {
                actor,
                session,
                token,
            }),
            None => Err(ApiError(Error::Unauthenticated)),
        }
    }
}

/// A user who may or may not be signed in (public pages and the catalog).
pub struct MaybeAuth(pub Option<Actor>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match session_of(parts, state).await {
            Ok(s) => Ok(MaybeAuth(s.map(|(a, _, _)| a))),
            // A stale cookie on a public page is no error: the visitor is anonymous.
            Err(Error::Unauthenticated) => Ok(MaybeAuth(None)),
            Err(e) => Err(ApiError(e)),
        }
    }
}

/// The client's address for throttling: behind a trusted proxy, the last
/// `X-Forwarded-For` entry (the one the proxy added; earlier ones are the client's to
/// invent), else the socket's peer.
pub fn client_address(parts: &Parts, trust_proxy: bool) -> String {
    if trust_proxy
        && let Some(v) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        && let Some(last) = v.split(',').next_back()
        && !last.trim().is_empty()
    {
        return last.trim().to_string();
    }
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".into())
}

//! Signing in and out, who am I, applicant registration.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tongban_core::Error;
use tongban_core::actor::Role;
use tongban_core::org::{Account, Applicant, SessionKind, check_password};
use tongban_core::usecase::auth::{
    LoginOutcome, LoginResult, Precheck, login_precheck, login_record, logout,
};
use tongban_core::usecase::org::{Registration, register};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthSession, COOKIE, client_address, new_token, token_hash, verify_password};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout_handler))
        .routes(routes!(me))
        .routes(routes!(register_handler))
}

/// An account as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Role in Chinese.
    pub role_label: String,
    /// Department (staff).
    pub department_id: Option<i64>,
    /// Region scope (staff).
    pub region: Option<String>,
    /// Applicant record (applicants).
    pub applicant_id: Option<i64>,
    /// Window (clerks).
    pub window_id: Option<i64>,
    /// Departments whose 即办件 this clerk may decide.
    pub immediate_departments: Vec<i64>,
    /// Can sign in.
    pub active: bool,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        AccountView {
            id: a.id,
            username: a.username.clone(),
            name: a.name.clone(),
            role: a.role,
            role_label: a.role.label().to_string(),
            department_id: a.department_id,
            region: a.region.as_ref().map(|r| r.as_str().to_string()),
            applicant_id: a.applicant_id,
            window_id: a.window_id,
            immediate_departments: a.immediate_departments.clone(),
            active: a.active,
        }
    }
}

/// How the session is carried.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoginKind {
    /// An HttpOnly cookie (browsers).
    #[default]
    Cookie,
    /// A bearer token in the response (API clients).
    Bearer,
}

/// A sign-in request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login name (applicants: ID number or credit code).
    pub username: String,
    /// Password.
    pub password: String,
    /// Cookie (default) or bearer.
    #[serde(default)]
    pub kind: LoginKind,
}

/// A session handed out.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// The bearer token (bearer sessions only; cookie sessions get it as a cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Send as `X-CSRF-Token` with changing requests of a cookie session.
    pub csrf: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
    /// Who signed in.
    pub account: AccountView,
}

/// A hash to check against when the name is unknown, so that the time taken does not
/// tell which names exist.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    crate::auth::PasswordCost::default().hash("tongban-no-such-user-1")
});

/// Sign in (登录).
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(s): State<AppState>,
    parts: axum::http::request::Parts,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let address = client_address(&parts, s.settings.trust_proxy);
    let kind = match req.kind {
        LoginKind::Cookie => SessionKind::Cookie,
        LoginKind::Bearer => SessionKind::Bearer,
    };
    let signed = sign_in(&s, address, req.username, req.password, kind).await?;
    let body = LoginResponse {
        token: (kind == SessionKind::Bearer).then(|| signed.token.clone()),
        csrf: signed.session.csrf.clone(),
        expires_at: signed.session.expires_at,
        account: AccountView::from(&signed.account),
    };
    let mut resp = Json(body).into_response();
    if kind == SessionKind::Cookie
        && let Some(v) = session_cookie(&s, &signed)
    {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// A session just begun.
pub struct SignedIn {
    /// The raw token (the cookie's value, or the bearer token).
    pub token: String,
    /// The session.
    pub session: tongban_core::org::Session,
    /// Who.
    pub account: Account,
}

/// Check a name and password (throttled; the same time taken whether or not the name
/// exists) and begin a session. Shared by the API and the sign-in page.
pub async fn sign_in(
    s: &AppState,
    address: String,
    username: String,
    password: String,
    kind: SessionKind,
) -> Result<SignedIn, ApiError> {
    let (u, a) = (username.clone(), address.clone());
    let pre = s
        .read(move |tx, env| login_precheck(tx, env, &u, &a))
        .await?;
    let account = match pre {
        Precheck::Throttled { retry_after_secs } => {
            return Err(ApiError(Error::TooManyAttempts { retry_after_secs }));
        }
        Precheck::Check(acc) => acc,
    };
    let hash = account
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| Error::Store(e.to_string()))?;
    let token = new_token();
    let csrf = new_token();
    let (th, u) = (token_hash(&token), username);
    let outcome = s
        .write(move |tx, env| {
            let acc = account.filter(|_| ok);
            login_record(
                tx,
                env,
                &LoginResult {
                    username: &u,
                    address: &address,
                    account: acc.as_deref(),
                    kind,
                    token_hash: th,
                    csrf,
                },
            )
        })
        .await?;
    match outcome {
        LoginOutcome::Ok(b) => {
            let (account, session) = *b;
            Ok(SignedIn {
                token,
                session,
                account,
            })
        }
        LoginOutcome::Failed => Err(ApiError(Error::Unauthenticated)),
        LoginOutcome::Throttled { retry_after_secs } => {
            Err(ApiError(Error::TooManyAttempts { retry_after_secs }))
        }
    }
}

/// The `Set-Cookie` value that carries a cookie session.
pub fn session_cookie(s: &AppState, signed: &SignedIn) -> Option<HeaderValue> {
    let max_age = (signed.session.expires_at - signed.session.created_at).num_seconds();
    let secure = if s.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        signed.token
    ))
    .ok()
}

/// The header that removes the session cookie.
pub fn clear_cookie() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::SET_COOKIE,
        HeaderValue::from_static("tb_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    h
}

/// Sign out (退出): ends this session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout_handler(State(s): State<AppState>, a: AuthSession) -> ApiResult<Response> {
    let h = token_hash(&a.token);
    s.sessions.forget(&h);
    s.write(move |tx, _| logout(tx, &h)).await?;
    Ok((StatusCode::NO_CONTENT, clear_cookie()).into_response())
}

/// The signed-in account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The account.
    pub account: AccountView,
    /// The session's CSRF token.
    pub csrf: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// Who am I.
#[utoipa::path(get, path = "/auth/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(State(s): State<AppState>, a: AuthSession) -> ApiResult<Json<Me>> {
    let id = a.actor.account_id;
    let acc = s
        .read(move |tx, _| tx.account(id))
        .await?
        .ok_or(Error::Unauthenticated)?;
    Ok(Json(Me {
        account: AccountView::from(&acc),
        csrf: a.session.csrf,
        expires_at: a.session.expires_at,
    }))
}

/// A registered applicant.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    /// The applicant record.
    pub applicant: Applicant,
    /// The new account.
    pub account: AccountView,
}

/// Register as an applicant (注册): a natural person by resident ID number, a legal
/// person by credit code.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = Registration,
    responses((status = 201, body = Registered), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register_handler(
    State(s): State<AppState>,
    ApiJson(r): ApiJson<Registration>,
) -> ApiResult<(StatusCode, Json<Registered>)> {
    if let Err(rule) = check_password(&r.password) {
        return Err(ApiError(Error::field("password", rule)));
    }
    let hash = s.hash_password(r.password.clone()).await?;
    let (applicant, account) = s.write(move |tx, env| register(tx, env, &r, &hash)).await?;
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            applicant,
            account: AccountView::from(&account),
        }),
    ))
}

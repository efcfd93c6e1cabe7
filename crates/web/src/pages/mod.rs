//! The pages: server-rendered HTML in Chinese for every role (DOMAIN §1), sharing the
//! use cases, the scope rules and the validation of the JSON API. No JavaScript is
//! needed to use them; htmx (vendored) only makes a few lists update in place.
//!
//! Every form that changes something carries the session's CSRF token in `_csrf`; a
//! form without it, or with another session's, is refused before anything is read.
//! An error is shown as a Chinese page that names each field and the rule it broke;
//! a visitor who is not signed in is sent to the sign-in page and back.

pub mod account;
pub mod admin;
pub mod bundles;
pub mod cases;
pub mod catalog_io;
pub mod dashboard;
pub mod form;
pub mod hotline;
pub mod notices;
pub mod portal;
pub mod ratings;
pub mod search;
pub mod window;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use tongban_core::Error;
use tongban_core::actor::{Actor, Role};

use crate::auth::session_lookup;
use crate::state::AppState;

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(portal::home))
        .route("/items/{id}", get(portal::item))
        .route(
            "/items/{id}/apply",
            get(portal::apply_form).post(portal::apply),
        )
        .route("/track/{number}", get(portal::track))
        .route("/bundles", get(bundles::list))
        .route("/bundles/{id}", get(bundles::guide_page))
        .route("/bundles/{id}/apply", post(bundles::apply))
        .route("/bundle-cases/{id}", get(bundles::case_page))
        .route("/bundle-cases/{id}/answer", post(bundles::answer))
        .route(
            "/bundle-cases/{id}/inspections/{seq}/join",
            post(bundles::join),
        )
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", post(account::logout))
        .route("/home", get(account::home))
        .route("/my", get(cases::my_cases))
        .route("/inbox", get(cases::inbox))
        .route("/issuance", get(cases::issuance))
        .route("/supervise", get(cases::supervise))
        .route("/cases/{id}", get(cases::case_page))
        .route("/cases/{id}/act", post(cases::act))
        .route("/cases/{id}/files/{file}", get(cases::download))
        .route("/cases/{id}/notices/{kind}", get(notices::notice))
        .route(
            "/cases/{id}/rating",
            get(ratings::rating_page).post(ratings::rate),
        )
        .route("/cases/{id}/rating/again", post(ratings::rate_again))
        .route("/cases/{id}/rating/invite", post(ratings::invite_page))
        .route(
            "/rate/{token}",
            get(ratings::link_page).post(ratings::link_rate),
        )
        .route("/ratings", get(ratings::public_page))
        .route("/hotline", get(hotline::desk))
        .route("/hotline/intake", post(hotline::intake))
        .route("/hotline/kb/suggest", get(hotline::suggest))
        .route("/hotline/orders/{id}", get(hotline::order_page))
        .route("/hotline/orders/{id}/act", post(hotline::order_act))
        .route("/hotline/orders/{id}/to-article", post(hotline::to_article))
        .route("/hotline/analysis", get(hotline::analysis_page))
        .route(
            "/hotline/new",
            get(hotline::public_page).post(hotline::public_submit),
        )
        .route("/dashboard", get(dashboard::dashboard))
        .route("/dashboard/cases", get(dashboard::drill_cases))
        .route("/dashboard/ratings", get(dashboard::drill_ratings))
        .route("/dashboard/deductions", post(dashboard::deduction))
        .route("/rectifications", get(ratings::tasks_page))
        .route("/rectifications/{id}", get(ratings::task_page))
        .route("/rectifications/{id}/act", post(ratings::task_act))
        .route("/supervision/orders", get(ratings::orders_page))
        .route("/supervision/orders/{id}/act", post(ratings::order_act))
        .route("/window", get(window::window))
        .route(
            "/window/receive/{item}",
            get(window::receive_form).post(window::receive),
        )
        .route(
            "/window/bundles/{id}",
            get(window::bundle_form).post(window::bundle_receive),
        )
        .route("/admin", get(admin::admin))
        .route(
            "/admin/items/{id}",
            get(admin::item_form).post(admin::item_save),
        )
        .route("/admin/items/{id}/status", post(admin::item_status))
        .route(
            "/admin/calendar/{year}",
            get(admin::calendar_form).post(admin::calendar_save),
        )
        .route("/admin/accounts", post(admin::account_create))
        .route("/admin/items", post(admin::item_create))
        .route("/admin/bundles", post(admin::bundle_create))
        .route(
            "/admin/bundles/{id}",
            get(admin::bundle_form).post(admin::bundle_save),
        )
        .route("/admin/departments", post(admin::department_create))
        .route("/admin/catalog", get(catalog_io::catalog_page))
        .route("/admin/catalog/export", get(catalog_io::catalog_export))
        .route("/admin/catalog/import", post(catalog_io::catalog_import))
        .route(
            "/admin/synonyms",
            get(search::synonyms_form).post(search::synonyms_save),
        )
        .route("/admin/halls", post(admin::hall_create))
        .route("/assets/htmx.min.js", get(htmx))
        .route("/assets/site.css", get(css))
        .route("/assets/echarts.min.js", get(echarts))
}

async fn htmx() -> Response {
    asset(
        include_bytes!("../../assets/htmx.min.js"),
        "text/javascript",
    )
}

async fn echarts() -> Response {
    asset(
        include_bytes!("../../assets/echarts.min.js"),
        "text/javascript",
    )
}

async fn css() -> Response {
    asset(include_bytes!("../../assets/site.css"), "text/css")
}

fn asset(bytes: &'static [u8], mime: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The signed-in user of a page.
#[derive(Clone)]
pub struct Viewer {
    /// Who.
    pub actor: Actor,
    /// The session's CSRF token, for the forms on the page.
    pub csrf: String,
}

/// A page's visitor: signed in or not.
pub struct MaybeViewer(pub Option<Viewer>);

impl FromRequestParts<AppState> for MaybeViewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, PageError> {
        match session_lookup(parts, s).await {
            Ok(v) => Ok(MaybeViewer(v.map(|(actor, session, _)| Viewer {
                actor,
                csrf: session.csrf,
            }))),
            Err(Error::Unauthenticated) => Ok(MaybeViewer(None)),
            Err(e) => Err(PageError::new(e)),
        }
    }
}

/// A signed-in visitor; others are sent to the sign-in page.
pub struct SignedIn(pub Viewer);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, PageError> {
        let MaybeViewer(v) = MaybeViewer::from_request_parts(parts, s).await?;
        match v {
            Some(v) => Ok(SignedIn(v)),
            None => Err(PageError::login(
                parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/"),
            )),
        }
    }
}

/// The frame of every page: title, who is signed in, the menu, the CSRF token.
pub struct Chrome {
    /// The page title.
    pub title: String,
    /// The signed-in user's name and role.
    pub user: Option<(String, String)>,
    /// Menu links: (href, label, current).
    pub nav: Vec<(String, String, bool)>,
    /// The CSRF token for forms ("" when signed out).
    pub csrf: String,
    /// A one-line message at the top (after an action).
    pub flash: String,
}

impl Chrome {
    /// The frame for `viewer` on the page at `path`.
    pub fn new(title: impl Into<String>, viewer: Option<&Viewer>, path: &str) -> Chrome {
        let mut nav: Vec<(&str, &str)> = vec![
            ("/", "办事指南"),
            ("/bundles", "一件事一次办"),
            ("/ratings", "好差评"),
            ("/hotline/new", "12345"),
        ];
        if let Some(v) = viewer {
            nav.extend(menu(v.actor.role));
        }
        Chrome {
            title: title.into(),
            user: viewer.map(|v| (v.actor.name.clone(), v.actor.role.label().to_string())),
            nav: nav
                .into_iter()
                .map(|(h, l)| (h.to_string(), l.to_string(), h == path))
                .collect(),
            csrf: viewer.map(|v| v.csrf.clone()).unwrap_or_default(),
            flash: String::new(),
        }
    }

    /// With a message.
    pub fn flash(mut self, m: Option<String>) -> Chrome {
        self.flash = m.unwrap_or_default();
        self
    }
}

/// The menu of a role.
pub fn menu(role: Role) -> Vec<(&'static str, &'static str)> {
    match role {
        Role::Applicant => vec![("/my", "我的办件")],
        Role::Agent => vec![("/my", "代办的办件")],
        Role::AcceptanceClerk => vec![("/window", "综合受理")],
        Role::DeptReviewer | Role::DeptApprover => vec![
            ("/inbox", "待办件"),
            ("/rectifications", "差评整改"),
            ("/supervision/orders", "督办单"),
            ("/dashboard", "效能统计"),
        ],
        Role::IssuanceClerk => vec![("/issuance", "出件窗口")],
        Role::Supervisor => vec![
            ("/supervise", "督办"),
            ("/dashboard", "效能看板"),
            ("/supervision/orders", "督办单"),
            ("/rectifications", "差评整改"),
            ("/hotline/analysis", "热线分析"),
        ],
        Role::CatalogAdmin => vec![("/admin", "事项与日历")],
        Role::SysAdmin => vec![("/admin", "机构与账号")],
        Role::HotlineOperator => vec![
            ("/hotline", "12345 工单"),
            ("/hotline/analysis", "热线分析"),
            ("/rectifications", "差评回访"),
        ],
        Role::HandlingUnit => vec![("/hotline", "承办工单")],
        Role::System => vec![],
    }
}

/// The main page of a role.
pub fn home_of(role: Role) -> &'static str {
    menu(role).first().map(|(h, _)| *h).unwrap_or("/")
}

/// Render a template as a page.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "页面生成失败").into_response()
        }
    }
}

/// A failure shown as a page.
#[derive(Debug)]
pub struct PageError {
    error: Error,
    /// Where to go after signing in (for 401).
    next: Option<String>,
}

impl PageError {
    /// Wrap a domain error.
    pub fn new(error: Error) -> PageError {
        PageError { error, next: None }
    }

    /// Not signed in: go to the sign-in page, then back to `next`.
    pub fn login(next: &str) -> PageError {
        PageError {
            error: Error::Unauthenticated,
            next: Some(next.to_string()),
        }
    }
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError::new(e)
    }
}

impl From<crate::error::ApiError> for PageError {
    fn from(e: crate::error::ApiError) -> Self {
        PageError::new(e.0)
    }
}

/// A page's result.
pub type PageResult<T = Response> = Result<T, PageError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Chrome,
    status: u16,
    heading: String,
    message: String,
    fields: Vec<(String, String)>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let Error::Unauthenticated = self.error {
            let next = self.next.unwrap_or_else(|| "/home".into());
            let q: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("next", &next)
                .finish();
            return Redirect::to(&format!("/login?{q}")).into_response();
        }
        let status = crate::error::status_of(&self.error);
        let (heading, message, fields) = match &self.error {
            Error::Validation(f) => (
                "填写有误".to_string(),
                "请返回修改以下各项后重新提交（未保存任何内容）：".to_string(),
                f.fields()
                    .iter()
                    .map(|(k, v)| (form::field_label(k), v.clone()))
                    .collect(),
            ),
            Error::NotFound { entity } => (
                "未找到".to_string(),
                format!("{entity}不存在，或您无权查看。"),
                vec![],
            ),
            Error::Forbidden(m) => ("无权操作".to_string(), m.clone(), vec![]),
            Error::InvalidTransition { .. } | Error::Conflict(_) => (
                "无法办理".to_string(),
                format!("{}（未作任何更改）", self.error),
                vec![],
            ),
            Error::TooManyAttempts { .. } => {
                ("请稍后再试".to_string(), self.error.to_string(), vec![])
            }
            Error::Store(m) => {
                tracing::error!(error = %m, "page failed");
                (
                    "系统繁忙".to_string(),
                    "系统出现故障，您的操作未被保存。请稍后重试；如仍不能办理，请联系窗口工作人员。"
                        .to_string(),
                    vec![],
                )
            }
            Error::Unauthenticated => ("请先登录".to_string(), self.error.to_string(), vec![]),
        };
        let page = ErrorPage {
            page: Chrome::new(heading.clone(), None, ""),
            status: status.as_u16(),
            heading,
            message,
            fields,
        };
        let mut r = render(&page);
        *r.status_mut() = status;
        r
    }
}

/// `2026年11月24日`.
pub fn date(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

/// A time in China: `2026-11-24 09:30`.
pub fn time(t: DateTime<Utc>) -> String {
    tongban_core::time::china_datetime(t)
}

//! Signing in and out on the pages.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tongban_core::Error;
use tongban_core::org::SessionKind;
use tongban_core::usecase::auth::logout as end_session;

use super::form::PageForm;
use super::{Chrome, MaybeViewer, PageResult, SignedIn, home_of, render};
use crate::api::auth::{session_cookie, sign_in};
use crate::auth::{client_address, token_hash};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Chrome,
    next: String,
    username: String,
    error: String,
}

/// Where to go after signing in.
#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only a path on this site (no `//host`, no scheme): no open redirect.
fn local(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/home".to_string(),
    }
}

/// The sign-in page.
pub async fn login_form(MaybeViewer(v): MaybeViewer, Query(q): Query<Next>) -> Response {
    if let Some(v) = v {
        return Redirect::to(&local(q.next.as_deref()).replace("/home", home_of(v.actor.role)))
            .into_response();
    }
    render(&LoginPage {
        page: Chrome::new("登录", None, "/login"),
        next: local(q.next.as_deref()),
        username: String::new(),
        error: String::new(),
    })
}

/// Sign in: staff by login name, applicants by ID number or credit code.
pub async fn login(State(s): State<AppState>, parts: Parts, body: axum::body::Bytes) -> Response {
    let fields: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (username, password, next) = (
        get("username").trim().to_string(),
        get("password"),
        get("next"),
    );
    let address = client_address(&parts, s.settings.trust_proxy);
    let again = |error: String, status| {
        let mut r = render(&LoginPage {
            page: Chrome::new("登录", None, "/login"),
            next: local(Some(&next)),
            username: username.clone(),
            error,
        });
        *r.status_mut() = status;
        r
    };
    if username.is_empty() || password.is_empty() {
        return again(
            "请填写用户名和密码".into(),
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match sign_in(&s, address, username.clone(), password, SessionKind::Cookie).await {
        Ok(signed) => {
            let to = local(Some(&next)).replace("/home", home_of(signed.account.role));
            let mut r = Redirect::to(&to).into_response();
            if let Some(c) = session_cookie(&s, &signed) {
                r.headers_mut().insert(header::SET_COOKIE, c);
            }
            r
        }
        Err(e) => match e.0 {
            Error::Unauthenticated => again(
                "用户名或密码错误（连续输错 5 次将暂停登录 15 分钟）".into(),
                axum::http::StatusCode::UNAUTHORIZED,
            ),
            other => {
                let status = crate::error::status_of(&other);
                again(other.to_string(), status)
            }
        },
    }
}

/// Sign out.
pub async fn logout(
    State(s): State<AppState>,
    parts: Parts,
    _csrf_checked: PageForm,
) -> PageResult {
    if let Some((token, _)) = crate::auth::request_token(&parts) {
        let h = token_hash(&token);
        s.sessions.forget(&h);
        s.write(move |tx, _| end_session(tx, &h)).await?;
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().extend(crate::api::auth::clear_cookie());
    Ok(r)
}

/// Each role's main page.
pub async fn home(SignedIn(v): SignedIn) -> Response {
    Redirect::to(home_of(v.actor.role)).into_response()
}

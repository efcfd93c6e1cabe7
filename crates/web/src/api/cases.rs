//! Cases (办件): receive, list, read, act.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tongban_core::case::{Action, Application, Event};
use tongban_core::usecase::cases::{
    CasePage, CaseQuery, CaseView, act, case_events, get_case, get_case_by_number, list_cases, view,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, post))
        .routes(routes!(export))
        .routes(routes!(get_one))
        .routes(routes!(by_number))
        .routes(routes!(events))
        .routes(routes!(post_action))
}

/// 收件: a clerk receives at the window or by post (applicant identified), an applicant
/// applies online, an agent applies for a resident.
#[utoipa::path(post, path = "/cases", tag = "cases", request_body = Application,
    responses((status = 201, body = CaseView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post(
    State(s): State<AppState>,
    Auth(a): Auth,
    minimal: ReturnMinimal,
    ApiJson(n): ApiJson<Application>,
) -> ApiResult<(StatusCode, Response)> {
    let yellow = s.settings.yellow_days;
    let c = s.receive(a.clone(), n).await?;
    let v = s.with_env(|env| view(c, &a, env, yellow));
    Ok((StatusCode::CREATED, respond(minimal, v)))
}

/// Cases in the caller's scope: an applicant's own, a department's inbox (sorted by
/// deadline), a clerk's or supervisor's region. Keyset-paged.
#[utoipa::path(get, path = "/cases", tag = "cases", params(CaseQuery),
    responses((status = 200, body = CasePage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> ApiResult<Json<CasePage>> {
    let yellow = s.settings.yellow_days;
    Ok(Json(
        s.read(move |tx, env| list_cases(tx, &a, env, &q, yellow))
            .await?,
    ))
}

/// The same list as `GET /cases` (same scope and filters), every page of it, as an
/// XLSX download (up to 100,000 cases; names masked).
#[utoipa::path(get, path = "/cases/export", tag = "cases", params(CaseQuery),
    responses((status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> ApiResult<Response> {
    let yellow = s.settings.yellow_days;
    let (sheet, day) = s
        .read(move |tx, env| {
            Ok((
                tongban_core::usecase::exports::cases_sheet(tx, &a, env, &q, yellow)?,
                env.today(),
            ))
        })
        .await?;
    Ok(crate::download::sheet_xlsx(sheet, "办件清单", day)?)
}

/// A case, with its warning and the actions the caller may take.
#[utoipa::path(get, path = "/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CaseView>> {
    let yellow = s.settings.yellow_days;
    Ok(Json(
        s.read(move |tx, env| get_case(tx, &a, env, id, yellow))
            .await?,
    ))
}

/// A case by its number (办件编号), e.g. as typed at a window.
#[utoipa::path(get, path = "/cases/by-number/{number}", tag = "cases", params(("number" = String, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn by_number(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Json<CaseView>> {
    let yellow = s.settings.yellow_days;
    Ok(Json(
        s.read(move |tx, env| get_case_by_number(tx, &a, env, &number, yellow))
            .await?,
    ))
}

/// A case's log: who did what, when, why.
#[utoipa::path(get, path = "/cases/{id}/events", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Event>), (status = 404, body = ErrorBody)))]
async fn events(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<Event>>> {
    Ok(Json(s.read(move |tx, _| case_events(tx, &a, id)).await?))
}

/// An action and, optionally, the version it was decided on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActionRequest {
    /// The action, tagged by `action`.
    #[serde(flatten)]
    pub action: Action,
    /// The case version the caller saw; a mismatch is a 409.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Act on a case: accept, request correction, review, pause, decide, deliver …
/// Refused with 409 when the state does not allow it or someone acted first, 403 when
/// the caller's role may not. Answers with the whole case, or with `Prefer:
/// return=minimal` with its new state only (`CaseBrief`).
#[utoipa::path(post, path = "/cases/{id}/actions", tag = "cases", params(("id" = i64, Path)), request_body = ActionRequest,
    responses((status = 200, body = CaseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_action(
    State(s): State<AppState>,
    Auth(a): Auth,
    minimal: ReturnMinimal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<ActionRequest>,
) -> ApiResult<Response> {
    let yellow = s.settings.yellow_days;
    // Decided off the writer on a snapshot; only the writes queue for the commit.
    let v = s
        .write_optimistic(move |tx, env| {
            let c = act(tx, &a, env, id, &r.action, r.expected_version)?;
            Ok(view(c, &a, env, yellow))
        })
        .await?;
    Ok(respond(minimal, v))
}

/// The state of a case after an action, for clients that asked for a minimal answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseBrief {
    /// Id.
    pub id: i64,
    /// 办件编号.
    pub number: String,
    /// State.
    pub state: tongban_core::case::CaseState,
    /// Version (send back as `expected_version`).
    pub version: i64,
    /// The deadline the case waits on now.
    pub due: Option<chrono::NaiveDate>,
    /// Yellow / red.
    pub warning: tongban_core::case::Warning,
    /// Actions the caller may take now.
    pub available_actions: Vec<tongban_core::case::ActionKind>,
}

/// Whether the request asks for `Prefer: return=minimal` (RFC 7240): the new state only,
/// not the whole case. Read from the request's headers in place, rather than through a
/// copy of them all.
struct ReturnMinimal(bool);

impl<S: Send + Sync> FromRequestParts<S> for ReturnMinimal {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ReturnMinimal(
            parts
                .headers
                .get_all("prefer")
                .iter()
                .filter_map(|h| h.to_str().ok())
                .flat_map(|h| h.split(','))
                .any(|p| p.trim().eq_ignore_ascii_case("return=minimal")),
        ))
    }
}

/// The answer's `Preference-Applied` header (RFC 7240).
const PREFERENCE_APPLIED: HeaderName = HeaderName::from_static("preference-applied");

/// The whole case, or — with `Prefer: return=minimal` — just its new state.
fn respond(ReturnMinimal(minimal): ReturnMinimal, v: CaseView) -> Response {
    if minimal {
        let brief = CaseBrief {
            id: v.case.id,
            number: v.case.number.as_str().to_string(),
            state: v.case.state,
            version: v.case.version,
            due: v.due,
            warning: v.warning,
            available_actions: v.available_actions,
        };
        (
            [(
                PREFERENCE_APPLIED,
                HeaderValue::from_static("return=minimal"),
            )],
            Json(brief),
        )
            .into_response()
    } else {
        Json(v).into_response()
    }
}

//! 好差评: ratings, rating links, rectification tasks, the public summary.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tongban_core::rating::rectification::{Task, TaskAction};
use tongban_core::rating::{Level, REASONS, Rating, RatingChannel, RatingInput, Reason};
use tongban_core::usecase::ratings::{
    Invitation, Invited, PublicDepartment, RatingPage, RatingQuery, RatingView, TaskQuery,
    act_on_task, get_rating, get_task, invite, invited, list_ratings, list_tasks, public_summary,
    rate_by_link, rate_case, rerate,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, new_token, token_hash};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reasons))
        .routes(routes!(post_rating, get_case_rating))
        .routes(routes!(post_rerating))
        .routes(routes!(post_invitation))
        .routes(routes!(get_link, post_link))
        .routes(routes!(list))
        .routes(routes!(public))
        .routes(routes!(tasks))
        .routes(routes!(task))
        .routes(routes!(task_action))
}

/// The reason codes of one level.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LevelReasons {
    /// The level.
    pub level: Level,
    /// Its label.
    pub label: &'static str,
    /// Its reasons.
    pub reasons: Vec<Reason>,
}

/// The five levels and their reason codes (public).
#[utoipa::path(get, path = "/rating-reasons", tag = "ratings",
    responses((status = 200, body = Vec<LevelReasons>)))]
async fn reasons() -> Json<Vec<LevelReasons>> {
    Json(
        Level::ALL
            .into_iter()
            .map(|l| LevelReasons {
                level: l,
                label: l.label(),
                reasons: REASONS
                    .iter()
                    .filter(|r| (r.code / 100) as u8 == l.score())
                    .copied()
                    .collect(),
            })
            .collect(),
    )
}

/// Rate one's own case once it has ended (the applicant, 一事一评). A 差评 opens a
/// rectification task for the department.
#[utoipa::path(post, path = "/cases/{id}/rating", tag = "ratings", params(("id" = i64, Path)), request_body = RatingInput,
    responses((status = 201, body = RatingView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_rating(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RatingInput>,
) -> ApiResult<(StatusCode, Json<RatingView>)> {
    let v = s
        .write(move |tx, env| rate_case(tx, &a, env, id, &input))
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// A case's rating and its rectification task (the applicant, its department,
/// supervisors of its region).
#[utoipa::path(get, path = "/cases/{id}/rating", tag = "ratings", params(("id" = i64, Path)),
    responses((status = 200, body = RatingView), (status = 404, body = ErrorBody)))]
async fn get_case_rating(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RatingView>> {
    Ok(Json(s.read(move |tx, _| get_rating(tx, &a, id)).await?))
}

/// A second rating.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RerateBody {
    /// The new level.
    pub level: Level,
    /// Comment.
    #[serde(default)]
    pub comment: String,
}

/// Rate again after the rectification was confirmed (二次评价, once).
#[utoipa::path(post, path = "/cases/{id}/rating/again", tag = "ratings", params(("id" = i64, Path)), request_body = RerateBody,
    responses((status = 200, body = RatingView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn post_rerating(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RerateBody>,
) -> ApiResult<Json<RatingView>> {
    Ok(Json(
        s.write(move |tx, env| rerate(tx, &a, env, id, b.level, &b.comment))
            .await?,
    ))
}

/// Where to ask for a rating.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationBody {
    /// `window_tablet` (the page the window shows on its tablet) or `sms`.
    pub channel: RatingChannel,
}

/// Ask the applicant to rate (window clerks): a one-case rating link for the tablet at
/// the window, or the text of an SMS carrying it.
#[utoipa::path(post, path = "/cases/{id}/rating-invitations", tag = "ratings", params(("id" = i64, Path)), request_body = InvitationBody,
    responses((status = 201, body = Invitation), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn post_invitation(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<InvitationBody>,
) -> ApiResult<(StatusCode, Json<Invitation>)> {
    let token = new_token();
    let hash = token_hash(&token);
    let v = s
        .write(move |tx, env| invite(tx, &a, env, id, b.channel, &token, &hash))
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// What a rating link is for (anyone holding it).
#[utoipa::path(get, path = "/rating-links/{token}", tag = "ratings", params(("token" = String, Path)),
    responses((status = 200, body = Invited), (status = 404, body = ErrorBody)))]
async fn get_link(
    State(s): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<Invited>> {
    let hash = token_hash(&token);
    Ok(Json(s.read(move |tx, env| invited(tx, env, &hash)).await?))
}

/// What a rating by link answers (no personal data).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rated {
    /// 办件编号.
    pub case_number: String,
    /// The level given.
    pub level: Level,
    /// A rectification task was opened (a 差评).
    pub rectification: bool,
}

/// Rate by a link (the window's tablet, an SMS); the link is used up.
#[utoipa::path(post, path = "/rating-links/{token}", tag = "ratings", params(("token" = String, Path)), request_body = RatingInput,
    responses((status = 201, body = Rated), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_link(
    State(s): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(input): ApiJson<RatingInput>,
) -> ApiResult<(StatusCode, Json<Rated>)> {
    let hash = token_hash(&token);
    let v = s
        .write(move |tx, env| rate_by_link(tx, env, &hash, &input))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Rated {
            case_number: v.rating.case_number.clone(),
            level: v.rating.level,
            rectification: v.task.is_some(),
        }),
    ))
}

/// Ratings in the caller's scope, newest first (a department its own; supervisors
/// their region).
#[utoipa::path(get, path = "/ratings", tag = "ratings", params(RatingQuery),
    responses((status = 200, body = RatingPage), (status = 403, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<RatingQuery>,
) -> ApiResult<Json<RatingPage>> {
    Ok(Json(s.read(move |tx, _| list_ratings(tx, &a, &q)).await?))
}

/// The public summary's period.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicQuery {
    /// Region code (default: all).
    pub region: Option<String>,
    /// First month `YYYY-MM` (default: this year's January).
    pub from: Option<String>,
    /// Last month `YYYY-MM` (default: this month).
    pub to: Option<String>,
}

/// Published ratings per department (好差评公示, public).
#[utoipa::path(get, path = "/ratings/public", tag = "ratings", params(PublicQuery),
    responses((status = 200, body = Vec<PublicDepartment>), (status = 422, body = ErrorBody)))]
async fn public(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<PublicQuery>,
) -> ApiResult<Json<Vec<PublicDepartment>>> {
    let (prefix, from, to) = public_period(&s, &q)?;
    Ok(Json(
        s.read(move |tx, _| public_summary(tx, &prefix, &from, &to))
            .await?,
    ))
}

/// The region prefix and months of a public query (defaults: everywhere, this year).
pub fn public_period(
    s: &AppState,
    q: &PublicQuery,
) -> tongban_core::Result<(String, String, String)> {
    let today = tongban_core::time::china_date(s.clock.now());
    let from = q
        .from
        .clone()
        .unwrap_or_else(|| today.format("%Y-01").to_string());
    let to =
        q.to.clone()
            .unwrap_or_else(|| today.format("%Y-%m").to_string());
    tongban_core::usecase::stats::check_months(&from, &to)?;
    let prefix = match q.region.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => tongban_core::region::RegionCode::parse(r)
            .map_err(|e| tongban_core::Error::field("region", e.to_string()))?
            .prefix()
            .to_string(),
        None => String::new(),
    };
    Ok((prefix, from, to))
}

/// Rectification tasks in scope (the department its own; supervisors and hotline
/// operators their region).
#[utoipa::path(get, path = "/rectifications", tag = "ratings", params(TaskQuery),
    responses((status = 200, body = Vec<Task>), (status = 403, body = ErrorBody)))]
async fn tasks(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<TaskQuery>,
) -> ApiResult<Json<Vec<Task>>> {
    Ok(Json(s.read(move |tx, _| list_tasks(tx, &a, &q)).await?))
}

/// A task with its rating.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    /// The task.
    pub task: Task,
    /// The rating.
    pub rating: Rating,
}

/// One rectification task.
#[utoipa::path(get, path = "/rectifications/{id}", tag = "ratings", params(("id" = i64, Path)),
    responses((status = 200, body = TaskView), (status = 404, body = ErrorBody)))]
async fn task(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TaskView>> {
    let (task, rating) = s.read(move |tx, _| get_task(tx, &a, id)).await?;
    Ok(Json(TaskView { task, rating }))
}

/// An action on a task, with the version seen.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TaskActionBody {
    /// The action (`start`, `report_rectified`, `report_unrectifiable`, `appeal`,
    /// `approve`, `reject`, `uphold_appeal`, `reject_appeal`, `call_back`) and its fields.
    #[serde(flatten)]
    pub action: TaskAction,
    /// The `version` the caller saw (a mismatch is a 409).
    #[serde(default)]
    pub expected_version: Option<i64>,
}

/// Act on a rectification task: the department starts, reports, appeals; a
/// supervisor reviews, decides appeals, calls back.
#[utoipa::path(post, path = "/rectifications/{id}/actions", tag = "ratings", params(("id" = i64, Path)), request_body = TaskActionBody,
    responses((status = 200, body = Task), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn task_action(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<TaskActionBody>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        s.write(move |tx, env| act_on_task(tx, &a, env, id, &b.action, b.expected_version))
            .await?,
    ))
}

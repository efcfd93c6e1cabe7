//! 一件事一次办: bundles, the scenario guide, bundle cases.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tongban_core::bundle::{Bundle, BundleSpec};
use tongban_core::case::MaterialLine;
use tongban_core::usecase::bundles::{
    BundleApplication, BundleCaseView, BundleView, Guide, JointInspectionRequest, NewBundle,
    apply_bundle, bundle_case_view, create_bundle, get_bundle, guide, join_joint_inspection,
    list_bundles, publish_bundle, save_bundle_draft, schedule_joint_inspection,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, post))
        .routes(routes!(get_one))
        .routes(routes!(put_draft))
        .routes(routes!(post_publish))
        .routes(routes!(post_guide))
        .routes(routes!(post_case))
        .routes(routes!(get_case))
        .routes(routes!(post_inspection))
        .routes(routes!(post_join))
}

/// Bundles (一件事): the public sees published ones; editors all in their region.
#[utoipa::path(get, path = "/bundles", tag = "bundles", responses((status = 200, body = Vec<Bundle>)))]
async fn list(State(s): State<AppState>, MaybeAuth(a): MaybeAuth) -> ApiResult<Json<Vec<Bundle>>> {
    Ok(Json(
        s.read(move |tx, _| list_bundles(tx, a.as_ref())).await?,
    ))
}

/// Create a bundle with a first draft (事项管理员); the answer lists the fields its
/// items define differently (to resolve before publishing).
#[utoipa::path(post, path = "/bundles", tag = "bundles", request_body = NewBundle,
    responses((status = 201, body = BundleView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(n): ApiJson<NewBundle>,
) -> ApiResult<(StatusCode, Json<BundleView>)> {
    let v = s
        .write(move |tx, env| create_bundle(tx, &a, env, &n))
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// A bundle with its versions (drafts only for editors in its region).
#[utoipa::path(get, path = "/bundles/{id}", tag = "bundles", params(("id" = i64, Path)),
    responses((status = 200, body = Bundle), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(s): State<AppState>,
    MaybeAuth(a): MaybeAuth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Bundle>> {
    let b = s.read(move |tx, _| get_bundle(tx, a.as_ref(), id)).await?;
    Ok(Json(b))
}

/// Replace the draft (or start one after the published version).
#[utoipa::path(put, path = "/bundles/{id}/draft", tag = "bundles", params(("id" = i64, Path)), request_body = BundleSpec,
    responses((status = 200, body = BundleView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_draft(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(spec): ApiJson<BundleSpec>,
) -> ApiResult<Json<BundleView>> {
    Ok(Json(
        s.write(move |tx, env| save_bundle_draft(tx, &a, env, id, &spec))
            .await?,
    ))
}

/// Publish the draft; refused (422, each field named) while items define a form field
/// differently.
#[utoipa::path(post, path = "/bundles/{id}/publish", tag = "bundles", params(("id" = i64, Path)),
    responses((status = 200, body = BundleView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_publish(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<BundleView>> {
    Ok(Json(
        s.write(move |tx, env| publish_bundle(tx, &a, env, id))
            .await?,
    ))
}

/// Scenario answers.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    /// Question key → the option chosen.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
}

/// The scenario guide (场景化办事指南): for these answers, the items that apply, one
/// form and one material set.
#[utoipa::path(post, path = "/bundles/{id}/guide", tag = "bundles", params(("id" = i64, Path)), request_body = Answers,
    responses((status = 200, body = Guide), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_guide(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(a): ApiJson<Answers>,
) -> ApiResult<Json<Guide>> {
    Ok(Json(s.read(move |tx, _| guide(tx, id, &a.answers)).await?))
}

/// Apply once for a bundle: a child case per item, all received together or none.
#[utoipa::path(post, path = "/bundle-cases", tag = "bundles", request_body = BundleApplication,
    responses((status = 201, body = BundleCaseView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_case(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiJson(app): ApiJson<BundleApplication>,
) -> ApiResult<(StatusCode, Json<BundleCaseView>)> {
    let lines: Vec<MaterialLine> = app
        .materials
        .iter()
        .map(|l| MaterialLine {
            code: l.name.clone(),
            input: l.input.clone(),
        })
        .collect();
    s.files.check_named("materials", &lines)?;
    let v = s
        .write(move |tx, env| {
            let bc = apply_bundle(tx, &a, env, &app)?;
            bundle_case_view(tx, &a, bc.id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// A bundle case: its children, one combined correction notice, unified issuance.
#[utoipa::path(get, path = "/bundle-cases/{id}", tag = "bundles", params(("id" = i64, Path)),
    responses((status = 200, body = BundleCaseView), (status = 404, body = ErrorBody)))]
async fn get_case(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<BundleCaseView>> {
    Ok(Json(
        s.read(move |tx, _| bundle_case_view(tx, &a, id)).await?,
    ))
}

/// Schedule a joint site inspection (联合踏勘) for several children: the scheduling
/// department's children are paused for it now; the other departments are invited.
#[utoipa::path(post, path = "/bundle-cases/{id}/inspections", tag = "bundles", params(("id" = i64, Path)),
    request_body = JointInspectionRequest,
    responses((status = 201, body = BundleCaseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_inspection(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<JointInspectionRequest>,
) -> ApiResult<(StatusCode, Json<BundleCaseView>)> {
    let v = s
        .write(move |tx, env| {
            schedule_joint_inspection(tx, &a, env, id, &r)?;
            bundle_case_view(tx, &a, id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// Join a scheduled joint inspection with this department's invited children.
#[utoipa::path(post, path = "/bundle-cases/{id}/inspections/{seq}/join", tag = "bundles",
    params(("id" = i64, Path), ("seq" = u32, Path)),
    responses((status = 200, body = BundleCaseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn post_join(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath((id, seq)): ApiPath<(i64, u32)>,
) -> ApiResult<Json<BundleCaseView>> {
    Ok(Json(
        s.write(move |tx, env| {
            join_joint_inspection(tx, &a, env, id, seq)?;
            bundle_case_view(tx, &a, id)
        })
        .await?,
    ))
}

//! Operations: run the background sweeps now.

use axum::Json;
use axum::extract::State;
use tongban_core::actor::Role;
use tongban_core::usecase::jobs::SweepReport;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(run_jobs))
}

/// Run the sweeps now (they also run on their own): broken 容缺 commitments.
#[utoipa::path(post, path = "/admin/jobs/run", tag = "admin",
    responses((status = 200, body = SweepReport), (status = 403, body = ErrorBody)))]
async fn run_jobs(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<SweepReport>> {
    a.require(&[Role::SysAdmin])?;
    Ok(Json(crate::jobs::run_once(&s).await?))
}

//! How errors leave the API.
//!
//! Policy: every error is `{"error":{"code","message","fields"}}` with a 4xx status
//! naming what to fix; a 5xx says only that it is our fault, and its detail goes to the
//! log, never to the client. This file is the one status table.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use tongban_core::Error;

/// An error on its way out.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

/// The error envelope (documented in docs/API.md).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: validation_failed, not_found, unauthenticated, forbidden,
    /// invalid_transition, conflict, too_many_attempts, internal, …
    pub code: String,
    /// For people, in Chinese.
    pub message: String,
    /// Field path → the rule it breaks (validation errors).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// The status of each error kind.
pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::Unauthenticated => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::InvalidTransition { .. } | Error::Conflict(_) => StatusCode::CONFLICT,
        Error::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The body for an error.
pub fn body_of(e: &Error) -> ErrorBody {
    let (message, fields) = match e {
        Error::Validation(f) => ("输入有误，请按提示修改".to_string(), f.fields().clone()),
        Error::Store(_) => ("服务器内部错误，请稍后重试".to_string(), BTreeMap::new()),
        other => (other.to_string(), BTreeMap::new()),
    };
    ErrorBody {
        error: ErrorDetail {
            code: e.code().to_string(),
            message,
            fields,
        },
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        if status.is_server_error() {
            tracing::error!(error = %self.0, "request failed");
        }
        let mut resp = (status, Json(body_of(&self.0))).into_response();
        if let Error::TooManyAttempts { retry_after_secs } = &self.0
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// A plain error with a code of our own (routing, body format).
pub fn plain(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                fields: BTreeMap::new(),
            },
        }),
    )
        .into_response()
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

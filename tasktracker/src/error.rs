//! API errors: every error answer is JSON `{"detail": "..."}`.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
        }
    }

    pub fn unauthorized(detail: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    pub fn invalid(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(serde_json::json!({ "detail": self.detail })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// Storage and internal failures: logged (they never carry secrets) and
/// answered with a bare 500, or 503 when the database pool is exhausted.
impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> ApiError {
        let busy = err.chain().any(|c| {
            matches!(
                c.downcast_ref::<deadpool_postgres::PoolError>(),
                Some(deadpool_postgres::PoolError::Timeout(_))
            )
        });
        if busy {
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database busy");
        }
        eprintln!("tasktracker: internal error: {err:#}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
    }
}

//! Error handlers for actix's body, query and path extractors, so bad input gets our error shape.

use crate::error::{ApiError, ErrorCode};
use crate::state::Limits;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::web::{JsonConfig, PathConfig, PayloadConfig, QueryConfig, ServiceConfig};

/// Installs the extractor configurations.
pub(crate) fn configure_extractors(cfg: &mut ServiceConfig, limits: &Limits) {
    cfg.app_data(
        JsonConfig::default()
            .limit(limits.max_body_bytes)
            .error_handler(|err, _| json_error(err).into()),
    )
    .app_data(PayloadConfig::new(limits.max_body_bytes))
    .app_data(QueryConfig::default().error_handler(|err, _| query_error(err).into()))
    .app_data(PathConfig::default().error_handler(|err, _| path_error(err).into()));
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
        }
        JsonPayloadError::ContentType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as application/json",
        ),
        JsonPayloadError::Deserialize(e) => {
            ApiError::new(ErrorCode::InvalidJson, format!("invalid request body: {e}"))
        }
        other => ApiError::new(
            ErrorCode::InvalidJson,
            format!("invalid request body: {other}"),
        ),
    }
}

fn query_error(err: QueryPayloadError) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidQuery,
        format!("invalid query string: {err}"),
    )
}

fn path_error(err: PathError) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidPath,
        format!("invalid path parameter: {err}"),
    )
}

//! Error handlers for actix's body, query and path extractors, so bad input gets our error shape, and
//! [`Body`], the JSON body extractor whose errors wait until the caller is authorised.
//!
//! Invariant: a caller who may not use a route is told so (401/403) whatever body they send; actix
//! extracts a handler's arguments concurrently, so a plain `Json<T>` could answer 400 before `Auth<P>`
//! finished. Handlers take `Body<T>` and call [`Body::checked`] first.

use crate::error::{ApiError, ErrorCode};
use crate::state::Limits;
use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::web::{JsonConfig, PathConfig, PayloadConfig, QueryConfig, ServiceConfig};
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

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

/// A JSON configuration for one resource whose bodies are limited to `limit` bytes.
pub(crate) fn json_config(limit: usize) -> JsonConfig {
    JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _| json_error(err).into())
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

/// A JSON request body, or the error parsing it gave, kept until the handler asks.
pub(crate) struct Body<T>(Result<T, ApiError>);

impl<T> Body<T> {
    /// The parsed body, or the error it gave (invalid JSON, wrong type, too large).
    pub(crate) fn checked(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = actix_web::web::Json::<T>::from_request(req, payload);
        Box::pin(async move {
            Ok(Body(json.await.map(|j| j.into_inner()).map_err(
                |e| match e.as_error::<ApiError>() {
                    Some(api) => api.answer_again(),
                    None => {
                        ApiError::new(ErrorCode::InvalidJson, format!("invalid request body: {e}"))
                    }
                },
            )))
        })
    }
}

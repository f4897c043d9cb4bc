//! Middleware of the API: request metrics, and JSON bodies for errors raised outside handlers
//! (unknown routes, methods not allowed).

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, Uri};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Next};
use actix_web::{ResponseError, web};
use std::time::Instant;

/// Counts requests and records their latency by matched route.
pub async fn record_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().as_str().to_owned();
    let response = next.call(req).await?;
    if let Some(state) = state {
        let route = flagent_telemetry::route_pattern(response.request())
            .unwrap_or_else(|| "unmatched".to_owned());
        let status = response.status().as_u16().to_string();
        state
            .metrics
            .http_requests
            .with_label_values(&[&route, &method, &status])
            .inc();
        state
            .metrics
            .http_duration
            .with_label_values(&[&route, &method])
            .observe(start.elapsed().as_secs_f64());
    }
    Ok(response)
}

/// Trims trailing slashes and merges repeated ones before routing, as actix-web's
/// `NormalizePath::trim()` does, but leaves an already tidy path (nearly every request's) untouched
/// instead of copying it and running a regular expression over it.
pub async fn normalize_path(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(uri) = tidy_uri(req.uri()) {
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
    next.call(req).await
}

/// The URI with its path tidied, or `None` when it is tidy already.
fn tidy_uri(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    let untidy = (path.len() > 1 && path.ends_with('/')) || path.contains("//");
    if !untidy {
        return None;
    }
    let mut tidy = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        tidy.push('/');
        tidy.push_str(segment);
    }
    if tidy.is_empty() {
        tidy.push('/');
    }
    if let Some(query) = uri.query() {
        tidy.push('?');
        tidy.push_str(query);
    }
    tidy.parse().ok()
}

/// Replaces the empty bodies of 404 and 405 answers from the router with our error shape (a JSON or
/// SCIM answer is left as it is).
pub fn json_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new()
        .handler(StatusCode::NOT_FOUND, |res| {
            rewrite(res, ErrorCode::RouteNotFound, "no such route")
        })
        .handler(StatusCode::METHOD_NOT_ALLOWED, |res| {
            rewrite(
                res,
                ErrorCode::MethodNotAllowed,
                "this route does not accept this method",
            )
        })
}

fn rewrite<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    code: ErrorCode,
    message: &str,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res.headers().get("content-type").is_some_and(|v| {
        let v = v.as_bytes();
        v.starts_with(b"application/json") || v.starts_with(b"application/scim+json")
    });
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, _) = res.into_parts();
    let body: actix_web::HttpResponse<BoxBody> = ApiError::new(code, message).error_response();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, body).map_into_right_body::<B>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::tidy_uri;

    #[test]
    fn tidy_paths_stay_and_untidy_ones_are_trimmed_and_merged() {
        for tidy in ["/", "/api/v1/flags", "/api/v1/flags?x=1//"] {
            assert_eq!(tidy_uri(&tidy.parse().unwrap()), None, "{tidy}");
        }
        for (untidy, expected) in [
            ("/api/v1/flags/", "/api/v1/flags"),
            ("//api///v1/flags//?a=b", "/api/v1/flags?a=b"),
            ("///", "/"),
        ] {
            let uri = tidy_uri(&untidy.parse().unwrap()).expect(untidy);
            assert_eq!(uri.to_string(), expected);
        }
    }
}

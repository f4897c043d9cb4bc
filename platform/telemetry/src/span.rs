//! The root span of every request: request id, matched route, status, tenant and the error cause chain.

use actix_web::HttpMessage;
use actix_web::HttpRequest;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use std::cell::RefCell;
use std::collections::HashSet;
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

/// Builds the root span; `tenant_id` is filled in by authentication.
///
/// It records fewer fields than `tracing-actix-web`'s default span (no host, scheme, user agent or
/// forwarded address, which need the connection info parsed on every request), and finds the route
/// with [`route_pattern`].
pub struct RootSpan;

impl RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().copied();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = route_pattern(request.request()).as_deref().unwrap_or("default"),
            http.target = request.uri().path_and_query().map_or("", |p| p.as_str()),
            http.peer = request.peer_addr().map(display),
            http.status_code = Empty,
            otel.status_code = Empty,
            request_id = request_id.map(display),
            tenant_id = Empty,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

thread_local! {
    /// Paths seen to be their own route pattern (routes without parameters), on this worker thread.
    static PLAIN_ROUTES: RefCell<HashSet<Box<str>>> = RefCell::new(HashSet::new());
}

/// The route pattern a request matches (`/api/v1/flags/{id}`), or `None` when no route does.
///
/// Before routing, actix-web finds the pattern by walking its resource map and trying each
/// resource's regular expression in turn. The pattern of a route without parameters is the path
/// itself, so each thread remembers such paths after one walk and answers them without walking; the
/// set holds at most one entry per such route.
pub fn route_pattern(request: &HttpRequest) -> Option<String> {
    let path = request.path();
    if PLAIN_ROUTES.with(|plain| plain.borrow().contains(path)) {
        return Some(path.to_owned());
    }
    let pattern = request.match_pattern()?;
    if pattern == path {
        PLAIN_ROUTES.with(|plain| plain.borrow_mut().insert(path.into()));
    }
    Some(pattern)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::{TestRequest, call_service, init_service};
    use actix_web::{App, HttpResponse, web};

    async fn pattern(request: HttpRequest) -> HttpResponse {
        HttpResponse::Ok().body(route_pattern(&request).unwrap_or_default())
    }

    #[actix_web::test]
    async fn plain_paths_and_parameterised_paths_give_their_patterns() {
        let app = init_service(
            App::new()
                .route("/flags/{id}", web::get().to(pattern))
                .route("/flags", web::get().to(pattern)),
        )
        .await;
        for (path, expected) in [
            ("/flags", "/flags"),
            ("/flags/7", "/flags/{id}"),
            ("/flags", "/flags"),
            ("/flags/8", "/flags/{id}"),
        ] {
            let body = actix_web::test::read_body(
                call_service(&app, TestRequest::get().uri(path).to_request()).await,
            )
            .await;
            assert_eq!(body, expected.as_bytes(), "{path}");
        }
        assert!(PLAIN_ROUTES.with(|plain| plain.borrow().len() == 1));
    }
}

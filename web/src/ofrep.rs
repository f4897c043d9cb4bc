//! The OpenFeature Remote Evaluation Protocol (`/ofrep/v1`): `POST /evaluate/flags/{key}` and the bulk
//! `POST /evaluate/flags`, answered from the caller's environment snapshot in memory, like
//! `/api/v1/evaluation`, with OpenFeature's typed values, reasons and error shape.
//!
//! Invariants: no handler here touches the database. The caller is authorised (`Auth<perm::Evaluate>`,
//! whose refusals keep Flagent's error shape) before the body is looked at; every other error is
//! OFREP's `{key?, errorCode, errorDetails}`. An answered request counts its evaluations (one, or the
//! bulk's number of flags) in the tenant's usage; a refusal, an error and a 304 count none.
//!
//! Typed values, reasons and the targeting-key rule are the evaluation domain's
//! (`flagent_evaluation::Evaluator::resolve` and `Evaluator::bulk`); this module parses OFREP's request
//! body into an `OfrepContext`, and maps answers and failures to OFREP's wire shapes and statuses.

use crate::ApiError;
use crate::auth::{Auth, requested_environment};
use crate::etag::{self, not_modified};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{self, Bytes, Data, ServiceConfig};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use flagent_evaluation::{OfrepCode as Code, OfrepContext, OfrepFailure as Failure, Resolved};
use flagent_types::perm;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::future::Future;
use std::pin::Pin;
use utoipa::ToSchema;

/// Registers the OFREP routes under `/ofrep/v1`.
pub(crate) fn configure_ofrep(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/evaluate/flags").route(web::post().to(evaluate_flags)))
        // Flag keys may contain `/`.
        .service(web::resource("/evaluate/flags/{key:.+}").route(web::post().to(evaluate_flag)));
}

// ---------------------------------------------------------------------------------------------------
// Wire shapes (for the OpenAPI document; answers are built as JSON values).
// ---------------------------------------------------------------------------------------------------

/// An OFREP evaluation request (documentation only: bodies are parsed by [`parse_context`], which tells
/// a parse error from an invalid context).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub(crate) struct OfrepRequest {
    /// `{"targetingKey": "<entity id>", ...}`: the targeting key is the entity id, every other field the
    /// entity context. Optional.
    #[schema(value_type = Option<Object>)]
    context: Option<Value>,
}

/// One flag's evaluation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OfrepEvaluation {
    /// The flag's key.
    key: String,
    /// The variant's typed value; absent when the code default applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    value: Option<Value>,
    /// `STATIC`, `TARGETING_MATCH`, `SPLIT`, `DEFAULT`, `DISABLED` or `ERROR`.
    reason: &'static str,
    /// The variant's key (`""` without one).
    variant: String,
    /// `flagID`, `flagSnapshotID`, `segmentID`, `variantID` and `evaluationReason` (Flagent's reason).
    #[schema(value_type = Object)]
    metadata: Map<String, Value>,
}

/// One flag of a bulk answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum OfrepBulkItem {
    /// Evaluated.
    Evaluated(OfrepEvaluation),
    /// Not evaluated (`TARGETING_KEY_MISSING`).
    Failed(OfrepError),
}

/// The bulk answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OfrepBulk {
    /// Every flag of the environment, by ascending id.
    flags: Vec<OfrepBulkItem>,
    /// `revision`: the environment's configuration revision.
    #[schema(value_type = Object)]
    metadata: Value,
    /// Where to listen for changes: the environment's change stream, whose unnamed
    /// `refetchEvaluation` messages say when to evaluate again.
    #[serde(rename = "eventStreams")]
    event_streams: Vec<EventStream>,
}

impl EventStream {
    /// The change stream of the environment `req` evaluated in, selected the same way.
    fn for_request(state: &AppState, req: &HttpRequest) -> Self {
        let mut url = format!("{}/api/v1/stream", state.public_url);
        if let Some(environment) = requested_environment(req) {
            url.push('?');
            url.push_str(
                &form_urlencoded::Serializer::new(String::new())
                    .append_pair("environment", &environment)
                    .finish(),
            );
        }
        EventStream { kind: "sse", url }
    }
}

/// A change stream an OFREP provider may listen to.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EventStream {
    /// Always `sse`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The stream's address; the provider connects with the same credentials.
    url: String,
}

/// An OFREP error.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OfrepError {
    /// The flag's key (single evaluation and bulk items).
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    /// `PARSE_ERROR`, `INVALID_CONTEXT`, `TARGETING_KEY_MISSING`, `FLAG_NOT_FOUND` or `GENERAL`.
    error_code: &'static str,
    /// What went wrong, in words.
    error_details: String,
}

// ---------------------------------------------------------------------------------------------------
// Errors.
// ---------------------------------------------------------------------------------------------------

/// The HTTP status of an OFREP error.
fn status(code: Code) -> StatusCode {
    match code {
        Code::FlagNotFound => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The wire body of a failure.
fn failure_body(failure: Failure) -> OfrepError {
    OfrepError {
        key: failure.key,
        error_code: failure.code.as_str(),
        error_details: failure.details,
    }
}

/// The response to a failure.
fn response(failure: Failure) -> HttpResponse {
    HttpResponse::build(status(failure.code)).json(failure_body(failure))
}

/// The wire shape of an answer.
fn evaluation(answer: Resolved) -> OfrepEvaluation {
    let mut metadata = Map::new();
    metadata.insert("flagID".into(), json!(answer.flag_id));
    metadata.insert("flagSnapshotID".into(), json!(answer.snapshot_id));
    if let Some(segment) = answer.segment_id {
        metadata.insert("segmentID".into(), json!(segment));
    }
    if let Some(variant) = answer.variant_id {
        metadata.insert("variantID".into(), json!(variant));
    }
    metadata.insert(
        "evaluationReason".into(),
        json!(answer.evaluation_reason.as_str()),
    );
    OfrepEvaluation {
        key: answer.key,
        value: answer.value,
        reason: answer.reason.as_str(),
        variant: answer.variant,
        metadata,
    }
}

// ---------------------------------------------------------------------------------------------------
// The request body, kept until the caller is authorised.
// ---------------------------------------------------------------------------------------------------

/// The raw request body, or why it could not be read, judged only after `Auth` succeeded (actix
/// extracts arguments concurrently; see `extract.rs`).
pub(crate) struct RawBody(Result<Bytes, String>);

impl FromRequest for RawBody {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move { Ok(RawBody(bytes.await.map_err(|e| e.to_string()))) })
    }
}

/// Parses `{"context": {...}}`; an empty body, a missing or `null` context is an empty context.
fn parse_context(body: RawBody) -> Result<OfrepContext, Failure> {
    let bytes = body.0.map_err(|e| {
        Failure::new(
            Code::General,
            format!("the request body could not be read: {e}"),
        )
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(OfrepContext::default());
    }
    let request: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Failure::new(
            Code::ParseError,
            format!("the request body is not JSON: {e}"),
        )
    })?;
    let Value::Object(mut request) = request else {
        return Err(Failure::new(
            Code::ParseError,
            "the request body must be a JSON object: {\"context\": {...}}",
        ));
    };
    let mut attributes = match request.remove("context") {
        None | Some(Value::Null) => return Ok(OfrepContext::default()),
        Some(Value::Object(context)) => context,
        Some(_) => {
            return Err(Failure::new(
                Code::InvalidContext,
                "context must be a JSON object",
            ));
        }
    };
    let targeting_key = match attributes.remove("targetingKey") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) if key.is_empty() => None,
        Some(Value::String(key)) => Some(key),
        Some(_) => {
            return Err(Failure::new(
                Code::InvalidContext,
                "targetingKey must be a string",
            ));
        }
    };
    Ok(OfrepContext {
        targeting_key,
        attributes,
    })
}

// ---------------------------------------------------------------------------------------------------
// Handlers.
// ---------------------------------------------------------------------------------------------------

/// Evaluates one flag (OFREP).
#[utoipa::path(post, path = "/ofrep/v1/evaluate/flags/{key}", tag = "ofrep",
    params(("key" = String, Path, description = "The flag's key")),
    request_body = OfrepRequest,
    responses(
        (status = 200, body = OfrepEvaluation),
        (status = 400, description = "PARSE_ERROR, INVALID_CONTEXT, TARGETING_KEY_MISSING or GENERAL", body = OfrepError),
        (status = 401, description = "No or bad credentials (Flagent's error shape)"),
        (status = 403, description = "The key may not evaluate (Flagent's error shape)"),
        (status = 404, description = "FLAG_NOT_FOUND", body = OfrepError),
    ),
    security(("api_key" = ["evaluate"]), ("session" = ["flags:evaluate"])))]
pub(crate) async fn evaluate_flag(
    auth: Auth<perm::Evaluate>,
    state: Data<AppState>,
    key: web::Path<String>,
    body: RawBody,
) -> HttpResponse {
    let key = key.into_inner();
    let context = match parse_context(body) {
        Ok(context) => context,
        Err(failure) => return response(failure.about(&key)),
    };
    match state.evaluator.resolve(auth.scope(), &key, &context) {
        Ok(Ok(answer)) => HttpResponse::Ok().json(evaluation(answer)),
        Ok(Err(failure)) => response(failure),
        Err(denied) => actix_web::ResponseError::error_response(&ApiError::from(denied)),
    }
}

/// Evaluates every flag of the caller's environment (OFREP bulk), with an `ETag`.
#[utoipa::path(post, path = "/ofrep/v1/evaluate/flags", tag = "ofrep",
    request_body = OfrepRequest,
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of a previous answer for the same context")),
    responses(
        (status = 200, body = OfrepBulk, headers(("ETag" = String, description = "Strong tag of the environment's revision and the context"))),
        (status = 304, description = "Unchanged since the If-None-Match tag"),
        (status = 400, description = "PARSE_ERROR, INVALID_CONTEXT or GENERAL", body = OfrepError),
        (status = 401, description = "No or bad credentials (Flagent's error shape)"),
        (status = 403, description = "The key may not evaluate (Flagent's error shape)"),
    ),
    security(("api_key" = ["evaluate"]), ("session" = ["flags:evaluate"])))]
pub(crate) async fn evaluate_flags(
    auth: Auth<perm::Evaluate>,
    state: Data<AppState>,
    req: HttpRequest,
    body: RawBody,
) -> HttpResponse {
    let context = match parse_context(body) {
        Ok(context) => context,
        Err(failure) => return response(failure),
    };
    let bulk = match state.evaluator.bulk(auth.scope()) {
        Ok(bulk) => bulk,
        Err(denied) => return actix_web::ResponseError::error_response(&ApiError::from(denied)),
    };
    let [tenant, environment, revision, canonical] = bulk.etag_input(&context);
    let etag = etag::strong(&[
        "ofrep/v1 bulk",
        &tenant,
        &environment,
        &revision,
        &canonical,
    ]);
    if not_modified(&req, &etag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    let flags: Vec<OfrepBulkItem> = bulk
        .evaluate(&context)
        .into_iter()
        .map(|answer| match answer {
            Ok(answer) => OfrepBulkItem::Evaluated(evaluation(answer)),
            Err(failure) => OfrepBulkItem::Failed(failure_body(failure)),
        })
        .collect();
    let body = OfrepBulk {
        flags,
        metadata: json!({"revision": bulk.revision()}),
        event_streams: vec![EventStream::for_request(&state, &req)],
    };
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .json(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OfrepContext, Failure> {
        parse_context(RawBody(Ok(Bytes::from(text.to_owned()))))
    }

    #[test]
    fn empty_bodies_and_contexts_are_accepted() {
        for text in ["", "  ", "{}", r#"{"context": null}"#, r#"{"context": {}}"#] {
            let context = parse(text).expect(text);
            assert!(context.targeting_key.is_none() && context.attributes.is_empty());
        }
    }

    #[test]
    fn the_targeting_key_is_the_entity_id_and_the_rest_the_context() {
        let context = parse(r#"{"context": {"targetingKey": "u1", "country": "CA"}}"#).unwrap();
        assert_eq!(context.targeting_key.as_deref(), Some("u1"));
        assert_eq!(Value::Object(context.attributes), json!({"country": "CA"}));
    }

    #[test]
    fn bad_bodies_and_contexts_are_refused_with_their_codes() {
        let code = |text: &str| parse(text).map(|_| ()).unwrap_err().code;
        assert_eq!(code("{\"context\": "), Code::ParseError);
        assert_eq!(code("[1]"), Code::ParseError);
        assert_eq!(code(r#"{"context": 3}"#), Code::InvalidContext);
        assert_eq!(
            code(r#"{"context": {"targetingKey": 7}}"#),
            Code::InvalidContext
        );
    }
}

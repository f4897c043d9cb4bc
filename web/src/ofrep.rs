//! The OpenFeature Remote Evaluation Protocol (`/ofrep/v1`): `POST /evaluate/flags/{key}` and the bulk
//! `POST /evaluate/flags`, answered from the caller's environment snapshot in memory, like
//! `/api/v1/evaluation`, with OpenFeature's typed values, reasons and error shape.
//!
//! Invariants: no handler here touches the database. The caller is authorised (`Auth<perm::Evaluate>`,
//! whose refusals keep Flagent's error shape) before the body is looked at; every other error is
//! OFREP's `{key?, errorCode, errorDetails}`. An answered request counts its evaluations (one, or the
//! bulk's number of flags) in the tenant's usage; a refusal, an error and a 304 count none.
//!
//! Typed values: a flag whose variants are exactly `on`/`off` (or `true`/`false`) is boolean; any other
//! variant's value is its attachment's `value` field (any JSON type) or else its key. Without a picked
//! variant the answer is the flag's `defaultVariant`, else `false` for a boolean flag, else no `value`
//! (OFREP's "use the code default") and variant `""`.
//!
//! Without a `targetingKey`, a flag evaluates with an empty entity id (not a random one, so answers and
//! the bulk `ETag` are stable), except that a flag whose matched segment splits or rolls out partially
//! answers `TARGETING_KEY_MISSING`: its answer would depend on the key.

use crate::auth::{Auth, requested_environment};
use crate::etag::{self, not_modified};
use crate::evaluation::snapshot;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{self, Bytes, Data, ServiceConfig};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use flagent_eval::{
    CompiledFlag, Evaluation, FlagRef, Reason, Request, SegmentConfig, Snapshot, evaluate,
};
use flagent_tenants::usage::Served;
use flagent_types::{TenantScope, perm};
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

/// An OFREP evaluation request (documentation only: bodies are parsed by [`Context::parse`], which tells
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

/// OFREP's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    ParseError,
    InvalidContext,
    TargetingKeyMissing,
    FlagNotFound,
    General,
}

impl Code {
    fn as_str(self) -> &'static str {
        match self {
            Code::ParseError => "PARSE_ERROR",
            Code::InvalidContext => "INVALID_CONTEXT",
            Code::TargetingKeyMissing => "TARGETING_KEY_MISSING",
            Code::FlagNotFound => "FLAG_NOT_FOUND",
            Code::General => "GENERAL",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Code::FlagNotFound => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An error about one flag (`key`) or about the request.
#[derive(Debug)]
struct Failure {
    key: Option<String>,
    code: Code,
    details: String,
}

impl Failure {
    fn new(code: Code, details: impl Into<String>) -> Self {
        Failure {
            key: None,
            code,
            details: details.into(),
        }
    }

    fn about(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }

    fn body(self) -> OfrepError {
        OfrepError {
            key: self.key,
            error_code: self.code.as_str(),
            error_details: self.details,
        }
    }

    fn response(self) -> HttpResponse {
        HttpResponse::build(self.code.status()).json(self.body())
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

/// The evaluation context of a request: the entity id and the entity context.
#[derive(Debug, Default)]
struct Context {
    targeting_key: Option<String>,
    attributes: Map<String, Value>,
}

impl Context {
    /// Parses `{"context": {...}}`; an empty body, a missing or `null` context is an empty context.
    fn parse(body: RawBody) -> Result<Context, Failure> {
        let bytes = body.0.map_err(|e| {
            Failure::new(
                Code::General,
                format!("the request body could not be read: {e}"),
            )
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Context::default());
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
            None | Some(Value::Null) => return Ok(Context::default()),
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
        Ok(Context {
            targeting_key,
            attributes,
        })
    }

    /// The strong `ETag` of a bulk answer: the tenant, the environment, its configuration revision and
    /// this context.
    fn etag(&self, scope: &TenantScope, revision: u64) -> String {
        // `serde_json::Map` is ordered by key, so equal contexts hash equally.
        let canonical = json!({"targetingKey": self.targeting_key, "context": self.attributes});
        etag::strong(&[
            "ofrep/v1 bulk",
            &scope.tenant_id().0.to_string(),
            &scope.environment_id().0.to_string(),
            &revision.to_string(),
            &canonical.to_string(),
        ])
    }
}

// ---------------------------------------------------------------------------------------------------
// Evaluation and the typed answer.
// ---------------------------------------------------------------------------------------------------

/// The segment an evaluation matched.
fn matched_segment<'f>(flag: &'f CompiledFlag, eval: &Evaluation<'_>) -> Option<&'f SegmentConfig> {
    let id = eval.segment_id?;
    flag.config().segments.iter().find(|s| s.id == id)
}

/// Whether a segment's answer depends on the entity id: it splits between variants, or its rollout
/// is partial.
fn buckets(segment: &SegmentConfig) -> bool {
    let owners = segment
        .distributions
        .iter()
        .filter(|d| d.percent > 0)
        .count();
    owners > 1 || (owners == 1 && (1..100).contains(&segment.rollout_percent))
}

/// Whether a targeted match holds for everybody: no prerequisites, and the matched segment is the
/// first visited, has no constraints and a full rollout (`STATIC`).
fn is_static(flag: &CompiledFlag, segment: Option<&SegmentConfig>) -> bool {
    let config = flag.config();
    let first = config.segments.iter().min_by_key(|s| (s.rank, s.id));
    match (segment, first) {
        (Some(segment), Some(first)) => {
            config.depends_on.is_empty()
                && segment.id == first.id
                && segment.constraints.is_empty()
                && segment.rollout_percent >= 100
        }
        _ => false,
    }
}

/// OpenFeature's name for an engine reason.
fn reason_name(flag: &CompiledFlag, eval: &Evaluation<'_>) -> &'static str {
    match eval.reason {
        Reason::TargetingMatch if is_static(flag, matched_segment(flag, eval)) => "STATIC",
        Reason::TargetingMatch => "TARGETING_MATCH",
        Reason::Split => "SPLIT",
        Reason::Disabled => "DISABLED",
        // No variant for this entity: the default applies.
        Reason::Default | Reason::PrerequisiteFailed => "DEFAULT",
        Reason::FlagNotFound | Reason::Error => "ERROR",
    }
}

/// Evaluates one flag (found in `snap`) for `context`: the OFREP success object, or an error about it.
fn resolve(
    state: &AppState,
    snap: &Snapshot,
    flag: &CompiledFlag,
    context: &Context,
    attributes: &Value,
    served: &mut Vec<Served>,
) -> Result<OfrepEvaluation, Failure> {
    let request = Request {
        flag: FlagRef::Id(flag.id()),
        entity_id: context.targeting_key.as_deref().unwrap_or(""),
        context: Some(attributes),
        debug: false,
    };
    let eval = evaluate(snap, &request);
    let segment = matched_segment(flag, &eval);
    if context.targeting_key.is_none() && segment.is_some_and(buckets) {
        return Err(Failure::new(
            Code::TargetingKeyMissing,
            "this flag splits or rolls out by targetingKey; give one in the context",
        )
        .about(flag.key()));
    }
    // Counted once answered: a refused evaluation served nothing.
    crate::evaluation::count(state, &eval, served);
    let picked = eval.variant.or_else(|| flag.default_variant());
    let (value, variant) = match (picked, flag.boolean_keys()) {
        (Some(variant), _) => (Some(flag.value_of(variant)), variant.key.clone()),
        (None, Some((_, no))) => (Some(Value::Bool(false)), no.to_owned()),
        (None, None) => (None, String::new()),
    };
    let mut metadata = Map::new();
    metadata.insert("flagID".into(), json!(flag.id()));
    metadata.insert("flagSnapshotID".into(), json!(flag.snapshot_id()));
    if let Some(segment) = segment {
        metadata.insert("segmentID".into(), json!(segment.id));
    }
    if let Some(variant) = eval.variant {
        metadata.insert("variantID".into(), json!(variant.id));
    }
    metadata.insert("evaluationReason".into(), json!(eval.reason.as_str()));
    Ok(OfrepEvaluation {
        key: flag.key().to_owned(),
        value,
        reason: reason_name(flag, &eval),
        variant,
        metadata,
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
    let context = match Context::parse(body) {
        Ok(context) => context,
        Err(failure) => return failure.about(&key).response(),
    };
    let scope = auth.scope();
    let snap = snapshot(&state, scope);
    let Some(flag) = snap.flag_by_key(&key) else {
        return Failure::new(Code::FlagNotFound, format!("no flag has the key {key:?}"))
            .about(&key)
            .response();
    };
    let attributes = Value::Object(context.attributes.clone());
    let mut served = Vec::with_capacity(1);
    match resolve(&state, &snap, flag, &context, &attributes, &mut served) {
        Ok(answer) => {
            crate::evaluation::record_usage(&state, scope, 1, &served);
            HttpResponse::Ok().json(answer)
        }
        Err(failure) => failure.response(),
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
    let context = match Context::parse(body) {
        Ok(context) => context,
        Err(failure) => return failure.response(),
    };
    let scope = auth.scope();
    let snap = snapshot(&state, scope);
    let etag = context.etag(scope, snap.revision());
    if not_modified(&req, &etag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    let attributes = Value::Object(context.attributes.clone());
    let mut served = Vec::with_capacity(snap.len());
    let flags: Vec<OfrepBulkItem> = snap
        .flags()
        .map(
            |flag| match resolve(&state, &snap, flag, &context, &attributes, &mut served) {
                Ok(evaluated) => OfrepBulkItem::Evaluated(evaluated),
                Err(failure) => OfrepBulkItem::Failed(failure.body()),
            },
        )
        .collect();
    crate::evaluation::record_usage(&state, scope, flags.len() as u64, &served);
    let body = OfrepBulk {
        flags,
        metadata: json!({"revision": snap.revision()}),
        event_streams: vec![EventStream::for_request(&state, &req)],
    };
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .json(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Context, Failure> {
        Context::parse(RawBody(Ok(Bytes::from(text.to_owned()))))
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

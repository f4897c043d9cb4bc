//! Tests of the Evaluator at its boundary: answers, refusals, OFREP typing and the targeting-key rule,
//! SDK views, explanations, and what each use case counts through the ports.

use crate::{
    BatchQuery, Entity, EvalCache, EvalQuery, EvaluationError, Evaluator, OfrepCode, OfrepContext,
    OpenFeatureReason, ReasonCounter, Served, UsageSink, View,
};
use flagent_eval::{FlagConfig, Reason, Snapshot};
use flagent_types::{
    EnvironmentId, Grant, Principal, ProjectId, Scope, ScopeSet, TenantId, TenantScope,
};
use serde_json::json;
use std::sync::{Arc, Mutex};

/// One request as the usage sink was told it: tenant, environment, evaluations, what they served.
type Request = (TenantId, EnvironmentId, u64, Vec<Served>);

/// What the ports were told.
#[derive(Default)]
struct Recorded {
    requests: Mutex<Vec<Request>>,
    reasons: Mutex<Vec<Reason>>,
}

impl UsageSink for Recorded {
    fn record(&self, t: TenantId, e: EnvironmentId, n: u64, served: &[Served]) {
        let mut requests = self.requests.lock().expect("not poisoned");
        requests.push((t, e, n, served.to_vec()));
    }
}

impl ReasonCounter for Recorded {
    fn evaluated(&self, reason: Reason) {
        self.reasons.lock().expect("not poisoned").push(reason);
    }
}

#[allow(clippy::disallowed_methods)]
fn scope(scopes: &[Scope]) -> TenantScope {
    let principal = Principal::ApiKey {
        id: 1,
        name: "test".into(),
        prefix: "flg_test".into(),
    };
    TenantScope::assume_authenticated(
        TenantId(1),
        ProjectId(1),
        EnvironmentId(2),
        principal,
        Grant::Key {
            scopes: ScopeSet::of(scopes),
            bound: None,
        },
    )
}

fn flag(id: i64, key: &str, segments: serde_json::Value) -> FlagConfig {
    serde_json::from_value(json!({
        "id": id, "key": key, "salt": key, "enabled": true, "tags": ["t"],
        "variants": [{"id": 10 * id, "key": "on"}, {"id": 10 * id + 1, "key": "off"}],
        "segments": segments,
    }))
    .expect("a flag configuration")
}

/// Flag 1 always serves `on` to everybody; flag 2 splits 50/50.
async fn evaluator(limit: usize) -> (Evaluator, Arc<Recorded>) {
    let everybody = json!([{"id": 1, "rank": 0, "rolloutPercent": 100,
        "distributions": [{"id": 1, "variantId": 10, "variantKey": "on", "percent": 100}]}]);
    let split = json!([{"id": 2, "rank": 0, "rolloutPercent": 100, "distributions": [
        {"id": 2, "variantId": 20, "variantKey": "on", "percent": 50},
        {"id": 3, "variantId": 21, "variantKey": "off", "percent": 50}]}]);
    let cache = Arc::new(EvalCache::new());
    let flags = vec![flag(1, "always", everybody), flag(2, "split", split)];
    cache
        .writer(TenantId(1), EnvironmentId(2))
        .await
        .replace(Snapshot::build(3, flags));
    let recorded = Arc::new(Recorded::default());
    let evaluator = Evaluator::new(cache, recorded.clone(), recorded.clone(), limit);
    (evaluator, recorded)
}

#[tokio::test]
async fn a_single_evaluation_answers_and_counts_once() {
    let (evaluator, recorded) = evaluator(10).await;
    let query = EvalQuery {
        flag_key: Some("always".into()),
        ..EvalQuery::default()
    };
    let decision = evaluator
        .evaluate(&scope(&[Scope::Client]), query)
        .expect("answered");
    assert_eq!(decision.variant_key.as_deref(), Some("on"));
    assert_eq!(decision.reason, Reason::TargetingMatch);
    assert!(decision.query.entity_id.starts_with("randomly_generated_"));
    let requests = recorded.requests.lock().expect("not poisoned");
    let served = Served {
        flag: 1,
        segment: Some(1),
        variant: Some(10),
    };
    assert_eq!(
        *requests,
        [(TenantId(1), EnvironmentId(2), 1, vec![served])]
    );
    assert_eq!(
        *recorded.reasons.lock().expect("not poisoned"),
        [Reason::TargetingMatch]
    );
}

#[tokio::test]
async fn refused_requests_count_nothing() {
    let (evaluator, recorded) = evaluator(3).await;
    let s = scope(&[Scope::Client]);
    let bad_context = EvalQuery {
        flag_id: Some(1),
        entity_context: Some(json!([1])),
        ..EvalQuery::default()
    };
    let err = evaluator.evaluate(&s, bad_context).expect_err("refused");
    assert!(matches!(
        err,
        EvaluationError::Invalid {
            field: "entityContext",
            ..
        }
    ));
    let no_flag = evaluator
        .evaluate(&s, EvalQuery::default())
        .expect_err("refused");
    assert!(matches!(
        no_flag,
        EvaluationError::Invalid {
            field: "flagID",
            ..
        }
    ));
    let entity = Entity::default();
    let empty = BatchQuery {
        entities: vec![entity.clone()],
        ..BatchQuery::default()
    };
    let err = evaluator.evaluate_batch(&s, empty).expect_err("refused");
    assert_eq!(err, EvaluationError::EmptySelector);
    let large = BatchQuery {
        entities: vec![entity.clone(), entity],
        flag_tags: vec!["t".into()],
        ..BatchQuery::default()
    };
    let err = evaluator.evaluate_batch(&s, large).expect_err("refused");
    assert_eq!(
        err,
        EvaluationError::BatchTooLarge {
            results: 4,
            limit: 3
        }
    );
    assert!(recorded.requests.lock().expect("not poisoned").is_empty());
}

#[tokio::test]
async fn a_batch_evaluates_tags_then_ids_then_keys_per_entity() {
    let (evaluator, recorded) = evaluator(10).await;
    let batch = BatchQuery {
        entities: vec![Entity {
            entity_id: "u1".into(),
            ..Entity::default()
        }],
        flag_tags: vec!["t".into()],
        flag_keys: vec!["missing".into()],
        ..BatchQuery::default()
    };
    let decisions = evaluator
        .evaluate_batch(&scope(&[Scope::Client]), batch)
        .expect("answered");
    let flags: Vec<(i64, &str)> = decisions
        .iter()
        .map(|d| (d.flag_id, d.flag_key.as_str()))
        .collect();
    assert_eq!(flags, [(1, "always"), (2, "split"), (0, "missing")]);
    assert_eq!(decisions[2].reason, Reason::FlagNotFound);
    let requests = recorded.requests.lock().expect("not poisoned");
    assert_eq!(
        (requests[0].2, requests[0].3.len()),
        (3, 2),
        "three evaluations, two flags served"
    );
}

#[tokio::test]
async fn ofrep_types_values_and_refuses_a_split_without_a_targeting_key() {
    let (evaluator, recorded) = evaluator(10).await;
    let s = scope(&[Scope::Evaluate]);
    let anonymous = OfrepContext::default();
    let always = evaluator
        .resolve(&s, "always", &anonymous)
        .expect("allowed")
        .expect("answered");
    assert_eq!(
        (always.value, always.reason),
        (Some(json!(true)), OpenFeatureReason::Static)
    );
    let split = evaluator
        .resolve(&s, "split", &anonymous)
        .expect("allowed")
        .expect_err("refused");
    assert_eq!(split.code, OfrepCode::TargetingKeyMissing);
    let missing = evaluator
        .resolve(&s, "nope", &anonymous)
        .expect("allowed")
        .expect_err("refused");
    assert_eq!(
        (missing.code, missing.key.as_deref()),
        (OfrepCode::FlagNotFound, Some("nope"))
    );
    let keyed = OfrepContext {
        targeting_key: Some("u1".into()),
        ..OfrepContext::default()
    };
    let bulk = evaluator.bulk(&s).expect("allowed");
    assert_eq!(bulk.revision(), 3);
    assert_ne!(bulk.etag_input(&keyed), bulk.etag_input(&anonymous));
    let answers = bulk.evaluate(&keyed);
    assert!(answers.iter().all(Result::is_ok));
    let counted: Vec<u64> = recorded
        .requests
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(
        counted,
        [1, 2],
        "refusals count nothing, the bulk counts every flag"
    );
}

#[tokio::test]
async fn snapshots_are_shaped_by_view_and_explanations_count_nothing() {
    let (evaluator, recorded) = evaluator(10).await;
    assert_eq!(
        evaluator
            .sdk_snapshot(&scope(&[Scope::Client]))
            .expect("allowed")
            .view,
        View::Client
    );
    let server = evaluator
        .sdk_snapshot(&scope(&[Scope::Evaluate]))
        .expect("allowed");
    assert_eq!(server.view, View::Server);
    assert_eq!(
        server.flags().iter().map(|f| f.id).collect::<Vec<_>>(),
        [1, 2]
    );
    let console = evaluator
        .console(&scope(&[Scope::Evaluate]))
        .expect("allowed");
    assert_eq!(console.flag_keys(), ["always", "split"]);
    let explained = console.explain("", "u1", None);
    assert_eq!(explained.len(), 2);
    assert!(!explained[0].summary.is_empty(), "the debug log is kept");
    assert!(recorded.requests.lock().expect("not poisoned").is_empty());
    assert!(recorded.reasons.lock().expect("not poisoned").is_empty());
}

#[tokio::test]
async fn every_use_case_refuses_a_scope_without_its_permission_and_counts_nothing() {
    let (evaluator, recorded) = evaluator(10).await;
    let client = scope(&[Scope::Client]);
    let nothing = scope(&[]);
    let context = OfrepContext::default();
    // Server-side evaluation (OFREP, the Debug Console) needs more than a client key.
    for s in [&client, &nothing] {
        let denied = evaluator
            .resolve(s, "always", &context)
            .expect_err("refused");
        assert_eq!(denied.permission, "flags:evaluate");
        assert!(evaluator.bulk(s).is_err());
        assert!(evaluator.console(s).is_err());
    }
    // Local evaluation (the SDK snapshot and its stream) needs some scope; a client key suffices.
    assert!(evaluator.sdk_snapshot(&nothing).is_err());
    assert!(evaluator.subscribe(&nothing).is_err());
    assert!(evaluator.changes_since(&nothing, None).is_err());
    assert!(evaluator.sdk_snapshot(&client).is_ok());
    assert!(evaluator.subscribe(&client).is_ok());
    assert!(recorded.requests.lock().expect("not poisoned").is_empty());
    assert!(recorded.reasons.lock().expect("not poisoned").is_empty());
}

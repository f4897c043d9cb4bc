//! Handlers for a flag's variants, segments, constraints and distributions.

use super::requests::*;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::Body;
use crate::state::AppState;
use actix_web::web::{Data, Json, Path};
use flagent_flags::{Constraint, Distribution, Segment, Variant};
use flagent_types::{ConstraintId, FlagId, SegmentId, VariantId, perm};

type Reply<T> = Result<Json<T>, ApiError>;

fn deleted() -> Reply<serde_json::Value> {
    Ok(Json(serde_json::json!({})))
}

/// Lists a flag's variants.
#[utoipa::path(get, path = "/api/v1/flags/{flagID}/variants", tag = "variant", params(("flagID" = i64, Path)),
    responses((status = 200, body = Vec<Variant>)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn find_variants(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Reply<Vec<Variant>> {
    Ok(Json(state.flags.variants(auth.scope(), FlagId(*id)).await?))
}

/// Adds a variant.
#[utoipa::path(post, path = "/api/v1/flags/{flagID}/variants", tag = "variant", params(("flagID" = i64, Path)),
    request_body = VariantRequest, responses((status = 200, body = Variant)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn create_variant(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    id: Path<i64>,
    body: Body<VariantRequest>,
) -> Reply<Variant> {
    let body = Json(body.checked()?);
    Ok(Json(
        state
            .flags
            .create_variant(auth.scope(), FlagId(*id), body.into_inner().into())
            .await?,
    ))
}

/// Changes a variant.
#[utoipa::path(put, path = "/api/v1/flags/{flagID}/variants/{variantID}", tag = "variant",
    params(("flagID" = i64, Path), ("variantID" = i64, Path)), request_body = VariantRequest,
    responses((status = 200, body = Variant)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn put_variant(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    ids: Path<(i64, i64)>,
    body: Body<VariantRequest>,
) -> Reply<Variant> {
    let body = Json(body.checked()?);
    let (flag, variant) = ids.into_inner();
    Ok(Json(
        state
            .flags
            .update_variant(
                auth.scope(),
                FlagId(flag),
                VariantId(variant),
                body.into_inner().into(),
            )
            .await?,
    ))
}

/// Deletes a variant no distribution uses.
#[utoipa::path(delete, path = "/api/v1/flags/{flagID}/variants/{variantID}", tag = "variant",
    params(("flagID" = i64, Path), ("variantID" = i64, Path)), responses((status = 200)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn delete_variant(
    auth: Auth<perm::WriteFlags>,
    state: Data<AppState>,
    ids: Path<(i64, i64)>,
) -> Reply<serde_json::Value> {
    let (flag, variant) = ids.into_inner();
    state
        .flags
        .delete_variant(auth.scope(), FlagId(flag), VariantId(variant))
        .await?;
    deleted()
}

/// Lists a flag's segments in the caller's environment.
#[utoipa::path(get, path = "/api/v1/flags/{flagID}/segments", tag = "segment", params(("flagID" = i64, Path)),
    responses((status = 200, body = Vec<Segment>)), security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn find_segments(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    id: Path<i64>,
) -> Reply<Vec<Segment>> {
    Ok(Json(state.flags.segments(auth.scope(), FlagId(*id)).await?))
}

/// Adds a segment (rank 999).
#[utoipa::path(post, path = "/api/v1/flags/{flagID}/segments", tag = "segment", params(("flagID" = i64, Path)),
    request_body = SegmentRequest, responses((status = 200, body = Segment)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn create_segment(
    auth: Auth<perm::Write>,
    state: Data<AppState>,
    id: Path<i64>,
    body: Body<SegmentRequest>,
) -> Reply<Segment> {
    let body = Json(body.checked()?);
    Ok(Json(
        state
            .flags
            .create_segment(auth.scope(), FlagId(*id), body.into_inner().into())
            .await?,
    ))
}

/// Reorders a flag's segments.
#[utoipa::path(put, path = "/api/v1/flags/{flagID}/segments/reorder", tag = "segment", params(("flagID" = i64, Path)),
    request_body = ReorderSegmentsRequest, responses((status = 200)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn reorder_segments(
    auth: Auth<perm::Write>,
    state: Data<AppState>,
    id: Path<i64>,
    body: Body<ReorderSegmentsRequest>,
) -> Reply<serde_json::Value> {
    let body = Json(body.checked()?);
    state
        .flags
        .reorder_segments(auth.scope(), FlagId(*id), body.into_inner().segment_ids)
        .await?;
    deleted()
}

/// Changes a segment.
#[utoipa::path(put, path = "/api/v1/flags/{flagID}/segments/{segmentID}", tag = "segment",
    params(("flagID" = i64, Path), ("segmentID" = i64, Path)), request_body = SegmentRequest,
    responses((status = 200, body = Segment)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn put_segment(
    auth: Auth<perm::Write>,
    state: Data<AppState>,
    ids: Path<(i64, i64)>,
    body: Body<SegmentRequest>,
) -> Reply<Segment> {
    let body = Json(body.checked()?);
    let (flag, segment) = ids.into_inner();
    Ok(Json(
        state
            .flags
            .update_segment(
                auth.scope(),
                FlagId(flag),
                SegmentId(segment),
                body.into_inner().into(),
            )
            .await?,
    ))
}

/// Deletes a segment.
#[utoipa::path(delete, path = "/api/v1/flags/{flagID}/segments/{segmentID}", tag = "segment",
    params(("flagID" = i64, Path), ("segmentID" = i64, Path)), responses((status = 200)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn delete_segment(
    auth: Auth<perm::Write>,
    state: Data<AppState>,
    ids: Path<(i64, i64)>,
) -> Reply<serde_json::Value> {
    let (flag, segment) = ids.into_inner();
    state
        .flags
        .delete_segment(auth.scope(), FlagId(flag), SegmentId(segment))
        .await?;
    deleted()
}

/// Lists a segment's constraints.
#[utoipa::path(get, path = "/api/v1/flags/{flagID}/segments/{segmentID}/constraints", tag = "constraint",
    params(("flagID" = i64, Path), ("segmentID" = i64, Path)), responses((status = 200, body = Vec<Constraint>)),
    security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn find_constraints(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    ids: Path<(i64, i64)>,
) -> Reply<Vec<Constraint>> {
    let (flag, segment) = ids.into_inner();
    Ok(Json(
        state
            .flags
            .constraints(auth.scope(), FlagId(flag), SegmentId(segment))
            .await?,
    ))
}

/// Adds a constraint; string literals must be quoted (`"CA"`).
#[utoipa::path(post, path = "/api/v1/flags/{flagID}/segments/{segmentID}/constraints", tag = "constraint",
    params(("flagID" = i64, Path), ("segmentID" = i64, Path)), request_body = ConstraintRequest,
    responses((status = 200, body = Constraint)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn create_constraint(
    auth: Auth<perm::Write>,
    state: Data<AppState>,
    ids: Path<(i64, i64)>,
    body: Body<ConstraintRequest>,
) -> Reply<Constraint> {
    let body = Json(body.checked()?);
    let (flag, segment) = ids.into_inner();
    Ok(Json(
        state
            .flags
            .create_constraint(
                auth.scope(),
                FlagId(flag),
                SegmentId(segment),
                body.into_inner().into(),
            )
            .await?,
    ))
}

/// Changes a constraint.
#[utoipa::path(put, path = "/api/v1/flags/{flagID}/segments/{segmentID}/constraints/{constraintID}", tag = "constraint",
    params(("flagID" = i64, Path), ("segmentID" = i64, Path), ("constraintID" = i64, Path)), request_body = ConstraintRequest,
    responses((status = 200, body = Constraint)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn put_constraint(
    auth: Auth<perm::Write>,
    state: Data<AppState>,
    ids: Path<(i64, i64, i64)>,
    body: Body<ConstraintRequest>,
) -> Reply<Constraint> {
    let body = Json(body.checked()?);
    let (flag, segment, constraint) = ids.into_inner();
    let input = body.into_inner().into();
    Ok(Json(
        state
            .flags
            .update_constraint(
                auth.scope(),
                FlagId(flag),
                SegmentId(segment),
                ConstraintId(constraint),
                input,
            )
            .await?,
    ))
}

/// Deletes a constraint.
#[utoipa::path(delete, path = "/api/v1/flags/{flagID}/segments/{segmentID}/constraints/{constraintID}", tag = "constraint",
    params(("flagID" = i64, Path), ("segmentID" = i64, Path), ("constraintID" = i64, Path)),
    responses((status = 200)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn delete_constraint(
    auth: Auth<perm::Write>,
    state: Data<AppState>,
    ids: Path<(i64, i64, i64)>,
) -> Reply<serde_json::Value> {
    let (flag, segment, constraint) = ids.into_inner();
    state
        .flags
        .delete_constraint(
            auth.scope(),
            FlagId(flag),
            SegmentId(segment),
            ConstraintId(constraint),
        )
        .await?;
    deleted()
}

/// Lists a segment's distributions.
#[utoipa::path(get, path = "/api/v1/flags/{flagID}/segments/{segmentID}/distributions", tag = "distribution",
    params(("flagID" = i64, Path), ("segmentID" = i64, Path)), responses((status = 200, body = Vec<Distribution>)),
    security(("api_key" = ["read"]), ("session" = ["flags:read"])))]
pub(crate) async fn find_distributions(
    auth: Auth<perm::Read>,
    state: Data<AppState>,
    ids: Path<(i64, i64)>,
) -> Reply<Vec<Distribution>> {
    let (flag, segment) = ids.into_inner();
    Ok(Json(
        state
            .flags
            .distributions(auth.scope(), FlagId(flag), SegmentId(segment))
            .await?,
    ))
}

/// Replaces a segment's distributions; percents must sum to 100.
#[utoipa::path(put, path = "/api/v1/flags/{flagID}/segments/{segmentID}/distributions", tag = "distribution",
    params(("flagID" = i64, Path), ("segmentID" = i64, Path)), request_body = PutDistributionsRequest,
    responses((status = 200, body = Vec<Distribution>)), security(("api_key" = ["write"]), ("session" = ["flags:write"])))]
pub(crate) async fn put_distributions(
    auth: Auth<perm::Write>,
    state: Data<AppState>,
    ids: Path<(i64, i64)>,
    body: Body<PutDistributionsRequest>,
) -> Reply<Vec<Distribution>> {
    let body = Json(body.checked()?);
    let (flag, segment) = ids.into_inner();
    let input = body
        .into_inner()
        .distributions
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(
        state
            .flags
            .put_distributions(auth.scope(), FlagId(flag), SegmentId(segment), input)
            .await?,
    ))
}

//! Request bodies and query strings of the flag routes, and their conversion into domain inputs.

use crate::error::{ApiError, ErrorCode};
use actix_web::HttpRequest;
use flagent_eval::Prerequisite;
use flagent_flags::{
    ConstraintInput, DistributionInput, FlagFilter, FlagPatch, FlagsError, NewFlag, SegmentInput,
    VariantInput,
};
use flagent_types::FlagKey;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// `POST /flags`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateFlagRequest {
    /// Free text (required).
    pub(crate) description: String,
    /// Unique key; generated when absent.
    #[serde(default)]
    pub(crate) key: Option<String>,
    /// `simple_boolean_flag` creates an `on` variant served to everyone; `boolean` adds `off` beside
    /// it; `multivariate` creates `control` (served to everyone) and `treatment`; `experiment` splits
    /// `control` and `treatment` 50/50. Each template's segment is in every environment.
    #[serde(default)]
    pub(crate) template: Option<String>,
    /// `murmur3` (default) or `flagr_crc32`.
    #[serde(default)]
    pub(crate) bucketing: Option<String>,
    /// Hashing salt (default: the key).
    #[serde(default)]
    pub(crate) salt: Option<String>,
}

/// Parses a flag key from a request body, with the answer a use case gives for a bad one.
pub(crate) fn flag_key(key: Option<String>) -> Result<Option<FlagKey>, ApiError> {
    key.map(FlagKey::parse)
        .transpose()
        .map_err(|e| FlagsError::invalid("key", e.to_string()).into())
}

impl TryFrom<CreateFlagRequest> for NewFlag {
    type Error = ApiError;

    fn try_from(r: CreateFlagRequest) -> Result<Self, ApiError> {
        Ok(NewFlag {
            // An empty key asks for a generated one, as an absent key does.
            key: flag_key(r.key.filter(|k| !k.is_empty()))?,
            description: r.description,
            template: r.template,
            bucketing: r.bucketing,
            salt: r.salt,
        })
    }
}

/// `PUT /flags/{flagID}`: absent fields are left unchanged.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutFlagRequest {
    pub(crate) description: Option<String>,
    pub(crate) key: Option<String>,
    pub(crate) data_records_enabled: Option<bool>,
    pub(crate) entity_type: Option<String>,
    pub(crate) enabled: Option<bool>,
    pub(crate) notes: Option<String>,
    pub(crate) salt: Option<String>,
    pub(crate) bucketing: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub(crate) depends_on: Option<Vec<Prerequisite>>,
    pub(crate) default_variant: Option<String>,
    /// The version the change is based on (same as `If-Match`).
    pub(crate) version: Option<i64>,
}

impl TryFrom<PutFlagRequest> for FlagPatch {
    type Error = ApiError;

    fn try_from(r: PutFlagRequest) -> Result<Self, ApiError> {
        Ok(FlagPatch {
            description: r.description,
            key: flag_key(r.key)?,
            data_records_enabled: r.data_records_enabled,
            entity_type: r.entity_type,
            enabled: r.enabled,
            notes: r.notes,
            salt: r.salt,
            bucketing: r.bucketing,
            depends_on: r.depends_on,
            default_variant: r.default_variant,
        })
    }
}

/// `PUT /flags/{flagID}/enabled`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct SetFlagEnabledRequest {
    pub(crate) enabled: bool,
}

/// `POST /flags/{flagID}/duplicate`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub(crate) struct DuplicateFlagRequest {
    /// Key of the copy; generated when absent.
    #[serde(default)]
    pub(crate) key: Option<String>,
}

/// `POST /flags/{flagID}/tags`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct CreateTagRequest {
    pub(crate) value: String,
}

/// `POST /flags/{flagID}/variants` and `PUT …/variants/{variantID}`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct VariantRequest {
    pub(crate) key: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub(crate) attachment: serde_json::Value,
}

impl From<VariantRequest> for VariantInput {
    fn from(r: VariantRequest) -> Self {
        VariantInput {
            key: r.key,
            attachment: r.attachment,
        }
    }
}

/// `POST /flags/{flagID}/segments` and `PUT …/segments/{segmentID}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SegmentRequest {
    #[serde(default)]
    pub(crate) description: String,
    pub(crate) rollout_percent: i64,
}

impl From<SegmentRequest> for SegmentInput {
    fn from(r: SegmentRequest) -> Self {
        SegmentInput {
            description: r.description,
            rollout_percent: r.rollout_percent,
        }
    }
}

/// `PUT /flags/{flagID}/segments/reorder`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReorderSegmentsRequest {
    #[serde(rename = "segmentIDs")]
    pub(crate) segment_ids: Vec<i64>,
}

/// `POST …/constraints` and `PUT …/constraints/{constraintID}`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ConstraintRequest {
    pub(crate) property: String,
    pub(crate) operator: String,
    pub(crate) value: String,
}

impl From<ConstraintRequest> for ConstraintInput {
    fn from(r: ConstraintRequest) -> Self {
        ConstraintInput {
            property: r.property,
            operator: r.operator,
            value: r.value,
        }
    }
}

/// `PUT …/distributions`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct PutDistributionsRequest {
    pub(crate) distributions: Vec<DistributionRequest>,
}

/// One distribution in [`PutDistributionsRequest`].
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct DistributionRequest {
    #[serde(rename = "variantID")]
    pub(crate) variant_id: i64,
    /// Accepted for Flagr clients; the variant id decides.
    #[serde(rename = "variantKey", default)]
    #[allow(dead_code)]
    pub(crate) variant_key: Option<String>,
    pub(crate) percent: i64,
}

impl From<DistributionRequest> for DistributionInput {
    fn from(r: DistributionRequest) -> Self {
        DistributionInput {
            variant_id: r.variant_id,
            percent: r.percent,
        }
    }
}

/// Query string of `GET /flags`.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct FlagListQuery {
    limit: Option<usize>,
    offset: Option<usize>,
    enabled: Option<bool>,
    description: Option<String>,
    description_like: Option<String>,
    key: Option<String>,
    /// Comma-separated; flags carrying all of them.
    tags: Option<String>,
    #[serde(default)]
    preload: bool,
    #[serde(default)]
    deleted: bool,
}

impl From<FlagListQuery> for FlagFilter {
    fn from(q: FlagListQuery) -> Self {
        FlagFilter {
            limit: q.limit,
            offset: q.offset,
            enabled: q.enabled,
            description: q.description,
            description_like: q.description_like,
            key: q.key,
            tags: q
                .tags
                .map(|t| {
                    t.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            preload: q.preload,
            deleted: q.deleted,
        }
    }
}

/// Query string of `GET /tags`.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct TagListQuery {
    pub(crate) value_like: Option<String>,
}

/// Query string of `GET /flags/{flagID}/snapshots`.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct SnapshotQuery {
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    /// `ASC` or `DESC` (default).
    pub(crate) sort: Option<String>,
}

/// The version sent in `If-Match` (`3`, `"3"` or `W/"3"`), if any; `*` means any version.
pub(crate) fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get("if-match") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let text = text.trim_start_matches("W/").trim_matches('"');
    text.parse::<i64>().map(Some).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidHeader,
            "If-Match must be the flag's version, such as \"3\"",
        )
    })
}

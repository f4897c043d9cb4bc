//! Use cases on a flag's segments in the caller's environment (constraints and distributions are in
//! `constraint_ops.rs`).

use crate::service::Touch;
use crate::validate;
use crate::{Flags, FlagsError, Resource, Result, Segment};
use flagent_storage::TenantTx;
use flagent_storage::entities::{flag, segment};
use flagent_types::{AuditAction, FlagId, SegmentId, TenantScope, perm};
use std::collections::HashSet;

/// The rank a new segment gets, so it is visited after the existing ones (Flagr's rule).
pub const NEW_SEGMENT_RANK: i64 = 999;

/// A segment to create or the new state of one.
#[derive(Debug, Clone)]
pub struct SegmentInput {
    /// Free text.
    pub description: String,
    /// 0..=100.
    pub rollout_percent: i64,
}

pub(crate) async fn segment_of(
    tx: &TenantTx,
    scope: &TenantScope,
    flag: &flag::Model,
    id: i64,
) -> Result<segment::Model> {
    tx.get::<segment::Model>(id)
        .await?
        .filter(|s| s.flag_id == flag.id && s.environment_id == scope.environment_id().0)
        .ok_or(FlagsError::NotFound(Resource::Segment))
}

fn checked_segment(input: SegmentInput) -> Result<SegmentInput> {
    Ok(SegmentInput {
        description: validate::bounded("description", input.description.trim())?,
        rollout_percent: validate::percent("rolloutPercent", input.rollout_percent)?,
    })
}

fn segment_view(s: &segment::Model) -> Segment {
    Segment {
        id: s.id,
        description: s.description.clone(),
        constraints: Vec::new(),
        distributions: Vec::new(),
        rank: s.rank,
        rollout_percent: s.rollout_percent,
    }
}

impl Flags {
    /// The segments of a flag in the caller's environment, by rank then id.
    pub async fn segments(&self, scope: &TenantScope, flag_id: FlagId) -> Result<Vec<Segment>> {
        scope.require::<perm::Read>()?;
        Ok(self.flag(scope, flag_id).await?.segments)
    }

    /// One segment of a flag in the caller's environment.
    pub async fn segment(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        segment_id: SegmentId,
    ) -> Result<Segment> {
        let segment_id = segment_id.0;
        scope.require::<perm::Read>()?;
        self.segments(scope, flag_id)
            .await?
            .into_iter()
            .find(|s| s.id == segment_id)
            .ok_or(FlagsError::NotFound(Resource::Segment))
    }

    /// Adds a segment (rank 999, after the others) in the caller's environment.
    pub async fn create_segment(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        input: SegmentInput,
    ) -> Result<Segment> {
        let flag_id = flag_id.0;
        scope.require::<perm::Write>()?;
        let input = checked_segment(input)?;
        let env = scope.environment_id().0;
        let (row, _) = self
            .change(
                scope,
                flag_id,
                None,
                Touch::Current,
                AuditAction::SegmentCreate,
                async |tx, flag| {
                    Ok(tx
                        .insert_row(segment::New {
                            flag_id: flag.id,
                            environment_id: env,
                            description: input.description.clone(),
                            rank: NEW_SEGMENT_RANK,
                            rollout_percent: input.rollout_percent,
                        })
                        .await?)
                },
            )
            .await?;
        Ok(segment_view(&row))
    }

    /// Changes a segment's description and rollout.
    pub async fn update_segment(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        segment_id: SegmentId,
        input: SegmentInput,
    ) -> Result<Segment> {
        let flag_id = flag_id.0;
        let segment_id = segment_id.0;
        scope.require::<perm::Write>()?;
        let input = checked_segment(input)?;
        let (_, flag) = self
            .change(
                scope,
                flag_id,
                None,
                Touch::Current,
                AuditAction::SegmentUpdate,
                async |tx, flag| {
                    let current = segment_of(tx, scope, flag, segment_id).await?;
                    tx.update_row(segment::Model {
                        description: input.description.clone(),
                        rollout_percent: input.rollout_percent,
                        ..current
                    })
                    .await?;
                    Ok(())
                },
            )
            .await?;
        find_segment(flag.segments, segment_id)
    }

    /// Deletes a segment with its constraints and distributions.
    pub async fn delete_segment(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        segment_id: SegmentId,
    ) -> Result<()> {
        let flag_id = flag_id.0;
        let segment_id = segment_id.0;
        scope.require::<perm::Write>()?;
        self.change(
            scope,
            flag_id,
            None,
            Touch::Current,
            AuditAction::SegmentDelete,
            async |tx, flag| {
                segment_of(tx, scope, flag, segment_id).await?;
                Ok(tx.delete_segment(segment_id).await?)
            },
        )
        .await?;
        Ok(())
    }

    /// Sets segment ranks to their position in `order`, which must list every segment exactly once.
    pub async fn reorder_segments(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        order: Vec<i64>,
    ) -> Result<()> {
        let flag_id = flag_id.0;
        scope.require::<perm::Write>()?;
        let env = scope.environment_id().0;
        self.change(
            scope,
            flag_id,
            None,
            Touch::Current,
            AuditAction::SegmentReorder,
            async |tx, flag| {
                let segments = tx.segments_of_flag(flag.id, env).await?;
                let have: HashSet<i64> = segments.iter().map(|s| s.id).collect();
                let want: HashSet<i64> = order.iter().copied().collect();
                if have != want || want.len() != order.len() {
                    return Err(FlagsError::invalid(
                        "segmentIDs",
                        format!(
                            "segmentIDs must list each of the flag's segments exactly once: {:?}",
                            sorted(&have)
                        ),
                    ));
                }
                for (rank, id) in order.iter().enumerate() {
                    if let Some(s) = segments.iter().find(|s| s.id == *id) {
                        tx.update_row(segment::Model {
                            rank: rank as i64,
                            ..s.clone()
                        })
                        .await?;
                    }
                }
                Ok(())
            },
        )
        .await?;
        Ok(())
    }
}

fn sorted(ids: &HashSet<i64>) -> Vec<i64> {
    let mut v: Vec<i64> = ids.iter().copied().collect();
    v.sort_unstable();
    v
}

pub(crate) fn find_segment(segments: Vec<Segment>, id: i64) -> Result<Segment> {
    segments
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(FlagsError::NotFound(Resource::Segment))
}

//! Use cases on a segment's constraints and distributions in the caller's environment.

use crate::segment_ops::{find_segment, segment_of};
use crate::service::Touch;
use crate::validate;
use crate::{Constraint, Distribution, Flags, FlagsError, Resource, Result};
use flagent_storage::entities::{constraint, distribution};
use flagent_types::{AuditAction, ConstraintId, FlagId, SegmentId, TenantScope, perm};
use std::collections::HashSet;

/// A constraint to create or the new state of one.
#[derive(Debug, Clone)]
pub struct ConstraintInput {
    /// Property path.
    pub property: String,
    /// Operator.
    pub operator: String,
    /// Typed literal.
    pub value: String,
}

/// One variant's share in `PUT …/distributions`.
#[derive(Debug, Clone)]
pub struct DistributionInput {
    /// The variant.
    pub variant_id: i64,
    /// 0..=100.
    pub percent: i64,
}

fn checked_constraint(input: ConstraintInput) -> Result<ConstraintInput> {
    flagent_eval::validate_constraint(&input.property, &input.operator, &input.value)
        .map_err(|e| FlagsError::invalid(e.field, e.message))?;
    Ok(input)
}

fn constraint_view(c: constraint::Model) -> Constraint {
    Constraint {
        id: c.id,
        property: c.property,
        operator: c.operator,
        value: c.value,
    }
}

impl Flags {
    /// The constraints of a segment, ascending id.
    pub async fn constraints(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        segment_id: SegmentId,
    ) -> Result<Vec<Constraint>> {
        scope.require::<perm::Read>()?;
        Ok(self.segment(scope, flag_id, segment_id).await?.constraints)
    }

    /// Adds a constraint to a segment; invalid literals are rejected with a hint.
    pub async fn create_constraint(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        segment_id: SegmentId,
        input: ConstraintInput,
    ) -> Result<Constraint> {
        let flag_id = flag_id.0;
        let segment_id = segment_id.0;
        scope.require::<perm::Write>()?;
        let input = checked_constraint(input)?;
        let (row, _) = self
            .change(
                scope,
                flag_id,
                None,
                Touch::Current,
                AuditAction::ConstraintCreate,
                async |tx, flag| {
                    segment_of(tx, scope, flag, segment_id).await?;
                    Ok(tx
                        .insert_row(constraint::New {
                            segment_id,
                            property: input.property.clone(),
                            operator: input.operator.clone(),
                            value: input.value.clone(),
                        })
                        .await?)
                },
            )
            .await?;
        Ok(constraint_view(row))
    }

    /// Replaces a constraint's property, operator and value.
    pub async fn update_constraint(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        segment_id: SegmentId,
        constraint_id: ConstraintId,
        input: ConstraintInput,
    ) -> Result<Constraint> {
        let flag_id = flag_id.0;
        let segment_id = segment_id.0;
        let constraint_id = constraint_id.0;
        scope.require::<perm::Write>()?;
        let input = checked_constraint(input)?;
        let (row, _) = self
            .change(
                scope,
                flag_id,
                None,
                Touch::Current,
                AuditAction::ConstraintUpdate,
                async |tx, flag| {
                    segment_of(tx, scope, flag, segment_id).await?;
                    let current = tx
                        .get::<constraint::Model>(constraint_id)
                        .await?
                        .filter(|c| c.segment_id == segment_id)
                        .ok_or(FlagsError::NotFound(Resource::Constraint))?;
                    let next = constraint::Model {
                        property: input.property.clone(),
                        operator: input.operator.clone(),
                        value: input.value.clone(),
                        ..current
                    };
                    tx.update_row(next.clone()).await?;
                    Ok(next)
                },
            )
            .await?;
        Ok(constraint_view(row))
    }

    /// Deletes a constraint.
    pub async fn delete_constraint(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        segment_id: SegmentId,
        constraint_id: ConstraintId,
    ) -> Result<()> {
        let flag_id = flag_id.0;
        let segment_id = segment_id.0;
        let constraint_id = constraint_id.0;
        scope.require::<perm::Write>()?;
        self.change(
            scope,
            flag_id,
            None,
            Touch::Current,
            AuditAction::ConstraintDelete,
            async |tx, flag| {
                segment_of(tx, scope, flag, segment_id).await?;
                tx.get::<constraint::Model>(constraint_id)
                    .await?
                    .filter(|c| c.segment_id == segment_id)
                    .ok_or(FlagsError::NotFound(Resource::Constraint))?;
                Ok(tx.delete_constraint(segment_id, constraint_id).await?)
            },
        )
        .await?;
        Ok(())
    }

    /// The distributions of a segment, ascending variant id.
    pub async fn distributions(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        segment_id: SegmentId,
    ) -> Result<Vec<Distribution>> {
        scope.require::<perm::Read>()?;
        Ok(self
            .segment(scope, flag_id, segment_id)
            .await?
            .distributions)
    }

    /// Replaces a segment's distributions; the percents must be 0..=100, name the flag's variants at most
    /// once each, and sum to exactly 100.
    pub async fn put_distributions(
        &self,
        scope: &TenantScope,
        flag_id: FlagId,
        segment_id: SegmentId,
        input: Vec<DistributionInput>,
    ) -> Result<Vec<Distribution>> {
        let flag_id = flag_id.0;
        let segment_id = segment_id.0;
        scope.require::<perm::Write>()?;
        let (_, flag) = self
            .change(
                scope,
                flag_id,
                None,
                Touch::Current,
                AuditAction::DistributionUpdate,
                async |tx, flag| {
                    segment_of(tx, scope, flag, segment_id).await?;
                    let variants = tx.variants_of_flag(flag.id).await?;
                    let rows = checked_distributions(&input, &variants)?;
                    tx.replace_distributions(segment_id, rows).await?;
                    Ok(())
                },
            )
            .await?;
        Ok(find_segment(flag.segments, segment_id)?.distributions)
    }
}

/// Checks a distribution list against the flag's variants and returns the rows to store.
pub(crate) fn checked_distributions(
    input: &[DistributionInput],
    variants: &[flagent_storage::entities::variant::Model],
) -> Result<Vec<distribution::New>> {
    let mut seen = HashSet::new();
    let mut rows = Vec::with_capacity(input.len());
    for (i, d) in input.iter().enumerate() {
        let field = format!("distributions[{i}]");
        validate::percent(&format!("{field}.percent"), d.percent)?;
        let variant = variants
            .iter()
            .find(|v| v.id == d.variant_id)
            .ok_or_else(|| {
                FlagsError::invalid(
                    format!("{field}.variantID"),
                    format!("the flag has no variant {}", d.variant_id),
                )
            })?;
        if !seen.insert(d.variant_id) {
            return Err(FlagsError::invalid(
                format!("{field}.variantID"),
                format!("variant {} appears more than once", d.variant_id),
            ));
        }
        rows.push(distribution::New {
            segment_id: 0,
            variant_id: variant.id,
            variant_key: variant.key.clone(),
            percent: d.percent,
        });
    }
    let sum: i64 = input.iter().map(|d| d.percent).sum();
    if sum != 100 {
        return Err(FlagsError::invalid(
            "distributions",
            format!("percents must sum to 100, got {sum}"),
        ));
    }
    Ok(rows)
}

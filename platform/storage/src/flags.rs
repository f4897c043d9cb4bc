//! Queries over flags and everything under them, always within one tenant.

use crate::{Scoped, StorageError, entities::*};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect};

impl<C: ConnectionTrait> Scoped<C> {
    /// The flags of `project`, live or deleted, ascending id.
    pub async fn flags_of_project(
        &self,
        project: i64,
        deleted: bool,
    ) -> Result<Vec<flag::Model>, StorageError> {
        let deleted_filter = if deleted {
            flag::Column::DeletedAt.is_not_null()
        } else {
            flag::Column::DeletedAt.is_null()
        };
        Ok(self
            .select::<flag::Entity>()
            .filter(flag::Column::ProjectId.eq(project))
            .filter(deleted_filter)
            .order_by_asc(flag::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// The flag of `project` with `key`, deleted or not.
    pub async fn flag_by_key(
        &self,
        project: i64,
        key: &str,
    ) -> Result<Option<flag::Model>, StorageError> {
        Ok(self
            .select::<flag::Entity>()
            .filter(flag::Column::ProjectId.eq(project))
            .filter(flag::Column::Key.eq(key))
            .one(&self.conn)
            .await?)
    }

    /// Raises a flag's version by one if it is still `expected`, recording who changed it and when.
    /// Returns `false` when the flag moved on (or is not this tenant's).
    pub async fn bump_flag_version(
        &self,
        flag_id: i64,
        expected: i64,
        actor: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        let updated = self
            .update_columns::<flag::Entity>(
                Condition::all()
                    .add(flag::Column::Id.eq(flag_id))
                    .add(flag::Column::Version.eq(expected)),
                vec![
                    (flag::Column::Version, Expr::value(expected + 1)),
                    (flag::Column::UpdatedBy, Expr::value(actor)),
                    (flag::Column::UpdatedAt, Expr::value(now)),
                ],
            )
            .await?;
        Ok(updated == 1)
    }

    /// The state of a flag in an environment.
    pub async fn flag_state(
        &self,
        flag_id: i64,
        environment: i64,
    ) -> Result<Option<flag_state::Model>, StorageError> {
        Ok(self
            .select::<flag_state::Entity>()
            .filter(flag_state::Column::FlagId.eq(flag_id))
            .filter(flag_state::Column::EnvironmentId.eq(environment))
            .one(&self.conn)
            .await?)
    }

    /// A flag's variants, ascending id.
    pub async fn variants_of_flag(
        &self,
        flag_id: i64,
    ) -> Result<Vec<variant::Model>, StorageError> {
        Ok(self
            .select::<variant::Entity>()
            .filter(variant::Column::FlagId.eq(flag_id))
            .order_by_asc(variant::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// A flag's segments in an environment, by rank then id.
    pub async fn segments_of_flag(
        &self,
        flag_id: i64,
        environment: i64,
    ) -> Result<Vec<segment::Model>, StorageError> {
        Ok(self
            .select::<segment::Entity>()
            .filter(segment::Column::FlagId.eq(flag_id))
            .filter(segment::Column::EnvironmentId.eq(environment))
            .order_by_asc(segment::Column::Rank)
            .order_by_asc(segment::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// A segment's constraints, ascending id.
    pub async fn constraints_of_segment(
        &self,
        segment_id: i64,
    ) -> Result<Vec<constraint::Model>, StorageError> {
        Ok(self
            .select::<constraint::Entity>()
            .filter(constraint::Column::SegmentId.eq(segment_id))
            .order_by_asc(constraint::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// A segment's distributions, ascending variant id.
    pub async fn distributions_of_segment(
        &self,
        segment_id: i64,
    ) -> Result<Vec<distribution::Model>, StorageError> {
        Ok(self
            .select::<distribution::Entity>()
            .filter(distribution::Column::SegmentId.eq(segment_id))
            .order_by_asc(distribution::Column::VariantId)
            .all(&self.conn)
            .await?)
    }

    /// Whether any distribution (in any environment) gives a share to this variant.
    pub async fn variant_in_use(&self, variant_id: i64) -> Result<bool, StorageError> {
        Ok(self
            .select::<distribution::Entity>()
            .filter(distribution::Column::VariantId.eq(variant_id))
            .filter(distribution::Column::Percent.gt(0))
            .one(&self.conn)
            .await?
            .is_some())
    }

    /// Deletes a variant of a flag and any zero-percent distributions naming it.
    pub async fn delete_variant(&self, flag_id: i64, variant_id: i64) -> Result<(), StorageError> {
        self.delete_where::<distribution::Entity>(
            Condition::all().add(distribution::Column::VariantId.eq(variant_id)),
        )
        .await?;
        self.delete_where::<variant::Entity>(
            Condition::all()
                .add(variant::Column::Id.eq(variant_id))
                .add(variant::Column::FlagId.eq(flag_id)),
        )
        .await?;
        Ok(())
    }

    /// Renames a variant in the distributions that name it.
    pub async fn rename_variant_in_distributions(
        &self,
        variant_id: i64,
        key: &str,
    ) -> Result<(), StorageError> {
        self.update_columns::<distribution::Entity>(
            Condition::all().add(distribution::Column::VariantId.eq(variant_id)),
            vec![(distribution::Column::VariantKey, Expr::value(key))],
        )
        .await?;
        Ok(())
    }

    /// Deletes a segment (its constraints and distributions go with it).
    pub async fn delete_segment(&self, segment_id: i64) -> Result<(), StorageError> {
        self.delete_where::<constraint::Entity>(
            Condition::all().add(constraint::Column::SegmentId.eq(segment_id)),
        )
        .await?;
        self.delete_where::<distribution::Entity>(
            Condition::all().add(distribution::Column::SegmentId.eq(segment_id)),
        )
        .await?;
        self.delete_where::<segment::Entity>(
            Condition::all().add(segment::Column::Id.eq(segment_id)),
        )
        .await?;
        Ok(())
    }

    /// Deletes one constraint of a segment.
    pub async fn delete_constraint(
        &self,
        segment_id: i64,
        constraint_id: i64,
    ) -> Result<(), StorageError> {
        self.delete_where::<constraint::Entity>(
            Condition::all()
                .add(constraint::Column::Id.eq(constraint_id))
                .add(constraint::Column::SegmentId.eq(segment_id)),
        )
        .await?;
        Ok(())
    }

    /// Replaces a segment's distributions with `rows`.
    pub async fn replace_distributions(
        &self,
        segment_id: i64,
        rows: Vec<distribution::New>,
    ) -> Result<Vec<distribution::Model>, StorageError> {
        self.delete_where::<distribution::Entity>(
            Condition::all().add(distribution::Column::SegmentId.eq(segment_id)),
        )
        .await?;
        let mut stored = Vec::with_capacity(rows.len());
        for row in rows {
            stored.push(
                self.insert_row(distribution::New { segment_id, ..row })
                    .await?,
            );
        }
        Ok(stored)
    }

    /// The tag of `project` with `value`.
    pub async fn tag_by_value(
        &self,
        project: i64,
        value: &str,
    ) -> Result<Option<tag::Model>, StorageError> {
        Ok(self
            .select::<tag::Entity>()
            .filter(tag::Column::ProjectId.eq(project))
            .filter(tag::Column::Value.eq(value))
            .one(&self.conn)
            .await?)
    }

    /// The tags of `project`, ascending id.
    pub async fn tags_of_project(&self, project: i64) -> Result<Vec<tag::Model>, StorageError> {
        Ok(self
            .select::<tag::Entity>()
            .filter(tag::Column::ProjectId.eq(project))
            .order_by_asc(tag::Column::Id)
            .all(&self.conn)
            .await?)
    }

    /// The link between a flag and a tag.
    pub async fn flag_tag(
        &self,
        flag_id: i64,
        tag_id: i64,
    ) -> Result<Option<flag_tag::Model>, StorageError> {
        Ok(self
            .select::<flag_tag::Entity>()
            .filter(flag_tag::Column::FlagId.eq(flag_id))
            .filter(flag_tag::Column::TagId.eq(tag_id))
            .one(&self.conn)
            .await?)
    }

    /// Removes a tag from a flag.
    pub async fn delete_flag_tag(&self, flag_id: i64, tag_id: i64) -> Result<(), StorageError> {
        self.delete_where::<flag_tag::Entity>(
            Condition::all()
                .add(flag_tag::Column::FlagId.eq(flag_id))
                .add(flag_tag::Column::TagId.eq(tag_id)),
        )
        .await?;
        Ok(())
    }

    /// The entity types of `project`, ascending key.
    pub async fn entity_types_of_project(
        &self,
        project: i64,
    ) -> Result<Vec<entity_type::Model>, StorageError> {
        Ok(self
            .select::<entity_type::Entity>()
            .filter(entity_type::Column::ProjectId.eq(project))
            .order_by_asc(entity_type::Column::Key)
            .all(&self.conn)
            .await?)
    }

    /// The snapshots of a flag in an environment, newest first.
    pub async fn snapshots_of_flag(
        &self,
        flag_id: i64,
        environment: i64,
        limit: u64,
        offset: u64,
        ascending: bool,
    ) -> Result<Vec<flag_snapshot::Model>, StorageError> {
        let q = self
            .select::<flag_snapshot::Entity>()
            .filter(flag_snapshot::Column::FlagId.eq(flag_id))
            .filter(flag_snapshot::Column::EnvironmentId.eq(environment));
        let q = if ascending {
            q.order_by_asc(flag_snapshot::Column::Id)
        } else {
            q.order_by_desc(flag_snapshot::Column::Id)
        };
        Ok(q.limit(limit).offset(offset).all(&self.conn).await?)
    }
}

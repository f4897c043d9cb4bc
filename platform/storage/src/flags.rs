//! Queries over flags and everything under them, always within one tenant.

use crate::{Scoped, StorageError, entities::*};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};

/// Which flags of a project to load with [`Scoped::load_flag_rows`].
#[derive(Debug, Clone)]
pub enum FlagSelection {
    /// Every live (not deleted) flag of the project.
    Live,
    /// These flags, deleted or not.
    Ids(Vec<i64>),
}

/// Every row that makes up a set of flags as seen in one environment.
#[derive(Debug, Default)]
pub struct FlagRows {
    /// The flags, ascending id.
    pub flags: Vec<flag::Model>,
    /// Their state in the environment (a flag without one is disabled).
    pub states: Vec<flag_state::Model>,
    /// Their variants, ascending id.
    pub variants: Vec<variant::Model>,
    /// Their segments in the environment.
    pub segments: Vec<segment::Model>,
    /// Those segments' constraints, ascending id.
    pub constraints: Vec<constraint::Model>,
    /// Those segments' distributions, ascending id.
    pub distributions: Vec<distribution::Model>,
    /// `(flag id, tag)` pairs, ascending tag id.
    pub tags: Vec<(i64, tag::Model)>,
    /// `(flag id, newest snapshot id)` in the environment.
    pub snapshot_ids: Vec<(i64, i64)>,
}

#[derive(FromQueryResult)]
struct SnapshotMax {
    flag_id: i64,
    max_id: Option<i64>,
}

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
        rows: Vec<distribution::Model>,
    ) -> Result<Vec<distribution::Model>, StorageError> {
        self.delete_where::<distribution::Entity>(
            Condition::all().add(distribution::Column::SegmentId.eq(segment_id)),
        )
        .await?;
        let mut stored = Vec::with_capacity(rows.len());
        for row in rows {
            stored.push(
                self.insert_row(distribution::Model { segment_id, ..row })
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

    /// Every row of the selected flags of `project` as seen in `environment`.
    pub async fn load_flag_rows(
        &self,
        project: i64,
        environment: i64,
        selection: &FlagSelection,
    ) -> Result<FlagRows, StorageError> {
        let flag_filter = self.flag_condition(project, selection);
        let flags = self
            .select::<flag::Entity>()
            .filter(flag_filter.clone())
            .order_by_asc(flag::Column::Id)
            .all(&self.conn)
            .await?;
        if flags.is_empty() {
            return Ok(FlagRows::default());
        }
        let flag_ids = self.flag_id_subquery(flag_filter);
        let states = self
            .select::<flag_state::Entity>()
            .filter(flag_state::Column::EnvironmentId.eq(environment))
            .filter(flag_state::Column::FlagId.in_subquery(flag_ids.clone()))
            .all(&self.conn)
            .await?;
        let variants = self
            .select::<variant::Entity>()
            .filter(variant::Column::FlagId.in_subquery(flag_ids.clone()))
            .order_by_asc(variant::Column::Id)
            .all(&self.conn)
            .await?;
        let segment_filter = Condition::all()
            .add(segment::Column::TenantId.eq(self.tenant_id().0))
            .add(segment::Column::EnvironmentId.eq(environment))
            .add(segment::Column::FlagId.in_subquery(flag_ids.clone()));
        let segments = self
            .select::<segment::Entity>()
            .filter(segment_filter.clone())
            .order_by_asc(segment::Column::Id)
            .all(&self.conn)
            .await?;
        let segment_ids = Query::select()
            .column(segment::Column::Id)
            .from(segment::Entity)
            .cond_where(segment_filter)
            .to_owned();
        let constraints = self
            .select::<constraint::Entity>()
            .filter(constraint::Column::SegmentId.in_subquery(segment_ids.clone()))
            .order_by_asc(constraint::Column::Id)
            .all(&self.conn)
            .await?;
        let distributions = self
            .select::<distribution::Entity>()
            .filter(distribution::Column::SegmentId.in_subquery(segment_ids))
            .order_by_asc(distribution::Column::Id)
            .all(&self.conn)
            .await?;
        let tags = self.tags_of_flags(flag_ids.clone()).await?;
        let snapshot_ids = self.newest_snapshots(environment, flag_ids).await?;
        Ok(FlagRows {
            flags,
            states,
            variants,
            segments,
            constraints,
            distributions,
            tags,
            snapshot_ids,
        })
    }

    fn flag_condition(&self, project: i64, selection: &FlagSelection) -> Condition {
        let base = Condition::all()
            .add(flag::Column::TenantId.eq(self.tenant_id().0))
            .add(flag::Column::ProjectId.eq(project));
        match selection {
            FlagSelection::Live => base.add(flag::Column::DeletedAt.is_null()),
            FlagSelection::Ids(ids) => base.add(flag::Column::Id.is_in(ids.iter().copied())),
        }
    }

    fn flag_id_subquery(&self, filter: Condition) -> sea_orm::sea_query::SelectStatement {
        Query::select()
            .column(flag::Column::Id)
            .from(flag::Entity)
            .cond_where(filter)
            .to_owned()
    }

    async fn tags_of_flags(
        &self,
        flag_ids: sea_orm::sea_query::SelectStatement,
    ) -> Result<Vec<(i64, tag::Model)>, StorageError> {
        let links = self
            .select::<flag_tag::Entity>()
            .filter(flag_tag::Column::FlagId.in_subquery(flag_ids))
            .all(&self.conn)
            .await?;
        if links.is_empty() {
            return Ok(Vec::new());
        }
        let tags = self
            .select::<tag::Entity>()
            .filter(tag::Column::Id.is_in(links.iter().map(|l| l.tag_id)))
            .order_by_asc(tag::Column::Id)
            .all(&self.conn)
            .await?;
        let mut pairs = Vec::with_capacity(links.len());
        for tag in tags {
            for link in links.iter().filter(|l| l.tag_id == tag.id) {
                pairs.push((link.flag_id, tag.clone()));
            }
        }
        Ok(pairs)
    }

    async fn newest_snapshots(
        &self,
        environment: i64,
        flag_ids: sea_orm::sea_query::SelectStatement,
    ) -> Result<Vec<(i64, i64)>, StorageError> {
        let rows = self
            .select::<flag_snapshot::Entity>()
            .select_only()
            .column(flag_snapshot::Column::FlagId)
            .column_as(flag_snapshot::Column::Id.max(), "max_id")
            .filter(flag_snapshot::Column::EnvironmentId.eq(environment))
            .filter(flag_snapshot::Column::FlagId.in_subquery(flag_ids))
            .group_by(flag_snapshot::Column::FlagId)
            .into_model::<SnapshotMax>()
            .all(&self.conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.flag_id, r.max_id.unwrap_or(0)))
            .collect())
    }
}

//! Loading everything that makes up a set of flags in one environment, in a fixed number of queries
//! (for flag views, snapshots and the evaluation cache).

use crate::{Connection, Scoped, StorageError, entities::*};
use sea_orm::sea_query::Query;
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

impl<C: Connection> Scoped<C> {
    /// Every row of the selected flags of `project` as seen in `environment`.
    ///
    /// Its statements run as one batch (on PostgreSQL's pool, one transaction behind the wall).
    pub async fn load_flag_rows(
        &self,
        project: i64,
        environment: i64,
        selection: &FlagSelection,
    ) -> Result<FlagRows, StorageError> {
        let conn = self.conn.batch().await?;
        let rows = self
            .load_flag_rows_on(&conn, project, environment, selection)
            .await?;
        conn.finish().await?;
        Ok(rows)
    }
}

impl<C: ConnectionTrait> Scoped<C> {
    async fn load_flag_rows_on(
        &self,
        conn: &impl ConnectionTrait,
        project: i64,
        environment: i64,
        selection: &FlagSelection,
    ) -> Result<FlagRows, StorageError> {
        let flag_filter = self.flag_condition(project, selection);
        let flags = self
            .select::<flag::Entity>()
            .filter(flag_filter.clone())
            .order_by_asc(flag::Column::Id)
            .all(conn)
            .await?;
        if flags.is_empty() {
            return Ok(FlagRows::default());
        }
        let flag_ids = self.flag_id_subquery(flag_filter);
        let states = self
            .select::<flag_state::Entity>()
            .filter(flag_state::Column::EnvironmentId.eq(environment))
            .filter(flag_state::Column::FlagId.in_subquery(flag_ids.clone()))
            .all(conn)
            .await?;
        let variants = self
            .select::<variant::Entity>()
            .filter(variant::Column::FlagId.in_subquery(flag_ids.clone()))
            .order_by_asc(variant::Column::Id)
            .all(conn)
            .await?;
        let segment_filter = Condition::all()
            .add(segment::Column::TenantId.eq(self.tenant_id().0))
            .add(segment::Column::EnvironmentId.eq(environment))
            .add(segment::Column::FlagId.in_subquery(flag_ids.clone()));
        let segments = self
            .select::<segment::Entity>()
            .filter(segment_filter.clone())
            .order_by_asc(segment::Column::Id)
            .all(conn)
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
            .all(conn)
            .await?;
        let distributions = self
            .select::<distribution::Entity>()
            .filter(distribution::Column::SegmentId.in_subquery(segment_ids))
            .order_by_asc(distribution::Column::Id)
            .all(conn)
            .await?;
        let tags = self.tags_of_flags(conn, flag_ids.clone()).await?;
        let snapshot_ids = self.newest_snapshots(conn, environment, flag_ids).await?;
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
        conn: &impl ConnectionTrait,
        flag_ids: sea_orm::sea_query::SelectStatement,
    ) -> Result<Vec<(i64, tag::Model)>, StorageError> {
        let links = self
            .select::<flag_tag::Entity>()
            .filter(flag_tag::Column::FlagId.in_subquery(flag_ids))
            .all(conn)
            .await?;
        if links.is_empty() {
            return Ok(Vec::new());
        }
        let tags = self
            .select::<tag::Entity>()
            .filter(tag::Column::Id.is_in(links.iter().map(|l| l.tag_id)))
            .order_by_asc(tag::Column::Id)
            .all(conn)
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
        conn: &impl ConnectionTrait,
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
            .all(conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.flag_id, r.max_id.unwrap_or(0)))
            .collect())
    }
}

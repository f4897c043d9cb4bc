//! Crash reports of one tenant: each report's raw row (`crashes`), its group (`crash_groups`: the
//! reports of an environment sharing a fingerprint, with counts, first and last seen and app versions)
//! and the group's crashes per flag variant active at the time (`crash_group_variants`).
//!
//! Invariant: counters are never read and written back: a group's occurrences, first and last seen,
//! and the per-variant counts are each changed by one insert-or-update statement, atomic on every
//! backend, so writers on several nodes lose nothing. The app versions are merged after that
//! statement, inside the same transaction, which then holds the group's row lock.
//! Invariant: a transaction writes its groups in (environment, fingerprint) order, so concurrent
//! writers take the group locks in one order and cannot deadlock on them.

use crate::{Scoped, StorageError, entities::*};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use std::collections::BTreeMap;

/// App versions a group keeps: the most recently reported first.
pub const MAX_APP_VERSIONS: usize = 50;

/// One accepted crash report, as ingestion hands it to storage.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCrash {
    /// The environment it was reported in.
    pub environment_id: i64,
    /// Its group's fingerprint (64 hex digits).
    pub fingerprint: String,
    /// The platform that reported it.
    pub platform: String,
    /// Its error type.
    pub error_type: String,
    /// Its message (at most 1,024 bytes).
    pub message: String,
    /// The normalised top frames its fingerprint was made of, as JSON.
    pub top_frames: String,
    /// The application's version.
    pub app_version: String,
    /// The frames as sent, as JSON.
    pub frames: String,
    /// The flags and variants active when it crashed: (flag key, variant key).
    pub flags: Vec<(String, String)>,
    /// The hashed entity.
    pub entity: i64,
    /// When it crashed.
    pub occurred_at: i64,
    /// When it was received.
    pub received_at: i64,
}

/// Which groups of an environment to list: newest `last_seen` first.
#[derive(Debug, Clone, Copy)]
pub struct CrashGroupQuery<'a> {
    /// The environment.
    pub environment_id: i64,
    /// Only groups with crashes under this flag.
    pub flag: Option<&'a str>,
    /// Only groups after this (last seen, id) in the order: the last group of the previous page.
    pub after: Option<(i64, i64)>,
    /// Groups at most.
    pub limit: u64,
}

impl<C: ConnectionTrait> Scoped<C> {
    /// Records crash reports: for each group, updates (or creates) the group, inserts the raw rows and
    /// adds the per-variant counts. Call it inside a transaction (a group commit), so a report is
    /// recorded whole or not at all.
    pub async fn record_crashes(&self, crashes: Vec<NewCrash>) -> Result<(), StorageError> {
        let mut groups: BTreeMap<(i64, String), Vec<NewCrash>> = BTreeMap::new();
        for crash in crashes {
            let key = (crash.environment_id, crash.fingerprint.clone());
            groups.entry(key).or_default().push(crash);
        }
        for crashes in groups.into_values() {
            let group = self.upsert_group(&crashes).await?;
            let merged = merged_versions(&group.app_versions, &crashes);
            if merged != group.app_versions {
                let id = Condition::all().add(crash_group::Column::Id.eq(group.id));
                let versions = vec![(crash_group::Column::AppVersions, Expr::value(merged))];
                self.update_columns::<crash_group::Entity>(id, versions)
                    .await?;
            }
            let rows = crashes.iter().map(|c| crash_row(group.id, c)).collect();
            self.insert_all::<crash::Entity>(rows, None).await?;
            self.add_variant_counts(group.id, &crashes).await?;
        }
        Ok(())
    }

    /// Adds `crashes` to their group in one statement (creating it with the first one's platform,
    /// error type, message and frames), then reads the group back.
    async fn upsert_group(&self, crashes: &[NewCrash]) -> Result<crash_group::Model, StorageError> {
        let Some(first) = crashes.first() else {
            return Err(anyhow::anyhow!("a crash group needs at least one crash").into());
        };
        let seen_first = crashes.iter().map(|c| c.occurred_at).min().unwrap_or(0);
        let seen_last = crashes.iter().map(|c| c.occurred_at).max().unwrap_or(0);
        let count = i64::try_from(crashes.len()).unwrap_or(i64::MAX);
        let row = crash_group::Model {
            id: 0,
            tenant_id: 0,
            environment_id: first.environment_id,
            fingerprint: first.fingerprint.clone(),
            platform: first.platform.clone(),
            error_type: first.error_type.clone(),
            message: first.message.clone(),
            frames: first.top_frames.clone(),
            app_versions: "[]".to_owned(),
            occurrences: count,
            first_seen: seen_first,
            last_seen: seen_last,
        };
        use crash_group::Column as G;
        let stored = |column: G| Expr::col((crash_group::Entity, column));
        let update = OnConflict::columns([G::TenantId, G::EnvironmentId, G::Fingerprint])
            .value(G::Occurrences, stored(G::Occurrences).add(count))
            .value(
                G::FirstSeen,
                Expr::case(stored(G::FirstSeen).lt(seen_first), stored(G::FirstSeen))
                    .finally(seen_first),
            )
            .value(
                G::LastSeen,
                Expr::case(stored(G::LastSeen).gt(seen_last), stored(G::LastSeen))
                    .finally(seen_last),
            )
            .to_owned();
        self.insert_all::<crash_group::Entity>(vec![row], Some(update))
            .await?;
        self.select::<crash_group::Entity>()
            .filter(G::EnvironmentId.eq(first.environment_id))
            .filter(G::Fingerprint.eq(first.fingerprint.as_str()))
            .one(&self.conn)
            .await?
            .ok_or_else(|| anyhow::anyhow!("crash group {} vanished", first.fingerprint).into())
    }

    /// Adds each (flag, variant) pair's crashes to the group's counts: one insert-or-add statement.
    async fn add_variant_counts(
        &self,
        group: i64,
        crashes: &[NewCrash],
    ) -> Result<(), StorageError> {
        let mut counts: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        for (flag, variant) in crashes.iter().flat_map(|c| &c.flags) {
            *counts.entry((flag.as_str(), variant.as_str())).or_default() += 1;
        }
        let rows = counts
            .into_iter()
            .map(|((flag, variant), n)| crash_group_variant::Model {
                id: 0,
                tenant_id: 0,
                group_id: group,
                flag_key: flag.to_owned(),
                variant_key: variant.to_owned(),
                crashes: n,
            })
            .collect();
        use crash_group_variant::Column as V;
        let keys = vec![V::TenantId, V::GroupId, V::FlagKey, V::VariantKey];
        self.insert_or_add_all::<crash_group_variant::Entity>(rows, keys, V::Crashes)
            .await?;
        Ok(())
    }

    /// A page of an environment's crash groups, newest `last_seen` first (ties: newest id first).
    pub async fn crash_groups(
        &self,
        query: CrashGroupQuery<'_>,
    ) -> Result<Vec<crash_group::Model>, StorageError> {
        use crash_group::Column as G;
        let mut select = self
            .select::<crash_group::Entity>()
            .filter(G::EnvironmentId.eq(query.environment_id));
        if let Some(flag) = query.flag {
            let under_flag = self
                .select::<crash_group_variant::Entity>()
                .select_only()
                .column(crash_group_variant::Column::GroupId)
                .filter(crash_group_variant::Column::FlagKey.eq(flag))
                .into_query();
            select = select.filter(G::Id.in_subquery(under_flag));
        }
        if let Some((last_seen, id)) = query.after {
            let tie = Condition::all()
                .add(G::LastSeen.eq(last_seen))
                .add(G::Id.lt(id));
            select = select.filter(Condition::any().add(G::LastSeen.lt(last_seen)).add(tie));
        }
        Ok(select
            .order_by_desc(G::LastSeen)
            .order_by_desc(G::Id)
            .limit(query.limit)
            .all(&self.conn)
            .await?)
    }

    /// The crash group `id` of `environment`.
    pub async fn crash_group(
        &self,
        environment: i64,
        id: i64,
    ) -> Result<Option<crash_group::Model>, StorageError> {
        Ok(self
            .select::<crash_group::Entity>()
            .filter(crash_group::Column::EnvironmentId.eq(environment))
            .filter(crash_group::Column::Id.eq(id))
            .one(&self.conn)
            .await?)
    }

    /// The per-variant counts of `groups`, by group, flag and variant.
    pub async fn crash_group_variants(
        &self,
        groups: &[i64],
    ) -> Result<Vec<crash_group_variant::Model>, StorageError> {
        use crash_group_variant::Column as V;
        Ok(self
            .select::<crash_group_variant::Entity>()
            .filter(V::GroupId.is_in(groups.iter().copied()))
            .order_by_asc(V::GroupId)
            .order_by_asc(V::FlagKey)
            .order_by_asc(V::VariantKey)
            .all(&self.conn)
            .await?)
    }

    /// The distinct entities among the raw crashes of each of `groups`: (group, entities).
    pub async fn crash_entities(&self, groups: &[i64]) -> Result<Vec<(i64, i64)>, StorageError> {
        let distinct = Expr::from(Func::count_distinct(Expr::col(crash::Column::Entity)));
        Ok(self
            .select::<crash::Entity>()
            .select_only()
            .column(crash::Column::GroupId)
            .column_as(distinct, "entities")
            .filter(crash::Column::GroupId.is_in(groups.iter().copied()))
            .group_by(crash::Column::GroupId)
            .into_tuple()
            .all(&self.conn)
            .await?)
    }

    /// The `limit` most recent raw crashes of `group`.
    pub async fn recent_crashes(
        &self,
        group: i64,
        limit: u64,
    ) -> Result<Vec<crash::Model>, StorageError> {
        Ok(self
            .select::<crash::Entity>()
            .filter(crash::Column::GroupId.eq(group))
            .order_by_desc(crash::Column::OccurredAt)
            .order_by_desc(crash::Column::Id)
            .limit(limit)
            .all(&self.conn)
            .await?)
    }
}

/// The raw row of `crash` in `group`.
fn crash_row(group: i64, crash: &NewCrash) -> crash::Model {
    let flags: serde_json::Map<String, serde_json::Value> = crash
        .flags
        .iter()
        .map(|(flag, variant)| (flag.clone(), serde_json::Value::from(variant.as_str())))
        .collect();
    crash::Model {
        id: 0,
        tenant_id: 0,
        environment_id: crash.environment_id,
        group_id: group,
        entity: crash.entity,
        app_version: crash.app_version.clone(),
        message: crash.message.clone(),
        frames: crash.frames.clone(),
        flags: serde_json::Value::Object(flags).to_string(),
        occurred_at: crash.occurred_at,
        received_at: crash.received_at,
    }
}

/// The group's app versions (`stored`, a JSON array, most recently reported first) with those of
/// `crashes` moved or added to the front (the newest crash's first), at most [`MAX_APP_VERSIONS`].
fn merged_versions(stored: &str, crashes: &[NewCrash]) -> String {
    let mut newest: BTreeMap<&str, i64> = BTreeMap::new();
    for crash in crashes.iter().filter(|c| !c.app_version.is_empty()) {
        let at = newest
            .entry(&crash.app_version)
            .or_insert(crash.occurred_at);
        *at = Ord::max(*at, crash.occurred_at);
    }
    let mut fresh: Vec<(&str, i64)> = newest.into_iter().collect();
    fresh.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut merged: Vec<String> = fresh.iter().map(|(v, _)| (*v).to_owned()).collect();
    // The column is only ever written here, so it always parses; if not, it starts again.
    let old: Vec<String> = serde_json::from_str(stored).unwrap_or_default();
    for version in old {
        if !merged.contains(&version) {
            merged.push(version);
        }
    }
    merged.truncate(MAX_APP_VERSIONS);
    serde_json::Value::from(merged).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crash(version: &str, at: i64) -> NewCrash {
        NewCrash {
            environment_id: 1,
            fingerprint: "f".repeat(64),
            platform: "web".into(),
            error_type: "TypeError".into(),
            message: String::new(),
            top_frames: "[]".into(),
            app_version: version.into(),
            frames: "[]".into(),
            flags: Vec::new(),
            entity: 7,
            occurred_at: at,
            received_at: at,
        }
    }

    #[test]
    fn app_versions_put_the_most_recently_reported_first_and_keep_fifty() {
        let batch = [
            crash("1.1", 10),
            crash("1.2", 30),
            crash("1.1", 40),
            crash("", 50),
        ];
        assert_eq!(merged_versions("[]", &batch), r#"["1.1","1.2"]"#);
        assert_eq!(
            merged_versions(r#"["1.2","1.0"]"#, &[crash("1.3", 5)]),
            r#"["1.3","1.2","1.0"]"#
        );
        assert_eq!(
            merged_versions(r#"["1.2","1.0"]"#, &[crash("1.0", 5)]),
            r#"["1.0","1.2"]"#
        );
        let many: Vec<String> = (0..MAX_APP_VERSIONS).map(|k| format!("0.{k}")).collect();
        let stored = serde_json::Value::from(many).to_string();
        let merged: Vec<String> =
            serde_json::from_str(&merged_versions(&stored, &[crash("2.0", 1)])).unwrap();
        assert_eq!(merged.len(), MAX_APP_VERSIONS);
        assert_eq!(merged[0], "2.0");
        assert_eq!(
            merged[MAX_APP_VERSIONS - 1],
            format!("0.{}", MAX_APP_VERSIONS - 2)
        );
        assert_eq!(merged_versions("not json", &[]), "[]");
    }
}

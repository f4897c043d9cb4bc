//! The `metrics` table. A metric definition of a project: what it reads and how it is aggregated
//! per entity.

use sea_orm::entity::prelude::*;

/// One row of `metrics`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "metrics")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub project_id: i64,
    pub key: String,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub kind: String,
    pub event_key: Option<String>,
    pub value_property: Option<String>,
    pub numerator_id: Option<i64>,
    pub denominator_id: Option<i64>,
    pub quantile: Option<f64>,
    pub direction: String,
    pub window_hours: i64,
    pub winsorize_at: Option<f64>,
    pub guardrail: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// No relations are declared: joins are written in the repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A row to insert: every column but `id` and `tenant_id`, which the database and the tenant scope
/// fill in.
#[derive(Clone, Debug, PartialEq)]
pub struct New {
    pub project_id: i64,
    pub key: String,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub event_key: Option<String>,
    pub value_property: Option<String>,
    pub numerator_id: Option<i64>,
    pub denominator_id: Option<i64>,
    pub quantile: Option<f64>,
    pub direction: String,
    pub window_hours: i64,
    pub winsorize_at: Option<f64>,
    pub guardrail: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl New {
    /// The row as the tenant scope inserts it (`id` and `tenant_id` are set there).
    pub(crate) fn into_model(self) -> Model {
        Model {
            id: 0,
            tenant_id: 0,
            project_id: self.project_id,
            key: self.key,
            name: self.name,
            description: self.description,
            kind: self.kind,
            event_key: self.event_key,
            value_property: self.value_property,
            numerator_id: self.numerator_id,
            denominator_id: self.denominator_id,
            quantile: self.quantile,
            direction: self.direction,
            window_hours: self.window_hours,
            winsorize_at: self.winsorize_at,
            guardrail: self.guardrail,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

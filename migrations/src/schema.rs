//! Small builders shared by migrations, so every table gets the same id, tenant and key conventions.

use sea_orm_migration::prelude::*;

/// A table name or column name given as text.
pub(crate) fn n(name: &'static str) -> Alias {
    Alias::new(name)
}

/// `CREATE TABLE` with a `BIGINT` auto-increment `id` primary key.
pub(crate) fn table(name: &'static str) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(n(name)).col(
        ColumnDef::new(n("id"))
            .big_integer()
            .not_null()
            .auto_increment()
            .primary_key(),
    );
    t
}

/// A tenant-owned table: `id`, `tenant_id NOT NULL` referencing `tenants`, and `UNIQUE (tenant_id, id)`
/// so children can reference it with a composite key.
pub(crate) fn tenant_table(name: &'static str) -> TableCreateStatement {
    let mut t = table(name);
    t.col(ColumnDef::new(n("tenant_id")).big_integer().not_null())
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_tenant"))
                .from(n(name), n("tenant_id"))
                .to(n("tenants"), n("id"))
                .on_delete(ForeignKeyAction::Cascade),
        )
        .index(
            Index::create()
                .name(format!("ux_{name}_tenant_id"))
                .unique()
                .col(n("tenant_id"))
                .col(n("id")),
        );
    t
}

/// A composite foreign key `(tenant_id, column) → parent(tenant_id, id)`.
pub(crate) fn parent(
    table: &'static str,
    column: &'static str,
    parent: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(n(table), (n("tenant_id"), n(column)))
        .to(n(parent), (n("tenant_id"), n("id")))
        .on_delete(on_delete)
        .to_owned()
}

/// A unique index over `columns` of `table`.
pub(crate) fn unique(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("ux_{table}_{}", columns.join("_")))
        .table(n(table))
        .unique();
    for c in columns {
        i.col(n(c));
    }
    i.to_owned()
}

/// A plain index over `columns` of `table`.
pub(crate) fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("ix_{table}_{}", columns.join("_")))
        .table(n(table));
    for c in columns {
        i.col(n(c));
    }
    i.to_owned()
}

/// A non-null `BIGINT` column.
pub(crate) fn big(name: &'static str) -> ColumnDef {
    ColumnDef::new(n(name)).big_integer().not_null().to_owned()
}

/// A nullable `BIGINT` column.
pub(crate) fn big_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(n(name)).big_integer().null().to_owned()
}

/// A non-null `VARCHAR(len)` column.
pub(crate) fn text(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(n(name))
        .string_len(len)
        .not_null()
        .to_owned()
}

/// A nullable `VARCHAR(len)` column.
pub(crate) fn text_null(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(n(name)).string_len(len).null().to_owned()
}

/// A non-null long text column (descriptions, notes).
pub(crate) fn long_text(name: &'static str) -> ColumnDef {
    ColumnDef::new(n(name)).text().not_null().to_owned()
}

/// A non-null JSON column.
pub(crate) fn json(name: &'static str) -> ColumnDef {
    ColumnDef::new(n(name)).json().not_null().to_owned()
}

/// A non-null boolean column.
pub(crate) fn boolean(name: &'static str) -> ColumnDef {
    ColumnDef::new(n(name)).boolean().not_null().to_owned()
}

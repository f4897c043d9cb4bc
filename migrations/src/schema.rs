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
    i.name(index_name("ux", table, columns))
        .table(n(table))
        .unique();
    for c in columns {
        i.col(n(c));
    }
    i.to_owned()
}

/// The longest identifier every backend keeps as written (PostgreSQL cuts longer ones at 63 bytes,
/// MySQL refuses names over 64).
const MAX_IDENTIFIER: usize = 63;

/// `{prefix}_{table}_{columns}`; a longer name than [`MAX_IDENTIFIER`] keeps its first 54 bytes and
/// ends with 8 hex digits of the FNV-1a hash of the whole name, so it stays unique and fits.
pub(crate) fn index_name(prefix: &str, table: &str, columns: &[&str]) -> String {
    let name = format!("{prefix}_{table}_{}", columns.join("_"));
    if name.len() <= MAX_IDENTIFIER {
        return name;
    }
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let mut cut = MAX_IDENTIFIER - 9;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash:08x}", &name[..cut])
}

/// A plain index over `columns` of `table`.
pub(crate) fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(index_name("ix", table, columns)).table(n(table));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_fit_every_backend_and_stay_apart() {
        assert_eq!(
            index_name("ux", "metrics", &["tenant_id", "key"]),
            "ux_metrics_tenant_id_key"
        );
        let columns = [
            "tenant_id",
            "environment_id",
            "flag_id",
            "variant_id",
            "day",
        ];
        let long = index_name("ux", "exposure_daily", &columns);
        assert_eq!(long.len(), MAX_IDENTIFIER);
        assert!(long.starts_with("ux_exposure_daily_tenant_id_environment_id_flag_id_"));
        assert_ne!(long, index_name("ux", "exposure_daily", &columns[..4]));
        assert_eq!(long, index_name("ux", "exposure_daily", &columns));
    }
}

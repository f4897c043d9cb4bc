//! Test databases on SQLite, PostgreSQL and MySQL, and two-tenant fixtures.

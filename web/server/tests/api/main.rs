//! API tests: one binary, one module per area. Each test spawns the real application on a fresh
//! database (SQLite by default; PostgreSQL or MariaDB when `DATABASE_URL` names one).

mod helpers;

mod accounts;
mod analytics;
mod audit;
mod auth;
mod cluster;
mod environments;
mod evaluation;
mod flags;
mod health;
mod idp;
mod isolation;
mod keys;
mod ofrep;
mod operators;
mod plans;
mod projects;
mod proxies;
mod rbac;
mod resilience;
mod routes;
mod saml_idp;
mod scim;
mod sdk;
mod segments;
mod signup;
mod snapshot;
mod sso;
mod sso_attacks;
mod sso_domains;
mod sso_saml;
mod sso_saml_attacks;
mod sso_secrets;
mod stream;
mod tags_snapshots;
mod tcp_proxy;
mod transfer;
mod ui;
mod ui_experiment;
mod ui_history;
mod ui_settings;
mod ui_sso;
mod usage;
mod variants;

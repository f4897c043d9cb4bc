//! Test support: a fresh database per test, on the backend `DATABASE_URL` names.
//!
//! Without `DATABASE_URL` each test gets a SQLite file in its own temporary folder. With
//! `DATABASE_URL=postgres://…/<db>` or `mysql://…/<db>`, a database `t_<uuid>` is created on that server,
//! and dropped when the [`TestDb`] is dropped. Test code is identical on every backend.
//! [`TwoTenants`] migrates one and seeds tenants A and B, for tests at the service boundary.

mod fixtures;

pub use fixtures::{Tenant, TwoTenants, every_permission, system};

use std::path::PathBuf;

/// A database that exists for one test.
pub struct TestDb {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Folder(PathBuf),
    Database { server_url: String, name: String },
}

/// Which backend the tests run on, from `DATABASE_URL`.
pub fn backend_name() -> &'static str {
    match std::env::var("DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => "postgres",
        Ok(u) if u.starts_with("mysql") => "mysql",
        _ => "sqlite",
    }
}

impl TestDb {
    /// Creates an empty database (no migrations applied).
    pub async fn new() -> TestDb {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var("DATABASE_URL") {
            Ok(server_url) if !server_url.is_empty() && !server_url.starts_with("sqlite") => {
                let name = format!("t_{id}");
                flagent_storage::admin::create_database(&server_url, &name)
                    .await
                    .unwrap_or_else(|e| panic!("create test database on {server_url}: {e}"));
                TestDb {
                    url: replace_database(&server_url, &name),
                    cleanup: Cleanup::Database { server_url, name },
                }
            }
            _ => {
                let dir = std::env::temp_dir().join(format!("flagent-test-{id}"));
                std::fs::create_dir_all(&dir).expect("create test folder");
                TestDb {
                    url: format!("sqlite://{}?mode=rwc", dir.join("flagent.db").display()),
                    cleanup: Cleanup::Folder(dir),
                }
            }
        }
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// `scheme://user@host:port/<name>?query` for a server URL with any database path.
fn replace_database(server_url: &str, name: &str) -> String {
    let (base, query) = server_url
        .split_once('?')
        .map_or((server_url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_end..]
        .find('/')
        .map_or(base.len(), |i| authority_end + i);
    let mut url = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Folder(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { server_url, name } => {
                let (server_url, name) = (server_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(rt) = rt {
                        let _ =
                            rt.block_on(flagent_storage::admin::drop_database(&server_url, &name));
                    }
                })
                .join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn database_name_is_replaced_keeping_credentials_and_query() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1/test", "t_1"),
            "postgres://postgres@127.0.0.1/t_1"
        );
        assert_eq!(
            replace_database("mysql://root@127.0.0.1:3306/test?ssl-mode=disabled", "t_2"),
            "mysql://root@127.0.0.1:3306/t_2?ssl-mode=disabled"
        );
        assert_eq!(
            replace_database("postgres://u:p@h:5432", "t_3"),
            "postgres://u:p@h:5432/t_3"
        );
    }
}

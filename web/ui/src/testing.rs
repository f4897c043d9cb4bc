//! What the view models' unit tests share: a frame to render pages in.

use crate::{EnvironmentLink, ProjectLink, Shell, TenantLink};

/// A frame for `section` of tenant `acme` (project `default`; `development` and `production`),
/// seen by a viewer who may write and open the metrics and crashes pages and every Settings page.
pub(crate) fn shell(section: &'static str) -> Shell {
    Shell {
        title: "Settings".into(),
        section,
        user_email: "a@example.com".into(),
        tenants: vec![TenantLink {
            key: "acme".into(),
            name: "Acme".into(),
        }],
        tenant: "acme".into(),
        tenant_name: "Acme".into(),
        projects: vec![ProjectLink {
            key: "default".into(),
            name: "Default".into(),
        }],
        project: "default".into(),
        environments: vec![
            EnvironmentLink {
                id: 2,
                key: "development".into(),
                name: "Development".into(),
                color: "#2e7d32".into(),
            },
            EnvironmentLink {
                id: 3,
                key: "production".into(),
                name: "Production".into(),
                color: "#d14343".into(),
            },
        ],
        environment: "production".into(),
        can_write: true,
        can_toggle: true,
        can_write_flags: true,
        settings: vec![
            "metrics", "crashes", "keys", "members", "roles", "sso", "audit", "usage",
        ],
        nonce: "n0nce".into(),
        assets: "00000000",
    }
}

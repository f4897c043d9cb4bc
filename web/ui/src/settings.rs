//! The Settings pages: API keys, members and invitations, and the audit log.

use crate::{Moment, Shell};
use askama::Template;

/// One API key of the project, without its secret.
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Row id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The first characters of the key, safe to show.
    pub prefix: String,
    /// Granted scopes (`evaluate`, `client`, `read`, `write`, `admin`).
    pub scopes: Vec<String>,
    /// The environment it is bound to; `None` for every environment of the project.
    pub environment: Option<String>,
    /// Created.
    pub created_at: Moment,
    /// Last use, about a minute behind.
    pub last_used_at: Option<Moment>,
    /// Expiry.
    pub expires_at: Option<Moment>,
    /// When it was revoked.
    pub revoked_at: Option<Moment>,
    /// Whether it has expired.
    pub expired: bool,
}

/// `/ui/t/{tenant}/keys`.
#[derive(Debug, Template)]
#[template(path = "keys.html")]
pub struct KeysPage {
    /// The frame.
    pub shell: Shell,
    /// The project's keys, revoked ones included.
    pub keys: Vec<KeyRow>,
    /// Whether the viewer may create, rotate and revoke keys.
    pub can_manage: bool,
    /// The scopes a key may be given, for the create form.
    pub scopes: Vec<&'static str>,
}

/// A member of the tenant.
#[derive(Debug, Clone)]
pub struct MemberRow {
    /// The user's id.
    pub user_id: i64,
    /// Their email.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Their role's key.
    pub role: String,
    /// When they joined.
    pub joined_at: Moment,
    /// Whether this is the viewer.
    pub is_viewer: bool,
}

/// A pending invitation.
#[derive(Debug, Clone)]
pub struct InvitationRow {
    /// Its id.
    pub id: i64,
    /// The invited address.
    pub email: String,
    /// The role they will get.
    pub role: String,
    /// Who invited them.
    pub invited_by: String,
    /// Sent.
    pub created_at: Moment,
    /// Valid until.
    pub expires_at: Moment,
}

/// A role a member may be given.
#[derive(Debug, Clone)]
pub struct RoleOption {
    /// Its key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Whether it is built in (else a custom role of the tenant).
    pub built_in: bool,
}

/// `/ui/t/{tenant}/members`.
#[derive(Debug, Template)]
#[template(path = "members.html")]
pub struct MembersPage {
    /// The frame.
    pub shell: Shell,
    /// The members.
    pub members: Vec<MemberRow>,
    /// Pending invitations.
    pub invitations: Vec<InvitationRow>,
    /// Built-in and custom roles.
    pub roles: Vec<RoleOption>,
    /// Whether the viewer may invite, change roles and remove members.
    pub can_manage: bool,
}

/// One audit event.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// Its position in the tenant's chain.
    pub seq: i64,
    /// When.
    pub occurred_at: Moment,
    /// Who.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// `type` or `type:id`.
    pub resource: String,
    /// The environment's key, when the change belongs to one.
    pub environment: String,
}

/// The audit page's filters, as `GET /api/v1/audit` takes them.
#[derive(Debug, Clone, Default)]
pub struct AuditFilters {
    /// Exact actor.
    pub actor: String,
    /// Exact action, or a prefix ending in `.`.
    pub action: String,
    /// `type` or `type:id`.
    pub resource: String,
    /// From (RFC 3339, inclusive).
    pub from: String,
    /// Until (RFC 3339, exclusive).
    pub to: String,
}

/// `/ui/t/{tenant}/audit`.
#[derive(Debug, Template)]
#[template(path = "audit.html")]
pub struct AuditLogPage {
    /// The frame.
    pub shell: Shell,
    /// The events, newest first.
    pub events: Vec<AuditRow>,
    /// The filters applied.
    pub filters: AuditFilters,
    /// Why the filters were refused (the API's message), if they were.
    pub error: Option<String>,
    /// The link to the next (older) page, if there is one.
    pub older: Option<String>,
}

impl AuditLogPage {
    /// Whether any filter is set.
    pub fn filtered(&self) -> bool {
        let f = &self.filters;
        [&f.actor, &f.action, &f.resource, &f.from, &f.to]
            .iter()
            .any(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::shell;
    use chrono::{DateTime, Utc};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_keys_page_escapes_names_and_shows_controls_only_to_managers() {
        let page = KeysPage {
            shell: shell("keys"),
            keys: vec![KeyRow {
                id: 7,
                name: "<b>ci</b>".into(),
                prefix: "flg_abcd".into(),
                scopes: vec!["read".into()],
                environment: None,
                created_at: Moment::parse("2026-11-24T10:00:00.000Z", now()),
                last_used_at: None,
                expires_at: None,
                revoked_at: None,
                expired: false,
            }],
            can_manage: false,
            scopes: vec!["evaluate", "read"],
        };
        let html = page.render().unwrap();
        assert!(html.contains("&#60;b&#62;ci&#60;/b&#62;") && !html.contains("<b>ci"));
        assert!(html.contains(r#"aria-current="page">API keys"#));
        assert!(html.contains(
            r#"<time datetime="2026-11-24T10:00:00Z" title="2026-11-24 10:00:00 UTC">just now</time>"#
        ));
        assert!(!html.contains("data-api=\"/api/v1/keys"));
        let manager = KeysPage {
            can_manage: true,
            ..page
        };
        let html = manager.render().unwrap();
        assert!(html.contains(r#"data-api="/api/v1/keys""#));
        assert!(html.contains(r#"data-api="/api/v1/keys/7/rotate""#));
        assert!(html.contains(r#"data-api="/api/v1/keys/7" data-method="DELETE""#));
    }

    #[test]
    fn the_audit_page_keeps_its_filters_in_the_form() {
        let page = AuditLogPage {
            shell: shell("audit"),
            events: vec![AuditRow {
                seq: 1,
                occurred_at: Moment::parse("2026-11-24T09:57:00Z", now()),
                actor: "user:a@example.com".into(),
                action: "flag.create".into(),
                resource: "flag:1".into(),
                environment: String::new(),
            }],
            filters: AuditFilters {
                action: "flag.".into(),
                ..AuditFilters::default()
            },
            error: None,
            older: None,
        };
        assert!(page.filtered());
        let html = page.render().unwrap();
        assert!(html.contains(r#"value="flag.""#));
        assert!(html.contains("flag.create"));
        assert!(html.contains(r#"title="2026-11-24 09:57:00 UTC">3 minutes ago</time>"#));
    }
}

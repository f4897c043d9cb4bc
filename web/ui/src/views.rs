//! Page view models: each is a template, filled in by a page handler and rendered to HTML.

use askama::Template;

/// A tenant the viewer belongs to, for the tenant switcher.
#[derive(Debug, Clone)]
pub struct TenantLink {
    /// The tenant's key, as in `/ui/t/{key}/…`.
    pub key: String,
    /// Display name.
    pub name: String,
}

/// A project of the current tenant, for the project switcher.
#[derive(Debug, Clone)]
pub struct ProjectLink {
    /// The project's key.
    pub key: String,
    /// Display name.
    pub name: String,
}

/// An environment of the current project.
#[derive(Debug, Clone)]
pub struct EnvironmentLink {
    /// Row id, which names its colour class (`env-{id}`).
    pub id: i64,
    /// The environment's key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// `#rrggbb`, as validated when saved.
    pub color: String,
}

/// What every signed-in page shows around its content: who is signed in, where they are, and what
/// they may do there.
#[derive(Debug, Clone)]
pub struct Shell {
    /// The page's title.
    pub title: String,
    /// Which navigation entry is current (`flags`, `debug`, `keys`, `members`, `audit`).
    pub section: &'static str,
    /// The signed-in user's email.
    pub user_email: String,
    /// The tenants they belong to.
    pub tenants: Vec<TenantLink>,
    /// The current tenant's key.
    pub tenant: String,
    /// The current tenant's name.
    pub tenant_name: String,
    /// The tenant's projects.
    pub projects: Vec<ProjectLink>,
    /// The current project's key.
    pub project: String,
    /// The current project's environments, in order.
    pub environments: Vec<EnvironmentLink>,
    /// The current environment's key.
    pub environment: String,
    /// Whether the viewer may change flags in the current environment.
    pub can_write: bool,
    /// A fresh nonce for this response's `<style>` element.
    pub nonce: String,
    /// [`crate::asset_version`].
    pub assets: &'static str,
}

impl Shell {
    /// A link to a page of the current tenant that keeps the project and environment.
    pub fn link(&self, page: &str) -> String {
        format!(
            "/ui/t/{}/{}?project={}&env={}",
            enc(&self.tenant),
            page,
            enc(&self.project),
            enc(&self.environment)
        )
    }

    /// The current environment, if the project has it.
    pub fn current_environment(&self) -> Option<&EnvironmentLink> {
        self.environments.iter().find(|e| e.key == self.environment)
    }

    /// A link to the same page in another environment.
    pub fn in_environment(&self, page: &str, environment: &str) -> String {
        format!(
            "/ui/t/{}/{}?project={}&env={}",
            enc(&self.tenant),
            page,
            enc(&self.project),
            enc(environment)
        )
    }
}

/// Percent-encodes a path segment or query value (keys are letters, digits and `_ - / . :`).
fn enc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// `/ui/login`.
#[derive(Debug, Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// Where to go after signing in (a path under `/ui`).
    pub next: String,
    /// Whether self-service signup is open.
    pub signup_enabled: bool,
    /// [`crate::asset_version`].
    pub assets: &'static str,
}

/// One flag in the flags list.
#[derive(Debug, Clone)]
pub struct FlagRow {
    /// The flag's id.
    pub id: i64,
    /// Its key.
    pub key: String,
    /// Its description.
    pub description: String,
    /// Its tag values.
    pub tags: Vec<String>,
    /// Whether it is on, per environment of the project, in the shell's order.
    pub enabled: Vec<bool>,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
    /// Who changed it last.
    pub updated_by: String,
}

/// `/ui/t/{tenant}/flags`.
#[derive(Debug, Template)]
#[template(path = "flags.html")]
pub struct FlagsPage {
    /// The frame.
    pub shell: Shell,
    /// The flags shown (after the search and the tag filter).
    pub flags: Vec<FlagRow>,
    /// How many flags the project has in all.
    pub total: usize,
    /// The search text.
    pub query: String,
    /// The tag filter (`""` for none).
    pub tag: String,
    /// Every tag used in the project, for the filter.
    pub tags: Vec<String>,
}

/// A page that could not be shown: not found, or not allowed.
#[derive(Debug, Template)]
#[template(path = "problem.html")]
pub struct ProblemPage {
    /// The frame, when the viewer is signed in to a tenant.
    pub shell: Option<Shell>,
    /// The HTTP status.
    pub status: u16,
    /// A heading.
    pub heading: String,
    /// What happened, for the viewer.
    pub message: String,
    /// [`crate::asset_version`].
    pub assets: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell() -> Shell {
        Shell {
            title: "Flags".into(),
            section: "flags",
            user_email: "a@example.com".into(),
            tenants: vec![TenantLink {
                key: "acme".into(),
                name: "Acme <Inc>".into(),
            }],
            tenant: "acme".into(),
            tenant_name: "Acme <Inc>".into(),
            projects: vec![ProjectLink {
                key: "default".into(),
                name: "Default".into(),
            }],
            project: "default".into(),
            environments: vec![EnvironmentLink {
                id: 3,
                key: "production".into(),
                name: "Production".into(),
                color: "#d14343".into(),
            }],
            environment: "production".into(),
            can_write: false,
            nonce: "n0nce".into(),
            assets: "00000000",
        }
    }

    #[test]
    fn links_keep_the_project_and_environment_and_encode_keys() {
        let mut shell = shell();
        shell.project = "web/app".into();
        assert_eq!(
            shell.link("flags"),
            "/ui/t/acme/flags?project=web%2Fapp&env=production"
        );
    }

    #[test]
    fn pages_escape_what_users_wrote_and_hide_edit_controls_from_readers() {
        let page = FlagsPage {
            shell: shell(),
            flags: vec![FlagRow {
                id: 1,
                key: "new-checkout".into(),
                description: "<script>alert(1)</script>".into(),
                tags: vec!["web".into()],
                enabled: vec![true],
                updated_at: "2026-11-24T10:00:00Z".into(),
                updated_by: "user:a@example.com".into(),
            }],
            total: 1,
            query: String::new(),
            tag: String::new(),
            tags: vec!["web".into()],
        };
        let html = page.render().unwrap();
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("Acme &#60;Inc&#62;"));
        assert!(html.contains(r#"<style nonce="n0nce">"#));
        assert!(!html.contains("New flag"), "a reader sees no create form");
        let writer = FlagsPage {
            shell: Shell {
                can_write: true,
                ..page.shell.clone()
            },
            ..page
        };
        assert!(writer.render().unwrap().contains("New flag"));
    }
}

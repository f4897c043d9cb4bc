//! Page view models: each is a template, filled in by a page handler and rendered to HTML.

use crate::Moment;
use crate::constraints::{ConstraintEditor, OperatorChoice, ValueKind};
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
    /// Which navigation entry is current (`flags`, `debug`, `metrics`, `crashes`, `keys`, `members`,
    /// `roles`, `sso`, `audit`, `usage`).
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
    /// Whether the viewer may change flags in the current environment (`flags:write` there).
    pub can_write: bool,
    /// Whether the viewer may turn flags on and off in the current environment (`flags:toggle`
    /// there, which `flags:write` includes).
    pub can_toggle: bool,
    /// Whether the viewer may change what every environment shares (create flags, their own fields
    /// and variants, restore a version): `flags:write` in every environment.
    pub can_write_flags: bool,
    /// The pages beyond Flags and the Debug Console that the viewer's role opens: `metrics` and
    /// `crashes`, and the Settings pages (`keys`, `members`, `roles`, `sso`, `audit`, `usage`).
    pub settings: Vec<&'static str>,
    /// A fresh nonce for this response's `<style>` element.
    pub nonce: String,
    /// [`crate::asset_version`].
    pub assets: &'static str,
}

impl Shell {
    /// Whether the viewer's role opens the page `page` (`metrics`, `crashes` or a Settings page).
    pub fn opens(&self, page: &str) -> bool {
        self.settings.contains(&page)
    }

    /// Whether the viewer's role opens any Settings page (so the frame shows that heading).
    pub fn has_settings(&self) -> bool {
        self.settings
            .iter()
            .any(|page| !matches!(*page, "metrics" | "crashes"))
    }

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
pub(crate) fn enc(text: &str) -> String {
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
    /// Whether the visitor just confirmed their email address.
    pub verified: bool,
    /// Whether the visitor just changed their password.
    pub reset: bool,
    /// Why a single sign-on came back refused, and the support code the server logged with it.
    pub sso_error: Option<(&'static str, String)>,
    /// [`crate::asset_version`].
    pub assets: &'static str,
}

/// `/ui/signup`.
#[derive(Debug, Template)]
#[template(path = "signup.html")]
pub struct SignupPage {
    /// [`crate::asset_version`].
    pub assets: &'static str,
}

/// A one-form account page: confirming an email address, asking for a reset link, or setting a new
/// password with a mailed token.
#[derive(Debug, Template)]
#[template(path = "token.html")]
pub struct TokenPage {
    /// The heading.
    pub heading: &'static str,
    /// What the page does.
    pub intro: &'static str,
    /// The API path the form posts to.
    pub api: &'static str,
    /// Where to go after it succeeds.
    pub next: &'static str,
    /// The mailed token (`""` when the form asks for none).
    pub token: String,
    /// Whether the form asks for an email address.
    pub asks_email: bool,
    /// Whether the form asks for the person's name.
    pub asks_name: bool,
    /// Whether the form asks for a new password.
    pub asks_password: bool,
    /// The button's text.
    pub action: &'static str,
    /// [`crate::asset_version`].
    pub assets: &'static str,
}

/// A page that only says something (a mail was sent).
#[derive(Debug, Template)]
#[template(path = "notice.html")]
pub struct NoticePage {
    /// The heading.
    pub heading: &'static str,
    /// The message.
    pub message: &'static str,
    /// [`crate::asset_version`].
    pub assets: &'static str,
}

/// What an identity provider asserted in an administrator's test sign-in.
#[derive(Debug, Template)]
#[template(path = "sso-test.html")]
pub struct SsoTestPage {
    /// The provider's name.
    pub provider: String,
    /// The subject the person would be linked by.
    pub subject: String,
    /// The email address, or empty.
    pub email: String,
    /// Whether the email counts as verified.
    pub email_verified: bool,
    /// The display name, or empty.
    pub name: String,
    /// The role a new member would get.
    pub role: String,
    /// Each claim or attribute with its values joined by commas, by name.
    pub assertions: Vec<(String, String)>,
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
    /// When it last changed.
    pub updated_at: Moment,
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

/// A variant as the flag page shows it.
#[derive(Debug, Clone)]
pub struct VariantView {
    /// Its id.
    pub id: i64,
    /// Its key.
    pub key: String,
    /// Its attachment as indented JSON.
    pub attachment: String,
}

/// A constraint as the flag page shows it.
#[derive(Debug, Clone)]
pub struct ConstraintView {
    /// Its id.
    pub id: i64,
    /// The property path.
    pub property: String,
    /// The operator.
    pub operator: String,
    /// The typed literal as written.
    pub value: String,
    /// Its edit form's fields.
    pub editor: ConstraintEditor,
}

/// One variant's share of a segment (0 when the segment gives it none).
#[derive(Debug, Clone)]
pub struct ShareView {
    /// The variant's id.
    pub variant_id: i64,
    /// The variant's key.
    pub variant_key: String,
    /// Percent of the segment's entities.
    pub percent: i64,
}

/// A segment as the flag page shows it.
#[derive(Debug, Clone)]
pub struct SegmentView {
    /// Its id.
    pub id: i64,
    /// Its description.
    pub description: String,
    /// Percent of matching entities it serves.
    pub rollout_percent: i64,
    /// Its constraints, all of which must hold.
    pub constraints: Vec<ConstraintView>,
    /// Every variant's share, in the flag's variant order.
    pub shares: Vec<ShareView>,
    /// The add-constraint form's fields.
    pub new_constraint: ConstraintEditor,
}

/// One prerequisite of the flag: another flag that must yield a variant (a given one, or any) first.
#[derive(Debug, Clone)]
pub struct PrerequisiteView {
    /// Its position in the flag's `dependsOn` list.
    pub index: usize,
    /// The flag it names.
    pub flag_key: String,
    /// That flag's id, when it exists (for the link).
    pub flag_id: Option<i64>,
    /// The variant it must yield; any variant when `None`.
    pub variant_key: Option<String>,
    /// The whole list without this one, as JSON (the remove form sends it).
    pub without: String,
}

/// A flag that may be chosen as a prerequisite, with its variants' keys.
#[derive(Debug, Clone)]
pub struct PrerequisiteChoice {
    /// Its key.
    pub key: String,
    /// Its variants' keys, in the flag's order.
    pub variants: Vec<String>,
}

/// The flag in one environment of the project, compared with the page's environment.
#[derive(Debug, Clone)]
pub struct EnvironmentState {
    /// Row id (its colour class).
    pub id: i64,
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Whether the flag is on there.
    pub enabled: bool,
    /// How many segments it has there.
    pub segments: usize,
    /// Whether its segments, constraints and distributions there equal the page environment's.
    pub same_targeting: bool,
    /// Whether this is the page's environment.
    pub current: bool,
}

/// `/ui/t/{tenant}/flags/{id}`: one flag in the page's environment.
#[derive(Debug, Template)]
#[template(path = "flag.html")]
pub struct FlagPage {
    /// The frame.
    pub shell: Shell,
    /// The flag's id.
    pub id: i64,
    /// Its key.
    pub key: String,
    /// Its description.
    pub description: String,
    /// Whether it is on in this environment.
    pub enabled: bool,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its variants.
    pub variants: Vec<VariantView>,
    /// Its segments here, in evaluation order.
    pub segments: Vec<SegmentView>,
    /// The flag in every environment of the project, compared with this one.
    pub environments: Vec<EnvironmentState>,
    /// When it last changed.
    pub updated_at: Moment,
    /// Who changed it last.
    pub updated_by: String,
    /// Whether changes here ask for confirmation first (the `production` environment).
    pub guarded: bool,
    /// The operators, for the constraint editor.
    pub operators: &'static [OperatorChoice],
    /// The flag's version, sent back with changes to its whole prerequisite list so a stale page
    /// cannot overwrite a newer list.
    pub version: i64,
    /// The flags that must yield a variant before this one is evaluated, in order.
    pub prerequisites: Vec<PrerequisiteView>,
    /// The project's other flags, by key, for the prerequisite editor.
    pub prerequisite_choices: Vec<PrerequisiteChoice>,
    /// The variant OFREP and the SDKs answer with when none is picked.
    pub default_variant: Option<String>,
}

impl FlagPage {
    /// The flag's page, relative to the tenant (for [`Shell::in_environment`]).
    pub fn page(&self) -> String {
        format!("flags/{}", self.id)
    }

    /// The flag's API path.
    pub fn api(&self) -> String {
        format!("/api/v1/flags/{}", self.id)
    }

    /// The flag's history page, relative to the tenant.
    pub fn history(&self) -> String {
        format!("flags/{}/history", self.id)
    }

    /// The flag's experiments view, relative to the tenant.
    pub fn experiment(&self) -> String {
        format!("flags/{}/experiment", self.id)
    }

    /// Every kind of constraint value, for the value type select.
    pub fn value_kinds(&self) -> &'static [ValueKind] {
        &ValueKind::ALL
    }

    /// A link to another flag's page in this environment.
    pub fn flag_link(&self, id: &i64) -> String {
        self.shell.link(&format!("flags/{id}"))
    }

    /// Whether `key` is the flag's default variant.
    pub fn is_default(&self, key: &str) -> bool {
        self.default_variant.as_deref() == Some(key)
    }

    /// The question asked before a change here, or `""` when none is asked.
    pub fn confirm(&self, what: &str) -> String {
        if self.guarded {
            let environment = self
                .shell
                .current_environment()
                .map_or(self.shell.environment.as_str(), |e| e.name.as_str());
            format!("{what} in {environment}?")
        } else {
            String::new()
        }
    }
}

/// A flag the Debug Console can pick.
#[derive(Debug, Clone)]
pub struct FlagChoice {
    /// Its key.
    pub key: String,
    /// Whether it is the one picked.
    pub selected: bool,
}

/// One flag's result in the Debug Console.
#[derive(Debug, Clone)]
pub struct DebugResult {
    /// The flag's key.
    pub flag_key: String,
    /// The flag's id, when found.
    pub flag_id: Option<i64>,
    /// The variant picked.
    pub variant_key: Option<String>,
    /// Its attachment as indented JSON.
    pub attachment: Option<String>,
    /// The engine's reason (`TARGETING_MATCH`, `SPLIT`, …).
    pub reason: &'static str,
    /// The segment that matched.
    pub segment_id: Option<i64>,
    /// The engine's summary line.
    pub summary: String,
    /// Per segment visited, in order.
    pub segments: Vec<SegmentLog>,
}

/// What happened in one segment of an evaluation.
#[derive(Debug, Clone)]
pub struct SegmentLog {
    /// The segment's id.
    pub segment_id: i64,
    /// The engine's message: which constraint failed and why, or the bucket and the variant window.
    pub message: String,
    /// Whether this segment decided the result.
    pub matched: bool,
}

/// `/ui/t/{tenant}/debug`: evaluate flags for an entity and context, with the engine's reasons.
#[derive(Debug, Template)]
#[template(path = "debug.html")]
pub struct DebugPage {
    /// The frame.
    pub shell: Shell,
    /// The flags to pick from (an empty key means every flag).
    pub flags: Vec<FlagChoice>,
    /// Whether every flag was asked for.
    pub all: bool,
    /// The entity id asked for.
    pub entity_id: String,
    /// The context as typed.
    pub context: String,
    /// Why the request could not be evaluated (bad JSON, say).
    pub problem: Option<String>,
    /// The results, once asked.
    pub results: Vec<DebugResult>,
    /// Whether an evaluation was asked for.
    pub asked: bool,
}

impl DebugPage {
    /// The browser storage key of the recent contexts: one list per tenant, project and environment.
    pub fn recent_key(&self) -> String {
        format!(
            "flagent.debug.recent:{}:{}:{}",
            self.shell.tenant, self.shell.project, self.shell.environment
        )
    }

    /// Whether the form's entity and context were just evaluated (and so are worth remembering).
    pub fn evaluated(&self) -> bool {
        self.asked && self.problem.is_none()
    }
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
            can_toggle: false,
            can_write_flags: false,
            settings: Vec::new(),
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
                updated_at: Moment::parse("2026-11-24T10:00:00Z", chrono::Utc::now()),
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
                can_toggle: true,
                can_write_flags: true,
                ..page.shell.clone()
            },
            ..page
        };
        assert!(writer.render().unwrap().contains("New flag"));
    }
}

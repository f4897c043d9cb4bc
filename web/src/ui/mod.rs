//! The hosted admin UI under `/ui`: pages rendered on the server from the domain services, and the
//! static assets they load.
//!
//! Invariants: a page only reads. Every change a page offers is a form that `app.js` submits to the
//! JSON API with the session's CSRF token, so the API's validation, role checks and audit entries apply
//! unchanged, and its error messages are what the form shows. Each page is authorised like an API read
//! in the tenant its path names; edit controls are rendered only when the viewer's role grants the
//! change in the page's environment. Every page answers with a strict Content-Security-Policy: scripts
//! and styles from this server only, plus the one `<style>` element carrying the response's nonce.

mod account;
mod crashes;
mod experiment;
mod flag;
mod funnel;
mod history;
mod metrics;
mod page;
mod results;
mod roles;
mod settings;
mod sso;
mod usage;

use crate::state::AppState;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::web::{self, Data, Path, Query, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use flagent_flags::FlagFilter;
use flagent_types::EnvironmentId;
use flagent_ui::{FlagRow, FlagsPage, LoginPage, Moment, asset, asset_version};
use page::{PageQuery, Refusal, Viewer, html};
use serde::Deserialize;
use std::collections::BTreeSet;

/// Registers `/` (which sends browsers to the UI) and the `/ui` pages.
pub(crate) fn configure_ui(cfg: &mut ServiceConfig) {
    cfg.route("/", web::get().to(root))
        .route("/verify-email", web::get().to(account::verify_email))
        .route("/reset-password", web::get().to(account::reset_password))
        .route(
            "/accept-invitation",
            web::get().to(account::accept_invitation),
        )
        .service(
            web::scope("/ui")
                .route("", web::get().to(home))
                .route("/login", web::get().to(login))
                .route("/signup", web::get().to(account::signup))
                .route("/signup/sent", web::get().to(account::signup_sent))
                .route("/forgot-password", web::get().to(account::forgot_password))
                .route("/forgot-password/sent", web::get().to(account::reset_sent))
                .route("/switch", web::get().to(switch))
                .route("/static/{name}", web::get().to(static_asset))
                .route("/t/{tenant}/flags", web::get().to(flags))
                .route("/t/{tenant}/flags/{id}", web::get().to(flag::flag))
                .route(
                    "/t/{tenant}/flags/{id}/history",
                    web::get().to(history::history),
                )
                .route(
                    "/t/{tenant}/flags/{id}/experiment",
                    web::get().to(experiment::experiment),
                )
                .route(
                    "/t/{tenant}/flags/{id}/funnel",
                    web::get().to(funnel::funnel),
                )
                .route("/t/{tenant}/debug", web::get().to(flag::debug))
                .route("/t/{tenant}/metrics", web::get().to(metrics::metrics))
                .route("/t/{tenant}/crashes", web::get().to(crashes::crashes))
                .route("/t/{tenant}/crashes/{id}", web::get().to(crashes::crash))
                .route("/t/{tenant}/keys", web::get().to(settings::keys))
                .route("/t/{tenant}/members", web::get().to(settings::members))
                .route("/t/{tenant}/roles", web::get().to(roles::roles))
                .route("/t/{tenant}/sso", web::get().to(sso::sso))
                .route(
                    "/t/{tenant}/sso/providers/{id}",
                    web::get().to(sso::provider),
                )
                .route("/t/{tenant}/usage", web::get().to(usage::usage))
                .route("/t/{tenant}/audit", web::get().to(settings::audit)),
        );
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

async fn root() -> HttpResponse {
    see_other("/ui")
}

/// The first tenant's flags for a signed-in user; the sign-in page otherwise.
async fn home(req: HttpRequest, state: Data<AppState>) -> Result<HttpResponse, Refusal> {
    let tenants = page::tenants_of_viewer(&req, &state).await?;
    match tenants.first() {
        Some(first) => Ok(see_other(&format!("/ui/t/{first}/flags"))),
        None => Err(Refusal::problem(
            403,
            "No organisation",
            "You are not a member of any organisation. Ask an administrator for an invitation.",
        )),
    }
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    #[serde(default)]
    verified: Option<String>,
    #[serde(default)]
    reset: Option<String>,
    /// The code of a refused single sign-on.
    #[serde(default)]
    sso_error: Option<String>,
    /// The support code logged with it.
    #[serde(default)]
    support: Option<String>,
}

/// The page a test sign-in ends on: what the identity provider asserted.
pub(crate) fn sso_test_page(tested: flagent_auth::sso::Tested) -> HttpResponse {
    html(
        &flagent_ui::SsoTestPage {
            provider: tested.provider,
            subject: tested.subject,
            email: tested.email.unwrap_or_default(),
            email_verified: tested.email_verified,
            name: tested.name.unwrap_or_default(),
            role: tested.role,
            assertions: tested
                .assertions
                .into_iter()
                .map(|(claim, values)| (claim, values.join(", ")))
                .collect(),
            assets: asset_version(),
        },
        None,
    )
}

/// What the sign-in page says about a refused single sign-on, by its code (the details are in the
/// organisation's audit log).
fn sso_reason(code: &str) -> &'static str {
    match code {
        "sso_state_mismatch" => {
            "That sign-in was started in another browser or has expired. Please try again."
        }
        "sso_provider_disabled" => "Your organisation's identity provider is switched off here.",
        "sso_not_configured" => "This single sign-on link is not set up.",
        "sso_idp_unavailable" => {
            "Your identity provider could not be reached. Please try again shortly."
        }
        "sso_idp_refused" => "Your identity provider did not sign you in.",
        "sso_account_refused" => {
            "Your account cannot be signed in this way. Ask your administrator."
        }
        "sso_replayed" => "That sign-in was used already. Please sign in again.",
        "sso_expired" => "That sign-in took too long and expired. Please try again.",
        "plan_limit_reached" => "Single sign-on is not included in your organisation's plan.",
        _ => "Single sign-on did not succeed. Please try again or ask your administrator.",
    }
}

async fn login(state: Data<AppState>, query: Query<LoginQuery>) -> HttpResponse {
    let query = query.into_inner();
    // Only paths under /ui: an absolute URL here would make the page an open redirect. No braces
    // either: app.js fills `{field}` in a form's next address from the API's answer, which for the
    // sign-in form holds the session token.
    let next = query
        .next
        .filter(|n| n.starts_with("/ui") && !n.starts_with("//") && !n.contains(['{', '}']))
        .unwrap_or_else(|| "/ui".to_owned());
    html(
        &LoginPage {
            next,
            signup_enabled: state.signup.enabled,
            verified: query.verified.is_some(),
            reset: query.reset.is_some(),
            sso_error: query.sso_error.as_deref().map(|code| {
                let support: String = query
                    .support
                    .unwrap_or_default()
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(16)
                    .collect();
                (sso_reason(code), support)
            }),
            assets: asset_version(),
        },
        None,
    )
}

#[derive(Deserialize)]
struct SwitchQuery {
    tenant: String,
}

/// The tenant switcher's target (a GET form, so it works without script).
async fn switch(query: Query<SwitchQuery>) -> HttpResponse {
    let tenant: String = query
        .tenant
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    see_other(&format!("/ui/t/{tenant}/flags"))
}

async fn static_asset(name: Path<String>) -> HttpResponse {
    match asset(&name) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header(CacheControl(vec![
                CacheDirective::Public,
                CacheDirective::MaxAge(31_536_000),
                CacheDirective::Extension("immutable".into(), None),
            ]))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(asset.body),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such file"),
    }
}

#[derive(Deserialize)]
struct FlagsQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    q: String,
    #[serde(default)]
    tag: String,
}

/// The project's flags in the current environment, with each one's state in every environment.
async fn flags(
    req: HttpRequest,
    state: Data<AppState>,
    tenant: Path<String>,
    query: Query<FlagsQuery>,
) -> Result<HttpResponse, Refusal> {
    let query = query.into_inner();
    let viewer = Viewer::of(&req, &state, &tenant, &query.page, "flags", "Flags").await?;
    let all = state
        .flags
        .list_flags(&viewer.scope, &FlagFilter::default())
        .await
        .map_err(|e| Refusal::from_api(e.into()))?;
    let cache = state.flags.cache();
    let snapshots: Vec<_> = viewer
        .shell
        .environments
        .iter()
        .map(|e| cache.snapshot(viewer.scope.tenant_id(), EnvironmentId(e.id)))
        .collect();
    let tags: BTreeSet<String> = all
        .iter()
        .flat_map(|f| f.tags.iter().map(|t| t.value.clone()))
        .collect();
    let needle = query.q.trim().to_lowercase();
    let total = all.len();
    let now = chrono::Utc::now();
    let flags = all
        .into_iter()
        .filter(|f| {
            needle.is_empty()
                || f.key.to_lowercase().contains(&needle)
                || f.description.to_lowercase().contains(&needle)
        })
        .filter(|f| query.tag.is_empty() || f.tags.iter().any(|t| t.value == query.tag))
        .map(|f| FlagRow {
            enabled: snapshots
                .iter()
                .map(|s| {
                    s.as_ref()
                        .and_then(|s| s.flag_by_id(f.id))
                        .is_some_and(|c| c.enabled())
                })
                .collect(),
            id: f.id,
            key: f.key,
            description: f.description,
            tags: f.tags.into_iter().map(|t| t.value).collect(),
            updated_at: Moment::parse(&f.updated_at, now),
            updated_by: f.updated_by,
        })
        .collect();
    let nonce = viewer.shell.nonce.clone();
    Ok(html(
        &FlagsPage {
            shell: viewer.shell,
            flags,
            total,
            query: query.q,
            tag: query.tag,
            tags: tags.into_iter().collect(),
        },
        Some(&nonce),
    ))
}

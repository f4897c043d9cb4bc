//! The OpenAPI 3.1 document, generated from the handlers' annotations.
//!
//! Each operation's `security` names the API key scope (`api_key`) and the role permission (`session`) it
//! needs; tests read it to enumerate routes and check every role against every route.

use crate::{
    account, analytics, audit, crashes, evaluation, flags, keys, members, ofrep, operators, ops,
    projects, scim, snapshot, sso, stream, transfer, usage,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Flagent", description = "Feature flags and experimentation. Flagr-compatible management and evaluation API."),
    paths(
        flags::find_flags, flags::create_flag, flags::get_flag, flags::put_flag, flags::delete_flag,
        flags::set_flag_enabled, flags::restore_flag, flags::duplicate_flag, flags::copy_flag_between_environments, flags::compare_flag_environments, flags::get_flag_snapshots, flags::restore_flag_snapshot,
        flags::get_entity_types, flags::find_flag_tags, flags::create_flag_tag, flags::delete_flag_tag,
        flags::find_all_tags, flags::find_variants, flags::create_variant, flags::put_variant, flags::delete_variant,
        flags::find_segments, flags::create_segment, flags::reorder_segments, flags::put_segment, flags::delete_segment,
        flags::find_constraints, flags::create_constraint, flags::put_constraint, flags::delete_constraint,
        flags::find_distributions, flags::put_distributions,
        evaluation::post_evaluation, evaluation::get_evaluation, evaluation::post_evaluation_batch,
        evaluation::get_evaluation_batch, snapshot::get_snapshot, stream::get_stream,
        ofrep::evaluate_flag, ofrep::evaluate_flags,
        transfer::export_gitops, transfer::export_eval_cache, transfer::import_flags,
        audit::list_audit_events, audit::verify_audit_log, audit::export_audit_log,
        keys::create_key, keys::list_keys, keys::get_key, keys::rotate_key, keys::revoke_key,
        projects::list_projects, projects::create_project, projects::get_project,
        projects::list_environments, projects::create_environment, projects::update_environment,
        projects::reorder_environments, projects::archive_environment,
        account::signup, account::verify_email, account::login, account::logout, account::refresh,
        account::me, account::forgot_password, account::reset_password, account::accept_invitation,
        members::list_members, members::change_member_role, members::remove_member,
        members::list_invitations, members::create_invitation, members::revoke_invitation,
        members::list_roles, members::create_role, members::update_role, members::delete_role,
        operators::create_tenant, operators::list_tenants, operators::get_tenant, operators::set_tenant_status,
        operators::set_tenant_plan, operators::delete_tenant,
        usage::get_usage,
        analytics::post_events, analytics::post_exposures, analytics::list_metrics,
        analytics::create_metric, analytics::get_metric, analytics::put_metric, analytics::delete_metric,
        analytics::get_experiment, analytics::put_experiment, analytics::get_results,
        analytics::get_funnel, analytics::get_event_settings, analytics::put_event_settings,
        crashes::post_crashes, crashes::list_crash_groups, crashes::get_crash_group,
        sso::list_providers, sso::create_provider, sso::get_provider, sso::put_provider, sso::delete_provider,
        sso::test_sign_in,
        sso::list_domains, sso::claim_domain, sso::verify_domain, sso::remove_domain,
        sso::get_enforcement, sso::put_enforcement, sso::discover,
        sso::start_sign_in, sso::oidc_callback, sso::saml_metadata, sso::saml_acs,
        scim::service_provider_config, scim::schemas, scim::schema, scim::resource_types,
        scim::resource_type, scim::list_users, scim::create_user, scim::get_user, scim::replace_user,
        scim::patch_user, scim::delete_user, scim::list_groups, scim::create_group, scim::get_group,
        scim::replace_group, scim::patch_group, scim::delete_group, scim::search_users,
        scim::search_groups, scim::search_all,
        ops::health, ops::info,
    ),
    modifiers(&Security)
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A session token from POST /api/v1/auth/login, or the flagent_session cookie with X-CSRF-Token on requests that change data. Select the tenant with X-Tenant-ID and the project with X-Project."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "x_api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

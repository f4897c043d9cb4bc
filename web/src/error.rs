//! `ApiError` and the one table of machine-readable error codes, their HTTP statuses and docs anchors.
//!
//! Every error body is `{"error": {"code", "message", "field"?, "problems"?, "limit"?, "plan"?,
//! "allowed"?}, "message"}`; the top-level `message` keeps Flagr clients, which read it, working.
//! `plan_limit_reached` (402) names the limit (`limit`: `projects`, `environments`, `flags`, `seats`),
//! the plan's key (`plan`) and how many it allows (`allowed`); its message says the same in words.
//! 5xx bodies are opaque: the cause is logged once by the root span, never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use flagent_auth::AuthError;
use flagent_flags::{FlagsError, ImportProblem, Resource};
use flagent_types::LimitReached;
use serde::Serialize;
use std::fmt;

macro_rules! error_codes {
    ($($variant:ident => $code:literal, $status:ident;)*) => {
        /// Every machine-readable error code the API answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            /// Every code, for the documentation table and its test.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),* }
            }

            /// The HTTP status it is sent with.
            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status),* }
            }
        }
    };
}

error_codes! {
    InvalidJson => "invalid_json", BAD_REQUEST;
    InvalidQuery => "invalid_query", BAD_REQUEST;
    InvalidPath => "invalid_path", BAD_REQUEST;
    InvalidHeader => "invalid_header", BAD_REQUEST;
    ValidationFailed => "validation_failed", BAD_REQUEST;
    EmptySelector => "empty_selector", BAD_REQUEST;
    ImportInvalid => "import_invalid", UNPROCESSABLE_ENTITY;
    InvalidToken => "invalid_token", BAD_REQUEST;
    TenantRequired => "tenant_required", BAD_REQUEST;
    MissingCredentials => "missing_credentials", UNAUTHORIZED;
    InvalidApiKey => "invalid_api_key", UNAUTHORIZED;
    InvalidCredentials => "invalid_credentials", UNAUTHORIZED;
    InvalidSession => "invalid_session", UNAUTHORIZED;
    PlanLimitReached => "plan_limit_reached", PAYMENT_REQUIRED;
    SsoStateMismatch => "sso_state_mismatch", BAD_REQUEST;
    SsoNonceMismatch => "sso_nonce_mismatch", BAD_REQUEST;
    SsoInvalidToken => "sso_invalid_token", UNAUTHORIZED;
    SsoInvalidSignature => "sso_invalid_signature", UNAUTHORIZED;
    SsoInvalidAssertion => "sso_invalid_assertion", UNAUTHORIZED;
    SsoReplayed => "sso_replayed", UNAUTHORIZED;
    SsoExpired => "sso_expired", UNAUTHORIZED;
    SsoIdpRefused => "sso_idp_refused", UNAUTHORIZED;
    SsoProviderDisabled => "sso_provider_disabled", FORBIDDEN;
    SsoAccountRefused => "sso_account_refused", FORBIDDEN;
    SsoNotConfigured => "sso_not_configured", NOT_FOUND;
    SsoProviderNotFound => "sso_provider_not_found", NOT_FOUND;
    SsoIdpUnavailable => "sso_idp_unavailable", BAD_GATEWAY;
    SsoEnforced => "sso_enforced", FORBIDDEN;
    SsoDomainNotFound => "sso_domain_not_found", NOT_FOUND;
    SsoDomainUnverified => "sso_domain_unverified", BAD_REQUEST;
    SsoDomainTaken => "sso_domain_taken", CONFLICT;
    Forbidden => "forbidden", FORBIDDEN;
    CsrfFailed => "csrf_failed", FORBIDDEN;
    EmailNotVerified => "email_not_verified", FORBIDDEN;
    OwnerOnly => "owner_only", FORBIDDEN;
    EnvironmentForbidden => "environment_forbidden", FORBIDDEN;
    TenantSuspended => "tenant_suspended", FORBIDDEN;
    TenantPending => "tenant_pending", FORBIDDEN;
    RouteNotFound => "route_not_found", NOT_FOUND;
    FlagNotFound => "flag_not_found", NOT_FOUND;
    VariantNotFound => "variant_not_found", NOT_FOUND;
    SegmentNotFound => "segment_not_found", NOT_FOUND;
    ConstraintNotFound => "constraint_not_found", NOT_FOUND;
    TagNotFound => "tag_not_found", NOT_FOUND;
    EnvironmentNotFound => "environment_not_found", NOT_FOUND;
    SnapshotNotFound => "snapshot_not_found", NOT_FOUND;
    KeyNotFound => "key_not_found", NOT_FOUND;
    ProjectNotFound => "project_not_found", NOT_FOUND;
    TenantNotFound => "tenant_not_found", NOT_FOUND;
    MemberNotFound => "member_not_found", NOT_FOUND;
    RoleNotFound => "role_not_found", NOT_FOUND;
    InvitationNotFound => "invitation_not_found", NOT_FOUND;
    PlanNotFound => "plan_not_found", NOT_FOUND;
    MetricNotFound => "metric_not_found", NOT_FOUND;
    CrashGroupNotFound => "crash_group_not_found", NOT_FOUND;
    MethodNotAllowed => "method_not_allowed", METHOD_NOT_ALLOWED;
    FlagKeyTaken => "flag_key_taken", CONFLICT;
    VariantKeyTaken => "variant_key_taken", CONFLICT;
    VersionConflict => "version_conflict", CONFLICT;
    VariantInUse => "variant_in_use", CONFLICT;
    PrerequisiteInUse => "prerequisite_in_use", CONFLICT;
    KeyInactive => "key_inactive", CONFLICT;
    ProjectKeyTaken => "project_key_taken", CONFLICT;
    EnvironmentKeyTaken => "environment_key_taken", CONFLICT;
    LastEnvironment => "last_environment", CONFLICT;
    EnvironmentInUse => "environment_in_use", CONFLICT;
    EmailTaken => "email_taken", CONFLICT;
    RoleKeyTaken => "role_key_taken", CONFLICT;
    RoleInUse => "role_in_use", CONFLICT;
    LastOwner => "last_owner", CONFLICT;
    AlreadyMember => "already_member", CONFLICT;
    TenantKeyTaken => "tenant_key_taken", CONFLICT;
    MetricKeyTaken => "metric_key_taken", CONFLICT;
    MetricInUse => "metric_in_use", CONFLICT;
    PayloadTooLarge => "payload_too_large", PAYLOAD_TOO_LARGE;
    BatchTooLarge => "batch_too_large", PAYLOAD_TOO_LARGE;
    UnsupportedMediaType => "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE;
    LoginLocked => "login_locked", TOO_MANY_REQUESTS;
    RateLimited => "rate_limited", TOO_MANY_REQUESTS;
    IngestOverloaded => "ingest_overloaded", TOO_MANY_REQUESTS;
    DatabaseUnavailable => "database_unavailable", SERVICE_UNAVAILABLE;
    Internal => "internal", INTERNAL_SERVER_ERROR;
}

/// An error answered to an API caller.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    field: Option<String>,
    problems: Vec<ImportProblem>,
    retry_after: Option<u64>,
    limit: Option<Box<LimitDetail>>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The details of a `plan_limit_reached` error.
#[derive(Debug, Serialize)]
struct LimitDetail {
    limit: &'static str,
    plan: String,
    allowed: u64,
}

impl ApiError {
    /// An error with `code` and a message (lower case, no trailing period).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            problems: Vec::new(),
            retry_after: None,
            limit: None,
            source: None,
        }
    }

    /// A validation error about `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(ErrorCode::ValidationFailed, message)
        }
    }

    /// An internal error: the cause is logged, never sent.
    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            source: Some(Box::new(source)),
            ..Self::new(ErrorCode::Internal, "internal error")
        }
    }

    /// The same error, telling the client when to try again (`Retry-After`, seconds).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The same answer again: code, message and field (for an error an extractor kept for later).
    pub(crate) fn answer_again(&self) -> Self {
        Self {
            field: self.field.clone(),
            ..Self::new(self.code, self.message.clone())
        }
    }

    fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The error's code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl ApiError {
    /// What went wrong, for people.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)?;
        let mut source = self.source.as_deref().map(|s| s as &dyn std::error::Error);
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
    message: &'a str,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    problems: &'a [ImportProblem],
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    limit: Option<&'a LimitDetail>,
}

impl From<flagent_types::Denied> for ApiError {
    fn from(denied: flagent_types::Denied) -> Self {
        ApiError::new(ErrorCode::Forbidden, denied.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let body = Body {
            error: Inner {
                code: self.code.as_str(),
                message: &self.message,
                field: self.field.as_deref(),
                problems: &self.problems,
                limit: self.limit.as_deref(),
            },
            message: &self.message,
        };
        let mut response = HttpResponse::build(self.status_code());
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        } else if self.code == ErrorCode::DatabaseUnavailable {
            response.insert_header(("Retry-After", "5"));
        }
        response.json(body)
    }
}

impl From<LimitReached> for ApiError {
    fn from(err: LimitReached) -> Self {
        let limit = LimitDetail {
            limit: err.limit.as_str(),
            plan: err.plan.clone(),
            allowed: err.allowed,
        };
        ApiError {
            limit: Some(Box::new(limit)),
            ..ApiError::new(ErrorCode::PlanLimitReached, err.to_string())
        }
    }
}

impl From<flagent_types::FeatureNotIncluded> for ApiError {
    fn from(err: flagent_types::FeatureNotIncluded) -> Self {
        let limit = LimitDetail {
            limit: err.feature.as_str(),
            plan: err.plan.clone(),
            allowed: 0,
        };
        ApiError {
            limit: Some(Box::new(limit)),
            ..ApiError::new(ErrorCode::PlanLimitReached, err.to_string())
        }
    }
}

fn not_found(resource: Resource) -> ErrorCode {
    match resource {
        Resource::Flag => ErrorCode::FlagNotFound,
        Resource::Variant => ErrorCode::VariantNotFound,
        Resource::Segment => ErrorCode::SegmentNotFound,
        Resource::Constraint => ErrorCode::ConstraintNotFound,
        Resource::Tag => ErrorCode::TagNotFound,
        Resource::Environment => ErrorCode::EnvironmentNotFound,
        Resource::Snapshot => ErrorCode::SnapshotNotFound,
    }
}

impl From<flagent_evaluation::EvaluationError> for ApiError {
    fn from(e: flagent_evaluation::EvaluationError) -> Self {
        use flagent_evaluation::EvaluationError as E;
        let message = e.to_string();
        match e {
            E::Invalid { field, .. } => ApiError::invalid(field, message),
            E::EmptySelector => ApiError::new(ErrorCode::EmptySelector, message),
            E::BatchTooLarge { .. } => ApiError::new(ErrorCode::BatchTooLarge, message),
            E::Denied(_) => ApiError::new(ErrorCode::Forbidden, message),
        }
    }
}

impl From<FlagsError> for ApiError {
    fn from(err: FlagsError) -> Self {
        let message = err.to_string();
        match err {
            FlagsError::NotFound(r) => ApiError::new(not_found(r), message),
            FlagsError::FlagKeyTaken(_) => ApiError::new(ErrorCode::FlagKeyTaken, message),
            FlagsError::VariantKeyTaken(_) => ApiError::new(ErrorCode::VariantKeyTaken, message),
            FlagsError::VersionConflict { .. } => {
                ApiError::new(ErrorCode::VersionConflict, message)
            }
            FlagsError::VariantInUse(_) => ApiError::new(ErrorCode::VariantInUse, message),
            FlagsError::RequiredBy { .. } => ApiError::new(ErrorCode::PrerequisiteInUse, message),
            FlagsError::Invalid { field, reason } => ApiError::invalid(field, reason),
            FlagsError::ImportInvalid(problems) => ApiError {
                problems,
                ..ApiError::new(ErrorCode::ImportInvalid, message)
            },
            FlagsError::PlanLimit(reached) => ApiError::from(reached),
            FlagsError::Denied(_) => ApiError::new(ErrorCode::Forbidden, message),
            FlagsError::Unavailable(source) => ApiError::new(
                ErrorCode::DatabaseUnavailable,
                "the database is unavailable; try again shortly",
            )
            .with_source(source),
            FlagsError::Unexpected(source) => ApiError::internal(AnyError(source)),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        let message = err.to_string();
        match err {
            AuthError::Missing => ApiError::new(ErrorCode::MissingCredentials, message),
            AuthError::Invalid => ApiError::new(ErrorCode::InvalidApiKey, message),
            AuthError::Suspended => ApiError::new(ErrorCode::TenantSuspended, message),
            AuthError::TenantPending => ApiError::new(ErrorCode::TenantPending, message),
            AuthError::EnvironmentForbidden(_) => {
                ApiError::new(ErrorCode::EnvironmentForbidden, message)
            }
            AuthError::EnvironmentNotFound(_) => {
                ApiError::new(ErrorCode::EnvironmentNotFound, message)
            }
            AuthError::InvalidKeySpec(m) => ApiError::invalid("key", m),
            AuthError::KeyNotFound(_) => ApiError::new(ErrorCode::KeyNotFound, message),
            AuthError::KeyInactive(_) => ApiError::new(ErrorCode::KeyInactive, message),
            AuthError::InvalidInput { field, reason } => ApiError::invalid(field, reason),
            AuthError::Forbidden(_) => ApiError::new(ErrorCode::Forbidden, message),
            AuthError::InvalidCredentials => ApiError::new(ErrorCode::InvalidCredentials, message),
            AuthError::Locked { retry_after_secs } => {
                ApiError::new(ErrorCode::LoginLocked, message).retry_after(retry_after_secs)
            }
            AuthError::EmailNotVerified => ApiError::new(ErrorCode::EmailNotVerified, message),
            AuthError::InvalidToken => ApiError::new(ErrorCode::InvalidToken, message),
            AuthError::InvalidSession => ApiError::new(ErrorCode::InvalidSession, message),
            AuthError::TenantRequired => ApiError::new(ErrorCode::TenantRequired, message),
            AuthError::TenantNotFound(_) => ApiError::new(ErrorCode::TenantNotFound, message),
            AuthError::ProjectNotFound(_) => ApiError::new(ErrorCode::ProjectNotFound, message),
            AuthError::Conflict(_) => ApiError::new(ErrorCode::EmailTaken, message),
            AuthError::CsrfFailed => ApiError::new(ErrorCode::CsrfFailed, message),
            AuthError::SsoEnforced(_) => ApiError::new(ErrorCode::SsoEnforced, message),
            AuthError::Unavailable(source) => ApiError::new(
                ErrorCode::DatabaseUnavailable,
                "authentication is temporarily unavailable",
            )
            .with_source(source),
            AuthError::Unexpected(source) => ApiError::internal(AnyError(source)),
        }
    }
}

impl From<flagent_tenants::TenantsError> for ApiError {
    fn from(err: flagent_tenants::TenantsError) -> Self {
        use flagent_tenants::TenantsError as E;
        let message = err.to_string();
        match err {
            E::ProjectNotFound(_) => ApiError::new(ErrorCode::ProjectNotFound, message),
            E::EnvironmentNotFound(_) => ApiError::new(ErrorCode::EnvironmentNotFound, message),
            E::ProjectKeyTaken(_) => ApiError::new(ErrorCode::ProjectKeyTaken, message),
            E::EnvironmentKeyTaken(_) => ApiError::new(ErrorCode::EnvironmentKeyTaken, message),
            E::LastEnvironment(_) => ApiError::new(ErrorCode::LastEnvironment, message),
            E::EnvironmentInUse(_) => ApiError::new(ErrorCode::EnvironmentInUse, message),
            E::Invalid { field, reason } => ApiError::invalid(field, reason),
            E::Denied(_) => ApiError::new(ErrorCode::Forbidden, message),
            E::MemberNotFound(_) => ApiError::new(ErrorCode::MemberNotFound, message),
            E::RoleNotFound(_) => ApiError::new(ErrorCode::RoleNotFound, message),
            E::RoleKeyTaken(_) => ApiError::new(ErrorCode::RoleKeyTaken, message),
            E::RoleInUse(_) => ApiError::new(ErrorCode::RoleInUse, message),
            E::LastOwner => ApiError::new(ErrorCode::LastOwner, message),
            E::OwnerOnly => ApiError::new(ErrorCode::OwnerOnly, message),
            E::AlreadyMember(_) => ApiError::new(ErrorCode::AlreadyMember, message),
            E::InvitationNotFound(_) => ApiError::new(ErrorCode::InvitationNotFound, message),
            E::TenantNotFound(_) => ApiError::new(ErrorCode::TenantNotFound, message),
            E::PlanNotFound(_) => ApiError::new(ErrorCode::PlanNotFound, message),
            E::TenantKeyTaken(_) => ApiError::new(ErrorCode::TenantKeyTaken, message),
            E::Auth(auth) => ApiError::from(auth),
            E::PlanLimit(reached) => ApiError::from(reached),
            E::Storage(flagent_storage_error) => {
                ApiError::from(FlagsError::from(flagent_storage_error))
            }
        }
    }
}

impl From<flagent_auth::sso::SsoError> for ApiError {
    fn from(err: flagent_auth::sso::SsoError) -> Self {
        let message = err.to_string();
        let code = match err {
            flagent_auth::sso::SsoError::NotFound(_) => ErrorCode::SsoProviderNotFound,
            flagent_auth::sso::SsoError::Invalid { field, reason } => {
                return ApiError::invalid(field, reason);
            }
            flagent_auth::sso::SsoError::Denied(denied) => return ApiError::from(denied),
            flagent_auth::sso::SsoError::NotInPlan(missing) => return ApiError::from(missing),
            flagent_auth::sso::SsoError::DomainNotFound(_) => ErrorCode::SsoDomainNotFound,
            flagent_auth::sso::SsoError::DomainUnverified(_) => ErrorCode::SsoDomainUnverified,
            flagent_auth::sso::SsoError::DomainTaken(_) => ErrorCode::SsoDomainTaken,
            flagent_auth::sso::SsoError::NotConfigured => ErrorCode::SsoNotConfigured,
            flagent_auth::sso::SsoError::ProviderDisabled => ErrorCode::SsoProviderDisabled,
            flagent_auth::sso::SsoError::StateMismatch => ErrorCode::SsoStateMismatch,
            flagent_auth::sso::SsoError::NonceMismatch => ErrorCode::SsoNonceMismatch,
            flagent_auth::sso::SsoError::InvalidToken(_) => ErrorCode::SsoInvalidToken,
            flagent_auth::sso::SsoError::InvalidSignature => ErrorCode::SsoInvalidSignature,
            flagent_auth::sso::SsoError::InvalidAssertion(_) => ErrorCode::SsoInvalidAssertion,
            flagent_auth::sso::SsoError::Replayed => ErrorCode::SsoReplayed,
            flagent_auth::sso::SsoError::Expired(_) => ErrorCode::SsoExpired,
            flagent_auth::sso::SsoError::IdpRefused(_) => ErrorCode::SsoIdpRefused,
            flagent_auth::sso::SsoError::IdpUnavailable(_) => ErrorCode::SsoIdpUnavailable,
            flagent_auth::sso::SsoError::AccountRefused(_) => ErrorCode::SsoAccountRefused,
            flagent_auth::sso::SsoError::Unavailable(source) => {
                return ApiError::from(flagent_flags::FlagsError::from(source));
            }
            flagent_auth::sso::SsoError::Unexpected(source) => {
                return ApiError::internal(AnyError(source));
            }
        };
        ApiError::new(code, message)
    }
}

impl From<flagent_analytics::AnalyticsError> for ApiError {
    fn from(err: flagent_analytics::AnalyticsError) -> Self {
        use flagent_analytics::AnalyticsError as E;
        let message = err.to_string();
        match err {
            E::Invalid { field, reason } => ApiError::invalid(field, reason),
            E::Denied(denied) => ApiError::from(denied),
            E::MetricNotFound(_) => ApiError::new(ErrorCode::MetricNotFound, message),
            E::FlagNotFound(_) => ApiError::new(ErrorCode::FlagNotFound, message),
            E::CrashGroupNotFound(_) => ApiError::new(ErrorCode::CrashGroupNotFound, message),
            E::MetricKeyTaken(_) => ApiError::new(ErrorCode::MetricKeyTaken, message),
            E::MetricInUse(_) => ApiError::new(ErrorCode::MetricInUse, message),
            E::Overloaded(seconds) => {
                ApiError::new(ErrorCode::IngestOverloaded, message).retry_after(seconds)
            }
            E::TooLarge(_) => ApiError::new(ErrorCode::PayloadTooLarge, message),
            E::Unexpected(source) => ApiError::internal(AnyError(source)),
        }
    }
}

/// Carries an `anyhow::Error` as a standard error source.
#[derive(Debug)]
struct AnyError(anyhow::Error);

impl fmt::Display for AnyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for AnyError {}

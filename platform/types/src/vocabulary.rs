//! Closed vocabularies the database stores as text: a tenant's status, the actions of the audit log and
//! the kinds of actor.
//!
//! Invariant: each value's text is exactly what is stored today, so no migration changes data; parsing
//! text that is not one of the values is an error naming it, never a default.

use std::fmt;

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &[$name] = &[$($name::$variant),*];

            /// The value as stored and shown.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value stored as `text`; `Err` names the text when it is not one.
            pub fn parse(text: &str) -> Result<$name, UnknownValue> {
                match text {
                    $($text => Ok($name::$variant),)*
                    _ => Err(UnknownValue {
                        vocabulary: stringify!($name),
                        text: text.to_owned(),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Text that is not a value of its vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a {vocabulary}")]
pub struct UnknownValue {
    /// The vocabulary's type name.
    pub vocabulary: &'static str,
    /// The text found.
    pub text: String,
}

vocabulary! {
    /// Where a tenant stands: only an active tenant's keys and members are accepted.
    TenantStatus {
        /// Serving.
        Active => "active",
        /// Signed up, waiting for its owner to verify their address.
        Pending => "pending",
        /// Stopped by an operator.
        Suspended => "suspended",
    }
}

vocabulary! {
    /// The roles every tenant has, strongest first; a tenant may define custom roles beside them.
    BuiltInRole {
        /// Everything in the tenant, including the tenant itself and the owner role.
        Owner => "owner",
        /// Everything but the tenant itself.
        Admin => "admin",
        /// Reads, evaluates and changes flags.
        Editor => "editor",
        /// Reads and evaluates flags.
        Viewer => "viewer",
    }
}

vocabulary! {
    /// The kind of actor an audit event names.
    ActorType {
        /// An API key.
        ApiKey => "api_key",
        /// A signed-in user acting in the tenant.
        User => "user",
        /// A job acting as a named system principal.
        System => "system",
        /// An operator of the hosted service (platform administration).
        Operator => "operator",
    }
}

vocabulary! {
    /// What an audit event records.
    AuditAction {
        /// A flag was created.
        FlagCreate => "flag.create",
        /// A flag's shared fields changed.
        FlagUpdate => "flag.update",
        /// A flag was turned on or off.
        FlagEnable => "flag.enable",
        /// A flag was deleted.
        FlagDelete => "flag.delete",
        /// A deleted flag was restored.
        FlagRestore => "flag.restore",
        /// A flag was put back as one of its snapshots stood.
        FlagRollback => "flag.rollback",
        /// A flag's state was copied from another environment.
        FlagCopy => "flag.copy",
        /// A flag was written by an import.
        FlagImport => "flag.import",
        /// A tag was added to a flag.
        TagAdd => "tag.add",
        /// A tag was removed from a flag.
        TagRemove => "tag.remove",
        /// A variant was created.
        VariantCreate => "variant.create",
        /// A variant changed.
        VariantUpdate => "variant.update",
        /// A variant was deleted.
        VariantDelete => "variant.delete",
        /// A segment was created.
        SegmentCreate => "segment.create",
        /// A segment changed.
        SegmentUpdate => "segment.update",
        /// A segment was deleted.
        SegmentDelete => "segment.delete",
        /// A flag's segments were reordered.
        SegmentReorder => "segment.reorder",
        /// A constraint was created.
        ConstraintCreate => "constraint.create",
        /// A constraint changed.
        ConstraintUpdate => "constraint.update",
        /// A constraint was deleted.
        ConstraintDelete => "constraint.delete",
        /// A segment's distribution changed.
        DistributionUpdate => "distribution.update",
        /// A project was created.
        ProjectCreate => "project.create",
        /// An environment was created.
        EnvironmentCreate => "environment.create",
        /// An environment changed.
        EnvironmentUpdate => "environment.update",
        /// A project's environments were reordered.
        EnvironmentReorder => "environment.reorder",
        /// An environment was archived.
        EnvironmentArchive => "environment.archive",
        /// An API key was created.
        KeyCreate => "key.create",
        /// An API key was rotated.
        KeyRotate => "key.rotate",
        /// An API key was revoked.
        KeyRevoke => "key.revoke",
        /// Somebody was invited.
        InvitationCreate => "invitation.create",
        /// An invitation was revoked.
        InvitationRevoke => "invitation.revoke",
        /// An invitation was accepted.
        MemberJoin => "member.join",
        /// A member's role changed.
        MemberRole => "member.role",
        /// A member was removed.
        MemberRemove => "member.remove",
        /// A custom role was created.
        RoleCreate => "role.create",
        /// A custom role changed.
        RoleUpdate => "role.update",
        /// A custom role was deleted.
        RoleDelete => "role.delete",
        /// A tenant was created.
        TenantCreate => "tenant.create",
        /// A tenant's status changed.
        TenantStatus => "tenant.status",
        /// A tenant's plan changed.
        TenantPlan => "tenant.plan",
        /// An identity provider was connected.
        SsoProviderCreate => "sso.provider.created",
        /// An identity provider changed (including being disabled).
        SsoProviderUpdate => "sso.provider.updated",
        /// An identity provider was deleted.
        SsoProviderDelete => "sso.provider.deleted",
        /// Somebody signed in through an identity provider.
        SsoLogin => "sso.login",
        /// A sign-in through an identity provider was refused (the reason is in `after`).
        SsoLoginFailed => "sso.login_failed",
        /// An email domain was claimed for single sign-on.
        SsoDomainClaim => "sso.domain.claimed",
        /// A claimed email domain was proven by its DNS record.
        SsoDomainVerify => "sso.domain.verified",
        /// A claimed email domain was removed.
        SsoDomainRemove => "sso.domain.removed",
        /// Password sign-in was switched off or on for the tenant's members, or its exceptions changed.
        SsoEnforcementChange => "sso.enforcement.changed",
        /// A SCIM token (an API key with the `scim` scope) was created.
        ScimTokenCreate => "scim.token.created",
        /// A SCIM token was revoked.
        ScimTokenRevoke => "scim.token.revoked",
        /// The identity provider provisioned a person (a new account, or an existing one linked).
        ScimUserCreate => "scim.user.created",
        /// The identity provider changed a person (name, email, external id, or reactivated them).
        ScimUserUpdate => "scim.user.updated",
        /// The identity provider deactivated a person: their membership ended.
        ScimUserDeactivate => "scim.user.deactivated",
        /// The identity provider deleted a person from the tenant.
        ScimUserDelete => "scim.user.deleted",
        /// The identity provider created a group.
        ScimGroupCreate => "scim.group.created",
        /// The identity provider changed a group (its name or members).
        ScimGroupUpdate => "scim.group.updated",
        /// The identity provider deleted a group.
        ScimGroupDelete => "scim.group.deleted",
        /// A metric was defined in a project.
        MetricCreate => "metric.created",
        /// A metric's name, description, direction or guardrail setting changed.
        MetricUpdate => "metric.updated",
        /// A metric was deleted.
        MetricDelete => "metric.deleted",
        /// A flag's experiment settings changed (control variant, metrics, correction).
        ExperimentUpdate => "experiment.updated",
        /// A project's event settings changed (whether events no metric reads are accepted).
        EventSettingsUpdate => "event_settings.updated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_parses_back_from_its_text_and_texts_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Ok(*action));
            assert!(seen.insert(action.as_str()), "{action} twice");
        }
        for role in BuiltInRole::ALL {
            assert_eq!(BuiltInRole::parse(role.as_str()), Ok(*role));
        }
        for status in TenantStatus::ALL {
            assert_eq!(TenantStatus::parse(status.as_str()), Ok(*status));
        }
        for actor in ActorType::ALL {
            assert_eq!(ActorType::parse(&actor.to_string()), Ok(*actor));
        }
    }

    #[test]
    fn unknown_text_is_refused_by_name() {
        let error = TenantStatus::parse("deleted").unwrap_err();
        assert_eq!(error.to_string(), "\"deleted\" is not a TenantStatus");
        assert!(AuditAction::parse("Flag.Create").is_err());
    }
}

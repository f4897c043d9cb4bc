//! Plans as values: a tenant's [`Plan`] with its [`PlanLimits`] (read from the `plans` table), the
//! countable [`Limit`]s, and [`LimitReached`], the refusal every crate that creates things returns; and
//! the [`Feature`]s a plan includes or not, refused with [`FeatureNotIncluded`].
//!
//! Invariant: `None` is unlimited. A check only ever refuses something being added (`adding > 0`), so a
//! tenant already over a limit (after moving to a smaller plan) keeps everything it has and can still
//! change it; nothing is ever dropped because of a limit.

use std::fmt;

/// A plan: its key (`free`, `pro`…), display name and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The plan's key, as stored in `tenants.plan`.
    pub key: String,
    /// The display name (`Free`).
    pub name: String,
    /// What the plan allows.
    pub limits: PlanLimits,
}

/// What a plan allows; `None` is unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanLimits {
    /// Members plus pending invitations.
    pub seats: Option<u64>,
    /// Projects of the tenant.
    pub projects: Option<u64>,
    /// Live environments of each project.
    pub environments: Option<u64>,
    /// Live flags of the tenant (all projects).
    pub flags: Option<u64>,
    /// Flag evaluations in a calendar month (UTC); reported, never enforced on evaluation.
    pub monthly_evaluations: Option<u64>,
    /// How many days of audit events are shown and exported.
    pub audit_retention_days: Option<u64>,
    /// How many days raw events and crash reports are kept (results keep their sums for ever).
    pub event_retention_days: Option<u64>,
    /// Whether single sign-on is included.
    pub sso: bool,
}

/// A countable limit of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Members plus pending invitations.
    Seats,
    /// Projects.
    Projects,
    /// Live environments per project.
    Environments,
    /// Live flags.
    Flags,
    /// Evaluations per calendar month.
    MonthlyEvaluations,
}

impl Limit {
    /// Every countable limit, in the order the API lists them.
    pub const ALL: [Limit; 5] = [
        Limit::Seats,
        Limit::Projects,
        Limit::Environments,
        Limit::Flags,
        Limit::MonthlyEvaluations,
    ];

    /// The limit's name on the wire (`flags`, `monthlyEvaluations`).
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::Seats => "seats",
            Limit::Projects => "projects",
            Limit::Environments => "environments",
            Limit::Flags => "flags",
            Limit::MonthlyEvaluations => "monthlyEvaluations",
        }
    }

    /// What is counted, in a sentence ("flags", "environments per project").
    fn noun(self) -> &'static str {
        match self {
            Limit::Seats => "seats (members and pending invitations)",
            Limit::Projects => "projects",
            Limit::Environments => "environments per project",
            Limit::Flags => "flags",
            Limit::MonthlyEvaluations => "evaluations a month",
        }
    }

    /// What has the counted things ("this tenant", "this project").
    fn holder(self) -> &'static str {
        match self {
            Limit::Environments => "this project",
            _ => "this tenant",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PlanLimits {
    /// The number `limit` allows (`None`: unlimited).
    pub fn allowed(&self, limit: Limit) -> Option<u64> {
        match limit {
            Limit::Seats => self.seats,
            Limit::Projects => self.projects,
            Limit::Environments => self.environments,
            Limit::Flags => self.flags,
            Limit::MonthlyEvaluations => self.monthly_evaluations,
        }
    }
}

impl Plan {
    /// Refuses adding `adding` things counted by `limit` when `current` already exist and the sum would
    /// pass what the plan allows. Adding nothing is always allowed.
    pub fn check(&self, limit: Limit, current: u64, adding: u64) -> Result<(), LimitReached> {
        match self.limits.allowed(limit) {
            Some(allowed) if adding > 0 && current.saturating_add(adding) > allowed => {
                Err(LimitReached {
                    limit,
                    plan: self.key.clone(),
                    plan_name: self.name.clone(),
                    allowed,
                    current,
                    adding,
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether `current` is over what `limit` allows.
    pub fn exceeded(&self, limit: Limit, current: u64) -> bool {
        self.limits.allowed(limit).is_some_and(|a| current > a)
    }
}

/// A refusal: adding would pass a plan limit. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LimitReached {
    /// Which limit.
    pub limit: Limit,
    /// The plan's key.
    pub plan: String,
    /// The plan's display name.
    pub plan_name: String,
    /// How many the plan allows.
    pub allowed: u64,
    /// How many exist.
    pub current: u64,
    /// How many the refused change would have added.
    pub adding: u64,
}

impl fmt::Display for LimitReached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "plan limit reached: the {} plan allows at most {} {} and {} has {}",
            self.plan_name,
            self.allowed,
            self.limit.noun(),
            self.limit.holder(),
            self.current
        )?;
        if self.adding > 1 {
            write!(f, "; this change would add {}", self.adding)?;
        }
        write!(f, "; upgrade the plan or remove some first")
    }
}

/// A feature a plan may include or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// Single sign-on: identity providers, SCIM provisioning and enforced SSO.
    Sso,
}

impl Feature {
    /// The feature's name on the wire (`sso`).
    pub fn as_str(self) -> &'static str {
        match self {
            Feature::Sso => "sso",
        }
    }

    /// What the feature is, in a sentence.
    fn noun(self) -> &'static str {
        match self {
            Feature::Sso => "single sign-on",
        }
    }
}

impl Plan {
    /// Refuses what needs `feature` when the plan does not include it.
    pub fn require(&self, feature: Feature) -> Result<(), FeatureNotIncluded> {
        let included = match feature {
            Feature::Sso => self.limits.sso,
        };
        if included {
            Ok(())
        } else {
            Err(FeatureNotIncluded {
                feature,
                plan: self.key.clone(),
                plan_name: self.name.clone(),
            })
        }
    }
}

/// A refusal: the tenant's plan does not include a feature. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plan limit reached: the {plan_name} plan does not include {}; upgrade the plan to use it", .feature.noun())]
pub struct FeatureNotIncluded {
    /// Which feature.
    pub feature: Feature,
    /// The plan's key.
    pub plan: String,
    /// The plan's display name.
    pub plan_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(flags: Option<u64>) -> Plan {
        Plan {
            key: "free".into(),
            name: "Free".into(),
            limits: PlanLimits {
                flags,
                ..PlanLimits::default()
            },
        }
    }

    #[test]
    fn a_feature_is_refused_by_a_plan_without_it() {
        let free = plan(None);
        let err = free.require(Feature::Sso).unwrap_err();
        assert_eq!((err.feature, err.plan.as_str()), (Feature::Sso, "free"));
        assert_eq!(
            err.to_string(),
            "plan limit reached: the Free plan does not include single sign-on; upgrade the plan to use it"
        );
        let mut enterprise = plan(None);
        enterprise.limits.sso = true;
        assert_eq!(enterprise.require(Feature::Sso), Ok(()));
    }

    #[test]
    fn check_refuses_only_what_would_pass_the_limit() {
        let free = plan(Some(3));
        assert_eq!(free.check(Limit::Flags, 2, 1), Ok(()));
        let err = free.check(Limit::Flags, 3, 1).unwrap_err();
        assert_eq!((err.allowed, err.current, err.adding), (3, 3, 1));
        assert_eq!(
            err.to_string(),
            "plan limit reached: the Free plan allows at most 3 flags and this tenant has 3; \
             upgrade the plan or remove some first"
        );
        assert!(
            free.check(Limit::Flags, 1, 3).is_err(),
            "a bulk add counts whole"
        );
        assert_eq!(free.check(Limit::Flags, 9, 0), Ok(()), "adding nothing");
        assert_eq!(free.check(Limit::Projects, 99, 1), Ok(()), "unlimited");
        assert_eq!(plan(None).check(Limit::Flags, u64::MAX, 1), Ok(()));
    }

    #[test]
    fn exceeded_is_strictly_over() {
        let free = plan(Some(3));
        assert!(!free.exceeded(Limit::Flags, 3));
        assert!(free.exceeded(Limit::Flags, 4));
        assert!(!free.exceeded(Limit::Seats, 1_000));
    }
}

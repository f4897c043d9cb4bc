//! The plan and usage page: the tenant's plan, the billing period, and each plan limit with what is
//! used, as a meter, and what is refused once a limit is reached.
//!
//! Invariant: the page states the limits as the plan enforces them: a limit refuses only additions
//! (what exists keeps working), and the monthly evaluations limit is reported, never enforced.

use crate::{Shell, grouped};
use askama::Template;
use chrono::{Datelike, Months, NaiveDate};

/// A countable limit of a plan, with the words the page uses for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Members plus pending invitations.
    Seats,
    /// Projects.
    Projects,
    /// Live environments of the project with the most.
    Environments,
    /// Live flags in all projects.
    Flags,
    /// Evaluations this month.
    MonthlyEvaluations,
}

impl Counted {
    /// The limit's name.
    pub fn label(self) -> &'static str {
        match self {
            Counted::Seats => "Seats",
            Counted::Projects => "Projects",
            Counted::Environments => "Environments per project",
            Counted::Flags => "Flags",
            Counted::MonthlyEvaluations => "Evaluations this month",
        }
    }

    /// What is counted.
    pub fn counted(self) -> &'static str {
        match self {
            Counted::Seats => "members and pending invitations",
            Counted::Projects => "projects of the organisation",
            Counted::Environments => "live environments of the project that has the most",
            Counted::Flags => "live flags in all projects",
            Counted::MonthlyEvaluations => "flag evaluations in the billing period",
        }
    }

    /// What the plan refuses once the limit is reached.
    pub fn refused(self) -> &'static str {
        match self {
            Counted::Seats => "inviting members",
            Counted::Projects => "creating projects",
            Counted::Environments => "adding environments to a project that has this many",
            Counted::Flags => "creating or importing new flags",
            Counted::MonthlyEvaluations => "nothing (evaluations go on being answered)",
        }
    }

    /// Whether reaching the limit refuses anything (evaluation never stops over billing).
    pub fn enforced(self) -> bool {
        self != Counted::MonthlyEvaluations
    }

    /// The id of the limit's row heading.
    pub fn id(self) -> &'static str {
        match self {
            Counted::Seats => "limit-seats",
            Counted::Projects => "limit-projects",
            Counted::Environments => "limit-environments",
            Counted::Flags => "limit-flags",
            Counted::MonthlyEvaluations => "limit-evaluations",
        }
    }
}

/// One limit of the plan against what the tenant uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitMeter {
    /// Which limit.
    pub counted: Counted,
    /// How many are used.
    pub used: u64,
    /// How many the plan allows; `None` is unlimited.
    pub allowed: Option<u64>,
    /// Whether the tenant is over it (as the usage report says).
    pub exceeded: bool,
}

impl LimitMeter {
    /// What is used, for people (`1,234`).
    pub fn used_text(&self) -> String {
        grouped(self.used)
    }

    /// What the plan allows, for people (`10,000`, `unlimited`).
    pub fn allowed_text(&self) -> String {
        self.allowed.map_or_else(|| "unlimited".to_owned(), grouped)
    }

    /// Where the meter turns to a warning colour: 80% of the limit.
    pub fn high(&self) -> u64 {
        self.allowed.map_or(0, |a| a - a / 5)
    }

    /// Whether adding one more would pass the limit, without being over it yet.
    pub fn at_limit(&self) -> bool {
        !self.exceeded && self.allowed.is_some_and(|a| self.used >= a)
    }

    /// What the page says about an exceeded or reached limit (`""` otherwise).
    pub fn warning(&self) -> String {
        let Some(allowed) = self.allowed else {
            return String::new();
        };
        let counted = self.counted;
        let what = format!("{} {}", grouped(allowed), counted.counted());
        if self.exceeded && counted.enforced() {
            format!(
                "Over the limit: the plan allows {what}. Refused now: {}. Nothing is removed; \
                 what exists keeps working and can still be changed.",
                counted.refused()
            )
        } else if self.exceeded {
            format!(
                "Over the limit: the plan allows {what}. This limit is reported only: \
                 evaluations go on being answered."
            )
        } else if self.at_limit() && counted.enforced() {
            format!(
                "At the limit: the plan allows {what}. Refused now: {}.",
                counted.refused()
            )
        } else {
            String::new()
        }
    }
}

/// `/ui/t/{tenant}/usage`.
#[derive(Debug, Template)]
#[template(path = "usage.html")]
pub struct UsagePage {
    /// The frame.
    pub shell: Shell,
    /// The plan's display name.
    pub plan_name: String,
    /// The plan's key.
    pub plan_key: String,
    /// The calendar month (UTC) evaluations are counted in, `YYYY-MM`.
    pub period: String,
    /// Each countable limit.
    pub meters: Vec<LimitMeter>,
    /// Days of audit events shown and exported; `None` for all.
    pub audit_retention_days: Option<u64>,
    /// Whether single sign-on is included.
    pub sso: bool,
}

impl UsagePage {
    /// The billing period for people: `November 2026 (1 Nov – 30 Nov, UTC)`; the period as written
    /// when it is not `YYYY-MM`.
    pub fn period_text(&self) -> String {
        let first = NaiveDate::parse_from_str(&format!("{}-01", self.period), "%Y-%m-%d");
        let Ok(first) = first else {
            return self.period.clone();
        };
        let last = first
            .checked_add_months(Months::new(1))
            .and_then(|next| next.pred_opt())
            .unwrap_or(first);
        format!(
            "{} ({} – {} {}, UTC)",
            first.format("%B %Y"),
            first.day(),
            last.day(),
            first.format("%b")
        )
    }

    /// The limits the tenant is over.
    pub fn exceeded(&self) -> Vec<&LimitMeter> {
        self.meters.iter().filter(|m| m.exceeded).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::shell;

    fn meter(counted: Counted, used: u64, allowed: Option<u64>) -> LimitMeter {
        LimitMeter {
            counted,
            used,
            allowed,
            exceeded: allowed.is_some_and(|a| used > a),
        }
    }

    #[test]
    fn meters_say_what_is_refused_at_and_over_the_limit() {
        let under = meter(Counted::Flags, 79, Some(100));
        assert_eq!(
            (under.used_text(), under.allowed_text()),
            ("79".into(), "100".into())
        );
        assert_eq!(under.high(), 80);
        assert_eq!(under.warning(), "");
        let full = meter(Counted::Flags, 100, Some(100));
        assert!(full.at_limit());
        assert!(full.warning().starts_with("At the limit"));
        assert!(full.warning().contains("creating or importing new flags"));
        let over = meter(Counted::Seats, 7, Some(5));
        assert!(!over.at_limit());
        assert!(
            over.warning().starts_with("Over the limit"),
            "{}",
            over.warning()
        );
        assert!(
            over.warning().contains("inviting members")
                && over.warning().contains("Nothing is removed")
        );
        let evaluations = meter(Counted::MonthlyEvaluations, 1_500_000, Some(1_000_000));
        assert!(evaluations.warning().contains("reported only"));
        assert!(evaluations.warning().contains("1,000,000 flag evaluations"));
        let unlimited = meter(Counted::Projects, 12_345, None);
        assert_eq!(unlimited.allowed_text(), "unlimited");
        assert_eq!(unlimited.warning(), "");
    }

    #[test]
    fn the_page_names_the_plan_and_period_and_renders_meters_without_style() {
        let page = UsagePage {
            shell: shell("usage"),
            plan_name: "Free".into(),
            plan_key: "free".into(),
            period: "2026-02".into(),
            meters: vec![
                meter(Counted::Flags, 1_234, Some(100)),
                meter(Counted::Projects, 1, None),
            ],
            audit_retention_days: Some(30),
            sso: false,
        };
        assert_eq!(page.period_text(), "February 2026 (1 – 28 Feb, UTC)");
        let html = page.render().unwrap();
        assert!(html.contains("<strong>Free</strong> plan"));
        assert!(
            html.contains(
                r#"<meter min="0" max="100" low="80" high="80" optimum="0" value="1234""#
            )
        );
        assert!(html.contains(r#"<td class="figure used">1,234</td>"#));
        assert!(html.contains(r#"<td class="figure allowed">unlimited</td>"#));
        assert!(html.contains("over 1 limit of its plan"));
        assert!(!html.contains("style="));
        let odd = UsagePage {
            period: "soon".into(),
            ..page
        };
        assert_eq!(odd.period_text(), "soon");
    }
}

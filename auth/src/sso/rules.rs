//! Role mapping: the rules that turn what an identity provider asserts (OIDC claims, SAML attributes)
//! into the role a member gets.
//!
//! Invariant: rules are tried in order and the first match wins, else the provider's default role; no
//! rule and no default grants `owner` (validation refuses them when a provider is saved).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a rule compares an asserted value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleOp {
    /// The claim, or one of its values, is exactly the rule's value.
    Equals,
    /// The claim, or one of its values, contains the rule's value.
    Contains,
}

/// One mapping rule: when `claim` matches `value`, the member gets `role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRule {
    /// The OIDC claim or SAML attribute name (`groups`, `department`).
    pub claim: String,
    /// How the asserted value is compared.
    pub op: RuleOp,
    /// The value compared with.
    pub value: String,
    /// The role granted on a match.
    pub role: String,
}

/// What an identity provider asserted about a person, reduced to text values per claim (a claim that
/// is a list keeps each of its values; numbers and booleans become their text).
pub type Assertions = BTreeMap<String, Vec<String>>;

impl RoleRule {
    fn matches(&self, asserted: &Assertions) -> bool {
        let Some(values) = asserted.get(&self.claim) else {
            return false;
        };
        values.iter().any(|v| match self.op {
            RuleOp::Equals => *v == self.value,
            RuleOp::Contains => v.contains(&self.value),
        })
    }
}

/// The role the first matching rule grants, else `default`.
pub fn mapped_role<'a>(rules: &'a [RoleRule], default: &'a str, asserted: &Assertions) -> &'a str {
    rules
        .iter()
        .find(|rule| rule.matches(asserted))
        .map_or(default, |rule| rule.role.as_str())
}

/// Whether identity provider `provider` grants role `key`, as its default role or by a rule (so the
/// role may not be deleted from under it).
pub fn provider_grants(
    provider: &flagent_storage::entities::sso_provider::Model,
    key: &str,
) -> bool {
    provider.default_role == key
        || serde_json::from_str::<Vec<RoleRule>>(&provider.role_rules)
            .map(|rules| rules.iter().any(|r| r.role == key))
            .unwrap_or(false)
}

/// The claims of an OIDC token or userinfo answer as [`Assertions`]: strings, numbers and booleans as
/// text, lists by their scalar items; objects and nulls are left out.
pub fn assertions_from_json(claims: &serde_json::Map<String, serde_json::Value>) -> Assertions {
    fn scalar(value: &serde_json::Value) -> Option<String> {
        match value {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    claims
        .iter()
        .filter_map(|(name, value)| {
            let values: Vec<String> = match value {
                serde_json::Value::Array(items) => items.iter().filter_map(scalar).collect(),
                other => scalar(other).into_iter().collect(),
            };
            (!values.is_empty()).then(|| (name.clone(), values))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(claim: &str, op: RuleOp, value: &str, role: &str) -> RoleRule {
        RoleRule {
            claim: claim.into(),
            op,
            value: value.into(),
            role: role.into(),
        }
    }

    #[test]
    fn the_first_matching_rule_wins_else_the_default() {
        let rules = [
            rule("groups", RuleOp::Equals, "flag-admins", "admin"),
            rule("groups", RuleOp::Contains, "eng", "editor"),
            rule("department", RuleOp::Equals, "Product", "editor"),
        ];
        let claims = serde_json::json!({
            "groups": ["eng-platform", "flag-admins"],
            "department": "Product",
            "email_verified": true,
            "address": {"country": "NL"},
        });
        let asserted = assertions_from_json(claims.as_object().unwrap());
        assert_eq!(asserted["email_verified"], ["true"]);
        assert!(!asserted.contains_key("address"));
        assert_eq!(mapped_role(&rules, "viewer", &asserted), "admin");

        let claims = serde_json::json!({"groups": ["eng-platform"]});
        let asserted = assertions_from_json(claims.as_object().unwrap());
        assert_eq!(mapped_role(&rules, "viewer", &asserted), "editor");

        let claims = serde_json::json!({"groups": "flag-admins-old", "department": "product"});
        let asserted = assertions_from_json(claims.as_object().unwrap());
        assert_eq!(
            mapped_role(&rules, "viewer", &asserted),
            "viewer",
            "equals is exact and case-sensitive, a string claim is one value"
        );
    }
}

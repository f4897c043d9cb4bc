//! The flag page and the Debug Console.
//!
//! Invariant: the flag page offers a change only to roles the API would let make it: what one
//! environment holds (on/off, segments, constraints, distributions) to `flags:write` here, what every
//! environment shares (variants, prerequisites, the default variant) to `flags:write` everywhere.

use super::page::{PageQuery, Refusal, Viewer, html};
use crate::state::AppState;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use flagent_eval::{Prerequisite, Snapshot};
use flagent_evaluation::Explained;
use flagent_flags::Flag;
use flagent_types::{EnvironmentId, FlagId, Permission, Principal, perm};
use flagent_ui::{
    ConstraintEditor, ConstraintView, DebugPage, DebugResult, EnvironmentState, FlagChoice,
    FlagPage, Moment, OPERATORS, PrerequisiteChoice, PrerequisiteView, SegmentLog, SegmentView,
    ShareView, VariantView,
};
use serde::Deserialize;

/// The environment whose changes ask for confirmation first.
const GUARDED_ENVIRONMENT: &str = "production";

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// One segment as [`targeting`] compares it: description, rollout, constraints, shares.
type SegmentTargeting<'a> = (
    &'a str,
    i64,
    Vec<(&'a str, &'a str, &'a str)>,
    Vec<(&'a str, i64)>,
);

/// What decides a flag's answers in one environment, besides on/off: its segments in order, each
/// with its description, rollout, constraints and shares (by variant key, without row ids, which
/// differ between environments).
fn targeting(flag: &Flag) -> Vec<SegmentTargeting<'_>> {
    flag.segments
        .iter()
        .map(|s| {
            let constraints = s
                .constraints
                .iter()
                .map(|c| (c.property.as_str(), c.operator.as_str(), c.value.as_str()))
                .collect();
            let mut shares: Vec<_> = s
                .distributions
                .iter()
                .filter(|d| d.percent > 0)
                .map(|d| (d.variant_key.as_str(), d.percent))
                .collect();
            shares.sort_unstable();
            (
                s.description.as_str(),
                s.rollout_percent,
                constraints,
                shares,
            )
        })
        .collect()
}

/// One flag in the page's environment: its variants, and its segments with their constraints and
/// distributions, editable by writers.
pub(super) async fn flag(
    req: HttpRequest,
    state: Data<AppState>,
    path: Path<(String, i64)>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, Refusal> {
    let (tenant, id) = path.into_inner();
    let viewer = Viewer::of(&req, &state, &tenant, &query, "flags", "Flag").await?;
    let flag = state
        .flags
        .flag(&viewer.scope, FlagId(id))
        .await
        .map_err(|e| Refusal::from_api(e.into()))?;
    let mut environments = Vec::new();
    for env in &viewer.shell.environments {
        let current = env.key == viewer.shell.environment;
        let there = if current {
            None
        } else {
            let scope = viewer.scope.in_environment(EnvironmentId(env.id));
            Some(
                state
                    .flags
                    .flag(&scope, FlagId(id))
                    .await
                    .map_err(|e| Refusal::from_api(e.into()))?,
            )
        };
        let there = there.as_ref().unwrap_or(&flag);
        environments.push(EnvironmentState {
            id: env.id,
            key: env.key.clone(),
            name: env.name.clone(),
            enabled: there.enabled,
            segments: there.segments.len(),
            same_targeting: targeting(there) == targeting(&flag),
            current,
        });
    }
    let segments = segment_views(&flag);
    // The environment's live flags, from memory: keys and variant keys are all the prerequisite
    // editor needs.
    let live = state
        .flags
        .cache()
        .snapshot(viewer.scope.tenant_id(), viewer.scope.environment_id())
        .unwrap_or_default();
    let mut shell = viewer.shell;
    shell.title = flag.key.clone();
    let nonce = shell.nonce.clone();
    let guarded = shell.environment == GUARDED_ENVIRONMENT;
    Ok(html(
        &FlagPage {
            shell,
            id: flag.id,
            key: flag.key,
            description: flag.description,
            enabled: flag.enabled,
            tags: flag.tags.into_iter().map(|t| t.value).collect(),
            variants: flag
                .variants
                .iter()
                .map(|v| VariantView {
                    id: v.id,
                    key: v.key.clone(),
                    attachment: pretty(&v.attachment),
                })
                .collect(),
            segments,
            environments,
            updated_at: Moment::parse(&flag.updated_at, chrono::Utc::now()),
            updated_by: flag.updated_by,
            guarded,
            operators: OPERATORS,
            version: flag.version,
            prerequisites: prerequisite_views(&flag.depends_on, &live),
            prerequisite_choices: prerequisite_choices(flag.id, &live),
            default_variant: flag.default_variant,
        },
        Some(&nonce),
    ))
}

/// The flag's segments as the page shows them, each with its constraint forms' fields.
fn segment_views(flag: &Flag) -> Vec<SegmentView> {
    flag.segments
        .iter()
        .map(|s| SegmentView {
            id: s.id,
            description: s.description.clone(),
            rollout_percent: s.rollout_percent,
            constraints: s
                .constraints
                .iter()
                .map(|c| ConstraintView {
                    id: c.id,
                    property: c.property.clone(),
                    operator: c.operator.clone(),
                    value: c.value.clone(),
                    editor: ConstraintEditor::of(
                        format!("e-{}", c.id),
                        &c.property,
                        &c.operator,
                        &c.value,
                    ),
                })
                .collect(),
            shares: flag
                .variants
                .iter()
                .map(|v| ShareView {
                    variant_id: v.id,
                    variant_key: v.key.clone(),
                    percent: s
                        .distributions
                        .iter()
                        .find(|d| d.variant_id == v.id)
                        .map_or(0, |d| d.percent),
                })
                .collect(),
            new_constraint: ConstraintEditor::blank(format!("c-{}", s.id)),
        })
        .collect()
}

/// The flag's prerequisites in order, each with the list the remove form sends (the others).
fn prerequisite_views(depends_on: &[Prerequisite], live: &Snapshot) -> Vec<PrerequisiteView> {
    depends_on
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let others: Vec<&Prerequisite> = depends_on
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != index)
                .map(|(_, q)| q)
                .collect();
            PrerequisiteView {
                index,
                flag_key: p.flag_key.clone(),
                flag_id: live.flag_by_key(&p.flag_key).map(|f| f.id()),
                variant_key: p.variant_key.clone(),
                without: serde_json::to_string(&others).unwrap_or_else(|_| "[]".to_owned()),
            }
        })
        .collect()
}

/// The project's flags but `flag_id`, by key, with their variants' keys.
fn prerequisite_choices(flag_id: i64, live: &Snapshot) -> Vec<PrerequisiteChoice> {
    let mut choices: Vec<PrerequisiteChoice> = live
        .flags()
        .filter(|f| f.id() != flag_id)
        .map(|f| PrerequisiteChoice {
            key: f.key().to_owned(),
            variants: f.config().variants.iter().map(|v| v.key.clone()).collect(),
        })
        .collect();
    choices.sort_by(|a, b| a.key.cmp(&b.key));
    choices
}

#[derive(Deserialize)]
pub(super) struct DebugQuery {
    #[serde(flatten)]
    page: PageQuery,
    /// The flag's key; empty for every flag.
    #[serde(default)]
    flag: Option<String>,
    #[serde(default)]
    entity: Option<String>,
    #[serde(default)]
    context: Option<String>,
}

/// The Debug Console's context (a JSON object, or nothing when blank), or the problem to show.
fn debug_context(text: &str, entity_id: &str) -> Result<Option<serde_json::Value>, String> {
    let context = if text.trim().is_empty() {
        None
    } else {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value @ serde_json::Value::Object(_)) => Some(value),
            Ok(_) => return Err("The context must be a JSON object.".to_owned()),
            Err(error) => return Err(format!("The context is not valid JSON: {error}.")),
        }
    };
    if entity_id.trim().is_empty() {
        return Err("Enter an entity ID.".to_owned());
    }
    Ok(context)
}

/// One explained evaluation as the Debug Console shows it.
fn debug_result(e: Explained) -> DebugResult {
    DebugResult {
        flag_id: e.flag_id,
        variant_key: e.variant_key,
        attachment: e.attachment.map(|a| pretty(&a.to_value())),
        reason: e.reason.as_str(),
        segment_id: e.segment_id,
        summary: e.summary,
        segments: e
            .segments
            .into_iter()
            .map(|s| SegmentLog {
                matched: e.segment_id == Some(s.segment_id),
                segment_id: s.segment_id,
                message: s.msg,
            })
            .collect(),
        flag_key: e.flag_key,
    }
}

/// Explains one flag (or every flag) of the page's environment for an entity and context with the
/// evaluator (`Evaluator::console`: the same in-memory snapshot and engine as the evaluation API, and
/// the engine's debug log), counting nothing.
pub(super) async fn debug(
    req: HttpRequest,
    state: Data<AppState>,
    tenant: Path<String>,
    query: Query<DebugQuery>,
) -> Result<HttpResponse, Refusal> {
    let query = query.into_inner();
    let viewer = Viewer::of(&req, &state, &tenant, &query.page, "debug", "Debug Console").await?;
    if let Principal::User { id, .. } = viewer.scope.principal() {
        let allowed = state
            .auth
            .policy()
            .allows(*id, viewer.scope.tenant_id(), perm::Evaluate::NAME, None)
            .await;
        if !allowed {
            return Err(Refusal::problem(
                403,
                "Not allowed",
                "Your role does not grant flags:evaluate.",
            ));
        }
    }
    let console = state.evaluator.console(&viewer.scope).map_err(|_| {
        Refusal::problem(
            403,
            "Not allowed",
            "Your role does not grant flags:evaluate.",
        )
    })?;
    let picked = query.flag.clone().unwrap_or_default();
    let flags: Vec<FlagChoice> = console
        .flag_keys()
        .into_iter()
        .map(|key| FlagChoice {
            selected: key == picked,
            key,
        })
        .collect();
    let entity_id = query.entity.clone().unwrap_or_default();
    let context_text = query.context.clone().unwrap_or_default();
    let asked = query.entity.is_some();
    let (problem, results) = if asked {
        match debug_context(&context_text, &entity_id) {
            Err(message) => (Some(message), Vec::new()),
            Ok(context) => {
                let explained = console.explain(&picked, &entity_id, context.as_ref());
                (None, explained.into_iter().map(debug_result).collect())
            }
        }
    } else {
        (None, Vec::new())
    };
    let nonce = viewer.shell.nonce.clone();
    Ok(html(
        &DebugPage {
            shell: viewer.shell,
            all: picked.is_empty(),
            flags,
            entity_id,
            context: context_text,
            problem,
            results,
            asked,
        },
        Some(&nonce),
    ))
}

#[cfg(test)]
mod tests {
    use flagent_eval::validate_constraint;
    use flagent_ui::{OPERATORS, ValueKind};

    #[test]
    fn every_operator_offers_the_value_kinds_the_engine_accepts_and_no_other() {
        for o in OPERATORS {
            for kind in ValueKind::ALL {
                let example = kind.example();
                let accepted = validate_constraint("p", o.name, example).is_ok();
                if kind == ValueKind::Literal {
                    assert!(o.offers(kind), "{} does not offer the raw literal", o.name);
                } else if o.offers(kind) {
                    assert!(
                        accepted,
                        "{} offers {example}, which the engine refuses",
                        o.name
                    );
                } else if !matches!(kind, ValueKind::Text | ValueKind::Regex) {
                    // A text and a pattern are both quoted strings: the operator decides which it is.
                    assert!(
                        !accepted,
                        "{} does not offer {example}, which the engine accepts",
                        o.name
                    );
                }
            }
        }
    }
}

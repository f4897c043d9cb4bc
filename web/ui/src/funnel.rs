//! A flag's funnel page (`/ui/t/{tenant}/flags/{id}/funnel`): a GET form choosing the steps (the
//! project's conversion metrics, in order) and the window, and for a funnel asked for, a chart of
//! each variant's share of its exposed entities at every step (`chart`), a table of the figures and
//! each treatment's completion against the control.
//!
//! Invariant: the handler passes the figures `GET /api/v1/flags/{id}/funnel` answers (or its
//! refusal, shown at the field it names); everything here only lays them out and formats them, with
//! the results page's formatting, so the page says what the API says.

mod chart;

pub use chart::{FunnelBar, FunnelChart, funnel_chart};

use crate::results::{Choice, p_statement, percent, signed_percent};
use crate::views::Shell;
use crate::{SERIES_COLOURS, window_label};
use askama::Template;

/// The scales the chart's vertical axis may end at: 1%, 2%, 5% … 100% of the exposed.
const TOPS: [f64; 7] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0];

/// One step of one variant, as the funnel use case computed it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepFigures {
    /// Entities that reached the step.
    pub entities: u64,
    /// The share of the step before (of the exposed, for the first step).
    pub rate: Option<f64>,
    /// Its Wilson 95% interval.
    pub rate_ci95: Option<[f64; 2]>,
    /// The share of the exposed.
    pub overall: Option<f64>,
    /// Its Wilson 95% interval.
    pub overall_ci95: Option<[f64; 2]>,
}

/// A treatment's completion (exposed to the last step) against the control's.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionFigures {
    /// Completion rate minus the control's.
    pub abs_diff: f64,
    /// Its 95% interval.
    pub ci95: [f64; 2],
    /// The two-sided p-value.
    pub p_value: f64,
}

/// One variant's funnel.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantFigures {
    /// The variant's key.
    pub variant: String,
    /// Whether it is the control.
    pub control: bool,
    /// Entities exposed.
    pub exposed: u64,
    /// Each step, in order.
    pub steps: Vec<StepFigures>,
    /// Its completion against the control's (none for the control or without entities).
    pub completion: Option<CompletionFigures>,
}

/// A funnel as the use case answered it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelFigures {
    /// The steps' metric keys, in order.
    pub steps: Vec<String>,
    /// One per variant, the control first.
    pub variants: Vec<VariantFigures>,
}

/// Where the chart's scale ends: the smallest of [`TOPS`] holding every share and interval (100%
/// when none does).
pub(crate) fn axis_top(figures: &FunnelFigures) -> f64 {
    let highest = figures
        .variants
        .iter()
        .flat_map(|v| &v.steps)
        .flat_map(|s| {
            s.overall
                .into_iter()
                .chain(s.overall_ci95.into_iter().flatten())
        })
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    TOPS.into_iter().find(|t| *t >= highest).unwrap_or(1.0)
}

/// `36.6% to 63.4%`, or empty without an interval.
fn interval(ci: Option<[f64; 2]>) -> String {
    ci.map_or_else(String::new, |[lo, hi]| {
        format!("{} to {}", percent(lo), percent(hi))
    })
}

/// One variant's figures at one step, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelCell {
    /// The variant's key.
    pub variant: String,
    /// Its colour class.
    pub class: String,
    /// Entities, grouped (`1,234`).
    pub entities: String,
    /// The step-to-step rate (`50.0%`), or `—`.
    pub rate: String,
    /// Its interval (`36.6% to 63.4%`), or empty.
    pub rate_ci: String,
    /// The share of the exposed, or `—`.
    pub overall: String,
    /// Its interval, or empty.
    pub overall_ci: String,
}

/// One step's rows of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelRow {
    /// The step's metric key.
    pub step: String,
    /// Its name.
    pub name: String,
    /// One cell per variant.
    pub cells: Vec<FunnelCell>,
}

/// A treatment's completion line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionLine {
    /// The treatment's key.
    pub variant: String,
    /// Its completion rate (`25.0%`), or `—`.
    pub rate: String,
    /// The control's, or `—`.
    pub control_rate: String,
    /// The difference (`+15.0%`), its interval and `p = 0.0052`, when they could be computed.
    pub compared: Option<(String, String, String)>,
}

/// A funnel, laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelView {
    /// The window, in words (`7 days`).
    pub window: String,
    /// The control's key.
    pub control: Option<String>,
    /// Entities exposed to any variant, grouped.
    pub exposed: String,
    /// Per variant: colour class, key and exposed entities, grouped.
    pub variants: Vec<(String, String, String)>,
    /// The chart.
    pub chart: FunnelChart,
    /// The table, a row group per step.
    pub rows: Vec<FunnelRow>,
    /// One line per treatment.
    pub completions: Vec<CompletionLine>,
}

impl FunnelView {
    /// The view of `figures` over `window_hours`; `names` gives metric names by key.
    pub fn new(figures: &FunnelFigures, window_hours: i64, names: &[(String, String)]) -> Self {
        let class = |v: usize| format!("series-{}", v % SERIES_COLOURS);
        let name_of = |key: &str| {
            names
                .iter()
                .find(|(k, _)| k == key)
                .map_or_else(|| key.to_owned(), |(_, n)| n.clone())
        };
        let dash = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), percent);
        let rows = figures
            .steps
            .iter()
            .enumerate()
            .map(|(s, step)| FunnelRow {
                step: step.clone(),
                name: name_of(step),
                cells: figures
                    .variants
                    .iter()
                    .enumerate()
                    .map(|(v, variant)| {
                        let f = variant.steps.get(s).cloned().unwrap_or_default();
                        FunnelCell {
                            variant: variant.variant.clone(),
                            class: class(v),
                            entities: crate::grouped(f.entities),
                            rate: dash(f.rate),
                            rate_ci: interval(f.rate_ci95),
                            overall: dash(f.overall),
                            overall_ci: interval(f.overall_ci95),
                        }
                    })
                    .collect(),
            })
            .collect();
        let completed = |v: &VariantFigures| dash(v.steps.last().and_then(|s| s.overall));
        let control = figures.variants.iter().find(|v| v.control);
        let completions = figures
            .variants
            .iter()
            .filter(|v| !v.control && control.is_some())
            .map(|v| CompletionLine {
                variant: v.variant.clone(),
                rate: completed(v),
                control_rate: control.map_or_else(|| "—".to_owned(), completed),
                compared: v.completion.as_ref().map(|c| {
                    let [lo, hi] = c.ci95;
                    (
                        signed_percent(c.abs_diff),
                        format!("{} to {}", signed_percent(lo), signed_percent(hi)),
                        p_statement(c.p_value),
                    )
                }),
            })
            .collect();
        FunnelView {
            window: window_label(window_hours),
            control: control.map(|c| c.variant.clone()),
            exposed: crate::grouped(figures.variants.iter().map(|v| v.exposed).sum()),
            variants: figures
                .variants
                .iter()
                .enumerate()
                .map(|(v, f)| (class(v), f.variant.clone(), crate::grouped(f.exposed)))
                .collect(),
            chart: funnel_chart(figures),
            rows,
            completions,
        }
    }

    /// Whether any entity was exposed.
    pub fn has_exposures(&self) -> bool {
        self.exposed != "0"
    }
}

/// One of the form's step choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepSlot {
    /// Its number, from 1.
    pub number: usize,
    /// The metrics to choose from: key, label, whether chosen.
    pub options: Vec<Choice>,
}

/// What the API refused about the query: the field it names (`steps`, `windowHours`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRefusal {
    /// The field, as the API names it.
    pub field: String,
    /// The API's message.
    pub message: String,
}

/// The form choosing the steps and the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelForm {
    /// Whether the project has any conversion metric.
    pub has_metrics: bool,
    /// One choice per step offered.
    pub slots: Vec<StepSlot>,
    /// The window as asked (empty for the default).
    pub window: String,
    /// The default window, in hours.
    pub default_window: i64,
    /// The refusal of the query asked, if any.
    pub refusal: Option<FieldRefusal>,
}

impl FunnelForm {
    /// The form offering the conversion `metrics` (key, name, in the project's order) for
    /// `max_steps` steps at most (at least 2, and more when `chosen` names more), with the steps
    /// `chosen` (by key) and the `window` as asked.
    pub fn new(
        metrics: &[(String, String)],
        chosen: &[String],
        window: &str,
        max_steps: usize,
        default_window: i64,
    ) -> Self {
        let count = metrics.len().clamp(2, max_steps.max(2)).max(chosen.len());
        let slots = (0..count)
            .map(|i| {
                let wanted = chosen.get(i).map(String::as_str);
                let mut options: Vec<Choice> = metrics
                    .iter()
                    .map(|(k, n)| (k.clone(), format!("{n} ({k})"), Some(k.as_str()) == wanted))
                    .collect();
                if let Some(w) = wanted.filter(|w| !metrics.iter().any(|(k, _)| k == w)) {
                    let label = format!("{w} (not a conversion metric of this project)");
                    options.push((w.to_owned(), label, true));
                }
                StepSlot {
                    number: i + 1,
                    options,
                }
            })
            .collect();
        FunnelForm {
            has_metrics: !metrics.is_empty(),
            slots,
            window: window.to_owned(),
            default_window,
            refusal: None,
        }
    }

    /// The form showing the API's refusal `message` at `field`.
    pub fn refused(mut self, field: &str, message: &str) -> Self {
        self.refusal = Some(FieldRefusal {
            field: field.to_owned(),
            message: message.to_owned(),
        });
        self
    }

    fn error_at(&self, field: &str) -> Option<&str> {
        self.refusal
            .as_ref()
            .filter(|r| r.field == field)
            .map(|r| r.message.as_str())
    }

    /// The refusal at the steps.
    pub fn steps_error(&self) -> Option<&str> {
        self.error_at("steps")
    }

    /// The refusal at the window.
    pub fn window_error(&self) -> Option<&str> {
        self.error_at("windowHours")
    }
}

/// `/ui/t/{tenant}/flags/{id}/funnel`.
#[derive(Debug, Template)]
#[template(path = "funnel.html")]
pub struct FunnelPage {
    /// The frame.
    pub shell: Shell,
    /// The flag's id.
    pub id: i64,
    /// Its key.
    pub key: String,
    /// The form.
    pub form: FunnelForm,
    /// The funnel asked for, when the query was answered.
    pub funnel: Option<FunnelView>,
}

impl FunnelPage {
    /// The flag's page, relative to the tenant.
    pub fn flag_page(&self) -> String {
        format!("flags/{}", self.id)
    }

    /// The flag's experiments page, relative to the tenant.
    pub fn experiment_page(&self) -> String {
        format!("flags/{}/experiment", self.id)
    }

    /// Where the form is sent (the page itself, without its query).
    pub fn action(&self) -> String {
        let link = self.shell.link(&funnel_page(self.id));
        link.split('?').next().unwrap_or_default().to_owned()
    }
}

/// The funnel page of flag `flag`, relative to the tenant (for links from other pages).
pub fn funnel_page(flag: i64) -> String {
    format!("flags/{flag}/funnel")
}

#[cfg(test)]
mod tests;

//! A flag's experiment results as the experiments page shows them: the settings (control, metrics,
//! correction), the sample-ratio warning, and per metric a table with one row per variant (exposed
//! entities, value, lift with its interval bar, chance to beat the control, p-values, CUPED and the
//! verdict), plus the form that changes the settings.
//!
//! Invariant: the handler passes the numbers the results use case computed; everything here only
//! formats them (`figures`), so the page shows exactly what `GET /api/v1/flags/{id}/results` answers.

mod figures;

pub(crate) use figures::number;
pub use figures::{IntervalBar, Verdict, axis_extent, interval_bar};
pub(crate) use figures::{p_statement, p_value, percent, share, signed_percent};

/// A metric's place in the experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricRole {
    /// The metric the experiment is decided on.
    Primary,
    /// Also watched, corrected for multiple testing.
    Secondary,
    /// A guardrail of the project.
    Guardrail,
}

impl MetricRole {
    /// How the page names it.
    pub fn label(self) -> &'static str {
        match self {
            MetricRole::Primary => "Primary metric",
            MetricRole::Secondary => "Secondary metric",
            MetricRole::Guardrail => "Guardrail",
        }
    }
}

/// One treatment's comparison with the control, as the results use case computed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    /// Treatment / control − 1.
    pub rel_diff: Option<f64>,
    /// Its 95% interval.
    pub rel_ci95: Option<[f64; 2]>,
    /// The fixed-horizon p-value.
    pub p_value: f64,
    /// The sequential (always-valid) p-value.
    pub sequential_p: f64,
    /// The sequential p-value after the correction across secondary metrics.
    pub adjusted_p: Option<f64>,
    /// The Bayesian chance that the treatment is better.
    pub chance_to_beat: Option<f64>,
    /// The variance reduction CUPED achieved, when it adjusted the estimates.
    pub cuped: Option<f64>,
}

/// One variant's figures on one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// The variant's key.
    pub variant: String,
    /// Whether it is the control.
    pub control: bool,
    /// Entities exposed.
    pub exposed: u64,
    /// The rate, mean, ratio or quantile.
    pub value: Option<f64>,
    /// Its comparison with the control (none for the control, or without enough data).
    pub compared: Option<Compared>,
    /// The verdict (none for the control).
    pub verdict: Option<Verdict>,
}

/// One metric's results, as the results use case computed them.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredMetric {
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Its kind, as the API writes it (`conversion`, `mean`…).
    pub kind: &'static str,
    /// Whether more is better.
    pub increase: bool,
    /// Its role.
    pub role: MetricRole,
    /// One row per variant, the control first.
    pub rows: Vec<Measured>,
}

/// One row of a metric's table.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// The variant's key.
    pub variant: String,
    /// Whether it is the control.
    pub control: bool,
    /// Entities exposed, grouped.
    pub exposed: String,
    /// The value: a percentage for rates, else a number.
    pub value: String,
    /// The lift (`+12.3%`), or `—`.
    pub lift: String,
    /// The lift's interval bar, when there is an interval.
    pub bar: Option<IntervalBar>,
    /// The chance to beat the control (`97.5%`), or `—`.
    pub chance: String,
    /// The fixed-horizon p-value, or `—`.
    pub p_value: String,
    /// The sequential p-value, or `—`.
    pub sequential: String,
    /// The corrected sequential p-value, for secondary metrics.
    pub adjusted: Option<String>,
    /// What CUPED did (`Variance reduced by 23%`), when it adjusted the estimates.
    pub cuped: Option<String>,
    /// The verdict, for a treatment.
    pub verdict: Option<Verdict>,
}

/// One metric's table.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricTable {
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: MetricRole,
    /// What its value is (`conversion rate`, `mean`…).
    pub kind: &'static str,
    /// `higher is better` or `lower is better`.
    pub better: &'static str,
    /// The bars' axis extent (`±50%`).
    pub axis: String,
    /// One row per variant.
    pub rows: Vec<ResultRow>,
}

impl MetricTable {
    /// The table of `metric`, its bars on one axis.
    pub fn new(metric: MeasuredMetric) -> MetricTable {
        let extent = axis_extent(
            metric
                .rows
                .iter()
                .filter_map(|r| r.compared.as_ref()?.rel_ci95)
                .flatten(),
        );
        let rate = metric.kind == "conversion";
        let rows = metric
            .rows
            .into_iter()
            .map(|r| row(r, rate, extent))
            .collect();
        MetricTable {
            key: metric.key,
            name: metric.name,
            role: metric.role,
            kind: kind_label(metric.kind),
            better: if metric.increase {
                "higher is better"
            } else {
                "lower is better"
            },
            axis: format!("±{}", share(extent)),
            rows,
        }
    }
}

/// What a metric of `kind` measures, in a few words.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "conversion" => "conversion rate",
        "count" => "events per entity",
        "sum" => "total value per entity",
        "mean" => "mean value per event",
        "ratio" => "ratio of two metrics",
        "quantile" => "quantile of the values",
        _ => "value",
    }
}

/// One row's texts; `rate` writes the value as a percentage.
fn row(measured: Measured, rate: bool, extent: f64) -> ResultRow {
    let dash = || "—".to_owned();
    let c = measured.compared.as_ref();
    let verdict = measured.verdict.unwrap_or(Verdict::Collecting);
    ResultRow {
        exposed: crate::grouped(measured.exposed),
        value: measured
            .value
            .map_or_else(dash, |v| if rate { percent(v) } else { number(v) }),
        lift: c.and_then(|c| c.rel_diff).map_or_else(dash, signed_percent),
        bar: c.and_then(|c| Some(interval_bar(c.rel_diff?, c.rel_ci95?, extent, verdict))),
        chance: c.and_then(|c| c.chance_to_beat).map_or_else(dash, percent),
        p_value: c.map_or_else(dash, |c| p_value(c.p_value)),
        sequential: c.map_or_else(dash, |c| p_value(c.sequential_p)),
        adjusted: c.and_then(|c| c.adjusted_p).map(p_value),
        cuped: c
            .and_then(|c| c.cuped)
            .map(|r| format!("Adjusted with CUPED: variance reduced by {}", share(r))),
        variant: measured.variant,
        control: measured.control,
        verdict: measured.verdict,
    }
}

/// The sample-ratio warning: exposures per variant against the configured split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrmWarning {
    /// `control 300, treatment 100`.
    pub observed: String,
    /// `control 50%, treatment 50%`.
    pub expected: String,
    /// `p < 0.0001`.
    pub p: String,
}

impl SrmWarning {
    /// The warning for `observed` exposures against the `expected` shares, in the variants' order.
    pub fn new(observed: &[(String, u64)], expected: &[(String, f64)], p: f64) -> SrmWarning {
        let list = |items: Vec<String>| items.join(", ");
        SrmWarning {
            observed: list(
                observed
                    .iter()
                    .map(|(k, n)| format!("{k} {}", crate::grouped(*n)))
                    .collect(),
            ),
            expected: list(
                expected
                    .iter()
                    .map(|(k, s)| format!("{k} {}", share(*s)))
                    .collect(),
            ),
            p: p_statement(p),
        }
    }
}

/// The experiment's settings as the page states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExperimentSettings {
    /// The control variant's key.
    pub control: Option<String>,
    /// The primary metric's name.
    pub primary: Option<String>,
    /// The secondary metrics' names.
    pub secondary: Vec<String>,
    /// The correction's name (`Holm`).
    pub correction: &'static str,
}

/// The corrections the form offers: value and label.
pub const CORRECTIONS: [(&str, &str); 2] = [
    ("holm", "Holm (family-wise error rate)"),
    (
        "benjamini_hochberg",
        "Benjamini–Hochberg (false discovery rate)",
    ),
];

/// The label of correction `name`.
pub fn correction_label(name: &str) -> &'static str {
    match name {
        "benjamini_hochberg" => "Benjamini–Hochberg",
        _ => "Holm",
    }
}

/// An option of one of the form's choices: value, label, whether chosen.
pub type Choice = (String, String, bool);

/// The form that changes the settings (`PUT /api/v1/flags/{id}/experiment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExperimentForm {
    /// The flag's variants.
    pub variants: Vec<Choice>,
    /// The metrics that may be the primary one.
    pub primary: Vec<Choice>,
    /// The metrics that may be secondary.
    pub secondary: Vec<Choice>,
    /// The corrections.
    pub corrections: Vec<Choice>,
}

impl ExperimentForm {
    /// The form for a flag with `variants`, in a project whose own metrics are `metrics` (key,
    /// name), with the settings now in force (by key).
    pub fn new(
        variants: &[String],
        metrics: &[(String, String)],
        control: Option<&str>,
        primary: Option<&str>,
        secondary: &[String],
        correction: &str,
    ) -> ExperimentForm {
        let choices = |chosen: &dyn Fn(&str) -> bool| -> Vec<Choice> {
            metrics
                .iter()
                .map(|(k, n)| (k.clone(), format!("{n} ({k})"), chosen(k)))
                .collect()
        };
        ExperimentForm {
            variants: variants
                .iter()
                .map(|v| (v.clone(), v.clone(), Some(v.as_str()) == control))
                .collect(),
            primary: choices(&|k| Some(k) == primary),
            secondary: choices(&|k| secondary.iter().any(|s| s == k)),
            corrections: CORRECTIONS
                .iter()
                .map(|(v, l)| ((*v).to_owned(), (*l).to_owned(), *v == correction))
                .collect(),
        }
    }
}

/// The results section of the experiments page.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultsView {
    /// The API path of the settings (`/api/v1/flags/{id}/experiment`).
    pub api: String,
    /// The settings.
    pub settings: ExperimentSettings,
    /// Entities exposed to any variant.
    pub exposed: u64,
    /// The sample-ratio warning, when the split is off.
    pub srm: Option<SrmWarning>,
    /// One table per metric: primary, secondary, then guardrails.
    pub metrics: Vec<MetricTable>,
    /// The settings form, for viewers who may change them.
    pub form: Option<ExperimentForm>,
}

impl ResultsView {
    /// Whether any entity was exposed.
    pub fn has_exposures(&self) -> bool {
        self.exposed > 0
    }
}

#[cfg(test)]
mod tests;

//! Unit tests of the results section: each row's texts and bar from the numbers the results use case
//! computed, the sample-ratio warning, the settings form, and the section as rendered.

use super::*;
use crate::testing::shell;
use crate::{Chart, ExperimentPage};
use askama::Template;

/// The conversion experiment of the API tests: 20 of 200 control entities convert, 40 of 200
/// treatment entities (statsmodels' p-value, the mSPRT's, and the normal posterior's chance).
fn purchase() -> MeasuredMetric {
    MeasuredMetric {
        key: "purchase".into(),
        name: "Purchase".into(),
        kind: "conversion",
        increase: true,
        role: MetricRole::Primary,
        rows: vec![
            Measured {
                variant: "control".into(),
                control: true,
                exposed: 200,
                value: Some(0.1),
                compared: None,
                verdict: None,
            },
            Measured {
                variant: "treatment".into(),
                control: false,
                exposed: 1_200,
                value: Some(0.2),
                compared: Some(Compared {
                    rel_diff: Some(1.0),
                    rel_ci95: Some([0.2, 1.8]),
                    p_value: 0.005_101_399_646,
                    sequential_p: 0.692_736_006,
                    adjusted_p: None,
                    chance_to_beat: Some(0.975_069_898),
                    cuped: Some(0.234),
                }),
                verdict: Some(Verdict::Inconclusive),
            },
        ],
    }
}

#[test]
fn a_conversion_table_writes_rates_lift_chances_and_p_values() {
    let table = MetricTable::new(purchase());
    assert_eq!(
        (table.kind, table.better, table.axis.as_str()),
        ("conversion rate", "higher is better", "±200%")
    );
    let control = &table.rows[0];
    assert_eq!(
        (
            control.value.as_str(),
            control.lift.as_str(),
            control.control
        ),
        ("10.0%", "—", true)
    );
    assert!(control.bar.is_none() && control.verdict.is_none());
    let treatment = &table.rows[1];
    assert_eq!(treatment.exposed, "1,200");
    assert_eq!(treatment.value, "20.0%");
    assert_eq!(treatment.lift, "+100.0%");
    assert_eq!(treatment.chance, "97.5%");
    assert_eq!(treatment.p_value, "0.0051");
    assert_eq!(treatment.sequential, "0.69");
    assert_eq!(treatment.adjusted, None);
    assert_eq!(
        treatment.cuped.as_deref(),
        Some("Adjusted with CUPED: variance reduced by 23.4%")
    );
    let bar = treatment.bar.as_ref().expect("a bar");
    assert_eq!(
        (bar.x, bar.span, bar.point, bar.class),
        (87.6, 60.8, 118.0, "neutral")
    );
}

#[test]
fn other_kinds_write_numbers_and_missing_figures_as_dashes() {
    let mut latency = purchase();
    latency.kind = "quantile";
    latency.increase = false;
    latency.rows[0].value = Some(123.456);
    latency.rows[1].value = None;
    latency.rows[1].compared = None;
    latency.rows[1].verdict = Some(Verdict::Collecting);
    let table = MetricTable::new(latency);
    assert_eq!(
        (table.better, table.axis.as_str()),
        ("lower is better", "±10%")
    );
    assert_eq!(table.rows[0].value, "123.5");
    let row = &table.rows[1];
    assert_eq!(
        [
            &row.value,
            &row.lift,
            &row.chance,
            &row.p_value,
            &row.sequential
        ],
        ["—"; 5]
    );
    assert!(row.bar.is_none());
}

#[test]
fn the_warning_names_each_variants_exposures_and_share() {
    let warning = SrmWarning::new(
        &[("control".into(), 300), ("treatment".into(), 1_000)],
        &[("control".into(), 0.5), ("treatment".into(), 0.5)],
        1.5e-23,
    );
    assert_eq!(
        warning,
        SrmWarning {
            observed: "control 300, treatment 1,000".into(),
            expected: "control 50%, treatment 50%".into(),
            p: "p < 0.0001".into(),
        }
    );
}

#[test]
fn the_form_marks_the_settings_in_force() {
    let form = ExperimentForm::new(
        &["control".into(), "treatment".into()],
        &[
            ("purchase".into(), "Purchase".into()),
            ("visits".into(), "Visits".into()),
        ],
        Some("treatment"),
        Some("purchase"),
        &["visits".into()],
        "benjamini_hochberg",
    );
    assert_eq!(
        form.variants,
        [
            ("control".into(), "control".into(), false),
            ("treatment".into(), "treatment".into(), true)
        ]
    );
    assert_eq!(
        form.primary[0],
        ("purchase".into(), "Purchase (purchase)".into(), true)
    );
    assert!(!form.secondary[0].2 && form.secondary[1].2);
    assert!(!form.corrections[0].2 && form.corrections[1].2);
}

fn page(results: ResultsView) -> ExperimentPage {
    ExperimentPage {
        shell: shell("flags"),
        id: 7,
        key: "checkout".into(),
        enabled: true,
        ranges: Vec::new(),
        total: "0".into(),
        unserved: "0".into(),
        variants: Vec::new(),
        shares: Chart::default(),
        volume: Chart::default(),
        segments: Vec::new(),
        results,
    }
}

fn results(exposed: u64) -> ResultsView {
    ResultsView {
        api: "/api/v1/flags/7/experiment".into(),
        settings: ExperimentSettings {
            control: Some("control".into()),
            primary: Some("Purchase".into()),
            secondary: Vec::new(),
            correction: correction_label("holm"),
        },
        exposed,
        srm: Some(SrmWarning::new(
            &[("control".into(), 300), ("treatment".into(), 100)],
            &[("control".into(), 0.5), ("treatment".into(), 0.5)],
            1e-20,
        )),
        metrics: vec![MetricTable::new(purchase())],
        form: Some(ExperimentForm::new(
            &["control".into(), "treatment".into()],
            &[],
            Some("control"),
            None,
            &[],
            "holm",
        )),
    }
}

#[test]
fn the_section_shows_the_tables_bars_badges_warning_and_form() {
    let html = page(results(1_400)).render().unwrap();
    assert!(html.contains(
        "Sample ratio mismatch:</strong> the exposures per variant (control 300, treatment 100) do \
         not match the configured split (control 50%, treatment 50%), p &#60; 0.0001; results may be biased"
    ), "{html}");
    assert!(html.contains(r#"<rect class="range" x="87.6" y="6" width="60.8" height="8" rx="2">"#));
    assert!(
        html.contains("<title>Lift +100.0%, 95% interval +20.0% to +180.0% (axis ±200%)</title>")
    );
    assert!(html.contains(r#"<span class="badge neutral">Inconclusive</span>"#));
    assert!(html.contains(r#"<td colspan="5" class="muted">Control</td>"#));
    assert!(html.contains(r#"<abbr class="cuped""#));
    assert!(html.contains(r#"data-api="/api/v1/flags/7/experiment" data-method="PUT""#));
    assert!(html.contains(r#"<option value="control" selected>control</option>"#));
    assert!(!html.contains("No exposures of this flag"));
}

#[test]
fn without_exposures_the_section_says_how_to_send_them_and_readers_get_no_form() {
    let mut empty = results(0);
    empty.form = None;
    let html = page(empty).render().unwrap();
    assert!(html.contains("No exposures of this flag in this environment yet"));
    assert!(html.contains(r#"<a href="/api/docs">API documentation</a>"#));
    assert!(!html.contains("result-table"));
    assert!(!html.contains(r#"data-method="PUT""#));
}

//! The funnel page's view model: figures as text, the completion lines, the form's choices and
//! refusals, and the rendered page.

use super::*;
use crate::testing::shell;

/// The funnel of `analytics`' own test: control 60, 30, 10 of 100; treatment 80, 50, 25 of 100.
fn figures() -> FunnelFigures {
    let step = |entities, rate, rate_ci95, overall, overall_ci95| StepFigures {
        entities,
        rate: Some(rate),
        rate_ci95: Some(rate_ci95),
        overall: Some(overall),
        overall_ci95: Some(overall_ci95),
    };
    FunnelFigures {
        steps: vec!["visit".into(), "signup".into(), "purchase".into()],
        variants: vec![
            VariantFigures {
                variant: "control".into(),
                control: true,
                exposed: 100,
                steps: vec![
                    step(60, 0.6, [0.502, 0.691], 0.6, [0.502, 0.691]),
                    step(30, 0.5, [0.377, 0.623], 0.3, [0.219, 0.396]),
                    step(10, 1.0 / 3.0, [0.192, 0.512], 0.1, [0.055, 0.174]),
                ],
                completion: None,
            },
            VariantFigures {
                variant: "treatment".into(),
                control: false,
                exposed: 100,
                steps: vec![
                    step(80, 0.8, [0.711, 0.867], 0.8, [0.711, 0.867]),
                    step(50, 0.625, [0.516, 0.723], 0.5, [0.404, 0.596]),
                    step(25, 0.5, [0.366, 0.634], 0.25, [0.175, 0.343]),
                ],
                completion: Some(CompletionFigures {
                    abs_diff: 0.15,
                    ci95: [0.046_75, 0.253_25],
                    p_value: 0.005_247,
                }),
            },
        ],
    }
}

fn names() -> Vec<(String, String)> {
    vec![("visit".into(), "Visited".into())]
}

#[test]
fn the_table_writes_each_steps_figures_with_their_intervals() {
    let view = FunnelView::new(&figures(), 4, &names());
    assert_eq!(view.window, "4 hours");
    assert_eq!(view.exposed, "200");
    assert_eq!(view.control.as_deref(), Some("control"));
    assert_eq!(view.rows.len(), 3);
    assert_eq!(
        (view.rows[0].name.as_str(), view.rows[1].name.as_str()),
        ("Visited", "signup")
    );
    let last = &view.rows[2].cells[1];
    assert_eq!(
        last,
        &FunnelCell {
            variant: "treatment".into(),
            class: "series-1".into(),
            entities: "25".into(),
            rate: "50.0%".into(),
            rate_ci: "36.6% to 63.4%".into(),
            overall: "25.0%".into(),
            overall_ci: "17.5% to 34.3%".into(),
        }
    );
    assert_eq!(view.rows[2].cells[0].rate, "33.3%");
    assert_eq!(view.chart.bars.len(), 6);
}

#[test]
fn each_treatment_gets_a_completion_line_formatted_like_the_results() {
    let view = FunnelView::new(&figures(), 168, &[]);
    assert_eq!(view.window, "7 days");
    assert_eq!(
        view.completions,
        vec![CompletionLine {
            variant: "treatment".into(),
            rate: "25.0%".into(),
            control_rate: "10.0%".into(),
            compared: Some((
                "+15.0%".into(),
                "+4.7% to +25.3%".into(),
                "p = 0.0052".into()
            )),
        }]
    );
    let mut unknown = figures();
    unknown.variants[1].completion = None;
    unknown.variants[0].steps = vec![StepFigures::default(); 3];
    let view = FunnelView::new(&unknown, 1, &[]);
    assert_eq!(view.completions[0].compared, None);
    assert_eq!(view.completions[0].control_rate, "—");
    assert_eq!(view.rows[0].cells[0].rate_ci, "");
}

#[test]
fn the_scale_ends_at_the_smallest_round_share_holding_every_interval() {
    assert_eq!(axis_top(&figures()), 1.0);
    let mut low = figures();
    low.variants.truncate(1);
    low.variants[0].steps = vec![StepFigures {
        overall: Some(0.03),
        overall_ci95: Some([0.02, 0.041]),
        ..StepFigures::default()
    }];
    assert_eq!(axis_top(&low), 0.05);
    low.variants[0].steps[0].overall_ci95 = Some([0.0, f64::INFINITY]);
    assert_eq!(axis_top(&low), 0.05);
    low.variants.clear();
    assert_eq!(axis_top(&low), 0.01);
}

#[test]
fn the_form_offers_the_conversion_metrics_in_every_slot_and_keeps_the_choice() {
    let metrics: Vec<(String, String)> = ["visit", "signup", "purchase"]
        .map(|k| (k.to_owned(), k.to_uppercase()))
        .into();
    let chosen = ["signup".to_owned(), "visit".to_owned()];
    let form = FunnelForm::new(&metrics, &chosen, "12", 10, 168);
    assert!(form.has_metrics);
    assert_eq!(form.slots.len(), 3);
    assert_eq!(form.slots[0].number, 1);
    assert_eq!(
        form.slots[0].options[1],
        ("signup".into(), "SIGNUP (signup)".into(), true)
    );
    assert!(form.slots[1].options[0].2);
    assert!(form.slots[2].options.iter().all(|o| !o.2));
    assert_eq!(form.window, "12");
    // One metric still offers two slots; a key that is no conversion metric stays chosen.
    let one = FunnelForm::new(&metrics[..1], &["pages".to_owned()], "", 10, 168);
    assert_eq!(one.slots.len(), 2);
    assert_eq!(
        one.slots[0].options.last(),
        Some(&(
            "pages".into(),
            "pages (not a conversion metric of this project)".into(),
            true
        ))
    );
    // Never more slots than steps a funnel takes, unless more were asked for.
    let many: Vec<(String, String)> = (0..12)
        .map(|i| (format!("m{i}"), format!("M{i}")))
        .collect();
    assert_eq!(FunnelForm::new(&many, &[], "", 10, 168).slots.len(), 10);
    let asked: Vec<String> = many.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(FunnelForm::new(&many, &asked, "", 10, 168).slots.len(), 12);
    assert!(!FunnelForm::new(&[], &[], "", 10, 168).has_metrics);
}

#[test]
fn a_refusal_is_shown_at_the_field_it_names() {
    let form = FunnelForm::new(&[], &[], "0", 10, 168).refused("windowHours", "the window is 1");
    assert_eq!(form.window_error(), Some("the window is 1"));
    assert_eq!(form.steps_error(), None);
    let form = FunnelForm::new(&[], &[], "", 10, 168).refused("steps", "no metric");
    assert_eq!(form.steps_error(), Some("no metric"));
}

fn page(form: FunnelForm, funnel: Option<FunnelView>) -> String {
    FunnelPage {
        shell: shell("flags"),
        id: 7,
        key: "onboarding".into(),
        form,
        funnel,
    }
    .render()
    .expect("render")
}

#[test]
fn the_page_draws_the_bars_and_the_numbers_and_escapes_what_users_wrote() {
    let metrics = vec![("visit".to_owned(), "<b>Visit</b>".to_owned())];
    let form = FunnelForm::new(&metrics, &[], "", 10, 168);
    let html = page(form, Some(FunnelView::new(&figures(), 4, &metrics)));
    assert!(html.contains(
        r#"<form method="get" action="/ui/t/acme/flags/7/funnel" class="card funnel-form">"#
    ));
    assert!(html.contains(r#"<label for="funnel-step-2">Step 2</label>"#));
    assert!(html.contains("&#60;b&#62;Visit&#60;/b&#62; (visit)"));
    assert!(!html.contains("<b>Visit</b>"));
    assert!(html.contains(
        r#"<g class="funnel-bar series-1" data-variant="treatment" data-step="purchase">"#
    ));
    assert!(html.contains(r#"<text class="rate-label" x="#));
    assert!(html.contains(r#"<td class="figure rate"><span class="rate-figure">50.0%</span> <span class="ci">36.6% to 63.4%</span></td>"#));
    assert!(html.contains(r#"<span class="abs-diff">+15.0%</span>"#));
    assert!(html.contains(r#"<span class="p-value">p = 0.0052</span>"#));
    assert!(!html.contains("style="));
}

#[test]
fn the_page_shows_a_refusal_at_its_field_and_no_funnel() {
    let metrics = vec![("visit".to_owned(), "Visit".to_owned())];
    let form = FunnelForm::new(&metrics, &["visit".to_owned()], "", 10, 168)
        .refused("steps", "a funnel has 2 to 10 steps");
    let html = page(form, None);
    assert!(html.contains(
        r#"<span class="field-error" id="funnel-steps-error">a funnel has 2 to 10 steps</span>"#
    ));
    assert!(
        html.contains(r#"name="step" aria-invalid="true" aria-describedby="funnel-steps-error""#)
    );
    assert!(html.contains(r#"<p class="form-error" role="alert">a funnel has 2 to 10 steps</p>"#));
    assert!(!html.contains("funnel-window-error"));
    assert!(!html.contains("<svg class=\"funnel\""));
    let none = page(FunnelForm::new(&[], &[], "", 10, 168), None);
    assert!(none.contains("The project has no conversion metric yet."));
}

#[test]
fn without_exposures_the_page_says_so() {
    let mut empty = figures();
    for v in &mut empty.variants {
        v.exposed = 0;
    }
    let html = page(
        FunnelForm::new(&[], &[], "", 10, 168),
        Some(FunnelView::new(&empty, 168, &[])),
    );
    assert!(html.contains("No exposures of this flag in this environment yet"));
    assert_eq!(funnel_page(7), "flags/7/funnel");
}

//! Unit tests of the crash pages: each group's row from what the crash use cases answered, the links
//! and the flag filter, and both pages as rendered (escaped, no edit control, the chart's bars), plus
//! the link from a flag's crash rate results to its crash groups.

use super::*;
use crate::testing::shell;
use crate::{
    Chart, ExperimentPage, ExperimentSettings, Measured, MeasuredMetric, MetricRole, MetricTable,
    ResultsView,
};
use askama::Template;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn summary(id: i64, versions: &[&str]) -> CrashSummary {
    CrashSummary {
        id,
        error_type: "TypeError".into(),
        message: "Cannot read properties of undefined (reading 'total') <b>".into(),
        occurrences: 1_204,
        entities_affected: 37,
        first_seen: "2026-12-04T09:30:00.000Z".into(),
        last_seen: "2026-12-07T11:57:00.000Z".into(),
        app_versions: versions.iter().map(|v| (*v).to_owned()).collect(),
    }
}

#[test]
fn a_row_groups_its_counts_and_reads_its_times_relative_to_now() {
    let row = CrashGroupRow::new(&shell("crashes"), summary(42, &["2.1", "2.0"]), now());
    assert_eq!(
        (row.occurrences.as_str(), row.entities.as_str()),
        ("1,204", "37")
    );
    assert_eq!(row.first_seen.relative, "3 days ago");
    assert_eq!(row.last_seen.relative, "3 minutes ago");
    assert_eq!(row.last_seen.exact, "2026-12-07 11:57:00 UTC");
    assert_eq!(
        row.href,
        "/ui/t/acme/crashes/42?project=default&env=production"
    );
    assert_eq!(row.listed_versions(), ["2.1", "2.0"]);
    assert_eq!(row.more_versions(), "");
    let many = CrashGroupRow::new(
        &shell("crashes"),
        summary(1, &["5", "4", "3", "2", "1"]),
        now(),
    );
    assert_eq!(many.listed_versions(), ["5", "4", "3"]);
    assert_eq!(many.more_versions(), "and 2 more");
}

#[test]
fn links_keep_the_filter_and_encode_the_cursor_and_choices_include_the_filter() {
    let shell = shell("crashes");
    assert_eq!(
        crashes_link(&shell, "", None),
        "/ui/t/acme/crashes?project=default&env=production"
    );
    assert_eq!(
        crashes_link(&shell, "web/checkout", Some("1796637600000_42")),
        "/ui/t/acme/crashes?project=default&env=production&flag=web%2Fcheckout&cursor=1796637600000_42"
    );
    assert_eq!(
        flag_choices(vec!["zeta".into(), "alpha".into()], "theme"),
        ["alpha", "theme", "zeta"]
    );
    assert_eq!(
        flag_choices(vec!["zeta".into(), "alpha".into()], "zeta"),
        ["alpha", "zeta"]
    );
    assert_eq!(flag_choices(Vec::new(), ""), Vec::<String>::new());
}

fn list(groups: Vec<CrashGroupRow>) -> CrashesPage {
    let shell = shell("crashes");
    CrashesPage {
        older: Some(crashes_link(&shell, "checkout", Some("9_1"))),
        newest: None,
        groups,
        flag: "checkout".into(),
        flags: flag_choices(vec!["checkout".into(), "theme".into()], "checkout"),
        error: None,
        shell,
    }
}

#[test]
fn the_list_shows_each_group_escaped_with_the_filter_and_the_next_page() {
    let row = CrashGroupRow::new(&shell("crashes"), summary(42, &["2.1"]), now());
    let html = list(vec![row]).render().unwrap();
    assert!(
        html.contains(r#"aria-current="page">Crashes</a>"#),
        "{html}"
    );
    assert!(html.contains(r#"<tr data-group="42">"#));
    assert!(html.contains(
        r#"<a class="flag-key error-type" href="/ui/t/acme/crashes/42?project=default&#38;env=production">TypeError</a>"#
    ), "{html}");
    assert!(html.contains("(reading &#39;total&#39;) &#60;b&#62;"));
    assert!(!html.contains("<b>"));
    assert!(html.contains(r#"<td class="figure occurrences">1,204</td>"#));
    assert!(html.contains(r#"<td class="figure entities">37</td>"#));
    assert!(html.contains(
        r#"<time datetime="2026-12-07T11:57:00Z" title="2026-12-07 11:57:00 UTC">3 minutes ago</time>"#
    ));
    assert!(html.contains(r#"<td class="versions"><span class="tag">2.1</span></td>"#));
    assert!(html.contains(r#"<option value="checkout" selected>checkout</option>"#));
    assert!(html.contains(r#"<option value="theme">theme</option>"#));
    assert!(html.contains("under the flag <span class=\"flag-key\">checkout</span>"));
    assert!(html.contains(">Older crash groups</a>") && !html.contains("Newest crash groups"));
    assert!(html.contains("&#38;flag=checkout&#38;cursor=9_1"));
    // Only the sign-out form talks to the API: the page changes nothing.
    assert_eq!(html.matches("data-api=").count(), 1);
}

#[test]
fn an_empty_list_says_why_and_a_bad_cursor_is_explained() {
    let mut page = list(Vec::new());
    page.older = None;
    let html = page.render().unwrap();
    assert!(html.contains("No crash groups under this flag in this environment."));
    page.flag = String::new();
    page.error = Some("cursor must be the nextCursor of a previous page".into());
    let html = page.render().unwrap();
    assert!(html.contains("No crash reports in this environment yet."));
    assert!(html.contains(r#"<p class="warning" role="status">cursor must be"#));
    page.newest = Some(crashes_link(&page.shell, "", None));
    assert!(page.render().unwrap().contains(">Newest crash groups</a>"));
}

fn detail() -> CrashPage {
    let shell = shell("crashes");
    let checkout = RateChart::new(FlagRates {
        flag_key: "checkout".into(),
        link: Some(shell.link("flags/7/experiment")),
        variants: vec![
            VariantRate {
                variant: "control".into(),
                crashes: 3,
                exposed: 100,
                rate: Some(0.03),
            },
            VariantRate {
                variant: "treatment".into(),
                crashes: 12,
                exposed: 100,
                rate: Some(0.12),
            },
        ],
    });
    let theme = RateChart::new(FlagRates {
        flag_key: "theme".into(),
        link: None,
        variants: vec![VariantRate {
            variant: "dark".into(),
            crashes: 1,
            exposed: 0,
            rate: None,
        }],
    });
    CrashPage {
        group: CrashGroupRow::new(&shell, summary(42, &["2.1", "2.0"]), now()),
        platform: "web".into(),
        fingerprint: "ab".repeat(32),
        frames: vec![
            ("Checkout.pay".into(), "js/main.js".into()),
            ("submit".into(), "js/main.js".into()),
        ],
        recent: vec![RecentCrash::new(
            "2.1".into(),
            "2026-12-07T11:57:00.000Z",
            "Cannot read properties of undefined".into(),
            "00ff00ff00ff00ff".into(),
            now(),
        )],
        charts: vec![checkout, theme],
        more_flags: 1,
        shell,
    }
}

#[test]
fn the_group_page_shows_its_frames_reports_and_a_bar_per_variant() {
    let html = detail().render().unwrap();
    assert!(html.contains(
        r#"<a href="/ui/t/acme/crashes?project=default&#38;env=production">Crashes</a>"#
    ));
    assert!(html.contains(r#"<dd class="occurrences">1,204</dd>"#));
    assert!(html.contains(
        r#"<dd class="versions"><span class="tag">2.1</span><span class="tag">2.0</span></dd>"#
    ));
    assert!(html.contains(
        r#"<li><code class="function">Checkout.pay</code> <span class="muted">in</span> <code class="file">js/main.js</code></li>"#
    ));
    assert!(html.contains(r#"<td class="message">Cannot read properties of undefined</td>"#));
    assert!(html.contains(r#"<code class="entity""#) && html.contains(">00ff00ff00ff00ff</code>"));
    assert!(html.contains(
        r#"<rect class="bar series-0" data-variant="control" x="128" y="14" width="50.4" height="16" rx="2"><title>control: 3 crashes among 100 exposed entities, 0.0300 per entity</title></rect>"#
    ), "{html}");
    assert!(html.contains(r#"data-variant="treatment" x="128" y="42" width="201.6""#));
    assert!(html.contains(r#"<text class="tick value" x="335.6" y="54">0.120</text>"#));
    assert!(html.contains(
        r#"<a class="flag-key" href="/ui/t/acme/flags/7/experiment?project=default&#38;env=production">checkout</a>"#
    ));
    // A key no flag of the project has: its counts, no bar, no link.
    assert!(html.contains("<span class=\"flag-key\">theme</span> <span class=\"muted small\">no flag of this project</span>"));
    assert!(!html.contains(r#"data-variant="dark" x="#));
    assert!(html.contains(r#"<td class="figure rate">no exposures</td>"#));
    assert!(html.contains("1 more flag with fewer crashes in this group is not shown."));
    assert_eq!(html.matches("data-api=").count(), 1);
}

#[test]
fn a_group_without_flags_or_frames_says_so() {
    let mut page = detail();
    page.charts.clear();
    page.frames.clear();
    let html = page.render().unwrap();
    assert!(html.contains("No report of this group named an active flag variant."));
    assert!(html.contains("No in-app frame"));
    assert!(!html.contains("<svg"));
}

fn crash_rate_results() -> ResultsView {
    let row = |variant: &str, control: bool| Measured {
        variant: variant.into(),
        control,
        exposed: 100,
        value: Some(0.03),
        compared: None,
        verdict: None,
    };
    ResultsView {
        api: "/api/v1/flags/7/experiment".into(),
        settings: ExperimentSettings {
            control: Some("control".into()),
            primary: None,
            secondary: Vec::new(),
            correction: "Holm",
        },
        exposed: 200,
        srm: None,
        metrics: vec![MetricTable::new(MeasuredMetric {
            key: "crash_rate".into(),
            name: "Crash rate".into(),
            kind: "count",
            increase: false,
            role: MetricRole::Guardrail,
            rows: vec![row("control", true), row("treatment", false)],
        })],
        form: None,
    }
}

fn experiment(shell: Shell) -> ExperimentPage {
    ExperimentPage {
        shell,
        id: 7,
        key: "web/checkout".into(),
        enabled: true,
        ranges: Vec::new(),
        total: "0".into(),
        unserved: "0".into(),
        variants: Vec::new(),
        shares: Chart::default(),
        volume: Chart::default(),
        segments: Vec::new(),
        results: crash_rate_results(),
    }
}

#[test]
fn the_crash_rate_results_link_to_the_flags_crash_groups_for_those_who_open_them() {
    let html = experiment(shell("flags")).render().unwrap();
    assert!(html.contains(
        r#"<a href="/ui/t/acme/crashes?project=default&#38;env=production&#38;flag=web%2Fcheckout">Crash groups under web/checkout</a>"#
    ), "{html}");
    let mut without = shell("flags");
    without.settings.retain(|page| *page != "crashes");
    assert!(
        !experiment(without)
            .render()
            .unwrap()
            .contains("Crash groups under")
    );
}

#[test]
fn the_crashes_page_is_no_settings_page() {
    let mut frame = shell("crashes");
    frame.settings = vec!["metrics", "crashes"];
    assert!(frame.opens("crashes") && !frame.has_settings());
    frame.settings.push("roles");
    assert!(frame.has_settings());
}

//! A flag's experiments view: what each variant was configured to get against what it was served,
//! over the last day, week or month, from the variant counts `Usage` keeps. The tally, the predicted
//! shares and the sample-ratio checks are `flagent_evaluation::statistics`; this module builds the
//! page from them, with the results section `results.rs` builds from the measurement domain.

use super::page::{PageQuery, Refusal, Viewer, html};
use super::results;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{TimeZone, Utc};
use flagent_evaluation::statistics::{Buckets, ServedCount, Split, Tally};
use flagent_flags::Flag;
use flagent_tenants::usage::{HOUR, VariantCount, hour_of};
use flagent_types::FlagId;
use flagent_ui::{
    Chart, CheckVerdict, ExperimentPage, RangeLink, ResultsView, SERIES_COLOURS, SegmentCheck,
    Shell, VariantShare, grouped, line_chart,
};
use serde::Deserialize;

/// The periods offered: key, label, hours per bucket, buckets.
const RANGES: [(&str, &str, i64, usize); 3] = [
    ("24h", "Last 24 hours", 1, 24),
    ("7d", "Last 7 days", 6, 28),
    ("30d", "Last 30 days", 24, 30),
];

#[derive(Deserialize)]
pub(super) struct ExperimentQuery {
    #[serde(flatten)]
    page: PageQuery,
    /// `24h` (default), `7d` or `30d`.
    #[serde(default)]
    range: Option<String>,
}

/// One variant as the page names and colours it.
struct Named {
    id: i64,
    key: String,
    class: String,
}

/// The flag's variants in order, then any variant the counts name that no longer exists.
fn named_variants(flag: &Flag, counts: &[VariantCount]) -> Vec<Named> {
    let mut ids: Vec<(i64, String)> = flag
        .variants
        .iter()
        .map(|v| (v.id, v.key.clone()))
        .collect();
    for c in counts {
        if c.variant_id != 0 && !ids.iter().any(|(id, _)| *id == c.variant_id) {
            ids.push((c.variant_id, format!("#{} (deleted)", c.variant_id)));
        }
    }
    ids.into_iter()
        .enumerate()
        .map(|(i, (id, key))| Named {
            id,
            key,
            class: format!("series-{}", i % SERIES_COLOURS),
        })
        .collect()
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "—".to_owned()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// The split the flag's configuration asks for, per live segment.
fn split(flag: &Flag) -> Split {
    Split::new(flag.segments.iter().map(|s| {
        let distribution = s
            .distributions
            .iter()
            .map(|d| (d.variant_id, d.percent))
            .collect();
        (s.id, distribution)
    }))
}

/// The counts `Usage` keeps, as the statistics read them.
fn served_counts(counts: &[VariantCount]) -> Vec<ServedCount> {
    counts
        .iter()
        .map(|c| ServedCount {
            hour: c.hour,
            segment: c.segment_id,
            variant: c.variant_id,
            evaluations: c.evaluations,
        })
        .collect()
}

/// The period shown: where it starts (Unix seconds), its buckets and their length.
struct Period {
    key: &'static str,
    start: i64,
    bucket: i64,
    buckets: usize,
}

impl Period {
    /// The period `wanted` names (the first of [`RANGES`] when it names none), ending with the
    /// current hour.
    fn named(wanted: Option<&str>) -> Period {
        let (key, _, hours, buckets) = RANGES
            .iter()
            .copied()
            .find(|(key, ..)| Some(*key) == wanted)
            .unwrap_or(RANGES[0]);
        let bucket = hours * HOUR;
        let end = hour_of(Utc::now().timestamp()) + HOUR;
        Period {
            key,
            start: end - bucket * buckets as i64,
            bucket,
            buckets,
        }
    }

    /// The period's time buckets.
    fn buckets(&self) -> Buckets {
        Buckets {
            start: self.start,
            length: self.bucket,
            count: self.buckets,
        }
    }

    /// Labels for the first, middle and last bucket: the hour for a day, the date otherwise.
    fn axis_labels(&self) -> Vec<(usize, String)> {
        let format = if self.bucket * self.buckets as i64 <= 24 * HOUR {
            "%H:00"
        } else {
            "%d %b"
        };
        [0, self.buckets / 2, self.buckets.saturating_sub(1)]
            .into_iter()
            .map(|i| {
                let at = self.start + self.bucket * i as i64;
                let text = Utc
                    .timestamp_opt(at, 0)
                    .single()
                    .map(|t| t.format(format).to_string())
                    .unwrap_or_default();
                (i, text)
            })
            .collect()
    }
}

/// One line per variant: `value(bucket's counts per variant, variant index)` in each bucket.
fn series(
    variants: &[Named],
    tally: &Tally,
    value: impl Fn(&[u64], usize) -> Option<f64>,
) -> Vec<(String, String, Vec<Option<f64>>)> {
    variants
        .iter()
        .enumerate()
        .map(|(v, named)| {
            let values = tally.per_bucket.iter().map(|row| value(row, v)).collect();
            (named.class.clone(), named.key.clone(), values)
        })
        .collect()
}

/// Each variant's share of what was served per bucket, with the predicted shares as guides.
fn share_chart(
    variants: &[Named],
    tally: &Tally,
    predicted: Option<&[f64]>,
    period: &Period,
) -> Chart {
    let series = series(variants, tally, |row, v| {
        let total: u64 = row.iter().sum();
        (total > 0).then(|| row[v] as f64 / total as f64)
    });
    let guides = predicted
        .into_iter()
        .flat_map(|p| {
            variants
                .iter()
                .zip(p)
                .map(|(named, share)| (named.class.clone(), *share))
        })
        .collect();
    let percent = |v: f64| format!("{:.0}%", v * 100.0);
    line_chart(
        series,
        1.0,
        guides,
        percent,
        &period.axis_labels(),
        period.buckets,
    )
}

/// What each variant served per bucket.
fn volume_chart(variants: &[Named], tally: &Tally, period: &Period) -> Chart {
    let busiest = tally
        .per_bucket
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0);
    let series = series(variants, tally, |row, v| Some(row[v] as f64));
    let count = |v: f64| grouped(v.round() as u64);
    line_chart(
        series,
        busiest as f64,
        Vec::new(),
        count,
        &period.axis_labels(),
        period.buckets,
    )
}

/// The sample-ratio check of each live segment that splits between at least two variants.
fn segment_checks(
    flag: &Flag,
    variants: &[Named],
    tally: &Tally,
    split: &Split,
) -> Vec<SegmentCheck> {
    let ids: Vec<i64> = variants.iter().map(|v| v.id).collect();
    tally
        .ratio_checks(split, &ids)
        .into_iter()
        .filter_map(|check| {
            let live = flag.segments.iter().find(|s| s.id == check.segment)?;
            let rows = variants
                .iter()
                .zip(&check.percents)
                .zip(&check.observed)
                .map(|((named, p), n)| {
                    let share = percent(*n, check.matched);
                    (named.key.clone(), named.class.clone(), *p, share)
                })
                .collect();
            Some(SegmentCheck {
                name: if live.description.is_empty() {
                    format!("Segment #{}", check.segment)
                } else {
                    live.description.clone()
                },
                served: grouped(check.matched),
                rows,
                verdict: CheckVerdict::new(check.verdict.chi_square(), check.verdict.is_mismatch()),
            })
        })
        .collect()
}

/// The variant split a flag's configuration asks for against what it served, per time bucket and
/// in total, with a sample-ratio check per segment, then the results measured from its exposures
/// and events.
pub(super) async fn experiment(
    req: HttpRequest,
    state: Data<AppState>,
    path: Path<(String, i64)>,
    query: Query<ExperimentQuery>,
) -> Result<HttpResponse, Refusal> {
    let (tenant, id) = path.into_inner();
    let query = query.into_inner();
    let viewer = Viewer::of(&req, &state, &tenant, &query.page, "flags", "Experiment").await?;
    let refuse = |e: ApiError| Refusal::from_api(e);
    let flag = state.flags.flag(&viewer.scope, FlagId(id)).await;
    let flag = flag.map_err(|e| refuse(e.into()))?;
    let period = Period::named(query.range.as_deref());
    let counts = state
        .usage
        .variant_counts(&viewer.scope, id, period.start)
        .await
        .map_err(|e| refuse(e.into()))?;
    let results = results::section(&state, &viewer, &flag).await?;
    let nonce = viewer.shell.nonce.clone();
    let page = served_page(viewer, flag, &counts, &period, results);
    Ok(html(&page, Some(&nonce)))
}

/// The page for `flag`: what it served in `period` from `counts`, and its `results`.
fn served_page(
    viewer: Viewer,
    flag: Flag,
    counts: &[VariantCount],
    period: &Period,
    results: ResultsView,
) -> ExperimentPage {
    let variants = named_variants(&flag, counts);
    let ids: Vec<i64> = variants.iter().map(|v| v.id).collect();
    let tally = Tally::of(&served_counts(counts), &ids, &period.buckets());
    let split = split(&flag);
    let predicted = tally.predicted_shares(&split, &ids);
    let served_total = tally.served_total();
    let ranges = range_links(&viewer.shell, flag.id, period);
    let mut shell = viewer.shell;
    shell.title = format!("Experiment: {}", flag.key);
    ExperimentPage {
        shares: share_chart(&variants, &tally, predicted.as_deref(), period),
        volume: volume_chart(&variants, &tally, period),
        segments: segment_checks(&flag, &variants, &tally, &split),
        shell,
        id: flag.id,
        key: flag.key,
        enabled: flag.enabled,
        ranges,
        total: grouped(served_total + tally.unserved),
        unserved: grouped(tally.unserved),
        variants: variant_shares(&variants, &tally, predicted.as_deref()),
        results,
    }
}

/// Each variant's served count and observed share, with the share the configuration predicts.
fn variant_shares(
    variants: &[Named],
    tally: &Tally,
    predicted: Option<&[f64]>,
) -> Vec<VariantShare> {
    let served_total = tally.served_total();
    variants
        .iter()
        .zip(&tally.served)
        .enumerate()
        .map(|(v, (named, served))| VariantShare {
            key: named.key.clone(),
            class: named.class.clone(),
            served: grouped(*served),
            observed: percent(*served, served_total),
            expected: predicted.map(|p| format!("{:.1}%", p[v] * 100.0)),
        })
        .collect()
}

/// The links to the page of flag `flag` over each period, the shown one marked.
fn range_links(shell: &Shell, flag: i64, period: &Period) -> Vec<RangeLink> {
    let page = format!("flags/{flag}/experiment");
    RANGES
        .iter()
        .map(|(key, label, ..)| RangeLink {
            label,
            href: format!("{}&range={key}", shell.link(&page)),
            current: *key == period.key,
        })
        .collect()
}

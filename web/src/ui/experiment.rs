//! A flag's experiments view: what each variant was configured to get against what it was served,
//! over the last day, week or month, from the variant counts `Usage` keeps.

use super::page::{PageQuery, Refusal, Viewer, html};
use crate::state::AppState;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{TimeZone, Utc};
use flagent_flags::Flag;
use flagent_tenants::usage::{HOUR, VariantCount, hour_of};
use flagent_ui::{
    Chart, ExperimentPage, RangeLink, SERIES_COLOURS, SegmentCheck, VariantShare, grouped,
    line_chart, sample_ratio,
};
use serde::Deserialize;
use std::collections::BTreeMap;

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

/// The configured percent of `variant` in `segment` of `flag` (0 when the segment is gone or does
/// not name it).
fn configured(flag: &Flag, segment: i64, variant: i64) -> Option<i64> {
    let s = flag.segments.iter().find(|s| s.id == segment)?;
    Some(
        s.distributions
            .iter()
            .find(|d| d.variant_id == variant)
            .map_or(0, |d| d.percent),
    )
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

/// The counts of a period, by variant (in the order of [`named_variants`]).
struct Tally {
    /// Served per variant.
    served: Vec<u64>,
    /// Served per bucket, then per variant.
    per_bucket: Vec<Vec<u64>>,
    /// Served per segment, then per variant.
    by_segment: BTreeMap<i64, Vec<u64>>,
    /// Evaluations that served no variant.
    unserved: u64,
}

impl Tally {
    fn of(counts: &[VariantCount], variants: &[Named], period: &Period) -> Tally {
        let mut tally = Tally {
            served: vec![0; variants.len()],
            per_bucket: vec![vec![0; variants.len()]; period.buckets],
            by_segment: BTreeMap::new(),
            unserved: 0,
        };
        for c in counts {
            let Some(v) = variants.iter().position(|named| named.id == c.variant_id) else {
                tally.unserved += c.evaluations;
                continue;
            };
            tally.served[v] += c.evaluations;
            let b = usize::try_from((c.hour - period.start) / period.bucket).unwrap_or(0);
            if let Some(row) = tally.per_bucket.get_mut(b) {
                row[v] += c.evaluations;
            }
            tally
                .by_segment
                .entry(c.segment_id)
                .or_insert_with(|| vec![0; variants.len()])[v] += c.evaluations;
        }
        tally
    }

    fn served_total(&self) -> u64 {
        self.served.iter().sum()
    }
}

/// The share of each variant the configuration predicts: each segment's split weighted by the
/// evaluations it matched; `None` when nothing was served or a segment no longer exists.
fn predicted_shares(flag: &Flag, variants: &[Named], tally: &Tally) -> Option<Vec<f64>> {
    let total = tally.served_total();
    if total == 0 {
        return None;
    }
    let mut predicted = vec![0.0f64; variants.len()];
    for (segment, row) in &tally.by_segment {
        let matched: u64 = row.iter().sum();
        for (v, named) in variants.iter().enumerate() {
            let percent = configured(flag, *segment, named.id)?;
            predicted[v] += matched as f64 * percent as f64 / 100.0;
        }
    }
    Some(predicted.iter().map(|p| p / total as f64).collect())
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
fn segment_checks(flag: &Flag, variants: &[Named], tally: &Tally) -> Vec<SegmentCheck> {
    tally
        .by_segment
        .iter()
        .filter_map(|(segment, row)| {
            let live = flag.segments.iter().find(|s| s.id == *segment)?;
            let percents: Vec<i64> = variants
                .iter()
                .map(|named| configured(flag, *segment, named.id).unwrap_or(0))
                .collect();
            if percents.iter().filter(|p| **p > 0).count() < 2 {
                return None;
            }
            let matched: u64 = row.iter().sum();
            let rows = variants
                .iter()
                .zip(&percents)
                .zip(row)
                .map(|((named, p), n)| {
                    (
                        named.key.clone(),
                        named.class.clone(),
                        *p,
                        percent(*n, matched),
                    )
                })
                .collect();
            Some(SegmentCheck {
                name: if live.description.is_empty() {
                    format!("Segment #{segment}")
                } else {
                    live.description.clone()
                },
                served: grouped(matched),
                rows,
                verdict: sample_ratio(row, &percents),
            })
        })
        .collect()
}

/// The variant split a flag's configuration asks for against what it served, per time bucket and
/// in total, with a sample-ratio check per segment.
pub(super) async fn experiment(
    req: HttpRequest,
    state: Data<AppState>,
    path: Path<(String, i64)>,
    query: Query<ExperimentQuery>,
) -> Result<HttpResponse, Refusal> {
    let (tenant, id) = path.into_inner();
    let query = query.into_inner();
    let viewer = Viewer::of(&req, &state, &tenant, &query.page, "flags", "Experiment").await?;
    let flag = state
        .flags
        .flag(&viewer.scope, id)
        .await
        .map_err(|e| Refusal::from_api(e.into()))?;
    let period = Period::named(query.range.as_deref());
    let counts = state
        .usage
        .variant_counts(&viewer.scope, id, period.start)
        .await
        .map_err(|e| Refusal::from_api(e.into()))?;
    let variants = named_variants(&flag, &counts);
    let tally = Tally::of(&counts, &variants, &period);
    let predicted = predicted_shares(&flag, &variants, &tally);
    let served_total = tally.served_total();
    let variant_rows = variants
        .iter()
        .zip(&tally.served)
        .enumerate()
        .map(|(v, (named, served))| VariantShare {
            key: named.key.clone(),
            class: named.class.clone(),
            served: grouped(*served),
            observed: percent(*served, served_total),
            expected: predicted.as_ref().map(|p| format!("{:.1}%", p[v] * 100.0)),
        })
        .collect();
    let page = format!("flags/{id}/experiment");
    let ranges = RANGES
        .iter()
        .map(|(key, label, ..)| RangeLink {
            label,
            href: format!("{}&range={key}", viewer.shell.link(&page)),
            current: *key == period.key,
        })
        .collect();
    let mut shell = viewer.shell;
    shell.title = format!("Experiment: {}", flag.key);
    let nonce = shell.nonce.clone();
    Ok(html(
        &ExperimentPage {
            shares: share_chart(&variants, &tally, predicted.as_deref(), &period),
            volume: volume_chart(&variants, &tally, &period),
            segments: segment_checks(&flag, &variants, &tally),
            shell,
            id: flag.id,
            key: flag.key,
            enabled: flag.enabled,
            ranges,
            total: grouped(served_total + tally.unserved),
            unserved: grouped(tally.unserved),
            variants: variant_rows,
        },
        Some(&nonce),
    ))
}

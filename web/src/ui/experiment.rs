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
    ExperimentPage, RangeLink, SERIES_COLOURS, SegmentCheck, VariantShare, grouped, line_chart,
    sample_ratio,
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
    let wanted = query.range.as_deref().unwrap_or("24h");
    let (range, _, hours_per_bucket, buckets) = RANGES
        .iter()
        .copied()
        .find(|(key, ..)| *key == wanted)
        .unwrap_or(RANGES[0]);
    let bucket = hours_per_bucket * HOUR;
    let end = hour_of(Utc::now().timestamp()) + HOUR;
    let start = end - bucket * buckets as i64;
    let counts = state
        .usage
        .variant_counts(&viewer.scope, id, start)
        .await
        .map_err(|e| Refusal::from_api(e.into()))?;
    let variants = named_variants(&flag, &counts);
    let index_of = |variant: i64| variants.iter().position(|v| v.id == variant);

    // Totals per variant and per (segment, variant), and served per bucket and variant.
    let mut served = vec![0u64; variants.len()];
    let mut per_bucket = vec![vec![0u64; variants.len()]; buckets];
    let mut by_segment: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    let mut unserved = 0u64;
    for c in &counts {
        let Some(v) = index_of(c.variant_id) else {
            unserved += c.evaluations;
            continue;
        };
        served[v] += c.evaluations;
        let b = usize::try_from((c.hour - start) / bucket).unwrap_or(0);
        if let Some(row) = per_bucket.get_mut(b) {
            row[v] += c.evaluations;
        }
        by_segment
            .entry(c.segment_id)
            .or_insert_with(|| vec![0; variants.len()])[v] += c.evaluations;
    }
    let served_total: u64 = served.iter().sum();

    // Predicted shares: each segment's configured split, weighted by what it matched.
    let mut predicted = vec![0.0f64; variants.len()];
    let mut predictable = served_total > 0;
    for (segment, row) in &by_segment {
        let matched: u64 = row.iter().sum();
        for (v, named) in variants.iter().enumerate() {
            match configured(&flag, *segment, named.id) {
                Some(p) => predicted[v] += matched as f64 * p as f64 / 100.0,
                None => predictable = false,
            }
        }
    }
    let predicted: Option<Vec<f64>> =
        predictable.then(|| predicted.iter().map(|p| p / served_total as f64).collect());

    let shares = line_chart(
        variants
            .iter()
            .enumerate()
            .map(|(v, named)| {
                let values = per_bucket
                    .iter()
                    .map(|row| {
                        let total: u64 = row.iter().sum();
                        (total > 0).then(|| row[v] as f64 / total as f64)
                    })
                    .collect();
                (named.class.clone(), named.key.clone(), values)
            })
            .collect(),
        1.0,
        predicted
            .iter()
            .flat_map(|p| {
                variants
                    .iter()
                    .zip(p)
                    .map(|(named, share)| (named.class.clone(), *share))
            })
            .collect(),
        |v| format!("{:.0}%", v * 100.0),
        &axis_labels(start, bucket, buckets),
        buckets,
    );
    let busiest = per_bucket
        .iter()
        .flat_map(|row| row.iter().copied())
        .max()
        .unwrap_or(0);
    let volume = line_chart(
        variants
            .iter()
            .enumerate()
            .map(|(v, named)| {
                let values = per_bucket.iter().map(|row| Some(row[v] as f64)).collect();
                (named.class.clone(), named.key.clone(), values)
            })
            .collect(),
        busiest as f64,
        Vec::new(),
        |v| grouped(v.round() as u64),
        &axis_labels(start, bucket, buckets),
        buckets,
    );

    let segments = by_segment
        .iter()
        .filter_map(|(segment, row)| {
            let live = flag.segments.iter().find(|s| s.id == *segment)?;
            let percents: Vec<i64> = variants
                .iter()
                .map(|named| configured(&flag, *segment, named.id).unwrap_or(0))
                .collect();
            if percents.iter().filter(|p| **p > 0).count() < 2 {
                return None;
            }
            let matched: u64 = row.iter().sum();
            Some(SegmentCheck {
                name: if live.description.is_empty() {
                    format!("Segment #{segment}")
                } else {
                    live.description.clone()
                },
                served: grouped(matched),
                rows: variants
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
                    .collect(),
                verdict: sample_ratio(row, &percents),
            })
        })
        .collect();

    let variant_rows = variants
        .iter()
        .enumerate()
        .map(|(v, named)| VariantShare {
            key: named.key.clone(),
            class: named.class.clone(),
            served: grouped(served[v]),
            observed: percent(served[v], served_total),
            expected: predicted.as_ref().map(|p| format!("{:.1}%", p[v] * 100.0)),
        })
        .collect();
    let page = format!("flags/{id}/experiment");
    let ranges = RANGES
        .iter()
        .map(|(key, label, ..)| RangeLink {
            label,
            href: format!("{}&range={key}", viewer.shell.link(&page)),
            current: *key == range,
        })
        .collect();
    let mut shell = viewer.shell;
    shell.title = format!("Experiment: {}", flag.key);
    let nonce = shell.nonce.clone();
    Ok(html(
        &ExperimentPage {
            shell,
            id: flag.id,
            key: flag.key,
            enabled: flag.enabled,
            ranges,
            total: grouped(served_total + unserved),
            unserved: grouped(unserved),
            variants: variant_rows,
            shares,
            volume,
            segments,
        },
        Some(&nonce),
    ))
}

/// Labels for the first, middle and last bucket: the hour for a day's range, the date otherwise.
fn axis_labels(start: i64, bucket: i64, buckets: usize) -> Vec<(usize, String)> {
    let format = if bucket < 24 * HOUR && buckets * (bucket as usize) <= 24 * HOUR as usize {
        "%H:00"
    } else {
        "%d %b"
    };
    [0, buckets / 2, buckets.saturating_sub(1)]
        .into_iter()
        .map(|i| {
            let at = start + bucket * i as i64;
            let text = Utc
                .timestamp_opt(at, 0)
                .single()
                .map(|t| t.format(format).to_string())
                .unwrap_or_default();
            (i, text)
        })
        .collect()
}

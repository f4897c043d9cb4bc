//! A flag's history page: its versions in the page's environment, the comparison of two, and the
//! restore buttons (which post to `POST /api/v1/flags/{id}/snapshots/{snapshotID}/restore`).

use super::page::{PageQuery, Refusal, Viewer, html};
use crate::state::AppState;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use flagent_flags::{FlagSnapshot, SnapshotPage};
use flagent_types::{FlagId, SnapshotId};
use flagent_ui::{HistoryPage, Moment, VersionLabel, VersionRow, diff_lines};
use serde::Deserialize;
use serde_json::Value;

/// Versions per page.
const PAGE: u64 = 50;

/// Fields left out of the comparison: ids and ranks differ between equal configurations (a restore
/// writes new rows), and who, when and the version number head each version already.
const UNCOMPARED: &[&str] = &[
    "id",
    "variantID",
    "rank",
    "version",
    "createdBy",
    "updatedBy",
    "updatedAt",
    "environment",
    "projectKey",
];

#[derive(Deserialize)]
pub(super) struct HistoryQuery {
    #[serde(flatten)]
    page: PageQuery,
    /// The older version compared (a snapshot id).
    #[serde(default)]
    from: Option<i64>,
    /// The newer version compared (a snapshot id).
    #[serde(default)]
    to: Option<i64>,
    /// Versions skipped, newest first.
    #[serde(default)]
    offset: Option<u64>,
}

/// The flag's configuration in a snapshot, as the comparison reads it.
fn comparable(snapshot: &FlagSnapshot) -> Value {
    let mut value = serde_json::to_value(&snapshot.flag).unwrap_or_default();
    strip(&mut value);
    value
}

fn strip(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !UNCOMPARED.contains(&k.as_str()));
            map.values_mut().for_each(strip);
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

/// The top-level fields whose values differ.
fn changed_fields(older: &Value, newer: &Value) -> Vec<String> {
    let (Value::Object(old), Value::Object(new)) = (older, newer) else {
        return Vec::new();
    };
    new.iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .chain(old.keys().filter(|k| !new.contains_key(*k)).cloned())
        .collect()
}

fn label(snapshot: &FlagSnapshot, now: chrono::DateTime<chrono::Utc>) -> VersionLabel {
    VersionLabel {
        snapshot: snapshot.id,
        version: snapshot.flag.version,
        at: Moment::parse(&snapshot.updated_at, now),
    }
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// The versions of one flag in the page's environment, newest first, and the comparison of two of
/// them: the ones the query names, else the newest on the page and the one before it.
pub(super) async fn history(
    req: HttpRequest,
    state: Data<AppState>,
    path: Path<(String, i64)>,
    query: Query<HistoryQuery>,
) -> Result<HttpResponse, Refusal> {
    let (tenant, id) = path.into_inner();
    let query = query.into_inner();
    let viewer = Viewer::of(&req, &state, &tenant, &query.page, "flags", "History").await?;
    let refuse = |e: flagent_flags::FlagsError| Refusal::from_api(e.into());
    let flag = state
        .flags
        .flag(&viewer.scope, FlagId(id))
        .await
        .map_err(refuse)?;
    let offset = query.offset.unwrap_or(0);
    let now = chrono::Utc::now();
    // One more than shown: the row after the last tells what the last one changed.
    let page = SnapshotPage {
        limit: PAGE + 1,
        offset,
        ascending: false,
    };
    let snapshots = state
        .flags
        .snapshots(&viewer.scope, FlagId(id), page)
        .await
        .map_err(refuse)?;
    let values: Vec<Value> = snapshots.iter().map(comparable).collect();
    let shown = snapshots.len().min(PAGE as usize);
    let pick = async |wanted: Option<i64>, default: Option<&FlagSnapshot>| match wanted {
        Some(snapshot) => state
            .flags
            .snapshot(&viewer.scope, FlagId(id), SnapshotId(snapshot))
            .await
            .map(Some)
            .map_err(refuse),
        None => Ok(default.cloned()),
    };
    let to = pick(query.to, snapshots.first()).await?;
    let default_from = to
        .as_ref()
        .and_then(|t| snapshots.iter().find(|s| s.id < t.id));
    let from = pick(query.from, default_from).await?;
    let (compared, diff) = match (from, to) {
        (Some(a), Some(b)) => {
            let (older, newer) = if a.id <= b.id { (a, b) } else { (b, a) };
            let diff = diff_lines(&pretty(&comparable(&older)), &pretty(&comparable(&newer)));
            (Some((label(&older, now), label(&newer, now))), diff)
        }
        _ => (None, Vec::new()),
    };
    let is_compared = |snapshot: i64| {
        compared
            .as_ref()
            .is_some_and(|(a, b)| a.snapshot == snapshot || b.snapshot == snapshot)
    };
    let versions = snapshots
        .iter()
        .take(shown)
        .enumerate()
        .map(|(i, s)| VersionRow {
            snapshot: s.id,
            version: s.flag.version,
            at: Moment::parse(&s.updated_at, now),
            by: s.updated_by.clone(),
            changed: values
                .get(i + 1)
                .map(|before| changed_fields(before, &values[i]))
                .unwrap_or_default(),
            first: i + 1 == snapshots.len(),
            enabled: s.flag.enabled,
            current: offset == 0 && i == 0,
            compared: is_compared(s.id),
        })
        .collect();
    let mut shell = viewer.shell;
    shell.title = format!("History of {}", flag.key);
    let nonce = shell.nonce.clone();
    Ok(html(
        &HistoryPage {
            shell,
            id: flag.id,
            key: flag.key,
            versions,
            compared,
            diff,
            offset,
            more: snapshots.len() > shown,
        },
        Some(&nonce),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_stamps_are_left_out_at_every_depth() {
        let mut value = json!({
            "id": 1, "key": "k", "version": 3, "updatedAt": "t",
            "segments": [{"id": 2, "rank": 0, "rolloutPercent": 5,
                "distributions": [{"id": 3, "variantID": 4, "variantKey": "on", "percent": 100}]}]
        });
        strip(&mut value);
        assert_eq!(
            value,
            json!({"key": "k", "segments": [{"rolloutPercent": 5,
                "distributions": [{"variantKey": "on", "percent": 100}]}]})
        );
    }

    #[test]
    fn changed_fields_names_what_differs_or_went_away() {
        let older = json!({"enabled": false, "key": "k", "notes": "n"});
        let newer = json!({"enabled": true, "key": "k", "tags": []});
        let mut changed = changed_fields(&older, &newer);
        changed.sort();
        assert_eq!(changed, ["enabled", "notes", "tags"]);
    }
}

//! The crash pages: the environment's crash groups (`/ui/t/{tenant}/crashes`: error type, message,
//! occurrences, entities affected, first and last seen, app versions; newest first, a page at a time,
//! optionally only the groups with crashes under one flag) and one group
//! (`/ui/t/{tenant}/crashes/{id}`: its normalised frames, its latest reports, and per flag a chart of
//! the group's crashes per exposed entity of each variant, `chart`).
//!
//! Invariant: the handler passes what the crash use cases answered; everything here only formats it,
//! so the pages show exactly what `GET /api/v1/crashes…` and the group's crash rates say. The pages
//! offer no change: crash reports are only ever sent by applications.

mod chart;

pub use chart::{FlagRates, RateBar, RateChart, VariantRate, nice_ceiling, rate_text, tick_text};

use crate::views::enc;
use crate::{Moment, Shell, grouped};
use askama::Template;
use chrono::{DateTime, Utc};

/// App versions the list shows per group; the rest are counted.
pub const LISTED_VERSIONS: usize = 3;

/// A crash group as the crash use cases describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct CrashSummary {
    /// Its id.
    pub id: i64,
    /// The error type.
    pub error_type: String,
    /// The message of its first report.
    pub message: String,
    /// Reports received.
    pub occurrences: i64,
    /// Distinct entities among the stored reports.
    pub entities_affected: i64,
    /// When the earliest report crashed (RFC 3339).
    pub first_seen: String,
    /// When the latest report crashed (RFC 3339).
    pub last_seen: String,
    /// App versions seen, the most recently reported first.
    pub app_versions: Vec<String>,
}

/// A crash group as the pages show it.
#[derive(Debug, Clone, PartialEq)]
pub struct CrashGroupRow {
    /// Its id.
    pub id: i64,
    /// The error type.
    pub error_type: String,
    /// The message of its first report.
    pub message: String,
    /// Reports received, grouped (`1,204`).
    pub occurrences: String,
    /// Entities affected, grouped.
    pub entities: String,
    /// When it first crashed.
    pub first_seen: Moment,
    /// When it last crashed.
    pub last_seen: Moment,
    /// Every app version seen, the most recently reported first.
    pub app_versions: Vec<String>,
    /// Its page.
    pub href: String,
}

impl CrashGroupRow {
    /// The row of `group` in `shell`'s environment, its times seen at `now`.
    pub fn new(shell: &Shell, group: CrashSummary, now: DateTime<Utc>) -> CrashGroupRow {
        CrashGroupRow {
            href: shell.link(&format!("crashes/{}", group.id)),
            id: group.id,
            occurrences: grouped(u64::try_from(group.occurrences).unwrap_or(0)),
            entities: grouped(u64::try_from(group.entities_affected).unwrap_or(0)),
            first_seen: Moment::parse(&group.first_seen, now),
            last_seen: Moment::parse(&group.last_seen, now),
            error_type: group.error_type,
            message: group.message,
            app_versions: group.app_versions,
        }
    }

    /// The versions the list shows.
    pub fn listed_versions(&self) -> &[String] {
        &self.app_versions[..self.app_versions.len().min(LISTED_VERSIONS)]
    }

    /// `and 4 more` after the listed versions, or `""`.
    pub fn more_versions(&self) -> String {
        match self.app_versions.len().saturating_sub(LISTED_VERSIONS) {
            0 => String::new(),
            n => format!("and {n} more"),
        }
    }
}

/// The crash groups page at `cursor` (the first page without one), only groups with crashes under
/// `flag` unless it is empty.
pub fn crashes_link(shell: &Shell, flag: &str, cursor: Option<&str>) -> String {
    let mut link = shell.link("crashes");
    if !flag.is_empty() {
        link.push_str(&format!("&flag={}", enc(flag)));
    }
    if let Some(cursor) = cursor {
        link.push_str(&format!("&cursor={}", enc(cursor)));
    }
    link
}

/// The flags the filter offers: the project's flag keys, sorted, and the filtered key too when no
/// flag of the project has it (reports may name any key).
pub fn flag_choices(mut keys: Vec<String>, current: &str) -> Vec<String> {
    if !current.is_empty() && !keys.iter().any(|k| k == current) {
        keys.push(current.to_owned());
    }
    keys.sort();
    keys.dedup();
    keys
}

/// `/ui/t/{tenant}/crashes`.
#[derive(Debug, Template)]
#[template(path = "crashes.html")]
pub struct CrashesPage {
    /// The frame.
    pub shell: Shell,
    /// The groups of this page, the most recently seen first.
    pub groups: Vec<CrashGroupRow>,
    /// The flag filter (`""` for every group).
    pub flag: String,
    /// The flags the filter offers.
    pub flags: Vec<String>,
    /// The next (older) page, when there is one.
    pub older: Option<String>,
    /// The first page, when this is a later one.
    pub newest: Option<String>,
    /// Why the page asked for could not be read (a cursor from elsewhere), in the API's words.
    pub error: Option<String>,
}

/// One of a group's latest reports.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentCrash {
    /// The app version.
    pub app_version: String,
    /// When it crashed.
    pub at: Moment,
    /// Its message.
    pub message: String,
    /// The entity's stored hash (never the id sent).
    pub entity: String,
}

impl RecentCrash {
    /// A report with the app version, RFC 3339 time, message and entity hash the API shows, seen at
    /// `now`.
    pub fn new(
        app_version: String,
        timestamp: &str,
        message: String,
        entity: String,
        now: DateTime<Utc>,
    ) -> RecentCrash {
        RecentCrash {
            app_version,
            at: Moment::parse(timestamp, now),
            message,
            entity,
        }
    }
}

/// `/ui/t/{tenant}/crashes/{id}`.
#[derive(Debug, Template)]
#[template(path = "crash.html")]
pub struct CrashPage {
    /// The frame.
    pub shell: Shell,
    /// The group.
    pub group: CrashGroupRow,
    /// The platform of its first report.
    pub platform: String,
    /// Its fingerprint (SHA-256, hex).
    pub fingerprint: String,
    /// The normalised frames it is grouped by (function, file), innermost first.
    pub frames: Vec<(String, String)>,
    /// Its latest reports, newest first.
    pub recent: Vec<RecentCrash>,
    /// One chart per flag whose variants were active in its reports.
    pub charts: Vec<RateChart>,
    /// Flags with crashes in the group whose charts are left out.
    pub more_flags: usize,
}

impl CrashPage {
    /// The crash groups page of this environment.
    pub fn back(&self) -> String {
        self.shell.link("crashes")
    }
}

#[cfg(test)]
mod tests;

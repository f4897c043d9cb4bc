//! A flag's history page: its versions in one environment (the snapshot every change writes), a
//! line-by-line comparison of any two, and restoring one.
//!
//! Invariant: the comparison is computed here from two texts the handler prepares (the flags as
//! pretty JSON without ids and timestamps), so it needs no script to display; unchanged runs longer
//! than the context are folded into a count.

use crate::Moment;
use crate::views::Shell;
use askama::Template;
use similar::{ChangeTag, TextDiff};

/// Unchanged lines shown around each change.
const CONTEXT: usize = 3;

/// `/ui/t/{tenant}/flags/{id}/history`: a flag's versions in the page's environment.
#[derive(Debug, Template)]
#[template(path = "history.html")]
pub struct HistoryPage {
    /// The frame.
    pub shell: Shell,
    /// The flag's id.
    pub id: i64,
    /// Its key.
    pub key: String,
    /// Its versions here, newest first.
    pub versions: Vec<VersionRow>,
    /// The two versions compared (snapshot ids, older first), when there are two.
    pub compared: Option<(VersionLabel, VersionLabel)>,
    /// Their differences.
    pub diff: Vec<DiffHunk>,
    /// Snapshots skipped before the first row (paging).
    pub offset: u64,
    /// Whether older versions exist beyond the last row.
    pub more: bool,
}

/// One version of the flag in the history table.
#[derive(Debug, Clone)]
pub struct VersionRow {
    /// The snapshot's id.
    pub snapshot: i64,
    /// The flag's version number after that change.
    pub version: i64,
    /// When.
    pub at: Moment,
    /// Who made the change.
    pub by: String,
    /// The flag's top-level fields that differ from the version before it (`segments`, `enabled`…);
    /// empty for the first version shown when the one before it is not on this page.
    pub changed: Vec<String>,
    /// Whether this is the flag's first version (its creation, or its first here).
    pub first: bool,
    /// Whether the flag was on in this environment.
    pub enabled: bool,
    /// Whether this is the flag as it stands now.
    pub current: bool,
    /// Whether it is one of the two compared.
    pub compared: bool,
}

/// A compared version, as the comparison's heading names it.
#[derive(Debug, Clone)]
pub struct VersionLabel {
    /// The snapshot's id.
    pub snapshot: i64,
    /// The flag's version number.
    pub version: i64,
    /// When.
    pub at: Moment,
}

/// What a line of the comparison is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// In both versions.
    Same,
    /// Only in the newer version.
    Added,
    /// Only in the older version.
    Removed,
}

/// One line of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// Whether it was added, removed or kept.
    pub kind: LineKind,
    /// Its line number in the older text.
    pub old: Option<usize>,
    /// Its line number in the newer text.
    pub new: Option<usize>,
    /// The text, without its line break.
    pub text: String,
}

impl DiffLine {
    /// The CSS class of the line.
    pub fn class(&self) -> &'static str {
        match self.kind {
            LineKind::Same => "same",
            LineKind::Added => "added",
            LineKind::Removed => "removed",
        }
    }

    /// The marker shown before the text (`+`, `-` or a space).
    pub fn sign(&self) -> &'static str {
        match self.kind {
            LineKind::Same => " ",
            LineKind::Added => "+",
            LineKind::Removed => "-",
        }
    }
}

/// A run of changes with their context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffHunk {
    /// Unchanged lines folded away before this hunk.
    pub folded: usize,
    /// The lines.
    pub lines: Vec<DiffLine>,
}

impl HistoryPage {
    /// The flag's page, relative to the tenant.
    pub fn flag_page(&self) -> String {
        format!("flags/{}", self.id)
    }

    /// This page, relative to the tenant.
    pub fn page(&self) -> String {
        format!("flags/{}/history", self.id)
    }

    /// The flag's API path.
    pub fn api(&self) -> String {
        format!("/api/v1/flags/{}", self.id)
    }

    /// The question asked before restoring `version` (always asked: it replaces the whole
    /// configuration).
    pub fn confirm_restore(&self, version: &i64) -> String {
        let place = self
            .shell
            .current_environment()
            .map_or(self.shell.environment.as_str(), |e| e.name.as_str());
        format!(
            "Restore version {version} of this flag in {place}? Its configuration there becomes what it was then."
        )
    }

    /// Whether `snapshot` is the older of the two compared.
    pub fn is_from(&self, snapshot: &i64) -> bool {
        self.compared
            .as_ref()
            .is_some_and(|(from, _)| from.snapshot == *snapshot)
    }

    /// Whether `snapshot` is the newer of the two compared.
    pub fn is_to(&self, snapshot: &i64) -> bool {
        self.compared
            .as_ref()
            .is_some_and(|(_, to)| to.snapshot == *snapshot)
    }

    /// The offset of the next, older page.
    pub fn older_offset(&self) -> u64 {
        self.offset + self.versions.len() as u64
    }

    /// Whether the comparison found no difference.
    pub fn identical(&self) -> bool {
        self.compared.is_some() && self.diff.is_empty()
    }
}

/// The differences between `old` and `new`, line by line, as hunks with [`CONTEXT`] unchanged lines
/// around each change; empty when the texts are equal.
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffHunk> {
    let diff = TextDiff::from_lines(old, new);
    let mut hunks = Vec::new();
    let mut shown_until = 0;
    for group in diff.grouped_ops(CONTEXT) {
        let Some(first) = group.first() else {
            continue;
        };
        let start = first.old_range().start;
        let mut lines = Vec::new();
        for op in &group {
            for change in diff.iter_changes(op) {
                let kind = match change.tag() {
                    ChangeTag::Equal => LineKind::Same,
                    ChangeTag::Insert => LineKind::Added,
                    ChangeTag::Delete => LineKind::Removed,
                };
                lines.push(DiffLine {
                    kind,
                    old: change.old_index().map(|i| i + 1),
                    new: change.new_index().map(|i| i + 1),
                    text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                });
            }
        }
        if let Some(last) = group.last() {
            hunks.push(DiffHunk {
                folded: start.saturating_sub(shown_until),
                lines,
            });
            shown_until = last.old_range().end;
        }
    }
    hunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn equal_texts_have_no_hunks() {
        assert!(diff_lines("a\nb\n", "a\nb\n").is_empty());
    }

    #[test]
    fn a_change_shows_with_its_context_and_folds_the_rest() {
        let old = numbered(20);
        let new = old.replace("line 10\n", "line ten\n");
        let hunks = diff_lines(&old, &new);
        assert_eq!(hunks.len(), 1);
        let hunk = &hunks[0];
        assert_eq!(hunk.folded, 6, "lines 1 to 6 are folded");
        let kinds: Vec<_> = hunk
            .lines
            .iter()
            .map(|l| (l.sign(), l.text.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (" ", "line 7"),
                (" ", "line 8"),
                (" ", "line 9"),
                ("-", "line 10"),
                ("+", "line ten"),
                (" ", "line 11"),
                (" ", "line 12"),
                (" ", "line 13"),
            ]
        );
        let removed = &hunk.lines[3];
        assert_eq!((removed.old, removed.new), (Some(10), None));
        let added = &hunk.lines[4];
        assert_eq!((added.old, added.new), (None, Some(10)));
    }

    #[test]
    fn distant_changes_make_separate_hunks_counting_the_lines_between() {
        let old = numbered(30);
        let new = old
            .replace("line 2\n", "")
            .replace("line 25\n", "line 25\nline 25b\n");
        let hunks = diff_lines(&old, &new);
        assert_eq!(hunks.len(), 2);
        assert_eq!(hunks[0].folded, 0);
        // The first hunk ends at line 5 (three after line 2); the second starts at line 23.
        assert_eq!(hunks[1].folded, 22 - 5);
        assert!(
            hunks[1]
                .lines
                .iter()
                .any(|l| l.kind == LineKind::Added && l.text == "line 25b")
        );
    }
}

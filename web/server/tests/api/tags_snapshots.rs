//! API tests: tags_snapshots.

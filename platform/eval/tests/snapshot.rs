//! Snapshots: lookups, ordering, tags, and incremental updates that share untouched flags.

mod fixtures;

use fixtures::{eval, flag, segment, variant_key};
use flagent_eval::{FlagConfig, Snapshot, TagMatch};

const VARIANTS: [(i64, &str); 2] = [(1, "one"), (2, "two")];

fn tagged(id: i64, key: &str, tags: &[&str]) -> FlagConfig {
    let mut config = flag(
        id,
        key,
        &VARIANTS,
        vec![segment(id, 0, 100, Vec::new(), &[(1, 100)])],
    );
    config.tags = tags.iter().map(|tag| (*tag).to_owned()).collect();
    config
}

fn tags(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

/// Whether two snapshots hold the very same compiled flag for `id`.
fn shared(a: &Snapshot, b: &Snapshot, id: i64) -> bool {
    matches!((a.flag_by_id(id), b.flag_by_id(id)), (Some(x), Some(y)) if std::ptr::eq(x, y))
}

#[test]
fn default_snapshot_has_no_flags_and_revision_zero() {
    let snapshot = Snapshot::default();
    assert_eq!(
        (snapshot.revision(), snapshot.len(), snapshot.is_empty()),
        (0, 0, true)
    );
    assert_eq!(snapshot.flags().count(), 0);
}

#[test]
fn build_indexes_by_id_and_key_in_ascending_order() {
    let snapshot = Snapshot::build(
        3,
        vec![
            tagged(30, "c", &[]),
            tagged(10, "a", &[]),
            tagged(20, "b", &[]),
        ],
    );
    assert_eq!(
        (snapshot.revision(), snapshot.len(), snapshot.is_empty()),
        (3, 3, false)
    );
    let ids: Vec<i64> = snapshot.flags().map(|f| f.id()).collect();
    assert_eq!(ids, [10, 20, 30]);
    assert_eq!(snapshot.flag_by_key("b").map(|f| f.id()), Some(20));
    assert_eq!(snapshot.flag_by_id(30).map(|f| f.key()), Some("c"));
    assert!(snapshot.flag_by_id(40).is_none() && snapshot.flag_by_key("d").is_none());
    assert_eq!(
        snapshot.flag_by_id(10).map(|f| f.config().clone()),
        Some(tagged(10, "a", &[]))
    );
}

#[test]
fn clone_snapshot_shares_every_flag() {
    let snapshot = Snapshot::build(1, vec![tagged(1, "a", &[])]);
    let copy = snapshot.clone();
    assert!(shared(&snapshot, &copy, 1));
}

#[test]
fn updated_recompiles_upserts_and_shares_untouched_flags() {
    let before = Snapshot::build(
        1,
        vec![
            tagged(1, "a", &[]),
            tagged(2, "b", &[]),
            tagged(3, "c", &[]),
        ],
    );
    let mut changed = tagged(2, "b", &[]);
    changed.segments = vec![segment(2, 0, 100, Vec::new(), &[(2, 100)])];
    let after = before.updated(2, vec![changed, tagged(4, "d", &[])], &[3]);
    assert_eq!((before.revision(), after.revision()), (1, 2));
    assert_eq!(after.flags().map(|f| f.id()).collect::<Vec<_>>(), [1, 2, 4]);
    assert!(shared(&before, &after, 1));
    assert!(!shared(&before, &after, 2));
    assert_eq!(variant_key(&eval(&after, "b", "u", None)), Some("two"));
    assert_eq!(variant_key(&eval(&before, "b", "u", None)), Some("one"));
    assert!(after.flag_by_key("c").is_none() && before.flag_by_key("c").is_some());
    assert_eq!(after.flag_by_key("d").map(|f| f.id()), Some(4));
}

#[test]
fn updated_renamed_flag_drops_old_key() {
    let before = Snapshot::build(1, vec![tagged(1, "old", &[])]);
    let after = before.updated(2, vec![tagged(1, "new", &[])], &[]);
    assert!(after.flag_by_key("old").is_none());
    assert_eq!(after.flag_by_key("new").map(|f| f.id()), Some(1));
    assert_eq!(after.len(), 1);
}

#[test]
fn updated_removing_unknown_id_changes_only_revision() {
    let before = Snapshot::build(1, vec![tagged(1, "a", &[])]);
    let after = before.updated(9, Vec::new(), &[42]);
    assert_eq!((after.revision(), after.len()), (9, 1));
    assert!(shared(&before, &after, 1));
}

#[test]
fn flag_ids_with_tags_selects_any_or_all() {
    let snapshot = Snapshot::build(
        1,
        vec![
            tagged(3, "c", &["web", "beta"]),
            tagged(1, "a", &["web"]),
            tagged(2, "b", &["beta"]),
            tagged(4, "d", &[]),
        ],
    );
    assert_eq!(
        snapshot.flag_ids_with_tags(&tags(&["web", "beta"]), TagMatch::Any),
        [1, 2, 3]
    );
    assert_eq!(
        snapshot.flag_ids_with_tags(&tags(&["web", "beta"]), TagMatch::All),
        [3]
    );
    assert_eq!(
        snapshot.flag_ids_with_tags(&tags(&["web"]), TagMatch::All),
        [1, 3]
    );
    assert_eq!(
        snapshot.flag_ids_with_tags(&tags(&["none"]), TagMatch::Any),
        Vec::<i64>::new()
    );
    assert_eq!(
        snapshot.flag_ids_with_tags(&[], TagMatch::Any),
        Vec::<i64>::new()
    );
    assert_eq!(
        snapshot.flag_ids_with_tags(&[], TagMatch::All),
        Vec::<i64>::new()
    );
}

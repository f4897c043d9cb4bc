//! Flags, variants, segments, constraints, distributions, snapshots, publishing and import/export.

//! Settings and how they are loaded.

//! The composition root and the flagent binary.

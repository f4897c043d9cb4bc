//! API tests: evaluation.

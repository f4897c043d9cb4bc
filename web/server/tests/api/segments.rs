//! API tests: segments.

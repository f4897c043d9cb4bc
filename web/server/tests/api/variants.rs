//! API tests: variants.

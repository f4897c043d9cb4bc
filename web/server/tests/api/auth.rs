//! API tests: auth.

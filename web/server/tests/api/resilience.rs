//! API tests: resilience.

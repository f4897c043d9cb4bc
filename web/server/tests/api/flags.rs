//! API tests: flags.

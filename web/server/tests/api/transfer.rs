//! API tests: transfer.

//! Evaluation as a domain: everything that decides what an application is answered, over the
//! in-memory evaluation cache, with no storage and no HTTP.
//!
//! - [`EvalCache`] (`cache.rs`, `writer.rs`, `feed.rs`): one compiled snapshot per (tenant,
//!   environment), its change feed, and per-environment writers that the flag service holds across
//!   its commits.
//! - [`Evaluator`] (`evaluator.rs`): Flagr's single and batch evaluation (`flagr.rs`), OFREP's typed
//!   answers and reasons (`ofrep.rs`), the snapshot and changes for SDKs (`sdk.rs`), the Debug
//!   Console's explanations (`explain.rs`), and counting what was served through the ports in
//!   `ports.rs` ([`UsageSink`], [`ReasonCounter`]).
//! - [`statistics`]: the experiments tally and the sample-ratio check.
//!
//! Invariant: this crate names no database and no web framework; every answer is computed from one
//! snapshot of the caller's environment with `flagent_eval::evaluate`.

mod cache;
mod error;
mod evaluator;
mod explain;
mod feed;
mod flagr;
mod ofrep;
mod ports;
mod sdk;
pub mod statistics;
mod writer;

#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod evaluator_tests;

pub use cache::{EvalCache, FEED_LENGTH, Revised, Since};
pub use error::{EvaluationError, Result};
pub use evaluator::Evaluator;
pub use explain::{Console, Explained};
pub use flagr::{BatchQuery, Decision, Entity, EvalQuery};
pub use ofrep::{
    Bulk, OfrepCode, OfrepContext, OfrepFailure, OpenFeatureReason, Resolved, buckets, is_static,
    reason_name,
};
pub use ports::{ExposureSink, ReasonCounter, Served, UsageSink};
pub use sdk::{SdkSnapshot, View};
pub use writer::{CacheWriter, EnvUpdate, EnvWriter};

//! The evaluation engine: given one environment's compiled [`Snapshot`] and a request, decide the variant.
//!
//! Architecture Invariant: this crate is pure. It does no I/O, reads no clock, draws no random numbers,
//! starts no tasks and never panics on any configuration or context; bad data yields an [`Evaluation`]
//! whose [`Reason`] and debug log say what went wrong.
//! The contract is `evaluation.md`; its vectors are the tests in `tests/vectors.rs`.

mod attachment;
mod bucketing;
mod constraint;
mod evaluate;
mod flag;
mod literal;
mod matching;
mod model;
mod outcome;
mod path;
mod prerequisites;
mod snapshot;

pub use attachment::Attachment;
pub use bucketing::bucket;
pub use constraint::{ConstraintError, validate_constraint};
pub use evaluate::{Evaluation, FlagRef, Request, evaluate};
pub use flag::CompiledFlag;
pub use model::{
    Bucketing, ConstraintConfig, DistributionConfig, FlagConfig, Prerequisite, SegmentConfig,
    VariantConfig,
};
pub use outcome::{DebugLog, Reason, SegmentDebugLog};
pub use prerequisites::prerequisite_cycle;
pub use snapshot::{Snapshot, TagMatch};

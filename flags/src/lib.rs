//! Flag management: flags, variants, segments, constraints, distributions, tags and snapshots; keeping the
//! evaluation cache (`flagent_evaluation::EvalCache`) current by loading from the database and
//! publishing every change; import and export.
//!
//! Every use case is a method of [`Flags`] taking the caller's `TenantScope`. Every change runs in one
//! transaction that also writes a flag snapshot per touched environment and bumps those environments'
//! revisions, and is applied to the [`EvalCache`] before the method returns.

mod assemble;
mod audit;
mod constraint_ops;
mod dependents;
mod environment_ops;
mod error;
mod flag_ops;
mod flagr;
mod history;
mod import;
mod import_check;
mod model;
mod segment_ops;
mod service;
mod sync;
mod tag_ops;
mod transfer;
mod validate;
mod variant_ops;

pub use constraint_ops::{ConstraintInput, DistributionInput};
pub use environment_ops::{EnvironmentState, FlagComparison};
pub use error::{FlagsError, Resource, Result};
pub use flag_ops::{FlagFilter, FlagPatch, NewFlag, SIMPLE_BOOLEAN_FLAG};
pub use flagent_evaluation::{EvalCache, Revised, Since};
pub use flagr::{FlagrExport, from_flagr, to_flagr};
pub use history::SnapshotPage;
pub use import_check::validate_document;
pub use model::{Constraint, Distribution, Flag, FlagSnapshot, Segment, Tag, Variant};
pub use segment_ops::{NEW_SEGMENT_RANK, SegmentInput};
pub use service::Flags;
pub use sync::FULL_PASS_EVERY;
pub use transfer::{
    ConstraintDoc, DistributionDoc, Document, FlagDoc, ImportProblem, ImportReport, SegmentDoc,
    VariantDoc, flag_doc,
};
pub use variant_ops::VariantInput;

use flagent_types::{TenantScope, perm};

impl Flags {
    /// The caller's environment as an import document (live flags, ascending id).
    pub async fn export_document(&self, scope: &TenantScope) -> Result<Document> {
        scope.require::<perm::Read>()?;
        let flags = self.all_flags(scope).await?;
        Ok(Document {
            flags: flags.iter().map(flag_doc).collect(),
        })
    }

    /// The caller's environment in Flagr's eval-cache export shape.
    pub async fn export_flagr(&self, scope: &TenantScope) -> Result<FlagrExport> {
        scope.require::<perm::Read>()?;
        Ok(to_flagr(&self.all_flags(scope).await?))
    }

    async fn all_flags(&self, scope: &TenantScope) -> Result<Vec<Flag>> {
        let filter = FlagFilter {
            preload: true,
            ..FlagFilter::default()
        };
        self.list_flags(scope, &filter).await
    }
}

//! Audit events for flag changes: who changed which flag, from where, and the flag before and after.

use crate::assemble::{self, Names};
use crate::{Flag, Flags, Result};
use flagent_storage::{Connection, FlagSelection, NewAuditEvent, Scoped};
use flagent_types::{AuditAction, TenantScope};

/// What a change records in the audit log besides the flag after it.
pub(crate) struct Change {
    /// The action (`flag.update`, `segment.create`…).
    pub(crate) action: AuditAction,
    /// The flag in the caller's environment before the change (`None` when created).
    pub(crate) before: Option<Flag>,
}

/// JSON text of a flag view, or `null`.
fn json(flag: Option<&Flag>) -> String {
    flag.and_then(|f| serde_json::to_string(f).ok())
        .unwrap_or_else(|| "null".to_owned())
}

/// The audit event of a change to flag `flag_id` in the caller's environment.
pub(crate) fn event(
    scope: &TenantScope,
    action: AuditAction,
    flag_id: i64,
    environment: &str,
    before: Option<&Flag>,
    after: Option<&Flag>,
) -> NewAuditEvent {
    let id = flag_id.to_string();
    NewAuditEvent::by(
        scope,
        action,
        ("flag", &id),
        environment,
        json(before),
        json(after),
    )
}

impl Flags {
    /// The flag (deleted or not) as it stands in the caller's environment over `db`.
    pub(crate) async fn view_of(
        &self,
        db: &Scoped<impl Connection>,
        scope: &TenantScope,
        flag_id: i64,
    ) -> Result<Option<Flag>> {
        let (env, project) = self.names(db, scope).await?;
        let rows = db
            .load_flag_rows(project.id, env.id, &FlagSelection::Ids(vec![flag_id]))
            .await?;
        let names = Names {
            environment: &env.key,
            project: &project.key,
        };
        Ok(assemble::flags(&rows, &names).into_iter().next())
    }
}

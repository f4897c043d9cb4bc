//! [`Shared`]: what the client's handles and its background task share: the current compiled snapshot,
//! its revision and the connection [`Status`], each observable through a `tokio::sync::watch` channel.
//!
//! Invariants: the snapshot is swapped whole (one atomic store), so an evaluation sees one revision or
//! the next, never a mix; the revision channel is updated after the snapshot, so a waiter woken by it
//! evaluates at least that revision.

use crate::wire::{SnapshotBody, View};
use arc_swap::ArcSwap;
use flagent_eval::Snapshot;
use std::sync::Arc;
use tokio::sync::watch;

/// How current the client's configuration is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The stream is open: changes arrive as they are made.
    Connected,
    /// The stream is down and being retried; answers come from the last snapshot this process
    /// received from the server.
    Stale,
    /// The server has not been reached since the client was built; answers come from the snapshot
    /// file, or from an empty configuration (every flag not found) when there is none.
    Offline,
}

/// The configuration in use and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub(crate) snapshot: Snapshot,
    /// `None` until a snapshot (from the server or the file) is loaded.
    pub(crate) origin: Option<(i64, View)>,
}

impl Loaded {
    /// The configuration described by a snapshot body.
    pub(crate) fn from_body(body: SnapshotBody) -> Loaded {
        Loaded {
            snapshot: Snapshot::build(body.revision, body.flags),
            origin: Some((body.environment_id, body.view)),
        }
    }

    /// The body to persist.
    pub(crate) fn body(&self) -> Option<SnapshotBody> {
        let (environment_id, view) = self.origin?;
        Some(SnapshotBody::of(&self.snapshot, environment_id, view))
    }
}

/// State shared by every handle of one client and its background task.
#[derive(Debug)]
pub(crate) struct Shared {
    loaded: ArcSwap<Loaded>,
    revision: watch::Sender<u64>,
    status: watch::Sender<Status>,
}

impl Shared {
    /// Starts with `loaded` and `status`.
    pub(crate) fn new(loaded: Loaded, status: Status) -> Shared {
        let revision = loaded.snapshot.revision();
        Shared {
            loaded: ArcSwap::from_pointee(loaded),
            revision: watch::Sender::new(revision),
            status: watch::Sender::new(status),
        }
    }

    /// The configuration in use.
    pub(crate) fn loaded(&self) -> Arc<Loaded> {
        self.loaded.load_full()
    }

    /// Puts a new configuration in use, then announces its revision.
    pub(crate) fn install(&self, loaded: Loaded) {
        let revision = loaded.snapshot.revision();
        self.loaded.store(Arc::new(loaded));
        self.revision.send_replace(revision);
    }

    /// The current status.
    pub(crate) fn status(&self) -> Status {
        *self.status.borrow()
    }

    /// Changes the status, waking watchers only when it differs.
    pub(crate) fn set_status(&self, status: Status) {
        self.status.send_if_modified(|current| {
            let changed = *current != status;
            *current = status;
            changed
        });
    }

    /// A receiver of revision changes.
    pub(crate) fn watch_revision(&self) -> watch::Receiver<u64> {
        self.revision.subscribe()
    }

    /// A receiver of status changes.
    pub(crate) fn watch_status(&self) -> watch::Receiver<Status> {
        self.status.subscribe()
    }
}

//! The server's JSON shapes: the snapshot body (`GET /api/v1/snapshot`, the stream's `snapshot` event and
//! the persisted file), the data of the stream's other events (see `docs/streaming.md`), and the items and
//! answers of ingestion (`POST /api/v1/exposures`, `POST /api/v1/events`).

use flagent_eval::{FlagConfig, Snapshot};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which configuration a key sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// The full configuration (keys that may evaluate server-side).
    Server,
    /// The configuration a public `client` key sees: segment descriptions are empty.
    Client,
}

/// `{"environmentID", "revision", "view", "flags"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SnapshotBody {
    #[serde(rename = "environmentID")]
    pub(crate) environment_id: i64,
    pub(crate) revision: u64,
    pub(crate) view: View,
    pub(crate) flags: Vec<FlagConfig>,
}

impl SnapshotBody {
    /// The body describing a compiled snapshot (flags in ascending id order, as the server sends them).
    pub(crate) fn of(snapshot: &Snapshot, environment_id: i64, view: View) -> SnapshotBody {
        SnapshotBody {
            environment_id,
            revision: snapshot.revision(),
            view,
            flags: snapshot.flags().map(|flag| flag.config().clone()).collect(),
        }
    }
}

/// The data of a `flag.updated` event.
#[derive(Debug, Deserialize)]
pub(crate) struct FlagUpdated {
    pub(crate) revision: u64,
    pub(crate) flag: FlagConfig,
}

/// The data of a `flag.deleted` event.
#[derive(Debug, Deserialize)]
pub(crate) struct FlagDeleted {
    pub(crate) revision: u64,
    #[serde(rename = "flagID")]
    pub(crate) flag_id: i64,
}

/// The data of a `heartbeat` event.
#[derive(Debug, Deserialize)]
pub(crate) struct Heartbeat {
    pub(crate) revision: u64,
}

/// One item of `POST /api/v1/exposures`: the variant an entity was served, and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Exposure {
    pub(crate) flag_key: String,
    pub(crate) variant_key: String,
    #[serde(rename = "entityID")]
    pub(crate) entity_id: String,
    /// Milliseconds since the Unix epoch.
    pub(crate) timestamp: i64,
}

/// One item of `POST /api/v1/events`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Event {
    pub(crate) key: String,
    #[serde(rename = "entityID")]
    pub(crate) entity_id: String,
    /// Milliseconds since the Unix epoch.
    pub(crate) timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) properties: Option<Value>,
}

/// The `202` answer to an ingestion request: how many items were committed, and why the others were not.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Ingested {
    pub(crate) accepted: u64,
    #[serde(default)]
    pub(crate) rejected: Vec<Rejected>,
}

/// An item the server refused, by its index in the request.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Rejected {
    pub(crate) index: usize,
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) message: String,
}

//! The Rust SDK of Flagent: evaluates flags locally, with the server's own engine crate
//! (`flagent-eval`), against a copy of one environment's configuration that the server keeps current
//! through its stream (`GET /api/v1/stream`, see `docs/streaming.md`).
//!
//! ```no_run
//! # async fn run() -> Result<(), flagent_sdk::SdkError> {
//! use serde_json::json;
//!
//! let client = flagent_sdk::Client::builder("https://flags.example.com", "flg_eval_...")
//!     .environment("production")
//!     .persist_to("/var/lib/my-app/flags.json")
//!     .build()
//!     .await?;
//! let context = json!({"country": "CA", "plan": "pro"});
//! if client.bool_value("new-checkout", "user-42", &context, false) {
//!     // ...
//! }
//! let decision = client.evaluate("banner", "user-42", &context);
//! println!("{:?} {:?} at revision {}", decision.variant_key, decision.reason, decision.revision);
//! # Ok(()) }
//! ```
//!
//! How it stays current: [`ClientBuilder::build`] fetches `GET /api/v1/snapshot`, then a background task
//! follows the stream and applies each change as a whole revision. When the stream ends, breaks or stays
//! silent past the heartbeat timeout, the task reconnects with exponential back-off and jitter, resuming
//! after the last revision it applied. Meanwhile evaluation answers from the last good snapshot
//! ([`Status::Stale`]). With [`ClientBuilder::persist_to`], every applied change is also written to a file
//! (atomically), and a client built while the server is unreachable starts from that file
//! ([`Status::Offline`]).
//!
//! Measurement: every evaluation that serves a variant records an exposure (flag, variant, entity,
//! time), and [`Client::track`] and [`Client::track_error`] record events; a second background task
//! sends them in batches to `POST /api/v1/exposures` and `POST /api/v1/events` (a full batch of 1,000 at
//! once, the rest every [`ClientBuilder::flush_interval`]), honouring `Retry-After` on `429` and
//! retrying other failures with the same back-off, and sends what is pending when the client closes
//! ([`Client::close`], or dropping the last handle). The buffers are bounded; what does not fit is
//! dropped and counted ([`Client::recording_stats`]).
//!
//! Invariants: every answer comes from one revision of the configuration and is exactly what the server's
//! `/api/v1/evaluation` gives for it (same engine, same data; `web/server/tests/api/sdk.rs` checks this
//! on random configurations); a built client never returns an error; evaluation and recording never wait
//! on the network; dropping the last handle of a client stops its tasks, the sending one after it has
//! sent what is pending.

mod backoff;
mod builder;
mod client;
mod decision;
mod error;
mod http;
mod measure;
mod persist;
mod state;
mod sync;
mod wire;

pub use builder::ClientBuilder;
pub use client::Client;
pub use decision::Decision;
pub use error::SdkError;
pub use flagent_eval::{Reason, Request, Snapshot};
pub use measure::{Counts, RecordingStats};
pub use state::Status;
pub use wire::View;

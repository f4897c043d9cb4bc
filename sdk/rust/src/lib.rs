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
//! Invariants: every answer comes from one revision of the configuration and is exactly what the server's
//! `/api/v1/evaluation` gives for it (same engine, same data; `web/server/tests/api/sdk.rs` checks this
//! on random configurations); a built client never returns an error; dropping the last handle of a
//! client stops its task.

mod backoff;
mod builder;
mod client;
mod decision;
mod error;
mod http;
mod persist;
mod state;
mod sync;
mod wire;

pub use builder::ClientBuilder;
pub use client::Client;
pub use decision::Decision;
pub use error::SdkError;
pub use flagent_eval::{Reason, Request, Snapshot};
pub use state::Status;
pub use wire::View;

//! Crash fingerprints: which reports are the same bug. A report's fingerprint is the SHA-256 (hex) of
//! its error type and its top five normalised in-app frames (function and file), so the same bug
//! groups together across line numbers, addresses, bundle hashes and machines, while another error
//! type or other top frames make another group.
//!
//! Frames are read innermost first (the frame that crashed, then its caller), as stack traces list
//! them. A frame is in-app unless it is in a well-known system or library namespace
//! ([`SYSTEM_PREFIXES`], [`SYSTEM_PARTS`]); when no frame is in-app every frame counts. Frames that
//! normalise to nothing (a bare address) are skipped.
//!
//! Invariant: pure: no I/O, clock or randomness; the same report always gives the same fingerprint.

mod normalise;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Frames the fingerprint is made of.
pub const TOP_FRAMES: usize = 5;

/// Beginnings of functions, files and file names outside the application: the JVM, Kotlin and
/// Android, Apple's system libraries and frameworks, Node.js internals, anonymous code and Rust's
/// standard library and runtime.
pub const SYSTEM_PREFIXES: &[&str] = &[
    "java.",
    "javax.",
    "jdk.",
    "sun.",
    "kotlin.",
    "kotlinx.",
    "android.",
    "androidx.",
    "dalvik.",
    "com.android.internal.",
    "libsystem_",
    "libdyld",
    "libobjc",
    "libdispatch",
    "UIKit",
    "CoreFoundation",
    "Foundation",
    "GraphicsServices",
    "node:internal",
    "<anonymous>",
    "std::",
    "core::",
    "alloc::",
    "tokio::",
];

/// Path pieces that mark a file as a dependency's.
pub const SYSTEM_PARTS: &[&str] = &["node_modules/", "site-packages/"];

/// One normalised frame, as a group shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Frame {
    /// The function, normalised.
    pub function: String,
    /// The file, normalised.
    pub file: String,
}

/// A report's fingerprint and the frames it was made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// SHA-256 of the error type and the frames, as 64 lower-case hex digits.
    pub hash: String,
    /// The top normalised frames the hash covers, innermost first.
    pub frames: Vec<Frame>,
}

/// The fingerprint of a report of `error_type` with `frames` (function, file), innermost first.
pub fn fingerprint(error_type: &str, frames: &[(&str, &str)]) -> Fingerprint {
    let error_type = error_type.split_whitespace().collect::<Vec<_>>().join(" ");
    let in_app: Vec<&(&str, &str)> = frames.iter().filter(|f| in_app(f.0, f.1)).collect();
    let chosen = if in_app.is_empty() {
        frames.iter().collect()
    } else {
        in_app
    };
    let top: Vec<Frame> = chosen
        .into_iter()
        .map(|(function, file)| Frame {
            function: normalise::function(function),
            file: normalise::file(file),
        })
        .filter(|f| !f.function.is_empty() || !f.file.is_empty())
        .take(TOP_FRAMES)
        .collect();
    let pairs: Vec<(&str, &str)> = top
        .iter()
        .map(|f| (f.function.as_str(), f.file.as_str()))
        .collect();
    // JSON keeps the parts apart: no two different inputs give the same text.
    let text = serde_json::json!([error_type, pairs]).to_string();
    let digest = Sha256::digest(text.as_bytes());
    Fingerprint {
        hash: digest.iter().map(|b| format!("{b:02x}")).collect(),
        frames: top,
    }
}

/// Whether a frame (as sent) is the application's own code.
pub fn in_app(function: &str, file: &str) -> bool {
    let file = file.trim().replace('\\', "/");
    let name = file.rsplit('/').next().unwrap_or("");
    let function = function.trim();
    let symbol = function
        .trim_start_matches(['<', '-', '+', '['])
        .trim_start();
    let starts = |text: &str| SYSTEM_PREFIXES.iter().any(|p| text.starts_with(p));
    // A file's own name is checked against library names only (`java.ts` is not in `java.`).
    let library = SYSTEM_PREFIXES
        .iter()
        .any(|p| !p.ends_with(['.', ':']) && name.starts_with(p));
    let system = starts(function)
        || starts(symbol)
        || starts(&file)
        || library
        || SYSTEM_PARTS.iter().any(|p| file.contains(p));
    !system
}

#[cfg(test)]
mod tests;

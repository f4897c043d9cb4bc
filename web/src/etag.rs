//! Strong `ETag`s and `If-None-Match` for answers that only change with an environment's revision
//! (the OFREP bulk answer, the client-side snapshot).

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderValue};
use sha2::{Digest, Sha256};

/// A strong entity tag: the first 128 bits of SHA-256 over `parts`, each followed by a newline, in hex
/// and quoted.
pub(crate) fn strong(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update(b"\n");
    }
    let digest = hash.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` names `etag` (or is `*`); weak tags compare by their opaque part.
pub(crate) fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v: &HeaderValue| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_quoted_and_depend_on_every_part() {
        let a = strong(&["x", "1"]);
        assert!(a.starts_with('"') && a.ends_with('"') && a.len() == 34);
        assert_eq!(a, strong(&["x", "1"]));
        assert_ne!(a, strong(&["x", "2"]));
        assert_ne!(strong(&["x1", ""]), strong(&["x", "1"]));
    }
}

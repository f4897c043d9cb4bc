//! The static files pages load, compiled into the binary, and the version that busts caches.

use std::sync::LazyLock;

/// One static file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Its bytes.
    pub body: &'static [u8],
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

const ASSETS: &[(&str, Asset)] = &[
    (
        "app.css",
        Asset {
            body: include_bytes!("../static/app.css"),
            content_type: "text/css; charset=utf-8",
        },
    ),
    (
        "app.js",
        Asset {
            body: include_bytes!("../static/app.js"),
            content_type: "text/javascript; charset=utf-8",
        },
    ),
    (
        "logo.svg",
        Asset {
            body: include_bytes!("../static/logo.svg"),
            content_type: "image/svg+xml",
        },
    ),
];

/// The static file `name`, if there is one.
pub fn asset(name: &str) -> Option<Asset> {
    ASSETS.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

/// A short hash of every asset, appended to their URLs so browsers may cache them for good.
pub fn asset_version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| {
        let mut hasher = crc32fast::Hasher::new();
        for (name, asset) in ASSETS {
            hasher.update(name.as_bytes());
            hasher.update(asset.body);
        }
        format!("{:08x}", hasher.finalize())
    });
    &VERSION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_found_by_name_with_their_type_and_unknown_names_are_not() {
        assert_eq!(
            asset("app.css").map(|a| a.content_type),
            Some("text/css; charset=utf-8")
        );
        assert!(asset("app.js").is_some_and(|a| !a.body.is_empty()));
        assert!(asset("../Cargo.toml").is_none());
        assert_eq!(asset_version().len(), 8);
    }
}

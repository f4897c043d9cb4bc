//! Tidy checks of the whole workspace: the crate dependency graph of STYLE B1, a `//!` header on every
//! Rust file, and every crate described in ARCHITECTURE.md's code map.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace edges allowed for each crate (normal dependencies only).
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("flagent-types", &[][..]),
        ("flagent-eval", &["flagent-types"][..]),
        ("flagent-stats", &[][..]),
        ("flagent-storage", &["flagent-types"][..]),
        // Evaluation is domain logic over the engine and the cache: never storage, never flags.
        ("flagent-evaluation", &["flagent-types", "flagent-eval"][..]),
        (
            "flagent-flags",
            &[
                "flagent-types",
                "flagent-eval",
                "flagent-evaluation",
                "flagent-storage",
            ][..],
        ),
        ("flagent-migrations", &[][..]),
        ("flagent-auth", &["flagent-types", "flagent-storage"][..]),
        (
            "flagent-tenants",
            &[
                "flagent-types",
                "flagent-storage",
                "flagent-auth",
                "flagent-evaluation",
            ][..],
        ),
        (
            "flagent-analytics",
            &[
                "flagent-types",
                "flagent-eval",
                "flagent-evaluation",
                "flagent-storage",
                "flagent-stats",
                "flagent-jobs",
            ][..],
        ),
        ("flagent-billing", &["flagent-types", "flagent-storage"][..]),
        ("flagent-config", &["flagent-types"][..]),
        ("flagent-telemetry", &[][..]),
        (
            "flagent-jobs",
            &["flagent-types", "flagent-storage", "flagent-telemetry"][..],
        ),
        (
            "flagent-testkit",
            &["flagent-types", "flagent-storage", "flagent-migrations"][..],
        ),
        ("flagent-ui", &["flagent-types"][..]),
        (
            "flagent-web",
            &[
                "flagent-types",
                "flagent-analytics",
                "flagent-eval",
                "flagent-evaluation",
                "flagent-flags",
                "flagent-auth",
                "flagent-tenants",
                "flagent-billing",
                "flagent-telemetry",
                "flagent-ui",
            ][..],
        ),
        ("flagent-server", &["*"][..]),
        ("flagent-sdk", &["flagent-eval"][..]),
        ("flagent-load", &[][..]),
    ])
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("metadata JSON")
}

fn workspace_edges() -> BTreeMap<String, BTreeSet<String>> {
    let meta = metadata();
    let packages = meta["packages"].as_array().expect("packages");
    let names: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|d| names.contains(d))
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

#[test]
fn crate_graph_follows_the_layering_table() {
    let allowed = allowed();
    let mut problems = Vec::new();
    for (krate, deps) in workspace_edges() {
        let Some(ok) = allowed.get(krate.as_str()) else {
            problems.push(format!("{krate} is not in the layering table (STYLE B1)"));
            continue;
        };
        for dep in deps
            .iter()
            .filter(|d| !ok.contains(&"*") && !ok.contains(&d.as_str()))
        {
            problems.push(format!("{krate} must not depend on {dep}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn ground_floor_names_no_crate_above_it() {
    let edges = workspace_edges();
    let platform = [
        "flagent-types",
        "flagent-eval",
        "flagent-storage",
        "flagent-config",
        "flagent-telemetry",
    ];
    for krate in platform {
        for dep in &edges[krate] {
            assert!(
                platform.contains(&dep.as_str()),
                "{krate} (platform) depends on {dep}, which is above it"
            );
        }
    }
}

/// A crate in `platform/` (the ground floor's folder) depends only on the ground floor, which is
/// `platform/` and the schema's own top-level folder `migrations/`: a crate that depends on one of the
/// middle floor (as `flagent-flags` does on `flagent-evaluation`) lives in its own top-level folder
/// beside it.
#[test]
fn platform_folder_holds_only_the_ground_floor() {
    let meta = metadata();
    let platform_dir = root().join("platform");
    let ground_dirs = [platform_dir.clone(), root().join("migrations")];
    let edges = workspace_edges();
    for package in meta["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("name");
        let manifest = Path::new(package["manifest_path"].as_str().expect("manifest path"));
        let in_platform = manifest.starts_with(&platform_dir);
        let ground = edges[name].iter().all(|dep| {
            let dep_manifest = meta["packages"]
                .as_array()
                .expect("packages")
                .iter()
                .find(|p| p["name"] == dep.as_str())
                .and_then(|p| p["manifest_path"].as_str())
                .expect("a workspace dependency's manifest");
            ground_dirs
                .iter()
                .any(|dir| Path::new(dep_manifest).starts_with(dir))
        });
        if in_platform {
            assert!(
                ground,
                "{name} is in platform/ but depends on a crate above it"
            );
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !matches!(name.as_ref(), "target" | ".git" | "node_modules" | "data")
                && !name.starts_with('.')
            {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_comment() {
    let mut files = Vec::new();
    rust_files(&root(), &mut files);
    assert!(files.len() > 20, "found only {} Rust files", files.len());
    let missing: Vec<_> = files
        .iter()
        .filter(|f| {
            !std::fs::read_to_string(f)
                .unwrap_or_default()
                .starts_with("//!")
        })
        .map(|f| f.strip_prefix(root()).unwrap_or(f).display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading //! comment: {missing:#?}"
    );
}

#[test]
fn architecture_code_map_names_every_crate() {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let missing: Vec<_> = workspace_edges()
        .into_keys()
        .filter(|krate| !text.contains(&format!("`{krate}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "crates missing from ARCHITECTURE.md's code map: {missing:?}"
    );
}

/// Every external dependency of each workspace crate (normal dependencies only).
fn external_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let meta = metadata();
    let packages = meta["packages"].as_array().expect("packages");
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null() && d["path"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

/// The crates that may name actix: the HTTP adapter and the composition root; the telemetry crate, whose
/// root-span builder is a `tracing-actix-web` one (STYLE B5); and the load-test tool beside the floors.
const ACTIX_CRATES: [&str; 4] = [
    "flagent-web",
    "flagent-server",
    "flagent-telemetry",
    "flagent-load",
];

#[test]
fn only_storage_names_sea_orm_and_only_the_http_crates_name_actix() {
    let mut problems = Vec::new();
    for (krate, deps) in external_dependencies() {
        for dep in deps {
            let database = dep.starts_with("sea-orm") || dep.starts_with("sqlx");
            let http = dep.starts_with("actix") || dep == "tracing-actix-web";
            if database && !["flagent-storage", "flagent-migrations"].contains(&krate.as_str()) {
                problems.push(format!(
                    "{krate} names {dep}: only flagent-storage and flagent-migrations may"
                ));
            }
            if http && !ACTIX_CRATES.contains(&krate.as_str()) {
                problems.push(format!("{krate} names {dep}: only {ACTIX_CRATES:?} may"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

//! The snapshot file: the last good configuration on disk, so a process that starts while the server is
//! unreachable still answers as the server last did.
//!
//! The file holds exactly the body of `GET /api/v1/snapshot`.
//! Invariants: a write is atomic (a temporary file in the same folder, flushed, then renamed over the
//! old one), so a reader sees the old file or the new one, never a torn one; a file that is missing or
//! does not parse is ignored (with a warning when it exists), never an error.

use crate::wire::SnapshotBody;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reads the snapshot file; `None` when it is missing or unreadable (logged).
pub(crate) fn load(path: &Path) -> Option<SnapshotBody> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            tracing::debug!(path = %path.display(), "no snapshot file yet");
            return None;
        }
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "could not read the snapshot file; ignoring it");
            return None;
        }
    };
    match serde_json::from_slice(&bytes) {
        Ok(body) => Some(body),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "the snapshot file does not parse; ignoring it");
            None
        }
    }
}

/// Writes the snapshot file atomically: temporary file, flush to disk, rename.
pub(crate) fn save(path: &Path, body: &SnapshotBody) -> std::io::Result<()> {
    let json = serde_json::to_vec(body)?;
    let temporary = temporary_path(path);
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// `.<name>.tmp-<pid>` beside `path`, so the rename never crosses file systems.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".to_owned());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::View;
    use flagent_eval::FlagConfig;

    fn body(revision: u64) -> SnapshotBody {
        let flag: FlagConfig = serde_json::from_value(serde_json::json!({
            "id": 7, "key": "banner", "salt": "banner", "enabled": true,
            "variants": [{"id": 1, "key": "on"}]
        }))
        .unwrap();
        SnapshotBody {
            environment_id: 3,
            revision,
            view: View::Server,
            flags: vec![flag],
        }
    }

    #[test]
    fn save_then_load_round_trips_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flags.json");
        save(&path, &body(4)).unwrap();
        save(&path, &body(5)).unwrap();
        let loaded = load(&path).expect("the file loads");
        assert_eq!(loaded.revision, 5);
        assert_eq!(loaded.flags, body(5).flags);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["flags.json"]);
    }

    #[test]
    fn load_of_a_missing_file_returns_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(&dir.path().join("absent.json")).is_none());
    }

    #[test]
    fn load_of_a_corrupt_file_returns_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flags.json");
        std::fs::write(&path, b"{\"revision\": 3, \"flags\": [").unwrap();
        assert!(load(&path).is_none());
    }

    #[test]
    fn save_into_a_missing_folder_fails_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent").join("flags.json");
        assert!(save(&path, &body(1)).is_err());
    }
}

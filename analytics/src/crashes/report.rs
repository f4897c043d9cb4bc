//! Reading one crash report of a `POST /api/v1/crashes` batch (`{platform, appVersion, errorType,
//! message, frames: [{function, file, line}], entityID, timestamp, flags: {flagKey: variantKey}}`),
//! field by field, refusing it at the first problem with its index and a reason.
//!
//! Invariant: every text is bounded before anything is kept: a message over its limit is cut at a
//! character boundary, every other field over its limit refuses the report.

use crate::ingest::validate::{Item, Refusal};
use serde::Serialize;
use serde_json::Value;

/// Crash reports per request.
pub const MAX_CRASHES: usize = 100;
/// Bytes of a platform or an app version.
pub const MAX_PLATFORM_BYTES: usize = 64;
/// Bytes of an error type.
pub const MAX_ERROR_TYPE_BYTES: usize = 256;
/// Bytes of a message kept (longer ones are cut).
pub const MAX_MESSAGE_BYTES: usize = 1_024;
/// Frames per report.
pub const MAX_FRAMES: usize = 200;
/// Bytes of a frame's function or file.
pub const MAX_FRAME_TEXT_BYTES: usize = 512;
/// Flags per report.
pub const MAX_FLAGS: usize = 100;

/// One crash report, read.
pub(crate) struct Report<'a> {
    pub(crate) platform: &'a str,
    pub(crate) app_version: &'a str,
    pub(crate) error_type: &'a str,
    pub(crate) message: String,
    pub(crate) frames: Vec<SentFrame<'a>>,
    pub(crate) entity: &'a str,
    pub(crate) timestamp: i64,
    pub(crate) flags: Vec<(&'a str, &'a str)>,
}

/// A frame as sent (the fields kept of it).
#[derive(Debug, PartialEq, Eq, Serialize)]
pub(crate) struct SentFrame<'a> {
    pub(crate) function: &'a str,
    pub(crate) file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line: Option<u64>,
}

/// Reads item `index` of the batch, with timestamps checked against `now`.
pub(crate) fn read(index: usize, value: &Value, now: i64) -> Result<Report<'_>, Refusal> {
    let item = Item::new(index, value)?;
    Ok(Report {
        platform: item.text("platform", "invalid_platform", MAX_PLATFORM_BYTES)?,
        app_version: item.text("appVersion", "invalid_app_version", MAX_PLATFORM_BYTES)?,
        error_type: item.text("errorType", "invalid_error_type", MAX_ERROR_TYPE_BYTES)?,
        message: item.truncated("message", "invalid_message", MAX_MESSAGE_BYTES)?,
        frames: frames(&item)?,
        entity: item.key("entityID", "invalid_entity")?,
        timestamp: item.timestamp(now)?,
        flags: item.text_map("flags", "invalid_flags", MAX_FLAGS)?,
    })
}

/// The report's frames: each an object with a function or a file (or both) and optionally a line.
fn frames<'a>(item: &Item<'a>) -> Result<Vec<SentFrame<'a>>, Refusal> {
    let values = item.array("frames", "invalid_frames", MAX_FRAMES)?;
    let mut frames = Vec::with_capacity(values.len());
    for (k, value) in values.iter().enumerate() {
        let read = item
            .part(value, "invalid_frame", "each frame")
            .and_then(|frame| {
                let text =
                    |name: &str| frame.optional_text(name, "invalid_frame", MAX_FRAME_TEXT_BYTES);
                let function = text("function")?.unwrap_or("");
                let file = text("file")?.unwrap_or("");
                if function.is_empty() && file.is_empty() {
                    return Err(frame.refuse("invalid_frame", "a frame needs a function or a file"));
                }
                let line = frame.count("line", "invalid_frame")?;
                Ok(SentFrame {
                    function,
                    file,
                    line,
                })
            });
        match read {
            Ok(frame) => frames.push(frame),
            Err(mut refusal) => {
                refusal.message = format!("frames[{k}]: {}", refusal.message);
                return Err(refusal);
            }
        }
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_796_637_600_000;

    fn good() -> Value {
        json!({"platform": "web", "appVersion": "1.2.0", "errorType": "TypeError",
               "message": "x is undefined", "entityID": "u1", "timestamp": NOW,
               "frames": [{"function": "pay", "file": "main.js", "line": 12}, {"file": "vendor.js"}],
               "flags": {"checkout": "treatment"}})
    }

    fn refusal(change: impl FnOnce(&mut Value)) -> Refusal {
        let mut value = good();
        change(&mut value);
        read(3, &value, NOW).err().expect("refused")
    }

    #[test]
    fn a_good_report_is_read_whole() {
        let value = good();
        let report = read(0, &value, NOW).unwrap();
        assert_eq!((report.platform, report.app_version), ("web", "1.2.0"));
        assert_eq!(
            report.frames[1],
            SentFrame {
                function: "",
                file: "vendor.js",
                line: None
            }
        );
        assert_eq!(report.flags, vec![("checkout", "treatment")]);
        assert_eq!(
            serde_json::to_string(&report.frames).unwrap(),
            r#"[{"function":"pay","file":"main.js","line":12},{"function":"","file":"vendor.js"}]"#
        );
    }

    /// A change to a good report, and the refusal code it should cause.
    type Case = (Box<dyn FnOnce(&mut Value)>, &'static str);

    #[test]
    fn each_bound_refuses_with_its_code_and_long_messages_are_cut() {
        let cases: Vec<Case> = vec![
            (
                Box::new(|v| v["platform"] = json!("p".repeat(65))),
                "invalid_platform",
            ),
            (
                Box::new(|v| v["appVersion"] = json!("")),
                "invalid_app_version",
            ),
            (
                Box::new(|v| v["errorType"] = json!("e".repeat(257))),
                "invalid_error_type",
            ),
            (Box::new(|v| v["message"] = json!(5)), "invalid_message"),
            (
                Box::new(|v| v["frames"] = json!(vec![json!({"file": "f"}); 201])),
                "invalid_frames",
            ),
            (Box::new(|v| v["frames"] = json!({})), "invalid_frames"),
            (Box::new(|v| v["frames"] = json!([7])), "invalid_frame"),
            (
                Box::new(|v| v["frames"] = json!([{"function": "f".repeat(513)}])),
                "invalid_frame",
            ),
            (
                Box::new(|v| v["frames"] = json!([{"line": 3}])),
                "invalid_frame",
            ),
            (
                Box::new(|v| v["frames"] = json!([{"file": "a", "line": -3}])),
                "invalid_frame",
            ),
            (Box::new(|v| v["entityID"] = json!(null)), "invalid_entity"),
            (
                Box::new(|v| v["timestamp"] = json!("soon")),
                "invalid_timestamp",
            ),
            (Box::new(|v| v["flags"] = json!({"k": 1})), "invalid_flags"),
        ];
        for (change, code) in cases {
            let refused = refusal(change);
            assert_eq!(
                (refused.index, refused.code),
                (3, code),
                "{}",
                refused.message
            );
        }
        let many: serde_json::Map<String, Value> = (0..=MAX_FLAGS)
            .map(|k| (format!("f{k}"), json!("v")))
            .collect();
        assert_eq!(
            refusal(|v| v["flags"] = Value::Object(many)).code,
            "invalid_flags"
        );
        assert!(
            refusal(|v| v["frames"][1] = json!({}))
                .message
                .starts_with("frames[1]: ")
        );
        let mut long = good();
        long["message"] = json!("€".repeat(400));
        let report = read(0, &long, NOW).unwrap();
        assert_eq!(report.message.len(), 1_023);
        assert!(report.message.chars().all(|c| c == '€'));
        let mut bare = good();
        bare.as_object_mut().unwrap().remove("message");
        bare.as_object_mut().unwrap().remove("flags");
        let report = read(0, &bare, NOW).unwrap();
        assert_eq!((report.message.as_str(), report.flags.len()), ("", 0));
    }
}

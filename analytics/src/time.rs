//! Time as measurement stores it: milliseconds since the Unix epoch, and whole UTC days.

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;

/// The UTC day (days since the Unix epoch) of the instant `ms`.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// Reads a timestamp as the wire sends it: RFC 3339 text, or milliseconds since the Unix epoch as
/// a whole number.
pub(crate) fn parse_timestamp(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp_millis()),
        serde_json::Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_are_rfc_3339_or_epoch_milliseconds() {
        assert_eq!(
            parse_timestamp(&json!("2026-12-07T10:00:00Z")),
            Some(1_796_637_600_000)
        );
        assert_eq!(
            parse_timestamp(&json!("2026-12-07T11:00:00+01:00")),
            Some(1_796_637_600_000)
        );
        assert_eq!(
            parse_timestamp(&json!(1_796_637_600_000_i64)),
            Some(1_796_637_600_000)
        );
        assert_eq!(parse_timestamp(&json!(1.5)), None);
        assert_eq!(parse_timestamp(&json!("yesterday")), None);
        assert_eq!(parse_timestamp(&json!(null)), None);
    }

    #[test]
    fn days_are_utc_and_floor_before_the_epoch() {
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(DAY_MS - 1), 0);
        assert_eq!(day_of(DAY_MS), 1);
        assert_eq!(day_of(-1), -1);
    }
}

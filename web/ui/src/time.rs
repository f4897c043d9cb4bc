//! Times and figures as pages show them: a [`Moment`] carries the exact instant (RFC 3339, for the
//! `<time datetime>` attribute), the exact time in UTC (its title, which `app.js` replaces with the
//! browser's local time) and a relative text computed on the server ("3 minutes ago"); [`grouped`]
//! writes counts with thousands separators.
//!
//! Invariant: nothing here reads the clock; the page handler passes the instant the page is rendered
//! at, so the texts are pure functions of their inputs.

use chrono::{DateTime, SecondsFormat, Utc};

/// Seconds in a minute, an hour, a day and a week.
const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// An instant as a page shows it: `<time datetime="{datetime}" title="{exact}">{relative}</time>`
/// (the `time` macro of `macros.html`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    /// RFC 3339 in UTC, to the second (`2026-03-02T14:05:09Z`).
    pub datetime: String,
    /// The exact time in UTC, for people (`2026-03-02 14:05:09 UTC`).
    pub exact: String,
    /// The time relative to `now` (`just now`, `3 minutes ago`, `yesterday`, `in 2 days`, `2 Mar 2026`).
    pub relative: String,
}

impl Moment {
    /// The instant `at`, seen at `now`.
    pub fn new(at: DateTime<Utc>, now: DateTime<Utc>) -> Moment {
        Moment {
            datetime: at.to_rfc3339_opts(SecondsFormat::Secs, true),
            exact: at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            relative: relative(at, now),
        }
    }

    /// The instant `millis` milliseconds after the Unix epoch, seen at `now`.
    pub fn from_millis(millis: i64, now: DateTime<Utc>) -> Moment {
        Moment::new(
            DateTime::from_timestamp_millis(millis).unwrap_or_default(),
            now,
        )
    }

    /// An RFC 3339 time as the services write it, seen at `now`; a text that is not one is shown as
    /// it is.
    pub fn parse(text: &str, now: DateTime<Utc>) -> Moment {
        match DateTime::parse_from_rfc3339(text) {
            Ok(at) => Moment::new(at.with_timezone(&Utc), now),
            Err(_) => Moment {
                datetime: text.to_owned(),
                exact: text.to_owned(),
                relative: text.to_owned(),
            },
        }
    }
}

/// `count` units, singular or plural (`1 minute`, `3 minutes`).
fn units(count: i64, unit: &str) -> String {
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

/// `at` relative to `now`: under a minute is `just now` (`in a moment` ahead), then whole minutes,
/// whole hours, `yesterday` / `tomorrow` under two days, whole days under a week, and the date in
/// UTC (`2 Mar 2026`) beyond.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = now.signed_duration_since(at).num_seconds();
    let ahead = seconds < 0;
    let span = seconds.checked_abs().unwrap_or(i64::MAX);
    let said = |amount: String| {
        if ahead {
            format!("in {amount}")
        } else {
            format!("{amount} ago")
        }
    };
    match span {
        s if s < MINUTE => (if ahead { "in a moment" } else { "just now" }).to_owned(),
        s if s < HOUR => said(units(s / MINUTE, "minute")),
        s if s < DAY => said(units(s / HOUR, "hour")),
        s if s < 2 * DAY => (if ahead { "tomorrow" } else { "yesterday" }).to_owned(),
        s if s < WEEK => said(units(s / DAY, "day")),
        _ => at.format("%-d %b %Y").to_string(),
    }
}

/// `count` with a comma between each group of three digits (`1,234,567`).
pub fn grouped(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn ago(seconds: i64) -> String {
        relative(now() - TimeDelta::seconds(seconds), now())
    }

    #[test]
    fn past_times_read_from_just_now_to_the_date_at_each_boundary() {
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(59), "just now");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(119), "1 minute ago");
        assert_eq!(ago(120), "2 minutes ago");
        assert_eq!(ago(HOUR - 1), "59 minutes ago");
        assert_eq!(ago(HOUR), "1 hour ago");
        assert_eq!(ago(DAY - 1), "23 hours ago");
        assert_eq!(ago(DAY), "yesterday");
        assert_eq!(ago(2 * DAY - 1), "yesterday");
        assert_eq!(ago(2 * DAY), "2 days ago");
        assert_eq!(ago(WEEK - 1), "6 days ago");
        assert_eq!(ago(WEEK), "3 Mar 2026");
        assert_eq!(ago(400 * DAY), "3 Feb 2025");
    }

    #[test]
    fn future_times_read_ahead() {
        assert_eq!(ago(-1), "in a moment");
        assert_eq!(ago(-MINUTE), "in 1 minute");
        assert_eq!(ago(-3 * HOUR), "in 3 hours");
        assert_eq!(ago(-DAY), "tomorrow");
        assert_eq!(ago(-3 * DAY), "in 3 days");
        assert_eq!(ago(-WEEK), "17 Mar 2026");
    }

    #[test]
    fn a_moment_carries_the_exact_time_in_utc() {
        let moment = Moment::parse("2026-03-10T13:59:30.250+02:00", now());
        assert_eq!(moment.datetime, "2026-03-10T11:59:30Z");
        assert_eq!(moment.exact, "2026-03-10 11:59:30 UTC");
        assert_eq!(moment.relative, "just now");
        let millis = Moment::from_millis(now().timestamp_millis() - 3 * MINUTE * 1000, now());
        assert_eq!(millis.datetime, "2026-03-10T11:57:00Z");
        assert_eq!(millis.relative, "3 minutes ago");
        let odd = Moment::parse("not a time", now());
        assert_eq!(
            (odd.datetime.as_str(), odd.relative.as_str()),
            ("not a time", "not a time")
        );
    }

    #[test]
    fn counts_are_grouped_in_threes() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(100_000), "100,000");
        assert_eq!(grouped(u64::MAX), "18,446,744,073,709,551,615");
    }
}

//! Durations as scenario files write them: `250ms`, `20s`, `1m 30s`.

use std::time::Duration;

/// Why a text is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// A bare number: seconds or milliseconds? Scenario files must say.
    #[error("`{0}` has no unit")]
    NoUnit(String),
    /// Not a duration at all.
    #[error("`{text}` is not a duration ({reason})")]
    Invalid {
        /// The text.
        text: String,
        /// What the parser said.
        reason: String,
    },
    /// Longer than any scenario can mean, and long enough to overflow the arithmetic of
    /// deadlines and watchdogs built on it.
    #[error("`{text}` is longer than the longest duration a scenario may use ({})", humantime::format_duration(*max))]
    TooLong {
        /// The text.
        text: String,
        /// The bound, [`MAX`].
        max: Duration,
    },
}

/// The longest duration a scenario may write: a day. Every deadline, delay and window
/// is far shorter in practice; the bound keeps sums and multiples of durations (a
/// sealed child's watchdog adds every step's deadline, three times) far from overflow.
pub const MAX: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses a human duration of at most [`MAX`]; the error says what is accepted.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.chars().all(|c| c.is_ascii_digit()) && !trimmed.is_empty() {
        return Err(DurationError::NoUnit(trimmed.to_string()));
    }
    let parsed = humantime::parse_duration(trimmed)
        .map_err(|e| DurationError::Invalid { text: trimmed.to_string(), reason: e.to_string() })?;
    within_bound(trimmed, parsed)
}

/// `duration` if it is at most [`MAX`], else [`DurationError::TooLong`] naming `text`.
pub fn within_bound(text: &str, duration: Duration) -> Result<Duration, DurationError> {
    if duration > MAX {
        return Err(DurationError::TooLong { text: text.to_string(), max: MAX });
    }
    Ok(duration)
}

/// What the error help line says about durations.
pub const HELP: &str = "write durations with a unit, like 250ms, 20s or 1m 30s";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_units_and_rejects_bare_numbers() {
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("1m 30s").unwrap(), Duration::from_secs(90));
        assert!(parse("20").unwrap_err().to_string().contains("no unit"));
        assert!(parse("soon").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn regression_a_timeout_of_nine_quintillion_seconds_is_too_long() {
        // It passed validation and overflowed the sealed child's watchdog.
        let error = parse("9000000000000000000s").unwrap_err();
        assert!(matches!(error, DurationError::TooLong { .. }), "{error:?}");
        assert!(error.to_string().contains("1day"), "{error}");
        assert_eq!(parse("24h").unwrap(), MAX);
        assert!(parse("24h 1ms").is_err());
    }
}

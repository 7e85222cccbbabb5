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
}

/// Parses a human duration; the error says what is accepted.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.chars().all(|c| c.is_ascii_digit()) && !trimmed.is_empty() {
        return Err(DurationError::NoUnit(trimmed.to_string()));
    }
    humantime::parse_duration(trimmed)
        .map_err(|e| DurationError::Invalid { text: trimmed.to_string(), reason: e.to_string() })
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
}

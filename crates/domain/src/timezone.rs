//! An IANA timezone name that is known to the bundled time zone database.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timezone(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimezoneError {
    #[error("is required")]
    Empty,
    #[error("\"{0}\" is not an IANA timezone (for example America/New_York or Europe/Berlin)")]
    Unknown(String),
}

impl Timezone {
    pub fn parse(raw: &str) -> Result<Self, TimezoneError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(TimezoneError::Empty);
        }
        match jiff::tz::TimeZone::get(s) {
            Ok(tz) => Ok(Self(tz.iana_name().unwrap_or(s).to_string())),
            Err(_) => Err(TimezoneError::Unknown(s.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn zone(&self) -> jiff::tz::TimeZone {
        // Parsing proved the name exists in the bundled database, which cannot change
        // while the process runs; UTC is an unreachable fallback.
        jiff::tz::TimeZone::get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

impl TryFrom<String> for Timezone {
    type Error = TimezoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Timezone> for String {
    fn from(value: Timezone) -> Self {
        value.0
    }
}

impl std::fmt::Display for Timezone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_iana_names_parse_and_others_are_refused() {
        assert_eq!(
            Timezone::parse("America/New_York").unwrap().as_str(),
            "America/New_York"
        );
        assert!(matches!(
            Timezone::parse("Mars/Olympus"),
            Err(TimezoneError::Unknown(_))
        ));
        assert_eq!(Timezone::parse(" "), Err(TimezoneError::Empty));
    }
}

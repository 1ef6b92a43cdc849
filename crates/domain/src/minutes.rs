//! Durations as whole minutes; parsing accepts "1h30m", "90m", "1.5h" or "90".

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Minutes(pub i64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MinutesError {
    #[error("is required")]
    Empty,
    #[error("\"{0}\" is not a duration (for example 1h30m, 90m or 1.5h)")]
    Malformed(String),
}

impl Minutes {
    pub fn parse(raw: &str) -> Result<Self, MinutesError> {
        let s = raw.trim().to_lowercase().replace(' ', "");
        if s.is_empty() {
            return Err(MinutesError::Empty);
        }
        let malformed = || MinutesError::Malformed(raw.trim().to_string());
        if let Ok(m) = s.parse::<i64>() {
            return if m >= 0 {
                Ok(Minutes(m))
            } else {
                Err(malformed())
            };
        }
        let mut total = 0.0f64;
        let mut number = String::new();
        let mut seen_unit = false;
        for c in s.chars() {
            match c {
                '0'..='9' | '.' => number.push(c),
                'h' | 'm' => {
                    let value: f64 = number.parse().map_err(|_| malformed())?;
                    total += if c == 'h' { value * 60.0 } else { value };
                    number.clear();
                    seen_unit = true;
                }
                _ => return Err(malformed()),
            }
        }
        if !number.is_empty() || !seen_unit || total > 1.0e12 {
            return Err(malformed());
        }
        Ok(Minutes(total.round() as i64))
    }

    pub fn hours(h: i64) -> Self {
        Minutes(h * 60)
    }

    /// Hours with up to two decimals, the way the SOP's sheets show time: "7.5".
    pub fn as_hours_text(self) -> String {
        let h = self.0 as f64 / 60.0;
        let text = format!("{h:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

impl std::fmt::Display for Minutes {
    /// "1h 30m", "2h", "45m".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (h, m) = (self.0 / 60, self.0 % 60);
        match (h, m) {
            (0, m) => write!(f, "{m}m"),
            (h, 0) => write!(f, "{h}h"),
            (h, m) => write!(f, "{h}h {m}m"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_are_read_in_the_forms_people_type() {
        assert_eq!(Minutes::parse("1h30m"), Ok(Minutes(90)));
        assert_eq!(Minutes::parse("1.5h"), Ok(Minutes(90)));
        assert_eq!(Minutes::parse("90"), Ok(Minutes(90)));
        assert_eq!(Minutes::parse("45m"), Ok(Minutes(45)));
        assert!(Minutes::parse("soon").is_err());
        assert!(Minutes::parse("-5").is_err());
        assert!(Minutes::parse("5x").is_err());
    }

    #[test]
    fn hours_are_shown_like_the_sop_sheet() {
        assert_eq!(Minutes(450).as_hours_text(), "7.5");
        assert_eq!(Minutes(600).as_hours_text(), "10");
        assert_eq!(Minutes(90).to_string(), "1h 30m");
    }

    proptest! {
        #[test]
        fn a_displayed_duration_parses_back(m in 0i64..1_000_000) {
            prop_assert_eq!(Minutes::parse(&Minutes(m).to_string()), Ok(Minutes(m)));
        }
    }
}

//! Money as integer cents; parsing accepts what people type ("$1,200", "1200.50").

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Cents(pub i64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("is required")]
    Empty,
    #[error("\"{0}\" is not an amount (for example 1200 or 1,200.50)")]
    Malformed(String),
    #[error("must not be negative")]
    Negative,
}

impl Cents {
    pub fn parse(raw: &str) -> Result<Self, MoneyError> {
        let s: String = raw
            .trim()
            .trim_start_matches('$')
            .chars()
            .filter(|c| *c != ',' && *c != '_' && !c.is_whitespace())
            .collect();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        if s.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let malformed = || MoneyError::Malformed(raw.trim().to_string());
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s.as_str(), ""),
        };
        if whole.is_empty() && frac.is_empty() || frac.len() > 2 {
            return Err(malformed());
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| malformed())?
        };
        let frac: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| malformed())? * 10,
            _ => frac.parse().map_err(|_| malformed())?,
        };
        whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(frac))
            .map(Cents)
            .ok_or_else(malformed)
    }

    /// "1200.00" — the plain form used in inputs and CSV.
    pub fn plain(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl std::fmt::Display for Cents {
    /// "$1,200" or "$1,200.50" — the form people read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dollars = self.0 / 100;
        let cents = self.0 % 100;
        let digits = dollars.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if cents == 0 {
            write!(f, "${grouped}")
        } else {
            write!(f, "${grouped}.{cents:02}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_are_read_the_way_people_type_them() {
        assert_eq!(Cents::parse("$1,200"), Ok(Cents(120_000)));
        assert_eq!(Cents::parse("150.5"), Ok(Cents(15_050)));
        assert_eq!(Cents::parse("0.05"), Ok(Cents(5)));
        assert_eq!(Cents::parse("-3"), Err(MoneyError::Negative));
        assert!(matches!(
            Cents::parse("12.345"),
            Err(MoneyError::Malformed(_))
        ));
        assert!(matches!(Cents::parse("abc"), Err(MoneyError::Malformed(_))));
    }

    #[test]
    fn amounts_display_with_thousands_separators() {
        assert_eq!(Cents(250_000).to_string(), "$2,500");
        assert_eq!(Cents(15_050).to_string(), "$150.50");
    }

    proptest! {
        #[test]
        fn the_plain_form_parses_back_to_the_same_amount(c in 0i64..10_000_000_000) {
            prop_assert_eq!(Cents::parse(&Cents(c).plain()), Ok(Cents(c)));
            prop_assert_eq!(Cents::parse(&Cents(c).to_string()), Ok(Cents(c)));
        }
    }
}

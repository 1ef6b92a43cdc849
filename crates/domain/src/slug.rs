//! A client's short name in URLs and on the command line.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SlugError {
    #[error("is required")]
    Empty,
    #[error("must be at most 64 characters")]
    TooLong,
    #[error("may contain only lowercase letters, digits and single hyphens, and must start and end with a letter or digit")]
    BadCharacters,
}

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, SlugError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(SlugError::Empty);
        }
        if s.len() > 64 {
            return Err(SlugError::TooLong);
        }
        let allowed = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !allowed || s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return Err(SlugError::BadCharacters);
        }
        Ok(Self(s.to_string()))
    }

    /// A slug suggested from a display name: "Acme Dental, Inc." -> "acme-dental-inc".
    pub fn suggest(name: &str) -> Option<Self> {
        let mut out = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let trimmed: String = out.trim_end_matches('-').chars().take(64).collect();
        Self::parse(trimmed.trim_end_matches('-')).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_is_lowercase_words_joined_by_single_hyphens() {
        assert!(Slug::parse("acme-dental").is_ok());
        assert!(Slug::parse("a1").is_ok());
        assert_eq!(Slug::parse("Acme"), Err(SlugError::BadCharacters));
        assert_eq!(Slug::parse("-acme"), Err(SlugError::BadCharacters));
        assert_eq!(Slug::parse("acme--x"), Err(SlugError::BadCharacters));
        assert_eq!(Slug::parse("  "), Err(SlugError::Empty));
        assert_eq!(Slug::parse(&"a".repeat(65)), Err(SlugError::TooLong));
    }

    #[test]
    fn a_slug_is_suggested_from_a_display_name() {
        assert_eq!(
            Slug::suggest("Acme Dental, Inc.").unwrap().as_str(),
            "acme-dental-inc"
        );
        assert_eq!(Slug::suggest("!!!"), None);
    }
}

//! A business the agency supports, as typed and as validated.

use serde::{Deserialize, Serialize};

use crate::{
    calendar::{parse_holidays, Holiday, WeeklyHours},
    email::Email,
    slug::Slug,
    timezone::Timezone,
    FieldErrors,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInput {
    pub name: String,
    pub slug: Slug,
    pub timezone: Timezone,
    pub hours: WeeklyHours,
    pub holidays: Vec<Holiday>,
    /// The technical owner: a staff user, named by email.
    pub owner_email: Option<Email>,
    pub notes: String,
}

/// A client as typed into a form or a JSON body. Empty hours mean the default week.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientDraft {
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub business_hours: String,
    pub holidays: String,
    pub owner_email: String,
    pub notes: String,
}

impl ClientDraft {
    pub fn parse(&self) -> Result<ClientInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            e.add("name", "is required");
        } else if name.chars().count() > 200 {
            e.add("name", "must be at most 200 characters");
        }
        let slug = if self.slug.trim().is_empty() && !name.is_empty() {
            e.check(
                "slug",
                Slug::suggest(&name).ok_or("is required (the name gives none)"),
            )
        } else {
            e.check("slug", Slug::parse(&self.slug))
        };
        let timezone = e.check("timezone", Timezone::parse(&self.timezone));
        let hours = if self.business_hours.trim().is_empty() {
            Some(WeeklyHours::default())
        } else {
            e.check("business_hours", WeeklyHours::parse(&self.business_hours))
        };
        let holidays = e.check("holidays", parse_holidays(&self.holidays));
        let owner_email = match self.owner_email.trim() {
            "" => Some(None),
            raw => e.check("owner_email", Email::parse(raw).map(Some)),
        };
        if self.notes.len() > 20_000 {
            e.add("notes", "must be at most 20,000 characters");
        }
        match (slug, timezone, hours, holidays, owner_email) {
            (Some(slug), Some(timezone), Some(hours), Some(holidays), Some(owner_email))
                if e.is_empty() =>
            {
                Ok(ClientInput {
                    name,
                    slug,
                    timezone,
                    hours,
                    holidays,
                    owner_email,
                    notes: self.notes.trim().to_string(),
                })
            }
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_a_slug_from_its_name_and_the_default_week() {
        let c = ClientDraft {
            name: "Acme Dental".into(),
            timezone: "America/Chicago".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(c.slug.as_str(), "acme-dental");
        assert_eq!(c.hours, WeeklyHours::default());
    }

    #[test]
    fn every_invalid_client_field_is_reported_at_once() {
        let e = ClientDraft {
            slug: "Bad Slug".into(),
            timezone: "Nowhere/City".into(),
            business_hours: "mon 9-5".into(),
            owner_email: "x".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        for field in ["name", "slug", "timezone", "business_hours", "owner_email"] {
            assert!(e.get(field).is_some(), "{field} should be reported");
        }
    }
}

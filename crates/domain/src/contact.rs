//! A person at a client and the role they play for the agency.

use serde::{Deserialize, Serialize};

use crate::{email::Email, plan::text_enum, FieldErrors};

text_enum!(ContactRole, "contact role", {
    Requester => "requester", ApprovalOwner => "approval-owner", Billing => "billing"
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactInput {
    pub name: String,
    pub email: Email,
    pub role: ContactRole,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactDraft {
    pub name: String,
    pub email: String,
    pub role: String,
    pub phone: String,
}

impl ContactDraft {
    pub fn parse(&self) -> Result<ContactInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            e.add("name", "is required");
        } else if name.chars().count() > 200 {
            e.add("name", "must be at most 200 characters");
        }
        let email = e.check("email", Email::parse(&self.email));
        let role = e.check(
            "role",
            if self.role.trim().is_empty() {
                Ok(ContactRole::Requester)
            } else {
                ContactRole::parse(&self.role)
            },
        );
        let phone = Some(self.phone.trim().to_string()).filter(|p| !p.is_empty());
        match (email, role) {
            (Some(email), Some(role)) if e.is_empty() => Ok(ContactInput {
                name,
                email,
                role,
                phone,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_needs_a_name_and_an_email_and_defaults_to_requester() {
        let ok = ContactDraft {
            name: "Ana".into(),
            email: "ana@acme.com".into(),
            ..Default::default()
        };
        assert_eq!(ok.parse().unwrap().role, ContactRole::Requester);
        let bad = ContactDraft {
            role: "boss".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert!(
            bad.get("name").is_some() && bad.get("email").is_some() && bad.get("role").is_some()
        );
    }
}

//! Who may do what: staff roles and API token scopes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Staff,
    Viewer,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("\"{0}\" is not a role (owner, staff or viewer)")]
pub struct RoleError(String);

impl Role {
    pub fn parse(raw: &str) -> Result<Self, RoleError> {
        match raw.trim().to_lowercase().as_str() {
            "owner" => Ok(Role::Owner),
            "staff" => Ok(Role::Staff),
            "viewer" => Ok(Role::Viewer),
            other => Err(RoleError(other.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
            Role::Viewer => "viewer",
        }
    }

    /// Viewers read; owners and staff change things.
    pub fn can_write(self) -> bool {
        !matches!(self, Role::Viewer)
    }

    /// Plans are the agency's price list: only the owner edits them.
    pub fn can_edit_plans(self) -> bool {
        matches!(self, Role::Owner)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    /// Write, plus what only an owner may do in the UI (hour-bank adjustments, plans).
    Owner,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("\"{0}\" is not a token scope (read, write or owner)")]
pub struct ScopeError(String);

impl Scope {
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        match raw.trim().to_lowercase().as_str() {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            "owner" => Ok(Scope::Owner),
            other => Err(ScopeError(other.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Owner => "owner",
        }
    }

    pub fn can_write(self) -> bool {
        matches!(self, Scope::Write | Scope::Owner)
    }

    /// What the UI keeps to the owner role: a token acts with an owner's authority only
    /// when it was created with that scope, on the server.
    pub fn acts_as_owner(self) -> bool {
        matches!(self, Scope::Owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_cannot_write_and_only_an_owner_edits_plans() {
        assert!(!Role::Viewer.can_write());
        assert!(Role::Staff.can_write());
        assert!(!Role::Staff.can_edit_plans());
        assert!(Role::Owner.can_edit_plans());
        assert!(!Scope::Read.can_write());
        assert!(Scope::Owner.can_write());
        assert!(!Scope::Write.acts_as_owner());
        assert!(Scope::Owner.acts_as_owner());
    }

    #[test]
    fn roles_and_scopes_parse_from_their_names() {
        assert_eq!(Role::parse("Owner"), Ok(Role::Owner));
        assert!(Role::parse("admin").is_err());
        assert_eq!(Scope::parse("write"), Ok(Scope::Write));
        assert_eq!(Scope::parse("Owner"), Ok(Scope::Owner));
        assert!(Scope::parse("all").is_err());
    }
}

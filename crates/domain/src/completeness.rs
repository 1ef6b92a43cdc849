//! The service page's rule: "every request should have a source, priority, owner,
//! dependency, expected outcome, and next action so work does not become random task
//! taking". [`missing`] names which of the six a ticket still lacks.

use serde::{Deserialize, Serialize};

use crate::{
    email::Email,
    plan::{text_enum, Severity},
    ticket::{Dependencies, TicketInput, TicketSource},
};

text_enum!(
    /// One of the six facts every request needs.
    MissingField, "required fact", {
        Source => "source",
        Priority => "priority",
        Owner => "owner",
        Dependency => "dependency",
        ExpectedOutcome => "expected-outcome",
        NextAction => "next-action",
    }
);

impl MissingField {
    /// How the fact reads in "missing: owner, next action".
    pub fn label(self) -> &'static str {
        match self {
            MissingField::Source => "source",
            MissingField::Priority => "priority (severity)",
            MissingField::Owner => "owner",
            MissingField::Dependency => "dependencies (or \"none\")",
            MissingField::ExpectedOutcome => "expected outcome",
            MissingField::NextAction => "next action",
        }
    }

    /// The ticket form field that supplies this fact, so a form can mark it.
    pub fn form_field(self) -> &'static str {
        match self {
            MissingField::Source => "source",
            MissingField::Priority => "severity",
            MissingField::Owner => "owner_email",
            MissingField::Dependency => "blocked_by",
            MissingField::ExpectedOutcome => "expected_outcome",
            MissingField::NextAction => "next_action",
        }
    }
}

/// The six facts as a ticket holds them, borrowed from wherever the ticket lives.
#[derive(Debug, Clone, Copy)]
pub struct RequiredFacts<'a> {
    pub source: Option<TicketSource>,
    pub severity: Option<Severity>,
    pub owner: Option<&'a Email>,
    pub dependencies: &'a Dependencies,
    pub expected_outcome: &'a str,
    pub next_action: &'a str,
}

/// Words that fill a text box without saying anything.
const PLACEHOLDERS: &[&str] = &[
    "tbd", "tba", "todo", "?", "-", "n/a", "na", "unknown", "none",
];

fn says_something(text: &str) -> bool {
    let t = text.trim().trim_end_matches('.').to_lowercase();
    !t.is_empty() && !PLACEHOLDERS.contains(&t.as_str())
}

/// The required facts a ticket lacks, in the service page's order. Blank text and
/// placeholders ("TBD", "n/a", "?", "none") count as missing: "next action: TBD" is
/// not a next action. Dependencies count as given once stated, "none" included.
pub fn missing(facts: &RequiredFacts<'_>) -> Vec<MissingField> {
    let checks = [
        (MissingField::Source, facts.source.is_some()),
        (MissingField::Priority, facts.severity.is_some()),
        (MissingField::Owner, facts.owner.is_some()),
        (MissingField::Dependency, facts.dependencies.is_stated()),
        (
            MissingField::ExpectedOutcome,
            says_something(facts.expected_outcome),
        ),
        (MissingField::NextAction, says_something(facts.next_action)),
    ];
    checks
        .into_iter()
        .filter(|(_, present)| !present)
        .map(|(field, _)| field)
        .collect()
}

/// "complete", or "missing: owner, next action".
pub fn describe_missing(missing: &[MissingField]) -> String {
    if missing.is_empty() {
        return "complete".to_string();
    }
    let labels: Vec<&str> = missing.iter().map(|m| m.label()).collect();
    format!("missing: {}", labels.join(", "))
}

impl TicketInput {
    pub fn required_facts(&self) -> RequiredFacts<'_> {
        RequiredFacts {
            source: self.source,
            severity: self.severity,
            owner: self.owner_email.as_ref(),
            dependencies: &self.dependencies,
            expected_outcome: &self.expected_outcome,
            next_action: &self.next_action,
        }
    }

    pub fn missing(&self) -> Vec<MissingField> {
        missing(&self.required_facts())
    }
}

/// The list filter over completeness: `?complete=incomplete`, `?complete=yes`, or one
/// fact (`?complete=owner` finds tickets without an owner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompletenessFilter {
    Complete,
    Incomplete,
    Lacking(MissingField),
}

impl CompletenessFilter {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_lowercase().as_str() {
            "complete" | "yes" | "true" => Ok(CompletenessFilter::Complete),
            "incomplete" | "no" | "false" => Ok(CompletenessFilter::Incomplete),
            other => MissingField::parse(other)
                .map(CompletenessFilter::Lacking)
                .map_err(|_| {
                    let facts: Vec<&str> = MissingField::ALL.iter().map(|m| m.as_str()).collect();
                    format!(
                        "\"{}\" is not a completeness filter (complete, incomplete, or one of: {})",
                        raw.trim(),
                        facts.join(", ")
                    )
                }),
        }
    }

    pub fn matches(self, missing: &[MissingField]) -> bool {
        match self {
            CompletenessFilter::Complete => missing.is_empty(),
            CompletenessFilter::Incomplete => !missing.is_empty(),
            CompletenessFilter::Lacking(field) => missing.contains(&field),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::TicketDraft;

    fn ticket(edit: impl FnOnce(&mut TicketDraft)) -> TicketInput {
        let mut d = TicketDraft {
            client: "acme".into(),
            title: "Payment page shows the old price".into(),
            source: "email".into(),
            severity: "p2".into(),
            owner_email: "sam@agency.test".into(),
            blocked_by: "none".into(),
            expected_outcome: "Checkout shows $49".into(),
            next_action: "Update the price in the funnel step".into(),
            ..Default::default()
        };
        edit(&mut d);
        d.parse().unwrap()
    }

    #[test]
    fn a_ticket_with_all_six_facts_is_complete() {
        let t = ticket(|_| {});
        assert_eq!(t.missing(), vec![]);
        assert_eq!(describe_missing(&t.missing()), "complete");
    }

    #[test]
    fn a_fresh_request_lacks_all_six_facts_in_the_service_page_order() {
        let t = TicketDraft {
            client: "acme".into(),
            title: "Something is off with the funnel".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(t.missing(), MissingField::ALL.to_vec());
        assert_eq!(
            describe_missing(&t.missing()),
            "missing: source, priority (severity), owner, dependencies (or \"none\"), expected outcome, next action"
        );
    }

    #[test]
    fn an_explicit_none_satisfies_the_dependency_fact_but_an_empty_field_does_not() {
        assert!(!ticket(|d| d.blocked_by = "none".into())
            .missing()
            .contains(&MissingField::Dependency));
        assert!(!ticket(|d| d.blocked_by = "#4".into())
            .missing()
            .contains(&MissingField::Dependency));
        assert_eq!(
            ticket(|d| d.blocked_by = String::new()).missing(),
            vec![MissingField::Dependency]
        );
    }

    #[test]
    fn placeholder_text_does_not_count_as_a_next_action_or_outcome() {
        for placeholder in ["TBD", " ? ", "n/a", "todo.", "None"] {
            let t = ticket(|d| {
                d.next_action = placeholder.into();
                d.expected_outcome = placeholder.into();
            });
            assert_eq!(
                t.missing(),
                vec![MissingField::ExpectedOutcome, MissingField::NextAction],
                "{placeholder:?}"
            );
        }
    }

    #[test]
    fn each_missing_fact_points_at_the_form_field_that_supplies_it() {
        let t = ticket(|d| d.owner_email = String::new());
        let fields: Vec<&str> = t.missing().iter().map(|m| m.form_field()).collect();
        assert_eq!(fields, vec!["owner_email"]);
    }

    #[test]
    fn the_filter_finds_incomplete_tickets_and_tickets_lacking_one_fact() {
        let lacking_owner = ticket(|d| d.owner_email = String::new()).missing();
        let complete = ticket(|_| {}).missing();
        let incomplete = CompletenessFilter::parse("incomplete").unwrap();
        assert!(incomplete.matches(&lacking_owner));
        assert!(!incomplete.matches(&complete));
        let no_owner = CompletenessFilter::parse("owner").unwrap();
        assert!(no_owner.matches(&lacking_owner));
        let no_action = CompletenessFilter::parse("next action").unwrap();
        assert!(!no_action.matches(&lacking_owner));
        assert!(CompletenessFilter::parse("complete")
            .unwrap()
            .matches(&complete));
        assert!(CompletenessFilter::parse("urgent")
            .unwrap_err()
            .contains("next-action"));
    }
}

//! A support request or backlog item: where it came from, how severe it is, where it
//! stands, and the facts the backlog needs to order it.
//!
//! Status moves are decided by [`check_transition`], which says why a move is refused
//! (closing a P0 or P1 without its post-mortem, closing before resolving, waiting on a
//! client for a ticket that is already resolved).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::plan::UnknownValue;

use crate::{
    email::Email,
    plan::{text_enum, Severity},
    slug::Slug,
    FieldErrors,
};

text_enum!(
    /// How a request reached the agency.
    TicketSource, "ticket source", {
        Portal => "portal",
        Email => "email",
        Api => "api",
        Cli => "cli",
        Phone => "phone",
        MonitoringAlert => "monitoring-alert",
        ProactiveFinding => "proactive-finding",
    }
);
text_enum!(
    /// Where a ticket stands. The open states are new, acknowledged, in progress and
    /// waiting on client; resolved and closed tickets are done until reopened.
    TicketStatus, "ticket status", {
        New => "new",
        Acknowledged => "acknowledged",
        InProgress => "in-progress",
        WaitingOnClient => "waiting-on-client",
        Resolved => "resolved",
        Closed => "closed",
    }
);
text_enum!(
    /// How much a ticket weighs on one axis: business risk, revenue impact or customer
    /// effect. A ticket that has not been assessed on an axis holds `None` there, not
    /// `Impact::None`.
    Impact, "impact level", { None => "none", Low => "low", Medium => "medium", High => "high" }
);

impl TicketSource {
    pub fn label(self) -> &'static str {
        match self {
            TicketSource::Portal => "Client portal",
            TicketSource::Email => "Email",
            TicketSource::Api => "API",
            TicketSource::Cli => "CLI",
            TicketSource::Phone => "Phone call (logged by staff)",
            TicketSource::MonitoringAlert => "Monitoring alert",
            TicketSource::ProactiveFinding => "Proactive finding",
        }
    }
}

impl TicketStatus {
    /// Reads a status as people say it on the command line: the full name, or a short
    /// word ("ack", "progress", "waiting", "done").
    pub fn from_word(raw: &str) -> Result<Self, UnknownValue> {
        match raw.trim().to_lowercase().as_str() {
            "ack" | "acked" => Ok(TicketStatus::Acknowledged),
            "progress" | "working" | "wip" => Ok(TicketStatus::InProgress),
            "waiting" | "waiting-on-client" | "wait" | "client" => {
                Ok(TicketStatus::WaitingOnClient)
            }
            "done" | "fixed" => Ok(TicketStatus::Resolved),
            _ => TicketStatus::parse(raw),
        }
    }

    /// Lowercase words, to read inside a sentence: "waiting on client".
    pub fn label(self) -> &'static str {
        match self {
            TicketStatus::New => "new",
            TicketStatus::Acknowledged => "acknowledged",
            TicketStatus::InProgress => "in progress",
            TicketStatus::WaitingOnClient => "waiting on client",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }

    /// Not yet resolved: the ticket is in the backlog and still blocks what depends on it.
    pub fn is_open(self) -> bool {
        !matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }
}

impl Impact {
    pub fn label(self) -> &'static str {
        self.as_str()
    }
}

/// The number people use for a ticket ("#12"); the store assigns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TicketNumber(pub i64);

impl TicketNumber {
    /// Reads "#12" or "12".
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let digits = s.strip_prefix('#').unwrap_or(s).trim();
        match digits.parse::<i64>() {
            Ok(n) if n >= 1 => Ok(TicketNumber(n)),
            _ => Err(format!("\"{s}\" is not a ticket number (write #12)")),
        }
    }
}

impl std::fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The SOP's words for one severity, shown wherever a severity is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeverityGuide {
    pub severity: Severity,
    /// "Critical", "High", "Medium", "Low".
    pub name: &'static str,
    pub definition: &'static str,
    pub examples: &'static [&'static str],
    /// Whether closing a ticket of this severity needs a post-mortem (SOP step 7).
    pub needs_post_mortem: bool,
}

/// The SOP's definition and examples for a severity ("Response Time SLAs", "Severity
/// Levels"). The response and resolution targets live on each plan, not here.
pub fn severity_guide(severity: Severity) -> SeverityGuide {
    let (name, definition, examples): (_, _, &'static [&'static str]) = match severity {
        Severity::P0 => (
            "Critical",
            "System completely down; core business process broken",
            &[
                "AI agent not responding",
                "All leads going unprocessed",
                "Integration completely failed",
            ],
        ),
        Severity::P1 => (
            "High",
            "Major functionality degraded; workaround available",
            &[
                "AI agent slow",
                "Some leads delayed",
                "Integration intermittently failing",
            ],
        ),
        Severity::P2 => (
            "Medium",
            "Minor issue; limited impact",
            &["Formatting error", "Delayed notification", "Cosmetic bug"],
        ),
        Severity::P3 => (
            "Low",
            "Enhancement request or minor annoyance",
            &[
                "Feature request",
                "\"Nice-to-have\" improvement",
                "Documentation update",
            ],
        ),
    };
    SeverityGuide {
        severity,
        name,
        definition,
        examples,
        needs_post_mortem: needs_post_mortem(severity),
    }
}

/// Every severity's guide, most severe first, for a picker.
pub fn severity_guides() -> Vec<SeverityGuide> {
    Severity::ALL.iter().map(|s| severity_guide(*s)).collect()
}

/// The SOP's step 7: P0 and P1 issues get a post-mortem.
pub fn needs_post_mortem(severity: Severity) -> bool {
    matches!(severity, Severity::P0 | Severity::P1)
}

/// What a ticket says it waits for. "Not stated" and "stated: nothing" differ: the
/// first leaves the ticket incomplete, the second is a complete answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dependencies {
    #[default]
    Unstated,
    NoBlockers,
    BlockedBy(Vec<TicketNumber>),
}

impl Dependencies {
    /// Reads a form field: empty is "not stated", "none" says there is nothing to wait
    /// for, otherwise ticket numbers separated by commas or spaces ("#3, #7").
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Ok(Dependencies::Unstated);
        }
        if matches!(s.to_lowercase().as_str(), "none" | "no" | "nothing" | "-") {
            return Ok(Dependencies::NoBlockers);
        }
        let mut numbers = Vec::new();
        for part in s.split([',', ' ', ';']).filter(|p| !p.trim().is_empty()) {
            let number = TicketNumber::parse(part).map_err(|_| {
                format!(
                    "\"{}\" is not a ticket number (write #12, or none)",
                    part.trim()
                )
            })?;
            if !numbers.contains(&number) {
                numbers.push(number);
            }
        }
        if numbers.len() > 50 {
            return Err("may name at most 50 tickets".into());
        }
        Ok(Dependencies::BlockedBy(numbers))
    }

    pub fn is_stated(&self) -> bool {
        !matches!(self, Dependencies::Unstated)
    }
}

impl std::fmt::Display for Dependencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dependencies::Unstated => Ok(()),
            Dependencies::NoBlockers => f.write_str("none"),
            Dependencies::BlockedBy(numbers) => {
                let list: Vec<String> = numbers.iter().map(ToString::to_string).collect();
                f.write_str(&list.join(", "))
            }
        }
    }
}

/// A ticket's content as validated. Status, number and times are the store's; they
/// change through their own rules, not through this form.
///
/// Source, severity, owner and dependencies may be absent: a request can arrive before
/// anyone has triaged it. [`crate::completeness::missing`] says what is still absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketInput {
    pub client: Slug,
    pub title: String,
    pub description: String,
    pub source: Option<TicketSource>,
    pub severity: Option<Severity>,
    /// The staff member who owns the next action, named by email.
    pub owner_email: Option<Email>,
    pub dependencies: Dependencies,
    pub expected_outcome: String,
    pub next_action: String,
    pub acceptance_test: String,
    pub business_risk: Option<Impact>,
    pub revenue_impact: Option<Impact>,
    pub customer_effect: Option<Impact>,
    pub launch_deadline: Option<Date>,
}

/// A ticket as typed into a form or a JSON body: every field a string, all optional
/// until parsed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TicketDraft {
    /// The client's slug.
    pub client: String,
    pub title: String,
    pub description: String,
    pub source: String,
    pub severity: String,
    pub owner_email: String,
    /// "#3, #7", "none", or empty when not yet known.
    pub blocked_by: String,
    pub expected_outcome: String,
    pub next_action: String,
    pub acceptance_test: String,
    pub business_risk: String,
    pub revenue_impact: String,
    pub customer_effect: String,
    /// A date like 2026-11-01.
    pub launch_deadline: String,
}

const TITLE_MAX: usize = 200;
const SHORT_TEXT_MAX: usize = 2_000;
const LONG_TEXT_MAX: usize = 20_000;

/// Trims `raw` and reports it under `field` when it is longer than `max` characters.
fn text(e: &mut FieldErrors, field: &str, raw: &str, max: usize) -> String {
    let s = raw.trim();
    if s.chars().count() > max {
        e.add(field, format!("must be at most {max} characters"));
    }
    s.to_string()
}

/// Empty means "not given"; anything else must parse.
fn optional<T, E: std::fmt::Display>(
    e: &mut FieldErrors,
    field: &str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<Option<T>> {
    match raw.trim() {
        "" => Some(None),
        s => e.check(field, parse(s).map(Some)),
    }
}

impl TicketDraft {
    pub fn parse(&self) -> Result<TicketInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let client = e.check("client", Slug::parse(&self.client));
        let title = text(&mut e, "title", &self.title, TITLE_MAX);
        if title.is_empty() {
            e.add("title", "is required");
        }
        let description = text(&mut e, "description", &self.description, LONG_TEXT_MAX);
        let source = optional(&mut e, "source", &self.source, TicketSource::parse);
        let severity = optional(&mut e, "severity", &self.severity, Severity::parse);
        let owner_email = optional(&mut e, "owner_email", &self.owner_email, Email::parse);
        let dependencies = e.check("blocked_by", Dependencies::parse(&self.blocked_by));
        let expected_outcome = text(
            &mut e,
            "expected_outcome",
            &self.expected_outcome,
            SHORT_TEXT_MAX,
        );
        let next_action = text(&mut e, "next_action", &self.next_action, SHORT_TEXT_MAX);
        let acceptance_test = text(
            &mut e,
            "acceptance_test",
            &self.acceptance_test,
            SHORT_TEXT_MAX,
        );
        let business_risk = optional(&mut e, "business_risk", &self.business_risk, Impact::parse);
        let revenue_impact = optional(
            &mut e,
            "revenue_impact",
            &self.revenue_impact,
            Impact::parse,
        );
        let customer_effect = optional(
            &mut e,
            "customer_effect",
            &self.customer_effect,
            Impact::parse,
        );
        let launch_deadline = optional(&mut e, "launch_deadline", &self.launch_deadline, |s| {
            s.parse::<Date>()
                .map_err(|_| format!("\"{s}\" is not a date like 2026-11-01"))
        });
        match (
            client,
            source,
            severity,
            owner_email,
            dependencies,
            business_risk,
            revenue_impact,
            customer_effect,
            launch_deadline,
        ) {
            (
                Some(client),
                Some(source),
                Some(severity),
                Some(owner_email),
                Some(dependencies),
                Some(business_risk),
                Some(revenue_impact),
                Some(customer_effect),
                Some(launch_deadline),
            ) if e.is_empty() => Ok(TicketInput {
                client,
                title,
                description,
                source,
                severity,
                owner_email,
                dependencies,
                expected_outcome,
                next_action,
                acceptance_test,
                business_risk,
                revenue_impact,
                customer_effect,
                launch_deadline,
            }),
            _ => Err(e),
        }
    }

    /// The form filled with a ticket's current values, for editing.
    pub fn from_input(t: &TicketInput) -> Self {
        let text_of = |v: Option<&str>| v.unwrap_or_default().to_string();
        Self {
            client: t.client.as_str().to_string(),
            title: t.title.clone(),
            description: t.description.clone(),
            source: text_of(t.source.map(TicketSource::as_str)),
            severity: text_of(t.severity.map(Severity::as_str)),
            owner_email: text_of(t.owner_email.as_ref().map(Email::as_str)),
            blocked_by: t.dependencies.to_string(),
            expected_outcome: t.expected_outcome.clone(),
            next_action: t.next_action.clone(),
            acceptance_test: t.acceptance_test.clone(),
            business_risk: text_of(t.business_risk.map(Impact::as_str)),
            revenue_impact: text_of(t.revenue_impact.map(Impact::as_str)),
            customer_effect: text_of(t.customer_effect.map(Impact::as_str)),
            launch_deadline: t.launch_deadline.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

/// The SOP's post-mortem for a P0 or P1, as validated: every part is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMortem {
    pub root_cause: String,
    pub fix: String,
    pub prevention: String,
    /// What now watches for this, so it is caught earlier next time.
    pub monitoring_added: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PostMortemDraft {
    pub root_cause: String,
    pub fix: String,
    pub prevention: String,
    pub monitoring_added: String,
}

impl PostMortemDraft {
    pub fn parse(&self) -> Result<PostMortem, FieldErrors> {
        let mut e = FieldErrors::new();
        let mut required = |field: &str, raw: &str| {
            let value = text(&mut e, field, raw, LONG_TEXT_MAX);
            if value.is_empty() {
                e.add(field, "is required");
            }
            value
        };
        let post_mortem = PostMortem {
            root_cause: required("root_cause", &self.root_cause),
            fix: required("fix", &self.fix),
            prevention: required("prevention", &self.prevention),
            monitoring_added: required("monitoring_added", &self.monitoring_added),
        };
        e.into_result(|| post_mortem)
    }
}

/// What an allowed status move means, so the caller can start, pause or stop clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatusMove {
    /// Someone looked at a new ticket (to acknowledged or straight to in progress).
    Acknowledge,
    /// Between acknowledged and in progress.
    Progress,
    /// The agency waits for the client; resolution clocks pause.
    WaitOnClient,
    /// The client answered; the ticket is worked on again.
    ClientReplied,
    /// The work is done; resolution clocks stop.
    Resolve,
    /// The resolution is confirmed and the ticket leaves every list.
    Close,
    /// A resolved or closed ticket is worked on again.
    Reopen,
}

/// Why a status move is refused, in words the UI can show as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusRefusal {
    #[error("the ticket is already {}", .0.label())]
    Unchanged(TicketStatus),
    #[error("a ticket is new only until someone acknowledges it; it cannot become new again")]
    BackToNew,
    #[error("a {} ticket must be resolved before it is closed", .0.label())]
    CloseBeforeResolved(TicketStatus),
    #[error("set the ticket's severity before closing it, so that a P0 or P1 cannot close without its post-mortem")]
    CloseNeedsSeverity,
    #[error("a {} ticket cannot be closed without a post-mortem: root cause, fix, prevention and monitoring added", .0.label())]
    CloseNeedsPostMortem(Severity),
    #[error("a {} ticket cannot wait on the client; reopen it first", .0.label())]
    WaitingNeedsOpenTicket(TicketStatus),
    #[error("a closed ticket is reopened (to acknowledged or in progress), not resolved again")]
    ClosedToResolved,
}

/// Whether a ticket may move from `from` to `to`, and what the move means.
///
/// The rules:
/// - nothing returns to new; a move to the current status is refused as a no-op;
/// - among open states (new, acknowledged, in progress, waiting on client) any forward
///   or sideways move is allowed; waiting on client is entered only from an open state;
/// - any open ticket may be resolved; only a resolved ticket may be closed;
/// - closing needs a known severity, and a P0 or P1 needs its post-mortem;
/// - a resolved or closed ticket is reopened to acknowledged or in progress.
pub fn check_transition(
    from: TicketStatus,
    to: TicketStatus,
    severity: Option<Severity>,
    post_mortem: Option<&PostMortem>,
) -> Result<StatusMove, StatusRefusal> {
    use TicketStatus::*;
    if from == to {
        return Err(StatusRefusal::Unchanged(from));
    }
    match (from, to) {
        (_, New) => Err(StatusRefusal::BackToNew),
        (Resolved, Closed) => match severity {
            None => Err(StatusRefusal::CloseNeedsSeverity),
            Some(s) if needs_post_mortem(s) && post_mortem.is_none() => {
                Err(StatusRefusal::CloseNeedsPostMortem(s))
            }
            Some(_) => Ok(StatusMove::Close),
        },
        (_, Closed) => Err(StatusRefusal::CloseBeforeResolved(from)),
        (Resolved | Closed, Acknowledged | InProgress) => Ok(StatusMove::Reopen),
        (Resolved | Closed, WaitingOnClient) => Err(StatusRefusal::WaitingNeedsOpenTicket(from)),
        (Closed, Resolved) => Err(StatusRefusal::ClosedToResolved),
        // From here on `from` is open.
        (_, Resolved) => Ok(StatusMove::Resolve),
        (_, WaitingOnClient) => Ok(StatusMove::WaitOnClient),
        (WaitingOnClient, _) => Ok(StatusMove::ClientReplied),
        (New, _) => Ok(StatusMove::Acknowledge),
        (Acknowledged | InProgress, _) => Ok(StatusMove::Progress),
    }
}

/// Every other status and whether the ticket may move there, for the buttons on a
/// ticket page (a refused move can be shown disabled with its reason).
pub fn status_moves(
    from: TicketStatus,
    severity: Option<Severity>,
    post_mortem: Option<&PostMortem>,
) -> Vec<(TicketStatus, Result<StatusMove, StatusRefusal>)> {
    TicketStatus::ALL
        .iter()
        .filter(|to| **to != from)
        .map(|to| (*to, check_transition(from, *to, severity, post_mortem)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    fn post_mortem() -> PostMortem {
        PostMortemDraft {
            root_cause: "Webhook secret rotated without updating the CRM".into(),
            fix: "Updated the secret and replayed the failed events".into(),
            prevention: "Secret rotation checklist names every consumer".into(),
            monitoring_added: "Heartbeat on the lead webhook, 15 min grace".into(),
        }
        .parse()
        .unwrap()
    }

    fn draft() -> TicketDraft {
        TicketDraft {
            client: "acme-dental".into(),
            title: "Booking form stopped creating contacts".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_ticket_needs_only_a_client_and_a_title_to_be_recorded() {
        let t = draft().parse().unwrap();
        assert_eq!(t.client.as_str(), "acme-dental");
        assert_eq!(t.severity, None);
        assert_eq!(t.source, None);
        assert_eq!(t.dependencies, Dependencies::Unstated);
        assert_eq!(t.business_risk, None);
    }

    #[test]
    fn every_invalid_ticket_field_is_reported_at_once() {
        let e = TicketDraft {
            client: "Not A Slug".into(),
            title: "x".repeat(201),
            source: "fax".into(),
            severity: "p9".into(),
            owner_email: "nobody".into(),
            blocked_by: "#3, soon".into(),
            business_risk: "huge".into(),
            revenue_impact: "lots".into(),
            customer_effect: "some".into(),
            launch_deadline: "next friday".into(),
            next_action: "x".repeat(2_001),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        for field in [
            "client",
            "title",
            "source",
            "severity",
            "owner_email",
            "blocked_by",
            "business_risk",
            "revenue_impact",
            "customer_effect",
            "launch_deadline",
            "next_action",
        ] {
            assert!(e.get(field).is_some(), "{field} should be reported: {e}");
        }
        assert_eq!(e.get("title"), Some("must be at most 200 characters"));
        assert!(e.get("source").unwrap().contains("monitoring-alert"));
    }

    #[test]
    fn a_blank_title_is_required() {
        let e = TicketDraft {
            title: "   ".into(),
            ..draft()
        }
        .parse()
        .unwrap_err();
        assert_eq!(e.get("title"), Some("is required"));
    }

    #[test]
    fn a_full_draft_parses_into_typed_fields_and_back() {
        let d = TicketDraft {
            description: "Since Monday the form thanks people but no contact appears.".into(),
            source: "Monitoring alert".into(),
            severity: "P1".into(),
            owner_email: "Ops@Agency.test".into(),
            blocked_by: "#3 #7, 3".into(),
            expected_outcome: "Every booking creates a contact".into(),
            next_action: "Check the webhook log".into(),
            acceptance_test: "Submit a test booking; contact appears within 1 min".into(),
            business_risk: "high".into(),
            revenue_impact: "Medium".into(),
            customer_effect: "low".into(),
            launch_deadline: "2026-11-01".into(),
            ..draft()
        };
        let t = d.parse().unwrap();
        assert_eq!(t.source, Some(TicketSource::MonitoringAlert));
        assert_eq!(t.severity, Some(Severity::P1));
        assert_eq!(t.owner_email.as_ref().unwrap().as_str(), "ops@agency.test");
        assert_eq!(
            t.dependencies,
            Dependencies::BlockedBy(vec![TicketNumber(3), TicketNumber(7)])
        );
        assert_eq!(t.revenue_impact, Some(Impact::Medium));
        assert_eq!(t.launch_deadline, Some(jiff::civil::date(2026, 11, 1)));
        assert_eq!(TicketDraft::from_input(&t).parse().unwrap(), t);
    }

    #[test]
    fn no_dependencies_is_a_statement_distinct_from_an_empty_field() {
        assert_eq!(Dependencies::parse("").unwrap(), Dependencies::Unstated);
        assert_eq!(
            Dependencies::parse(" None ").unwrap(),
            Dependencies::NoBlockers
        );
        assert!(Dependencies::NoBlockers.is_stated());
        assert!(!Dependencies::Unstated.is_stated());
        assert_eq!(
            Dependencies::parse("#0").unwrap_err(),
            "\"#0\" is not a ticket number (write #12, or none)"
        );
    }

    #[test]
    fn the_sop_severity_definitions_and_examples_are_shown_for_every_severity() {
        let guides = severity_guides();
        assert_eq!(guides.len(), 4);
        let p0 = severity_guide(Severity::P0);
        assert_eq!(p0.name, "Critical");
        assert_eq!(
            p0.definition,
            "System completely down; core business process broken"
        );
        assert!(p0.examples.contains(&"All leads going unprocessed"));
        assert!(p0.needs_post_mortem);
        assert!(severity_guide(Severity::P1).needs_post_mortem);
        let p3 = severity_guide(Severity::P3);
        assert_eq!(p3.definition, "Enhancement request or minor annoyance");
        assert!(!p3.needs_post_mortem);
    }

    #[test]
    fn a_p0_or_p1_ticket_cannot_be_closed_without_a_post_mortem() {
        for severity in [Severity::P0, Severity::P1] {
            let refused = check_transition(Resolved, Closed, Some(severity), None).unwrap_err();
            assert_eq!(refused, StatusRefusal::CloseNeedsPostMortem(severity));
            assert!(refused.to_string().contains("post-mortem"));
            assert_eq!(
                check_transition(Resolved, Closed, Some(severity), Some(&post_mortem())),
                Ok(StatusMove::Close)
            );
        }
    }

    #[test]
    fn a_p2_or_p3_ticket_closes_without_a_post_mortem() {
        for severity in [Severity::P2, Severity::P3] {
            assert_eq!(
                check_transition(Resolved, Closed, Some(severity), None),
                Ok(StatusMove::Close)
            );
        }
    }

    #[test]
    fn a_ticket_without_a_severity_cannot_be_closed() {
        assert_eq!(
            check_transition(Resolved, Closed, None, Some(&post_mortem())),
            Err(StatusRefusal::CloseNeedsSeverity)
        );
    }

    #[test]
    fn only_a_resolved_ticket_can_be_closed() {
        for from in [New, Acknowledged, InProgress, WaitingOnClient] {
            assert_eq!(
                check_transition(from, Closed, Some(Severity::P3), None),
                Err(StatusRefusal::CloseBeforeResolved(from))
            );
        }
    }

    #[test]
    fn resolved_and_closed_tickets_are_reopened_to_acknowledged_or_in_progress() {
        for from in [Resolved, Closed] {
            for to in [Acknowledged, InProgress] {
                assert_eq!(
                    check_transition(from, to, Some(Severity::P2), None),
                    Ok(StatusMove::Reopen)
                );
            }
            assert_eq!(
                check_transition(from, New, Some(Severity::P2), None),
                Err(StatusRefusal::BackToNew)
            );
        }
        assert_eq!(
            check_transition(Closed, Resolved, None, None),
            Err(StatusRefusal::ClosedToResolved)
        );
    }

    #[test]
    fn waiting_on_client_is_entered_only_from_an_open_ticket() {
        for from in [New, Acknowledged, InProgress] {
            assert_eq!(
                check_transition(from, WaitingOnClient, None, None),
                Ok(StatusMove::WaitOnClient)
            );
        }
        for from in [Resolved, Closed] {
            let refused = check_transition(from, WaitingOnClient, None, None).unwrap_err();
            assert_eq!(refused, StatusRefusal::WaitingNeedsOpenTicket(from));
            assert!(refused.to_string().contains("reopen it first"));
        }
    }

    #[test]
    fn the_usual_path_from_new_to_closed_is_allowed_step_by_step() {
        let path = [
            (New, Acknowledged, StatusMove::Acknowledge),
            (Acknowledged, InProgress, StatusMove::Progress),
            (InProgress, WaitingOnClient, StatusMove::WaitOnClient),
            (WaitingOnClient, InProgress, StatusMove::ClientReplied),
            (InProgress, Resolved, StatusMove::Resolve),
            (Resolved, Closed, StatusMove::Close),
        ];
        for (from, to, expected) in path {
            assert_eq!(
                check_transition(from, to, Some(Severity::P2), None),
                Ok(expected),
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn a_move_to_the_same_status_is_refused_as_a_no_op() {
        for status in TicketStatus::ALL {
            assert_eq!(
                check_transition(*status, *status, None, None),
                Err(StatusRefusal::Unchanged(*status))
            );
        }
    }

    #[test]
    fn a_ticket_page_lists_every_other_status_with_its_verdict() {
        let moves = status_moves(Resolved, Some(Severity::P0), None);
        assert_eq!(moves.len(), TicketStatus::ALL.len() - 1);
        let close = moves.iter().find(|(to, _)| *to == Closed).unwrap();
        assert_eq!(
            close.1,
            Err(StatusRefusal::CloseNeedsPostMortem(Severity::P0))
        );
    }

    #[test]
    fn a_post_mortem_needs_all_four_parts() {
        let e = PostMortemDraft {
            root_cause: "Expired token".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert!(e.get("root_cause").is_none());
        for field in ["fix", "prevention", "monitoring_added"] {
            assert_eq!(e.get(field), Some("is required"), "{field}");
        }
    }

    #[test]
    fn sources_and_statuses_read_the_words_people_type() {
        assert_eq!(
            TicketSource::parse("proactive finding").unwrap(),
            TicketSource::ProactiveFinding
        );
        assert_eq!(
            TicketStatus::parse("Waiting_on_client").unwrap(),
            WaitingOnClient
        );
        assert_eq!(TicketNumber::parse("#12").unwrap().to_string(), "#12");
        assert!(WaitingOnClient.is_open());
        assert!(!Resolved.is_open());
    }
}

#[cfg(test)]
mod word_tests {
    use super::*;

    #[test]
    fn a_status_can_be_named_with_the_short_word_people_use() {
        assert_eq!(
            TicketStatus::from_word("waiting"),
            Ok(TicketStatus::WaitingOnClient)
        );
        assert_eq!(
            TicketStatus::from_word("progress"),
            Ok(TicketStatus::InProgress)
        );
        assert_eq!(
            TicketStatus::from_word("resolved"),
            Ok(TicketStatus::Resolved)
        );
        assert!(TicketStatus::from_word("sleeping").is_err());
    }
}

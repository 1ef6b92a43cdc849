//! Messages to a client's contacts (acknowledge, status update, resolved, post-mortem,
//! and the hour bank's 75 % and 100 % emails), written from templates the agency edits.
//!
//! A template is a subject and a body in Jinja syntax (minijinja, sandboxed: no file or
//! network access, and a fuel limit bounds loops). Rendering is strict: a variable that
//! does not exist is an error that names it, so a typo never reaches a client as an
//! empty gap. The variables are [`MessageContext`]; the defaults follow the SOP's own
//! wording for each step. Text in `[square brackets]` is a blank the sender fills in
//! before sending ([`unfilled_blanks`]).

use serde::{Deserialize, Serialize};

use crate::plan::text_enum;

text_enum!(
    /// Which message a template writes.
    TemplateKind, "template", {
        Acknowledge => "acknowledge",
        StatusUpdate => "status-update",
        Resolved => "resolved",
        PostMortem => "post-mortem",
        HoursThreeQuarters => "hours-75",
        HoursDepleted => "hours-100"
    }
);

impl TemplateKind {
    pub fn label(self) -> &'static str {
        match self {
            TemplateKind::Acknowledge => "Acknowledge",
            TemplateKind::StatusUpdate => "Status update",
            TemplateKind::Resolved => "Resolved",
            TemplateKind::PostMortem => "Post-mortem",
            TemplateKind::HoursThreeQuarters => "Hours 75 % used",
            TemplateKind::HoursDepleted => "Hours used up",
        }
    }

    /// A kind a person writes on a ticket: the hour-bank emails are drafted by the hour
    /// bank instead, so naming one here is an error that says so.
    pub fn parse_for_ticket(raw: &str) -> Result<Self, String> {
        let kind = Self::parse(raw).map_err(|e| e.to_string())?;
        if kind.is_about_a_ticket() {
            Ok(kind)
        } else {
            Err(format!(
                "\"{raw}\" is drafted by the hour bank, not written on a ticket; use acknowledge, status-update, resolved or post-mortem"
            ))
        }
    }

    /// Whether it is written about a ticket (from the ticket's page), or drafted by the
    /// hour bank when usage crosses a threshold.
    pub fn is_about_a_ticket(self) -> bool {
        !matches!(
            self,
            TemplateKind::HoursThreeQuarters | TemplateKind::HoursDepleted
        )
    }

    /// When the SOP sends it.
    pub fn purpose(self) -> &'static str {
        match self {
            TemplateKind::Acknowledge => "First reply, within the response SLA: you are on it, and when the next update comes.",
            TemplateKind::StatusUpdate => "What is happening, what you are doing, when it will be fixed.",
            TemplateKind::Resolved => "What was fixed, how you know, what prevents it coming back.",
            TemplateKind::PostMortem => "For P0 and P1: root cause, fix, prevention and monitoring added.",
            TemplateKind::HoursThreeQuarters => "Drafted to the billing contact when 75 % of the period's hours are used.",
            TemplateKind::HoursDepleted => "Drafted to the billing contact when the hours run out: the options for further work.",
        }
    }
}

/// A template's two parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageTemplate {
    pub subject: String,
    pub body: String,
}

/// The templates Tend ships, from the SOP's escalation steps.
pub fn default_template(kind: TemplateKind) -> MessageTemplate {
    let (subject, body) = match kind {
        TemplateKind::Acknowledge => (
            "Re: {{ ticket.title }} [#{{ ticket.number }}]",
            "Hi {{ contact.first_name }},

Got your message about {{ ticket.title }}. I'm looking into it now.
{% if ticket.next_action %}
Next step: {{ ticket.next_action }}
{% endif %}
I'll have an update for you by {{ update_by }}.

- {{ agent.name }}
",
        ),
        TemplateKind::StatusUpdate => (
            "Update on {{ ticket.title }} [#{{ ticket.number }}]",
            "Hi {{ contact.first_name }},

Update on {{ ticket.title }}:

What's happening: [what you found]
What I'm doing: {{ ticket.next_action or \"[your plan]\" }}
ETA for fix: [a realistic time]

I'll keep you posted every {{ update_every }} until it's resolved.

Let me know if you have questions!

- {{ agent.name }}
",
        ),
        TemplateKind::Resolved => (
            "Resolved: {{ ticket.title }} [#{{ ticket.number }}]",
            "Hi {{ contact.first_name }},

Issue resolved!

What was fixed: {{ ticket.expected_outcome or \"[what was fixed]\" }}
Verification: {{ ticket.acceptance_test or \"[how you know it's working]\" }}
Prevention: {% if post_mortem %}{{ post_mortem.prevention }}{% else %}[what you did to prevent recurrence]{% endif %}

Please confirm everything looks good on your end.

- {{ agent.name }}
",
        ),
        TemplateKind::PostMortem => (
            "Post-mortem: {{ ticket.title }} [#{{ ticket.number }}]",
            "Hi {{ contact.first_name }},

Here is what happened with {{ ticket.title }}, and what we changed so it does not happen again.

Root cause: {{ post_mortem.root_cause }}
Fix: {{ post_mortem.fix }}
Prevention: {{ post_mortem.prevention }}
Monitoring added: {{ post_mortem.monitoring_added }}

- {{ agent.name }}
",
        ),
        // The SOP's "Support Hours Update" and "Support Hours Depleted" emails.
        TemplateKind::HoursThreeQuarters => (
            "{{ client.name }} - Support Hours Update",
            "Hey {{ contact.first_name }},

Heads up - we've used {{ hours.used }} of your {{ hours.available }} monthly support hours so far this period.

Remaining: {{ hours.remaining }} hours

If you're planning any requests, want to make sure you're aware. If we go over, additional time is billed at {{ hours.overage_rate }}/hour (or we can upgrade your tier for more included hours).

Let me know if you have questions!

- {{ agent.name }}
",
        ),
        TemplateKind::HoursDepleted => (
            "{{ client.name }} - Support Hours Depleted",
            "Hey {{ contact.first_name }},

We've used all {{ hours.available }} of your monthly support hours for the period {{ hours.period }}.

For further requests, the options are:

{% for option in hours.options %}{{ loop.index }}. {{ option }}
{% endfor %}
Which would you prefer?

- {{ agent.name }}
",
        ),
    };
    MessageTemplate {
        subject: subject.into(),
        body: body.into(),
    }
}

/// What a template can use. Empty text is `""` (false in `{% if %}` and `or`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageContext {
    pub ticket: TicketFacts,
    pub client: ClientFacts,
    pub contact: ContactFacts,
    pub agent: AgentFacts,
    /// When the next update is due if this message goes out now, in the client's
    /// timezone ("Tue 24 Nov, 14:00 CST"); empty when the plan has no update target.
    pub update_by: String,
    /// The plan's update cadence for the ticket's severity ("8 h of business time").
    pub update_every: String,
    /// Absent until a post-mortem is written.
    pub post_mortem: Option<PostMortemFacts>,
    /// The hour bank's numbers, in the hour-bank emails only.
    pub hours: Option<HoursFacts>,
}

/// What the hour-bank emails quote, already written out ("7.5", "$150.00").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HoursFacts {
    pub used: String,
    pub available: String,
    pub remaining: String,
    pub overage_rate: String,
    /// "2026-11-01 to 2026-11-30".
    pub period: String,
    /// The first day of the next period, when the hours refresh.
    pub refresh_on: String,
    /// The SOP's choices once the hours are used up, each one sentence.
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TicketFacts {
    pub number: i64,
    pub title: String,
    /// "P1", or "" while untriaged.
    pub severity: String,
    pub status: String,
    pub next_action: String,
    pub expected_outcome: String,
    pub acceptance_test: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClientFacts {
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContactFacts {
    pub name: String,
    pub first_name: String,
    pub email: String,
}

impl ContactFacts {
    pub fn new(name: &str, email: &str) -> Self {
        let first_name = name
            .split_whitespace()
            .next()
            .unwrap_or("there")
            .to_string();
        Self {
            name: name.to_string(),
            first_name,
            email: email.to_string(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AgentFacts {
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PostMortemFacts {
    pub root_cause: String,
    pub fix: String,
    pub prevention: String,
    pub monitoring_added: String,
}

/// A template filled in for one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedMessage {
    pub subject: String,
    pub body: String,
}

/// Why a template cannot be used, said for the field it is in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct TemplateError {
    /// "subject" or "body".
    pub field: &'static str,
    pub message: String,
}

const SUBJECT_MAX: usize = 200;
const BODY_MAX: usize = 20_000;
/// Enough for any honest message; stops a runaway loop in an edited template.
const FUEL: u64 = 50_000;

fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    // Plain text email: nothing is HTML-escaped.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env
}

fn explain(e: &minijinja::Error) -> String {
    let what = match e.kind() {
        minijinja::ErrorKind::UndefinedError => {
            "uses a variable that does not exist (see the list of variables)".to_string()
        }
        minijinja::ErrorKind::OutOfFuel => "does too much work (a loop that never ends?)".into(),
        _ => e.detail().unwrap_or("cannot be read").to_string(),
    };
    match e.line() {
        Some(line) => format!("{what}, on line {line}"),
        None => what,
    }
}

fn render_part(
    env: &minijinja::Environment<'static>,
    field: &'static str,
    source: &str,
    context: &MessageContext,
) -> Result<String, TemplateError> {
    env.render_str(source, context).map_err(|e| TemplateError {
        field,
        message: explain(&e),
    })
}

/// Fills a template in for one recipient. The subject becomes one line.
pub fn render(
    template: &MessageTemplate,
    context: &MessageContext,
) -> Result<RenderedMessage, TemplateError> {
    let env = environment();
    let subject = render_part(&env, "subject", &template.subject, context)?;
    let body = render_part(&env, "body", &template.body, context)?;
    Ok(RenderedMessage {
        subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
        body: body.trim_end().to_string() + "\n",
    })
}

/// Checks an edited template: it must parse, stay within size limits, and render
/// against a sample of what its kind is written with (so unknown variables are caught
/// when saving, not sending).
pub fn check(kind: TemplateKind, template: &MessageTemplate) -> Result<(), Vec<TemplateError>> {
    let mut errors = Vec::new();
    if template.subject.trim().is_empty() {
        errors.push(TemplateError {
            field: "subject",
            message: "is required".into(),
        });
    } else if template.subject.chars().count() > SUBJECT_MAX {
        errors.push(TemplateError {
            field: "subject",
            message: format!("must be at most {SUBJECT_MAX} characters"),
        });
    }
    if template.body.trim().is_empty() {
        errors.push(TemplateError {
            field: "body",
            message: "is required".into(),
        });
    } else if template.body.chars().count() > BODY_MAX {
        errors.push(TemplateError {
            field: "body",
            message: "must be at most 20,000 characters".into(),
        });
    }
    if errors.is_empty() {
        let env = environment();
        let sample = sample_for(kind);
        for (field, source) in [("subject", &template.subject), ("body", &template.body)] {
            if let Err(e) = render_part(&env, field, source, &sample) {
                errors.push(e);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The sample a kind of template is previewed and checked with: a ticket for ticket
/// messages, an hour bank for the hour-bank emails (with no post-mortem, so a ticket
/// message's fields there are refused when saving).
pub fn sample_for(kind: TemplateKind) -> MessageContext {
    let mut c = sample_context();
    if kind.is_about_a_ticket() {
        c.hours = None;
    } else {
        c.post_mortem = None;
        c.ticket = TicketFacts::default();
        c.update_by = String::new();
        c.update_every = String::new();
    }
    c
}

/// A made-up ticket and hour bank for previews of a template on its own.
pub fn sample_context() -> MessageContext {
    MessageContext {
        ticket: TicketFacts {
            number: 42,
            title: "New leads are not reaching the CRM".into(),
            severity: "P1".into(),
            status: "in progress".into(),
            next_action: "Re-authorise the form connector and replay today's leads".into(),
            expected_outcome: "Every form submission creates a contact within a minute".into(),
            acceptance_test: "A test submission appears in the CRM with its UTM fields".into(),
        },
        client: ClientFacts {
            name: "Acme Dental".into(),
        },
        contact: ContactFacts::new("Dana Reyes", "dana@acme.example"),
        agent: AgentFacts {
            name: "Maya Chen".into(),
        },
        update_by: "Tue 24 Nov, 14:00 CST".into(),
        update_every: "8 h of business time".into(),
        post_mortem: Some(PostMortemFacts {
            root_cause: "The connector's token expired when the CRM rotated its keys".into(),
            fix: "Re-authorised the connector and replayed 37 leads".into(),
            prevention: "Token expiry is now checked every morning".into(),
            monitoring_added: "A heartbeat on the lead sync, alerting after 15 minutes".into(),
        }),
        hours: Some(HoursFacts {
            used: "7.5".into(),
            available: "10".into(),
            remaining: "2.5".into(),
            overage_rate: "$150.00".into(),
            period: "2026-11-01 to 2026-11-30".into(),
            refresh_on: "2026-12-01".into(),
            options: vec![
                "Bill the additional work hourly at $150.00/hour".into(),
                "Wait until your hours refresh on 2026-12-01".into(),
                "Upgrade to ENTERPRISE ($4,500.00/month, 30 hours included) from 2026-12-01".into(),
            ],
        }),
    }
}

/// Why a written message cannot go yet: a subject and a body are needed, and the body
/// must have no `[blanks]` left. (The subject is not searched for blanks: a tag such as
/// "[#42]" or "[Action needed]" is the sender's choice there.)
pub fn ready_to_send(message: &RenderedMessage) -> crate::FieldErrors {
    let mut e = crate::FieldErrors::new();
    if message.subject.trim().is_empty() {
        e.add("subject", "is required");
    }
    if message.body.trim().is_empty() {
        e.add("body", "is required");
    }
    let blanks = unfilled_blanks(&message.body);
    if !blanks.is_empty() {
        e.add(
            "body",
            format!("fill in the blanks first: {}", blanks.join(", ")),
        );
    }
    e
}

/// The `[blanks]` still in a text: short bracketed phrases the sender must fill in.
pub fn unfilled_blanks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('[') {
        let after = &rest[start + 1..];
        let Some(end) = after.find(']') else { break };
        let inner = &after[..end];
        // "[#42]" in a subject is a reference, not a blank; a blank has letters.
        if !inner.is_empty()
            && inner.len() <= 60
            && !inner.contains('\n')
            && inner.chars().any(char::is_alphabetic)
        {
            out.push(format!("[{inner}]"));
        }
        rest = &after[end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_default_renders_against_the_sample() {
        for kind in TemplateKind::ALL.iter().filter(|k| k.is_about_a_ticket()) {
            let t = default_template(*kind);
            assert_eq!(check(*kind, &t), Ok(()), "{kind}");
            let r = render(&t, &sample_context()).unwrap();
            assert!(r.subject.contains("#42"), "{kind}: {}", r.subject);
            assert!(r.body.starts_with("Hi Dana,"), "{kind}: {}", r.body);
            assert!(r.body.contains("- Maya Chen"), "{kind}");
        }
    }

    #[test]
    fn the_hour_bank_emails_quote_the_sops_numbers() {
        let quarter = render(
            &default_template(TemplateKind::HoursThreeQuarters),
            &sample_for(TemplateKind::HoursThreeQuarters),
        )
        .unwrap();
        assert_eq!(quarter.subject, "Acme Dental - Support Hours Update");
        assert!(quarter.body.starts_with("Hey Dana,"));
        assert!(quarter
            .body
            .contains("we've used 7.5 of your 10 monthly support hours"));
        assert!(quarter.body.contains("Remaining: 2.5 hours"));
        assert!(quarter.body.contains("billed at $150.00/hour"));
        let depleted = render(
            &default_template(TemplateKind::HoursDepleted),
            &sample_for(TemplateKind::HoursDepleted),
        )
        .unwrap();
        assert!(depleted.body.contains("1. Bill the additional work hourly"));
        assert!(depleted
            .body
            .contains("2. Wait until your hours refresh on 2026-12-01"));
        assert!(depleted.body.contains("3. Upgrade to ENTERPRISE"));
        for kind in [
            TemplateKind::HoursThreeQuarters,
            TemplateKind::HoursDepleted,
        ] {
            assert_eq!(check(kind, &default_template(kind)), Ok(()));
            assert!(!kind.is_about_a_ticket());
        }
    }

    #[test]
    fn a_message_goes_only_with_a_subject_a_body_and_no_blanks() {
        let ok = RenderedMessage {
            subject: "[#42] Resolved".into(),
            body: "All fixed.".into(),
        };
        assert!(ready_to_send(&ok).is_empty());
        let blank = RenderedMessage {
            subject: " ".into(),
            body: "ETA: [a realistic time]".into(),
        };
        let e = ready_to_send(&blank);
        assert_eq!(e.get("subject"), Some("is required"));
        assert_eq!(
            e.get("body"),
            Some("fill in the blanks first: [a realistic time]")
        );
    }

    #[test]
    fn a_ticket_message_cannot_be_an_hour_bank_email() {
        assert_eq!(
            TemplateKind::parse_for_ticket("resolved"),
            Ok(TemplateKind::Resolved)
        );
        let e = TemplateKind::parse_for_ticket("hours-75").unwrap_err();
        assert!(e.contains("drafted by the hour bank"), "{e}");
        assert!(TemplateKind::parse_for_ticket("nope").is_err());
    }

    #[test]
    fn each_kind_is_checked_with_its_own_facts() {
        let uses_hours = MessageTemplate {
            subject: "x".into(),
            body: "{{ hours.remaining }} left".into(),
        };
        assert!(check(TemplateKind::HoursThreeQuarters, &uses_hours).is_ok());
        let e = check(TemplateKind::Acknowledge, &uses_hours).unwrap_err();
        assert!(e[0].message.contains("does not exist"), "{}", e[0]);
        let uses_post_mortem = MessageTemplate {
            subject: "x".into(),
            body: "{{ post_mortem.fix }}".into(),
        };
        assert!(check(TemplateKind::HoursDepleted, &uses_post_mortem).is_err());
    }

    #[test]
    fn the_acknowledgement_says_when_the_update_comes() {
        let r = render(
            &default_template(TemplateKind::Acknowledge),
            &sample_context(),
        )
        .unwrap();
        assert!(r
            .body
            .contains("I'll have an update for you by Tue 24 Nov, 14:00 CST."));
        assert!(r.body.contains("Next step: Re-authorise"));
        assert!(unfilled_blanks(&r.body).is_empty());
        assert!(unfilled_blanks(&r.subject).is_empty(), "[#42] is no blank");
    }

    #[test]
    fn a_status_update_leaves_blanks_for_the_sender() {
        let r = render(
            &default_template(TemplateKind::StatusUpdate),
            &sample_context(),
        )
        .unwrap();
        assert_eq!(
            unfilled_blanks(&r.body),
            vec!["[what you found]", "[a realistic time]"]
        );
    }

    #[test]
    fn a_post_mortem_message_needs_a_post_mortem() {
        let mut c = sample_context();
        c.post_mortem = None;
        let e = render(&default_template(TemplateKind::PostMortem), &c).unwrap_err();
        assert_eq!(e.field, "body");
        assert!(e.message.contains("does not exist"), "{e}");
        // The resolved message does without one.
        assert!(render(&default_template(TemplateKind::Resolved), &c).is_ok());
    }

    #[test]
    fn a_typo_is_refused_when_saving_with_its_line() {
        let t = MessageTemplate {
            subject: "About {{ ticket.titel }}".into(),
            body: "Hi\n{{ contact.frist_name }}".into(),
        };
        let errors = check(TemplateKind::Acknowledge, &t).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "subject");
        assert!(errors[1].message.contains("line 2"), "{}", errors[1]);
        let broken = MessageTemplate {
            subject: "ok".into(),
            body: "{% if %}".into(),
        };
        assert_eq!(
            check(TemplateKind::Resolved, &broken).unwrap_err()[0].field,
            "body"
        );
    }

    #[test]
    fn nothing_is_html_escaped_in_plain_text_mail() {
        let mut c = sample_context();
        c.ticket.title = "Fix <form> & \"UTM\"".into();
        let r = render(&default_template(TemplateKind::Acknowledge), &c).unwrap();
        assert!(r.body.contains("Fix <form> & \"UTM\""));
    }

    #[test]
    fn a_runaway_loop_runs_out_of_fuel() {
        let t = MessageTemplate {
            subject: "x".into(),
            body:
                "{% for i in range(100000) %}{% for j in range(100000) %}.{% endfor %}{% endfor %}"
                    .into(),
        };
        let e = check(TemplateKind::StatusUpdate, &t).unwrap_err();
        assert!(e[0].message.contains("too much work"), "{}", e[0]);
    }

    proptest! {
        #[test]
        fn any_text_is_either_a_template_or_a_clear_error(body in ".{0,200}") {
            let t = MessageTemplate { subject: "s".into(), body };
            match check(TemplateKind::Acknowledge, &t) {
                Ok(()) => prop_assert!(render(&t, &sample_context()).is_ok()),
                Err(errors) => prop_assert!(errors.iter().all(|e| !e.message.is_empty())),
            }
        }

        #[test]
        fn blanks_are_bracketed_and_found_in_the_text(text in "[a-z \\[\\]#0-9\n]{0,120}") {
            for b in unfilled_blanks(&text) {
                prop_assert!(b.starts_with('[') && b.ends_with(']'));
                prop_assert!(text.contains(&b));
            }
        }
    }
}

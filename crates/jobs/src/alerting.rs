//! What the jobs need to tell people beyond email: where links point, and which Slack
//! and webhook channels hear which events (names only; the secrets stay with the
//! [`crate::webhook::Notifier`]). The notices for flips and SLA breaches are built here
//! so that the watcher and the scan only ask "who else hears this?".

use tend_domain::check::CheckState;
use tend_domain::notify::{
    channel_messages, Notice, Route, CHECK_DOWN, CHECK_DRIFT, CHECK_RECOVERED,
};
use tend_store::checks::{FlipAlert, PendingFlip};
use tend_store::outbox::NewMessage;

/// Links and channel routes for the alerting jobs.
#[derive(Debug, Clone, Default)]
pub struct Alerting {
    /// Where people reach this Tend (`https://desk.agency.example`).
    pub public_url: String,
    /// Configured Slack and webhook channels, by name, with what each hears.
    pub routes: Vec<Route>,
}

impl Alerting {
    /// Email only: no channel routes.
    pub fn email_only(public_url: &str) -> Self {
        Self {
            public_url: public_url.to_string(),
            routes: Vec::new(),
        }
    }

    fn base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// Outbox messages for every channel that hears `notice`.
    pub fn channel_messages(
        &self,
        notice: &Notice,
        client_id: Option<i64>,
        ticket_id: Option<i64>,
    ) -> Vec<NewMessage> {
        channel_messages(&self.routes, notice)
            .into_iter()
            .map(|m| NewMessage {
                event_key: m.event_key,
                channel: m.kind.as_str(),
                recipient: m.name,
                subject: notice.title.chars().take(200).collect(),
                body: m.body,
                client_id,
                ticket_id,
            })
            .collect()
    }

    /// What a flip's alert tells the channels; `None` for a quiet flip. The event is a
    /// function of the alert (down, recovered, and whatever alerts join them), not of
    /// the check's kind.
    pub fn flip_notice(&self, p: &PendingFlip, alert: &FlipAlert) -> Option<Notice> {
        let check = &p.check;
        let (event, title, text) = match alert {
            FlipAlert::Down { title, body, .. } => (CHECK_DOWN, title.clone(), body.clone()),
            FlipAlert::Drift { title, body, .. } => (CHECK_DRIFT, title.clone(), body.clone()),
            FlipAlert::Recovered { note } => (
                CHECK_RECOVERED,
                format!("Check up: {} ({})", check.name, check.client_name),
                note.clone(),
            ),
            FlipAlert::Quiet => return None,
        };
        let mut fields = vec![
            ("Check".to_string(), check.name.clone()),
            (
                "Criticality".to_string(),
                check.criticality.label().to_string(),
            ),
            ("Schedule".to_string(), check.schedule_text()),
        ];
        if !check.workflow.is_empty() {
            fields.insert(1, ("Workflow".to_string(), check.workflow.clone()));
        }
        if p.flip.new_state != CheckState::Up {
            fields.push(("State".to_string(), p.flip.new_state.as_str().to_string()));
        }
        Some(Notice {
            event: event.to_string(),
            id: format!("check:{}:flip:{}", check.id, p.flip.id),
            title,
            text,
            client_slug: Some(check.client_slug.clone()),
            client_name: Some(check.client_name.clone()),
            fields,
            link: format!("{}/checks/{}", self.base(), check.uuid),
            link_label: "Open the check in Tend".into(),
            at: p.flip.at,
        })
    }

    /// The link to a ticket.
    pub fn ticket_link(&self, number: i64) -> String {
        format!("{}/tickets/{number}", self.base())
    }
}

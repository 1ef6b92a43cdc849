//! Notifications beyond email: which configured Slack and webhook channels hear an
//! event, and what each is sent.
//!
//! An event is described once as a [`Notice`] (what happened, to which client, with a
//! link into Tend), whatever raised it: a check that went down or recovered, drifted or
//! dropped in volume, an SLA breach. Channels subscribe by event name and by client, so
//! a new kind of alert reaches them by naming its event, not by code here.
//!
//! Routes hold names only; a channel's URL and secret stay in the configuration and are
//! looked up when the message is sent, so they never reach the database.

use serde_json::{json, Value};

/// Event names a channel may subscribe to (`check.*` and `*` match several).
pub const CHECK_DOWN: &str = "check.down";
pub const CHECK_RECOVERED: &str = "check.recovered";
/// An event stream's payload drifted from its learned shape.
pub const CHECK_DRIFT: &str = "check.drift";
pub const SLA_BREACH: &str = "sla.breach";

/// Where a route delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// A Slack incoming webhook: Block Kit JSON.
    Slack,
    /// A generic webhook: JSON signed with HMAC-SHA256.
    Webhook,
}

impl ChannelKind {
    /// The outbox `channel` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Slack => "slack",
            ChannelKind::Webhook => "webhook",
        }
    }
}

/// One configured channel, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub kind: ChannelKind,
    /// The name in the configuration (`[notify.slack.ops]` → `ops`).
    pub name: String,
    /// Event names or patterns (`check.*`, `*`); empty means every event.
    pub events: Vec<String>,
    /// Client slugs; empty means every client.
    pub clients: Vec<String>,
}

impl Route {
    /// Whether this channel hears `event` about the client `client_slug`.
    pub fn hears(&self, event: &str, client_slug: Option<&str>) -> bool {
        let event_ok = self.events.is_empty() || self.events.iter().any(|p| matches(p, event));
        let client_ok = self.clients.is_empty()
            || client_slug.is_some_and(|slug| self.clients.iter().any(|c| c == slug));
        event_ok && client_ok
    }
}

/// `*` matches all, `check.*` every `check.` event, anything else itself.
fn matches(pattern: &str, event: &str) -> bool {
    let pattern = pattern.trim();
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix('*') {
        Some(prefix) => event.starts_with(prefix),
        None => pattern == event,
    }
}

/// What happened, as every channel is told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// `check.down`, `check.recovered`, `sla.breach`, …
    pub event: String,
    /// Unique per event (the outbox event key without the recipient); receivers can
    /// use it to drop a duplicate.
    pub id: String,
    /// One line: "Check down: Lead sync (Acme Dental)".
    pub title: String,
    /// What was expected and what happened.
    pub text: String,
    pub client_slug: Option<String>,
    pub client_name: Option<String>,
    /// Short facts shown side by side: ("Criticality", "Revenue-critical").
    pub fields: Vec<(String, String)>,
    /// Where to look in Tend, and the button's label.
    pub link: String,
    pub link_label: String,
    /// When it happened (UTC ms).
    pub at: i64,
}

/// One message for one channel, ready for the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelMessage {
    pub kind: ChannelKind,
    pub name: String,
    /// `{notice.id}:{kind}:{name}`: one message per event and channel.
    pub event_key: String,
    pub body: String,
}

/// The messages for every route that hears `notice`, in route order.
pub fn channel_messages(routes: &[Route], notice: &Notice) -> Vec<ChannelMessage> {
    routes
        .iter()
        .filter(|r| r.hears(&notice.event, notice.client_slug.as_deref()))
        .map(|r| ChannelMessage {
            kind: r.kind,
            name: r.name.clone(),
            event_key: format!("{}:{}:{}", notice.id, r.kind.as_str(), r.name),
            body: match r.kind {
                ChannelKind::Slack => slack_payload(notice),
                ChannelKind::Webhook => webhook_payload(notice),
            }
            .to_string(),
        })
        .collect()
}

/// Slack's limits: 150 characters of header text, 3,000 of section text, 2,000 per
/// field, at most 10 fields.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Slack's mrkdwn escapes these three; everything else is taken literally.
fn mrkdwn(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The Block Kit message for a Slack incoming webhook: a header, a section with the
/// text and the facts as fields, and a button to the ticket or check in Tend. `text`
/// is the plain fallback Slack shows in notifications.
pub fn slack_payload(n: &Notice) -> Value {
    let mut fields: Vec<Value> = Vec::new();
    if let Some(client) = &n.client_name {
        fields.push(
            json!({"type": "mrkdwn", "text": cut(&format!("*Client*\n{}", mrkdwn(client)), 2000)}),
        );
    }
    for (label, value) in &n.fields {
        fields.push(json!({
            "type": "mrkdwn",
            "text": cut(&format!("*{}*\n{}", mrkdwn(label), mrkdwn(value)), 2000),
        }));
    }
    fields.truncate(10);
    let mut section = json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": cut(&mrkdwn(&n.text), 3000)},
    });
    if !fields.is_empty() {
        section["fields"] = Value::Array(fields);
    }
    json!({
        "text": cut(&n.title, 3000),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": cut(&n.title, 150), "emoji": true}},
            section,
            {"type": "actions", "elements": [{
                "type": "button",
                "text": {"type": "plain_text", "text": cut(&n.link_label, 75)},
                "url": n.link,
                "action_id": "open_in_tend",
            }]},
        ],
    })
}

/// The JSON a generic webhook receives (signed by the sender, see the docs).
pub fn webhook_payload(n: &Notice) -> Value {
    let fields: serde_json::Map<String, Value> = n
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "id": n.id,
        "event": n.event,
        "at": n.at,
        "title": n.title,
        "text": n.text,
        "client": n.client_slug.as_ref().map(|slug| json!({"slug": slug, "name": n.client_name})),
        "fields": fields,
        "url": n.link,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(kind: ChannelKind, name: &str, events: &[&str], clients: &[&str]) -> Route {
        Route {
            kind,
            name: name.into(),
            events: events.iter().map(|s| s.to_string()).collect(),
            clients: clients.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn notice(event: &str, client: Option<&str>) -> Notice {
        Notice {
            event: event.into(),
            id: "check:7:flip:9".into(),
            title: "Check down: Lead sync (Acme <Dental>)".into(),
            text: "Expected a ping every 5m.".into(),
            client_slug: client.map(str::to_string),
            client_name: client.map(|_| "Acme <Dental>".to_string()),
            fields: vec![("Criticality".into(), "Revenue-critical".into())],
            link: "https://desk.test/tickets/4".into(),
            link_label: "Open ticket #4".into(),
            at: 1_800_000_000_000,
        }
    }

    #[test]
    fn a_channel_hears_only_the_events_and_clients_it_names() {
        let all = route(ChannelKind::Slack, "ops", &[], &[]);
        let checks = route(ChannelKind::Slack, "alerts", &["check.*"], &[]);
        let acme_down = route(ChannelKind::Webhook, "erp", &["check.down"], &["acme"]);
        for r in [&all, &checks, &acme_down] {
            assert!(r.hears("check.down", Some("acme")), "{r:?}");
        }
        assert!(!checks.hears("sla.breach", Some("acme")));
        assert!(all.hears("sla.breach", None));
        assert!(!acme_down.hears("check.down", Some("globex")));
        assert!(!acme_down.hears("check.recovered", Some("acme")));
        assert!(!acme_down.hears("check.down", None));
        assert!(route(ChannelKind::Slack, "x", &["*"], &[]).hears("anything.new", None));
    }

    #[test]
    fn each_hearing_channel_gets_one_message_keyed_by_event_and_channel() {
        let routes = vec![
            route(ChannelKind::Slack, "ops", &[], &[]),
            route(ChannelKind::Webhook, "erp", &["sla.*"], &[]),
        ];
        let out = channel_messages(&routes, &notice(CHECK_DOWN, Some("acme")));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].event_key, "check:7:flip:9:slack:ops");
        assert_eq!(out[0].kind, ChannelKind::Slack);
        let body: Value = serde_json::from_str(&out[0].body).unwrap();
        assert_eq!(body["blocks"][0]["type"], "header");
    }

    #[test]
    fn the_slack_message_has_a_header_fields_and_a_button_to_tend() {
        let p = slack_payload(&notice(CHECK_DOWN, Some("acme")));
        assert_eq!(p["text"], "Check down: Lead sync (Acme <Dental>)");
        assert_eq!(p["blocks"][0]["text"]["type"], "plain_text");
        let section = &p["blocks"][1];
        assert_eq!(section["type"], "section");
        assert_eq!(
            section["fields"][0]["text"],
            "*Client*\nAcme &lt;Dental&gt;"
        );
        assert_eq!(
            section["fields"][1]["text"],
            "*Criticality*\nRevenue-critical"
        );
        let button = &p["blocks"][2]["elements"][0];
        assert_eq!(button["type"], "button");
        assert_eq!(button["url"], "https://desk.test/tickets/4");
        assert_eq!(button["text"]["text"], "Open ticket #4");
    }

    #[test]
    fn long_slack_texts_are_cut_to_slacks_limits() {
        let mut n = notice(CHECK_DOWN, None);
        n.title = "x".repeat(400);
        n.text = "y".repeat(5000);
        let p = slack_payload(&n);
        assert_eq!(
            p["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            150
        );
        assert_eq!(
            p["blocks"][1]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            3000
        );
        assert!(p["blocks"][1].get("fields").is_some());
    }

    #[test]
    fn the_webhook_body_names_the_event_client_and_link() {
        let p = webhook_payload(&notice(SLA_BREACH, Some("acme")));
        assert_eq!(p["event"], "sla.breach");
        assert_eq!(p["id"], "check:7:flip:9");
        assert_eq!(p["client"]["slug"], "acme");
        assert_eq!(p["fields"]["Criticality"], "Revenue-critical");
        assert_eq!(p["url"], "https://desk.test/tickets/4");
        assert!(webhook_payload(&notice(SLA_BREACH, None))["client"].is_null());
    }
}

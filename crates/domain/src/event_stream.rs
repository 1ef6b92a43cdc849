//! Event-stream checks: the workflow POSTs its events (JSON) to the check's URL; Tend
//! learns their shape ([`crate::payload_shape`]) and their volume per hour of the week
//! ([`crate::volume`]) and flags drift and anomalies.

use serde::{Deserialize, Serialize};

use crate::check::{CheckDraft, Criticality};
use crate::payload_shape::{DEFAULT_LEARN_EVENTS, MAX_LEARN_EVENTS, MIN_LEARN_EVENTS};
use crate::slug::Slug;
use crate::FieldErrors;

/// Events a stream keeps unless configured otherwise (older ones are pruned; hourly
/// counts stay).
pub const DEFAULT_EVENTS_KEPT: i64 = 1_000;
pub const MAX_EVENTS_KEPT: i64 = 100_000;

/// Why a flip of an event stream happened; the alert job reads these.
pub const REASON_DRIFT: &str = "payload drift";
pub const REASON_VOLUME_DROP: &str = "volume drop";
pub const REASON_VOLUME_SPIKE: &str = "volume spike";
pub const REASON_VOLUME_NORMAL: &str = "volume back to normal";
pub const REASON_FIRST_EVENT: &str = "first event";

/// An event-stream check as a form, the API or the CLI sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventStreamDraft {
    /// The client's slug.
    pub client: String,
    pub name: String,
    /// Empty: made from the name.
    pub slug: String,
    pub workflow: String,
    /// revenue-critical, customer-facing or internal; empty: internal.
    pub criticality: String,
    /// How many first events the shape is learned from; empty: 20.
    pub learn_events: String,
    /// How many events are kept; empty: 1,000.
    pub events_kept: String,
}

/// An event-stream check that passed [`EventStreamDraft::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventStreamInput {
    pub client: Slug,
    pub name: String,
    pub slug: String,
    pub workflow: String,
    pub criticality: Criticality,
    pub learn_events: u32,
    pub events_kept: i64,
}

fn bounded_number(raw: &str, default: i64, min: i64, max: i64) -> Result<i64, String> {
    match raw.trim() {
        "" => Ok(default),
        s => match s.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!("must be a whole number from {min} to {max}")),
        },
    }
}

impl EventStreamDraft {
    pub fn parse(&self) -> Result<EventStreamInput, FieldErrors> {
        // The fields a stream shares with a heartbeat follow exactly the heartbeat's
        // rules; the period given here only satisfies that parser and is not used.
        let common = CheckDraft {
            client: self.client.clone(),
            name: self.name.clone(),
            slug: self.slug.clone(),
            workflow: self.workflow.clone(),
            criticality: self.criticality.clone(),
            period: "1h".into(),
            ..Default::default()
        }
        .parse();
        let mut e = match &common {
            Ok(_) => FieldErrors::new(),
            Err(errors) => errors.clone(),
        };
        let learn = e.check(
            "learn_events",
            bounded_number(
                &self.learn_events,
                i64::from(DEFAULT_LEARN_EVENTS),
                i64::from(MIN_LEARN_EVENTS),
                i64::from(MAX_LEARN_EVENTS),
            ),
        );
        let kept = e.check(
            "events_kept",
            bounded_number(&self.events_kept, DEFAULT_EVENTS_KEPT, 1, MAX_EVENTS_KEPT),
        );
        match (common, learn, kept) {
            (Ok(c), Some(learn), Some(kept)) if e.is_empty() => Ok(EventStreamInput {
                client: c.client,
                name: c.name,
                slug: c.slug,
                workflow: c.workflow,
                criticality: c.criticality,
                learn_events: learn as u32,
                events_kept: kept,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_parse_with_defaults_or_say_what_is_wrong() {
        let input = EventStreamDraft {
            client: "acme".into(),
            name: "New leads".into(),
            criticality: "revenue-critical".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(input.slug, "new-leads");
        assert_eq!(input.learn_events, DEFAULT_LEARN_EVENTS);
        assert_eq!(input.events_kept, DEFAULT_EVENTS_KEPT);
        assert_eq!(input.criticality, Criticality::RevenueCritical);
        let errors = EventStreamDraft {
            client: "Not A Slug".into(),
            learn_events: "0".into(),
            events_kept: "many".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        for field in ["client", "name", "learn_events", "events_kept"] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        assert!(errors.get("period").is_none());
    }
}

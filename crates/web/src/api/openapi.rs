//! The OpenAPI 3 document at `/api/v1/openapi.json`, generated from the handlers'
//! `#[utoipa::path]` attributes. Request bodies are described by the small schema
//! structs below (the domain's drafts carry no utoipa); a test keeps their fields equal
//! to the drafts'. The error responses every operation shares (401, 403, 404, 422, …)
//! are added by one modifier instead of being repeated on each handler.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::Json;
use serde::Serialize;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{
    attainment, audit, backlog, changes, check_import, checks, clients, contacts, contracts,
    event_streams, holidays, hours, maintenance, messages, outbox, plans, tickets,
};
use crate::problem::{Problem, ProblemField};

/// Time worked on a ticket, as sent to POST `/tickets/{number}/time`.
#[derive(Serialize, ToSchema)]
pub struct TimeFields {
    /// The time worked: "1h30m", "90m", "1.5h", or a number of minutes (required).
    duration: String,
    /// A work type code of the client's plan, for example bug-fix (required).
    work_type: String,
    /// What was done.
    note: Option<String>,
    /// YYYY-MM-DD in the client's timezone; default today.
    date: Option<String>,
    /// overage, defer or upgrade: required for included work once the period's hours
    /// are used up.
    after_limit: Option<String>,
}

/// An owner's adjustment of a client's hour bank.
#[derive(Serialize, ToSchema)]
pub struct AdjustmentFields {
    /// Signed: "+2h", "-90m", or a number of minutes (required).
    minutes: String,
    /// Why (required).
    reason: String,
}

/// A client as sent to POST, PUT and PATCH `/clients`.
#[derive(Serialize, ToSchema)]
pub struct ClientFields {
    /// The client's name (required).
    name: String,
    /// Lowercase letters, digits and single hyphens; suggested from the name when empty.
    slug: Option<String>,
    /// An IANA timezone, for example America/Chicago (required).
    timezone: String,
    /// Weekly business hours, one line per day or day range, for example
    /// "mon-fri 09:00-17:00"; empty means Monday to Friday, 09:00 to 17:00.
    business_hours: Option<String>,
    /// Holidays, one per line: "2026-12-25 Christmas Day".
    holidays: Option<String>,
    /// The technical owner: the email of a staff user.
    owner_email: Option<String>,
    notes: Option<String>,
}

/// A new client, optionally with its first contract (stored together or not at all).
#[derive(Serialize, ToSchema)]
pub struct NewClient {
    #[serde(flatten)]
    client: ClientFields,
    contract: Option<ContractFields>,
}

/// A contract's terms.
#[derive(Serialize, ToSchema)]
pub struct ContractFields {
    /// A plan code, for example GROWTH (required).
    plan: String,
    /// none, stabilization, monthly-retainer (default) or as-needed.
    support_model: Option<String>,
    /// 2 to 6, only for a stabilization window (a number or a string).
    stabilization_weeks: Option<String>,
    /// YYYY-MM-DD; default today in the client's timezone.
    start_date: Option<String>,
    /// monthly (default) or annual.
    billing_period: Option<String>,
    /// YYYY-MM-DD after the start; default one billing period (or the stabilization
    /// window) after the start.
    renewal_date: Option<String>,
    /// active (default), paused, offboarding or ended. An ended contract stays ended.
    state: Option<String>,
}

/// A change to a contract.
#[derive(Serialize, ToSchema)]
pub struct ContractChange {
    #[serde(flatten)]
    contract: ContractFields,
    /// When a plan change takes effect, YYYY-MM-DD; default today in the client's timezone.
    effective_date: Option<String>,
}

/// A contact as sent to POST, PUT and PATCH.
#[derive(Serialize, ToSchema)]
pub struct ContactFields {
    /// Required.
    name: String,
    /// Required; unique among the client's contacts.
    email: String,
    /// requester (default), approval-owner or billing.
    role: Option<String>,
    phone: Option<String>,
}

/// A plan as sent to POST, PUT and PATCH. Amounts are typed as people type them
/// ("1200", "1,200.50"); hours as numbers of hours ("10", "7.5").
#[derive(Serialize, ToSchema)]
pub struct PlanFields {
    /// Letters, digits, - and _; stored in upper case (required).
    code: String,
    /// Required.
    name: String,
    /// Required.
    monthly_fee: String,
    included_hours: Option<String>,
    rollover_max_hours: Option<String>,
    bank_max_hours: Option<String>,
    /// Required.
    overage_rate: String,
    /// Required.
    emergency_rate: String,
    /// Time entries round up to this many minutes, 1 to 240 (default 15).
    increment_minutes: Option<String>,
    /// weekly, biweekly, monthly, quarterly or on-demand (required).
    report_cadence: String,
    /// weekly, biweekly, monthly, quarterly or on-demand (required).
    checkin_cadence: String,
    /// Comma-separated: email, slack, phone, video, scheduled-calls.
    channels: Option<String>,
    emergency_included: Option<bool>,
    /// All eight SLA targets, keyed p0_response … p3_resolution, in the compact form
    /// "4h", "3bd", "24h@24x7", "1h/4h" or "window:Next monthly maintenance window".
    targets: BTreeMap<String, String>,
}

/// A ticket as sent to POST, PUT and PATCH `/tickets`. Every field is text; only
/// `client` and `title` are required, the rest may arrive later (`missing` on each
/// ticket says which of the six required facts are still absent).
#[derive(Serialize, ToSchema)]
pub struct TicketFields {
    /// The client's slug (required; a ticket stays with its client).
    client: String,
    /// At most 200 characters (required).
    title: String,
    description: Option<String>,
    /// portal, email, api, cli, phone, monitoring-alert or proactive-finding; POST
    /// defaults to api.
    source: Option<String>,
    /// p0, p1, p2 or p3.
    severity: Option<String>,
    /// The owner of the next action: the email of a staff user.
    owner_email: Option<String>,
    /// Ticket numbers it waits for ("#3, #7" or "3 7"), or "none"; empty means not
    /// stated yet. A blocker that would close a cycle is refused.
    blocked_by: Option<String>,
    expected_outcome: Option<String>,
    next_action: Option<String>,
    acceptance_test: Option<String>,
    /// none, low, medium or high.
    business_risk: Option<String>,
    /// none, low, medium or high.
    revenue_impact: Option<String>,
    /// none, low, medium or high.
    customer_effect: Option<String>,
    /// YYYY-MM-DD.
    launch_deadline: Option<String>,
}

/// A status move.
#[derive(Serialize, ToSchema)]
pub struct StatusChange {
    /// new, acknowledged, in-progress, waiting-on-client, resolved or closed (or a short
    /// word: ack, progress, waiting, done).
    status: String,
}

/// A message in a ticket's thread.
#[derive(Serialize, ToSchema)]
pub struct MessageFields {
    /// The text, at most 20,000 characters (required).
    body: String,
    /// public (the client sees it; the first public reply is the first response) or
    /// internal (staff only). Required.
    visibility: String,
}

/// A post-mortem (SOP step 7, needed to close a P0 or P1): every part is required.
#[derive(Serialize, ToSchema)]
pub struct PostMortemFields {
    root_cause: String,
    fix: String,
    prevention: String,
    /// What now watches for this, so it is caught earlier next time.
    monitoring_added: String,
}

/// A ticket's change record as sent to PUT `/tickets/{number}/change`. Only
/// `what_changed` is required.
#[derive(Serialize, ToSchema)]
pub struct ChangeFields {
    /// What changed, as the team would explain it (required).
    what_changed: String,
    /// The systems touched: a list of strings, or one string separated by commas or
    /// new lines ("GoHighLevel, Stripe").
    systems_touched: Option<Vec<String>>,
    /// The QA test path run in staging before release.
    qa_before_path: Option<String>,
    /// pass, fail or not-run (default); pass and fail need the test path.
    qa_before_result: Option<String>,
    /// The QA test path run in production after release.
    qa_after_path: Option<String>,
    /// pass, fail or not-run (default); pass and fail need the test path.
    qa_after_result: Option<String>,
    /// The id of a planned release of the ticket's client (a number or a string);
    /// null, empty or "none" for no release.
    release_id: Option<String>,
    /// What the client reads in the release notes.
    client_notes: Option<String>,
}

/// A release batch as sent to POST and PATCH `/releases`.
#[derive(Serialize, ToSchema)]
pub struct ReleaseFields {
    /// The client's slug (required; a release and its notes go to one client, and a
    /// release stays with its client).
    client: String,
    /// At most 200 characters, used once per client (required).
    name: String,
    /// YYYY-MM-DD; empty or null when not planned for a day yet.
    planned_for: Option<String>,
}

/// A message template as sent to PUT `/templates/{kind}`.
#[derive(Serialize, ToSchema)]
pub struct TemplateFields {
    /// Jinja syntax; see docs/tickets.md for the variables (required).
    subject: String,
    /// Jinja syntax; text in [square brackets] is a blank the sender fills in (required).
    body: String,
}

/// An email to a ticket's client contacts, as sent to POST `/tickets/{number}/emails`.
#[derive(Serialize, ToSchema)]
pub struct EmailFields {
    /// acknowledge (default), status-update, resolved or post-mortem.
    template: Option<String>,
    /// The contacts' emails; default: every contact of the client.
    to: Option<Vec<String>>,
    /// The subject to send; default: the template's, filled in.
    subject: Option<String>,
    /// The text to send; default: the template's, filled in. It may not keep [blanks].
    body: Option<String>,
    /// true: answer what would be sent, send nothing.
    preview: Option<bool>,
}

/// A heartbeat check as sent to POST `/checks`.
#[derive(Serialize, ToSchema)]
pub struct CheckFields {
    /// The client's slug (required).
    client: String,
    /// What people call it (required).
    name: String,
    /// Its slug in slug ping URLs; default: made from the name.
    slug: Option<String>,
    /// The workflow it watches.
    workflow: Option<String>,
    /// revenue-critical, customer-facing or internal (default).
    criticality: Option<String>,
    /// Expected every: 90s, 5m, 1h, 1d (or give `cron`).
    period: Option<String>,
    /// A cron expression (5 fields, or 6 with seconds), instead of a period.
    cron: Option<String>,
    /// The cron expression's IANA timezone; default UTC.
    timezone: Option<String>,
    /// Grace time after each deadline; default 1h.
    grace: Option<String>,
    /// HTTP probe: the URL Tend calls (http or https). Giving it makes the check an
    /// HTTP probe; then leave period, cron and grace out.
    url: Option<String>,
    /// HTTP probe: GET (default), HEAD, POST, PUT, PATCH, DELETE or OPTIONS.
    method: Option<String>,
    /// HTTP probe: headers, one `Name: value` per line. Credential headers
    /// (Authorization, Cookie, X-Api-Key, ...) must name an environment variable:
    /// `Authorization: Bearer ${env:TEND_PROBE_ACME_TOKEN}`.
    headers: Option<String>,
    /// HTTP probe: how often, 30s or more; default 1m.
    every: Option<String>,
    /// HTTP probe: how long to wait for the answer; default 10s, less than `every`.
    timeout: Option<String>,
    /// HTTP probe: the status expected, a code (200) or a class (2xx, the default).
    expect: Option<String>,
    /// HTTP probe: a word the body must contain.
    keyword: Option<String>,
    /// HTTP probe: a word the body must not contain.
    no_keyword: Option<String>,
    /// HTTP probe: the longest an answer may take (2s); default no limit.
    max_latency: Option<String>,
}

/// An event-stream check as sent to POST `/checks` with `"kind": "event-stream"`.
#[derive(Serialize, ToSchema)]
pub struct EventStreamFields {
    /// "event-stream" (required for a stream; default "heartbeat").
    kind: String,
    /// The client's slug (required).
    client: String,
    /// What people call it (required).
    name: String,
    /// Its slug; default: made from the name.
    slug: Option<String>,
    /// The workflow it watches.
    workflow: Option<String>,
    /// revenue-critical, customer-facing or internal (default).
    criticality: Option<String>,
    /// How many first events the shape is learned from, 1 to 1000 (default 20).
    learn_events: Option<String>,
    /// How many events are kept, 1 to 100000 (default 1000).
    events_kept: Option<String>,
}

/// Every list: one page of items and the total across pages.
#[derive(Serialize, ToSchema)]
pub struct PageOf {
    items: Vec<serde_json::Value>,
    /// From 1.
    page: u32,
    per_page: u32,
    /// Items across all pages.
    total: i64,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tend API",
        description = "Clients, contacts, contracts, plans, tickets, change records, releases, message templates, the hour bank, heartbeat checks, the backlog, SLA attainment, the outbox and the audit log of a Tend support desk. \
            Authenticate with an API token as `Authorization: Bearer <token>`; writes need a write-scoped token. \
            Every error is an RFC 9457 problem document (`application/problem+json`)."
    ),
    servers((url = "/api/v1")),
    paths(
        clients::list, clients::create, clients::show, clients::replace, clients::patch,
        clients::delete, clients::restore, clients::export, check_import::import, holidays::import,
        contacts::list, contacts::create, contacts::show, contacts::replace, contacts::patch,
        contacts::delete,
        contracts::list, contracts::for_client, contracts::create, contracts::show,
        contracts::replace, contracts::patch, contracts::delete, contracts::plan_history,
        plans::list, plans::show, plans::create, plans::replace, plans::patch, plans::delete,
        tickets::list, tickets::create, tickets::show, tickets::replace, tickets::patch,
        tickets::set_status, tickets::messages, tickets::add_message, tickets::put_post_mortem,
        changes::show_change, changes::put_change,
        changes::list, changes::create, changes::show, changes::patch, changes::delete,
        changes::release, changes::notes,
        backlog::list, attainment::get,
        audit::list, audit::for_client,
        outbox::list, outbox::retry, outbox::send, outbox::discard,
        messages::list, messages::show, messages::replace, messages::reset, messages::email,
        checks::list, checks::create, checks::show, checks::delete, checks::pause,
        checks::resume, checks::pings, checks::flips, checks::probe_results, checks::patch,
        event_streams::shape, event_streams::drifts, event_streams::events,
        event_streams::volume, event_streams::relearn,
        maintenance::list, maintenance::create, maintenance::show, maintenance::end,
        maintenance::resolve_on_recovery, maintenance::set_resolve_on_recovery,
        hours::log_time, hours::ticket_time, hours::bank, hours::sheet, hours::sheet_csv_file,
        hours::adjust, hours::billing, hours::month_close,
        document,
    ),
    components(schemas(Problem, ProblemField, ClientFields, NewClient, ContractFields,
        ContractChange, ContactFields, PlanFields, TicketFields, StatusChange, MessageFields,
        PostMortemFields, ChangeFields, ReleaseFields, TemplateFields, EmailFields, CheckFields,
        EventStreamFields, TimeFields, AdjustmentFields, PageOf, maintenance::WindowFields,
        maintenance::ResolveOnRecovery)),
    modifiers(&Conventions),
    security(("bearer" = [])),
    tags(
        (name = "clients", description = "The businesses the agency supports"),
        (name = "contacts", description = "A client's people"),
        (name = "contracts", description = "A client on a plan over time"),
        (name = "plans", description = "Support tiers as data"),
        (name = "tickets", description = "Requests and backlog items: what each lacks, its thread, history and post-mortem"),
        (name = "changes", description = "A ticket's change record: what changed, systems touched, QA before and after release, notes for the client"),
        (name = "releases", description = "Release batches of one client each, and their release notes"),
        (name = "backlog", description = "Open tickets in the order work should happen, with why"),
        (name = "attainment", description = "Share of first responses and resolutions met within target"),
        (name = "audit", description = "Who changed what, when"),
        (name = "outbox", description = "Every message Tend sends (email), with its delivery state"),
        (name = "templates", description = "Message templates, and emails to a client's contacts written from them"),
        (name = "checks", description = "Heartbeat checks per client, their pings and state changes; pings arrive on /ping/<uuid>"),
        (name = "maintenance", description = "Maintenance windows that hold back alerts, and whether a check's recovery resolves its ticket"),
        (name = "hours", description = "The hour bank: time on tickets, balances, the hour tracking sheet, adjustments, billing and the month close"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// The bearer scheme, and the problem responses every operation shares.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tend_…")
                    .description(Some(
                        "An API token (`tend token create`); read or write scope",
                    ))
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = path == "/openapi.json";
            let names_one = path.contains('{');
            for (writes, operation) in [
                (false, &mut item.get),
                (true, &mut item.post),
                (true, &mut item.put),
                (true, &mut item.patch),
                (true, &mut item.delete),
            ] {
                if let Some(operation) = operation {
                    shared_problems(operation, public, writes, names_one);
                }
            }
        }
    }
}

fn shared_problems(operation: &mut Operation, public: bool, writes: bool, names_one: bool) {
    let has_body = operation.request_body.is_some();
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(problem_response(description)));
    };
    if !public {
        add("401", "No API token, or an unknown or revoked one");
    }
    if writes {
        add("403", "The token's scope is read");
    }
    if names_one {
        add("404", "Nothing has that slug, code, id or number");
    }
    match (has_body, has_query) {
        (true, _) => add("400", "The body is not well-formed JSON"),
        (false, true) => add("400", "A query parameter is unknown or malformed"),
        (false, false) => {}
    }
    if has_body {
        add(
            "413",
            "The body is larger than 256 KiB (the limit of every request)",
        );
        add("415", "The body is not sent as application/json");
        add(
            "422",
            "A field is missing or invalid; `errors` names each one",
        );
    }
    add("500", "The database could not complete the request");
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// This document (no token needed).
#[utoipa::path(get, path = "/openapi.json", tag = "meta", operation_id = "getOpenApi", security(()),
    responses((status = 200, description = "The OpenAPI 3 document", body = serde_json::Value)))]
pub async fn document() -> Json<&'static utoipa::openapi::OpenApi> {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    Json(DOC.get_or_init(ApiDoc::openapi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use tend_domain::change::{ChangeDraft, ReleaseDraft};
    use tend_domain::client::ClientDraft;
    use tend_domain::contact::ContactDraft;
    use tend_domain::contract::ContractDraft;
    use tend_domain::plan::PlanDraft;
    use tend_domain::ticket::{PostMortemDraft, TicketDraft};

    fn schema_fields(name: &str) -> Vec<String> {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut fields: Vec<String> = doc["components"]["schemas"][name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("schema {name} has no properties"))
            .keys()
            .cloned()
            .collect();
        fields.sort();
        fields
    }

    fn draft_fields(draft: impl Serialize) -> Vec<String> {
        let Value::Object(map) = serde_json::to_value(draft).unwrap() else {
            panic!("a draft serialises to an object")
        };
        let mut fields: Vec<String> = map.keys().cloned().collect();
        fields.sort();
        fields
    }

    #[test]
    fn documented_bodies_have_exactly_the_fields_the_drafts_read() {
        assert_eq!(
            schema_fields("ClientFields"),
            draft_fields(ClientDraft::default())
        );
        assert_eq!(
            schema_fields("ContractFields"),
            draft_fields(ContractDraft::default())
        );
        assert_eq!(
            schema_fields("ContactFields"),
            draft_fields(ContactDraft::default())
        );
        assert_eq!(
            schema_fields("PlanFields"),
            draft_fields(PlanDraft::default())
        );
        assert_eq!(
            schema_fields("TicketFields"),
            draft_fields(TicketDraft::default())
        );
        assert_eq!(
            schema_fields("PostMortemFields"),
            draft_fields(PostMortemDraft::default())
        );
        assert_eq!(
            schema_fields("ChangeFields"),
            draft_fields(ChangeDraft::default())
        );
        assert_eq!(
            schema_fields("ReleaseFields"),
            draft_fields(ReleaseDraft::default())
        );
        assert_eq!(
            schema_fields("WindowFields"),
            draft_fields(tend_domain::maintenance::WindowDraft::default())
        );
    }

    #[test]
    fn every_operation_has_its_own_operation_id() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut ids: Vec<String> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .map(|op| op["operationId"].as_str().unwrap().to_string())
            .collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids repeat: {ids:?}");
    }

    #[test]
    fn every_operation_but_the_document_itself_documents_the_401_problem() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let has_401 = op["responses"].get("401").is_some();
                assert_eq!(has_401, path != "/openapi.json", "{method} {path}");
            }
        }
    }
}

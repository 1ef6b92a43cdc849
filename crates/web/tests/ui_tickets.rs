//! Tickets in the staff UI through the real router, as a person would use them: open a
//! ticket through the form, find it in the backlog, reply, move it, close it.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use tower::ServiceExt;

mod common;

use common::ui::{app, enc, App};

/// A form body from field names and values.
fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl App {
    async fn add_client(&self, session: &str, csrf: &str, name: &str, slug: &str) {
        let body = form(&[
            ("csrf", csrf),
            ("name", name),
            ("slug", slug),
            ("timezone", "America/Chicago"),
            ("plan", "GROWTH"),
            ("support_model", "monthly-retainer"),
            ("billing_period", "monthly"),
        ]);
        let res = self.send("POST", "/clients", session, Some(body)).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    }

    /// Opens a ticket through the form and returns its page's address.
    async fn open_ticket(&self, session: &str, fields: &[(&str, &str)]) -> String {
        let res = self
            .send("POST", "/tickets", session, Some(form(fields)))
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        res.location.expect("redirect to the ticket")
    }
}

fn complete_p1<'a>(csrf: &'a str, title: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("client", "acme"),
        ("title", title),
        ("source", "email"),
        ("severity", "p1"),
        ("owner_email", "owner@agency.test"),
        ("blocked_by", "none"),
        ("expected_outcome", "Every booking creates a contact"),
        ("next_action", "Replay yesterday's failed webhooks"),
    ]
}

#[tokio::test]
async fn a_ticket_form_with_mistakes_keeps_what_was_typed_then_the_ticket_is_ranked_in_the_backlog()
{
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    app.add_client(&session, &csrf, "Acme Dental", "acme").await;

    let new = app.send("GET", "/tickets/new", &session, None).await;
    assert_eq!(new.status, StatusCode::OK);
    assert!(
        new.body
            .contains("Major functionality degraded; workaround available")
            && new.body.contains("AI agent not responding"),
        "the SOP's definitions and examples are shown where severity is chosen"
    );

    let mistakes = form(&[
        ("csrf", &csrf),
        ("client", "acme"),
        ("title", ""),
        ("description", "Contacts stopped appearing in the CRM"),
        ("severity", "p1"),
        ("blocked_by", "soon"),
        ("launch_deadline", "next week"),
    ]);
    let res = app.send("POST", "/tickets", &session, Some(mistakes)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"title-error\""));
    assert!(res.body.contains("id=\"blocked_by-error\""));
    assert!(res.body.contains("is not a ticket number"));
    assert!(res.body.contains("id=\"launch_deadline-error\""));
    assert!(
        res.body.contains("Contacts stopped appearing in the CRM"),
        "the description typed is kept"
    );
    assert!(
        res.body.contains("value=\"p1\" checked"),
        "the severity chosen stays chosen"
    );
    assert!(app.send("GET", "/tickets/1", &session, None).await.status == StatusCode::NOT_FOUND);

    let blocker = app
        .open_ticket(
            &session,
            &complete_p1(&csrf, "Rotate the CRM webhook secret"),
        )
        .await;
    assert_eq!(blocker, "/tickets/1");
    let mut fields = complete_p1(&csrf, "Booking form stopped creating contacts");
    fields.retain(|(k, _)| *k != "blocked_by" && *k != "severity");
    fields.push(("blocked_by", "#1"));
    fields.push(("severity", "p2"));
    let waiting = app.open_ticket(&session, &fields).await;
    assert_eq!(waiting, "/tickets/2");

    let backlog = app.send("GET", "/tickets", &session, None).await;
    assert_eq!(backlog.status, StatusCode::OK);
    let first = backlog
        .body
        .find("#1 Rotate the CRM webhook secret")
        .unwrap();
    let second = backlog
        .body
        .find("#2 Booking form stopped creating contacts")
        .unwrap();
    assert!(first < second, "the P1 blocker ranks first");
    assert!(
        backlog.body.contains("P1; blocks #2"),
        "each row says why it is where it is"
    );

    let queue = app
        .send("GET", "/tickets?client=acme", &session, None)
        .await;
    assert!(
        queue.body.contains("Acme Dental&#39;s queue")
            || queue.body.contains("Acme Dental's queue")
    );
    assert!(queue.body.contains("Rotate the CRM webhook secret"));

    let page = app.send("GET", "/tickets/2", &session, None).await;
    assert!(
        page.body.contains("href=\"/tickets/1\""),
        "the ticket links to what blocks it"
    );
    let page = app.send("GET", "/tickets/1", &session, None).await;
    assert!(
        page.body.contains("href=\"/tickets/2\""),
        "and the blocker links to what it blocks"
    );
}

#[tokio::test]
async fn a_public_reply_and_waiting_on_the_client_show_on_the_ticket_page() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    app.add_client(&session, &csrf, "Acme Dental", "acme").await;
    let url = app
        .open_ticket(&session, &complete_p1(&csrf, "Leads delayed"))
        .await;

    let empty = app
        .send(
            "POST",
            &format!("{url}/messages"),
            &session,
            Some(form(&[
                ("csrf", &csrf),
                ("visibility", "public"),
                ("body", "  "),
            ])),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("id=\"body-error\""));

    for (visibility, body) in [
        ("public", "We are replaying the failed webhooks now."),
        (
            "internal",
            "Secret was rotated on Friday without telling us.",
        ),
    ] {
        let res = app
            .send(
                "POST",
                &format!("{url}/messages"),
                &session,
                Some(form(&[
                    ("csrf", &csrf),
                    ("visibility", visibility),
                    ("body", body),
                ])),
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(res.location.as_deref(), Some(url.as_str()));
    }
    let res = app
        .send(
            "POST",
            &format!("{url}/status"),
            &session,
            Some(form(&[("csrf", &csrf), ("status", "waiting-on-client")])),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

    let page = app.send("GET", &url, &session, None).await;
    assert!(page
        .body
        .contains("We are replaying the failed webhooks now."));
    assert!(page.body.contains("public reply"));
    assert!(page.body.contains("internal note"));
    assert!(page
        .body
        .contains("st-waiting-on-client\">waiting on client"));
    assert!(page.body.contains("replied to the client"));
    assert!(page.body.contains("moved it from new to waiting on client"));
    let ticket = app.store.ticket(1).await.unwrap();
    assert!(
        ticket.first_response_at.is_some(),
        "the public reply was the first response"
    );
    assert!(page.body.contains("SLA clocks"));
    assert!(
        page.body
            .contains("First response <span class=\"badge clock-met-in-time\">met in time</span>"),
        "the public reply stopped the first-response clock in time"
    );
    assert!(
        page.body
            .contains("Resolution <span class=\"badge clock-paused\">paused</span>"),
        "waiting on the client pauses the resolution clock"
    );
    assert!(
        page.body.contains("America/Chicago (client)"),
        "due times are shown in the client's timezone"
    );
}

#[tokio::test]
async fn a_p1_cannot_be_closed_without_its_post_mortem() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    app.add_client(&session, &csrf, "Acme Dental", "acme").await;
    let url = app
        .open_ticket(&session, &complete_p1(&csrf, "Integration failing"))
        .await;
    let status = |to: &str| Some(form(&[("csrf", &csrf), ("status", to)]));
    let res = app
        .send(
            "POST",
            &format!("{url}/status"),
            &session,
            status("resolved"),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

    let page = app.send("GET", &url, &session, None).await;
    assert!(
        page.body.contains(
            "<button type=\"button\" disabled aria-describedby=\"why-closed\">closed</button>"
        ),
        "the close button is shown refused"
    );
    assert!(page.body.contains("cannot be closed without a post-mortem"));

    let res = app
        .send("POST", &format!("{url}/status"), &session, status("closed"))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"status-error\""));
    assert!(res.body.contains("cannot be closed without a post-mortem"));
    assert_eq!(
        app.store.ticket(1).await.unwrap().status.as_str(),
        "resolved"
    );

    let half = form(&[
        ("csrf", &csrf),
        (
            "root_cause",
            "Webhook secret rotated without updating the CRM",
        ),
        ("fix", "Updated the secret"),
    ]);
    let res = app
        .send("POST", &format!("{url}/post-mortem"), &session, Some(half))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"prevention-error\""));
    assert!(res
        .body
        .contains("Webhook secret rotated without updating the CRM"));

    let full = form(&[
        ("csrf", &csrf),
        (
            "root_cause",
            "Webhook secret rotated without updating the CRM",
        ),
        ("fix", "Updated the secret"),
        ("prevention", "Rotation checklist names every consumer"),
        ("monitoring_added", "Heartbeat on the lead webhook"),
    ]);
    let res = app
        .send("POST", &format!("{url}/post-mortem"), &session, Some(full))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let res = app
        .send("POST", &format!("{url}/status"), &session, status("closed"))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(app.store.ticket(1).await.unwrap().status.as_str(), "closed");
}

#[tokio::test]
async fn the_incomplete_filter_finds_tickets_missing_facts() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    app.add_client(&session, &csrf, "Acme Dental", "acme").await;
    app.open_ticket(&session, &complete_p1(&csrf, "Fully triaged request"))
        .await;
    app.open_ticket(
        &session,
        &[
            ("csrf", &csrf),
            ("client", "acme"),
            ("title", "Half told request"),
            ("source", "phone"),
            ("owner_email", "owner@agency.test"),
        ],
    )
    .await;

    let all = app.send("GET", "/tickets", &session, None).await;
    assert!(all.body.contains("Fully triaged request") && all.body.contains("Half told request"));
    let incomplete = app
        .send("GET", "/tickets?incomplete=1", &session, None)
        .await;
    assert_eq!(incomplete.status, StatusCode::OK);
    assert!(incomplete.body.contains("Half told request"));
    assert!(!incomplete.body.contains("Fully triaged request"));
    assert!(
        incomplete
            .body
            .contains("priority (severity), dependencies (or &quot;none&quot;), expected outcome, next action")
            || incomplete.body.contains("priority (severity), dependencies (or &#34;none&#34;), expected outcome, next action"),
        "the row names what is missing: {}",
        incomplete.body
    );
    let page = app.send("GET", "/tickets/2", &session, None).await;
    assert!(page.body.contains("Missing: priority (severity)"));

    let p1 = app
        .send("GET", "/tickets?severity=p1", &session, None)
        .await;
    assert!(p1.body.contains("Fully triaged request") && !p1.body.contains("Half told request"));

    let req = Request::builder()
        .uri("/tickets?incomplete=1")
        .header(header::COOKIE, &session)
        .header("hx-request", "true")
        .body(Body::empty())
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body);
    assert!(!body.contains("<html"), "htmx gets just the table");
    assert!(body.contains("Half told request"));
}

#[tokio::test]
async fn a_viewer_sees_tickets_but_cannot_post() {
    let app = app().await;
    let (owner, owner_csrf) = app.sign_in("owner%40agency.test").await;
    app.add_client(&owner, &owner_csrf, "Acme Dental", "acme")
        .await;
    let url = app
        .open_ticket(&owner, &complete_p1(&owner_csrf, "Leads delayed"))
        .await;

    let (session, csrf) = app.sign_in("viewer%40agency.test").await;
    let list = app.send("GET", "/tickets", &session, None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Leads delayed"));
    assert!(!list.body.contains("New ticket"));
    let page = app.send("GET", &url, &session, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("action=\"/tickets/1/status\""));
    assert!(!page.body.contains("action=\"/tickets/1/messages\""));

    assert_eq!(
        app.send("GET", "/tickets/new", &session, None).await.status,
        StatusCode::FORBIDDEN
    );
    let attempts = [
        ("/tickets", complete_p1(&csrf, "Sneaky")),
        (
            "/tickets/1/status",
            vec![("csrf", csrf.as_str()), ("status", "acknowledged")],
        ),
        (
            "/tickets/1/messages",
            vec![
                ("csrf", csrf.as_str()),
                ("visibility", "public"),
                ("body", "hi"),
            ],
        ),
    ];
    for (path, fields) in attempts {
        let res = app.send("POST", path, &session, Some(form(&fields))).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
    }
    let t = app.store.ticket(1).await.unwrap();
    assert_eq!(t.status.as_str(), "new");
    assert!(app.store.ticket_messages(1).await.unwrap().is_empty());
    assert_eq!(
        app.store
            .list_tickets(&Default::default(), Default::default())
            .await
            .unwrap()
            .total,
        1
    );
}

#[tokio::test]
async fn editing_a_ticket_completes_its_missing_facts_and_keeps_its_client() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    app.add_client(&session, &csrf, "Acme Dental", "acme").await;
    app.add_client(&session, &csrf, "Other Co", "other").await;
    let url = app
        .open_ticket(
            &session,
            &[
                ("csrf", &csrf),
                ("client", "acme"),
                ("title", "Vague request"),
            ],
        )
        .await;
    let edit = app
        .send("GET", &format!("{url}/edit"), &session, None)
        .await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(edit.body.contains("value=\"Vague request\""));

    let bad = form(&[
        ("csrf", &csrf),
        ("client", "other"),
        ("title", "Vague request"),
        ("blocked_by", "#1"),
    ]);
    let res = app
        .send("POST", &format!("{url}/edit"), &session, Some(bad))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body.contains("id=\"blocked_by-error\""),
        "a ticket cannot wait on itself"
    );

    let mut fields = complete_p1(&csrf, "Clear request");
    fields.retain(|(k, _)| *k != "client");
    fields.push(("client", "other"));
    let res = app
        .send(
            "POST",
            &format!("{url}/edit"),
            &session,
            Some(form(&fields)),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let t = app.store.ticket(1).await.unwrap();
    assert_eq!(t.title, "Clear request");
    assert_eq!(t.client_slug, "acme", "the ticket stays with its client");
    assert!(t.missing().is_empty());
    let page = app.send("GET", &url, &session, None).await;
    assert!(!page.body.contains("Missing:"));
    assert!(page.body.contains("set severity from none to P1"));
}

#[tokio::test]
async fn a_person_emails_the_client_from_a_template_after_filling_its_blanks() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    app.add_client(&session, &csrf, "Acme Dental", "acme").await;
    let contact = form(&[
        ("csrf", &csrf),
        ("name", "Dana Reyes"),
        ("email", "dana@acme.test"),
        ("role", "requester"),
    ]);
    let added = app
        .send("POST", "/clients/acme/contacts", &session, Some(contact))
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let page = app
        .open_ticket(&session, &complete_p1(&csrf, "Bookings stopped syncing"))
        .await;
    let number = page.trim_start_matches("/tickets/").to_string();
    let ticket = app.send("GET", &page, &session, None).await;
    assert!(ticket.body.contains("Write from template"));
    // 8 business hours end within a week, whatever day the test runs.
    let soon = app.send("GET", "/tickets?sla=168", &session, None).await;
    assert!(
        soon.body.contains("Bookings stopped syncing"),
        "due within a week"
    );
    let breached = app.send("GET", "/tickets?sla=0", &session, None).await;
    assert!(!breached.body.contains("Bookings stopped syncing"));
    let odd = app.send("GET", "/tickets?sla=soon", &session, None).await;
    assert!(odd.body.contains("Filter ignored"), "{}", odd.body);

    let compose = app
        .send(
            "GET",
            &format!("/tickets/{number}/compose?template=status-update"),
            &session,
            None,
        )
        .await;
    assert_eq!(compose.status, StatusCode::OK);
    assert!(compose.body.contains("Hi Dana,"), "{}", compose.body);
    assert!(
        compose
            .body
            .contains("What I&#39;m doing: Replay yesterday&#39;s failed webhooks"),
        "the ticket's next action fills the plan: {}",
        compose.body
    );
    assert!(compose.body.contains("dana@acme.test"));

    let unfilled = "Hi Dana,\n\nWhat's happening: [what you found]\n";
    let refused = app
        .send(
            "POST",
            &format!("/tickets/{number}/compose"),
            &session,
            Some(form(&[
                ("csrf", &csrf),
                ("template", "status-update"),
                ("to", "dana@acme.test"),
                ("subject", "Update on bookings"),
                ("body", unfilled),
            ])),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .body
        .contains("fill in the blanks first: [what you found]"));
    assert!(
        refused.body.contains("Update on bookings"),
        "what was typed stays"
    );

    let filled = "Hi Dana,\n\nWhat's happening: the webhook secret was rotated.\n";
    let sent = app
        .send(
            "POST",
            &format!("/tickets/{number}/compose"),
            &session,
            Some(form(&[
                ("csrf", &csrf),
                ("template", "status-update"),
                ("to", "dana@acme.test"),
                ("subject", "Update on bookings"),
                ("body", filled),
            ])),
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let after = app.send("GET", &page, &session, None).await;
    assert!(after.body.contains("emailed to dana@acme.test"));
    assert!(after.body.contains("the webhook secret was rotated"));
    let outbox = app.send("GET", "/outbox", &session, None).await;
    assert!(outbox.body.contains("Update on bookings"));
}

#[tokio::test]
async fn a_template_edit_is_previewed_a_typo_is_shown_on_its_field_and_reset_asks_first() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    let list = app.send("GET", "/templates", &session, None).await;
    assert!(list.body.contains("Acknowledge") && list.body.contains("Post-mortem"));
    let editor = app
        .send("GET", "/templates/acknowledge", &session, None)
        .await;
    assert!(
        editor.body.contains("Hi Dana,"),
        "the preview uses a sample ticket"
    );

    let typo = app
        .send(
            "POST",
            "/templates/acknowledge",
            &session,
            Some(form(&[
                ("csrf", &csrf),
                ("subject", "About {{ ticket.titel }}"),
                ("body", "Hi {{ contact.first_name }}"),
                ("action", "save"),
            ])),
        )
        .await;
    assert_eq!(typo.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(typo.body.contains("id=\"subject-error\""));
    assert!(
        typo.body.contains("About {{ ticket.titel }}"),
        "what was typed stays"
    );

    let preview = app
        .send(
            "POST",
            "/templates/acknowledge",
            &session,
            Some(form(&[
                ("csrf", &csrf),
                ("subject", "On it: {{ ticket.title }}"),
                ("body", "Hello {{ contact.first_name }}!"),
                ("action", "preview"),
            ])),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.body.contains("Hello Dana!"));
    let untouched = app.send("GET", "/templates", &session, None).await;
    assert!(
        !untouched.body.contains("Edited by"),
        "a preview saves nothing"
    );

    let saved = app
        .send(
            "POST",
            "/templates/acknowledge",
            &session,
            Some(form(&[
                ("csrf", &csrf),
                ("subject", "On it: {{ ticket.title }}"),
                ("body", "Hello {{ contact.first_name }}!"),
                ("action", "save"),
            ])),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let edited = app.send("GET", "/templates", &session, None).await;
    assert!(
        edited.body.contains("Edited by owner@agency.test"),
        "{}",
        edited.body
    );

    let confirm = app
        .send("GET", "/templates/acknowledge/reset", &session, None)
        .await;
    assert!(confirm.body.contains("Reset to default"));
    let reset = app
        .send(
            "POST",
            "/templates/acknowledge/reset",
            &session,
            Some(format!("csrf={csrf}")),
        )
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    let back = app
        .send("GET", "/templates/acknowledge", &session, None)
        .await;
    assert!(back.body.contains("Got your message about"));
    let missing = app.send("GET", "/templates/farewell", &session, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

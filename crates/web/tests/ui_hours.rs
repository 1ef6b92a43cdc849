//! The hour bank in the staff UI through the real router: the log-time form on the
//! ticket page (with the choice after 100 %), the client page's panel, the sheet with its
//! CSV, an owner's adjustment and the month-close preview.

use axum::http::StatusCode;

mod common;

use common::ui::{app, enc, App};

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl App {
    async fn acme_with_ticket(&self, session: &str, csrf: &str) {
        let client = form(&[
            ("csrf", csrf),
            ("name", "Acme Dental"),
            ("slug", "acme"),
            ("timezone", "America/Chicago"),
            ("plan", "GROWTH"),
            ("support_model", "monthly-retainer"),
            ("billing_period", "monthly"),
        ]);
        let res = self.send("POST", "/clients", session, Some(client)).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let ticket = form(&[("csrf", csrf), ("client", "acme"), ("title", "Email sync")]);
        let res = self.send("POST", "/tickets", session, Some(ticket)).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    }

    async fn log(&self, session: &str, fields: &[(&str, &str)]) -> common::ui::Response {
        self.send("POST", "/tickets/1/time", session, Some(form(fields)))
            .await
    }
}

#[tokio::test]
async fn time_is_logged_on_the_ticket_page_and_the_choice_after_100_percent_is_asked_for() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    app.acme_with_ticket(&session, &csrf).await;

    let page = app.send("GET", "/tickets/1", &session, None).await;
    assert!(
        page.body.contains("id=\"time-h\""),
        "the ticket has a time section"
    );
    assert!(
        page.body.contains("value=\"bug-fix\""),
        "the plan's work types are offered"
    );
    assert!(
        !page.body.contains("name=\"after_limit\""),
        "no choice before 100 %"
    );

    let wrong = app
        .log(
            &session,
            &[
                ("csrf", &csrf),
                ("duration", "1h1h"),
                ("work_type", ""),
                ("note", "kept"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("id=\"duration-error\""));
    assert!(
        wrong.body.contains("value=\"kept\""),
        "what was typed is kept"
    );

    let ok = app
        .log(
            &session,
            &[
                ("csrf", &csrf),
                ("duration", "10h"),
                ("work_type", "bug-fix"),
                ("note", "rebuilt the sync"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let page = app.send("GET", "/tickets/1", &session, None).await;
    assert!(page.body.contains("rebuilt the sync"));
    assert!(
        page.body.contains("name=\"after_limit\""),
        "the choice is offered at 100 %"
    );

    let asked = app
        .log(
            &session,
            &[
                ("csrf", &csrf),
                ("duration", "1h"),
                ("work_type", "bug-fix"),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        asked.body.contains("id=\"after_limit-error\""),
        "{}",
        asked.body
    );
    let deferred = app
        .log(
            &session,
            &[
                ("csrf", &csrf),
                ("duration", "1h"),
                ("work_type", "bug-fix"),
                ("after_limit", "defer"),
            ],
        )
        .await;
    assert_eq!(deferred.status, StatusCode::SEE_OTHER);
    let page = app.send("GET", "/tickets/1", &session, None).await;
    assert!(
        page.body.contains("deferred"),
        "the deferred entry is marked"
    );

    let (viewer, viewer_csrf) = app.sign_in("viewer%40agency.test").await;
    let refused = app
        .send(
            "POST",
            "/tickets/1/time",
            &viewer,
            Some(form(&[
                ("csrf", &viewer_csrf),
                ("duration", "1h"),
                ("work_type", "bug-fix"),
            ])),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_client_page_shows_the_bank_and_the_sheet_downloads_as_csv() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    app.acme_with_ticket(&session, &csrf).await;
    app.log(
        &session,
        &[
            ("csrf", &csrf),
            ("duration", "7h30m"),
            ("work_type", "bug-fix"),
            ("note", "sync, again"),
        ],
    )
    .await;

    let client = app.send("GET", "/clients/acme", &session, None).await;
    assert_eq!(client.status, StatusCode::OK);
    assert!(client.body.contains("id=\"bank-meter\""), "a usage bar");
    assert!(client.body.contains("value=\"75\""), "{}", client.body);
    assert!(client.body.contains("2.5 h"), "remaining hours");
    assert!(client.body.contains("href=\"/clients/acme/hours\""));

    let sheet = app.send("GET", "/clients/acme/hours", &session, None).await;
    assert_eq!(sheet.status, StatusCode::OK);
    assert!(sheet.body.contains("Running total") && sheet.body.contains("sync, again"));
    let csv = app
        .send("GET", "/clients/acme/hours/sheet.csv", &session, None)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with("date,ticket,task"), "{}", csv.body);
    assert!(csv.body.contains("\"sync, again\""));

    let no_reason = app
        .send(
            "POST",
            "/clients/acme/hours/adjustments",
            &session,
            Some(form(&[("csrf", &csrf), ("minutes", "+2h"), ("reason", "")])),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("id=\"reason-error\""));
    let adjusted = app
        .send(
            "POST",
            "/clients/acme/hours/adjustments",
            &session,
            Some(form(&[
                ("csrf", &csrf),
                ("minutes", "+2h"),
                ("reason", "goodwill"),
            ])),
        )
        .await;
    assert_eq!(adjusted.status, StatusCode::SEE_OTHER);
    let sheet = app.send("GET", "/clients/acme/hours", &session, None).await;
    assert!(sheet.body.contains("12 h"), "10 h granted + 2 h adjusted");

    let preview = app.send("GET", "/month-close", &session, None).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview.body.contains("No period has ended"),
        "{}",
        preview.body
    );
    let (viewer, viewer_csrf) = app.sign_in("viewer%40agency.test").await;
    assert_eq!(
        app.send("GET", "/month-close", &viewer, None).await.status,
        StatusCode::FORBIDDEN
    );
    let refused = app
        .send(
            "POST",
            "/clients/acme/hours/adjustments",
            &viewer,
            Some(form(&[
                ("csrf", &viewer_csrf),
                ("minutes", "+2h"),
                ("reason", "x"),
            ])),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_drafted_billing_email_is_reviewed_then_sent_or_discarded_and_the_dashboard_shows_the_bank(
) {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    app.acme_with_ticket(&session, &csrf).await;
    let contact = form(&[
        ("csrf", &csrf),
        ("name", "Ana Lopez"),
        ("email", "ana@acme.test"),
        ("role", "billing"),
    ]);
    let res = app
        .send("POST", "/clients/acme/contacts", &session, Some(contact))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    app.log(
        &session,
        &[
            ("csrf", &csrf),
            ("duration", "7h30m"),
            ("work_type", "bug-fix"),
            ("note", "sync"),
        ],
    )
    .await;

    let client = app.send("GET", "/clients/acme", &session, None).await;
    assert!(
        client
            .body
            .contains("A drafted email to the billing contact waits"),
        "{}",
        client.body
    );
    let drafts = app
        .send("GET", "/outbox?state=drafts", &session, None)
        .await;
    assert!(drafts.body.contains("Acme Dental - Support Hours Update"));
    let id = app
        .store
        .client_drafts(1)
        .await
        .unwrap()
        .first()
        .map(|m| m.id)
        .expect("a draft");

    let dashboard = app.send("GET", "/dashboard", &session, None).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains("href=\"/clients/acme\""));
    assert!(dashboard.body.contains("75 %"), "{}", dashboard.body);
    assert!(dashboard
        .body
        .contains("<strong>1</strong> draft to review"));
    let home = app.send("GET", "/", &session, None).await;
    assert_eq!(home.location.as_deref(), Some("/dashboard"));

    let page = app
        .send("GET", &format!("/outbox/{id}"), &session, None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("used 7.5 of your 10"), "{}", page.body);
    let blank = app
        .send(
            "POST",
            &format!("/outbox/{id}/send"),
            &session,
            Some(form(&[
                ("csrf", &csrf),
                ("subject", "Hours"),
                ("body", "Hi Ana, [fill me]"),
            ])),
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.body.contains("id=\"body-error\""), "{}", blank.body);
    assert!(
        blank.body.contains("Hi Ana, [fill me]"),
        "what was typed stays"
    );
    let sent = app
        .send(
            "POST",
            &format!("/outbox/{id}/send"),
            &session,
            Some(form(&[
                ("csrf", &csrf),
                ("subject", "Hours update"),
                ("body", "Hi Ana, 2.5 hours left."),
            ])),
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let message = app.store.outbox_message(id).await.unwrap();
    assert_eq!(message.state, "pending");
    assert_eq!(message.subject, "Hours update");

    // The 100 % draft: discarding asks first.
    app.log(
        &session,
        &[
            ("csrf", &csrf),
            ("duration", "2h30m"),
            ("work_type", "bug-fix"),
            ("note", "more"),
        ],
    )
    .await;
    let depleted = app.store.client_drafts(1).await.unwrap()[0].id;
    let confirm = app
        .send(
            "GET",
            &format!("/outbox/{depleted}/discard"),
            &session,
            None,
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("Discard this draft?"));
    let gone = app
        .send(
            "POST",
            &format!("/outbox/{depleted}/discard"),
            &session,
            Some(form(&[("csrf", &csrf)])),
        )
        .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.outbox_message(depleted).await.unwrap().state,
        "discarded"
    );
}

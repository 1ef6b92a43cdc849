//! The staff UI through the real router, as a person would use it: sign in, look,
//! fill forms, make mistakes, fix them.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use tower::ServiceExt;

mod common;

use common::ui::{app, enc};

#[tokio::test]
async fn pages_ask_for_sign_in_and_come_back_afterwards() {
    let app = app().await;
    let res = app.send("GET", "/clients/acme?x=1", "", None).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        res.location.as_deref(),
        Some("/login?next=/clients/acme%3Fx%3D1")
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_on_the_form_and_repeated_failures_are_rate_limited() {
    let app = app().await;
    for attempt in 0..6 {
        let form = app.send("GET", "/login", "", None).await;
        let res = app
            .send(
                "POST",
                "/login",
                &form.cookies[0],
                Some(format!(
                    "csrf={}&email=owner%40agency.test&password=wrong",
                    form.hidden("csrf")
                )),
            )
            .await;
        let expected = if attempt < 5 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(res.status, expected, "attempt {attempt}");
        assert!(
            res.body.contains("owner@agency.test"),
            "the email typed is kept"
        );
    }
}

#[tokio::test]
async fn the_sign_in_form_needs_its_csrf_cookie() {
    let app = app().await;
    let form = app.send("GET", "/login", "", None).await;
    let res = app
        .send(
            "POST",
            "/login",
            "",
            Some(format!(
                "csrf={}&email=owner%40agency.test&password=a+long+enough+password",
                form.hidden("csrf")
            )),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_client_form_with_mistakes_shows_each_error_next_to_its_field_and_keeps_what_was_typed() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    let form = format!(
        "csrf={csrf}&name=Acme+Dental&slug=acme&timezone=Mars%2FOlympus&business_hours={}&plan=GROWTH&support_model=monthly-retainer&billing_period=monthly",
        enc("mon 9-5")
    );
    let res = app.send("POST", "/clients", &session, Some(form)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"timezone-error\""));
    assert!(res.body.contains("is not an IANA timezone"));
    assert!(res.body.contains("id=\"business_hours-error\""));
    assert!(
        res.body.contains("value=\"Acme Dental\""),
        "the name typed is kept"
    );
    assert!(
        res.body.contains("Mars/Olympus"),
        "the bad value is shown to be fixed"
    );
    assert_eq!(
        app.store.count_clients().await.unwrap(),
        0,
        "nothing was saved"
    );

    let fixed = format!("csrf={csrf}&name=Acme+Dental&slug=acme&timezone=America%2FChicago&plan=GROWTH&support_model=monthly-retainer&billing_period=monthly");
    let res = app
        .send("POST", "/clients", &session, Some(fixed.clone()))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location.as_deref(), Some("/clients/acme"));
    let page = app.send("GET", "/clients/acme", &session, None).await;
    assert!(page.body.contains("Acme Dental") && page.body.contains("GROWTH"));
    assert!(
        page.body.contains("created client Acme Dental"),
        "the audit trail shows the creation"
    );

    let again = app.send("POST", "/clients", &session, Some(fixed)).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again.body.contains("id=\"slug-error\""),
        "a taken slug is reported on the slug field"
    );

    let list = app.send("GET", "/clients?q=acme", &session, None).await;
    assert!(list.body.contains("href=\"/clients/acme\""));
}

#[tokio::test]
async fn the_clients_list_answers_htmx_with_just_the_table() {
    let app = app().await;
    let (session, _) = app.sign_in("owner%40agency.test").await;
    let req = Request::builder()
        .uri("/clients?q=zzz")
        .header(header::COOKIE, &session)
        .header("hx-request", "true")
        .body(Body::empty())
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let body = String::from_utf8(
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(!body.contains("<html"));
    assert!(body.contains("No client matches these filters."));
}

#[tokio::test]
async fn a_form_without_the_session_csrf_token_changes_nothing() {
    let app = app().await;
    let (session, _) = app.sign_in("owner%40agency.test").await;
    let res = app
        .send(
            "POST",
            "/clients",
            &session,
            Some("csrf=forged&name=Acme&timezone=UTC&plan=GROWTH".into()),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.count_clients().await.unwrap(), 0);
}

#[tokio::test]
async fn a_viewer_sees_clients_but_cannot_change_them() {
    let app = app().await;
    let (session, csrf) = app.sign_in("viewer%40agency.test").await;
    let list = app.send("GET", "/clients", &session, None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.body.contains("New client"));
    let res = app
        .send(
            "POST",
            "/clients",
            &session,
            Some(format!("csrf={csrf}&name=Acme&timezone=UTC&plan=GROWTH")),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.send("GET", "/plans/GROWTH/edit", &session, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn contacts_contracts_and_deletes_work_from_the_client_page() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    let create = format!("csrf={csrf}&name=Acme&slug=acme&timezone=UTC&plan=STARTER");
    assert_eq!(
        app.send("POST", "/clients", &session, Some(create))
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    let bad = app
        .send(
            "POST",
            "/clients/acme/contacts",
            &session,
            Some(format!(
                "csrf={csrf}&name=Ana&email=not-an-email&role=billing"
            )),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("is not an email address"));
    let ok = app
        .send(
            "POST",
            "/clients/acme/contacts",
            &session,
            Some(format!(
                "csrf={csrf}&name=Ana&email=ana%40acme.test&role=billing"
            )),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);

    let upgrade = format!("csrf={csrf}&plan=GROWTH&state=active&support_model=monthly-retainer&billing_period=monthly&start_date=2026-11-01&effective_date=2026-12-01");
    assert_eq!(
        app.send("POST", "/clients/acme/contract", &session, Some(upgrade))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let page = app.send("GET", "/clients/acme", &session, None).await;
    assert!(page.body.contains("STARTER → GROWTH from 2026-12-01"));
    assert!(page.body.contains("ana@acme.test"));

    let confirm = app
        .send("GET", "/clients/acme/delete", &session, None)
        .await;
    assert!(
        confirm.body.contains("has not ended"),
        "a live contract blocks the delete and the page says why"
    );
    let refused = app
        .send(
            "POST",
            "/clients/acme/delete",
            &session,
            Some(format!("csrf={csrf}")),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);

    let end = format!("csrf={csrf}&plan=GROWTH&state=ended&support_model=monthly-retainer&billing_period=monthly&start_date=2026-11-01");
    assert_eq!(
        app.send("POST", "/clients/acme/contract", &session, Some(end))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.send(
            "POST",
            "/clients/acme/delete",
            &session,
            Some(format!("csrf={csrf}"))
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let list = app.send("GET", "/clients", &session, None).await;
    assert!(!list.body.contains("href=\"/clients/acme\""));
    let deleted = app.send("GET", "/clients/acme", &session, None).await;
    assert!(
        deleted.body.contains("Restore it"),
        "a deleted client can be restored from its page"
    );
    assert_eq!(
        app.send(
            "POST",
            "/clients/acme/restore",
            &session,
            Some(format!("csrf={csrf}"))
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.store.count_clients().await.unwrap(), 1);
}

#[tokio::test]
async fn an_owner_edits_a_plan_and_a_bad_target_is_shown_on_its_field() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    let form = app.send("GET", "/plans/GROWTH/edit", &session, None).await;
    assert_eq!(form.status, StatusCode::OK);
    let base = "code=GROWTH&name=Growth&monthly_fee=1300&included_hours=10&rollover_max_hours=5&bank_max_hours=15&overage_rate=150&emergency_rate=300&increment_minutes=15&report_cadence=monthly&checkin_cadence=biweekly&channels=email&p0_response=2h&p0_resolution=12h&p1_resolution=2bd&p2_response=24h&p2_resolution=3bd&p3_response=3bd&p3_resolution=window%3ANext+call&p0_next_update=2h&p1_next_update=8h&p2_next_update=24h&p3_next_update=3bd";
    let bad = app
        .send(
            "POST",
            "/plans/GROWTH/edit",
            &session,
            Some(format!("csrf={csrf}&{base}&p1_response=soon")),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"p1_response-error\""));
    let ok = app
        .send(
            "POST",
            "/plans/GROWTH/edit",
            &session,
            Some(format!("csrf={csrf}&{base}&p1_response=6h")),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let plans = app.send("GET", "/plans", &session, None).await;
    assert!(plans.body.contains("$1,300"));
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    assert_eq!(
        app.send("POST", "/logout", &session, Some(format!("csrf={csrf}")))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.send("GET", "/clients", &session, None).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn unknown_addresses_get_a_page_or_a_problem_document() {
    let app = app().await;
    let page = app.send("GET", "/no/such/page", "", None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("There is no page at this address."));
    let api = app.send("GET", "/api/v1/", "", None).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(api.body.contains("\"status\":404"));
}

#[tokio::test]
async fn health_and_metrics_answer() {
    let app = app().await;
    let health = app.send("GET", "/healthz", "", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert!(health.body.contains("\"database\":\"sqlite\""));
    let metrics = app.send("GET", "/metrics", "", None).await;
    assert!(metrics
        .body
        .contains("tend_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"));
    assert!(metrics.body.contains("tend_db_pool_connections"));
}

#[tokio::test]
async fn the_outbox_shows_what_failed_and_a_person_retries_it() {
    use tend_store::outbox::{NewMessage, EMAIL};
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    let empty = app.send("GET", "/outbox", &session, None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("No messages yet"));
    assert!(empty.body.contains("No mail server is configured"));

    let now = tend_store::now_ms();
    app.store
        .enqueue_message(
            &NewMessage {
                event_key: "e1".into(),
                channel: EMAIL,
                recipient: "ann@agency.test".into(),
                subject: "SLA breached: #7 resolution".into(),
                body: "b".into(),
                client_id: None,
                ticket_id: None,
            },
            now,
        )
        .await
        .unwrap();
    let claimed = app.store.claim_outbox(now, now + 1_000, 1).await.unwrap();
    app.store
        .outbox_failed(
            &claimed[0],
            now + 1_000,
            "550 mailbox unavailable",
            true,
            now,
        )
        .await
        .unwrap();
    let trouble = app
        .send("GET", "/outbox?state=trouble", &session, None)
        .await;
    assert!(trouble.body.contains("SLA breached: #7 resolution"));
    assert!(trouble.body.contains("550 mailbox unavailable"));
    assert!(trouble.body.contains("Retry now"));

    let id = claimed[0].id;
    let refused = app
        .send(
            "POST",
            &format!("/outbox/{id}/retry"),
            &session,
            Some("csrf=wrong".into()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let retried = app
        .send(
            "POST",
            &format!("/outbox/{id}/retry"),
            &session,
            Some(format!("csrf={csrf}")),
        )
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);
    let after = app.send("GET", "/outbox", &session, None).await;
    assert!(after.body.contains(">queued<"), "{}", after.body);
    assert!(!after.body.contains("Retry now"));

    let (viewer, viewer_csrf) = app.sign_in("viewer%40agency.test").await;
    let page = app
        .send("GET", "/outbox?state=trouble", &viewer, None)
        .await;
    assert!(!page.body.contains("Retry now"));
    let denied = app
        .send(
            "POST",
            &format!("/outbox/{id}/retry"),
            &viewer,
            Some(format!("csrf={viewer_csrf}")),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

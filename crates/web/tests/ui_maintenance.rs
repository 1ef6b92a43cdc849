//! The maintenance windows page of a client and the resolve-on-recovery switch on a
//! check's page, through the real router.

use axum::http::StatusCode;
use tend_domain::check::CheckDraft;
use tend_store::Actor;

mod common;

use common::ui::app;

#[tokio::test]
async fn a_window_is_added_from_the_form_with_errors_shown_and_ended() {
    let app = app().await;
    app.insert_client("Acme Dental", "acme", "America/Chicago")
        .await;
    let check = app
        .store
        .create_check(
            &Actor::system("test"),
            &CheckDraft {
                client: "acme".into(),
                name: "Lead sync".into(),
                period: "5m".into(),
                ..Default::default()
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap();
    let (session, csrf) = app.sign_in("owner@agency.test").await;

    let checks = app.send("GET", "/checks?client=acme", &session, None).await;
    assert!(checks.body.contains("/clients/acme/maintenance"));
    let page = app
        .send("GET", "/clients/acme/maintenance", &session, None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No maintenance windows"));
    assert!(
        page.body.contains("value=\"America/Chicago\""),
        "the client's zone is the default"
    );

    let refused = app
        .send(
            "POST",
            "/clients/acme/maintenance",
            &session,
            Some(format!(
                "csrf={csrf}&kind=weekly&days=funday&from=22%3A00&until=02%3A00&timezone=UTC"
            )),
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused.body.contains("is not a weekday"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"funday\""),
        "the form keeps what was typed"
    );

    let added = app
        .send(
            "POST",
            "/clients/acme/maintenance",
            &session,
            Some(format!(
                "csrf={csrf}&kind=weekly&days=sat%2Csun&from=22%3A00&until=02%3A00&timezone=America%2FChicago&reason=CRM+rebuild&check={}",
                check.uuid
            )),
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let windows = app.store.windows(None, false).await.unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0].checks, vec![check.uuid.clone()]);
    let page = app
        .send("GET", "/clients/acme/maintenance", &session, None)
        .await;
    assert!(page
        .body
        .contains("weekly sat,sun 22:00–02:00 (America/Chicago)"));
    assert!(page.body.contains("Lead sync"));

    let ended = app
        .send(
            "POST",
            &format!("/clients/acme/maintenance/{}/end", windows[0].id),
            &session,
            Some(format!("csrf={csrf}")),
        )
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert!(app.store.windows(None, false).await.unwrap().is_empty());

    // Resolve on recovery, from the check's page.
    let shown = app
        .send("GET", &format!("/checks/{}", check.uuid), &session, None)
        .await;
    assert!(shown.body.contains("adds a note to the monitoring ticket"));
    let set = app
        .send(
            "POST",
            &format!("/checks/{}/resolve-on-recovery", check.uuid),
            &session,
            Some(format!("csrf={csrf}&on=on")),
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    assert!(app.store.resolves_on_recovery(&check.uuid).await.unwrap());
    let forged = app
        .send(
            "POST",
            &format!("/checks/{}/resolve-on-recovery", check.uuid),
            &session,
            Some("csrf=forged&on=off".into()),
        )
        .await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER, "CSRF is checked");
    assert!(app.store.resolves_on_recovery(&check.uuid).await.unwrap());
}

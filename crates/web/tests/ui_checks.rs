//! The checks pages through the real router: the status overview with its state tabs
//! and pagination, a check's page with its ping log, and pausing from the page.

use axum::http::StatusCode;
use tend_domain::check::CheckDraft;
use tend_store::Actor;

mod common;

use common::ui::app;

#[tokio::test]
async fn the_overview_pages_through_checks_and_a_check_shows_its_pings() {
    let app = app().await;
    app.insert_client("Acme Dental", "acme", "UTC").await;
    let mut first = None;
    for i in 0..60 {
        let input = CheckDraft {
            client: "acme".into(),
            name: format!("job {i:02}"),
            period: "1h".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        let check = app
            .store
            .create_check(&Actor::system("test"), &input)
            .await
            .unwrap();
        first.get_or_insert(check);
    }
    let check = first.unwrap();
    let (session, csrf) = app.sign_in("owner@agency.test").await;

    let overview = app.send("GET", "/checks", &session, None).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(
        overview.body.contains("All (60)"),
        "the tabs count every state"
    );
    assert!(
        overview.body.contains("Page 1 of 2"),
        "50 a page, on the server"
    );
    assert!(overview.body.contains("job 00") && !overview.body.contains("job 59"));
    let second = app.send("GET", "/checks?page=2", &session, None).await;
    assert!(second.body.contains("job 59"));
    let by_client = app
        .send("GET", "/checks?client=acme&state=new", &session, None)
        .await;
    assert!(by_client.body.contains("60 checks"), "{}", by_client.body);
    let missing = app
        .send("GET", "/checks?client=nobody", &session, None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let ping = app
        .send(
            "POST",
            &format!("/ping/{}/log", check.uuid),
            "",
            Some("backup <done>".into()),
        )
        .await;
    assert_eq!(ping.status, StatusCode::OK);
    let page = app
        .send("GET", &format!("/checks/{}", check.uuid), &session, None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("/ping/{}", check.uuid)));
    let shown = page
        .body
        .lines()
        .find(|l| l.contains("backup"))
        .unwrap_or_default();
    assert!(
        shown.contains("backup &#60;done&#62;") || shown.contains("backup &lt;done&gt;"),
        "bodies are shown, escaped: {shown}"
    );

    let paused = app
        .send(
            "POST",
            &format!("/checks/{}/pause", check.uuid),
            &session,
            Some(format!("csrf={csrf}")),
        )
        .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.check(&check.uuid).await.unwrap().state,
        tend_domain::check::CheckState::Paused
    );
    let forged = app
        .send(
            "POST",
            &format!("/checks/{}/resume", check.uuid),
            &session,
            Some("csrf=forged".into()),
        )
        .await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER, "CSRF is checked");
}

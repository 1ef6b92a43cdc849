//! An event stream's page through the real router: the learned shape, a drift shown
//! side by side (expected | received), the volume table, and relearning from the page.

use axum::http::StatusCode;
use tend_domain::event_stream::EventStreamDraft;
use tend_store::Actor;

mod common;

use common::ui::app;

#[tokio::test]
async fn a_stream_page_shows_its_shape_its_drift_and_relearns() {
    let app = app().await;
    app.insert_client("Acme Dental", "acme", "UTC").await;
    let input = EventStreamDraft {
        client: "acme".into(),
        name: "New leads".into(),
        learn_events: "2".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let check = app
        .store
        .create_event_stream(&Actor::system("test"), &input)
        .await
        .unwrap();
    let (session, csrf) = app.sign_in("owner@agency.test").await;
    let path = format!("/events/{}", check.uuid);
    let page_path = format!("/checks/{}", check.uuid);

    let empty = app.send("GET", &page_path, &session, None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(
        empty.body.contains("learning: 0 of 2 events read"),
        "{}",
        empty.body
    );
    assert!(empty.body.contains(&format!("POST {path}")));

    for body in [
        r#"{"lead": {"email": "a@b.c"}, "amount": 10}"#,
        r#"{"lead": {"email": "d@e.f"}, "amount": 12}"#,
        r#"{"lead": {"email": "g@h.i"}, "amount": "12.00"}"#,
    ] {
        let sent = app.send("POST", &path, "", Some(body.into())).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    }
    let page = app.send("GET", &page_path, &session, None).await;
    assert!(page.body.contains("learned from 2 events"), "{}", page.body);
    assert!(page.body.contains(">lead.email<"), "the shape lists fields");
    let diff_row = page
        .body
        .split("<tr>")
        .find(|row| row.contains("diff-old"))
        .expect("a drift row");
    assert!(diff_row.contains("type changed"), "{diff_row}");
    assert!(
        diff_row.contains(r#"<td class="mono diff-old">amount: number</td>"#),
        "{diff_row}"
    );
    assert!(
        diff_row.contains(r#"<td class="mono diff-new">amount: string</td>"#),
        "{diff_row}"
    );
    assert!(page.body.contains("Volume per hour"));

    let relearned = app
        .send(
            "POST",
            &format!("/checks/{}/relearn", check.uuid),
            &session,
            Some(format!("csrf={csrf}")),
        )
        .await;
    assert_eq!(relearned.status, StatusCode::SEE_OTHER);
    let page = app.send("GET", &page_path, &session, None).await;
    assert!(page.body.contains("learning: 0 of 2 events read"));
    assert!(page
        .body
        .contains("Drift is checked once the shape is learned."));
    let forged = app
        .send(
            "POST",
            &format!("/checks/{}/relearn", check.uuid),
            &session,
            Some("csrf=wrong".into()),
        )
        .await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER);
}

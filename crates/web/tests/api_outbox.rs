//! The outbox API through the real router: listing messages and "retry now".

use axum::http::{Method, StatusCode};
use tend_store::outbox::{NewMessage, EMAIL};

#[macro_use]
mod common;

use common::api::Api;

async fn queue(api: &Api, key: &str) -> i64 {
    api.store
        .enqueue_message(
            &NewMessage {
                event_key: key.into(),
                channel: EMAIL,
                recipient: "ann@agency.test".into(),
                subject: format!("about {key}"),
                body: "body".into(),
                client_id: None,
                ticket_id: None,
            },
            tend_store::now_ms(),
        )
        .await
        .unwrap();
    let page = api.get("/outbox").await.expect(StatusCode::OK).body;
    page["items"][0]["id"].as_i64().unwrap()
}

story!(
    messages_are_listed_newest_first_and_a_failed_one_can_be_retried,
    |api: Api| async move {
        queue(&api, "first").await;
        let id = queue(&api, "second").await;
        let all = api.get("/outbox").await.expect(StatusCode::OK).body;
        assert_eq!(all["total"], 2);
        assert_eq!(all["items"][0]["subject"], "about second");
        assert_eq!(all["items"][0]["state"], "pending");

        let now = tend_store::now_ms();
        let claimed = api.store.claim_outbox(now, now + 60_000, 10).await.unwrap();
        let second = claimed.iter().find(|m| m.id == id).unwrap();
        api.store
            .outbox_failed(second, now + 60_000, "550 no such user", true, now)
            .await
            .unwrap();
        let trouble = api
            .get("/outbox?state=trouble")
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(trouble["total"], 1);
        assert_eq!(trouble["items"][0]["state"], "failed");
        assert_eq!(trouble["items"][0]["last_error"], "550 no such user");

        let read = api.read.clone();
        api.call_as(&read, Method::POST, &format!("/outbox/{id}/retry"), None)
            .await
            .expect(StatusCode::FORBIDDEN);
        api.call(Method::POST, &format!("/outbox/{id}/retry"), None)
            .await
            .expect(StatusCode::ACCEPTED);
        let retried = api.get("/outbox?state=trouble").await.body;
        assert_eq!(
            retried["total"], 0,
            "a retried message waits, untried: {retried}"
        );
        // The first message is being sent (claimed): there is nothing to retry.
        let first = claimed.iter().find(|m| m.id != id).unwrap().id;
        let busy = api
            .call(Method::POST, &format!("/outbox/{first}/retry"), None)
            .await
            .expect(StatusCode::CONFLICT);
        assert!(busy.body["detail"].as_str().unwrap().contains("sending"));
        api.call(Method::POST, "/outbox/abc/retry", None)
            .await
            .expect(StatusCode::NOT_FOUND);
        api.call(Method::POST, "/outbox/999/retry", None)
            .await
            .expect(StatusCode::NOT_FOUND);
        api.get("/outbox?state=stuck")
            .await
            .expect(StatusCode::BAD_REQUEST);
    }
);

story!(
    a_draft_is_sent_as_written_or_edited_or_discarded,
    |api: Api| async move {
        let first = queue(&api, "hours-75").await;
        let second = queue(&api, "hours-100").await;
        // Drafts are what the hour bank writes for a person to review.
        for id in [first, second] {
            tend_store::with_pool!(&api.store.db, p => sqlx::query(
                "UPDATE outbox SET state = 'draft' WHERE id = $1").bind(id).execute(p).await.map(|_| ()))
            .unwrap();
        }
        let drafts = api
            .get("/outbox?state=drafts")
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(drafts["total"], 2);

        let read = api.read.clone();
        api.call_as(&read, Method::POST, &format!("/outbox/{first}/send"), None)
            .await
            .expect(StatusCode::FORBIDDEN);
        let blank = api
            .post(
                &format!("/outbox/{first}/send"),
                serde_json::json!({"body": "Hi [name]"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(blank.field_error("body").unwrap().contains("[name]"));
        let sent = api
            .post(
                &format!("/outbox/{first}/send"),
                serde_json::json!({"subject": "Hours update"}),
            )
            .await
            .expect(StatusCode::ACCEPTED);
        assert_eq!(sent.body["state"], "pending");
        assert_eq!(sent.body["subject"], "Hours update");
        assert_eq!(sent.body["body"], "body", "the drafted body, unchanged");
        api.call(Method::POST, &format!("/outbox/{first}/send"), None)
            .await
            .expect(StatusCode::CONFLICT);

        api.call(Method::POST, &format!("/outbox/{second}/discard"), None)
            .await
            .expect(StatusCode::NO_CONTENT);
        let all = api.get("/outbox").await.expect(StatusCode::OK).body;
        assert!(all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == second && m["state"] == "discarded"));
        api.call(Method::POST, "/outbox/999/discard", None)
            .await
            .expect(StatusCode::NOT_FOUND);
    }
);

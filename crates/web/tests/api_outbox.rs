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

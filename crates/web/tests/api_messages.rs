//! Message templates and emails to a client's contacts through the API.

use axum::http::{Method, StatusCode};
use serde_json::json;

#[macro_use]
mod common;

use common::api::Api;

async fn ticket_with_contact(api: &Api) -> i64 {
    api.post(
        "/clients",
        json!({"name": "Acme Dental", "slug": "acme", "timezone": "America/Chicago",
               "contract": {"plan": "GROWTH"}}),
    )
    .await
    .expect(StatusCode::CREATED);
    api.post(
        "/clients/acme/contacts",
        json!({"name": "Dana Reyes", "email": "dana@acme.test", "role": "requester"}),
    )
    .await
    .expect(StatusCode::CREATED);
    api.post(
        "/tickets",
        json!({"client": "acme", "title": "Bookings stopped", "severity": "p1"}),
    )
    .await
    .expect(StatusCode::CREATED)
    .body["number"]
        .as_i64()
        .unwrap()
}

story!(
    an_email_is_previewed_then_sent_and_blanks_or_strangers_are_refused,
    |api: Api| async move {
        let n = ticket_with_contact(&api).await;
        let preview = api
            .post(
                &format!("/tickets/{n}/emails"),
                json!({"template": "acknowledge", "preview": true}),
            )
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(preview["to"][0]["email"], "dana@acme.test");
        assert!(preview["body"].as_str().unwrap().starts_with("Hi Dana,"));
        assert_eq!(preview["blanks"], json!([]));
        let thread = api.get(&format!("/tickets/{n}/messages")).await.body;
        assert_eq!(thread["total"], 0, "a preview sends nothing");

        let status = api
            .post(
                &format!("/tickets/{n}/emails"),
                json!({"template": "status-update"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(status
            .field_error("body")
            .unwrap()
            .contains("[what you found]"));
        api.post(
            &format!("/tickets/{n}/emails"),
            json!({"to": ["eve@elsewhere.test"], "preview": true}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
        api.post(
            &format!("/tickets/{n}/emails"),
            json!({"template": "farewell"}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
        let read = api.read.clone();
        api.call_as(
            &read,
            Method::POST,
            &format!("/tickets/{n}/emails"),
            Some(json!({})),
        )
        .await
        .expect(StatusCode::FORBIDDEN);

        let sent = api
            .post(&format!("/tickets/{n}/emails"), json!({}))
            .await
            .expect(StatusCode::CREATED)
            .body;
        assert_eq!(sent["emailed_to"], "dana@acme.test");
        let outbox = api.get("/outbox").await.expect(StatusCode::OK).body;
        assert_eq!(outbox["total"], 1);
        assert_eq!(
            outbox["items"][0]["recipient"],
            "Dana Reyes <dana@acme.test>"
        );
    }
);

story!(
    templates_are_listed_replaced_with_checks_and_reset,
    |api: Api| async move {
        let all = api.get("/templates").await.expect(StatusCode::OK).body;
        assert_eq!(all.as_array().unwrap().len(), 6);
        let bad = api
            .put(
                "/templates/resolved",
                json!({"subject": "Done", "body": "{{ ticket.nope }}"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.field_error("body").unwrap().contains("does not exist"));
        let saved = api
            .put(
                "/templates/resolved",
                json!({"subject": "Fixed: {{ ticket.title }}", "body": "All good, {{ contact.first_name }}."}),
            )
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(saved["is_default"], false);
        let reset = api
            .call(Method::DELETE, "/templates/resolved", None)
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(reset["is_default"], true);
        api.get("/templates/farewell")
            .await
            .expect(StatusCode::NOT_FOUND);
    }
);

story!(
    the_backlog_narrows_to_tickets_breaching_soon_and_by_owner_or_severity,
    |api: Api| async move {
        let n = ticket_with_contact(&api).await;
        let soon = api
            .get("/backlog?breaching_within=720")
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(soon["items"][0]["number"], n);
        let breached = api
            .get("/backlog?breaching_within=0")
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(breached["total"], 0, "a new ticket has not breached");
        let p3 = api
            .get("/backlog?severity=p3")
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(p3["total"], 0);
        let p1 = api
            .get("/backlog?severity=p1&incomplete=true")
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(p1["total"], 1);
        let bad = api
            .get("/backlog?breaching_within=9999&owner=nobody%40agency.test")
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert!(
            bad.body.to_string().contains("breaching_within"),
            "{}",
            bad.body
        );
        assert!(bad.body.to_string().contains("owner"), "{}", bad.body);
    }
);

//! Event streams end to end through the real router, on both engines: a stream is added
//! through the API, its workflow POSTs events to `/events/<uuid>`, a drift is found,
//! and the alert job opens a monitoring ticket the API shows. Bad events get problem
//! JSON.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

#[macro_use]
mod common;

use common::api::{Api, Reply};

async fn send_event(api: &Api, method: Method, path: &str, body: &str) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "Zapier")
        .body(Body::from(body.to_string()))
        .unwrap();
    api.send(request).await
}

fn lead(email_key: &str) -> String {
    let mut lead = json!({"lead": {"name": "Ann", "phone": "+15550100"}, "source": "typeform"});
    lead["lead"][email_key] = Value::String("ann@example.com".into());
    lead.to_string()
}

story!(
    posted_events_are_learned_and_a_drift_opens_a_ticket,
    |api: Api| async move {
        api.post(
            "/clients",
            json!({"name": "Acme", "slug": "acme", "timezone": "UTC"}),
        )
        .await
        .expect(StatusCode::CREATED);
        let added = api
            .post(
                "/checks",
                json!({"kind": "event-stream", "client": "acme", "name": "New leads",
                       "criticality": "revenue-critical", "learn_events": 3}),
            )
            .await
            .expect(StatusCode::CREATED);
        let uuid = added.body["uuid"].as_str().unwrap().to_string();
        let path = format!("/events/{uuid}");
        assert_eq!(added.body["kind"], "event-stream");
        assert_eq!(added.body["event_path"], path);

        // Bad events are refused with a clear problem and nothing is stored.
        let bad = send_event(&api, Method::POST, &path, "{\"lead\": ").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(
            bad.body["detail"]
                .as_str()
                .unwrap()
                .starts_with("the body is not valid JSON"),
            "{bad:?}"
        );
        let unknown = send_event(
            &api,
            Method::POST,
            "/events/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278",
            "{}",
        )
        .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        let not_uuid = send_event(&api, Method::POST, "/events/nope", "{}").await;
        assert_eq!(not_uuid.status, StatusCode::NOT_FOUND);
        let get = send_event(&api, Method::GET, &path, "").await;
        assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
        let too_big = format!("{{\"x\": \"{}\"}}", "a".repeat(200 * 1024));
        let big = send_event(&api, Method::POST, &path, &too_big).await;
        assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
        // A heartbeat's UUID takes no events.
        let beat = api
            .post(
                "/checks",
                json!({"client": "acme", "name": "Nightly", "period": "1d"}),
            )
            .await
            .expect(StatusCode::CREATED);
        let beat_path = format!("/events/{}", beat.body["uuid"].as_str().unwrap());
        assert_eq!(
            send_event(&api, Method::POST, &beat_path, "{}")
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        for n in 1..=3 {
            let stored = send_event(&api, Method::POST, &path, &lead("email")).await;
            assert_eq!(stored.status, StatusCode::OK);
            assert_eq!(
                stored.body,
                json!({"status": "stored", "n": n, "learning": true, "findings": 0, "new_drifts": 0})
            );
        }
        let shape = api
            .get(&format!("/checks/{uuid}/shape"))
            .await
            .expect(StatusCode::OK);
        assert!(!shape.body["learned_at"].is_null());
        let email = shape.body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "lead.email")
            .cloned()
            .unwrap();
        assert_eq!(
            email,
            json!({"path": "lead.email", "types": "string", "presence": "known", "seen_percent": 100})
        );

        // A third-party tool renames the field.
        let drifted = send_event(&api, Method::POST, &path, &lead("emailAddress")).await;
        assert_eq!(
            drifted.body,
            json!({"status": "stored", "n": 4, "learning": false, "findings": 1, "new_drifts": 1})
        );
        let report = tend_jobs::watch(&api.store, tend_store::now_ms(), "https://desk.test")
            .await
            .unwrap();
        assert_eq!(report.tickets, 1, "{report}");
        let check = api
            .get(&format!("/checks/{uuid}"))
            .await
            .expect(StatusCode::OK);
        let number = check.body["alert_ticket_id"].as_i64().expect("a ticket");
        let ticket = api
            .get(&format!("/tickets/{number}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(ticket.body["title"], "Payload drift: New leads (Acme)");
        assert_eq!(ticket.body["source"], "monitoring-alert");
        let description = ticket.body["description"].as_str().unwrap();
        assert!(
            description.contains("lead.email: string looks renamed to lead.emailAddress: string"),
            "{description}"
        );
        let drifts = api
            .get(&format!("/checks/{uuid}/drifts"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(drifts.body["total"], 1);
        let d = &drifts.body["items"][0];
        assert_eq!(
            (
                d["kind"].as_str(),
                d["expected"].as_str(),
                d["actual"].as_str()
            ),
            (
                Some("renamed"),
                Some("lead.email: string"),
                Some("lead.emailAddress: string")
            )
        );
        let events = api
            .get(&format!("/checks/{uuid}/events"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(events.body["total"], 4);
        assert_eq!(events.body["items"][0]["verdict"], "drift");
        assert_eq!(events.body["items"][0]["user_agent"], "Zapier");
        let volume = api
            .get(&format!("/checks/{uuid}/volume?hours=3"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(volume.body.as_array().unwrap().len(), 3);
        api.get(&format!("/checks/{uuid}/volume?hours=0"))
            .await
            .expect(StatusCode::BAD_REQUEST);

        // Relearning (a write) empties the shape; the heartbeat has no shape.
        let relearned = api
            .post(&format!("/checks/{uuid}/relearn"), json!({}))
            .await
            .expect(StatusCode::OK);
        assert!(relearned.body["learned_at"].is_null());
        assert_eq!(relearned.body["fields"], json!([]));
        api.get(&format!(
            "/checks/{}/shape",
            beat.body["uuid"].as_str().unwrap()
        ))
        .await
        .expect(StatusCode::CONFLICT);
        let bad_kind = api
            .post(
                "/checks",
                json!({"kind": "stream", "client": "acme", "name": "x"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad_kind.field_error("kind").is_some());
    }
);

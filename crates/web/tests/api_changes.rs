//! Change records, releases and release notes through the real router, as another tool
//! would use them. Every story runs on a fresh SQLite file, and on a fresh PostgreSQL
//! database too when `TEND_TEST_POSTGRES_URL` is set; every error answer is checked to
//! be problem JSON (the harness is `tests/common/api.rs`).

use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

#[macro_use]
mod common;

use common::api::Api;

impl Api {
    async fn client(&self, slug: &str) {
        self.post(
            "/clients",
            json!({"name": format!("{slug} Dental"), "slug": slug, "timezone": "America/Chicago"}),
        )
        .await
        .expect(StatusCode::CREATED);
    }

    async fn ticket(&self, client: &str, title: &str) -> i64 {
        self.post("/tickets", json!({"client": client, "title": title}))
            .await
            .expect(StatusCode::CREATED)
            .body["number"]
            .as_i64()
            .unwrap()
    }

    async fn release(&self, client: &str, name: &str) -> i64 {
        self.post(
            "/releases",
            json!({"client": client, "name": name, "planned_for": "2026-11-20"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .body["id"]
            .as_i64()
            .unwrap()
    }

    /// GET a path whose answer is not JSON: status, content type, disposition, text.
    async fn text(&self, path: &str) -> (StatusCode, String, String, String) {
        let request = self
            .request(Method::GET, path, Some(self.write.as_str()))
            .body(Body::empty())
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let header_of = |name: header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let (status, kind, disposition) = (
            response.status(),
            header_of(header::CONTENT_TYPE),
            header_of(header::CONTENT_DISPOSITION),
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            kind,
            disposition,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }
}

fn verified(release: Value) -> Value {
    json!({
        "what_changed": "The booking webhook sends the rotated secret",
        "systems_touched": ["GoHighLevel", "Zapier"],
        "qa_before_path": "Submit a staging booking; the contact appears",
        "qa_before_result": "pass",
        "qa_after_path": "Submit a live booking; the contact appears within 1 min",
        "qa_after_result": "pass",
        "release_id": release,
        "client_notes": "Bookings reach your CRM again."
    })
}

story!(
    a_change_record_is_put_on_a_ticket_and_bad_input_is_a_problem_naming_each_field,
    |api: Api| async move {
        api.client("acme").await;
        let n = api.ticket("acme", "Bookings stopped").await;
        let path = format!("/tickets/{n}/change");
        let none = api.get(&path).await.expect(StatusCode::NOT_FOUND);
        assert!(none.body["detail"]
            .as_str()
            .unwrap()
            .contains("no change record"));

        let bad = api
            .put(
                &path,
                json!({
                    "systems_touched": ["GHL", 3],
                    "qa_before_result": "passed",
                    "qa_after_result": "pass",
                    "release_id": "soon",
                    "colour": "red"
                }),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.field_error("systems_touched").is_some(),
            "{:#?}",
            bad.body
        );
        assert!(bad.field_error("colour").unwrap().contains("not a field"));
        let bad = api
            .put(
                &path,
                json!({"qa_before_result": "passed", "qa_after_result": "pass", "release_id": "soon"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            bad.field_error("what_changed").as_deref(),
            Some("is required")
        );
        assert!(bad
            .field_error("qa_before_result")
            .unwrap()
            .contains("not-run"));
        assert!(bad
            .field_error("qa_after_path")
            .unwrap()
            .contains("test path"));
        assert!(bad.field_error("release_id").is_some());
        api.get(&path).await.expect(StatusCode::NOT_FOUND);

        let created = api
            .put(&path, verified(Value::Null))
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(
            created.header(header::LOCATION),
            format!("/api/v1/tickets/{n}/change")
        );
        assert_eq!(
            created.body["systems_touched"],
            json!(["GoHighLevel", "Zapier"])
        );
        assert_eq!(created.body["qa_after_result"], "pass");
        assert_eq!(created.body["release"], Value::Null);
        let mut again = verified(Value::Null);
        again["systems_touched"] = json!("Stripe\nGoHighLevel");
        let replaced = api.put(&path, again).await.expect(StatusCode::OK);
        assert_eq!(
            replaced.body["systems_touched"],
            json!(["Stripe", "GoHighLevel"])
        );
        assert_eq!(api.get(&path).await.body["ticket"], n);

        api.put("/tickets/999/change", verified(Value::Null))
            .await
            .expect(StatusCode::NOT_FOUND);
        let read = api
            .call_as(
                &api.read.clone(),
                Method::PUT,
                &path,
                Some(verified(Value::Null)),
            )
            .await
            .expect(StatusCode::FORBIDDEN);
        assert!(read.body["detail"]
            .as_str()
            .unwrap()
            .contains("scope is read"));
        let audit = api.get("/audit?entity=change").await.expect(StatusCode::OK);
        assert_eq!(audit.body["total"], 2);
    }
);

story!(
    a_release_is_planned_filled_refused_until_qa_passes_then_released_and_frozen,
    |api: Api| async move {
        api.client("acme").await;
        api.client("beta").await;
        let id = api.release("acme", "November window").await;
        let theirs = api.release("beta", "Beta window").await;
        let taken = api
            .post(
                "/releases",
                json!({"client": "acme", "name": "November window"}),
            )
            .await
            .expect(StatusCode::CONFLICT);
        assert!(taken.field_error("name").is_some());
        let bad = api
            .post(
                "/releases",
                json!({"client": "nope", "planned_for": "friday"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.field_error("name").as_deref(), Some("is required"));
        assert!(bad.field_error("planned_for").is_some());
        let unknown = api
            .post("/releases", json!({"client": "nope", "name": "x"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown.field_error("client").is_some());

        let a = api.ticket("acme", "Bookings stopped").await;
        let b = api.ticket("acme", "Add a UTM field").await;
        let other = api
            .put(&format!("/tickets/{a}/change"), verified(json!(theirs)))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(other
            .field_error("release_id")
            .unwrap()
            .contains("another client"));
        api.put(&format!("/tickets/{a}/change"), verified(json!(id)))
            .await
            .expect(StatusCode::CREATED);
        let mut untested = verified(json!(id.to_string()));
        untested["qa_after_result"] = json!("not-run");
        api.put(&format!("/tickets/{b}/change"), untested)
            .await
            .expect(StatusCode::CREATED);

        let shown = api
            .get(&format!("/releases/{id}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(shown.body["state"], "planned");
        assert_eq!(shown.body["change_count"], 2);
        assert_eq!(shown.body["changes"].as_array().unwrap().len(), 2);
        assert_eq!(shown.body["can_release"]["allowed"], false);
        let refused = api
            .post(&format!("/releases/{id}/release"), json!({}))
            .await
            .expect(StatusCode::CONFLICT);
        assert!(refused.body["detail"]
            .as_str()
            .unwrap()
            .ends_with(&format!("#{b} after release: not run")));
        assert_eq!(
            api.get(&format!("/releases/{id}")).await.body["state"],
            "planned"
        );

        api.put(&format!("/tickets/{b}/change"), verified(json!(id)))
            .await
            .expect(StatusCode::OK);
        let moved = api
            .patch(
                &format!("/releases/{id}"),
                json!({"planned_for": "2026-11-21"}),
            )
            .await
            .expect(StatusCode::OK);
        assert_eq!(moved.body["planned_for"], "2026-11-21");
        assert_eq!(moved.body["name"], "November window");
        assert_eq!(moved.body["can_release"]["allowed"], true);
        let released = api
            .post(&format!("/releases/{id}/release"), json!({}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(released.body["state"], "released");
        assert!(released.body["released_at"].as_i64().is_some());

        let frozen = api
            .put(&format!("/tickets/{a}/change"), verified(Value::Null))
            .await
            .expect(StatusCode::CONFLICT);
        assert!(frozen.body["detail"]
            .as_str()
            .unwrap()
            .contains("kept as it went out"));
        api.patch(&format!("/releases/{id}"), json!({"name": "Renamed"}))
            .await
            .expect(StatusCode::CONFLICT);
        api.delete(&format!("/releases/{id}"))
            .await
            .expect(StatusCode::CONFLICT);
        api.post(&format!("/releases/{id}/release"), json!({}))
            .await
            .expect(StatusCode::CONFLICT);
        api.delete(&format!("/releases/{theirs}"))
            .await
            .expect(StatusCode::NO_CONTENT);
        api.get(&format!("/releases/{theirs}"))
            .await
            .expect(StatusCode::NOT_FOUND);
        api.get("/releases/abc").await.expect(StatusCode::NOT_FOUND);

        let listed = api
            .get("/releases?client=acme&state=released")
            .await
            .expect(StatusCode::OK);
        assert_eq!(listed.body["total"], 1);
        let bad = api
            .get("/releases?client=nope&state=shipped")
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert!(bad.field_error("client").is_some() && bad.field_error("state").is_some());
    }
);

story!(
    release_notes_come_as_escaped_markdown_or_html,
    |api: Api| async move {
        api.client("acme").await;
        let id = api.release("acme", "November window").await;
        let n = api.ticket("acme", "Bookings <stopped>").await;
        let mut change = verified(json!(id));
        change["client_notes"] = json!("New: <b>faster</b> sync\n- no list here");
        api.put(&format!("/tickets/{n}/change"), change)
            .await
            .expect(StatusCode::CREATED);

        let (status, kind, disposition, md) = api.text(&format!("/releases/{id}/notes")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(kind, "text/markdown; charset=utf-8");
        assert!(disposition.is_empty());
        assert!(
            md.starts_with(
                "# Release notes: acme Dental — November window\n\nPlanned for 2026-11-20\n"
            ),
            "{md}"
        );
        assert!(
            md.contains(&format!("## #{n} Bookings \\<stopped\\>")),
            "{md}"
        );
        assert!(
            md.contains("New: \\<b\\>faster\\</b\\> sync\n\\- no list here"),
            "{md}"
        );

        let (status, kind, disposition, html) = api
            .text(&format!("/releases/{id}/notes?format=html&download=true"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(kind, "text/html; charset=utf-8");
        assert_eq!(
            disposition,
            format!("attachment; filename=\"release-{id}-november-window.html\"")
        );
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("Bookings &#60;stopped&#62;"), "{html}");
        assert!(!html.contains("<b>faster"));
        assert!(html.contains("Verified after release: Submit a live booking"));

        let bad = api
            .get(&format!("/releases/{id}/notes?format=pdf"))
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert!(bad.field_error("format").unwrap().contains("md or html"));
    }
);

#[tokio::test]
async fn the_openapi_document_lists_changes_and_releases() {
    let (store, db) = common::api::harness::sqlite().await;
    let api = Api::new(store.clone()).await;
    let doc = api.get("/openapi.json").await.expect(StatusCode::OK);
    for path in [
        "/tickets/{number}/change",
        "/releases",
        "/releases/{id}",
        "/releases/{id}/release",
        "/releases/{id}/notes",
    ] {
        assert!(doc.body["paths"][path].is_object(), "{path} is documented");
    }
    assert!(doc.body["paths"]["/releases/{id}/release"]["post"]["responses"]["409"].is_object());
    common::api::harness::finish(store, db).await;
}

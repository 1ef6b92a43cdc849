//! The checks API through the real router: add, list, show, pause, resume, delete, and
//! the ping log and flips of a check.

use axum::http::StatusCode;
use serde_json::json;

#[macro_use]
mod common;

use common::api::Api;

async fn acme(api: &Api) {
    api.post(
        "/clients",
        json!({"name": "Acme", "slug": "acme", "timezone": "UTC"}),
    )
    .await
    .expect(StatusCode::CREATED);
}

story!(
    a_check_is_added_pinged_paused_and_deleted,
    |api: Api| async move {
        acme(&api).await;
        let added = api
            .post(
                "/checks",
                json!({"client": "acme", "name": "Lead sync", "period": "5m", "grace": "1m",
                   "criticality": "revenue-critical", "workflow": "Typeform to HubSpot"}),
            )
            .await
            .expect(StatusCode::CREATED);
        let uuid = added.body["uuid"].as_str().unwrap().to_string();
        assert_eq!(
            added.header(axum::http::header::LOCATION),
            format!("/api/v1/checks/{uuid}")
        );
        assert_eq!(added.body["ping_path"], format!("/ping/{uuid}"));
        assert_eq!(added.body["schedule"], "every 5m");
        assert_eq!(added.body["state"], "new");
        assert_eq!(added.body["criticality"], "revenue-critical");

        let refused = api
            .post(
                "/checks",
                json!({"client": "acme", "name": "x", "period": "soon", "cron": ""}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.field_error("period").is_some());
        api.post(
            "/checks",
            json!({"client": "acme", "name": "Lead sync", "period": "1h"}),
        )
        .await
        .expect(StatusCode::CONFLICT);
        api.post("/checks", json!({"client": "acme", "nme": "typo"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);

        let list = api
            .get("/checks?client=acme")
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(list["total"], 1);
        api.get("/checks?state=sideways")
            .await
            .expect(StatusCode::BAD_REQUEST);

        // A ping through the ping endpoint shows in the log and the flips.
        let response = tower::ServiceExt::oneshot(
            api.router.clone(),
            axum::http::Request::builder()
                .uri(format!("/ping/{uuid}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let shown = api
            .get(&format!("/checks/{uuid}"))
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(shown["state"], "up");
        let slug_path = shown["slug_ping_path"].as_str().unwrap();
        assert!(slug_path.starts_with("/ping/") && slug_path.ends_with("/lead-sync"));
        let pings = api
            .get(&format!("/checks/{uuid}/pings"))
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(pings["total"], 1);
        assert_eq!(pings["items"][0]["kind"], "success");
        let flips = api
            .get(&format!("/checks/{uuid}/flips"))
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(flips["items"][0]["new_state"], "up");

        let read = api.read.clone();
        api.call_as(
            &read,
            axum::http::Method::POST,
            &format!("/checks/{uuid}/pause"),
            None,
        )
        .await
        .expect(StatusCode::FORBIDDEN);
        let paused = api
            .call(
                axum::http::Method::POST,
                &format!("/checks/{uuid}/pause"),
                None,
            )
            .await
            .expect(StatusCode::OK);
        assert_eq!(paused.body["state"], "paused");
        let resumed = api
            .call(
                axum::http::Method::POST,
                &format!("/checks/{uuid}/resume"),
                None,
            )
            .await
            .expect(StatusCode::OK);
        assert_eq!(resumed.body["state"], "new");

        api.delete(&format!("/checks/{uuid}"))
            .await
            .expect(StatusCode::NO_CONTENT);
        api.get(&format!("/checks/{uuid}"))
            .await
            .expect(StatusCode::NOT_FOUND);
        api.get("/checks/not-a-uuid")
            .await
            .expect(StatusCode::NOT_FOUND);
    }
);

story!(
    the_openapi_document_lists_the_checks_paths,
    |api: Api| async move {
        let request = axum::http::Request::get("/api/v1/openapi.json")
            .body(axum::body::Body::empty())
            .unwrap();
        let doc = api.send(request).await.expect(StatusCode::OK).body;
        let paths = doc["paths"].as_object().unwrap();
        for (path, methods) in [
            ("/checks", &["get", "post"][..]),
            ("/checks/{uuid}", &["get", "delete"]),
            ("/checks/{uuid}/pause", &["post"]),
            ("/checks/{uuid}/resume", &["post"]),
            ("/checks/{uuid}/pings", &["get"]),
            ("/checks/{uuid}/flips", &["get"]),
        ] {
            for method in methods {
                assert!(
                    paths[path].get(*method).is_some(),
                    "{method} {path} is documented"
                );
            }
        }
        assert!(doc["components"]["schemas"]["CheckFields"].is_object());
    }
);

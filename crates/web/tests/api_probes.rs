//! HTTP probes through the checks API: added with their settings, shown with them,
//! refused with a problem that names the field (a literal credential header, a short
//! interval, a timeout not shorter than the interval), their results listed, and the
//! path documented in OpenAPI.

use axum::http::StatusCode;
use serde_json::json;

#[macro_use]
mod common;

use common::api::Api;

story!(
    a_probe_is_added_and_shown_with_its_settings,
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
                json!({"client": "acme", "name": "Booking page", "url": "https://acme.example/book",
                   "every": "60s", "expect": "200", "keyword": "Welcome", "max_latency": "2s",
                   "headers": "Authorization: Bearer ${env:TEND_PROBE_ACME_TOKEN}\nAccept: text/html"}),
            )
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(added.body["kind"], "http-probe");
        assert_eq!(added.body["schedule"], "every 1m");
        assert_eq!(added.body["probe"]["expect"], "200");
        assert_eq!(added.body["probe"]["every_ms"], 60_000);
        assert_eq!(added.body["probe"]["timeout_ms"], 10_000);
        let uuid = added.body["uuid"].as_str().unwrap().to_string();

        let shown = api
            .get(&format!("/checks/{uuid}"))
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(
            shown["probe"]["description"],
            "GET https://acme.example/book every 1m, expects 200 with \"Welcome\" within 2 s"
        );
        assert_eq!(
            shown["probe"]["headers"],
            "Authorization: Bearer ${env:TEND_PROBE_ACME_TOKEN}\nAccept: text/html"
        );
        let results = api
            .get(&format!("/checks/{uuid}/results"))
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(results["total"], 0);

        let secret = api
            .post(
                "/checks",
                json!({"client": "acme", "name": "API", "url": "https://api.acme.example",
                   "headers": "Authorization: Bearer abc123"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        let why = secret.field_error("headers").unwrap();
        assert!(why.contains("must name an environment variable"), "{why}");
        let bad = api
            .post(
                "/checks",
                json!({"client": "acme", "name": "Fast", "url": "ftp://acme.example",
                   "every": "10s", "period": "5m"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        for field in ["url", "every", "period"] {
            assert!(bad.field_error(field).is_some(), "{field}: {:?}", bad.body);
        }
        let timeout = api
            .post(
                "/checks",
                json!({"client": "acme", "name": "Slow", "url": "https://acme.example",
                   "every": "30s", "timeout": "45s"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            timeout.field_error("timeout"),
            Some("must be shorter than the interval".into())
        );

        let doc = api.get("/openapi.json").await.expect(StatusCode::OK).body;
        assert!(doc["paths"]["/checks/{uuid}/results"]["get"].is_object());
    }
);

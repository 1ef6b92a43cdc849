//! Maintenance windows and resolve-on-recovery through the real router.

use axum::http::StatusCode;
use serde_json::json;

#[macro_use]
mod common;

use common::api::Api;

story!(
    a_window_is_added_listed_ended_and_audited,
    |api: Api| async move {
        api.post(
            "/clients",
            json!({"name": "Acme", "slug": "acme", "timezone": "UTC"}),
        )
        .await
        .expect(StatusCode::CREATED);
        let check = api
            .post(
                "/checks",
                json!({"client": "acme", "name": "Lead sync", "period": "5m"}),
            )
            .await
            .expect(StatusCode::CREATED);
        let uuid = check.body["uuid"].as_str().unwrap().to_string();

        let added = api
            .post(
                "/maintenance-windows",
                json!({"client": "acme", "checks": [uuid], "kind": "weekly", "days": "sat,sun",
                       "from": "22:00", "until": "02:00", "timezone": "Europe/Berlin",
                       "reason": "CRM sync rebuild"}),
            )
            .await
            .expect(StatusCode::CREATED);
        let id = added.body["id"].as_i64().unwrap();
        assert_eq!(
            added.header(axum::http::header::LOCATION),
            format!("/api/v1/maintenance-windows/{id}")
        );
        assert_eq!(
            added.body["schedule"],
            "weekly sat,sun 22:00–02:00 (Europe/Berlin)"
        );
        assert_eq!(added.body["checks"], json!([uuid]));

        // Bad input names the fields.
        let refused = api
            .post(
                "/maintenance-windows",
                json!({"client": "acme", "kind": "once", "starts": "tomorrow", "ends": "2026-11-22T01:00Z"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.field_error("starts").is_some());
        let refused = api
            .post(
                "/maintenance-windows",
                json!({"client": "nobody", "kind": "cron", "cron": "0 2 * * 6", "duration": "2h"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.field_error("client").is_some());
        api.post(
            "/maintenance-windows",
            json!({"client": "acme", "knd": "once"}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);

        let list = api
            .get("/maintenance-windows?client=acme")
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(list["total"], 1);
        api.post(&format!("/maintenance-windows/{id}/end"), json!({}))
            .await
            .expect(StatusCode::OK);
        api.post(&format!("/maintenance-windows/{id}/end"), json!({}))
            .await
            .expect(StatusCode::CONFLICT);
        let list = api
            .get("/maintenance-windows?client=acme")
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(list["total"], 0, "ended windows are hidden by default");
        let list = api
            .get("/maintenance-windows?client=acme&ended=true")
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(list["total"], 1);
        assert!(list["items"][0]["ended_at"].is_i64());
        api.get("/maintenance-windows/999")
            .await
            .expect(StatusCode::NOT_FOUND);

        let audit = api.get("/audit").await.expect(StatusCode::OK).body;
        let summaries: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["summary"].as_str())
            .collect();
        assert!(
            summaries
                .iter()
                .any(|s| s.starts_with("added maintenance window for Acme")),
            "{summaries:?}"
        );
        assert!(summaries
            .iter()
            .any(|s| s.starts_with("ended maintenance window")));

        // Resolve on recovery: off by default, then on.
        let path = format!("/checks/{uuid}/resolve-on-recovery");
        assert_eq!(
            api.get(&path).await.expect(StatusCode::OK).body,
            json!({"on": false})
        );
        api.put(&path, json!({"on": true}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            api.get(&path).await.expect(StatusCode::OK).body,
            json!({"on": true})
        );
        api.put(&path, json!({"on": "yes"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        api.get("/checks/00000000-0000-4000-8000-000000000000/resolve-on-recovery")
            .await
            .expect(StatusCode::NOT_FOUND);
    }
);

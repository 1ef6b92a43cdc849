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
            ("/checks/{uuid}", &["get", "patch", "delete"]),
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

async fn upload(api: &Api, path: &str, content_type: &str, body: &str) -> common::api::Reply {
    use axum::body::Body;
    use axum::http::{header, Method};
    let request = api
        .request(Method::POST, path, Some(&api.write))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_string()))
        .unwrap();
    api.send(request).await
}

const HC_EXPORT: &str = r#"{"checks": [
  {"name": "Backups", "slug": "backups", "tags": "prod", "desc": "Nightly DB backup", "grace": 900,
   "timeout": 86400, "status": "up", "ping_url": "https://hc-ping.com/5a1c2f9e-3b47-4f7e-9a53-5a4b8f2f3e10"},
  {"name": "Lead sync", "slug": "lead-sync", "tags": "revenue-critical", "desc": "", "grace": 300,
   "schedule": "*/15 9-17 * * 1-5", "tz": "America/Chicago"}
]}"#;

story!(
    checks_are_imported_from_healthchecks_io_and_csv_all_or_nothing,
    |api: Api| async move {
        acme(&api).await;
        let path = "/clients/acme/checks/import";
        let preview = upload(
            &api,
            &format!("{path}?dry_run=true"),
            "application/json",
            HC_EXPORT,
        )
        .await
        .expect(StatusCode::OK);
        assert_eq!(preview.body["dry_run"], true);
        assert_eq!(preview.body["created"].as_array().unwrap().len(), 2);
        assert_eq!(
            api.get("/checks").await.body["total"].as_i64().unwrap(),
            0,
            "a dry run writes nothing"
        );

        let done = upload(&api, path, "application/json", HC_EXPORT)
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            done.body["created"][0]["uuid"], "5a1c2f9e-3b47-4f7e-9a53-5a4b8f2f3e10",
            "the healthchecks.io UUID is kept, so scripts only change host"
        );
        let backups = api
            .get("/checks/5a1c2f9e-3b47-4f7e-9a53-5a4b8f2f3e10")
            .await
            .expect(StatusCode::OK);
        assert_eq!(backups.body["schedule"], "every 1d");
        assert_eq!(backups.body["grace_ms"], 900_000);
        assert_eq!(
            backups.body["uptime"]["day"],
            serde_json::Value::Null,
            "never pinged"
        );
        let all = api.get("/checks").await;
        assert_eq!(all.body["total"], 2);
        let sync = all.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["slug"] == "lead-sync")
            .unwrap()
            .clone();
        assert_eq!(sync["criticality"], "revenue-critical");
        assert_eq!(sync["timezone"], "America/Chicago");

        let again = upload(&api, path, "application/json", HC_EXPORT)
            .await
            .expect(StatusCode::OK);
        assert_eq!(again.body["created"].as_array().unwrap().len(), 0);
        assert_eq!(
            again.body["skipped"].as_array().unwrap().len(),
            2,
            "importing again is safe"
        );

        let csv = "name,period,grace,workflow\nInvoices,1h,10m,\"Stripe, then Xero\"\nBroken,soon,1m,\nAlso broken,,1m,\n";
        let bad = upload(&api, path, "text/csv", csv)
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.field_error("row 2 period").is_some(), "{:#?}", bad.body);
        assert!(bad.field_error("row 3 period").is_some(), "{:#?}", bad.body);
        assert_eq!(
            api.get("/checks").await.body["total"].as_i64().unwrap(),
            2,
            "one bad row and nothing is added"
        );
        let good = upload(
            &api,
            path,
            "text/csv",
            "name,period,grace,workflow\nInvoices,1h,10m,\"Stripe, then Xero\"\n",
        )
        .await
        .expect(StatusCode::OK);
        assert_eq!(good.body["created"][0]["slug"], "invoices");
        assert_eq!(api.get("/checks").await.body["total"].as_i64().unwrap(), 3);

        let unreadable = upload(&api, path, "text/csv", "name,colour\nx,red\n")
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unreadable.body["detail"]
            .as_str()
            .unwrap()
            .contains("colour"));
        upload(&api, path, "text/plain", "x")
            .await
            .expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        upload(&api, "/clients/nobody/checks/import", "text/csv", "name\n")
            .await
            .expect(StatusCode::NOT_FOUND);
    }
);

story!(
    a_heartbeat_is_edited_and_its_new_schedule_takes_effect,
    |api: Api| async move {
        acme(&api).await;
        let added = api
            .post(
                "/checks",
                json!({"client": "acme", "name": "Lead sync", "period": "5m", "grace": "1m"}),
            )
            .await
            .expect(StatusCode::CREATED);
        let uuid = added.body["uuid"].as_str().unwrap().to_string();
        let path = format!("/checks/{uuid}");
        let edited = api
            .patch(&path, json!({"name": "Lead sync (HubSpot)", "grace": "10m", "criticality": "revenue-critical"}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(edited.body["name"], "Lead sync (HubSpot)");
        assert_eq!(edited.body["grace_ms"], 600_000);
        assert_eq!(edited.body["schedule"], "every 5m", "not sent, kept");
        assert_eq!(
            edited.body["slug"], "lead-sync",
            "the slug stays unless sent"
        );

        let both = api
            .patch(&path, json!({"cron": "0 9 * * 1-5"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(both.field_error("cron").is_some(), "{:#?}", both.body);
        let cron = api
            .patch(
                &path,
                json!({"cron": "0 9 * * 1-5", "timezone": "Europe/Berlin", "period": null}),
            )
            .await
            .expect(StatusCode::OK);
        assert_eq!(cron.body["cron"], "0 9 * * 1-5");
        assert_eq!(cron.body["period_ms"], serde_json::Value::Null);
        api.patch(&path, json!({"client": "other"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        api.patch(&path, json!({"grace": "soon"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        let read = api.read.clone();
        api.call_as(
            &read,
            axum::http::Method::PATCH,
            &path,
            Some(json!({"name": "x"})),
        )
        .await
        .expect(StatusCode::FORBIDDEN);

        let stream = api
            .post(
                "/checks",
                json!({"client": "acme", "name": "New leads", "kind": "event-stream"}),
            )
            .await
            .expect(StatusCode::CREATED);
        let stream_uuid = stream.body["uuid"].as_str().unwrap();
        api.patch(&format!("/checks/{stream_uuid}"), json!({"name": "Leads"}))
            .await
            .expect(StatusCode::CONFLICT);
        let audit = api.get("/audit?entity=check").await.expect(StatusCode::OK);
        assert!(audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["summary"] == "edited check \"Lead sync (HubSpot)\""));
    }
);

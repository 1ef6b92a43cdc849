//! The hour bank API through the real router: logging time, the bank, the sheet (JSON
//! and CSV), adjustments, billing and the month close. Every error is problem JSON.

use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use serde_json::json;
use tower::ServiceExt;

#[macro_use]
mod common;

use common::api::Api;

impl Api {
    /// A GROWTH client with one ticket; returns the ticket's number.
    async fn growth_client_with_ticket(&self) -> i64 {
        self.post(
            "/clients",
            json!({"name": "Acme", "slug": "acme", "timezone": "America/Chicago",
                   "contract": {"plan": "GROWTH"}}),
        )
        .await
        .expect(StatusCode::CREATED);
        self.post("/tickets", json!({"client": "acme", "title": "Email sync"}))
            .await
            .expect(StatusCode::CREATED)
            .body["number"]
            .as_i64()
            .unwrap()
    }

    /// A GET whose answer is not JSON: status, content type and text.
    async fn get_text(&self, path: &str) -> (StatusCode, String, String) {
        let request = self
            .request(Method::GET, path, Some(&self.write.clone()))
            .body(Body::empty())
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let kind = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, kind, String::from_utf8_lossy(&bytes).into_owned())
    }
}

story!(
    time_logged_through_the_api_draws_the_bank_and_asks_for_a_choice_after_100_percent,
    |api: Api| async move {
        let t = api.growth_client_with_ticket().await;
        let path = format!("/tickets/{t}/time");
        let first = api
            .post(
                &path,
                json!({"duration": "7h30m", "work_type": "bug-fix", "note": "sync"}),
            )
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(
            first.header(header::LOCATION),
            format!("/api/v1/tickets/{t}/time")
        );
        assert_eq!(first.body["alerts"][0]["threshold"], "75-percent");
        assert_eq!(first.body["alerts"][0]["remaining"], 150);
        api.post(&path, json!({"duration": 150, "work_type": "minor config"}))
            .await
            .expect(StatusCode::CREATED);
        let asked = api
            .post(&path, json!({"duration": "1h", "work_type": "bug-fix"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            asked.field_error("after_limit").is_some(),
            "{:#?}",
            asked.body
        );
        let over = api
            .post(
                &path,
                json!({"duration": "20m", "work_type": "bug-fix", "after_limit": "overage"}),
            )
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(over.body["overage"], 30, "20 minutes bill as 30");
        assert_eq!(over.body["entry"]["actual"], 20);

        let bad = api
            .post(&path, json!({"duration": "1h1h", "work_type": "gardening"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.field_error("duration").is_some(), "{:#?}", bad.body);
        let unknown = api
            .post(&path, json!({"duration": "1h", "work_type": "gardening"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            unknown.field_error("work_type").is_some(),
            "{:#?}",
            unknown.body
        );
        let read = api.read.clone();
        api.call_as(
            &read,
            Method::POST,
            &path,
            Some(json!({"duration": "1h", "work_type": "bug-fix"})),
        )
        .await
        .expect(StatusCode::FORBIDDEN);
        api.post(
            "/tickets/99/time",
            json!({"duration": "1h", "work_type": "bug-fix"}),
        )
        .await
        .expect(StatusCode::NOT_FOUND);

        let listed = api.get(&path).await.expect(StatusCode::OK);
        assert_eq!(listed.body.as_array().unwrap().len(), 3);
        let bank = api.get("/clients/acme/hours").await.expect(StatusCode::OK);
        assert_eq!(bank.body["summary"]["available"], 600);
        assert_eq!(bank.body["summary"]["overage"], 30);
        assert_eq!(bank.body["forecast"]["forecast"], "already-out");
        assert_eq!(
            bank.body["alerts_fired"].as_array().unwrap().len(),
            2,
            "{:#?}",
            bank.body
        );
        api.get("/clients/nobody/hours")
            .await
            .expect(StatusCode::NOT_FOUND);
        api.get("/clients/acme/hours?period=soon")
            .await
            .expect(StatusCode::BAD_REQUEST);
    }
);

story!(
    the_sheet_adjustments_billing_and_month_close_answer_in_json_and_csv,
    |api: Api| async move {
        let t = api.growth_client_with_ticket().await;
        api.post(
            &format!("/tickets/{t}/time"),
            json!({"duration": "90m", "work_type": "bug-fix", "note": "fixed, then checked"}),
        )
        .await
        .expect(StatusCode::CREATED);
        api.post(
            &format!("/tickets/{t}/time"),
            json!({"duration": "1h", "work_type": "new-feature"}),
        )
        .await
        .expect(StatusCode::CREATED);

        let sheet = api
            .get("/clients/acme/hours/sheet")
            .await
            .expect(StatusCode::OK);
        assert_eq!(sheet.body["rows"][1]["running_total"], 150);
        let (status, kind, csv) = api.get_text("/clients/acme/hours/sheet.csv").await;
        assert_eq!(status, StatusCode::OK);
        assert!(kind.starts_with("text/csv"), "{kind}");
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(csv.contains("\"fixed, then checked\""), "{csv}");

        let adjustments = "/clients/acme/hours/adjustments";
        // Adjustments are an owner's: a write token is refused, with the way out.
        let refused = api
            .post(adjustments, json!({"minutes": "+2h", "reason": "goodwill"}))
            .await
            .expect(StatusCode::FORBIDDEN);
        assert!(refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("scope owner"));
        let owner = api.as_owner();
        let no_reason = owner
            .post(adjustments, json!({"minutes": "+2h", "reason": " "}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_reason.field_error("reason").is_some());
        let adjusted = owner
            .post(adjustments, json!({"minutes": "+2h", "reason": "goodwill"}))
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(adjusted.body["summary"]["available"], 720);
        let too_much = owner
            .post(
                adjustments,
                json!({"minutes": "-100h", "reason": "mistake"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(too_much.field_error("minutes").is_some());

        let start = adjusted.body["period"]["start"]
            .as_str()
            .unwrap()
            .to_string();
        let month = &start[..7];
        let billing = api
            .get(&format!("/billing?period={month}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(billing.body["lines"][0]["total"], 120_000 + 15_000);
        assert_eq!(billing.body["total"], 120_000 + 15_000);
        let (status, kind, csv) = api
            .get_text(&format!("/billing?period={month}&format=csv"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(kind.starts_with("text/csv"));
        assert_eq!(
            csv.lines().count(),
            6,
            "a header and five line items: {csv}"
        );
        api.get("/billing").await.expect(StatusCode::BAD_REQUEST);
        api.get(&format!("/billing?period={month}&format=xml"))
            .await
            .expect(StatusCode::BAD_REQUEST);

        let preview = api
            .call(Method::POST, "/month-close?dry_run=true", None)
            .await
            .expect(StatusCode::OK);
        assert_eq!(preview.body["dry_run"], true);
        assert_eq!(preview.body["closed"].as_array().unwrap().len(), 0);
        let read = api.read.clone();
        api.call_as(&read, Method::POST, "/month-close", None)
            .await
            .expect(StatusCode::FORBIDDEN);

        let doc = api.get("/openapi.json").await.expect(StatusCode::OK);
        for path in [
            "/tickets/{number}/time",
            "/clients/{slug}/hours",
            "/clients/{slug}/hours/sheet.csv",
            "/clients/{slug}/hours/adjustments",
            "/billing",
            "/month-close",
        ] {
            assert!(doc.body["paths"][path].is_object(), "{path} is documented");
        }
    }
);

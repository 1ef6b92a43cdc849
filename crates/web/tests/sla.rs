//! SLA attainment and holiday imports through the real router: the API (on SQLite, and
//! on PostgreSQL when `TEND_TEST_POSTGRES_URL` is set) and the staff UI.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;
use tend_domain::client::ClientDraft;
use tend_domain::contract::ContractDraft;
use tend_domain::ticket::TicketDraft;
use tend_store::tickets::Visibility;
use tend_store::{Actor, Store};
use tower::ServiceExt;

#[macro_use]
mod common;

use common::api::{Api, Reply};

/// Acme on GROWTH with one P1 ticket answered at once: a first response met today.
async fn acme_with_an_answered_ticket(store: &Store) {
    let actor = Actor::system("test");
    let client = ClientDraft {
        name: "Acme Dental".into(),
        slug: "acme".into(),
        timezone: "America/Chicago".into(),
        holidays: "2027-12-25 Office closed".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let contract = ContractDraft {
        plan: "GROWTH".into(),
        ..Default::default()
    }
    .parse(jiff::civil::date(2026, 1, 1))
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    let id = store.insert_client(&mut tx, &actor, &client).await.unwrap();
    store
        .insert_contract(&mut tx, &actor, id, &contract)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let ticket = TicketDraft {
        client: "acme".into(),
        title: "Leads stopped syncing".into(),
        severity: "p1".into(),
        ..Default::default()
    };
    let t = store
        .create_ticket(&actor, &ticket.parse().unwrap())
        .await
        .unwrap();
    store
        .add_message(&actor, None, t.number, Visibility::Public, "On it")
        .await
        .unwrap();
}

/// Next year's Christmas (already listed) and Boxing Day, as a calendar tool writes them.
fn holidays_ics() -> String {
    let next = jiff::Zoned::now().year() + 1;
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n\
         BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:{next}1225\r\nSUMMARY:Christmas Day\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:{next}1226\r\nSUMMARY:Boxing\r\n  Day\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n"
    )
}

impl Api {
    async fn ics(&self, token: &str, path: &str, content_type: &str, body: String) -> Reply {
        let request = self
            .request(Method::POST, path, Some(token))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }
}

story!(
    attainment_is_grouped_as_asked_and_bad_parameters_are_problems,
    |api: Api| async move {
        acme_with_an_answered_ticket(&api.store).await;
        let by_client = api
            .get("/attainment?by=client&period=month")
            .await
            .expect(StatusCode::OK);
        let b = &by_client.body;
        assert_eq!(b["by"], "client");
        assert_eq!(b["totals"][0]["group"], "acme");
        assert_eq!(b["totals"][0]["response"]["met"], 1);
        assert_eq!(b["totals"][0]["response"]["share"], 1.0);
        assert_eq!(b["totals"][0]["resolution"]["total"], 0);
        assert!(b["totals"][0]["resolution"]["share"].is_null());
        assert_eq!(b["rows"].as_array().unwrap().len(), 1);
        assert_eq!(b["overall"]["response"]["total"], 1);

        let by_severity = api
            .get("/attainment?by=severity&period=quarter&client=acme")
            .await
            .expect(StatusCode::OK);
        assert_eq!(by_severity.body["totals"][0]["group"], "p1");
        assert!(by_severity.body["rows"][0]["period"]["label"]
            .as_str()
            .unwrap()
            .contains("-Q"));

        let empty = api
            .get("/attainment?from=2020-01-01&to=2020-03-31")
            .await
            .expect(StatusCode::OK);
        assert_eq!(empty.body["rows"], json!([]));
        assert_eq!(empty.body["range"]["from"], "2020-01-01");

        for (query, field) in [
            ("by=team", "by"),
            ("period=day", "period"),
            ("from=2026-13-01", "from"),
            ("from=2026-03-01&to=2026-02-01", "from"),
            ("from=2020-01-01&to=2026-01-01", "from"),
            ("client=nope", "client"),
            ("limit=5", "limit"),
        ] {
            let bad = api
                .get(&format!("/attainment?{query}"))
                .await
                .expect(StatusCode::BAD_REQUEST);
            assert!(bad.field_error(field).is_some(), "{query}: {:#?}", bad.body);
        }
        api.call_as(&api.read.clone(), Method::GET, "/attainment", None)
            .await
            .expect(StatusCode::OK);

        let doc = api.get("/openapi.json").await.expect(StatusCode::OK);
        assert!(doc.body["paths"]["/attainment"]["get"].is_object());
        let import = &doc.body["paths"]["/clients/{slug}/holidays/import"]["post"];
        assert!(import["requestBody"]["content"]["text/calendar"].is_object());
        assert!(import["responses"]["415"]["description"]
            .as_str()
            .unwrap()
            .contains("text/calendar"));
    }
);

story!(
    an_ics_import_adds_new_dates_keeps_existing_names_and_can_be_previewed,
    |api: Api| async move {
        acme_with_an_answered_ticket(&api.store).await;
        let next = jiff::Zoned::now().year() + 1;
        let write = api.write.clone();
        let path = "/clients/acme/holidays/import";

        let preview = api
            .ics(
                &write,
                &format!("{path}?dry_run=true"),
                "text/calendar",
                holidays_ics(),
            )
            .await
            .expect(StatusCode::OK);
        assert_eq!(preview.body["dry_run"], true);
        assert_eq!(preview.body["added"][0]["name"], "Boxing Day");
        assert_eq!(preview.body["holidays"].as_array().unwrap().len(), 2);
        let stored = api.get("/clients/acme").await.expect(StatusCode::OK);
        assert_eq!(
            stored.body["holidays"].as_array().unwrap().len(),
            1,
            "a dry run saves nothing"
        );

        let done = api
            .ics(&write, path, "text/calendar; charset=utf-8", holidays_ics())
            .await
            .expect(StatusCode::OK);
        assert_eq!(done.body["dry_run"], false);
        assert_eq!(
            done.body["holidays"],
            json!([
                {"date": format!("{next}-12-25"), "name": "Office closed"},
                {"date": format!("{next}-12-26"), "name": "Boxing Day"},
            ])
        );
        assert_eq!(done.body["already_listed"][0]["name"], "Christmas Day");
        let audit = api.get("/clients/acme/audit").await.expect(StatusCode::OK);
        assert!(audit.body["items"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("added 1 holiday to Acme Dental"));

        let bad = api
            .ics(&write, path, "text/calendar", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026xx25\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".into())
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad
            .field_error("body")
            .unwrap()
            .starts_with("line 3: DTSTART"));
        api.ics(&write, path, "application/json", holidays_ics())
            .await
            .expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        api.ics(
            &write,
            &format!("{path}?dry_run=maybe"),
            "text/calendar",
            holidays_ics(),
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
        api.ics(&api.read.clone(), path, "text/calendar", holidays_ics())
            .await
            .expect(StatusCode::FORBIDDEN);
        api.ics(
            &write,
            "/clients/nope/holidays/import",
            "text/calendar",
            holidays_ics(),
        )
        .await
        .expect(StatusCode::NOT_FOUND);
    }
);

mod ui {
    use super::*;
    use common::ui::{app, enc};

    /// A multipart form as a browser sends it: the CSRF token, then the file.
    fn upload(csrf: &str, file_name: &str, content: &str) -> (String, String) {
        let boundary = "----tendboundary7MA4YWxk";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"ics\"; filename=\"{file_name}\"\r\n\
             Content-Type: text/calendar\r\n\r\n{content}\r\n--{boundary}--\r\n"
        );
        (format!("multipart/form-data; boundary={boundary}"), body)
    }

    async fn post_upload(
        app: &common::ui::App,
        path: &str,
        cookie: &str,
        (content_type, body): (String, String),
    ) -> (StatusCode, String) {
        let req = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        let res = app.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn the_sla_page_and_the_client_page_show_attainment_and_a_bad_filter_is_shown_on_the_form(
    ) {
        let app = app().await;
        acme_with_an_answered_ticket(&app.store).await;
        let (session, _) = app.sign_in("owner%40agency.test").await;
        let page = app.send("GET", "/sla", &session, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("href=\"/sla\" aria-current=\"page\""));
        assert!(page.body.contains("<a href=\"/clients/acme\">acme</a>"));
        assert!(page.body.contains("100 %") && page.body.contains("1 of 1 met"));
        assert!(page.body.contains("value=\"client\" selected"));

        let by_plan = app
            .send("GET", "/sla?by=plan&period=week", &session, None)
            .await;
        assert!(by_plan.body.contains(">GROWTH</h2>"), "{}", by_plan.body);
        assert!(by_plan.body.contains("-W"));

        let bad = app
            .send("GET", "/sla?from=2026-02-30&by=team", &session, None)
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("id=\"from-error\""));
        assert!(bad.body.contains("is not a date like 2026-03-01"));
        assert!(bad.body.contains("id=\"by-error\""));
        assert!(
            bad.body.contains("value=\"2026-02-30\""),
            "what was typed is kept"
        );

        let client = app.send("GET", "/clients/acme", &session, None).await;
        assert!(client.body.contains("SLA attainment"));
        assert!(client.body.contains("1 of 1 met"), "{}", client.body);
        assert!(client.body.contains("/sla?by=client&amp;client=acme"));
    }

    #[tokio::test]
    async fn holidays_from_an_ics_file_are_previewed_then_added_and_audited() {
        let app = app().await;
        acme_with_an_answered_ticket(&app.store).await;
        let next = jiff::Zoned::now().year() + 1;
        let (session, csrf) = app.sign_in("owner%40agency.test").await;
        let edit = app.send("GET", "/clients/acme/edit", &session, None).await;
        assert!(edit.body.contains("Import holidays from .ics"));
        assert!(edit.body.contains("enctype=\"multipart/form-data\""));

        let (status, preview) = post_upload(
            &app,
            "/clients/acme/holidays/import",
            &session,
            upload(&csrf, "C:\\exports\\us-holidays.ics", &holidays_ics()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        assert!(preview.contains("us-holidays.ics") && !preview.contains("exports"));
        assert!(preview.contains("1 date to add"));
        assert!(preview.contains(&format!("{next}-12-26")) && preview.contains("Boxing Day"));
        assert!(preview.contains("Already listed") && preview.contains("Office closed"));
        let unchanged = app.send("GET", "/clients/acme", &session, None).await;
        assert!(
            !unchanged.body.contains("Boxing Day"),
            "a preview saves nothing"
        );

        let confirm = format!(
            "csrf={csrf}&file=us-holidays.ics&holidays={}",
            enc(&format!("{next}-12-26 Boxing Day"))
        );
        let added = app
            .send("POST", "/clients/acme/holidays", &session, Some(confirm))
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        assert_eq!(added.location.as_deref(), Some("/clients/acme"));
        let client = app.send("GET", "/clients/acme", &session, None).await;
        assert!(client.body.contains(&format!("{next}-12-26 Boxing Day")));
        assert!(client.body.contains(&format!("{next}-12-25 Office closed")));
        assert!(client
            .body
            .contains("added 1 holiday to Acme Dental from us-holidays.ics"));

        let (status, refused) = post_upload(
            &app,
            "/clients/acme/holidays/import",
            &session,
            upload(
                &csrf,
                "broken.ics",
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n",
            ),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.contains("broken.ics cannot be read: line 3: END:VCALENDAR does not close BEGIN:VEVENT (line 2)"),
            "{refused}"
        );
        let (status, _) = post_upload(
            &app,
            "/clients/acme/holidays/import",
            &session,
            upload("forged", "x.ics", &holidays_ics()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let (viewer, viewer_csrf) = app.sign_in("viewer%40agency.test").await;
        let (status, _) = post_upload(
            &app,
            "/clients/acme/holidays/import",
            &viewer,
            upload(&viewer_csrf, "x.ics", &holidays_ics()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

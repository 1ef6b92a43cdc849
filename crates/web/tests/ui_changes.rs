//! Change records and releases in the staff UI through the real router, as a person
//! would use them: plan a release, record a ticket's change, see the release refuse to
//! go out until QA passed before and after release, confirm it, download the notes.

use axum::http::StatusCode;

mod common;

use common::ui::{app, enc, App};

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl App {
    async fn post_form(
        &self,
        session: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> common::ui::Response {
        self.send("POST", path, session, Some(form(fields))).await
    }
}

#[tokio::test]
async fn a_release_goes_out_only_once_its_changes_passed_qa_and_its_notes_can_be_downloaded() {
    let app = app().await;
    let (session, csrf) = app.sign_in("owner%40agency.test").await;
    let res = app
        .post_form(
            &session,
            "/clients",
            &[
                ("csrf", &csrf),
                ("name", "Acme Dental"),
                ("slug", "acme"),
                ("timezone", "America/Chicago"),
                ("plan", "GROWTH"),
                ("support_model", "monthly-retainer"),
                ("billing_period", "monthly"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let res = app
        .post_form(
            &session,
            "/tickets",
            &[
                ("csrf", &csrf),
                ("client", "acme"),
                ("title", "Bookings <stopped> syncing"),
            ],
        )
        .await;
    assert_eq!(res.location.as_deref(), Some("/tickets/1"));

    let list = app.send("GET", "/releases", &session, None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body
            .contains("href=\"/releases\" aria-current=\"page\""),
        "the nav marks Releases"
    );
    assert!(list.body.contains("No releases yet"));
    let mistakes = app
        .post_form(
            &session,
            "/releases",
            &[
                ("csrf", &csrf),
                ("client", "acme"),
                ("name", ""),
                ("planned_for", "friday"),
            ],
        )
        .await;
    assert_eq!(mistakes.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mistakes.body.contains("id=\"name-error\""));
    assert!(mistakes.body.contains("id=\"planned_for-error\""));
    assert!(
        mistakes.body.contains("value=\"acme\" selected"),
        "the client chosen stays chosen"
    );
    let planned = app
        .post_form(
            &session,
            "/releases",
            &[
                ("csrf", &csrf),
                ("client", "acme"),
                ("name", "November window"),
                ("planned_for", "2026-11-20"),
            ],
        )
        .await;
    assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.body);
    let release = planned.location.unwrap();
    let id = release.trim_start_matches("/releases/").to_string();

    let ticket = app.send("GET", "/tickets/1", &session, None).await;
    assert!(ticket.body.contains("No change recorded yet"));
    assert!(
        ticket.body.contains(&format!(
            "<option value=\"{id}\" >November window (planned for 2026-11-20)</option>"
        )),
        "{}",
        ticket.body
    );
    let mistakes = app
        .post_form(
            &session,
            "/tickets/1/change",
            &[
                ("csrf", &csrf),
                ("what_changed", ""),
                ("systems_touched", "GoHighLevel, Zapier"),
                ("qa_before_result", "pass"),
                ("qa_after_result", "not-run"),
                ("release_id", &id),
            ],
        )
        .await;
    assert_eq!(mistakes.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mistakes.body.contains("id=\"what_changed-error\""));
    assert!(mistakes.body.contains("id=\"qa_before_path-error\""));
    assert!(
        mistakes.body.contains("GoHighLevel, Zapier"),
        "what was typed is kept"
    );
    let change = [
        ("csrf", csrf.as_str()),
        (
            "what_changed",
            "The booking webhook sends the rotated secret",
        ),
        ("systems_touched", "GoHighLevel, Zapier"),
        (
            "qa_before_path",
            "Submit a staging booking; the contact appears",
        ),
        ("qa_before_result", "pass"),
        (
            "qa_after_path",
            "Submit a live booking; the contact appears",
        ),
        ("qa_after_result", "not-run"),
        ("release_id", id.as_str()),
        ("client_notes", "Bookings reach your CRM again."),
    ];
    let saved = app.post_form(&session, "/tickets/1/change", &change).await;
    assert_eq!(saved.location.as_deref(), Some("/tickets/1#change"));

    let page = app.send("GET", &release, &session, None).await;
    assert!(page.body.contains("Not ready to release"), "{}", page.body);
    assert!(page.body.contains("#1 after release: not run"));
    assert!(page
        .body
        .contains("Release notes: Acme Dental — November window"));
    assert!(
        page.body.contains("#1 Bookings &#60;stopped&#62; syncing"),
        "typed text is escaped"
    );
    let confirm = app
        .send("GET", &format!("{release}/release"), &session, None)
        .await;
    assert!(confirm
        .body
        .contains("Not yet: a release goes out only when every change in it passed QA"));
    assert!(!confirm
        .body
        .contains("<button class=\"primary\" type=\"submit\">Mark released</button>"));
    let refused = app
        .post_form(&session, &format!("{release}/release"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"release-error\""));

    let mut passed = change;
    passed[6] = ("qa_after_result", "pass");
    app.post_form(&session, "/tickets/1/change", &passed).await;
    let confirm = app
        .send("GET", &format!("{release}/release"), &session, None)
        .await;
    assert!(
        confirm
            .body
            .contains("<button class=\"primary\" type=\"submit\">Mark released</button>"),
        "{}",
        confirm.body
    );
    let released = app
        .post_form(&session, &format!("{release}/release"), &[("csrf", &csrf)])
        .await;
    assert_eq!(released.location.as_deref(), Some(release.as_str()));
    let page = app.send("GET", &release, &session, None).await;
    assert!(page.body.contains("badge release-released"));
    assert!(
        !page.body.contains(&format!("href=\"{release}/release\"")),
        "no second release"
    );
    let ticket = app.send("GET", "/tickets/1", &session, None).await;
    assert!(ticket.body.contains("is kept as it went out"));
    assert!(
        !ticket.body.contains("action=\"/tickets/1/change\""),
        "a released change has no form"
    );

    let md = app
        .send("GET", &format!("{release}/notes.md"), &session, None)
        .await;
    assert_eq!(md.status, StatusCode::OK);
    assert!(md
        .body
        .starts_with("# Release notes: Acme Dental — November window\n\nReleased "));
    assert!(md
        .body
        .contains("- Verified after release: Submit a live booking; the contact appears (pass)"));

    let (viewer, _) = app.sign_in("viewer%40agency.test").await;
    let page = app.send("GET", &release, &viewer, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let list = app.send("GET", "/releases", &viewer, None).await;
    assert!(list.body.contains("November window") && !list.body.contains("Plan a release"));
}

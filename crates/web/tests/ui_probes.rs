//! The HTTP probe form and a probe's page through the real router: a probe is added
//! from the form, a literal credential header is refused on the form, and the page
//! shows the settings and the recent results.

use axum::http::StatusCode;
use tend_domain::probe::{ProbeFailure, ProbeVerdict};
use tend_store::probes::ProbeRun;

mod common;

use common::ui::{app, enc};

#[tokio::test]
async fn a_probe_is_added_from_the_form_and_its_page_shows_settings_and_results() {
    let app = app().await;
    app.insert_client("Acme Dental", "acme", "UTC").await;
    let (session, csrf) = app.sign_in("owner@agency.test").await;

    let form = app
        .send("GET", "/checks/probes/new?client=acme", &session, None)
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("${env:TEND_PROBE_ACME_TOKEN}"));

    let refused = app
        .send(
            "POST",
            "/checks/probes",
            &session,
            Some(format!(
                "csrf={csrf}&client=acme&name=API&url={}&headers={}&every=10s",
                enc("https://api.acme.example/health"),
                enc("Authorization: Bearer abc123")
            )),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("must name an environment variable"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("must be at least 30 s"));
    assert!(refused.body.contains("Nothing was saved"));

    let added = app
        .send(
            "POST",
            "/checks/probes",
            &session,
            Some(format!(
                "csrf={csrf}&client=acme&name={}&criticality=customer-facing&url={}&every=60s&expect=200&keyword=Welcome&max_latency=2s&headers={}",
                enc("Booking page"),
                enc("https://acme.example/book"),
                enc("Authorization: Bearer ${env:TEND_PROBE_ACME_TOKEN}")
            )),
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let location = added.location.unwrap();
    let uuid = location.trim_start_matches("/checks/");
    let check = app.store.check(uuid).await.unwrap();
    assert_eq!(check.kind, tend_domain::check::CheckKind::HttpProbe);

    app.store
        .record_probe_result(
            check.id,
            &ProbeRun {
                slot_at: 1_800_000_000_000,
                started_at: 1_800_000_000_250,
                latency_ms: Some(80),
                status: Some(503),
                verdict: ProbeVerdict::Down(ProbeFailure::WrongStatus {
                    expected: tend_domain::probe::ExpectedStatus::Code(200),
                    got: 503,
                }),
            },
            1_000,
        )
        .await
        .unwrap();
    let page = app.send("GET", &location, &session, None).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "GET https://acme.example/book",
        "status 200, with &#34;Welcome&#34; in the body, within 2 s",
        "Authorization: Bearer ${env:TEND_PROBE_ACME_TOKEN}",
        "expected 200, got 503",
        "250 ms",
    ] {
        let plain = text.replace("&#34;", "\"");
        assert!(
            page.body.contains(text)
                || page.body.contains(&plain)
                || page.body.contains(&text.replace("&#34;", "&quot;")),
            "{text}: {}",
            page.body
        );
    }
    assert!(!page.body.contains("Ping URL"), "a probe has no ping URL");
}

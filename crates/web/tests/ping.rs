//! The ping endpoints through the real router: every URL shape healthchecks.io
//! documents, with its status code and body, on both engines.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;
use tend_domain::check::{CheckDraft, CheckState};
use tend_domain::page::PageRequest;
use tend_store::checks::{Check, CheckFilter};
use tend_store::Actor;
use tower::ServiceExt;

#[macro_use]
mod common;

use common::api::Api;

const RID: &str = "123e4567-e89b-12d3-a456-426614174000";
const UNKNOWN: &str = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278";

struct Answer {
    status: StatusCode,
    body: String,
    body_limit: Option<String>,
    cors: Option<String>,
}

async fn send(api: &Api, method: Method, uri: &str, body: Vec<u8>) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::USER_AGENT, "curl/8.5")
        .body(Body::from(body))
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let body_limit = header("ping-body-limit");
    let cors = header("access-control-allow-origin");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        body_limit,
        cors,
    }
}

async fn get(api: &Api, uri: &str) -> Answer {
    send(api, Method::GET, uri, Vec::new()).await
}

async fn check(api: &Api) -> Check {
    api.post(
        "/clients",
        json!({"name": "Acme", "slug": "acme", "timezone": "UTC"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let input = CheckDraft {
        client: "acme".into(),
        name: "Lead sync".into(),
        period: "5m".into(),
        grace: "1m".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    api.store
        .create_check(&Actor::system("test"), &input)
        .await
        .unwrap()
}

async fn pings(api: &Api, check: &Check) -> Vec<tend_store::checks::Ping> {
    api.store
        .check_pings(check.id, PageRequest::new(Some(1), Some(100)))
        .await
        .unwrap()
        .items
}

story!(
    every_uuid_shape_answers_like_healthchecks,
    |api: Api| async move {
        let check = check(&api).await;
        let url = format!("/ping/{}", check.uuid);

        let ok = get(&api, &url).await;
        assert_eq!((ok.status, ok.body.as_str()), (StatusCode::OK, "OK"));
        assert_eq!(ok.body_limit.as_deref(), Some("100000"));
        assert_eq!(ok.cors.as_deref(), Some("*"));
        assert_eq!(
            api.store.check(&check.uuid).await.unwrap().state,
            CheckState::Up
        );

        for (suffix, method) in [
            ("/start", Method::GET),
            ("/log", Method::POST),
            ("/0", Method::HEAD),
            ("/fail", Method::POST),
        ] {
            let answer = send(
                &api,
                method.clone(),
                &format!("{url}{suffix}"),
                b"line".to_vec(),
            )
            .await;
            assert_eq!(answer.status, StatusCode::OK, "{method} {suffix}");
            if method != Method::HEAD {
                assert_eq!(answer.body, "OK", "{suffix}");
            }
        }
        assert_eq!(
            api.store.check(&check.uuid).await.unwrap().state,
            CheckState::Down,
            "/fail puts the check down"
        );
        let exit = get(&api, &format!("{url}/0")).await;
        assert_eq!(exit.status, StatusCode::OK);
        assert_eq!(
            api.store.check(&check.uuid).await.unwrap().state,
            CheckState::Up,
            "exit status 0 is a success"
        );
        get(&api, &format!("{url}/7")).await;
        assert_eq!(
            api.store.check(&check.uuid).await.unwrap().state,
            CheckState::Down,
            "a non-zero exit status is a failure"
        );

        let kinds: Vec<String> = pings(&api, &check)
            .await
            .into_iter()
            .rev()
            .map(|p| p.kind)
            .collect();
        assert_eq!(
            kinds,
            ["success", "start", "log", "exit", "fail", "exit", "exit"]
        );
        let logged = pings(&api, &check).await;
        let log = logged.iter().find(|p| p.kind == "log").unwrap();
        assert_eq!(log.body, "line");
        assert_eq!(log.method, "POST");
        assert_eq!(log.user_agent, "curl/8.5");
    }
);

story!(
    bad_and_unknown_urls_get_healthchecks_answers,
    |api: Api| async move {
        let check = check(&api).await;
        let url = format!("/ping/{}", check.uuid);

        let bad_exit = get(&api, &format!("{url}/256")).await;
        assert_eq!(
            (bad_exit.status, bad_exit.body.as_str()),
            (StatusCode::BAD_REQUEST, "invalid url format")
        );
        let bad_rid = get(&api, &format!("{url}?rid=not-a-uuid")).await;
        assert_eq!(
            (bad_rid.status, bad_rid.body.as_str()),
            (StatusCode::BAD_REQUEST, "invalid uuid format")
        );
        for missing in [
            format!("/ping/{UNKNOWN}"),
            format!("/ping/{UNKNOWN}/fail"),
            format!("{url}/stop"),
            "/ping/".to_string(),
            "/ping/nokey/no-such-slug".to_string(),
        ] {
            let answer = get(&api, &missing).await;
            assert_eq!(
                (answer.status, answer.body.as_str()),
                (StatusCode::NOT_FOUND, "not found"),
                "{missing}"
            );
        }
        assert!(pings(&api, &check).await.is_empty(), "nothing was stored");
    }
);

story!(run_ids_measure_durations, |api: Api| async move {
    let check = check(&api).await;
    let url = format!("/ping/{}", check.uuid);
    assert_eq!(
        get(&api, &format!("{url}/start?rid={RID}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&api, &format!("{url}?rid={RID}")).await.status,
        StatusCode::OK
    );
    let stored = pings(&api, &check).await;
    assert_eq!(stored[0].rid.as_deref(), Some(RID));
    assert_eq!(stored[1].rid.as_deref(), Some(RID));
    assert!(
        stored[0].duration_ms.is_some(),
        "the end of a run has its duration"
    );
});

story!(slug_urls_find_and_create_checks, |api: Api| async move {
    let check = check(&api).await;
    let key = api.store.client_ping_key(check.client_id).await.unwrap();

    let by_slug = get(&api, &format!("/ping/{key}/lead-sync")).await;
    assert_eq!(
        (by_slug.status, by_slug.body.as_str()),
        (StatusCode::OK, "OK")
    );
    for suffix in ["start", "fail", "log", "0"] {
        let answer = get(&api, &format!("/ping/{key}/lead-sync/{suffix}")).await;
        assert_eq!(answer.status, StatusCode::OK, "{suffix}");
    }
    assert_eq!(pings(&api, &check).await.len(), 5);

    let missing = get(&api, &format!("/ping/{key}/backups")).await;
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (StatusCode::NOT_FOUND, "not found")
    );
    let created = get(&api, &format!("/ping/{key}/backups?create=1")).await;
    assert_eq!(
        (created.status, created.body.as_str()),
        (StatusCode::CREATED, "Created")
    );
    let again = get(&api, &format!("/ping/{key}/backups?create=1")).await;
    assert_eq!((again.status, again.body.as_str()), (StatusCode::OK, "OK"));
    let wrong_key = get(&api, "/ping/not-our-key/backups?create=1").await;
    assert_eq!(wrong_key.status, StatusCode::NOT_FOUND);
    let total = api
        .store
        .checks(&CheckFilter::default(), PageRequest::default())
        .await
        .unwrap()
        .total;
    assert_eq!(total, 2);
});

story!(large_bodies_are_cut_not_refused, |api: Api| async move {
    let check = check(&api).await;
    let body = vec![b'x'; 300_000];
    let answer = send(
        &api,
        Method::POST,
        &format!("/ping/{}/log", check.uuid),
        body,
    )
    .await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "OK")
    );
    let stored = pings(&api, &check).await;
    assert_eq!(stored[0].body.len(), 100_000);
});

story!(concurrent_pings_are_all_stored, |api: Api| async move {
    let check = check(&api).await;
    let url = format!("/ping/{}", check.uuid);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let router = api.router.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let request = Request::builder().uri(url).body(Body::empty()).unwrap();
            router.oneshot(request).await.unwrap().status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(
        api.store.check(&check.uuid).await.unwrap().ping_count,
        50,
        "every ping that got a 200 is stored"
    );
});

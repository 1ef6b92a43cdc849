//! The tickets API and the backlog through the real router, as another tool would use
//! them. Every story runs on a fresh SQLite file, and on a fresh PostgreSQL database too
//! when `TEND_TEST_POSTGRES_URL` is set. Every error answer is checked to be problem
//! JSON (the harness is `tests/common/api.rs`).

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use tend_domain::email::Email;
use tend_domain::role::Role;
use tend_store::Actor;

#[macro_use]
mod common;

use common::api::{Api, Reply};

impl Reply {
    fn numbers(&self) -> Vec<i64> {
        self.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["number"].as_i64().unwrap())
            .collect()
    }

    fn missing_facts(&self) -> Vec<String> {
        self.body["missing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["fact"].as_str().unwrap().to_string())
            .collect()
    }
}

impl Api {
    /// A client (no contract needed for tickets).
    async fn client(&self, slug: &str) {
        self.post(
            "/clients",
            json!({"name": slug, "slug": slug, "timezone": "America/Chicago"}),
        )
        .await
        .expect(StatusCode::CREATED);
    }

    /// A staff user who can own tickets.
    async fn staff(&self, email: &str) {
        self.store
            .create_user(
                &Actor::system("test"),
                &Email::parse(email).unwrap(),
                "Sam",
                Role::Staff,
                "a long password",
            )
            .await
            .unwrap();
    }

    /// Opens a ticket and returns its number.
    async fn ticket(&self, body: Value) -> i64 {
        self.post("/tickets", body)
            .await
            .expect(StatusCode::CREATED)
            .body["number"]
            .as_i64()
            .unwrap()
    }

    async fn status(&self, number: i64, status: &str) -> Reply {
        self.post(
            &format!("/tickets/{number}/status"),
            json!({ "status": status }),
        )
        .await
    }
}

story!(
    a_created_ticket_answers_201_with_its_location_and_what_it_still_lacks,
    |api: Api| async move {
        api.client("acme").await;
        let reply = api
            .post(
                "/tickets",
                json!({"client": "acme", "title": "Booking form stopped creating contacts",
                       "severity": "P1", "launch_deadline": "2026-11-01"}),
            )
            .await
            .expect(StatusCode::CREATED);
        let number = reply.body["number"].as_i64().unwrap();
        assert_eq!(
            reply.header(header::LOCATION),
            format!("/api/v1/tickets/{number}")
        );
        assert_eq!(reply.body["status"], "new");
        assert_eq!(
            reply.body["source"], "api",
            "a ticket opened here came by API"
        );
        assert_eq!(reply.body["severity"], "p1");
        assert_eq!(reply.body["blocked_by"], "");
        assert_eq!(
            reply.missing_facts(),
            ["owner", "dependency", "expected-outcome", "next-action"]
        );
        assert_eq!(reply.body["missing"][0]["field"], "owner_email");

        let shown = api
            .get(&format!("/tickets/{number}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            shown.body["title"],
            "Booking form stopped creating contacts"
        );
        assert_eq!(shown.body["client_slug"], "acme");
        assert_eq!(shown.body["launch_deadline"], "2026-11-01");
        assert_eq!(shown.body["history"][0]["kind"], "created");
        assert_eq!(shown.body["history"][0]["actor"], "token ci");
        assert_eq!(shown.body["messages"], json!([]));
        assert_eq!(shown.body["post_mortem"], Value::Null);
        let ack = shown.body["moves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["status"] == "acknowledged")
            .unwrap();
        assert_eq!(ack["allowed"], true);

        // The creation is audited under the token's name, on the client's log.
        let audit = api.get("/clients/acme/audit").await.expect(StatusCode::OK);
        let entry = audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["entity"] == "ticket")
            .unwrap()
            .clone();
        assert_eq!(entry["actor_label"], "token ci");
    }
);

story!(
    invalid_fields_are_each_named_with_422_and_nothing_is_stored,
    |api: Api| async move {
        api.client("acme").await;
        let reply = api
            .post(
                "/tickets",
                json!({"client": "acme", "title": " ", "severity": "p9",
                       "blocked_by": "#3, soon", "launch_deadline": "next friday"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.field_error("title").as_deref(), Some("is required"));
        for field in ["severity", "blocked_by", "launch_deadline"] {
            assert!(reply.field_error(field).is_some(), "{field}: {reply:#?}");
        }
        let reply = api
            .post(
                "/tickets",
                json!({"client": "acme", "titel": "x", "severity": 1}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("titel").unwrap().contains("not a field"));
        api.post("/tickets", json!(["not", "an", "object"]))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        let reply = api
            .post(
                "/tickets",
                json!({"client": "acme", "title": "x", "owner_email": "nobody@agency.test"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply
            .field_error("owner_email")
            .unwrap()
            .contains("no staff user"));
        assert_eq!(
            api.get("/tickets").await.expect(StatusCode::OK).body["total"],
            0
        );
    }
);

story!(
    a_ticket_for_an_unknown_client_is_422_on_client,
    |api: Api| async move {
        let reply = api
            .post("/tickets", json!({"client": "nobody", "title": "Help"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            reply.field_error("client").as_deref(),
            Some("there is no client nobody")
        );
        let reply = api
            .post("/tickets", json!({"title": "Help"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("client").is_some());
    }
);

story!(
    an_unknown_ticket_is_404_on_every_path,
    |api: Api| async move {
        for path in [
            "/tickets/999",
            "/tickets/abc",
            "/tickets/0",
            "/tickets/999/messages",
        ] {
            let reply = api.get(path).await.expect(StatusCode::NOT_FOUND);
            assert!(reply.body["detail"].as_str().unwrap().contains("ticket"));
        }
        assert_eq!(
            api.get("/tickets/999").await.body["detail"],
            "there is no ticket #999"
        );
        api.patch("/tickets/999", json!({"title": "x"}))
            .await
            .expect(StatusCode::NOT_FOUND);
        api.put("/tickets/999", json!({"title": "x"}))
            .await
            .expect(StatusCode::NOT_FOUND);
        api.status(999, "acknowledged")
            .await
            .expect(StatusCode::NOT_FOUND);
        api.post(
            "/tickets/999/messages",
            json!({"body": "hi", "visibility": "public"}),
        )
        .await
        .expect(StatusCode::NOT_FOUND);
        api.put(
            "/tickets/999/post-mortem",
            json!({"root_cause": "a", "fix": "b", "prevention": "c", "monitoring_added": "d"}),
        )
        .await
        .expect(StatusCode::NOT_FOUND);
        // A path that names no resource and a method a path does not answer.
        api.get("/tickets/1/nothing")
            .await
            .expect(StatusCode::NOT_FOUND);
        api.call(Method::DELETE, "/tickets/1", None)
            .await
            .expect(StatusCode::METHOD_NOT_ALLOWED);
    }
);

story!(
    a_blocker_that_closes_a_cycle_is_422_on_blocked_by,
    |api: Api| async move {
        api.client("acme").await;
        let a = api.ticket(json!({"client": "acme", "title": "A"})).await;
        let b = api
            .ticket(json!({"client": "acme", "title": "B", "blocked_by": format!("#{a}")}))
            .await;
        let reply = api
            .patch(
                &format!("/tickets/{a}"),
                json!({"blocked_by": format!("#{b}")}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("blocked_by").is_some(), "{reply:#?}");
        let reply = api
            .patch(&format!("/tickets/{a}"), json!({"blocked_by": "#4242"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            reply.field_error("blocked_by").as_deref(),
            Some("there is no ticket #4242")
        );
        let shown = api
            .get(&format!("/tickets/{a}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(shown.body["blocked_by"], "", "nothing was half-written");
        let shown = api
            .get(&format!("/tickets/{b}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(shown.body["blocked_by"], format!("#{a}"));
    }
);

story!(
    patch_changes_only_what_it_names_and_put_replaces_the_rest,
    |api: Api| async move {
        api.client("acme").await;
        api.client("beta").await;
        api.staff("sam@agency.test").await;
        let n = api
            .ticket(
                json!({"client": "acme", "title": "Slow funnel", "severity": "p2",
                           "next_action": "Check the logs"}),
            )
            .await;
        let reply = api
            .patch(
                &format!("/tickets/{n}"),
                json!({"owner_email": "sam@agency.test", "blocked_by": "none",
                       "expected_outcome": "Pages load in 2s", "severity": null}),
            )
            .await
            .expect(StatusCode::OK);
        assert_eq!(reply.body["title"], "Slow funnel");
        assert_eq!(reply.body["next_action"], "Check the logs");
        assert_eq!(reply.body["owner"]["email"], "sam@agency.test");
        assert_eq!(reply.body["severity"], Value::Null);
        assert_eq!(reply.body["blocked_by"], "none");
        assert_eq!(reply.missing_facts(), ["priority"]);
        let history = reply.body["history"].as_array().unwrap();
        assert!(history
            .iter()
            .any(|e| e["kind"] == "severity" && e["from"] == "p2" && e["to"].is_null()));

        let reply = api
            .put(
                &format!("/tickets/{n}"),
                json!({"title": "Slow funnel, again"}),
            )
            .await
            .expect(StatusCode::OK);
        assert_eq!(reply.body["client_slug"], "acme", "PUT keeps the client");
        assert_eq!(reply.body["next_action"], "");
        assert_eq!(reply.body["owner"], Value::Null);
        assert_eq!(reply.body["source"], Value::Null);

        let reply = api
            .patch(&format!("/tickets/{n}"), json!({"client": "beta"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply
            .field_error("client")
            .unwrap()
            .contains("stays with its client"));
        api.patch(&format!("/tickets/{n}"), json!({"status": "closed"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
    }
);

story!(
    closing_a_p1_without_a_post_mortem_is_refused_with_the_reason_then_allowed_with_one,
    |api: Api| async move {
        api.client("acme").await;
        let n = api
            .ticket(json!({"client": "acme", "title": "Leads not routed", "severity": "p1"}))
            .await;
        let reply = api
            .status(n, "closed")
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply
            .field_error("status")
            .unwrap()
            .contains("must be resolved"));
        api.status(n, "ack").await.expect(StatusCode::OK);
        let reply = api
            .status(n, "waiting-on-client")
            .await
            .expect(StatusCode::OK);
        assert_eq!(reply.body["status"], "waiting-on-client");
        api.status(n, "resolved").await.expect(StatusCode::OK);
        let reply = api
            .status(n, "closed")
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        let reason = reply.field_error("status").unwrap();
        assert!(reason.contains("post-mortem"), "{reason}");
        let shown = api
            .get(&format!("/tickets/{n}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(shown.body["status"], "resolved");
        let close = shown.body["moves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["status"] == "closed")
            .unwrap()
            .clone();
        assert_eq!(close["allowed"], false);
        assert_eq!(close["reason"], reason.as_str());

        let reply = api
            .put(
                &format!("/tickets/{n}/post-mortem"),
                json!({"root_cause": "Rotated secret"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        for field in ["fix", "prevention", "monitoring_added"] {
            assert_eq!(reply.field_error(field).as_deref(), Some("is required"));
        }
        let pm = json!({"root_cause": "Webhook secret rotated", "fix": "Updated the secret",
                        "prevention": "Rotation checklist", "monitoring_added": "Heartbeat, 15 min grace"});
        let reply = api
            .put(&format!("/tickets/{n}/post-mortem"), pm.clone())
            .await
            .expect(StatusCode::OK);
        assert_eq!(reply.body, pm);
        let reply = api.status(n, "closed").await.expect(StatusCode::OK);
        assert_eq!(reply.body["status"], "closed");
        assert_eq!(reply.body["post_mortem"], pm);
        assert!(reply.body["closed_at"].as_i64().is_some());

        let reply = api
            .status(n, "sideways")
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("status").is_some());
        let reply = api
            .post(&format!("/tickets/{n}/status"), json!({}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.field_error("status").as_deref(), Some("is required"));
    }
);

story!(
    a_public_reply_is_the_first_response_and_an_internal_note_is_not,
    |api: Api| async move {
        api.client("acme").await;
        let n = api.ticket(json!({"client": "acme", "title": "Help"})).await;
        let path = format!("/tickets/{n}/messages");
        let reply = api
            .post(
                &path,
                json!({"body": "Looking now", "visibility": "internal"}),
            )
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(reply.body["visibility"], "internal");
        assert_eq!(reply.body["author"], "token ci");
        let shown = api
            .get(&format!("/tickets/{n}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(shown.body["first_response_at"], Value::Null);

        let reply = api
            .post(
                &path,
                json!({"body": "We are on it", "visibility": "public"}),
            )
            .await
            .expect(StatusCode::CREATED);
        let at = reply.body["created_at"].as_i64().unwrap();
        let shown = api
            .get(&format!("/tickets/{n}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(shown.body["first_response_at"], at);
        assert!(shown.body["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "public-reply"));
        assert_eq!(shown.body["messages"].as_array().unwrap().len(), 2);

        let reply = api
            .post(&path, json!({"body": "Second", "visibility": "public"}))
            .await
            .expect(StatusCode::CREATED);
        assert!(reply.body["created_at"].as_i64().unwrap() >= at);
        let shown = api
            .get(&format!("/tickets/{n}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(shown.body["first_response_at"], at, "only the first counts");

        let list = api
            .get(&format!("{path}?per_page=2"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(list.body["total"], 3);
        assert_eq!(list.body["items"][0]["body"], "Looking now");
        assert_eq!(list.body["items"].as_array().unwrap().len(), 2);

        let reply = api
            .post(&path, json!({"body": "  "}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.field_error("body").as_deref(), Some("is required"));
        assert!(reply.field_error("visibility").unwrap().contains("public"));
        let reply = api
            .post(&path, json!({"body": "x", "visibility": "everyone"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("visibility").is_some());
        api.get(&format!("{path}?sort=new"))
            .await
            .expect(StatusCode::BAD_REQUEST);
    }
);

story!(
    tickets_are_listed_newest_first_with_strict_filters,
    |api: Api| async move {
        api.client("acme").await;
        api.client("beta").await;
        api.staff("sam@agency.test").await;
        let complete = api
            .ticket(json!({"client": "acme", "title": "Complete", "severity": "p2",
                           "source": "email", "owner_email": "sam@agency.test", "blocked_by": "none",
                           "expected_outcome": "Works", "next_action": "Fix it"}))
            .await;
        let bare = api.ticket(json!({"client": "acme", "title": "Bare"})).await;
        let other = api
            .ticket(json!({"client": "beta", "title": "Other", "severity": "p0"}))
            .await;
        api.status(other, "resolved").await.expect(StatusCode::OK);

        let all = api.get("/tickets").await.expect(StatusCode::OK);
        assert_eq!(all.numbers(), [other, bare, complete]);
        // Five of six: the source is known, the ticket came by API.
        assert_eq!(all.body["items"][1]["missing"].as_array().unwrap().len(), 5);
        assert_eq!(all.body["items"][2]["missing"], json!([]));
        for (query, expected) in [
            ("client=acme", vec![bare, complete]),
            ("client=beta", vec![other]),
            ("owner=sam@agency.test", vec![complete]),
            ("status=resolved", vec![other]),
            ("status=done", vec![other]),
            ("severity=p0", vec![other]),
            ("open=true", vec![bare, complete]),
            ("incomplete=true", vec![other, bare]),
            ("open=true&incomplete=true&client=acme", vec![bare]),
            ("per_page=1&page=2", vec![bare]),
        ] {
            let reply = api
                .get(&format!("/tickets?{query}"))
                .await
                .expect(StatusCode::OK);
            assert_eq!(reply.numbers(), expected, "{query}");
        }
        for (query, field) in [
            ("client=nobody", "client"),
            ("owner=nobody@agency.test", "owner"),
            ("status=sideways", "status"),
            ("severity=p9", "severity"),
            ("open=false", "open"),
            ("open=yes", "open"),
            ("incomplete=false", "incomplete"),
            ("page=two", "page"),
            ("colour=red", "colour"),
        ] {
            let reply = api
                .get(&format!("/tickets?{query}"))
                .await
                .expect(StatusCode::BAD_REQUEST);
            assert!(reply.field_error(field).is_some(), "{query}: {reply:#?}");
        }
    }
);

story!(
    a_ticket_shows_its_sla_clocks_from_its_clients_plan,
    |api: Api| async move {
        api.post(
            "/clients",
            json!({"name": "Acme", "slug": "acme", "timezone": "America/Chicago",
                   "contract": {"plan": "GROWTH"}}),
        )
        .await
        .expect(StatusCode::CREATED);
        api.client("nocontract").await;
        let n = api
            .ticket(json!({"client": "acme", "title": "Leads delayed", "severity": "p1"}))
            .await;
        let shown = api
            .get(&format!("/tickets/{n}"))
            .await
            .expect(StatusCode::OK);
        let created = shown.body["created_at"].as_i64().unwrap();
        let clocks = shown.body["clocks"].as_array().unwrap().clone();
        let kinds: Vec<&str> = clocks.iter().map(|c| c["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["response", "resolution"], "{clocks:#?}");
        for clock in &clocks {
            assert_eq!(clock["state"], "running", "{clock:#?}");
            assert!(clock["due_at"].as_i64().unwrap() > created, "{clock:#?}");
            assert!(
                clock["target"].as_str().unwrap().contains("P1"),
                "{clock:#?}"
            );
        }

        api.post(
            &format!("/tickets/{n}/messages"),
            json!({"body": "On it", "visibility": "public"}),
        )
        .await
        .expect(StatusCode::CREATED);
        api.status(n, "waiting-on-client")
            .await
            .expect(StatusCode::OK);
        let shown = api
            .get(&format!("/tickets/{n}"))
            .await
            .expect(StatusCode::OK);
        let clock = |kind: &str| {
            shown.body["clocks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["kind"] == kind)
                .unwrap()
                .clone()
        };
        assert_eq!(clock("response")["state"], "met-in-time");
        assert_eq!(clock("resolution")["state"], "paused");
        assert_eq!(clock("resolution")["paused"], true);

        let other = api
            .ticket(json!({"client": "nocontract", "title": "No plan, no targets"}))
            .await;
        let shown = api
            .get(&format!("/tickets/{other}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(shown.body["clocks"], json!([]));
    }
);

story!(
    the_backlog_ranks_a_blocker_first_and_says_why,
    |api: Api| async move {
        api.client("acme").await;
        api.client("beta").await;
        let routine = api
            .ticket(json!({"client": "acme", "title": "Tidy the dashboard", "severity": "p3"}))
            .await;
        let urgent = api
            .ticket(
                json!({"client": "beta", "title": "Payments failing", "severity": "p0",
                           "business_risk": "high"}),
            )
            .await;
        let blocker = api
            .ticket(json!({"client": "acme", "title": "Renew the API key", "severity": "p3"}))
            .await;
        api.patch(
            &format!("/tickets/{urgent}"),
            json!({"blocked_by": format!("#{blocker}")}),
        )
        .await
        .expect(StatusCode::OK);
        let done = api
            .ticket(json!({"client": "acme", "title": "Done already", "severity": "p1"}))
            .await;
        api.status(done, "resolved").await.expect(StatusCode::OK);

        let backlog = api.get("/backlog").await.expect(StatusCode::OK);
        assert_eq!(backlog.numbers(), [blocker, urgent, routine]);
        let first = &backlog.body["items"][0];
        assert_eq!(first["position"], 1);
        assert_eq!(first["client"], "acme");
        assert_eq!(first["title"], "Renew the API key");
        assert_eq!(first["severity"], "p3");
        assert_eq!(first["ranked_as"], "p0");
        assert_eq!(first["blocks"], json!([urgent]));
        let reason = first["reason"].as_str().unwrap();
        assert!(
            reason.contains(&format!("blocks #{urgent} (P0")),
            "{reason}"
        );
        let second = &backlog.body["items"][1];
        assert_eq!(second["score"], 30);
        assert_eq!(second["waits_on"], json!([blocker]));
        assert!(second["reason"]
            .as_str()
            .unwrap()
            .contains("high business risk"));

        let acme = api.get("/backlog?client=acme").await.expect(StatusCode::OK);
        assert_eq!(acme.numbers(), [blocker, routine]);
        assert_eq!(acme.body["items"][1]["position"], 2);
        let page = api
            .get("/backlog?per_page=1&page=3")
            .await
            .expect(StatusCode::OK);
        assert_eq!(page.numbers(), [routine]);
        assert_eq!(page.body["total"], 3);
        let reply = api
            .get("/backlog?client=nobody")
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert!(reply.field_error("client").is_some());
        api.get("/backlog?status=new")
            .await
            .expect(StatusCode::BAD_REQUEST);
    }
);

story!(
    a_read_token_can_look_at_tickets_but_every_write_is_forbidden,
    |api: Api| async move {
        api.client("acme").await;
        let n = api.ticket(json!({"client": "acme", "title": "Help"})).await;
        for path in [
            "/tickets".to_string(),
            format!("/tickets/{n}"),
            format!("/tickets/{n}/messages"),
            "/backlog".to_string(),
        ] {
            api.call_as(&api.read, Method::GET, &path, None)
                .await
                .expect(StatusCode::OK);
        }
        let pm = json!({"root_cause": "a", "fix": "b", "prevention": "c", "monitoring_added": "d"});
        for (method, path, body) in [
            (
                Method::POST,
                "/tickets".to_string(),
                json!({"client": "acme", "title": "x"}),
            ),
            (Method::PUT, format!("/tickets/{n}"), json!({"title": "x"})),
            (
                Method::PATCH,
                format!("/tickets/{n}"),
                json!({"title": "x"}),
            ),
            (
                Method::POST,
                format!("/tickets/{n}/status"),
                json!({"status": "ack"}),
            ),
            (
                Method::POST,
                format!("/tickets/{n}/messages"),
                json!({"body": "x", "visibility": "public"}),
            ),
            (Method::PUT, format!("/tickets/{n}/post-mortem"), pm),
        ] {
            let reply = api
                .call_as(&api.read, method.clone(), &path, Some(body))
                .await
                .expect(StatusCode::FORBIDDEN);
            assert!(
                reply.body["detail"].as_str().unwrap().contains("write"),
                "{method} {path}"
            );
        }
        let shown = api
            .get(&format!("/tickets/{n}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(shown.body["title"], "Help");
        assert_eq!(shown.body["status"], "new");
        assert_eq!(shown.body["messages"], json!([]));
        assert_eq!(api.get("/tickets").await.body["total"], 1);
        // No token at all is 401 here too.
        let anonymous = Request::get("/api/v1/tickets").body(Body::empty()).unwrap();
        api.send(anonymous).await.expect(StatusCode::UNAUTHORIZED);
    }
);

story!(
    the_openapi_document_lists_the_ticket_and_backlog_paths,
    |api: Api| async move {
        let request = Request::get("/api/v1/openapi.json")
            .body(Body::empty())
            .unwrap();
        let doc = api.send(request).await.expect(StatusCode::OK).body;
        let paths = doc["paths"].as_object().unwrap();
        for (path, methods) in [
            ("/tickets", &["get", "post"][..]),
            ("/tickets/{number}", &["get", "put", "patch"]),
            ("/tickets/{number}/status", &["post"]),
            ("/tickets/{number}/messages", &["get", "post"]),
            ("/tickets/{number}/post-mortem", &["put"]),
            ("/backlog", &["get"]),
        ] {
            for method in methods {
                let op = &paths[path][*method];
                assert!(op.is_object(), "{method} {path} is documented");
                assert!(op["responses"]["401"].is_object(), "{method} {path}");
            }
        }
        assert!(doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "tickets"));
        assert_eq!(
            doc["paths"]["/tickets/{number}/status"]["post"]["responses"]["422"]["content"]
                ["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
        assert!(
            doc["components"]["schemas"]["TicketFields"]["properties"]["blocked_by"].is_object()
        );
    }
);

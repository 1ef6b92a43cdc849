//! The REST API through the real router, as a script or another tool would use it.
//! Every story runs on a fresh SQLite file, and on a fresh PostgreSQL database too when
//! `TEND_TEST_POSTGRES_URL` is set. Every error answer is checked to be problem JSON.

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
    fn total(&self) -> i64 {
        self.body["total"].as_i64().unwrap()
    }

    fn slugs(&self) -> Vec<String> {
        self.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["slug"].as_str().unwrap().to_string())
            .collect()
    }
}

impl Api {
    /// Creates a client on GROWTH and returns its JSON.
    async fn client_on_plan(&self, name: &str, slug: &str, plan: &str) -> Value {
        self.post(
            "/clients",
            json!({"name": name, "slug": slug, "timezone": "America/Chicago",
                   "contract": {"plan": plan, "start_date": "2026-11-01"}}),
        )
        .await
        .expect(StatusCode::CREATED)
        .body
    }
}

story!(
    a_request_without_a_valid_token_is_refused_with_401_and_a_bearer_challenge,
    |api: Api| async move {
        for token in [None, Some("tend_not_a_real_token")] {
            let request = api
                .request(Method::GET, "/clients", token)
                .body(Body::empty())
                .unwrap();
            let reply = api.send(request).await.expect(StatusCode::UNAUTHORIZED);
            assert_eq!(reply.header(header::WWW_AUTHENTICATE), "Bearer");
        }
        let basic = Request::get("/api/v1/clients")
            .header(header::AUTHORIZATION, "Basic dXNlcjpwdw==")
            .body(Body::empty())
            .unwrap();
        let reply = api.send(basic).await.expect(StatusCode::UNAUTHORIZED);
        assert!(reply.body["detail"].as_str().unwrap().contains("Bearer"));
    }
);

story!(
    a_read_token_can_look_but_any_write_is_forbidden,
    |api: Api| async move {
        let get = api
            .request(Method::GET, "/plans", Some(&api.read))
            .body(Body::empty())
            .unwrap();
        api.send(get).await.expect(StatusCode::OK);
        let post = api
            .request(Method::POST, "/clients", Some(&api.read))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"name": "Acme", "timezone": "UTC"}).to_string(),
            ))
            .unwrap();
        let reply = api.send(post).await.expect(StatusCode::FORBIDDEN);
        assert!(reply.body["detail"].as_str().unwrap().contains("write"));
        api.get("/clients/acme").await.expect(StatusCode::NOT_FOUND);
    }
);

story!(
    a_created_client_answers_201_with_its_location_and_can_be_read_there,
    |api: Api| async move {
        let reply = api
            .post(
                "/clients",
                json!({"name": "Acme Dental", "timezone": "America/Chicago", "notes": "VIP"}),
            )
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(
            reply.header(header::LOCATION),
            "/api/v1/clients/acme-dental"
        );
        assert_eq!(reply.body["slug"], "acme-dental");
        assert_eq!(reply.body["contract"], Value::Null);
        let shown = api.get("/clients/acme-dental").await.expect(StatusCode::OK);
        assert_eq!(shown.body["name"], "Acme Dental");
        assert_eq!(shown.body["notes"], "VIP");
        assert_eq!(shown.body["contacts"], json!([]));
    }
);

story!(
    invalid_fields_are_a_422_problem_naming_each_field,
    |api: Api| async move {
        let reply = api
            .post(
                "/clients",
                json!({"name": "Acme", "timezone": "Mars/Olympus"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply
            .field_error("timezone")
            .unwrap()
            .contains("not an IANA timezone"));
        assert!(reply.body["detail"].as_str().unwrap().contains("timezone"));

        let reply = api
            .post("/clients", json!({"timezone": "UTC"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.field_error("name").as_deref(), Some("is required"));

        let reply = api
            .post(
                "/clients",
                json!({"name": "Acme", "timezone": "UTC", "timzone": "UTC", "notes": 5, "holidays": ["x"]}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply
            .field_error("timzone")
            .unwrap()
            .contains("not a field"));
        assert!(reply
            .field_error("holidays")
            .unwrap()
            .contains("must be a string"));
        assert_eq!(
            reply.field_error("notes"),
            None,
            "a number is read as text where the draft keeps text"
        );

        let reply = api
            .post("/clients", json!(["Acme"]))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("JSON object"));
        assert_eq!(api.get("/clients").await.total(), 0, "nothing was stored");
    }
);

story!(
    a_taken_slug_is_a_409_problem_naming_slug,
    |api: Api| async move {
        let acme = json!({"name": "Acme", "timezone": "UTC"});
        api.post("/clients", acme.clone())
            .await
            .expect(StatusCode::CREATED);
        let reply = api
            .post("/clients", acme)
            .await
            .expect(StatusCode::CONFLICT);
        assert!(reply.field_error("slug").unwrap().contains("taken"));
    }
);

story!(
    bodies_that_are_not_well_formed_json_under_256_kib_are_refused,
    |api: Api| async move {
        let raw = |content_type: &str, body: String| {
            api.request(Method::POST, "/clients", Some(&api.write))
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap()
        };
        let reply = api
            .send(raw("application/json", "{\"name\": ".into()))
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert!(reply.body["type"]
            .as_str()
            .unwrap()
            .ends_with("malformed-json"));

        let reply = api
            .send(raw("text/plain", "{}".into()))
            .await
            .expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("application/json"));

        let notes = "x".repeat(300 * 1024);
        let big = json!({"name": "Acme", "timezone": "UTC", "notes": notes}).to_string();
        let reply = api
            .send(raw("application/json", big))
            .await
            .expect(StatusCode::PAYLOAD_TOO_LARGE);
        assert!(reply.body["detail"].as_str().unwrap().contains("256 KiB"));
        assert_eq!(api.get("/clients").await.total(), 0);
    }
);

story!(
    unknown_slugs_ids_codes_and_paths_are_404_problems,
    |api: Api| async move {
        for path in [
            "/clients/nobody",
            "/clients/nobody/contacts",
            "/clients/nobody/audit",
            "/clients/nobody/export",
            "/contacts/999",
            "/contacts/abc",
            "/contracts/999",
            "/contracts/1x/plan-history",
            "/plans/GOLD",
            "/no-such-thing",
        ] {
            let reply = api.get(path).await.expect(StatusCode::NOT_FOUND);
            assert!(
                reply.body["detail"].as_str().unwrap().contains("not"),
                "{path}: {reply:?}"
            );
        }
        let reply = api.get("/contacts/abc").await;
        assert!(reply.body["detail"].as_str().unwrap().contains("\"abc\""));
        api.delete("/clients/nobody")
            .await
            .expect(StatusCode::NOT_FOUND);
        api.put("/contracts/999", json!({"plan": "GROWTH"}))
            .await
            .expect(StatusCode::NOT_FOUND);

        let reply = api
            .call(Method::DELETE, "/clients", None)
            .await
            .expect(StatusCode::METHOD_NOT_ALLOWED);
        assert!(reply.header(header::ALLOW).contains("GET"));
    }
);

story!(
    a_client_with_an_unknown_plan_is_refused_and_nothing_is_stored,
    |api: Api| async move {
        let reply = api
            .post(
                "/clients",
                json!({"name": "Acme", "timezone": "UTC", "contract": {"plan": "GOLD"}}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply
            .field_error("contract.plan")
            .unwrap()
            .contains("no plan with code GOLD"));
        api.get("/clients/acme").await.expect(StatusCode::NOT_FOUND);
        assert_eq!(api.get("/clients").await.total(), 0);
        let audit = api.get("/audit?entity=client").await.expect(StatusCode::OK);
        assert_eq!(audit.total(), 0, "no audit entry for a client never stored");

        let reply = api
            .post(
                "/clients",
                json!({"name": "", "timezone": "UTC", "contract": {"plan": "GROWTH", "state": "done"}}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("name").is_some());
        assert!(reply.field_error("contract.state").is_some());
    }
);

story!(
    a_client_and_its_first_contract_are_created_together,
    |api: Api| async move {
        let client = api
            .post(
                "/clients",
                json!({"name": "Acme", "timezone": "America/Chicago",
                       "contract": {"plan": "growth", "start_date": "2026-11-01", "stabilization_weeks": null}}),
            )
            .await
            .expect(StatusCode::CREATED)
            .body;
        assert_eq!(client["contract"]["plan_code"], "GROWTH");
        assert_eq!(client["contract"]["renewal_date"], "2026-12-01");
        assert_eq!(client["contract"]["state"], "active");
        let contracts = api
            .get("/clients/acme/contracts")
            .await
            .expect(StatusCode::OK);
        assert_eq!(contracts.total(), 1);
    }
);

story!(
    client_lists_are_paginated_and_filtered_and_bad_filters_are_named,
    |api: Api| async move {
        api.client_on_plan("Alpha Dental", "alpha", "STARTER").await;
        api.client_on_plan("Beta Fitness", "beta", "GROWTH").await;
        api.client_on_plan("Gamma Law", "gamma", "GROWTH").await;
        let owner = Email::parse("sam@agency.test").unwrap();
        api.store
            .create_user(
                &Actor::system("test"),
                &owner,
                "Sam",
                Role::Staff,
                "a long password",
            )
            .await
            .unwrap();
        api.patch("/clients/gamma", json!({"owner_email": "sam@agency.test"}))
            .await
            .expect(StatusCode::OK);

        let first = api.get("/clients?per_page=2").await.expect(StatusCode::OK);
        assert_eq!(
            (first.total(), first.slugs()),
            (3, vec!["alpha".into(), "beta".into()])
        );
        assert_eq!(
            (first.body["page"].clone(), first.body["per_page"].clone()),
            (json!(1), json!(2))
        );
        let second = api.get("/clients?per_page=2&page=2").await;
        assert_eq!(second.slugs(), vec!["gamma"]);

        assert_eq!(api.get("/clients?q=FIT").await.slugs(), vec!["beta"]);
        assert_eq!(
            api.get("/clients?plan=growth").await.slugs(),
            vec!["beta", "gamma"]
        );
        assert_eq!(
            api.get("/clients?owner=sam@agency.test").await.slugs(),
            vec!["gamma"]
        );
        api.patch(
            &format!(
                "/contracts/{}",
                api.get("/clients/alpha").await.body["contract"]["id"]
            ),
            json!({"state": "paused"}),
        )
        .await
        .expect(StatusCode::OK);
        assert_eq!(
            api.get("/clients?state=paused").await.slugs(),
            vec!["alpha"]
        );

        for (query, param, says) in [
            ("state=sleeping", "state", "not a contract state"),
            ("owner=nobody@agency.test", "owner", "no staff user"),
            ("owner=not-an-email", "owner", "not an email"),
            ("plan=GOLD", "plan", "no plan with code GOLD"),
            ("page=two", "page", "not a whole number"),
            ("sate=active", "sate", "not a parameter"),
        ] {
            let reply = api
                .get(&format!("/clients?{query}"))
                .await
                .expect(StatusCode::BAD_REQUEST);
            let message = reply.field_error(param).unwrap_or_default();
            assert!(message.contains(says), "{query}: {reply:?}");
        }

        let contracts = api
            .get("/contracts?plan=GROWTH&per_page=1")
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            (
                contracts.total(),
                contracts.body["items"].as_array().unwrap().len()
            ),
            (2, 1)
        );
        assert_eq!(api.get("/contracts?state=paused").await.total(), 1);
        api.get("/contracts?state=over")
            .await
            .expect(StatusCode::BAD_REQUEST);
    }
);

story!(
    a_patch_changes_only_the_fields_it_names,
    |api: Api| async move {
        api.post(
            "/clients",
            json!({"name": "Acme", "timezone": "Europe/Berlin", "notes": "first",
                   "business_hours": "mon-thu 08:00-16:00", "holidays": "2026-12-25 Christmas Day"}),
        )
        .await
        .expect(StatusCode::CREATED);
        let before = api.get("/clients/acme").await.body;
        let after = api
            .patch("/clients/acme", json!({"notes": "second"}))
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(after["notes"], "second");
        for field in ["name", "slug", "timezone", "hours", "holidays", "owner"] {
            assert_eq!(after[field], before[field], "{field} must not change");
        }

        let merge_patch = api
            .request(Method::PATCH, "/clients/acme", Some(&api.write))
            .header(header::CONTENT_TYPE, "application/merge-patch+json")
            .body(Body::from(json!({"notes": null}).to_string()))
            .unwrap();
        let cleared = api.send(merge_patch).await.expect(StatusCode::OK);
        assert_eq!(
            cleared.body["notes"], "",
            "null sets a field back to its default"
        );
        assert_eq!(cleared.body["timezone"], "Europe/Berlin");

        let reply = api
            .patch("/clients/acme", json!({"timezone": "Nowhere"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("timezone").is_some());
        assert_eq!(
            api.get("/clients/acme").await.body["timezone"],
            "Europe/Berlin"
        );

        let renamed = api
            .put(
                "/clients/acme",
                json!({"name": "Acme GmbH", "timezone": "Europe/Berlin"}),
            )
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(
            renamed["slug"], "acme",
            "a PUT keeps the slug unless it gives one"
        );
        assert_eq!(renamed["notes"], "", "a PUT replaces every field");
        let moved = api
            .patch("/clients/acme", json!({"slug": "acme-gmbh"}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(moved.body["slug"], "acme-gmbh");
        api.get("/clients/acme").await.expect(StatusCode::NOT_FOUND);
    }
);

story!(
    a_client_cannot_be_deleted_while_a_contract_is_live_and_can_be_restored,
    |api: Api| async move {
        let client = api.client_on_plan("Acme", "acme", "GROWTH").await;
        let contract = format!("/contracts/{}", client["contract"]["id"]);

        let reply = api
            .delete("/clients/acme")
            .await
            .expect(StatusCode::CONFLICT);
        assert!(reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("has not ended"));
        api.delete(&contract).await.expect(StatusCode::CONFLICT);

        api.patch(&contract, json!({"state": "ended"}))
            .await
            .expect(StatusCode::OK);
        let reply = api
            .patch(&contract, json!({"state": "active"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply
            .field_error("state")
            .unwrap()
            .contains("cannot be reopened"));

        api.delete("/clients/acme")
            .await
            .expect(StatusCode::NO_CONTENT);
        api.get("/clients/acme").await.expect(StatusCode::NOT_FOUND);
        assert_eq!(api.get("/clients").await.total(), 0);
        let restored = api
            .post("/clients/acme/restore", json!({}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(restored.body["deleted"], false);
        api.get("/clients/acme").await.expect(StatusCode::OK);

        api.delete(&contract).await.expect(StatusCode::NO_CONTENT);
        api.get(&contract).await.expect(StatusCode::NOT_FOUND);
    }
);

story!(
    contacts_can_be_added_read_changed_and_removed,
    |api: Api| async move {
        api.client_on_plan("Acme", "acme", "GROWTH").await;
        let ana = api
            .post(
                "/clients/acme/contacts",
                json!({"name": "Ana", "email": "Ana@Acme.test", "role": "approval-owner"}),
            )
            .await
            .expect(StatusCode::CREATED);
        let location = ana.header(header::LOCATION).to_string();
        assert_eq!(location, format!("/api/v1/contacts/{}", ana.body["id"]));
        assert_eq!(ana.body["email"], "ana@acme.test");
        let path = location.trim_start_matches("/api/v1").to_string();

        let reply = api
            .post(
                "/clients/acme/contacts",
                json!({"name": "Ana 2", "email": "ana@acme.test"}),
            )
            .await
            .expect(StatusCode::CONFLICT);
        assert!(reply.field_error("email").is_some());
        let reply = api
            .post(
                "/clients/acme/contacts",
                json!({"name": "Bo", "email": "bo", "role": "boss"}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("email").is_some() && reply.field_error("role").is_some());

        let changed = api
            .patch(&path, json!({"phone": "+1 555 0100"}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(changed.body["phone"], "+1 555 0100");
        assert_eq!(changed.body["role"], "approval-owner");
        let replaced = api
            .put(&path, json!({"name": "Ana Ruiz", "email": "ana@acme.test"}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            (
                replaced.body["role"].clone(),
                replaced.body["phone"].clone()
            ),
            (json!("requester"), Value::Null)
        );
        assert_eq!(api.get(&path).await.body["name"], "Ana Ruiz");

        let list = api
            .get("/clients/acme/contacts")
            .await
            .expect(StatusCode::OK);
        assert_eq!(list.total(), 1);
        assert_eq!(
            api.get("/clients/acme").await.body["contacts"][0]["name"],
            "Ana Ruiz"
        );

        let reply = api.delete(&path).await.expect(StatusCode::CONFLICT);
        assert!(reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("only contact"));
        api.post(
            "/clients/acme/contacts",
            json!({"name": "Bo", "email": "bo@acme.test"}),
        )
        .await
        .expect(StatusCode::CREATED);
        api.delete(&path).await.expect(StatusCode::NO_CONTENT);
        api.get(&path).await.expect(StatusCode::NOT_FOUND);
    }
);

story!(
    plans_can_be_created_edited_and_deleted_only_while_unused,
    |api: Api| async move {
        let care = json!({"code": "care2", "name": "Care", "monthly_fee": 1});
        let refused = api.post("/plans", care).await.expect(StatusCode::FORBIDDEN);
        assert!(refused.body["detail"].as_str().unwrap().contains("owner"));
        // Plans are the agency's price list: only an owner-scope token edits them.
        let api = api.as_owner();
        let growth = api.get("/plans/growth").await.expect(StatusCode::OK).body;
        let mut targets = serde_json::Map::new();
        for severity in ["p0", "p1", "p2", "p3"] {
            for kind in ["response", "next_update", "resolution"] {
                targets.insert(format!("{severity}_{kind}"), json!("8h"));
            }
        }
        let body = json!({"code": "care", "name": "Care", "monthly_fee": 800, "included_hours": "6",
            "overage_rate": "150", "emergency_rate": "300", "report_cadence": "monthly",
            "checkin_cadence": "monthly", "channels": "email", "targets": targets});
        let created = api
            .post("/plans", body.clone())
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(created.header(header::LOCATION), "/api/v1/plans/CARE");
        assert_eq!(created.body["monthly_fee"], 80000);
        api.post("/plans", body).await.expect(StatusCode::CONFLICT);
        assert_eq!(api.get("/plans").await.total(), 4);

        let patched = api
            .patch(
                "/plans/CARE",
                json!({"targets": {"p0_response": "2h@24x7"}, "emergency_included": true}),
            )
            .await
            .expect(StatusCode::OK)
            .body;
        let p0 = patched["sla"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["severity"] == "p0" && t["kind"] == "response")
            .unwrap()
            .clone();
        assert_eq!(
            (p0["amount"].clone(), p0["clock"].clone()),
            (json!(2), json!("24x7"))
        );
        assert_eq!(patched["sla"].as_array().unwrap().len(), 12);
        assert_eq!(patched["emergency_included"], true);
        assert_eq!(patched["name"], "Care");

        let reply = api
            .patch(
                "/plans/CARE",
                json!({"targets": {"p5_response": "1h", "p1_response": "soon"}}),
            )
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("targets.p5_response").is_some());
        let reply = api
            .patch("/plans/CARE", json!({"targets": {"p1_response": "soon"}}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("p1_response").is_some());
        let reply = api
            .patch("/plans/CARE", json!({"monthly_fee": "lots"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("monthly_fee").is_some());

        api.client_on_plan("Acme", "acme", "CARE").await;
        assert_eq!(api.get("/plans/care").await.body["live_contracts"], 1);
        let reply = api.delete("/plans/CARE").await.expect(StatusCode::CONFLICT);
        assert!(reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("used by 1 contract"));

        let mut growth_body = serde_json::Map::new();
        growth_body.insert("name".into(), json!("Growth Plus"));
        let renamed = api
            .patch("/plans/GROWTH", Value::Object(growth_body))
            .await
            .expect(StatusCode::OK);
        assert_eq!(renamed.body["monthly_fee"], growth["monthly_fee"]);
        assert_eq!(renamed.body["name"], "Growth Plus");

        api.delete("/plans/STARTER")
            .await
            .expect(StatusCode::NO_CONTENT);
        api.get("/plans/STARTER")
            .await
            .expect(StatusCode::NOT_FOUND);
    }
);

story!(
    a_plan_change_is_recorded_in_the_plan_history_as_of_its_effective_date,
    |api: Api| async move {
        let client = api.client_on_plan("Acme", "acme", "STARTER").await;
        let contract = format!("/contracts/{}", client["contract"]["id"]);
        let reply = api
            .patch(
                &contract,
                json!({"plan": "GROWTH", "effective_date": "2026-12-01"}),
            )
            .await
            .expect(StatusCode::OK);
        assert_eq!(reply.body["plan_code"], "GROWTH");
        assert_eq!(reply.body["start_date"], "2026-11-01", "the rest stays");
        let history = api
            .get(&format!("{contract}/plan-history"))
            .await
            .expect(StatusCode::OK)
            .body;
        let changes: Vec<(Value, Value, Value)> = history["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["from_plan"].clone(),
                    c["to_plan"].clone(),
                    c["effective_date"].clone(),
                )
            })
            .collect();
        assert_eq!(
            changes,
            vec![
                (Value::Null, json!("STARTER"), json!("2026-11-01")),
                (json!("STARTER"), json!("GROWTH"), json!("2026-12-01")),
            ]
        );
        assert_eq!(history["items"][1]["changed_by"], "token ci");

        let reply = api
            .patch(&contract, json!({"effective_date": "soon"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("effective_date").is_some());
        let reply = api
            .post("/clients/acme/contracts", json!({"plan": "GROWTH"}))
            .await
            .expect(StatusCode::CONFLICT);
        assert!(reply.body["detail"].as_str().unwrap().contains("not ended"));
        let reply = api
            .put(&contract, json!({"plan": "GROWTH", "support_model": "stabilization", "stabilization_weeks": 9, "start_date": "2026-11-01"}))
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.field_error("stabilization_weeks").is_some());
        let replaced = api
            .put(&contract, json!({"plan": "GROWTH", "support_model": "stabilization", "stabilization_weeks": 4, "start_date": "2026-11-02"}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(replaced.body["renewal_date"], "2026-11-30");
        api.patch(&contract, json!({"state": "ended"}))
            .await
            .expect(StatusCode::OK);
        let second = api
            .post(
                "/clients/acme/contracts",
                json!({"plan": "ENTERPRISE", "start_date": "2027-01-01"}),
            )
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(
            api.get("/clients/acme").await.body["contract"]["id"],
            second.body["id"],
            "the client shows its newest contract"
        );
    }
);

story!(
    every_change_is_audited_with_the_token_and_the_fields_it_changed,
    |api: Api| async move {
        api.client_on_plan("Acme", "acme", "GROWTH").await;
        api.patch("/clients/acme", json!({"notes": "call before noon"}))
            .await
            .expect(StatusCode::OK);
        let contact = api
            .post(
                "/clients/acme/contacts",
                json!({"name": "Ana", "email": "ana@acme.test"}),
            )
            .await
            .body;

        let trail = api
            .get("/clients/acme/audit")
            .await
            .expect(StatusCode::OK)
            .body;
        let entries = trail["items"].as_array().unwrap();
        assert_eq!(
            trail["total"], 4,
            "client, contract, update, contact: {trail:#}"
        );
        assert!(entries
            .iter()
            .all(|e| e["actor_label"] == "token ci" && e["actor_kind"] == "token"));
        let newest = &entries[0];
        assert_eq!(
            (newest["entity"].clone(), newest["action"].clone()),
            (json!("contact"), json!("create"))
        );
        assert_eq!(newest["entity_id"], contact["id"]);
        let update = &entries[1];
        assert_eq!(update["action"], "update");
        assert_eq!(
            update["changes"],
            json!([{"field": "notes", "from": "", "to": "call before noon"}]),
            "only the changed field is listed"
        );

        let page = api.get("/clients/acme/audit?per_page=1&page=2").await.body;
        assert_eq!(page["items"][0]["action"], "update");
        let clients = api.get("/audit?entity=client").await.expect(StatusCode::OK);
        assert_eq!(clients.total(), 2);
        let reply = api
            .get("/audit?entity=clients")
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert!(reply
            .field_error("entity")
            .unwrap()
            .contains("not an entity"));

        api.patch(
            &format!(
                "/contracts/{}",
                api.get("/clients/acme").await.body["contract"]["id"]
            ),
            json!({"state": "ended"}),
        )
        .await
        .expect(StatusCode::OK);
        api.delete("/clients/acme")
            .await
            .expect(StatusCode::NO_CONTENT);
        let trail = api.get("/clients/acme/audit").await.expect(StatusCode::OK);
        assert_eq!(
            trail.body["items"][0]["action"], "delete",
            "the history outlives the client"
        );

        let export = api
            .get("/clients/acme/export")
            .await
            .expect(StatusCode::OK)
            .body;
        assert_eq!(export["format"], "tend.client-export.v1");
        assert_eq!(export["client"]["slug"], "acme");
        assert_eq!(
            export["contracts"][0]["plan_history"][0]["to_plan"],
            "GROWTH"
        );
        assert_eq!(export["audit_log"].as_array().unwrap().len(), 6);
    }
);

story!(
    the_openapi_document_is_public_and_lists_every_path,
    |api: Api| async move {
        let request = Request::get("/api/v1/openapi.json")
            .body(Body::empty())
            .unwrap();
        let doc = api.send(request).await.expect(StatusCode::OK).body;
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        assert_eq!(doc["servers"][0]["url"], "/api/v1");
        let paths = doc["paths"].as_object().unwrap();
        for (path, methods) in [
            ("/clients", &["get", "post"][..]),
            ("/clients/{slug}", &["get", "put", "patch", "delete"]),
            ("/clients/{slug}/restore", &["post"]),
            ("/clients/{slug}/export", &["get"]),
            ("/clients/{slug}/audit", &["get"]),
            ("/clients/{slug}/contacts", &["get", "post"]),
            ("/contacts/{id}", &["get", "put", "patch", "delete"]),
            ("/clients/{slug}/contracts", &["get", "post"]),
            ("/contracts", &["get"]),
            ("/contracts/{id}", &["get", "put", "patch", "delete"]),
            ("/contracts/{id}/plan-history", &["get"]),
            ("/plans", &["get", "post"]),
            ("/plans/{code}", &["get", "put", "patch", "delete"]),
            ("/audit", &["get"]),
            ("/openapi.json", &["get"]),
        ] {
            for method in methods {
                assert!(
                    paths[path].get(*method).is_some(),
                    "{method} {path} is documented"
                );
            }
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        assert!(doc["components"]["schemas"]["Problem"].is_object());
        assert_eq!(
            doc["paths"]["/clients"]["post"]["responses"]["422"]["content"]
                ["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
    }
);

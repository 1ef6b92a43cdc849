//! One storage test suite, written once: every story runs on SQLite, and on PostgreSQL
//! too when `TEND_TEST_POSTGRES_URL` is set (CI always sets it).

use jiff::civil::date;
use tend_domain::client::ClientDraft;
use tend_domain::contact::ContactDraft;
use tend_domain::contract::{ContractDraft, ContractState};
use tend_domain::email::Email;
use tend_domain::page::PageRequest;
use tend_domain::plan::PlanDraft;
use tend_domain::role::{Role, Scope};
use tend_store::clients::ClientFilter;
use tend_store::{Actor, Store, StoreError};

mod harness {
    use super::*;

    /// A fresh SQLite file in a temporary directory.
    pub async fn sqlite() -> (Store, TempDir) {
        let dir = TempDir::new();
        let url = format!("sqlite://{}/tend.db", dir.0.display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        (store, dir)
    }

    /// A fresh PostgreSQL database on the server `TEND_TEST_POSTGRES_URL` names.
    pub async fn postgres() -> Option<Store> {
        let (store, _) = postgres_empty().await?;
        store.migrate().await.unwrap();
        Some(store)
    }

    /// A fresh, unmigrated PostgreSQL database and its URL.
    pub async fn postgres_empty() -> Option<(Store, String)> {
        let base = std::env::var("TEND_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let admin = Store::connect(&base).await.unwrap();
        let name = format!("tend_t_{}", tend_store::random_hex(6));
        if let tend_store::Db::Pg(p) = &admin.db {
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(p)
                .await
                .unwrap();
        }
        admin.close().await;
        let url = match base.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("TEND_TEST_POSTGRES_URL must end with a database name"),
        };
        let store = Store::connect(&url).await.unwrap();
        Some((store, url))
    }

    pub struct TempDir(pub std::path::PathBuf);

    impl TempDir {
        pub fn new() -> Self {
            let path =
                std::env::temp_dir().join(format!("tend-store-{}", tend_store::random_hex(6)));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Declares a story that runs once per engine.
macro_rules! story {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn on_sqlite() {
                let (store, _dir) = harness::sqlite().await;
                ($body)(store).await;
            }

            #[tokio::test]
            async fn on_postgres() {
                if let Some(store) = harness::postgres().await {
                    ($body)(store).await;
                }
            }
        }
    };
}

fn actor() -> Actor {
    Actor::system("test")
}

fn client_draft(name: &str, slug: &str) -> ClientDraft {
    ClientDraft {
        name: name.into(),
        slug: slug.into(),
        timezone: "America/Chicago".into(),
        ..Default::default()
    }
}

async fn add_client(store: &Store, name: &str, slug: &str, plan: &str) -> i64 {
    let input = client_draft(name, slug).parse().unwrap();
    let contract = ContractDraft {
        plan: plan.into(),
        ..Default::default()
    }
    .parse(date(2026, 11, 1))
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    let id = store
        .insert_client(&mut tx, &actor(), &input)
        .await
        .unwrap();
    store
        .insert_contract(&mut tx, &actor(), id, &contract)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

story!(
    a_new_database_holds_the_three_plans_of_the_sop,
    |store: Store| async move {
        let plans = store.list_plans().await.unwrap();
        let codes: Vec<&str> = plans.iter().map(|p| p.terms.code.as_str()).collect();
        assert_eq!(codes, ["STARTER", "GROWTH", "ENTERPRISE"]);
        let growth = store.plan_by_code("growth").await.unwrap();
        assert_eq!(growth.terms.monthly_fee.0, 120_000);
        assert_eq!(growth.terms.included.0, 600);
        assert_eq!(growth.terms.rollover_max.0, 300);
        assert_eq!(growth.terms.bank_max.0, 900);
        assert_eq!(growth.terms.overage_rate.0, 15_000);
        assert_eq!(growth.terms.emergency_rate.0, 30_000);
        assert_eq!(growth.terms.sla.len(), 8);
        let enterprise = store.plan_by_code("ENTERPRISE").await.unwrap();
        let p0 = &enterprise.terms.sla[0];
        assert_eq!((p0.amount, p0.after_hours_amount), (Some(1), Some(4)));
        // Migrating again changes nothing.
        let again = store.migrate().await.unwrap();
        assert!(again.applied.is_empty());
        assert_eq!(store.list_plans().await.unwrap().len(), 3);
    }
);

story!(
    a_client_and_its_first_contract_are_stored_together_or_not_at_all,
    |store: Store| async move {
        let input = client_draft("Acme Dental", "acme").parse().unwrap();
        let bad_contract = ContractDraft {
            plan: "PLATINUM".into(),
            ..Default::default()
        }
        .parse(date(2026, 11, 1))
        .unwrap();
        let mut tx = store.begin().await.unwrap();
        let id = store
            .insert_client(&mut tx, &actor(), &input)
            .await
            .unwrap();
        let err = store
            .insert_contract(&mut tx, &actor(), id, &bad_contract)
            .await
            .unwrap_err();
        drop(tx);
        assert!(
            matches!(err, StoreError::Invalid(ref e) if e.get("plan").is_some()),
            "{err:?}"
        );
        assert!(matches!(
            store.client_by_slug("acme", true).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(
            store
                .audit_log(None, PageRequest::default())
                .await
                .unwrap()
                .total,
            0
        );

        add_client(&store, "Acme Dental", "acme", "GROWTH").await;
        let client = store.client_by_slug("acme", false).await.unwrap();
        assert_eq!(client.timezone, "America/Chicago");
        assert_eq!(client.public_id.len(), 32);
        let contracts = store.client_contracts(client.id).await.unwrap();
        assert_eq!(contracts[0].plan_code, "GROWTH");
        assert_eq!(contracts[0].renewal_date, date(2026, 12, 1));
    }
);

story!(
    a_taken_slug_is_a_conflict_on_the_slug_field,
    |store: Store| async move {
        add_client(&store, "Acme", "acme", "STARTER").await;
        let err = store
            .create_client(&actor(), &client_draft("Other", "acme").parse().unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { field: "slug", .. }),
            "{err:?}"
        );
        let other = store
            .create_client(&actor(), &client_draft("Other", "other").parse().unwrap())
            .await
            .unwrap();
        let mut renamed = client_draft("Other", "acme");
        renamed.notes = "x".into();
        let err = store
            .update_client(&actor(), &other.slug, &renamed.parse().unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict { field: "slug", .. }));
    }
);

story!(
    the_clients_list_searches_filters_and_pages,
    |store: Store| async move {
        for i in 0..30 {
            let plan = if i % 3 == 0 { "ENTERPRISE" } else { "GROWTH" };
            add_client(
                &store,
                &format!("Client {i:02}"),
                &format!("client-{i:02}"),
                plan,
            )
            .await;
        }
        add_client(&store, "Zephyr Fitness", "zephyr", "STARTER").await;
        let all = store
            .list_clients(
                &ClientFilter::default(),
                PageRequest::new(Some(2), Some(10)),
            )
            .await
            .unwrap();
        assert_eq!(all.total, 31);
        assert_eq!(all.items.len(), 10);
        assert_eq!(all.items[0].name, "Client 10");
        assert_eq!(all.pages(), 4);
        let search = ClientFilter {
            search: Some("ZEPH".into()),
            ..Default::default()
        };
        let found = store
            .list_clients(&search, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(found.items.len(), 1);
        assert_eq!(found.items[0].plan_code.as_deref(), Some("STARTER"));
        let enterprise = ClientFilter {
            plan: Some("enterprise".into()),
            ..Default::default()
        };
        assert_eq!(
            store
                .list_clients(&enterprise, PageRequest::default())
                .await
                .unwrap()
                .total,
            10
        );
        let paused = ClientFilter {
            state: Some(ContractState::Paused),
            ..Default::default()
        };
        assert_eq!(
            store
                .list_clients(&paused, PageRequest::default())
                .await
                .unwrap()
                .total,
            0
        );
    }
);

story!(
    every_change_is_in_the_audit_log_with_the_fields_it_changed,
    |store: Store| async move {
        let id = add_client(&store, "Acme", "acme", "GROWTH").await;
        let mut draft = client_draft("Acme Dental", "acme");
        draft.timezone = "Europe/Berlin".into();
        store
            .update_client(
                &Actor::user(7, "ana@agency.test"),
                "acme",
                &draft.parse().unwrap(),
            )
            .await
            .unwrap();
        let log = store
            .client_audit(id, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(log.total, 3, "create client, create contract, update");
        let update = &log.items[0];
        assert_eq!(update.actor_label, "ana@agency.test");
        assert_eq!(update.action, "update");
        let fields: Vec<&str> = update.changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["name", "timezone"]);
        assert_eq!(update.changes[1].from.as_deref(), Some("America/Chicago"));
    }
);

story!(
    a_client_with_a_live_contract_cannot_be_deleted_and_a_delete_can_be_undone,
    |store: Store| async move {
        let id = add_client(&store, "Acme", "acme", "GROWTH").await;
        let err = store.delete_client(&actor(), "acme").await.unwrap_err();
        assert!(matches!(err, StoreError::Guarded(_)));
        let contract = store.client_contracts(id).await.unwrap().remove(0);
        let mut ended = ContractDraft {
            plan: "GROWTH".into(),
            state: "ended".into(),
            start_date: "2026-11-01".into(),
            ..Default::default()
        }
        .parse(date(2026, 11, 1))
        .unwrap();
        store
            .update_contract(&actor(), contract.id, &ended, date(2026, 11, 20))
            .await
            .unwrap();
        store.delete_client(&actor(), "acme").await.unwrap();
        assert!(matches!(
            store.client_by_slug("acme", false).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(store.count_clients().await.unwrap(), 0);
        store.restore_client(&actor(), "acme").await.unwrap();
        assert_eq!(store.count_clients().await.unwrap(), 1);
        // An ended contract stays ended.
        ended.state = ContractState::Active;
        let err = store
            .update_contract(&actor(), contract.id, &ended, date(2026, 11, 21))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref e) if e.get("state").is_some()));
    }
);

story!(
    contacts_are_unique_per_client_and_the_last_one_is_kept_while_serving,
    |store: Store| async move {
        let id = add_client(&store, "Acme", "acme", "GROWTH").await;
        let ana = ContactDraft {
            name: "Ana".into(),
            email: "ana@acme.test".into(),
            role: "approval-owner".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        let contact = store.create_contact(&actor(), id, &ana).await.unwrap();
        let err = store.create_contact(&actor(), id, &ana).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { field: "email", .. }));
        assert!(matches!(
            store.delete_contact(&actor(), contact.id).await,
            Err(StoreError::Guarded(_))
        ));
        let bo = ContactDraft {
            name: "Bo".into(),
            email: "bo@acme.test".into(),
            role: "billing".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        store.create_contact(&actor(), id, &bo).await.unwrap();
        store.delete_contact(&actor(), contact.id).await.unwrap();
        let left = store.list_contacts(id).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].email, "bo@acme.test");
    }
);

story!(
    a_plan_change_is_kept_in_the_contract_history,
    |store: Store| async move {
        let id = add_client(&store, "Acme", "acme", "STARTER").await;
        let contract = store.client_contracts(id).await.unwrap().remove(0);
        let growth = ContractDraft {
            plan: "GROWTH".into(),
            start_date: "2026-11-01".into(),
            ..Default::default()
        }
        .parse(date(2026, 11, 1))
        .unwrap();
        let updated = store
            .update_contract(&actor(), contract.id, &growth, date(2026, 12, 1))
            .await
            .unwrap();
        assert_eq!(updated.plan_code, "GROWTH");
        let history = store.plan_history(contract.id).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].from_plan.as_deref(), Some("STARTER"));
        assert_eq!(history[1].effective_date, "2026-12-01");
        // A second live contract is refused.
        let again = ContractDraft {
            plan: "ENTERPRISE".into(),
            ..Default::default()
        }
        .parse(date(2026, 11, 1))
        .unwrap();
        assert!(matches!(
            store.create_contract(&actor(), id, &again).await,
            Err(StoreError::Guarded(_))
        ));
    }
);

story!(
    plans_are_editable_and_a_used_plan_cannot_be_deleted,
    |store: Store| async move {
        add_client(&store, "Acme", "acme", "GROWTH").await;
        let growth = store.plan_by_code("GROWTH").await.unwrap();
        assert_eq!(growth.live_contracts, 1);
        let mut draft = PlanDraft::from_terms(&growth.terms);
        draft.monthly_fee = "1300".into();
        draft.targets.insert("p1_response".into(), "6h".into());
        let updated = store
            .update_plan(&actor(), "GROWTH", &draft.parse().unwrap())
            .await
            .unwrap();
        assert_eq!(updated.terms.monthly_fee.0, 130_000);
        assert_eq!(
            updated
                .terms
                .sla
                .iter()
                .find(|t| t.spec() == "6h")
                .map(|t| t.severity.as_str()),
            Some("p1")
        );
        assert!(matches!(
            store.delete_plan(&actor(), "GROWTH").await,
            Err(StoreError::Guarded(_))
        ));
        let mut custom = draft.clone();
        custom.code = "CUSTOM".into();
        store
            .create_plan(&actor(), &custom.parse().unwrap())
            .await
            .unwrap();
        assert!(matches!(
            store.create_plan(&actor(), &custom.parse().unwrap()).await,
            Err(StoreError::Conflict { field: "code", .. })
        ));
        store.delete_plan(&actor(), "CUSTOM").await.unwrap();
        assert_eq!(store.list_plans().await.unwrap().len(), 3);
    }
);

story!(
    passwords_sessions_and_tokens_are_kept_only_as_hashes,
    |store: Store| async move {
        let email = Email::parse("owner@agency.test").unwrap();
        assert!(matches!(
            store
                .create_user(&actor(), &email, "", Role::Owner, "short")
                .await,
            Err(StoreError::Invalid(_))
        ));
        let user = store
            .create_user(
                &actor(),
                &email,
                "Olive",
                Role::Owner,
                "correct horse battery",
            )
            .await
            .unwrap();
        assert!(matches!(
            store
                .create_user(&actor(), &email, "", Role::Staff, "another long one")
                .await,
            Err(StoreError::Conflict { field: "email", .. })
        ));
        assert!(store
            .authenticate("OWNER@agency.test", "correct horse battery")
            .await
            .unwrap()
            .is_some());
        assert!(store
            .authenticate("owner@agency.test", "wrong password!")
            .await
            .unwrap()
            .is_none());
        assert!(store
            .authenticate("nobody@agency.test", "correct horse battery")
            .await
            .unwrap()
            .is_none());

        let session = store.create_session(user.id).await.unwrap();
        let found = store.session_user(&session.secret).await.unwrap().unwrap();
        assert_eq!(found.user.email, "owner@agency.test");
        assert_eq!(found.csrf_token, session.csrf_token);
        store.delete_session(&session.secret).await.unwrap();
        assert!(store.session_user(&session.secret).await.unwrap().is_none());

        let (token, secret) = store
            .create_token(&actor(), "zapier", Scope::Read, Some(user.id))
            .await
            .unwrap();
        assert!(secret.starts_with(&token.prefix));
        assert_eq!(
            store.token_by_secret(&secret).await.unwrap().unwrap().scope,
            Scope::Read
        );
        let stored: Vec<String> = tend_store::with_pool!(&store.db, p => sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_all(p).await).unwrap();
        assert!(!stored.contains(&secret));
        store.revoke_token(&actor(), token.id).await.unwrap();
        assert!(store.token_by_secret(&secret).await.unwrap().is_none());
    }
);

story!(
    a_client_export_holds_everything_stored_about_the_client,
    |store: Store| async move {
        let id = add_client(&store, "Acme", "acme", "GROWTH").await;
        add_client(&store, "Other", "other", "STARTER").await;
        let ana = ContactDraft {
            name: "Ana".into(),
            email: "ana@acme.test".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        store.create_contact(&actor(), id, &ana).await.unwrap();
        let export = store.export_client("acme").await.unwrap();
        assert_eq!(export.client.slug, "acme");
        assert_eq!(export.contacts.len(), 1);
        assert_eq!(export.contracts.len(), 1);
        assert_eq!(export.contracts[0].plan_history.len(), 1);
        assert_eq!(export.plans.len(), 1);
        assert_eq!(export.audit_log.len(), 3);
        let json = serde_json::to_string(&export).unwrap();
        assert!(
            !json.contains("\"other\""),
            "another client's data must not leak into the export"
        );
    }
);

#[tokio::test]
async fn a_sqlite_backup_is_a_database_that_opens() {
    let (store, dir) = harness::sqlite().await;
    add_client(&store, "Acme", "acme", "GROWTH").await;
    let target = dir.0.join("backup.db");
    store.backup_to(&target).await.unwrap();
    assert!(
        matches!(store.backup_to(&target).await, Err(StoreError::Invalid(_))),
        "an existing file is never overwritten"
    );
    let copy = Store::connect(&format!("sqlite://{}", target.display()))
        .await
        .unwrap();
    assert_eq!(copy.count_clients().await.unwrap(), 1);
}

#[tokio::test]
async fn both_engines_have_the_same_tables_and_columns() {
    let (sqlite, _dir) = harness::sqlite().await;
    let Some(pg) = harness::postgres().await else {
        return;
    };
    assert_eq!(
        sqlite.schema_columns().await.unwrap(),
        pg.schema_columns().await.unwrap()
    );
}

#[tokio::test]
async fn two_instances_starting_at_once_on_one_postgres_both_migrate_safely() {
    let Some(first) = harness::postgres_empty().await else {
        return;
    };
    let url = first.1.clone();
    let second = Store::connect(&url).await.unwrap();
    let (a, b) = tokio::join!(first.0.migrate(), second.migrate());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(
        a.applied.is_empty() != b.applied.is_empty(),
        "exactly one instance applies the migrations"
    );
    assert_eq!(
        second.list_plans().await.unwrap().len(),
        3,
        "default plans are written once"
    );
}

mod tickets {
    use super::*;
    use tend_domain::ticket::{PostMortemDraft, TicketDraft, TicketStatus};
    use tend_store::tickets::{TicketFilter, Visibility};

    fn draft(title: &str) -> TicketDraft {
        TicketDraft {
            client: "acme".into(),
            title: title.into(),
            ..Default::default()
        }
    }

    story!(
        a_ticket_opens_as_new_with_its_history_and_audit,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            let mut d = draft("Leads stopped syncing to the CRM");
            d.severity = "p1".into();
            d.source = "email".into();
            let t = store
                .create_ticket(&actor(), &d.parse().unwrap())
                .await
                .unwrap();
            assert_eq!(t.status, TicketStatus::New);
            assert_eq!(t.client_slug, "acme");
            let events = store.ticket_events(t.number).await.unwrap();
            let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
            assert_eq!(kinds, ["created", "severity"]);
            let log = store
                .audit_log(Some("ticket"), PageRequest::default())
                .await
                .unwrap();
            assert_eq!(log.total, 1);
            let unknown = TicketDraft {
                client: "nope".into(),
                ..draft("x")
            };
            assert!(
                matches!(store.create_ticket(&actor(), &unknown.parse().unwrap()).await, Err(StoreError::Invalid(ref e)) if e.get("client").is_some())
            );
        }
    );

    story!(
        a_dependency_cycle_is_refused_and_names_the_cycle,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            let a = store
                .create_ticket(&actor(), &draft("A").parse().unwrap())
                .await
                .unwrap();
            let mut b = draft("B");
            b.blocked_by = format!("#{}", a.number);
            let b = store
                .create_ticket(&actor(), &b.parse().unwrap())
                .await
                .unwrap();
            let mut a_again = draft("A");
            a_again.blocked_by = format!("#{}", b.number);
            let err = store
                .update_ticket(&actor(), a.number, &a_again.parse().unwrap())
                .await
                .unwrap_err();
            match err {
                StoreError::Invalid(e) => {
                    assert!(e.get("blocked_by").unwrap().contains("cycle"), "{e}")
                }
                other => panic!("{other:?}"),
            }
            let mut missing = draft("C");
            missing.blocked_by = "#999".into();
            assert!(matches!(
                store
                    .create_ticket(&actor(), &missing.parse().unwrap())
                    .await,
                Err(StoreError::Invalid(_))
            ));
        }
    );

    story!(
        a_public_reply_is_the_first_response_and_an_internal_note_is_not,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            let t = store
                .create_ticket(&actor(), &draft("A").parse().unwrap())
                .await
                .unwrap();
            store
                .add_message(
                    &actor(),
                    None,
                    t.number,
                    Visibility::Internal,
                    "checking the logs",
                )
                .await
                .unwrap();
            assert!(store
                .ticket(t.number)
                .await
                .unwrap()
                .first_response_at
                .is_none());
            store
                .add_message(
                    &actor(),
                    None,
                    t.number,
                    Visibility::Public,
                    "Got it, looking now",
                )
                .await
                .unwrap();
            let first = store
                .ticket(t.number)
                .await
                .unwrap()
                .first_response_at
                .unwrap();
            store
                .add_message(&actor(), None, t.number, Visibility::Public, "Update")
                .await
                .unwrap();
            assert_eq!(
                store.ticket(t.number).await.unwrap().first_response_at,
                Some(first)
            );
            assert_eq!(store.ticket_messages(t.number).await.unwrap().len(), 3);
            assert!(matches!(
                store
                    .add_message(&actor(), None, t.number, Visibility::Public, "  ")
                    .await,
                Err(StoreError::Invalid(_))
            ));
        }
    );

    story!(
        a_p1_ticket_closes_only_with_a_post_mortem,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            let mut d = draft("Checkout down");
            d.severity = "p1".into();
            let t = store
                .create_ticket(&actor(), &d.parse().unwrap())
                .await
                .unwrap();
            store
                .set_ticket_status(&actor(), t.number, TicketStatus::WaitingOnClient)
                .await
                .unwrap();
            store
                .set_ticket_status(&actor(), t.number, TicketStatus::Resolved)
                .await
                .unwrap();
            let err = store
                .set_ticket_status(&actor(), t.number, TicketStatus::Closed)
                .await
                .unwrap_err();
            assert!(
                matches!(err, StoreError::Invalid(ref e) if e.get("status").unwrap().contains("post-mortem"))
            );
            let pm = PostMortemDraft {
                root_cause: "Expired token".into(),
                fix: "Rotated it".into(),
                prevention: "Expiry reminder".into(),
                monitoring_added: "Heartbeat".into(),
            };
            store
                .save_post_mortem(&actor(), t.number, &pm.parse().unwrap())
                .await
                .unwrap();
            let closed = store
                .set_ticket_status(&actor(), t.number, TicketStatus::Closed)
                .await
                .unwrap();
            assert!(closed.closed_at.is_some() && closed.resolved_at.is_some());
            let kinds: Vec<String> = store
                .ticket_events(t.number)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.kind == "status")
                .filter_map(|e| e.to)
                .collect();
            assert_eq!(kinds, ["waiting-on-client", "resolved", "closed"]);
        }
    );

    story!(
        the_incomplete_filter_agrees_with_the_domain_rule,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            let email = Email::parse("owner@agency.test").unwrap();
            store
                .create_user(
                    &actor(),
                    &email,
                    "Owner",
                    Role::Owner,
                    "a long enough password",
                )
                .await
                .unwrap();
            store
                .create_ticket(&actor(), &draft("bare").parse().unwrap())
                .await
                .unwrap();
            let full = TicketDraft {
                source: "email".into(),
                severity: "p2".into(),
                owner_email: "owner@agency.test".into(),
                blocked_by: "none".into(),
                expected_outcome: "Leads land in the CRM again".into(),
                next_action: "Re-authenticate the Zapier connection".into(),
                ..draft("complete")
            };
            store
                .create_ticket(&actor(), &full.parse().unwrap())
                .await
                .unwrap();
            let all = store
                .list_tickets(&TicketFilter::default(), PageRequest::default())
                .await
                .unwrap();
            assert_eq!(all.total, 2);
            let incomplete = store
                .list_tickets(
                    &TicketFilter {
                        incomplete: true,
                        ..Default::default()
                    },
                    PageRequest::default(),
                )
                .await
                .unwrap();
            assert_eq!(incomplete.total, 1);
            for t in &all.items {
                assert_eq!(t.missing().is_empty(), t.title == "complete", "{}", t.title);
            }
            let p2 = store
                .list_tickets(
                    &TicketFilter {
                        severity: Some(tend_domain::plan::Severity::P2),
                        open_only: true,
                        ..Default::default()
                    },
                    PageRequest::default(),
                )
                .await
                .unwrap();
            assert_eq!(p2.items.len(), 1);
        }
    );

    story!(
        a_p1_ticket_on_growth_has_two_clocks_that_pause_while_waiting_on_the_client,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            let mut d = draft("Checkout down");
            d.severity = "p1".into();
            let t = store
                .create_ticket(&actor(), &d.parse().unwrap())
                .await
                .unwrap();
            let now = jiff::Timestamp::now();
            let clocks = store.ticket_clocks(t.number, now).await.unwrap();
            let names: Vec<&str> = clocks.iter().map(|c| c.name).collect();
            assert_eq!(names, ["First response", "Resolution"]);
            assert!(clocks[0].target.starts_with("8 h"), "{}", clocks[0].target);
            assert!(
                !clocks[0]
                    .timeline
                    .iter()
                    .any(|l| l.text.contains("target changed")),
                "a ticket opened as P1 starts on P1's target: {:?}",
                clocks[0].timeline
            );
            assert!(clocks.iter().all(|c| !c.paused && c.due_at.is_some()));
            store
                .set_ticket_status(&actor(), t.number, TicketStatus::WaitingOnClient)
                .await
                .unwrap();
            let later = jiff::Timestamp::now();
            let clocks = store.ticket_clocks(t.number, later).await.unwrap();
            assert!(clocks.iter().all(|c| c.paused), "{clocks:?}");
            assert!(
                clocks[1]
                    .timeline
                    .iter()
                    .any(|l| l.text.contains("paused") || l.text.contains("Paused")),
                "{:?}",
                clocks[1].timeline
            );
            store
                .add_message(&actor(), None, t.number, Visibility::Public, "On it")
                .await
                .unwrap();
            let clocks = store
                .ticket_clocks(t.number, jiff::Timestamp::now())
                .await
                .unwrap();
            assert_eq!(clocks[0].state, "met-in-time");
            let contract = store.client_contracts(t.client_id).await.unwrap().remove(0);
            let ended = ContractDraft {
                plan: "GROWTH".into(),
                state: "ended".into(),
                start_date: contract.start_date.to_string(),
                ..Default::default()
            }
            .parse(date(2026, 11, 1))
            .unwrap();
            store
                .update_contract(&actor(), contract.id, &ended, date(2026, 11, 21))
                .await
                .unwrap();
            assert!(
                store
                    .ticket_clocks(t.number, jiff::Timestamp::now())
                    .await
                    .unwrap()
                    .is_empty(),
                "an ended contract promises nothing"
            );
        }
    );
}

mod attainment {
    use super::*;
    use tend_domain::attainment::{DateRange, GroupBy, Period};
    use tend_domain::ticket::{TicketDraft, TicketStatus};
    use tend_store::attainment::AttainmentQuery;
    use tend_store::tickets::Visibility;

    fn ms(at: &str) -> i64 {
        at.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    async fn exec(store: &Store, sql: &str, a: i64, b: i64) {
        tend_store::with_pool!(&store.db, p => sqlx::query(sql).bind(a).bind(b).execute(p).await.map(|r| r.rows_affected()))
            .unwrap();
    }

    /// Opens a P1 ticket for `client`, answers and resolves it if asked, then moves its
    /// history to the given instants (UTC), as if it had happened then.
    async fn ticket(
        store: &Store,
        client: &str,
        created: &str,
        reply: Option<&str>,
        resolved: Option<&str>,
    ) -> i64 {
        let draft = TicketDraft {
            client: client.into(),
            title: format!("opened {created}"),
            severity: "p1".into(),
            ..Default::default()
        };
        let t = store
            .create_ticket(&actor(), &draft.parse().unwrap())
            .await
            .unwrap();
        let n = t.number;
        exec(
            store,
            "UPDATE tickets SET created_at = $1 WHERE id = $2",
            ms(created),
            n,
        )
        .await;
        exec(store, "UPDATE ticket_events SET at = $1 WHERE ticket_id = $2 AND kind IN ('created', 'severity')", ms(created), n).await;
        if let Some(at) = reply {
            store
                .add_message(&actor(), None, n, Visibility::Public, "On it")
                .await
                .unwrap();
            exec(
                store,
                "UPDATE tickets SET first_response_at = $1 WHERE id = $2",
                ms(at),
                n,
            )
            .await;
            exec(
                store,
                "UPDATE ticket_events SET at = $1 WHERE ticket_id = $2 AND kind = 'public-reply'",
                ms(at),
                n,
            )
            .await;
        }
        if let Some(at) = resolved {
            store
                .set_ticket_status(&actor(), n, TicketStatus::Resolved)
                .await
                .unwrap();
            exec(
                store,
                "UPDATE ticket_events SET at = $1 WHERE ticket_id = $2 AND kind = 'status'",
                ms(at),
                n,
            )
            .await;
        }
        n
    }

    fn query(by: GroupBy, client_id: Option<i64>) -> AttainmentQuery {
        AttainmentQuery {
            by,
            period: Period::Month,
            range: DateRange::new(date(2026, 1, 1), date(2026, 3, 31)).unwrap(),
            client_id,
        }
    }

    // GROWTH P1: first response in 8 business hours, resolution in 2 business days, on
    // Chicago's Monday to Friday 09:00–17:00 (CST is UTC−6 until 8 March).
    story!(
        attainment_counts_each_clock_once_in_the_month_it_was_decided,
        |store: Store| async move {
            let acme = add_client(&store, "Acme", "acme", "GROWTH").await;
            // Answered in an hour, resolved the next morning: both met in January.
            ticket(
                &store,
                "acme",
                "2026-01-06T15:00:00Z",
                Some("2026-01-06T16:00:00Z"),
                Some("2026-01-07T16:00:00Z"),
            )
            .await;
            // Opened Friday 16:00, due Monday 16:00; answered Tuesday: missed on Monday
            // 2 February, never resolved: missed at its due time, Tuesday 3 February.
            ticket(
                &store,
                "acme",
                "2026-01-30T22:00:00Z",
                Some("2026-02-03T16:00:00Z"),
                None,
            )
            .await;
            // Answered Saturday 20:00 in Chicago, already 1 February in UTC: January.
            ticket(
                &store,
                "acme",
                "2026-01-30T22:30:00Z",
                Some("2026-02-01T02:00:00Z"),
                None,
            )
            .await;
            // Answered in December (outside the range), resolved 2 January (inside).
            ticket(
                &store,
                "acme",
                "2025-12-31T22:00:00Z",
                Some("2025-12-31T22:30:00Z"),
                Some("2026-01-02T15:30:00Z"),
            )
            .await;
            // Entirely in November: not even loaded.
            ticket(
                &store,
                "acme",
                "2025-11-03T15:00:00Z",
                Some("2025-11-03T15:30:00Z"),
                Some("2025-11-04T15:00:00Z"),
            )
            .await;
            // Opened this morning: pending, in no count.
            ticket(&store, "acme", "2026-03-30T14:00:00Z", None, None).await;
            let now: jiff::Timestamp = "2026-03-30T15:00:00Z".parse().unwrap();

            let report = store
                .attainment(&query(GroupBy::Client, None), now)
                .await
                .unwrap();
            let rows: Vec<(String, String, String, String)> = report
                .attainment
                .rows
                .iter()
                .map(|r| {
                    (
                        r.group.clone(),
                        r.period.label.clone(),
                        r.attained.response.to_string(),
                        r.attained.resolution.to_string(),
                    )
                })
                .collect();
            assert_eq!(
                rows,
                [
                    (
                        "acme".into(),
                        "2026-01".into(),
                        "100 % (2/2)".into(),
                        "100 % (2/2)".into()
                    ),
                    (
                        "acme".into(),
                        "2026-02".into(),
                        "0 % (0/1)".into(),
                        "0 % (0/2)".into()
                    ),
                ]
            );
            assert!(report.unmeasured.is_empty());

            let by_plan = store
                .attainment(&query(GroupBy::Plan, Some(acme)), now)
                .await
                .unwrap();
            assert_eq!(by_plan.attainment.totals[0].group, "GROWTH");
            assert_eq!(by_plan.attainment.overall, report.attainment.overall);
            let by_severity = store
                .attainment(&query(GroupBy::Severity, None), now)
                .await
                .unwrap();
            assert_eq!(by_severity.attainment.totals[0].group, "p1");
            assert_eq!(by_severity.attainment.overall.response.total(), 3);

            // A month later nothing about January or February has moved.
            let later: jiff::Timestamp = "2026-04-30T15:00:00Z".parse().unwrap();
            let again = store
                .attainment(&query(GroupBy::Client, None), later)
                .await
                .unwrap();
            assert_eq!(again.attainment.rows[..2], report.attainment.rows[..]);
            // …and the ticket opened on 30 March, never answered, missed in March.
            assert_eq!(again.attainment.rows[2].period.label, "2026-03");
        }
    );

    story!(
        clients_without_a_served_contract_count_nowhere_and_unmeasurable_tickets_are_named,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            let zeta = add_client(&store, "Zeta", "zeta", "STARTER").await;
            ticket(
                &store,
                "zeta",
                "2026-01-06T15:00:00Z",
                Some("2026-01-06T16:00:00Z"),
                None,
            )
            .await;
            let contract = store.client_contracts(zeta).await.unwrap().remove(0);
            let ended = ContractDraft {
                plan: "STARTER".into(),
                state: "ended".into(),
                start_date: contract.start_date.to_string(),
                ..Default::default()
            }
            .parse(date(2026, 11, 1))
            .unwrap();
            store
                .update_contract(&actor(), contract.id, &ended, date(2026, 11, 21))
                .await
                .unwrap();
            // A calendar with no business hours at all: business time never passes.
            let mut night = client_draft("Night", "night");
            night.business_hours = "mon closed".into();
            let mut tx = store.begin().await.unwrap();
            let id = store
                .insert_client(&mut tx, &actor(), &night.parse().unwrap())
                .await
                .unwrap();
            let growth = ContractDraft {
                plan: "GROWTH".into(),
                ..Default::default()
            }
            .parse(date(2025, 11, 1))
            .unwrap();
            store
                .insert_contract(&mut tx, &actor(), id, &growth)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            let dark = ticket(&store, "night", "2026-01-06T15:00:00Z", None, None).await;

            let now: jiff::Timestamp = "2026-03-30T15:00:00Z".parse().unwrap();
            let report = store
                .attainment(&query(GroupBy::Client, None), now)
                .await
                .unwrap();
            assert!(
                report.attainment.rows.is_empty(),
                "{:?}",
                report.attainment.rows
            );
            assert_eq!(report.unmeasured.len(), 1);
            assert_eq!(report.unmeasured[0].number, dark);
            assert!(report.unmeasured[0].reason.contains("no business hours"));
        }
    );
}

mod holidays {
    use super::*;
    use tend_domain::calendar::parse_holidays;

    story!(
        imported_holidays_join_the_calendar_keeping_existing_names_audited_once,
        |store: Store| async move {
            let mut draft = client_draft("Acme", "acme");
            draft.holidays = "2026-12-25 Office closed".into();
            store
                .create_client(&actor(), &draft.parse().unwrap())
                .await
                .unwrap();
            let offered =
                parse_holidays("2026-12-25 Christmas Day\n2026-12-26 Boxing Day").unwrap();
            let (client, merge) = store
                .add_holidays(&actor(), "acme", &offered, "holidays.ics")
                .await
                .unwrap();
            assert_eq!(merge.added.len(), 1);
            let names: Vec<String> = client
                .holidays
                .iter()
                .map(|h| format!("{} {}", h.date, h.name))
                .collect();
            assert_eq!(names, ["2026-12-25 Office closed", "2026-12-26 Boxing Day"]);
            let log = store
                .client_audit(client.id, PageRequest::default())
                .await
                .unwrap();
            assert_eq!(
                log.items[0].summary,
                "added 1 holiday to Acme from holidays.ics"
            );
            assert_eq!(log.total, 2);
            // Offering the same again changes nothing and records nothing.
            let (_, again) = store
                .add_holidays(&actor(), "acme", &offered, "holidays.ics")
                .await
                .unwrap();
            assert!(again.added.is_empty());
            assert_eq!(again.already_listed.len(), 2);
            assert_eq!(
                store
                    .client_audit(client.id, PageRequest::default())
                    .await
                    .unwrap()
                    .total,
                2
            );
            assert!(matches!(
                store.add_holidays(&actor(), "nope", &offered, "x").await,
                Err(StoreError::NotFound(_))
            ));
        }
    );
}

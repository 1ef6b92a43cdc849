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
        assert_eq!(growth.terms.sla.len(), 12);
        let spec = |kind: tend_domain::plan::TargetKind| {
            let t = growth
                .terms
                .sla
                .iter()
                .find(|t| t.severity == tend_domain::plan::Severity::P1 && t.kind == kind);
            t.map(|t| t.spec())
        };
        assert_eq!(
            spec(tend_domain::plan::TargetKind::NextUpdate).as_deref(),
            Some("8h")
        );
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

mod changes {
    use super::*;
    use tend_domain::change::{ChangeDraft, QaResult, ReleaseDraft, ReleaseState};
    use tend_domain::ticket::TicketDraft;
    use tend_store::changes::ReleaseFilter;

    async fn ticket(store: &Store, client: &str, title: &str) -> i64 {
        let d = TicketDraft {
            client: client.into(),
            title: title.into(),
            ..Default::default()
        };
        store
            .create_ticket(&actor(), &d.parse().unwrap())
            .await
            .unwrap()
            .number
    }

    async fn release(store: &Store, client: &str, name: &str) -> i64 {
        let d = ReleaseDraft {
            client: client.into(),
            name: name.into(),
            planned_for: "2026-11-20".into(),
        };
        store
            .create_release(&actor(), &d.parse().unwrap())
            .await
            .unwrap()
            .id
    }

    /// A change that passed QA before and after release, in `release`.
    fn verified(release: Option<i64>) -> ChangeDraft {
        ChangeDraft {
            what_changed: "The booking webhook sends the rotated secret".into(),
            systems_touched: "GoHighLevel, Zapier".into(),
            qa_before_path: "Submit a staging booking; the contact appears".into(),
            qa_before_result: "pass".into(),
            qa_after_path: "Submit a live booking; the contact appears within 1 min".into(),
            qa_after_result: "pass".into(),
            release_id: release.map(|id| id.to_string()).unwrap_or_default(),
            client_notes: "Bookings reach your CRM again.".into(),
        }
    }

    async fn save(store: &Store, number: i64, d: ChangeDraft) -> Result<bool, StoreError> {
        store
            .save_change(&actor(), number, &d.parse().unwrap())
            .await
            .map(|(_, created)| created)
    }

    story!(
        a_ticket_has_one_change_record_that_is_replaced_and_audited,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            let n = ticket(&store, "acme", "Bookings stopped").await;
            assert!(store.ticket_change(n).await.unwrap().is_none());
            assert!(save(&store, n, verified(None)).await.unwrap(), "created");
            let mut d = verified(None);
            d.qa_after_result = "fail".into();
            assert!(!save(&store, n, d).await.unwrap(), "replaced");
            let c = store.ticket_change(n).await.unwrap().unwrap();
            assert_eq!(c.change.systems_touched, ["GoHighLevel", "Zapier"]);
            assert_eq!(c.change.qa_after_result, QaResult::Fail);
            assert_eq!(c.ticket_title, "Bookings stopped");
            assert!(c.release.is_none());
            let log = store
                .audit_log(Some("change"), PageRequest::default())
                .await
                .unwrap();
            assert_eq!(log.total, 2);
            assert_eq!(log.items[0].action, "update");
            let fields: Vec<&str> = log.items[0]
                .changes
                .iter()
                .map(|f| f.field.as_str())
                .collect();
            assert_eq!(fields, ["qa_after_result"]);
            assert!(matches!(
                save(&store, 999, verified(None)).await,
                Err(StoreError::NotFound(_))
            ));
        }
    );

    story!(
        a_change_joins_only_a_planned_release_of_its_own_client,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            add_client(&store, "Beta", "beta", "STARTER").await;
            let n = ticket(&store, "acme", "Bookings stopped").await;
            let theirs = release(&store, "beta", "Beta window").await;
            let refused = save(&store, n, verified(Some(theirs))).await.unwrap_err();
            assert!(
                matches!(&refused, StoreError::Invalid(e) if e.get("release_id").unwrap().contains("another client")),
                "{refused:?}"
            );
            assert!(matches!(
                save(&store, n, verified(Some(999))).await,
                Err(StoreError::Invalid(ref e)) if e.get("release_id") == Some("there is no release 999")
            ));
            assert!(
                store.ticket_change(n).await.unwrap().is_none(),
                "nothing half-written"
            );
            let ours = release(&store, "acme", "Acme window").await;
            save(&store, n, verified(Some(ours))).await.unwrap();
            let c = store.ticket_change(n).await.unwrap().unwrap();
            assert_eq!(c.release.unwrap().name, "Acme window");
            assert_eq!(store.release(ours).await.unwrap().change_count, 1);
        }
    );

    story!(
        a_release_is_marked_released_only_when_every_change_passed_qa_and_is_then_frozen,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            let id = release(&store, "acme", "November window").await;
            let empty = store.mark_released(&actor(), id).await.unwrap_err();
            assert!(matches!(empty, StoreError::Guarded(ref m) if m.contains("no changes")));
            let a = ticket(&store, "acme", "Bookings stopped").await;
            let b = ticket(&store, "acme", "Add a UTM field").await;
            save(&store, a, verified(Some(id))).await.unwrap();
            let mut untested = verified(Some(id));
            untested.qa_after_result = "".into();
            save(&store, b, untested).await.unwrap();
            let refused = store.mark_released(&actor(), id).await.unwrap_err();
            match refused {
                StoreError::Guarded(m) => {
                    assert!(m.ends_with(&format!("#{b} after release: not run")), "{m}")
                }
                other => panic!("{other:?}"),
            }
            let still = store.release(id).await.unwrap();
            assert_eq!(
                still.state,
                ReleaseState::Planned,
                "the refusal undid the mark"
            );
            assert!(still.released_at.is_none());
            assert_eq!(
                store.release_verdict(&still).await.unwrap(),
                Err(format!("a release goes out only when every change in it passed QA before and after release; still short: #{b} after release: not run"))
            );

            save(&store, b, verified(Some(id))).await.unwrap();
            let released = store.mark_released(&actor(), id).await.unwrap();
            assert_eq!(released.state, ReleaseState::Released);
            assert!(released.released_at.is_some());
            assert_eq!(released.released_by.as_deref(), Some("test"));
            assert!(matches!(
                store.mark_released(&actor(), id).await,
                Err(StoreError::Guarded(ref m)) if m.contains("already released")
            ));

            let frozen = save(&store, a, verified(None)).await.unwrap_err();
            assert!(
                matches!(frozen, StoreError::Guarded(ref m) if m.contains("kept as it went out"))
            );
            let c = ticket(&store, "acme", "Late fix").await;
            assert!(matches!(
                save(&store, c, verified(Some(id))).await,
                Err(StoreError::Invalid(ref e)) if e.get("release_id").unwrap().contains("already released")
            ));
            let rename = ReleaseDraft {
                client: "acme".into(),
                name: "Renamed".into(),
                planned_for: String::new(),
            };
            assert!(matches!(
                store
                    .update_release(&actor(), id, &rename.parse().unwrap())
                    .await,
                Err(StoreError::Guarded(_))
            ));
            assert!(matches!(
                store.delete_release(&actor(), id).await,
                Err(StoreError::Guarded(_))
            ));
            let log = store
                .audit_log(Some("release"), PageRequest::default())
                .await
                .unwrap();
            assert_eq!(log.total, 2, "planned, then released: {:?}", log.items);
            assert!(log.items[0].summary.contains("with 2 changes"));

            let changes = store.release_changes(id).await.unwrap();
            let md = released.notes(&changes).markdown();
            assert!(
                md.starts_with("# Release notes: Acme — November window\n\nReleased "),
                "{md}"
            );
            let first = md.find(&format!("## #{a} Bookings stopped")).unwrap();
            let second = md.find(&format!("## #{b} Add a UTM field")).unwrap();
            assert!(first < second);
            assert!(md.contains("- Systems touched: GoHighLevel, Zapier"));
            assert!(md.contains("Bookings reach your CRM again."));
        }
    );

    story!(
        releases_are_listed_per_client_and_named_once_per_client,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            add_client(&store, "Beta", "beta", "STARTER").await;
            let first = release(&store, "acme", "Window").await;
            let d = ReleaseDraft {
                client: "acme".into(),
                name: "Window".into(),
                planned_for: String::new(),
            };
            assert!(matches!(
                store.create_release(&actor(), &d.parse().unwrap()).await,
                Err(StoreError::Conflict { field: "name", .. })
            ));
            release(&store, "beta", "Window").await;
            let later = ReleaseDraft {
                client: "acme".into(),
                name: "Later".into(),
                planned_for: String::new(),
            };
            let later = store
                .create_release(&actor(), &later.parse().unwrap())
                .await
                .unwrap();
            let all = store
                .list_releases(&ReleaseFilter::default(), PageRequest::default())
                .await
                .unwrap();
            let names: Vec<(&str, &str)> = all
                .items
                .iter()
                .map(|r| (r.client_slug.as_str(), r.name.as_str()))
                .collect();
            assert_eq!(
                names,
                [("acme", "Window"), ("acme", "Later"), ("beta", "Window")],
                "per client, dated before undated"
            );
            let acme_id = all.items[0].client_id;
            let acme = store
                .list_releases(
                    &ReleaseFilter {
                        client_id: Some(acme_id),
                        state: Some(ReleaseState::Planned),
                    },
                    PageRequest::default(),
                )
                .await
                .unwrap();
            assert_eq!(acme.total, 2);

            let moved = ReleaseDraft {
                client: "acme".into(),
                name: "December window".into(),
                planned_for: "2026-12-04".into(),
            };
            let moved = store
                .update_release(&actor(), later.id, &moved.parse().unwrap())
                .await
                .unwrap();
            assert_eq!(moved.planned_for, Some(date(2026, 12, 4)));
            let elsewhere = tend_domain::change::ReleaseInput {
                client: tend_domain::slug::Slug::parse("beta").unwrap(),
                name: "x".into(),
                planned_for: None,
            };
            assert!(matches!(
                store.update_release(&actor(), first, &elsewhere).await,
                Err(StoreError::Invalid(ref e)) if e.get("client").is_some()
            ));

            let n = ticket(&store, "acme", "Bookings stopped").await;
            save(&store, n, verified(Some(first))).await.unwrap();
            store.delete_release(&actor(), first).await.unwrap();
            assert!(matches!(
                store.release(first).await,
                Err(StoreError::NotFound(_))
            ));
            let kept = store.ticket_change(n).await.unwrap().unwrap();
            assert!(
                kept.release.is_none(),
                "the change stays, without a release"
            );
        }
    );
}

mod outbox {
    use super::*;
    use tend_domain::delivery::AfterFailure;
    use tend_store::outbox::{NewMessage, OutboxView, EMAIL};

    fn message(key: &str) -> NewMessage {
        NewMessage {
            event_key: key.into(),
            channel: EMAIL,
            recipient: "ann@agency.test".into(),
            subject: format!("about {key}"),
            body: "body".into(),
            client_id: None,
            ticket_id: None,
        }
    }

    story!(
        one_event_is_one_message_however_often_it_is_written,
        |store: Store| async move {
            assert!(store.enqueue_message(&message("e1"), 1_000).await.unwrap());
            assert!(!store.enqueue_message(&message("e1"), 2_000).await.unwrap());
            assert!(store.enqueue_message(&message("e2"), 3_000).await.unwrap());
            let all = store
                .list_outbox(OutboxView::All, PageRequest::default())
                .await
                .unwrap();
            assert_eq!(all.total, 2);
            assert!(all.items.iter().all(|m| m.state == "pending"));
        }
    );

    story!(
        a_claim_holds_its_messages_until_its_lease_runs_out,
        |store: Store| async move {
            store.enqueue_message(&message("e1"), 1_000).await.unwrap();
            store.enqueue_message(&message("e2"), 1_000).await.unwrap();
            let first = store.claim_outbox(2_000, 10_000, 10).await.unwrap();
            assert_eq!(first.len(), 2);
            assert!(first
                .iter()
                .all(|m| m.state == "sending" && m.attempts == 1));
            assert!(store
                .claim_outbox(3_000, 11_000, 10)
                .await
                .unwrap()
                .is_empty());
            // Only the lease holder may mark it sent.
            assert!(!store
                .outbox_delivered(first[0].id, 99, 4_000)
                .await
                .unwrap());
            assert!(store
                .outbox_delivered(first[0].id, 10_000, 4_000)
                .await
                .unwrap());
            // The other claim's holder died: after its lease, it is claimed again.
            let again = store.claim_outbox(10_001, 20_000, 10).await.unwrap();
            assert_eq!(again.len(), 1);
            assert_eq!((again[0].id, again[0].attempts), (first[1].id, 2));
            let sent = store.outbox_message(first[0].id).await.unwrap();
            assert_eq!((sent.state.as_str(), sent.sent_at), ("sent", Some(4_000)));
        }
    );

    story!(
        failures_back_off_then_give_up_and_an_operator_can_retry,
        |store: Store| async move {
            store.enqueue_message(&message("e1"), 0).await.unwrap();
            let mut now = 0;
            let mut outcomes = Vec::new();
            loop {
                let claimed = store.claim_outbox(now, now + 1_000, 1).await.unwrap();
                let Some(m) = claimed.first() else { break };
                let next = store
                    .outbox_failed(m, now + 1_000, "connection refused", false, now)
                    .await
                    .unwrap();
                outcomes.push(next);
                now += 3_600_000;
            }
            assert_eq!(outcomes.len() as i64, tend_domain::delivery::MAX_ATTEMPTS);
            assert_eq!(outcomes.last(), Some(&AfterFailure::GiveUp));
            let failed = store
                .list_outbox(OutboxView::Trouble, PageRequest::default())
                .await
                .unwrap();
            assert_eq!(failed.items[0].state, "failed");
            assert_eq!(
                failed.items[0].last_error.as_deref(),
                Some("connection refused")
            );
            let id = failed.items[0].id;
            store.retry_outbox(&actor(), id, now).await.unwrap();
            assert_eq!(
                store.claim_outbox(now, now + 1_000, 1).await.unwrap().len(),
                1
            );
            assert!(matches!(
                store.retry_outbox(&actor(), id, now).await,
                Err(StoreError::Guarded(_))
            ));
            let audit = store
                .audit_log(Some("outbox"), PageRequest::default())
                .await
                .unwrap();
            assert_eq!(audit.total, 1);
        }
    );

    story!(
        a_recurring_slot_runs_once_however_many_ask,
        |store: Store| async move {
            assert!(store.claim_job_slot("sla-scan", 10, "a", 1).await.unwrap());
            assert!(!store.claim_job_slot("sla-scan", 10, "b", 2).await.unwrap());
            assert!(!store.claim_job_slot("sla-scan", 9, "b", 2).await.unwrap());
            assert!(store.claim_job_slot("sla-scan", 11, "b", 3).await.unwrap());
            assert!(store.claim_job_slot("other", 1, "b", 3).await.unwrap());
            store
                .finish_job_slot("sla-scan", 11, "0 warnings", 4)
                .await
                .unwrap();
            let runs = store.job_runs().await.unwrap();
            assert_eq!(runs.len(), 2);
            assert_eq!(runs[1].0, "sla-scan");
            assert_eq!(runs[1].5.as_deref(), Some("0 warnings"));
        }
    );
}

mod messages {
    use super::*;
    use tend_domain::contact::ContactDraft;
    use tend_domain::message_template::{render, MessageTemplate, TemplateKind};
    use tend_domain::ticket::TicketDraft;
    use tend_store::outbox::OutboxView;

    async fn ticket_with_contacts(store: &Store) -> i64 {
        let client = add_client(store, "Acme Dental", "acme", "GROWTH").await;
        for (name, email) in [("Dana Reyes", "dana@acme.test"), ("Bo Li", "bo@acme.test")] {
            let c = ContactDraft {
                name: name.into(),
                email: email.into(),
                role: "requester".into(),
                ..Default::default()
            }
            .parse()
            .unwrap();
            store.create_contact(&actor(), client, &c).await.unwrap();
        }
        let t = TicketDraft {
            client: "acme".into(),
            title: "Leads stopped".into(),
            severity: "p1".into(),
            next_action: "Re-authorise the connector".into(),
            ..Default::default()
        };
        store
            .create_ticket(&actor(), &t.parse().unwrap())
            .await
            .unwrap()
            .number
    }

    story!(
        an_edited_template_is_checked_kept_audited_and_can_be_reset,
        |store: Store| async move {
            let all = store.message_templates().await.unwrap();
            assert_eq!(
                all.len(),
                6,
                "four ticket messages and two hour-bank emails"
            );
            assert!(all.iter().all(|t| t.is_default));
            let typo = MessageTemplate {
                subject: "About {{ ticket.titel }}".into(),
                body: "Hi".into(),
            };
            match store
                .save_message_template(&actor(), TemplateKind::Acknowledge, &typo)
                .await
            {
                Err(StoreError::Invalid(e)) => assert!(e.get("subject").is_some()),
                other => panic!("{other:?}"),
            }
            let mine = MessageTemplate {
                subject: "On it: {{ ticket.title }}".into(),
                body: "Hello {{ contact.first_name }}, on it. {{ agent.name }}".into(),
            };
            let saved = store
                .save_message_template(&actor(), TemplateKind::Acknowledge, &mine)
                .await
                .unwrap();
            assert!(!saved.is_default);
            assert_eq!(saved.template, mine);
            let reset = store
                .reset_message_template(&actor(), TemplateKind::Acknowledge)
                .await
                .unwrap();
            assert!(reset.is_default);
            let audit = store
                .audit_log(Some("message_template"), PageRequest::default())
                .await
                .unwrap();
            assert_eq!(audit.total, 2);
        }
    );

    story!(
        sending_puts_one_reply_on_the_thread_and_one_email_per_contact,
        |store: Store| async move {
            let n = ticket_with_contacts(&store).await;
            let to = store.ticket_recipients(n).await.unwrap();
            assert_eq!(to.len(), 2);
            let context = store
                .message_context(n, &to, "Maya Chen", jiff::Timestamp::now())
                .await
                .unwrap();
            assert_eq!(
                context.contact.first_name, "Bo and Dana",
                "contacts by name"
            );
            assert!(!context.update_by.is_empty(), "GROWTH P1 updates every 8 h");
            let template = store
                .message_template(TemplateKind::Acknowledge)
                .await
                .unwrap();
            let message = render(&template.template, &context).unwrap();
            assert!(message
                .body
                .contains("Next step: Re-authorise the connector"));

            let sent = store
                .send_ticket_message(&actor(), None, n, &message, &to)
                .await
                .unwrap();
            assert_eq!(
                sent.emailed_to.as_deref(),
                Some("bo@acme.test, dana@acme.test")
            );
            let thread = store.ticket_messages(n).await.unwrap();
            assert_eq!(thread.len(), 1);
            assert_eq!(thread[0].visibility, "public");
            let queued = store.ticket_outbox(n).await.unwrap();
            assert_eq!(queued.len(), 2);
            assert_eq!(queued[1].recipient, "Dana Reyes <dana@acme.test>");
            assert_eq!(queued[0].subject, message.subject);
            // The email is the first response, as any public reply.
            let clocks = store
                .ticket_clocks(n, jiff::Timestamp::now())
                .await
                .unwrap();
            assert_eq!(clocks[0].state, "met-in-time");
            assert!(clocks.iter().any(|c| c.kind == "next-update"));
        }
    );

    story!(
        a_message_with_blanks_or_no_recipient_is_refused_and_nothing_is_written,
        |store: Store| async move {
            let n = ticket_with_contacts(&store).await;
            let to = store.ticket_recipients(n).await.unwrap();
            let context = store
                .message_context(n, &to, "Maya", jiff::Timestamp::now())
                .await
                .unwrap();
            let status = store
                .message_template(TemplateKind::StatusUpdate)
                .await
                .unwrap();
            let message = render(&status.template, &context).unwrap();
            match store
                .send_ticket_message(&actor(), None, n, &message, &to)
                .await
            {
                Err(StoreError::Invalid(e)) => {
                    assert!(e.get("body").unwrap().contains("[what you found]"))
                }
                other => panic!("{other:?}"),
            }
            match store
                .send_ticket_message(&actor(), None, n, &message, &[])
                .await
            {
                Err(StoreError::Invalid(e)) => assert!(e.get("recipients").is_some()),
                other => panic!("{other:?}"),
            }
            let stranger = tend_store::messages::Recipient {
                name: "Eve".into(),
                email: "eve@elsewhere.test".into(),
            };
            let filled = tend_domain::message_template::RenderedMessage {
                subject: "s".into(),
                body: "all filled in".into(),
            };
            assert!(store
                .send_ticket_message(&actor(), None, n, &filled, &[stranger])
                .await
                .is_err());
            assert!(store.ticket_messages(n).await.unwrap().is_empty());
            let outbox = store
                .list_outbox(OutboxView::All, PageRequest::default())
                .await
                .unwrap();
            assert_eq!(outbox.total, 0);
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

mod checks {
    use super::*;
    use tend_domain::check::{CheckDraft, CheckState, CheckUuid, MINUTE_MS};
    use tend_domain::ping_url::{PingTarget, Signal};
    use tend_store::checks::{CheckFilter, IncomingPing, PingOutcome};

    const T0: i64 = 1_800_000_000_000;

    async fn lead_sync(store: &Store) -> tend_store::checks::Check {
        add_client(store, "Acme Dental", "acme", "GROWTH").await;
        let input = CheckDraft {
            client: "acme".into(),
            name: "Lead sync".into(),
            workflow: "Typeform to HubSpot".into(),
            criticality: "revenue-critical".into(),
            period: "5m".into(),
            grace: "1m".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        store.create_check(&actor(), &input).await.unwrap()
    }

    fn ping(target: PingTarget, signal: Signal, at: i64) -> IncomingPing {
        IncomingPing {
            target,
            signal,
            rid: None,
            create: false,
            at,
            method: "POST".into(),
            body: "ok".into(),
            remote_addr: "127.0.0.1".into(),
            user_agent: "curl/8".into(),
        }
    }

    fn by_uuid(uuid: &str) -> PingTarget {
        PingTarget::Uuid(CheckUuid::parse(uuid).unwrap())
    }

    story!(
        a_check_is_added_listed_paused_and_resumed,
        |store: Store| async move {
            let check = lead_sync(&store).await;
            assert_eq!(check.state, CheckState::New);
            assert_eq!(check.slug, "lead-sync");
            assert_eq!(check.schedule_text(), "every 5m");
            assert!(CheckUuid::parse(&check.uuid).is_ok());
            let input = CheckDraft {
                client: "acme".into(),
                name: "Lead sync".into(),
                period: "1h".into(),
                ..Default::default()
            }
            .parse()
            .unwrap();
            assert!(
                matches!(
                    store.create_check(&actor(), &input).await,
                    Err(StoreError::Conflict { field: "slug", .. })
                ),
                "slugs are unique per client"
            );
            let page = store
                .checks(&CheckFilter::default(), PageRequest::default())
                .await
                .unwrap();
            assert_eq!(page.total, 1);
            let paused = store
                .set_check_paused(&actor(), &check.uuid, true)
                .await
                .unwrap();
            assert_eq!(paused.state, CheckState::Paused);
            let flips = store
                .check_flips(check.id, PageRequest::default())
                .await
                .unwrap();
            assert_eq!(flips.items[0].new_state, CheckState::Paused);
            let resumed = store
                .set_check_paused(&actor(), &check.uuid, false)
                .await
                .unwrap();
            assert_eq!(resumed.state, CheckState::New);
            let audit = store
                .client_audit(check.client_id, PageRequest::default())
                .await
                .unwrap();
            assert!(audit
                .items
                .iter()
                .any(|e| e.summary.contains("paused check")));
            assert!(audit
                .items
                .iter()
                .any(|e| e.summary.contains("added check")));
        }
    );

    story!(
        pings_move_a_check_and_are_kept_in_a_bounded_log,
        |store: Store| async move {
            let check = lead_sync(&store).await;
            let id = by_uuid(&check.uuid);
            let unknown = by_uuid("5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278");
            let outcomes = store
                .record_pings(
                    &[
                        ping(id.clone(), Signal::Success, T0),
                        ping(unknown, Signal::Success, T0),
                    ],
                    3,
                )
                .await
                .unwrap();
            assert_eq!(
                outcomes,
                [
                    PingOutcome::Stored { created: false },
                    PingOutcome::NotFound
                ]
            );
            let up = store.check(&check.uuid).await.unwrap();
            assert_eq!(up.state, CheckState::Up);
            assert_eq!(up.next_due_at, Some(T0 + 5 * MINUTE_MS));
            assert_eq!(up.down_at, Some(T0 + 6 * MINUTE_MS));
            // A log line changes nothing; a failure puts it down at once.
            store
                .record_pings(&[ping(id.clone(), Signal::Log, T0 + 1_000)], 3)
                .await
                .unwrap();
            assert_eq!(
                store.check(&check.uuid).await.unwrap().state,
                CheckState::Up
            );
            store
                .record_pings(&[ping(id.clone(), Signal::Exit(3), T0 + 2_000)], 3)
                .await
                .unwrap();
            let down = store.check(&check.uuid).await.unwrap();
            assert_eq!(down.state, CheckState::Down);
            assert_eq!(down.next_due_at, None);
            // A run with a run id gets its duration.
            let rid = "123e4567-e89b-12d3-a456-426614174000".to_string();
            let start = IncomingPing {
                rid: Some(rid.clone()),
                ..ping(id.clone(), Signal::Start, T0 + 10_000)
            };
            let end = IncomingPing {
                rid: Some(rid),
                ..ping(id.clone(), Signal::Success, T0 + 70_000)
            };
            store.record_pings(&[start, end], 3).await.unwrap();
            let pings = store
                .check_pings(check.id, PageRequest::default())
                .await
                .unwrap();
            assert_eq!(pings.total, 3, "only the newest 3 pings are kept");
            assert_eq!(pings.items[0].n, 5);
            assert_eq!(pings.items[0].duration_ms, Some(60_000));
            assert_eq!(pings.items[2].exit_status, Some(3));
            let hours = store.check_ping_hours(check.id, 0).await.unwrap();
            assert_eq!(hours.iter().map(|h| h.1).sum::<i64>(), 5);
            assert_eq!(hours.iter().map(|h| h.2).sum::<i64>(), 1);
            let flips = store
                .check_flips(check.id, PageRequest::default())
                .await
                .unwrap();
            let states: Vec<_> = flips.items.iter().rev().map(|f| f.new_state).collect();
            assert_eq!(states, [CheckState::Up, CheckState::Down, CheckState::Up]);
        }
    );

    story!(
        slug_urls_find_or_create_their_check,
        |store: Store| async move {
            let check = lead_sync(&store).await;
            let key = store.client_ping_key(check.client_id).await.unwrap();
            assert_eq!(store.client_ping_key(check.client_id).await.unwrap(), key);
            let slug = |slug: &str, create: bool| IncomingPing {
                create,
                ..ping(
                    PingTarget::Slug {
                        ping_key: key.clone(),
                        slug: slug.into(),
                    },
                    Signal::Success,
                    T0,
                )
            };
            let outcomes = store
                .record_pings(
                    &[
                        slug("lead-sync", false),
                        slug("backups", false),
                        slug("backups", true),
                        slug("backups", true),
                    ],
                    1_000,
                )
                .await
                .unwrap();
            assert_eq!(
                outcomes,
                [
                    PingOutcome::Stored { created: false },
                    PingOutcome::NotFound,
                    PingOutcome::Stored { created: true },
                    PingOutcome::Stored { created: false },
                ]
            );
            let wrong_key = IncomingPing {
                create: true,
                ..ping(
                    PingTarget::Slug {
                        ping_key: "nobody".into(),
                        slug: "backups".into(),
                    },
                    Signal::Success,
                    T0,
                )
            };
            assert_eq!(
                store.record_pings(&[wrong_key], 1_000).await.unwrap(),
                [PingOutcome::NotFound]
            );
            let page = store
                .checks(
                    &CheckFilter {
                        client_id: Some(check.client_id),
                        ..Default::default()
                    },
                    PageRequest::default(),
                )
                .await
                .unwrap();
            assert_eq!(page.total, 2);
            let created = page.items.iter().find(|c| c.slug == "backups").unwrap();
            assert_eq!(created.state, CheckState::Up);
            assert_eq!(created.schedule_text(), "every 1d");
        }
    );

    story!(
        the_watcher_flips_late_then_down_once,
        |store: Store| async move {
            let check = lead_sync(&store).await;
            store
                .record_pings(&[ping(by_uuid(&check.uuid), Signal::Success, T0)], 1_000)
                .await
                .unwrap();
            assert!(store
                .advance_due_checks(T0 + 5 * MINUTE_MS, 100)
                .await
                .unwrap()
                .is_empty());
            let late = store
                .advance_due_checks(T0 + 5 * MINUTE_MS + 1, 100)
                .await
                .unwrap();
            assert_eq!(late.len(), 1);
            assert_eq!(late[0].new_state, CheckState::Late);
            let down = store
                .advance_due_checks(T0 + 7 * MINUTE_MS, 100)
                .await
                .unwrap();
            assert_eq!(down.len(), 1);
            assert_eq!(
                (down[0].old_state, down[0].new_state),
                (CheckState::Late, CheckState::Down)
            );
            assert!(store
                .advance_due_checks(T0 + 60 * MINUTE_MS, 100)
                .await
                .unwrap()
                .is_empty());
            let stored = store.check(&check.uuid).await.unwrap();
            assert_eq!(stored.state, CheckState::Down);
            assert_eq!(stored.next_due_at, None);
            let states = store.check_state_counts().await.unwrap();
            assert_eq!(states, [(CheckState::Down, 1)]);
        }
    );

    story!(
        uptime_counts_the_time_down_from_the_state_changes,
        |store: Store| async move {
            let check = lead_sync(&store).await;
            let target = by_uuid(&check.uuid);
            store
                .record_pings(&[ping(target.clone(), Signal::Success, T0)], 1_000)
                .await
                .unwrap();
            store
                .advance_due_checks(T0 + 5 * MINUTE_MS + 1, 100)
                .await
                .unwrap();
            let down = store
                .advance_due_checks(T0 + 7 * MINUTE_MS, 100)
                .await
                .unwrap();
            let down_at = down[0].at;
            store
                .record_pings(&[ping(target, Signal::Success, T0 + 67 * MINUTE_MS)], 1_000)
                .await
                .unwrap();
            let check = store.check(&check.uuid).await.unwrap();
            let now = T0 + 127 * MINUTE_MS;
            let uptime = store.checks_uptime(&[&check], now).await.unwrap()[&check.id];
            // Up (and late) from the first ping until down; down until the ping at 67 min.
            assert_eq!(uptime.day.down_ms, T0 + 67 * MINUTE_MS - down_at);
            assert_eq!(uptime.day.up_ms, (down_at - T0) + 60 * MINUTE_MS);
            assert_eq!(uptime.day, uptime.month, "everything happened today");
            let later = store
                .checks_uptime(&[&check], T0 + 3 * 24 * 60 * MINUTE_MS)
                .await
                .unwrap()[&check.id];
            assert_eq!(later.day.down_ms, 0, "the last day was all up");
            assert_eq!(later.day.text(), "100.00 %");
            assert_eq!(later.week.down_ms, uptime.day.down_ms);
        }
    );
}

mod hours {
    use super::*;
    use jiff::Timestamp;
    use tend_domain::hour_alerts::{DepletedChoice, HoursThreshold};
    use tend_domain::minutes::Minutes;
    use tend_domain::month_close::CarryLimit;
    use tend_domain::ticket::TicketDraft;
    use tend_store::hours::{LogTime, PeriodPick};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// Mid-November 2026 in Chicago (the test clients' zone).
    fn november() -> Timestamp {
        at("2026-11-10T18:00:00Z")
    }

    async fn ticket(store: &Store, client: &str) -> i64 {
        let d = TicketDraft {
            client: client.into(),
            title: "Email sync stopped".into(),
            ..Default::default()
        };
        store
            .create_ticket(&actor(), &d.parse().unwrap())
            .await
            .unwrap()
            .number
    }

    /// The summed ledger (kept by a trigger) equals the entries summed now.
    async fn sums_match_entries(store: &Store) {
        type Row = (i64, String, String, String, i64, i64);
        let sums: Vec<Row> = tend_store::with_pool!(&store.db, p => sqlx::query_as(
            "SELECT contract_id, period_start, kind, lot, plus, minus FROM ledger_sums \
             ORDER BY contract_id, period_start, kind, lot").fetch_all(p).await)
        .unwrap();
        let entries: Vec<Row> = tend_store::with_pool!(&store.db, p => sqlx::query_as(
            "SELECT contract_id, period_start, kind, COALESCE(lot, ''), \
             CAST(SUM(CASE WHEN minutes > 0 THEN minutes ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN minutes < 0 THEN minutes ELSE 0 END) AS BIGINT) \
             FROM ledger_entries GROUP BY contract_id, period_start, kind, COALESCE(lot, '') \
             ORDER BY 1, 2, 3, 4").fetch_all(p).await)
        .unwrap();
        assert!(!sums.is_empty());
        assert_eq!(sums, entries, "the ledger sums follow the entries");
    }

    fn log(ticket: i64, minutes: i64, work_type: &str) -> LogTime {
        LogTime {
            ticket,
            actual: Minutes(minutes),
            work_type: work_type.into(),
            note: "investigated".into(),
            work_date: None,
            after_limit: None,
            user_id: None,
        }
    }

    async fn owner(store: &Store) {
        store
            .create_user(
                &actor(),
                &Email::parse("travis@agency.test").unwrap(),
                "Travis",
                Role::Owner,
                "correct horse battery",
            )
            .await
            .unwrap();
    }

    async fn billing_contact(store: &Store, client_id: i64) {
        let c = ContactDraft {
            name: "Ana Lopez".into(),
            email: "ana@acme.test".into(),
            role: "billing".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        store.create_contact(&actor(), client_id, &c).await.unwrap();
    }

    story!(
        the_billing_email_is_drafted_from_the_agencys_template_and_sent_by_a_person,
        |store: Store| async move {
            use tend_domain::message_template::{MessageTemplate, TemplateKind};
            use tend_store::outbox::OutboxView;
            owner(&store).await;
            let client = add_client(&store, "Acme", "acme", "GROWTH").await;
            billing_contact(&store, client).await;
            let mine = MessageTemplate {
                subject: "{{ client.name }}: {{ hours.remaining }} h left".into(),
                body: "Hi {{ contact.first_name }}, {{ hours.used }} of {{ hours.available }} used. [say what is planned]\n- {{ agent.name }}".into(),
            };
            store
                .save_message_template(&actor(), TemplateKind::HoursThreeQuarters, &mine)
                .await
                .unwrap();
            let t = ticket(&store, "acme").await;
            store
                .log_time(&actor(), &log(t, 450, "bug-fix"), november())
                .await
                .unwrap();

            let drafts = store
                .list_outbox(OutboxView::Drafts, PageRequest::default())
                .await
                .unwrap()
                .items;
            assert_eq!(drafts.len(), 1, "{drafts:?}");
            let draft = &drafts[0];
            assert_eq!(draft.subject, "Acme: 2.5 h left");
            assert_eq!(
                draft.body,
                "Hi Ana, 7.5 of 10 used. [say what is planned]\n- Travis\n"
            );
            assert_eq!(store.client_drafts(client).await.unwrap().len(), 1);

            // The blank must be filled in before it goes.
            let e = store
                .send_draft(&actor(), draft.id, &draft.subject, &draft.body, 1)
                .await
                .unwrap_err();
            match e {
                StoreError::Invalid(f) => {
                    assert!(f.get("body").unwrap().contains("[say what is planned]"))
                }
                other => panic!("expected the blank to be refused, got {other}"),
            }
            let body = draft
                .body
                .replace("[say what is planned]", "Two fixes are planned.");
            let sent = store
                .send_draft(&actor(), draft.id, &draft.subject, &body, 5)
                .await
                .unwrap();
            assert_eq!(sent.state, "pending", "queued for delivery");
            assert_eq!(sent.next_attempt_at, 5);
            assert!(sent.body.contains("Two fixes are planned."));
            assert!(store.client_drafts(client).await.unwrap().is_empty());
            let again = store
                .send_draft(&actor(), draft.id, &draft.subject, &body, 6)
                .await
                .unwrap_err();
            assert!(matches!(again, StoreError::Guarded(_)), "{again}");
            let audit = store
                .audit_log(Some("outbox"), PageRequest::default())
                .await
                .unwrap()
                .items;
            assert!(audit
                .iter()
                .any(|a| a.entity == "outbox" && a.summary.contains("sent the drafted email")));

            // The 100 % draft, discarded instead.
            store
                .log_time(&actor(), &log(t, 150, "bug-fix"), november())
                .await
                .unwrap();
            let depleted = store
                .list_outbox(OutboxView::Drafts, PageRequest::default())
                .await
                .unwrap()
                .items;
            assert_eq!(depleted.len(), 1);
            assert!(
                depleted[0].subject.contains("Depleted"),
                "the default template"
            );
            store.discard_draft(&actor(), depleted[0].id).await.unwrap();
            assert_eq!(
                store.outbox_message(depleted[0].id).await.unwrap().state,
                "discarded"
            );
            assert!(store.discard_draft(&actor(), depleted[0].id).await.is_err());
            assert!(
                store.discard_draft(&actor(), sent.id).await.is_err(),
                "sent is not a draft"
            );
        }
    );

    story!(
        the_overview_lists_every_open_bank_fullest_first,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            add_client(&store, "Beta", "beta", "STARTER").await;
            let t = ticket(&store, "acme").await;
            store
                .log_time(&actor(), &log(t, 300, "bug-fix"), november())
                .await
                .unwrap();
            store.hour_bank("beta", None, november()).await.unwrap();
            let glance = store.bank_overview(november()).await.unwrap();
            assert_eq!(glance.len(), 2, "{glance:?}");
            assert_eq!(glance[0].client_slug, "acme", "half used comes first");
            assert_eq!(glance[0].share_used_percent, Some(50));
            assert_eq!(glance[0].summary.remaining, Minutes(300));
            let bank = store.hour_bank("acme", None, november()).await.unwrap();
            assert_eq!(
                glance[0].summary, bank.summary,
                "the same numbers as the panel"
            );
            assert_eq!(glance[0].forecast, bank.forecast);
            assert_eq!(glance[1].client_slug, "beta");
            assert_eq!(glance[1].share_used_percent, Some(0));
        }
    );

    story!(
        the_sops_growth_numbers_alert_at_75_and_100_percent_once,
        |store: Store| async move {
            owner(&store).await;
            let client = add_client(&store, "Acme", "acme", "GROWTH").await;
            billing_contact(&store, client).await;
            let t = ticket(&store, "acme").await;
            let now = november();

            let first = store
                .log_time(&actor(), &log(t, 450, "bug-fix"), now)
                .await
                .unwrap();
            assert_eq!(first.from_bank, Minutes(450));
            assert_eq!(first.alerts.len(), 1, "7.5 of 10 hours is the 75 % alert");
            assert_eq!(first.alerts[0].threshold, HoursThreshold::ThreeQuarters);
            assert_eq!(
                first.alerts[0].remaining,
                Minutes(150),
                "2.5 hours remaining"
            );
            let outbox = store
                .list_outbox(tend_store::outbox::OutboxView::All, PageRequest::default())
                .await
                .unwrap()
                .items;
            assert!(outbox
                .iter()
                .any(|m| m.recipient == "travis@agency.test" && m.state == "pending"));
            let draft = outbox
                .iter()
                .find(|m| m.recipient == "ana@acme.test")
                .expect("a drafted email to the billing contact");
            assert_eq!(draft.state, "draft", "the client's email waits for review");
            assert!(draft.body.contains("used 7.5 of your 10"), "{}", draft.body);
            assert!(draft.body.contains("Remaining: 2.5 hours"));

            let more = store
                .log_time(&actor(), &log(t, 30, "consultation"), now)
                .await
                .unwrap();
            assert!(more.alerts.is_empty(), "75 % fires once per period");

            let full = store
                .log_time(&actor(), &log(t, 120, "bug-fix"), now)
                .await
                .unwrap();
            assert_eq!(full.alerts.len(), 1);
            assert_eq!(full.alerts[0].threshold, HoursThreshold::Depleted);
            assert_eq!(full.summary.used, Minutes(600), "10 of 10 hours");
            let depleted = store
                .list_outbox(tend_store::outbox::OutboxView::All, PageRequest::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .find(|m| m.recipient == "ana@acme.test" && m.subject.contains("Depleted"))
                .expect("the 100 % draft");
            assert!(
                depleted.body.contains("Bill hourly at $150/hour"),
                "{}",
                depleted.body
            );
            assert!(depleted.body.contains("2026-12-01"), "the refresh date");
            assert!(depleted.body.contains("ENTERPRISE"), "the upgrade option");

            let err = store
                .log_time(&actor(), &log(t, 60, "bug-fix"), now)
                .await
                .unwrap_err();
            match err {
                StoreError::Invalid(f) => assert!(f.get("after_limit").is_some(), "{f:?}"),
                other => panic!("expected a choice to be asked for, got {other}"),
            }
            let mut over = log(t, 60, "bug-fix");
            over.after_limit = Some(DepletedChoice::Overage);
            let over = store.log_time(&actor(), &over, now).await.unwrap();
            assert_eq!(over.overage, Minutes(60));
            assert!(over.alerts.is_empty());

            let bank = store.hour_bank("acme", None, now).await.unwrap();
            assert_eq!(bank.summary.available, Minutes(600));
            assert_eq!(bank.summary.overage, Minutes(60));
            assert_eq!(bank.summary.remaining, Minutes(0));
            let audit = store
                .audit_log(Some("time_entry"), PageRequest::default())
                .await
                .unwrap();
            assert_eq!(audit.total, 4, "every logged entry is audited");
        }
    );

    story!(
        rounding_keeps_actual_and_billable_and_billable_work_never_draws,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            let t = ticket(&store, "acme").await;
            let now = november();
            let a = store
                .log_time(&actor(), &log(t, 20, "bug fix"), now)
                .await
                .unwrap();
            assert_eq!(
                (a.entry.actual, a.entry.billable),
                (Minutes(20), Minutes(30))
            );
            let b = store
                .log_time(&actor(), &log(t, 90, "new-feature"), now)
                .await
                .unwrap();
            assert_eq!(b.entry.charge, "billable");
            assert_eq!(b.from_bank, Minutes(0));
            let e = store
                .log_time(&actor(), &log(t, 50, "emergency-after-hours"), now)
                .await
                .unwrap();
            assert_eq!(
                (e.entry.rate_kind.as_str(), e.entry.rate.0),
                ("emergency", 30000)
            );
            let bank = store.hour_bank("acme", None, now).await.unwrap();
            assert_eq!(bank.summary.used, Minutes(30), "only included work draws");
            let err = store
                .log_time(&actor(), &log(t, 20, "gardening"), now)
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Invalid(ref f) if f.get("work_type").is_some()));

            let sheet = store.hour_sheet("acme", None, now).await.unwrap();
            assert_eq!(sheet.rows.len(), 3);
            assert_eq!(sheet.rows[2].running_total, Minutes(30 + 90 + 60));
            assert_eq!(
                (sheet.included, sheet.billable),
                (Minutes(30), Minutes(150))
            );

            let bill = store
                .billing(PeriodPick::parse("2026-11").unwrap())
                .await
                .unwrap();
            assert_eq!(bill.lines.len(), 1);
            let line = &bill.lines[0];
            assert_eq!(line.plan_fee.0, 120_000);
            assert_eq!(line.included_used, Minutes(30));
            assert_eq!(line.other_amount.0, 22_500, "1.5 h at $150");
            assert_eq!(line.emergency_amount.0, 30_000, "1 h at $300");
            assert_eq!(line.total.0, 120_000 + 22_500 + 30_000);
            assert_eq!(bill.total, line.total);
        }
    );

    story!(
        the_close_carries_five_of_eight_unused_hours_and_a_full_bank_does_not_grow,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            let t = ticket(&store, "acme").await;
            store
                .log_time(&actor(), &log(t, 120, "bug-fix"), november())
                .await
                .unwrap();

            let december = at("2026-12-02T18:00:00Z");
            let preview = store.close_month(december, true).await.unwrap();
            assert_eq!(preview.closed.len(), 1);
            assert_eq!(
                preview.closed[0].carried,
                Minutes(300),
                "8 unused hours carry as 5"
            );
            let bank = store
                .hour_bank(
                    "acme",
                    Some(PeriodPick::parse("2026-11").unwrap()),
                    november(),
                )
                .await
                .unwrap();
            assert!(!bank.closed, "a dry run writes nothing");

            let report = store.close_month(december, false).await.unwrap();
            assert_eq!(report.closed.len(), 1);
            let close = &report.closed[0];
            assert_eq!((close.carried, close.expired), (Minutes(300), Minutes(180)));
            assert_eq!(close.carry_limit, CarryLimit::RolloverCap);
            let again = store.close_month(december, false).await.unwrap();
            assert!(again.closed.is_empty(), "closing twice is closing once");

            let dec = store.hour_bank("acme", None, december).await.unwrap();
            assert_eq!(dec.period.start, date(2026, 12, 1));
            assert_eq!(
                dec.summary.available,
                Minutes(900),
                "5 carried + 10 granted"
            );

            // Nothing used in December: a 15-hour bank does not grow.
            let report = store
                .close_month(at("2027-01-01T18:00:00Z"), false)
                .await
                .unwrap();
            assert_eq!(report.closed.len(), 1);
            assert_eq!(report.closed[0].carried, Minutes(300));
            assert_eq!(report.closed[0].expired, Minutes(600));
            let jan = store
                .hour_bank("acme", None, at("2027-01-01T18:00:00Z"))
                .await
                .unwrap();
            assert_eq!(jan.summary.available, Minutes(900));
            let ledger = store.contract_ledger(jan.contract_id).await.unwrap();
            let balance: i64 = ledger
                .iter()
                .filter(|r| r.lot.is_some())
                .map(|r| r.minutes.0)
                .sum();
            assert_eq!(
                balance, jan.summary.remaining.0,
                "the balance is the sum of the entries"
            );
        }
    );

    story!(
        missed_months_are_closed_in_order_and_a_plan_change_waits_for_the_next_period,
        |store: Store| async move {
            let client = add_client(&store, "Acme", "acme", "GROWTH").await;
            let t = ticket(&store, "acme").await;
            store
                .log_time(&actor(), &log(t, 60, "bug-fix"), november())
                .await
                .unwrap();
            let contract = store.client_contracts(client).await.unwrap().remove(0);
            let mut input = ContractDraft {
                plan: "ENTERPRISE".into(),
                ..Default::default()
            }
            .parse(date(2026, 11, 1))
            .unwrap();
            input.renewal_date = contract.renewal_date;
            store
                .update_contract(&actor(), contract.id, &input, date(2026, 11, 15))
                .await
                .unwrap();
            let nov = store.hour_bank("acme", None, november()).await.unwrap();
            assert_eq!(
                nov.plan_code, "GROWTH",
                "the change takes effect next period"
            );
            assert_eq!(nov.summary.available, Minutes(600));

            let report = store
                .close_month(at("2027-02-03T18:00:00Z"), false)
                .await
                .unwrap();
            let starts: Vec<_> = report.closed.iter().map(|c| c.period.start).collect();
            assert_eq!(
                starts,
                vec![date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)],
                "every missed month, oldest first"
            );
            assert_eq!(report.closed[0].next_plan_code, "ENTERPRISE");
            assert_eq!(report.closed[0].next_grant, Minutes(1200));
            assert_eq!(
                report.closed[0].carried,
                Minutes(300),
                "GROWTH's cap of 5 h"
            );
            let feb = store
                .hour_bank("acme", None, at("2027-02-03T18:00:00Z"))
                .await
                .unwrap();
            assert_eq!(feb.plan_code, "ENTERPRISE");
            assert_eq!(
                feb.summary.available,
                Minutes(1800),
                "10 carried + 20 granted"
            );
            sums_match_entries(&store).await;
        }
    );

    story!(
        deferred_work_waits_for_the_next_period_and_adjustments_need_a_reason,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "STARTER").await;
            let t = ticket(&store, "acme").await;
            let now = november();
            store
                .log_time(&actor(), &log(t, 300, "bug-fix"), now)
                .await
                .unwrap();
            let mut later = log(t, 60, "bug-fix");
            later.after_limit = Some(DepletedChoice::Defer);
            let deferred = store.log_time(&actor(), &later, now).await.unwrap();
            assert_eq!(deferred.entry.bank_state, "waiting");
            assert_eq!(deferred.entry.period_start, date(2026, 12, 1));
            assert_eq!(deferred.overage, Minutes(0));

            let err = store
                .adjust_hours(&actor(), "acme", Minutes(60), "  ", now)
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Invalid(ref f) if f.get("reason").is_some()));
            let bank = store
                .adjust_hours(
                    &actor(),
                    "acme",
                    Minutes(60),
                    "goodwill after the outage",
                    now,
                )
                .await
                .unwrap();
            assert_eq!(bank.summary.available, Minutes(360));
            assert_eq!(bank.summary.remaining, Minutes(60));

            let report = store
                .close_month(at("2026-12-01T18:00:00Z"), false)
                .await
                .unwrap();
            assert_eq!(
                report.closed[0].carried,
                Minutes(0),
                "STARTER carries nothing"
            );
            assert_eq!(report.closed[0].deferred_drawn, Minutes(60));
            let dec = store
                .hour_bank("acme", None, at("2026-12-01T18:00:00Z"))
                .await
                .unwrap();
            assert_eq!(
                dec.summary.used,
                Minutes(60),
                "deferred work draws when the hours refresh"
            );
            assert_eq!(
                store
                    .time_entry(deferred.entry.id)
                    .await
                    .unwrap()
                    .bank_state,
                "drawn"
            );
            sums_match_entries(&store).await;
        }
    );

    story!(
        two_closes_at_once_close_each_period_once,
        |store: Store| async move {
            for (name, slug) in [("Acme", "acme"), ("Bolt", "bolt"), ("Cove", "cove")] {
                add_client(&store, name, slug, "GROWTH").await;
            }
            store.close_month(november(), false).await.unwrap();
            let december = at("2026-12-02T18:00:00Z");
            let (a, b) = tokio::join!(
                store.close_month(december, false),
                store.close_month(december, false)
            );
            let (a, b) = (a.unwrap(), b.unwrap());
            assert_eq!(a.closed.len() + b.closed.len(), 3, "{a} / {b}");
            for slug in ["acme", "bolt", "cove"] {
                let bank = store.hour_bank(slug, None, december).await.unwrap();
                let ledger = store
                    .ledger_rows(bank.contract_id, date(2026, 12, 1))
                    .await
                    .unwrap();
                let grants = ledger.iter().filter(|r| r.kind.as_str() == "grant").count();
                assert_eq!(grants, 1, "one grant for December");
            }
        }
    );
}

#[tokio::test]
async fn two_instances_closing_one_postgres_close_each_period_once() {
    let Some((first, url)) = harness::postgres_empty().await else {
        return;
    };
    first.migrate().await.unwrap();
    for (name, slug) in [("Acme", "acme"), ("Bolt", "bolt")] {
        add_client(&first, name, slug, "GROWTH").await;
    }
    let november: jiff::Timestamp = "2026-11-10T18:00:00Z".parse().unwrap();
    first.close_month(november, false).await.unwrap();
    let second = Store::connect(&url).await.unwrap();
    let later: jiff::Timestamp = "2027-01-05T18:00:00Z".parse().unwrap();
    let (a, b) = tokio::join!(
        first.close_month(later, false),
        second.close_month(later, false)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a.closed.len() + b.closed.len(),
        4,
        "two contracts, two missed months each, closed once between the instances"
    );
}

mod sla_scan {
    use super::*;
    use jiff::{SignedDuration, Timestamp};
    use tend_domain::plan::{Severity, TargetKind};
    use tend_domain::sla_clock::ClockState;
    use tend_domain::sla_notice::{cycle_key, cycle_key_at, due_notices, NoticeKind};
    use tend_domain::ticket::{TicketDraft, TicketStatus};
    use tend_store::outbox::{NewMessage, EMAIL};
    use tend_store::sla_scan::{NewNotice, NoticeKey};
    use tend_store::tickets::Visibility;

    fn draft(client: &str, title: &str, severity: &str) -> TicketDraft {
        TicketDraft {
            client: client.into(),
            title: title.into(),
            severity: severity.into(),
            ..Default::default()
        }
    }

    async fn open(store: &Store, client: &str, title: &str, severity: &str) -> i64 {
        store
            .create_ticket(&actor(), &draft(client, title, severity).parse().unwrap())
            .await
            .unwrap()
            .number
    }

    fn state_name(state: &ClockState) -> &'static str {
        match state {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::MetInTime { .. } => "met-in-time",
            ClockState::MetLate { .. } => "met-late",
            ClockState::Breached => "breached",
            ClockState::NoTarget { .. } => "no-target",
        }
    }

    story!(
        the_scan_sees_every_open_ticket_s_clocks_as_its_page_does,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            add_client(&store, "Beta", "beta", "ENTERPRISE").await;
            let paused = open(&store, "acme", "Paused", "p1").await;
            store
                .set_ticket_status(&actor(), paused, TicketStatus::WaitingOnClient)
                .await
                .unwrap();
            let triaged = open(&store, "beta", "Triaged later", "").await;
            store
                .update_ticket(
                    &actor(),
                    triaged,
                    &draft("beta", "Triaged later", "p0").parse().unwrap(),
                )
                .await
                .unwrap();
            let updates = open(&store, "acme", "Updates", "p2").await;
            store
                .set_ticket_status(&actor(), updates, TicketStatus::InProgress)
                .await
                .unwrap();
            for body in ["On it", "Still on it"] {
                store
                    .add_message(&actor(), None, updates, Visibility::Public, body)
                    .await
                    .unwrap();
            }
            let waiting_reply = open(&store, "beta", "Reply while waiting", "p3").await;
            store
                .set_ticket_status(&actor(), waiting_reply, TicketStatus::WaitingOnClient)
                .await
                .unwrap();
            store
                .add_message(
                    &actor(),
                    None,
                    waiting_reply,
                    Visibility::Public,
                    "Any news?",
                )
                .await
                .unwrap();
            let resolved = open(&store, "acme", "Resolved", "p2").await;
            store
                .set_ticket_status(&actor(), resolved, TicketStatus::Resolved)
                .await
                .unwrap();
            // No contract: no clocks. A deleted client's tickets are not scanned.
            store
                .create_client(&actor(), &client_draft("Gamma", "gamma").parse().unwrap())
                .await
                .unwrap();
            open(&store, "gamma", "No plan", "p1").await;
            store.delete_client(&actor(), "gamma").await.unwrap();

            let now = Timestamp::now();
            for at in [
                now,
                now + SignedDuration::from_hours(3),
                now + SignedDuration::from_hours(24 * 40),
            ] {
                let input = store.sla_scan_input(at).await.unwrap();
                assert!(input.skipped.is_empty(), "{:?}", input.skipped);
                let ids: Vec<i64> = input.tickets.iter().map(|t| t.id).collect();
                assert_eq!(ids, [paused, triaged, updates, waiting_reply]);
                let mut stopped = 0;
                for t in &input.tickets {
                    let page = store.ticket_clocks(t.id, at).await.unwrap();
                    // A stopped clock has nothing more to announce: it is not evaluated.
                    let live: Vec<_> = page
                        .iter()
                        .filter(|c| !c.state.starts_with("met"))
                        .collect();
                    stopped += page.len() - live.len();
                    assert_eq!(t.clocks.len(), live.len(), "#{}", t.id);
                    for ((kind, s), c) in t.clocks.iter().zip(live) {
                        let what = format!("#{} {kind} at {at}", t.id);
                        assert_eq!(kind.as_str(), c.kind, "{what}");
                        assert_eq!(state_name(&s.state), c.state, "{what}");
                        assert_eq!(s.due.map(|d| d.as_millisecond()), c.due_at, "{what}");
                        assert_eq!(s.warn_at.map(|d| d.as_millisecond()), c.warn_at, "{what}");
                        assert_eq!(s.remaining_minutes, c.remaining_minutes, "{what}");
                        assert_eq!(
                            (s.paused, s.warned, s.breached),
                            (c.paused, c.warned, c.breached),
                            "{what}"
                        );
                    }
                }
                assert_eq!(input.settled, stopped);
                let triaged = input.tickets.iter().find(|t| t.id == triaged).unwrap();
                assert_eq!(triaged.severity, Severity::P0);
                let updates = input.tickets.iter().find(|t| t.id == updates).unwrap();
                assert!(updates
                    .clocks
                    .iter()
                    .any(|(k, _)| *k == TargetKind::NextUpdate));
            }

            // Once a clock's warning and breach are on record, it is no longer evaluated.
            let late = now + SignedDuration::from_hours(24 * 40);
            let input = store.sla_scan_input(late).await.unwrap();
            let mut notices = Vec::new();
            for t in &input.tickets {
                for (kind, status) in &t.clocks {
                    for due in due_notices(status) {
                        notices.push(NewNotice {
                            ticket_id: t.id,
                            clock: *kind,
                            cycle: cycle_key(t.severity, status),
                            kind: due.kind,
                            fell_at: due.fell_at.as_millisecond(),
                            messages: vec![],
                        });
                    }
                }
            }
            assert!(notices.len() >= 8, "{notices:?}");
            store.record_notices(&notices, 1).await.unwrap();
            let again = store.sla_scan_input(late).await.unwrap();
            let recorded: usize = again.tickets.iter().map(|t| t.recorded.len()).sum();
            assert_eq!(recorded, notices.len());
            assert!(again.settled > input.settled);
            for t in &again.tickets {
                for (kind, status) in &t.clocks {
                    let on_record = |notice| {
                        t.recorded.contains(&NoticeKey {
                            ticket_id: t.id,
                            clock: *kind,
                            severity: t.severity,
                            cycle_started_at: status.cycle_started_at.as_millisecond(),
                            kind: notice,
                        })
                    };
                    assert!(
                        !(on_record(NoticeKind::Warning) && on_record(NoticeKind::Breach)),
                        "#{} {kind} was evaluated with both its notices on record",
                        t.id
                    );
                }
            }

            let titles = store.ticket_titles(&[paused, updates]).await.unwrap();
            assert_eq!(titles.get(&updates).map(String::as_str), Some("Updates"));
            assert_eq!(titles.len(), 2);
        }
    );

    story!(
        a_notice_is_recorded_once_with_its_messages_across_batches,
        |store: Store| async move {
            add_client(&store, "Acme", "acme", "GROWTH").await;
            let number = open(&store, "acme", "Checkout down", "p1").await;
            let notice = |cycle: i64, kind: NoticeKind| NewNotice {
                ticket_id: number,
                clock: TargetKind::Response,
                cycle: cycle_key_at(Severity::P1, cycle),
                kind,
                fell_at: cycle + 1,
                messages: match kind {
                    NoticeKind::Warning => vec![],
                    NoticeKind::Breach => vec![NewMessage {
                        event_key: format!("sla:{number}:{cycle}"),
                        channel: EMAIL,
                        recipient: "ann@agency.test".into(),
                        subject: format!("breach {cycle}"),
                        body: "body".into(),
                        client_id: None,
                        ticket_id: Some(number),
                    }],
                },
            };
            // More than one batch of notices and of messages.
            let mut notices: Vec<NewNotice> = (0..260)
                .flat_map(|c| {
                    [
                        notice(c, NoticeKind::Warning),
                        notice(c, NoticeKind::Breach),
                    ]
                })
                .collect();
            assert_eq!(store.record_notices(&notices, 5).await.unwrap(), 520);
            assert_eq!(store.ticket_outbox(number).await.unwrap().len(), 260);
            let recorded = store.recorded_notices().await.unwrap();
            assert_eq!(recorded.len(), 520);
            assert!(recorded.contains(&NoticeKey {
                ticket_id: number,
                clock: TargetKind::Response,
                severity: Severity::P1,
                cycle_started_at: 259,
                kind: NoticeKind::Breach,
            }));

            // Written again with one new notice among them: only that one and its message.
            notices.push(notice(1000, NoticeKind::Breach));
            assert_eq!(store.record_notices(&notices, 6).await.unwrap(), 1);
            let outbox = store.ticket_outbox(number).await.unwrap();
            assert_eq!(outbox.len(), 261);
            assert_eq!(outbox.last().unwrap().subject, "breach 1000");

            // A done ticket's notices are no longer looked at.
            store
                .set_ticket_status(&actor(), number, TicketStatus::Resolved)
                .await
                .unwrap();
            assert!(store.recorded_notices().await.unwrap().is_empty());
        }
    );
}

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

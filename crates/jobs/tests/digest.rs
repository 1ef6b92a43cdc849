//! The daily digest against SQLite and PostgreSQL and a real SMTP server (aiosmtpd).

mod common;

use common::*;
use jiff::Timestamp;
use tend_domain::check::{CheckDraft, CheckUuid};
use tend_domain::email::Email;
use tend_domain::ping_url::{PingTarget, Signal};
use tend_domain::role::Role;
use tend_domain::timezone::Timezone;
use tend_jobs::{deliver_due, run_digest, MailConfig, Mailer};
use tend_store::checks::IncomingPing;
use tend_store::Store;

const URL: &str = "https://desk.agency.test";

/// A whole-hour zone where it is `local_hour` o'clock now (Etc/GMT-3 is UTC+3).
fn zone_at(now: Timestamp, local_hour: i64) -> Timezone {
    let utc_hour = now.to_zoned(jiff::tz::TimeZone::UTC).hour() as i64;
    let mut offset = (local_hour - utc_hour).rem_euclid(24);
    if offset > 14 {
        offset -= 24;
    }
    let name = match offset {
        0 => "Etc/UTC".to_string(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    };
    Timezone::parse(&name).unwrap()
}

/// As `growth_client_with_p1_ticket`, with business hours all week, so the ticket's
/// first-response clock runs now whatever the day and breaches within hours.
async fn round_the_clock_client_with_p1_ticket(store: &Store) -> i64 {
    store
        .create_user(
            &actor(),
            &Email::parse("owner@agency.test").unwrap(),
            "Olivia Owner",
            Role::Owner,
            "a long enough password",
        )
        .await
        .unwrap();
    let client = tend_domain::client::ClientDraft {
        name: "Acme Dental".into(),
        slug: "acme".into(),
        timezone: "America/Chicago".into(),
        business_hours: "mon-sun 00:00-23:59".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let contract = tend_domain::contract::ContractDraft {
        plan: "GROWTH".into(),
        ..Default::default()
    }
    .parse(jiff::civil::date(2026, 11, 1))
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    let id = store
        .insert_client(&mut tx, &actor(), &client)
        .await
        .unwrap();
    store
        .insert_contract(&mut tx, &actor(), id, &contract)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let ticket = tend_domain::ticket::TicketDraft {
        client: "acme".into(),
        title: "Leads stopped landing in the CRM".into(),
        severity: "p1".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    store.create_ticket(&actor(), &ticket).await.unwrap().number
}

async fn user_id(store: &Store, email: &str) -> i64 {
    store
        .user_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn each_staff_member_gets_one_morning_digest_a_day_with_what_needs_a_look() {
    for (engine, db) in databases().await {
        let store = db.open().await;
        let now = Timestamp::now();
        let number = round_the_clock_client_with_p1_ticket(&store).await;
        // The owner's morning is now; a staff member's is not.
        let owner = user_id(&store, "owner@agency.test").await;
        store
            .set_user_timezone(owner, &zone_at(now, 8))
            .await
            .unwrap();
        store
            .create_user(
                &actor(),
                &Email::parse("sam@agency.test").unwrap(),
                "Sam Staff",
                Role::Staff,
                "a long enough password",
            )
            .await
            .unwrap();
        let sam = user_id(&store, "sam@agency.test").await;
        store
            .set_user_timezone(sam, &zone_at(now, 20))
            .await
            .unwrap();
        // A check that failed an hour ago: a failed run, and down.
        let check = store
            .create_check(
                &actor(),
                &CheckDraft {
                    client: "acme".into(),
                    name: "Lead sync".into(),
                    period: "1h".into(),
                    ..Default::default()
                }
                .parse()
                .unwrap(),
            )
            .await
            .unwrap();
        let ping = IncomingPing {
            target: PingTarget::Uuid(CheckUuid::parse(&check.uuid).unwrap()),
            signal: Signal::Fail,
            rid: None,
            create: false,
            at: now.as_millisecond() - 3_600_000,
            method: "POST".into(),
            body: String::new(),
            remote_addr: "127.0.0.1".into(),
            user_agent: "cron".into(),
        };
        store.record_pings(&[ping], 1_000).await.unwrap();

        let report = run_digest(&store, now, 8, URL).await.unwrap();
        assert_eq!((report.queued, report.empty), (1, 0), "{engine}: {report}");
        // Again the same morning (another instance, a restart): nothing new.
        let again = run_digest(&store, now, 8, URL).await.unwrap();
        assert_eq!(again.queued, 0, "{engine}");

        let smtp = SmtpServer::start();
        let mailer = Mailer::new(&MailConfig {
            smtp_url: smtp.url(),
            from: "Tend <tend@agency.test>".into(),
        })
        .unwrap();
        let sent = deliver_due(&store, Some(&mailer)).await.unwrap();
        // The P1 ticket's acknowledgement may be queued too; the digest is one of them.
        assert!(sent.sent >= 1, "{engine}: {sent:?}");
        let digests: Vec<String> = smtp
            .messages()
            .into_iter()
            .filter(|m| subject(m).starts_with("Tend digest"))
            .collect();
        assert_eq!(digests.len(), 1, "{engine}");
        // Quoted-printable: undo its soft line breaks.
        let mail = &digests[0].replace("=\r\n", "").replace("=\n", "");
        assert!(mail.contains("To: owner@agency.test"), "{mail}");
        for section in [
            "Failed runs in the last 24 hours",
            "Checks down or late",
            "Tickets that will breach today",
        ] {
            assert!(mail.contains(section), "{engine}: {section}: {mail}");
        }
        assert!(!mail.contains("Hour banks past 75"), "{engine}: no bank is");
        assert!(
            mail.contains("Lead sync (Acme Dental): 1 failure"),
            "{mail}"
        );
        assert!(mail.contains(&format!("/checks/{}", check.uuid)), "{mail}");
        assert!(
            mail.contains(&format!("#{number} Leads stopped landing")),
            "{mail}"
        );
        smtp.stop();
        store.close().await;
    }
}

#[tokio::test]
async fn a_morning_with_nothing_to_report_sends_nothing() {
    for (engine, db) in databases().await {
        let store = db.open().await;
        let now = Timestamp::now();
        store
            .create_user(
                &actor(),
                &Email::parse("owner@agency.test").unwrap(),
                "Olivia Owner",
                Role::Owner,
                "a long enough password",
            )
            .await
            .unwrap();
        let owner = user_id(&store, "owner@agency.test").await;
        store
            .set_user_timezone(owner, &zone_at(now, 9))
            .await
            .unwrap();
        let report = run_digest(&store, now, 8, URL).await.unwrap();
        assert_eq!((report.queued, report.empty), (0, 1), "{engine}: {report}");
        // Outside the morning span nobody is even considered.
        let report = run_digest(&store, now, 12, URL).await.unwrap();
        assert_eq!((report.queued, report.empty), (0, 0), "{engine}: {report}");
        store.close().await;
    }
}

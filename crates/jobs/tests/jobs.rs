//! The jobs against real parts: SQLite and PostgreSQL, and a real SMTP server.

mod common;

use std::time::Duration;

use common::*;
use jiff::{SignedDuration, Timestamp};
use tend_jobs::{deliver_due, scan, MailConfig, Mailer};
use tend_store::Store;

fn mailer(url: &str) -> Mailer {
    Mailer::new(&MailConfig {
        smtp_url: url.to_string(),
        from: "Tend <tend@agency.test>".into(),
    })
    .unwrap()
}

const URL: &str = "https://desk.agency.test";

/// The response clock's warning and due time, as the ticket page shows them.
async fn response_times(store: &Store, number: i64) -> (Timestamp, Timestamp) {
    let clocks = store.ticket_clocks(number, Timestamp::now()).await.unwrap();
    let c = clocks.iter().find(|c| c.kind == "response").unwrap();
    (
        Timestamp::from_millisecond(c.warn_at.unwrap()).unwrap(),
        Timestamp::from_millisecond(c.due_at.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn a_warning_then_a_breach_each_reach_the_owner_once_even_after_a_restart() {
    for (engine, db) in databases().await {
        let smtp = SmtpServer::start();
        let store = db.open().await;
        let number = growth_client_with_p1_ticket(&store).await;
        let (warn_at, due_at) = response_times(&store, number).await;
        let second = SignedDuration::from_secs(1);

        let before = scan(&store, warn_at - second, URL).await.unwrap();
        assert_eq!((before.warnings, before.breaches), (0, 0), "{engine}");
        let warned = scan(&store, warn_at + second, URL).await.unwrap();
        assert_eq!(
            (warned.warnings, warned.breaches),
            (1, 0),
            "{engine}: {warned}"
        );
        let again = scan(&store, warn_at + second * 2, URL).await.unwrap();
        assert_eq!((again.warnings, again.breaches), (0, 0), "{engine}");

        let sent = deliver_due(&store, Some(&mailer(&smtp.url())))
            .await
            .unwrap();
        assert_eq!(sent.sent, 1, "{engine}");

        // A restart: a new connection, the same database.
        store.close().await;
        let store = db.open().await;
        let breached = scan(&store, due_at + second, URL).await.unwrap();
        assert_eq!(
            (breached.warnings, breached.breaches),
            (0, 1),
            "{engine}: {breached}"
        );
        assert_eq!(
            scan(&store, due_at + second * 2, URL)
                .await
                .unwrap()
                .breaches,
            0
        );
        deliver_due(&store, Some(&mailer(&smtp.url())))
            .await
            .unwrap();
        deliver_due(&store, Some(&mailer(&smtp.url())))
            .await
            .unwrap();

        // Maildir names do not keep arrival order: compare sorted.
        let mut subjects: Vec<String> = smtp.messages().iter().map(|m| subject(m)).collect();
        subjects.sort();
        assert_eq!(
            subjects,
            [
                format!("SLA breached: #{number} first response (P1) - Acme Dental"),
                format!("SLA warning: #{number} first response (P1) - Acme Dental"),
            ],
            "{engine}"
        );
        let messages = smtp.messages();
        let body = messages
            .iter()
            .find(|m| subject(m).starts_with("SLA breached"))
            .unwrap();
        assert!(body.contains("To: owner@agency.test"), "{body}");
        assert!(body.contains(&format!("{URL}/tickets/{number}")), "{body}");
        assert!(body.contains("Leads stopped landing in the CRM"), "{body}");
    }
}

#[tokio::test]
async fn a_public_reply_in_time_means_no_breach_for_first_response() {
    for (engine, db) in databases().await {
        let store = db.open().await;
        let number = growth_client_with_p1_ticket(&store).await;
        let (_, due_at) = response_times(&store, number).await;
        store
            .add_message(
                &actor(),
                None,
                number,
                tend_store::tickets::Visibility::Public,
                "Looking into it now.",
            )
            .await
            .unwrap();
        let later = scan(&store, due_at + SignedDuration::from_mins(1), URL)
            .await
            .unwrap();
        let queued = store.ticket_outbox(number).await.unwrap();
        assert!(
            queued.iter().all(|m| !m.subject.contains("first response")),
            "{engine}: {later}: {queued:?}"
        );
    }
}

#[tokio::test]
async fn two_instances_scanning_and_delivering_together_send_each_message_once() {
    for (engine, db) in databases().await {
        let smtp = SmtpServer::start();
        let setup = db.open().await;
        let number = growth_client_with_p1_ticket(&setup).await;
        // Long past both due times: the response and resolution clocks have breached.
        let late = Timestamp::now() + SignedDuration::from_hours(24 * 30);
        let (a, b) = (db.open().await, db.open().await);
        let (ra, rb) = tokio::join!(scan(&a, late, URL), scan(&b, late, URL));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert!(ra.breaches + rb.breaches >= 2, "{engine}: {ra} / {rb}");
        let queued = setup.ticket_outbox(number).await.unwrap();
        assert_eq!(
            queued.len(),
            2,
            "{engine}: one breach message per clock: {queued:?}"
        );

        let (ma, mb) = (mailer(&smtp.url()), mailer(&smtp.url()));
        let (da, dbr) = tokio::join!(deliver_due(&a, Some(&ma)), deliver_due(&b, Some(&mb)));
        assert_eq!(da.unwrap().sent + dbr.unwrap().sent, 2, "{engine}");
        assert_eq!(smtp.messages().len(), 2, "{engine}");
    }
}

#[tokio::test]
async fn mail_waits_while_the_server_is_down_and_arrives_once_when_it_is_back() {
    for (engine, db) in databases().await {
        let store = db.open().await;
        let number = growth_client_with_p1_ticket(&store).await;
        let late = Timestamp::now() + SignedDuration::from_hours(24 * 30);
        scan(&store, late, URL).await.unwrap();

        let port = free_port();
        let down = deliver_due(&store, Some(&mailer(&format!("smtp://127.0.0.1:{port}"))))
            .await
            .unwrap();
        assert_eq!((down.sent, down.retrying), (0, 2), "{engine}: {down:?}");
        let waiting = store.ticket_outbox(number).await.unwrap();
        assert!(
            waiting.iter().all(|m| m.state == "pending"
                && m.attempts == 1
                && m.last_error
                    .as_deref()
                    .unwrap_or("")
                    .contains("mail server")),
            "{engine}: {waiting:?}"
        );
        // Nothing is due before the backoff has passed.
        let early = deliver_due(&store, Some(&mailer(&format!("smtp://127.0.0.1:{port}"))))
            .await
            .unwrap();
        assert_eq!(early.sent + early.retrying, 0, "{engine}");

        let smtp = SmtpServer::start_on(port);
        // An operator's "retry now" (the same as waiting out the backoff).
        for m in &waiting {
            store
                .retry_outbox(&actor(), m.id, tend_store::now_ms())
                .await
                .unwrap();
        }
        let back = deliver_due(&store, Some(&mailer(&smtp.url())))
            .await
            .unwrap();
        assert_eq!(back.sent, 2, "{engine}");
        deliver_due(&store, Some(&mailer(&smtp.url())))
            .await
            .unwrap();
        assert_eq!(smtp.messages().len(), 2, "{engine}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn an_acknowledgement_from_the_template_reaches_each_contact_by_smtp() {
    use tend_domain::contact::ContactDraft;
    use tend_domain::message_template::{render, TemplateKind};
    for (engine, db) in databases().await {
        let smtp = SmtpServer::start();
        let store = db.open().await;
        let number = growth_client_with_p1_ticket(&store).await;
        let client = store.ticket(number).await.unwrap().client_id;
        let contact = ContactDraft {
            name: "Dana Reyes".into(),
            email: "dana@acme.test".into(),
            role: "requester".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        store
            .create_contact(&actor(), client, &contact)
            .await
            .unwrap();
        let to = store.ticket_recipients(number).await.unwrap();
        let context = store
            .message_context(number, &to, "Maya Chen", Timestamp::now())
            .await
            .unwrap();
        let template = store
            .message_template(TemplateKind::Acknowledge)
            .await
            .unwrap();
        let message = render(&template.template, &context).unwrap();
        store
            .send_ticket_message(&actor(), None, number, &message, &to)
            .await
            .unwrap();
        let sent = deliver_due(&store, Some(&mailer(&smtp.url())))
            .await
            .unwrap();
        assert_eq!(sent.sent, 1, "{engine}");
        let mail = &smtp.messages()[0];
        assert!(
            mail.contains("To: \"Dana Reyes\" <dana@acme.test>")
                || mail.contains("To: Dana Reyes <dana@acme.test>"),
            "{mail}"
        );
        assert_eq!(
            subject(mail),
            format!("Re: Leads stopped landing in the CRM [#{number}]")
        );
        assert!(mail.contains("Hi Dana,"), "{mail}");
        assert!(mail.contains("I'll have an update for you by"), "{mail}");
        assert!(mail.contains("- Maya Chen"), "{mail}");
    }
}

#[tokio::test]
async fn the_hourly_month_close_runs_once_per_slot_and_backfills_missed_months() {
    use tend_jobs::run_month_close;
    const HOUR: i64 = 3_600_000;
    for (engine, db) in databases().await {
        let store = db.open().await;
        growth_client_with_p1_ticket(&store).await;
        // Mid-November in Chicago: the bank opens with its first period.
        let november: Timestamp = "2026-11-10T18:00:00Z".parse().unwrap();
        let opened = run_month_close(&store, november, HOUR, "a").await.unwrap();
        assert_eq!(opened.map(|r| r.opened), Some(1), "{engine}");
        let same_slot = run_month_close(&store, november, HOUR, "b").await.unwrap();
        assert!(same_slot.is_none(), "{engine}: one instance per slot");

        // 23:30 on November 30 in Chicago is already December in UTC, not in Chicago.
        let late: Timestamp = "2026-12-01T05:30:00Z".parse().unwrap();
        let not_yet = run_month_close(&store, late, HOUR, "a")
            .await
            .unwrap()
            .unwrap();
        assert!(
            not_yet.closed.is_empty(),
            "{engine}: the boundary is the client's midnight"
        );
        let midnight: Timestamp = "2026-12-01T06:30:00Z".parse().unwrap();
        let closed = run_month_close(&store, midnight, HOUR, "b")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(closed.closed.len(), 1, "{engine}: {closed}");
        assert_eq!(
            closed.closed[0].carried.0, 300,
            "{engine}: 10 unused hours carry as 5"
        );

        // Down from December to March: December, January and February close in order.
        let march: Timestamp = "2027-03-02T18:00:00Z".parse().unwrap();
        let backfill = run_month_close(&store, march, HOUR, "a")
            .await
            .unwrap()
            .unwrap();
        let starts: Vec<String> = backfill
            .closed
            .iter()
            .map(|c| c.period.start.to_string())
            .collect();
        assert_eq!(
            starts,
            ["2026-12-01", "2027-01-01", "2027-02-01"],
            "{engine}"
        );
        let runs = store.job_runs().await.unwrap();
        let run = runs.iter().find(|r| r.0 == "month-close").unwrap();
        assert_eq!(
            run.5.as_deref(),
            Some("closed 3 period(s), opened 0 bank(s)")
        );
    }
}

//! The UI in a real browser: headless Chromium driven over WebDriver (chromedriver),
//! against a real server on a random port, the way a person would use it.
//!
//! Needs Debian's `chromium` and `chromium-driver` (the test script installs them).
//! Screenshots land in `target/browser-screenshots/` for a human to look at.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tend_domain::email::Email;
use tend_domain::role::Role;
use tend_store::{Actor, Store};
use tend_web::{router, AppState, WebConfig};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    profile: std::path::PathBuf,
}

impl Driver {
    fn start() -> Self {
        let driver =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver} ({e}); install Debian's chromium and chromium-driver (the test script does)"));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(15);
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile =
            std::env::temp_dir().join(format!("tend-chromium-{}", tend_store::random_hex(6)));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--window-size=1280,900", format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let mut res = agent
            .post(&format!("{base}/session"))
            .send_json(&caps)
            .unwrap();
        let body: Value = res.body_mut().read_json().unwrap();
        let session = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {body}"))
            .to_string();
        Driver {
            child,
            base,
            session,
            agent,
            profile,
        }
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut res = match method {
            "GET" => self.agent.get(&url).call().unwrap(),
            _ => self.agent.post(&url).send_json(&body).unwrap(),
        };
        let value: Value = res.body_mut().read_json().unwrap();
        assert!(
            value["value"].get("error").is_none(),
            "{method} {path}: {value}"
        );
        value["value"].clone()
    }

    fn go(&self, url: &str) {
        self.call("POST", "/url", json!({"url": url}));
    }

    /// Waits (bounded) for an element to appear, as a person waits for a page.
    fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = format!("{}/session/{}/element", self.base, self.session);
            let mut res = self
                .agent
                .post(&url)
                .send_json(json!({"using": "css selector", "value": css}))
                .unwrap();
            let value: Value = res.body_mut().read_json().unwrap();
            if let Some(id) = value["value"][ELEMENT].as_str() {
                return id.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no element matches {css}: {value}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/clear"), json!({}));
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            json!({"text": text}),
        );
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/click"), json!({}));
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.call("GET", &format!("/element/{id}/text"), json!({}))
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn url(&self) -> String {
        self.call("GET", "/url", json!({}))
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn source(&self) -> String {
        self.call("GET", "/source", json!({}))
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits (bounded) until the page source contains `needle`.
    fn wait_for_text(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.source().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "the page never showed {needle:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&self, name: &str) {
        let data = self.call("GET", "/screenshot", json!({}));
        let png = base64_decode(data.as_str().unwrap_or_default());
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/browser-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self
            .agent
            .delete(&format!("{}/session/{}", self.base, self.session))
            .call();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = text.bytes().filter_map(value).collect();
    digits
        .chunks(4)
        .flat_map(|c| {
            let n = c
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, d)| acc | (u32::from(*d) << (18 - 6 * i)));
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            bytes.into_iter().take(c.len().saturating_sub(1))
        })
        .collect()
}

/// A real server on a random port with one owner; returns its base URL.
async fn serve() -> (String, Store) {
    let dir = std::env::temp_dir().join(format!("tend-browser-{}", tend_store::random_hex(6)));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::connect(&format!("sqlite://{}/tend.db", dir.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
        .create_user(
            &Actor::system("test"),
            &Email::parse("owner@agency.test").unwrap(),
            "Olive Owner",
            Role::Owner,
            "a long enough password",
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(AppState::new(store.clone(), WebConfig::default()));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (format!("http://{addr}"), store)
}

/// Signs in through the form as the test owner.
fn sign_in(b: &Driver, base: &str) {
    b.go(&format!("{base}/login"));
    b.type_into("#email", "owner@agency.test");
    b.type_into("#password", "a long enough password");
    b.click("button[type=submit]");
    b.wait_for_text("Sign out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p1_ticket_for_a_growth_client_shows_its_clocks_and_they_pause_while_waiting() {
    let (base, store) = serve().await;
    let client = tend_domain::client::ClientDraft {
        name: "Keystone Realty".into(),
        slug: "keystone".into(),
        timezone: "America/Denver".into(),
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
    let actor = Actor::system("test");
    let mut tx = store.begin().await.unwrap();
    let id = store.insert_client(&mut tx, &actor, &client).await.unwrap();
    store
        .insert_contract(&mut tx, &actor, id, &contract)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    tokio::task::spawn_blocking(move || {
        let b = Driver::start();
        sign_in(&b, &base);
        b.go(&format!("{base}/tickets/new"));
        b.click("#client option[value='keystone']");
        b.type_into("#title", "New leads are not reaching the CRM");
        b.click("input[name=severity][value=p1]");
        b.click("form.panel button.primary");
        b.wait_for_text("SLA clocks");
        assert!(b.text("#clocks-h").contains("SLA clocks"));
        let clocks = b.source();
        assert!(clocks.contains("First response") && clocks.contains("Resolution"));
        assert!(
            clocks.contains("clock-running"),
            "both clocks run on a new P1 ticket"
        );
        assert!(
            clocks.contains("8 h (P1)"),
            "GROWTH's P1 response target is 8 business hours"
        );
        b.screenshot("07-ticket-clocks-running");
        b.click("form.move:has(input[value='waiting-on-client']) button");
        b.wait_for_text("clock-paused");
        assert!(
            !b.source().contains("clock-running"),
            "waiting on the client pauses every clock"
        );
        b.screenshot("08-ticket-clocks-paused");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_fixes_a_form_mistake_and_finds_the_new_client() {
    let (base, store) = serve().await;
    tokio::task::spawn_blocking(move || {
        let b = Driver::start();
        b.go(&format!("{base}/clients"));
        assert!(
            b.url().contains("/login"),
            "signed-out visitors are sent to sign in"
        );
        b.screenshot("01-sign-in");
        b.type_into("#email", "owner@agency.test");
        b.type_into("#password", "a long enough password");
        b.click("button[type=submit]");
        b.wait_for_text("No clients yet.");
        b.screenshot("02-empty-clients");

        b.click("a[href='/clients/new']");
        b.type_into("#name", "Bright Smile Dental");
        b.type_into("#timezone", "Mars/Olympus");
        b.click("form.panel button.primary");
        b.wait_for_text("id=\"timezone-error\"");
        assert!(b
            .text("#timezone-error")
            .contains("is not an IANA timezone"));
        let name = b.find("#name");
        let typed = b.call("GET", &format!("/element/{name}/property/value"), json!({}));
        assert_eq!(
            typed.as_str(),
            Some("Bright Smile Dental"),
            "what was typed is kept"
        );
        b.screenshot("03-form-error");

        b.type_into("#timezone", "America/Denver");
        b.click("form.panel button.primary");
        b.wait_for_text("Plan terms");
        assert!(b.url().ends_with("/clients/bright-smile-dental"));
        b.screenshot("04-client-page");

        b.go(&format!("{base}/clients"));
        b.wait_for_text("Bright Smile Dental");
        // Live search: typing filters the table without pressing Filter.
        b.type_into("#q", "nothing-like-this");
        b.wait_for_text("No client matches these filters.");
        b.type_into("#q", "bright");
        b.wait_for_text("href=\"/clients/bright-smile-dental\"");
        b.screenshot("05-clients-list");
        b.go(&format!("{base}/plans"));
        b.wait_for_text("ENTERPRISE");
        b.screenshot("06-plans");
    })
    .await
    .unwrap();
    assert_eq!(store.count_clients().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_acknowledges_a_ticket_by_email_from_the_template() {
    let (base, store) = serve().await;
    let actor = Actor::system("test");
    let client = tend_domain::client::ClientDraft {
        name: "Keystone Realty".into(),
        slug: "keystone".into(),
        timezone: "America/Denver".into(),
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
    let id = store.insert_client(&mut tx, &actor, &client).await.unwrap();
    store
        .insert_contract(&mut tx, &actor, id, &contract)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let contact = tend_domain::contact::ContactDraft {
        name: "Rosa Alvarez".into(),
        email: "rosa@keystone.example".into(),
        role: "requester".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    store.create_contact(&actor, id, &contact).await.unwrap();
    let ticket = tend_domain::ticket::TicketDraft {
        client: "keystone".into(),
        title: "Showing requests are not reaching the agents".into(),
        severity: "p1".into(),
        next_action: "Reconnect the form to the CRM and replay today's requests".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let number = store.create_ticket(&actor, &ticket).await.unwrap().number;
    tokio::task::spawn_blocking(move || {
        let b = Driver::start();
        sign_in(&b, &base);
        b.go(&format!("{base}/tickets/{number}"));
        b.click("form.compose-start button");
        b.wait_for_text("Acknowledge email");
        let body = b.text("#body");
        assert!(body.starts_with("Hi Rosa,"), "{body}");
        assert!(body.contains("I'll have an update for you by"), "{body}");
        b.screenshot("09-compose-acknowledgement");
        b.click("form button.primary");
        b.wait_for_text("emailed to rosa@keystone.example");
        let page = b.source();
        assert!(
            page.contains("met-in-time"),
            "the email was the first response"
        );
        assert!(page.contains("Next update"), "and started the update clock");
        b.screenshot("10-ticket-after-acknowledgement");
        b.go(&format!("{base}/templates/status-update"));
        b.wait_for_text("Preview");
        b.screenshot("11-template-editor");
    })
    .await
    .unwrap();
}

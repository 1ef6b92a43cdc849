//! The staff UI harness both UI test files share: a fresh database with an owner and a
//! viewer behind the real router, requests as a browser sends them, sign-in through the
//! form.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use tend_domain::email::Email;
use tend_domain::role::Role;
use tend_store::{Actor, Store};
use tend_web::{router, AppState, WebConfig};
use tower::ServiceExt;

pub struct App {
    pub router: Router,
    pub store: Store,
    _dir: TempDir,
}

impl App {
    /// Inserts a client straight into the store (not through the form), with defaults
    /// for all but its name, slug and timezone; returns its id.
    pub async fn insert_client(&self, name: &str, slug: &str, timezone: &str) -> i64 {
        let client = tend_domain::client::ClientDraft {
            name: name.into(),
            slug: slug.into(),
            timezone: timezone.into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        let mut tx = self.store.begin().await.unwrap();
        let id = self
            .store
            .insert_client(&mut tx, &Actor::system("test"), &client)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }
}

pub struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Response {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookies: Vec<String>,
    pub body: String,
}

impl Response {
    /// The value of a hidden input named `name` on the page.
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .map(|i| i + marker.len())
            .expect("hidden input present");
        self.body[start..].split('"').next().unwrap().to_string()
    }
}

/// A fresh SQLite database with an owner and a viewer, behind the real router.
pub async fn app() -> App {
    let dir = std::env::temp_dir().join(format!("tend-ui-{}", tend_store::random_hex(6)));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::connect(&format!("sqlite://{}/tend.db", dir.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    for (email, role) in [
        ("owner@agency.test", Role::Owner),
        ("viewer@agency.test", Role::Viewer),
    ] {
        store
            .create_user(
                &Actor::system("test"),
                &Email::parse(email).unwrap(),
                "",
                role,
                "a long enough password",
            )
            .await
            .unwrap();
    }
    App {
        router: router(AppState::new(store.clone(), WebConfig::default())),
        store,
        _dir: TempDir(dir),
    }
}

impl App {
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        cookie: &str,
        form: Option<String>,
    ) -> Response {
        let mut req = Request::builder().method(method).uri(path);
        if !cookie.is_empty() {
            req = req.header(header::COOKIE, cookie);
        }
        let body = match form {
            Some(f) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(f)
            }
            None => Body::empty(),
        };
        let res = self
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let cookies = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .collect();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        Response {
            status,
            location,
            cookies,
            body: String::from_utf8_lossy(&bytes).to_string(),
        }
    }

    /// Signs in through the form and returns the session cookie and the page CSRF token.
    pub async fn sign_in(&self, email: &str) -> (String, String) {
        let form = self.send("GET", "/login", "", None).await;
        let login_cookie = form.cookies[0].clone();
        let csrf = form.hidden("csrf");
        let res = self
            .send(
                "POST",
                "/login",
                &login_cookie,
                Some(format!(
                    "csrf={csrf}&next=%2Fclients&email={email}&password=a+long+enough+password"
                )),
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let session = res
            .cookies
            .iter()
            .find(|c| c.starts_with("tend_session="))
            .unwrap()
            .clone();
        let page = self.send("GET", "/clients", &session, None).await;
        (session, page.hidden("csrf"))
    }
}

/// Percent-encodes a form value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

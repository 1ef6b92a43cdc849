//! The REST API harness the API test files share: a fresh database per story (SQLite
//! always, PostgreSQL too when `TEND_TEST_POSTGRES_URL` is set), a write and a read
//! token, and a check that every error answer is problem JSON.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use tend_domain::role::Scope;
use tend_store::{Actor, Store};
use tend_web::{router, AppState, WebConfig};
use tower::ServiceExt;

pub mod harness {
    use super::*;

    /// A database for one test; a PostgreSQL one is dropped when the test is done.
    pub enum Db {
        Sqlite(TempDir),
        Postgres { base: String, name: String },
    }

    /// A fresh SQLite file in a temporary directory.
    pub async fn sqlite() -> (Store, Db) {
        let dir = TempDir::new();
        let url = format!("sqlite://{}/tend.db", dir.0.display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        (store, Db::Sqlite(dir))
    }

    /// A fresh database on the PostgreSQL server `TEND_TEST_POSTGRES_URL` names.
    pub async fn postgres() -> Option<(Store, Db)> {
        let base = std::env::var("TEND_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("tend_api_{}", tend_store::random_hex(6));
        admin(&base, &format!("CREATE DATABASE {name}")).await;
        let store = Store::connect(&server_url(&base, &name)).await.unwrap();
        store.migrate().await.unwrap();
        Some((store, Db::Postgres { base, name }))
    }

    pub async fn finish(store: Store, db: Db) {
        store.close().await;
        match db {
            Db::Sqlite(dir) => drop(dir),
            Db::Postgres { base, name } => {
                admin(
                    &base,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                )
                .await
            }
        }
    }

    async fn admin(base: &str, sql: &str) {
        let admin = Store::connect(base).await.unwrap();
        if let tend_store::Db::Pg(p) = &admin.db {
            if let Err(e) = sqlx::query(sql).execute(p).await {
                panic!("{sql}: {e}");
            }
        }
        admin.close().await;
    }

    fn server_url(base: &str, name: &str) -> String {
        match base.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("TEND_TEST_POSTGRES_URL must end with a database name"),
        }
    }

    pub struct TempDir(pub std::path::PathBuf);

    impl TempDir {
        pub fn new() -> Self {
            let path = std::env::temp_dir().join(format!("tend-api-{}", tend_store::random_hex(6)));
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

/// The application as an API caller sees it, with a write token, a read token and an
/// owner token.
#[derive(Clone)]
pub struct Api {
    pub router: Router,
    pub store: Store,
    pub write: String,
    pub read: String,
    pub owner: String,
}

/// One answer: status, headers and the body as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The message a validation or conflict problem gives for one field.
    pub fn field_error(&self, field: &str) -> Option<String> {
        self.body["errors"]
            .as_array()?
            .iter()
            .find(|e| e["field"] == field)
            .and_then(|e| e["message"].as_str())
            .map(str::to_string)
    }

    pub fn expect(self, status: StatusCode) -> Self {
        assert_eq!(self.status, status, "unexpected answer: {:#?}", self.body);
        self
    }
}

impl Api {
    pub async fn new(store: Store) -> Self {
        let system = Actor::system("test");
        let (_, write) = store
            .create_token(&system, "ci", Scope::Write, None)
            .await
            .unwrap();
        let (_, read) = store
            .create_token(&system, "dashboard", Scope::Read, None)
            .await
            .unwrap();
        let (_, owner) = store
            .create_token(&system, "books", Scope::Owner, None)
            .await
            .unwrap();
        let router = router(AppState::new(store.clone(), WebConfig::default()));
        Self {
            router,
            store,
            write,
            read,
            owner,
        }
    }

    /// The same API, called with the owner-scope token (plans, hour adjustments).
    pub fn as_owner(&self) -> Api {
        Api {
            write: self.owner.clone(),
            ..self.clone()
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{status}: the body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        let reply = Reply {
            status,
            headers,
            body,
        };
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(
                reply.header(header::CONTENT_TYPE),
                "application/problem+json",
                "every error is problem JSON: {reply:#?}"
            );
            assert_eq!(reply.body["status"], status.as_u16(), "{reply:#?}");
            assert!(
                !reply.body["detail"].as_str().unwrap_or_default().is_empty(),
                "every problem says what is wrong: {reply:#?}"
            );
        }
        reply
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> axum::http::request::Builder {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"));
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        builder
    }

    /// A call with the write token.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(&self.write.clone(), method, path, body).await
    }

    /// A call with the given token.
    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let builder = self.request(method, path, Some(token));
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }
}

/// Declares a story that runs once per engine.
macro_rules! story {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn on_sqlite() {
                let (store, db) = $crate::common::api::harness::sqlite().await;
                ($body)($crate::common::api::Api::new(store.clone()).await).await;
                $crate::common::api::harness::finish(store, db).await;
            }

            #[tokio::test]
            async fn on_postgres() {
                if let Some((store, db)) = $crate::common::api::harness::postgres().await {
                    ($body)($crate::common::api::Api::new(store.clone()).await).await;
                    $crate::common::api::harness::finish(store, db).await;
                }
            }
        }
    };
}

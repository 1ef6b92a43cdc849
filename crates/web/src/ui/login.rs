//! Signing in and out. The sign-in form is protected by a double-submit CSRF cookie
//! (there is no session yet); attempts are rate-limited per account and per address.

use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::auth::{
    client_address, cookie, same_secret, session_cookie, set_cookie, Staff, LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
};
use crate::ui::view::render;
use crate::ui::UiError;
use crate::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Only local paths are followed after sign-in, never another site.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/clients".to_string()
    }
}

fn page(
    status: StatusCode,
    csrf: String,
    next: &str,
    email: &str,
    error: Option<String>,
    secure: bool,
) -> Result<Response, UiError> {
    let mut response = render(&LoginPage {
        csrf: csrf.clone(),
        next: safe_next(next),
        email: email.to_string(),
        error,
    })?;
    *response.status_mut() = status;
    if let Ok(v) = set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600, secure).parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

pub async fn form(
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
) -> Result<Response, UiError> {
    page(
        StatusCode::OK,
        tend_store::random_hex(16),
        &q.next,
        "",
        None,
        state.config.secure_cookies,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// The peer address, taken from the request before the body is read.
pub struct PeerAddress(String);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddress {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddress(client_address(parts)))
    }
}

pub async fn submit(
    State(state): State<AppState>,
    PeerAddress(address): PeerAddress,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, UiError> {
    let secure = state.config.secure_cookies;
    let fresh = tend_store::random_hex(16);
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(&expected, &f.csrf) {
        return page(
            StatusCode::FORBIDDEN,
            fresh,
            &f.next,
            &f.email,
            Some("The sign-in form expired. Please try again.".into()),
            secure,
        );
    }
    let account = f.email.trim().to_lowercase();
    if !state.login_limiter.allowed(&account, &address) {
        tracing::warn!(account = %account, address = %address, "sign-in refused: too many attempts");
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            fresh,
            &f.next,
            &f.email,
            Some("Too many failed attempts. Wait 15 minutes and try again, or ask an owner to reset your password.".into()),
            secure,
        );
    }
    match state.store.authenticate(&account, &f.password).await? {
        Some(user) => {
            state.login_limiter.record_success(&account);
            let session = state.store.create_session(user.id).await?;
            tracing::info!(user = %user.email, "signed in");
            let mut response = Redirect::to(&safe_next(&f.next)).into_response();
            if let Ok(v) = session_cookie(&session.secret, secure).parse() {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            if let Ok(v) = set_cookie(LOGIN_CSRF_COOKIE, "", 0, secure).parse() {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(response)
        }
        None => {
            state.login_limiter.record_failure(&account, &address);
            page(
                StatusCode::UNAUTHORIZED,
                fresh,
                &f.next,
                &f.email,
                Some("That email and password do not match an active account.".into()),
                secure,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(f): Form<LogoutForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        state.store.delete_session(&secret).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(v) = set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies).parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/clients/acme"), "/clients/acme");
        assert_eq!(safe_next("https://evil.test"), "/clients");
        assert_eq!(safe_next("//evil.test"), "/clients");
        assert_eq!(safe_next(""), "/clients");
    }
}

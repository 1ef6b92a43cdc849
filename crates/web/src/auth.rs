//! Who is asking: a signed-in staff member (session cookie + CSRF token on every form)
//! or an API token (`Authorization: Bearer`). Extractors refuse everyone else.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use tend_store::sessions::SESSION_TTL_MS;
use tend_store::tokens::ApiToken;
use tend_store::users::User;
use tend_store::Actor;

use crate::problem::Problem;
use crate::ui::UiError;
use crate::AppState;

pub const SESSION_COOKIE: &str = "tend_session";
pub const LOGIN_CSRF_COOKIE: &str = "tend_login_csrf";

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Lax always, Secure when configured.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

pub fn session_cookie(secret: &str, secure: bool) -> String {
    set_cookie(SESSION_COOKIE, secret, SESSION_TTL_MS / 1000, secure)
}

/// Compares two secrets without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The peer address, or "unknown" when the server was not given connection info
/// (as in tests that call the router directly).
pub fn client_address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// A signed-in staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: User,
    pub csrf_token: String,
}

impl Staff {
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.id, &self.user.email)
    }

    /// Every form carries the session's CSRF token; a form without it is refused.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), UiError> {
        if same_secret(&self.csrf_token, submitted) {
            Ok(())
        } else {
            Err(UiError::Forbidden("This form has expired or did not come from Tend. Go back, reload the page and try again.".into()))
        }
    }

    pub fn require_write(&self) -> Result<(), UiError> {
        if self.user.role.can_write() {
            Ok(())
        } else {
            Err(UiError::Forbidden("Your role is viewer: you can look at everything but change nothing. Ask an owner for a staff role.".into()))
        }
    }

    pub fn require_plan_editor(&self) -> Result<(), UiError> {
        if self.user.role.can_edit_plans() {
            Ok(())
        } else {
            Err(UiError::Forbidden("Only an owner can change plans.".into()))
        }
    }
}

/// Sends people who are not signed in to the sign-in page, and back here afterwards.
pub struct SignInRedirect(String);

impl IntoResponse for SignInRedirect {
    fn into_response(self) -> Response {
        Redirect::to(&format!("/login?next={}", urlencode(&self.0))).into_response()
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let next = if parts.method == Method::GET {
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into())
        } else {
            "/".to_string()
        };
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(SignInRedirect(next).into_response());
        };
        match state.store.session_user(&secret).await {
            Ok(Some(s)) => Ok(Staff {
                user: s.user,
                csrf_token: s.csrf_token,
            }),
            Ok(None) => Err(SignInRedirect(next).into_response()),
            Err(e) => Err(UiError::from(e).into_response()),
        }
    }
}

/// A caller of `/api/v1` holding a live API token.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub token: ApiToken,
}

impl ApiCaller {
    pub fn actor(&self) -> Actor {
        Actor::token(self.token.id, &self.token.name)
    }

    pub fn require_write(&self) -> Result<(), Problem> {
        if self.token.scope.can_write() {
            Ok(())
        } else {
            Err(Problem::forbidden(
                "this token's scope is read; a write token is needed to change data",
            ))
        }
    }

    /// For what the UI keeps to owners (hour-bank adjustments, plan edits).
    pub fn require_owner(&self) -> Result<(), Problem> {
        if self.token.scope.acts_as_owner() {
            Ok(())
        } else {
            Err(Problem::forbidden(
                "only an owner may do this: it needs a token with scope owner (tend token create --scope owner)",
            ))
        }
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Problem::unauthorized("send an API token as Authorization: Bearer <token> (create one with `tend token create`)"))?;
        let secret = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                Problem::unauthorized("the Authorization header must be Bearer <token>")
            })?;
        match state.store.token_by_secret(secret).await {
            Ok(Some(token)) => Ok(ApiCaller { token }),
            Ok(None) => Err(Problem::unauthorized(
                "this API token is unknown or revoked",
            )),
            Err(e) => Err(Problem::from(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name_from_any_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; tend_session=abc".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn session_cookies_are_http_only_and_same_site() {
        let c = session_cookie("s", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(!session_cookie("s", false).contains("Secure"));
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}

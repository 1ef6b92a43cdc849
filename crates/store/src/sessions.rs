//! Signed-in sessions. The browser holds a random id; the database holds its SHA-256,
//! so a copy of the database cannot be used to sign in.

use crate::row::RowExt;
use crate::users::{user_from_row, User};
use crate::{now_ms, random_hex, sha256_hex, with_pool, Result, Store};

/// Sessions last a week from sign-in.
pub const SESSION_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;

#[derive(Debug, Clone)]
pub struct NewSession {
    /// Goes into the cookie; never stored.
    pub secret: String,
    pub csrf_token: String,
}

#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user: User,
    pub csrf_token: String,
}

impl Store {
    pub async fn create_session(&self, user_id: i64) -> Result<NewSession> {
        let secret = random_hex(32);
        let csrf_token = random_hex(16);
        let now = now_ms();
        with_pool!(&self.db, p => sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(sha256_hex(&secret))
            .bind(user_id)
            .bind(&csrf_token)
            .bind(now)
            .bind(now + SESSION_TTL_MS)
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(NewSession { secret, csrf_token })
    }

    /// The user behind a session cookie, if the session is live and the user enabled.
    /// One query: this runs on every page.
    pub async fn session_user(&self, secret: &str) -> Result<Option<SessionUser>> {
        with_pool!(&self.db, p => {
            let row = sqlx::query(
                "SELECT u.id, u.email, u.name, u.role, u.timezone, u.disabled_at, s.csrf_token \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL")
                .bind(sha256_hex(secret))
                .bind(now_ms())
                .fetch_optional(p)
                .await?;
            match row {
                Some(r) => Ok(Some(SessionUser { user: user_from_row(&r)?, csrf_token: r.text("csrf_token")? })),
                None => Ok(None),
            }
        })
    }

    pub async fn delete_session(&self, secret: &str) -> Result<()> {
        with_pool!(&self.db, p => sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at < $2")
            .bind(sha256_hex(secret))
            .bind(now_ms())
            .execute(p)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

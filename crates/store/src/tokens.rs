//! API tokens: shown once at creation, kept as a SHA-256 hash, scoped read or write.

use serde::Serialize;
use tend_domain::role::Scope;

use crate::audit::{self, Action, Change};
use crate::row::{parsed, RowExt};
use crate::{now_ms, random_hex, sha256_hex, with_pool, with_tx, Actor, Result, Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The first characters of the token, to recognise it in a list.
    pub prefix: String,
    pub scope: Scope,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

fn token_from_row(r: &impl RowExt) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.int("id")?,
        name: r.text("name")?,
        prefix: r.text("prefix")?,
        scope: parsed("scope", Scope::parse(&r.text("scope")?))?,
        created_at: r.int("created_at")?,
        last_used_at: r.opt_int("last_used_at")?,
        revoked: r.opt_int("revoked_at")?.is_some(),
    })
}

impl Store {
    /// Creates a token and returns it with its secret, which is not stored anywhere.
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        scope: Scope,
        created_by: Option<i64>,
    ) -> Result<(ApiToken, String)> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::invalid("name", "is required"));
        }
        let secret = format!("tend_{}", random_hex(24));
        let prefix: String = secret.chars().take(12).collect();
        let mut tx = self.begin().await?;
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_hash, prefix, scope, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(name)
            .bind(sha256_hex(&secret))
            .bind(&prefix)
            .bind(scope.as_str())
            .bind(created_by)
            .bind(now_ms())
            .fetch_one(&mut *c)
            .await)?;
        let after = [
            ("name", name.to_string()),
            ("scope", scope.as_str().to_string()),
        ];
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Create,
                entity: "api_token",
                entity_id: Some(id),
                client_id: None,
                summary: format!("created {} token {name}", scope.as_str()),
                before: &[],
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        let token = self
            .list_tokens()
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(StoreError::NotFound("token"))?;
        Ok((token, secret))
    }

    pub async fn list_tokens(&self) -> Result<Vec<ApiToken>> {
        with_pool!(&self.db, p => {
            let rows = sqlx::query("SELECT id, name, prefix, scope, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id").fetch_all(p).await?;
            rows.iter().map(token_from_row).collect()
        })
    }

    /// The live token a bearer secret names; marks it used (at most once a minute).
    pub async fn token_by_secret(&self, secret: &str) -> Result<Option<ApiToken>> {
        let row = with_pool!(&self.db, p => match sqlx::query(
            "SELECT id, name, prefix, scope, created_at, last_used_at, revoked_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(sha256_hex(secret))
            .fetch_optional(p)
            .await? {
            Some(r) => Some(token_from_row(&r)?),
            None => None,
        });
        if let Some(token) = &row {
            let now = now_ms();
            if token.last_used_at.is_none_or(|t| now - t > 60_000) {
                with_pool!(&self.db, p => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now).bind(token.id).execute(p).await.map(|r| r.rows_affected()))?;
            }
        }
        Ok(row)
    }

    pub async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = with_tx!(&mut tx, c => sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms()).bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::NotFound("token"));
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Delete,
                entity: "api_token",
                entity_id: Some(id),
                client_id: None,
                summary: format!("revoked token #{id}"),
                before: &[],
                after: &[],
            },
        )
        .await?;
        tx.commit().await
    }
}

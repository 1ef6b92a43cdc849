//! Staff users and their passwords (argon2id hashes; the password itself is never kept).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use serde::Serialize;
use tend_domain::email::Email;
use tend_domain::role::Role;
use tend_domain::timezone::Timezone;

use crate::audit::{self, Action, Change};
use crate::error::is_unique_violation;
use crate::row::{parsed, RowExt};
use crate::{now_ms, with_pool, with_tx, Actor, Result, Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub timezone: String,
    pub disabled: bool,
}

pub const MIN_PASSWORD_LEN: usize = 10;

/// The users who hear about an event, by `tend_domain::recipients::who_hears`: the first
/// reachable of `named` (in order of preference), else every active owner.
pub fn who_hears<'a>(named: &[Option<i64>], users: &'a [User]) -> Vec<&'a User> {
    let staff: Vec<tend_domain::recipients::StaffMember> = users
        .iter()
        .map(|u| tend_domain::recipients::StaffMember {
            id: u.id,
            role: u.role,
            active: !u.disabled,
        })
        .collect();
    tend_domain::recipients::who_hears(named, &staff)
        .into_iter()
        .filter_map(|id| users.iter().find(|u| u.id == id))
        .collect()
}

pub(crate) fn user_from_row(r: &impl RowExt) -> Result<User> {
    Ok(User {
        id: r.int("id")?,
        email: r.text("email")?,
        name: r.text("name")?,
        role: parsed("role", Role::parse(&r.text("role")?))?,
        timezone: r.text("timezone")?,
        disabled: r.opt_int("disabled_at")?.is_some(),
    })
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::invalid("password", e.to_string()))
}

/// Checks a password against a stored hash in constant time (argon2's verifier).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a password nobody has, verified against when the email is unknown so that
/// a wrong email takes as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_password("no user has this password").unwrap_or_default());
    &DUMMY
}

const USER_COLUMNS: &str = "id, email, name, role, timezone, disabled_at";

impl Store {
    pub async fn create_user(
        &self,
        actor: &Actor,
        email: &Email,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<User> {
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(StoreError::invalid(
                "password",
                format!("must be at least {MIN_PASSWORD_LEN} characters"),
            ));
        }
        let hash = hash_password(password)?;
        let name = if name.trim().is_empty() {
            email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string()
        } else {
            name.trim().to_string()
        };
        let mut tx = self.begin().await?;
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO users (email, name, role, password_hash, timezone, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(email.as_str())
        .bind(&name)
        .bind(role.as_str())
        .bind(&hash)
        .bind("UTC")
        .bind(now_ms())
        .fetch_one(&mut *c)
        .await)
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict { field: "email", message: format!("a user with email {email} already exists") }
            } else {
                e.into()
            }
        })?;
        let after = [
            ("email", email.to_string()),
            ("name", name.clone()),
            ("role", role.as_str().to_string()),
        ];
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Create,
                entity: "user",
                entity_id: Some(id),
                client_id: None,
                summary: format!("added {} user {email}", role.as_str()),
                before: &[],
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.user_by_id(id).await
    }

    pub async fn set_user_timezone(&self, id: i64, tz: &Timezone) -> Result<()> {
        with_pool!(&self.db, p => sqlx::query("UPDATE users SET timezone = $1 WHERE id = $2").bind(tz.as_str()).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_password(&self, actor: &Actor, email: &Email, password: &str) -> Result<()> {
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(StoreError::invalid(
                "password",
                format!("must be at least {MIN_PASSWORD_LEN} characters"),
            ));
        }
        let user = self
            .user_by_email(email)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        let hash = hash_password(password)?;
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(&hash).bind(user.id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        // Signing out everywhere is what a password change is usually for.
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "user",
                entity_id: Some(user.id),
                client_id: None,
                summary: format!("changed the password of {email}"),
                before: &[],
                after: &[],
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn user_by_id(&self, id: i64) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        with_pool!(&self.db, p => match sqlx::query(&sql).bind(id).fetch_optional(p).await? {
            Some(row) => user_from_row(&row),
            None => Err(StoreError::NotFound("user")),
        })
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        with_pool!(&self.db, p => match sqlx::query(&sql).bind(email.as_str()).fetch_optional(p).await? {
            Some(row) => Ok(Some(user_from_row(&row)?)),
            None => Ok(None),
        })
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name, email");
        with_pool!(&self.db, p => {
            let rows = sqlx::query(&sql).fetch_all(p).await?;
            rows.iter().map(user_from_row).collect()
        })
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(
            with_pool!(&self.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)?,
        )
    }

    /// The user whose email and password match, if any and not disabled. Runs the hash
    /// check even for an unknown email so timing does not reveal which emails exist.
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<Option<User>> {
        let row: Option<(i64, String, Option<i64>)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT id, password_hash, disabled_at FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(p)
            .await)?;
        match row {
            Some((id, hash, None)) if verify_password(password, &hash) => {
                Ok(Some(self.user_by_id(id).await?))
            }
            Some(_) => Ok(None),
            None => {
                verify_password(password, dummy_hash());
                Ok(None)
            }
        }
    }
}

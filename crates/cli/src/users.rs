//! `tend user …`: staff accounts.

use tend_domain::email::Email;
use tend_domain::role::Role;
use tend_domain::FieldErrors;
use tend_store::{Actor, Store};

use crate::failure::{Failure, NotFoundAs};
use crate::password::{self, NewPassword};
use crate::table::Table;

fn parse_email(raw: &str) -> Result<Email, Failure> {
    Email::parse(raw).map_err(|e| FieldErrors::single("email", e.to_string()).into())
}

pub async fn add(
    store: &Store,
    email: &str,
    role: &str,
    name: Option<&str>,
    generate: bool,
) -> Result<String, Failure> {
    let email = parse_email(email)?;
    let role = Role::parse(role).map_err(|e| FieldErrors::single("role", e.to_string()))?;
    let password = password::obtain(generate)?;
    let user = store
        .create_user(
            &Actor::system("cli"),
            &email,
            name.unwrap_or(""),
            role,
            password.as_str(),
        )
        .await?;
    let mut out = format!(
        "Added {} {} ({}).\n",
        user.role.as_str(),
        user.email,
        user.name
    );
    out.push_str(&password_note(&password, &user.email));
    Ok(out)
}

pub async fn list(store: &Store) -> Result<String, Failure> {
    let users = store.list_users().await?;
    if users.is_empty() {
        return Ok(
            "No users yet. Add the first owner with: tend user add EMAIL --role owner\n".into(),
        );
    }
    let mut table = Table::new(&["EMAIL", "NAME", "ROLE", "STATUS"]);
    for u in &users {
        table.row(vec![
            u.email.clone(),
            u.name.clone(),
            u.role.as_str().into(),
            if u.disabled { "disabled" } else { "active" }.into(),
        ]);
    }
    Ok(format!("{}{} users\n", table.render(), users.len()))
}

pub async fn passwd(store: &Store, email: &str, generate: bool) -> Result<String, Failure> {
    let email = parse_email(email)?;
    // Looked up first so a typo is reported before anyone types a password.
    store
        .user_by_email(&email)
        .await?
        .ok_or_else(|| Failure::new(format!("no user has the email {email}")))?;
    let password = password::obtain(generate)?;
    store
        .set_password(&Actor::system("cli"), &email, password.as_str())
        .await
        .not_found_as(|| format!("no user has the email {email}"))?;
    let mut out = format!("Changed the password of {email}; their sessions were signed out.\n");
    out.push_str(&password_note(&password, email.as_str()));
    Ok(out)
}

fn password_note(password: &NewPassword, email: &str) -> String {
    match password {
        NewPassword::Generated(p) => format!(
            "Password: {p}\nThis password is shown once; store it now (a new one: tend user passwd {email}).\n"
        ),
        NewPassword::Given(_) => "Password: as given on standard input.\n".into(),
    }
}

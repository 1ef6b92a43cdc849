//! `tend token …`: API tokens for the agency's other tools.

use tend_domain::role::Scope;
use tend_domain::FieldErrors;
use tend_store::{Actor, Store};

use crate::failure::{Failure, NotFoundAs};
use crate::table::{utc_minute, Table};

pub async fn create(store: &Store, name: &str, scope: &str) -> Result<String, Failure> {
    let scope = Scope::parse(scope).map_err(|e| FieldErrors::single("scope", e.to_string()))?;
    let (token, secret) = store
        .create_token(&Actor::system("cli"), name, scope, None)
        .await?;
    Ok(format!(
        "Created {} token #{} \"{}\".\nSecret: {secret}\nThis secret cannot be shown again: store it now. Send it as `Authorization: Bearer <secret>`.\n",
        token.scope.as_str(),
        token.id,
        token.name
    ))
}

pub async fn list(store: &Store) -> Result<String, Failure> {
    let tokens = store.list_tokens().await?;
    if tokens.is_empty() {
        return Ok(
            "No API tokens. Create one with: tend token create --name NAME --scope read\n".into(),
        );
    }
    let mut table = Table::new(&[
        "ID",
        "NAME",
        "STARTS WITH",
        "SCOPE",
        "CREATED",
        "LAST USED",
        "STATUS",
    ]);
    for t in &tokens {
        table.row(vec![
            t.id.to_string(),
            t.name.clone(),
            format!("{}…", t.prefix),
            t.scope.as_str().into(),
            utc_minute(t.created_at),
            t.last_used_at
                .map(utc_minute)
                .unwrap_or_else(|| "never".into()),
            if t.revoked { "revoked" } else { "live" }.into(),
        ]);
    }
    Ok(table.render())
}

pub async fn revoke(store: &Store, id: i64) -> Result<String, Failure> {
    store
        .revoke_token(&Actor::system("cli"), id)
        .await
        .not_found_as(|| format!("no live token has id {id} (see tend token list)"))?;
    Ok(format!(
        "Revoked token #{id}; requests using it are refused from now on.\n"
    ))
}

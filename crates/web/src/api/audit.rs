//! `/audit` and `/clients/{slug}/audit`: who changed what, when, newest first.

use axum::extract::State;
use axum::Json;
use tend_domain::page::Page;
use tend_store::audit::AuditEntry;

use super::params::{Params, PathText};
use crate::auth::ApiCaller;
use crate::problem::Problem;
use crate::AppState;

/// The entity names the store writes to the audit log. A name outside this list is a
/// typo (it would match nothing); add new entities here as the store gains them.
const ENTITIES: &[&str] = &[
    "client",
    "contact",
    "contract",
    "plan",
    "api_token",
    "user",
    "ticket",
    "ticket_message",
    "post_mortem",
    "outbox",
    "message_template",
    "change",
    "release",
    "time_entry",
    "hour_adjustment",
    "check",
    "maintenance_window",
];

/// Every change, optionally of one kind of entity.
#[utoipa::path(get, path = "/audit", tag = "audit", operation_id = "listAudit",
    params(
        ("entity" = Option<String>, Query, description = "client, contact, contract, plan, api_token, user, ticket, ticket_message, post_mortem, outbox, change or release"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of audit entries", body = super::openapi::PageOf)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Json<Page<AuditEntry>>, Problem> {
    params.allow(&["entity", "page", "per_page"]);
    let entity = params.parsed("entity", |raw| {
        let name = raw.to_lowercase();
        if ENTITIES.contains(&name.as_str()) {
            Ok(name)
        } else {
            Err(format!(
                "\"{raw}\" is not an entity (one of: {})",
                ENTITIES.join(", ")
            ))
        }
    });
    let page = params.page();
    params.finish()?;
    Ok(Json(state.store.audit_log(entity.as_deref(), page).await?))
}

/// A client's changes (its contacts and contracts too), also after the client was
/// deleted: the history stays.
#[utoipa::path(get, path = "/clients/{slug}/audit", tag = "audit", operation_id = "listClientAudit",
    params(
        ("slug" = String, Path, description = "The client's slug"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of audit entries", body = super::openapi::PageOf)))]
pub async fn for_client(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(slug): PathText,
    mut params: Params,
) -> Result<Json<Page<AuditEntry>>, Problem> {
    params.allow(&["page", "per_page"]);
    let page = params.page();
    params.finish()?;
    let client = state.store.client_by_slug(&slug, true).await?;
    Ok(Json(state.store.client_audit(client.id, page).await?))
}

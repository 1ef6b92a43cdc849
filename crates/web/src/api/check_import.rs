//! `/clients/{slug}/checks/import`: a healthchecks.io project's checks (its management
//! API's JSON list) or a CSV file become the client's checks, all or nothing (the rows
//! are read by `tend_domain::check_import`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use tend_domain::check_import::{from_csv, from_healthchecks_json};
use tend_domain::FieldErrors;
use tend_store::check_import::ImportReport;

use super::holidays::dry_run;
use super::params::{Params, PathText};
use crate::auth::ApiCaller;
use crate::problem::Problem;
use crate::AppState;

/// Import checks for the client: `Content-Type: application/json` for a healthchecks.io
/// check list (`GET /api/v3/checks/` of its management API; each check keeps its UUID
/// when the list has `ping_url`), `text/csv` for a CSV file with a header row (name,
/// slug, workflow, criticality, period, cron, timezone, grace, uuid). Every row is
/// checked first: one bad row (named `row N field` in `errors`) and nothing is added.
/// A row whose slug the client already has is skipped, so importing again is safe.
#[utoipa::path(post, path = "/clients/{slug}/checks/import", tag = "checks", operation_id = "importChecks",
    params(
        ("slug" = String, Path, description = "The client's slug"),
        ("dry_run" = Option<bool>, Query, description = "true: only say what would be added"),
    ),
    request_body(content = String, content_type = "application/json", description = "A healthchecks.io check list, or a CSV file sent as text/csv"),
    responses(
        (status = 200, description = "What was added (or would be), and what was skipped", body = serde_json::Value),
        (status = 415, description = "The body is neither application/json nor text/csv", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file cannot be read, or rows are bad; `errors` names them", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(slug): PathText,
    mut params: Params,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportReport>, Problem> {
    caller.require_write()?;
    params.allow(&["dry_run"]);
    let dry_run = dry_run(&mut params);
    params.finish()?;
    state.store.client_by_slug(&slug, false).await?;
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let json = if kind.starts_with("application/json") {
        true
    } else if kind.starts_with("text/csv") {
        false
    } else {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send a healthchecks.io check list as application/json, or a CSV file as text/csv",
        ));
    };
    let body = body.map_err(|r| Problem::bad_request(r.body_text()))?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| Problem::validation(&FieldErrors::single("body", "is not UTF-8 text")))?;
    let rows = if json {
        from_healthchecks_json(text, &slug)
    } else {
        from_csv(text, &slug)
    }
    .map_err(|e| {
        let mut p = Problem::validation(&FieldErrors::single("body", e.to_string()));
        p.detail = format!("the file cannot be read: {e}");
        p
    })?;
    Ok(Json(
        state
            .store
            .import_checks(&caller.actor(), &slug, &rows, dry_run)
            .await?,
    ))
}

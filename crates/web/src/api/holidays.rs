//! `/clients/{slug}/holidays/import`: holidays from an iCalendar file join the client's
//! calendar (the reader is `tend_domain::ics`; a date already listed keeps its name).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::Serialize;
use tend_domain::calendar::{merge_holidays, Holiday};
use tend_domain::ics::{import_years, read_holidays};
use tend_domain::FieldErrors;

use super::params::{Params, PathText};
use super::today_in;
use crate::auth::ApiCaller;
use crate::problem::Problem;
use crate::AppState;

/// What an import added, or would add on a dry run.
#[derive(Debug, Serialize)]
pub struct HolidayImport {
    /// The client's slug.
    pub client: String,
    /// True when nothing was saved.
    pub dry_run: bool,
    /// Dates that were not listed yet, by date.
    pub added: Vec<Holiday>,
    /// Dates the file gives that were already listed; the client keeps its names.
    pub already_listed: Vec<Holiday>,
    /// What the file holds that was left out, and why.
    pub notes: Vec<String>,
    /// The client's holidays after the import (on a dry run, as they would be).
    pub holidays: Vec<Holiday>,
}

/// Whether `dry_run` asks for a preview: `true` or `false`.
pub(super) fn dry_run(params: &mut Params) -> bool {
    params
        .parsed("dry_run", |raw| match raw.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("\"{raw}\" is not true or false")),
        })
        .unwrap_or(false)
}

/// Add holidays from an iCalendar file (the body, `Content-Type: text/calendar`) to the
/// client's calendar. All-day and multi-day events, and yearly repeats over this year
/// and the next two, become dates; a date already listed keeps its name. With
/// `dry_run=true` nothing is saved. A file that cannot be read is a 422 naming the line.
#[utoipa::path(post, path = "/clients/{slug}/holidays/import", tag = "clients", operation_id = "importHolidays",
    params(
        ("slug" = String, Path, description = "The client's slug"),
        ("dry_run" = Option<bool>, Query, description = "true: only say what would be added"),
    ),
    request_body(content = String, content_type = "text/calendar", description = "An .ics file"),
    responses(
        (status = 200, description = "What was added, what was already listed, notes on what was left out, and the client's holidays after", body = serde_json::Value),
        (status = 400, description = "A query parameter is unknown or malformed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than 256 KiB (the limit of every request)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as text/calendar", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file cannot be read; `errors` says on which line", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(slug): PathText,
    mut params: Params,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<HolidayImport>, Problem> {
    caller.require_write()?;
    params.allow(&["dry_run"]);
    let dry_run = dry_run(&mut params);
    params.finish()?;
    let client = state.store.client_by_slug(&slug, false).await?;
    let calendar = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/calendar"));
    if !calendar {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the .ics file as the body with Content-Type: text/calendar",
        ));
    }
    let body = body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!(
                "the file is larger than {} KiB",
                crate::BODY_LIMIT_BYTES / 1024
            ),
        ),
        _ => Problem::bad_request(r.body_text()),
    })?;
    let read = read_holidays(&body, import_years(today_in(&client.timezone))).map_err(|e| {
        let mut p = Problem::validation(&FieldErrors::single("body", e.to_string()));
        p.detail = format!("the .ics file cannot be read: {e}");
        p
    })?;
    let (holidays, merge) = if dry_run {
        let merge = merge_holidays(&client.holidays, &read.holidays);
        (merge.merged.clone(), merge)
    } else {
        let (client, merge) = state
            .store
            .add_holidays(&caller.actor(), &slug, &read.holidays, "an .ics file (API)")
            .await?;
        (client.holidays, merge)
    };
    Ok(Json(HolidayImport {
        client: client.slug,
        dry_run,
        added: merge.added,
        already_listed: merge.already_listed,
        notes: read.notes,
        holidays,
    }))
}

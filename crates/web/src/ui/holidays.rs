//! Holidays from an .ics file, on the client's edit form: the upload shows the dates it
//! would add (nothing is saved yet); confirming adds them, audited. A date already
//! listed keeps its name. The reader is `tend_domain::ics`.

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tend_domain::calendar::{holidays_text, merge_holidays, parse_holidays};
use tend_domain::ics::{import_years, read_holidays};
use tend_store::clients::Client;

use crate::auth::Staff;
use crate::ui::clients::edit_with_import_error;
use crate::ui::view::{render, today_in, Nav};
use crate::ui::UiError;
use crate::AppState;

#[derive(Template)]
#[template(path = "holidays_import.html")]
struct Preview {
    nav: Nav,
    client: Client,
    file: String,
    /// (date, weekday, name) of each date to add.
    added: Vec<(String, String, String)>,
    /// (date, name kept, name in the file) of each date already listed.
    already_listed: Vec<(String, String, String)>,
    notes: Vec<String>,
    /// The dates to add in the holidays text form, carried by the confirm form.
    text: String,
    years: String,
}

/// The uploaded file's name as shown and audited: no path, at most 100 characters.
fn file_label(name: Option<&str>) -> String {
    let base = name
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .trim();
    let label: String = base.chars().filter(|c| !c.is_control()).take(100).collect();
    if label.is_empty() {
        "an .ics file".into()
    } else {
        label
    }
}

/// Reads the upload and shows what it would add.
pub async fn preview(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, UiError> {
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut upload_error = None;
    match multipart {
        Err(e) => upload_error = Some(format!("The upload could not be read: {}", e.body_text())),
        Ok(mut form) => loop {
            match form.next_field().await {
                Ok(None) => break,
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or("").to_string();
                    let file_name = field.file_name().map(str::to_string);
                    let read = field.bytes().await;
                    match (name.as_str(), read) {
                        ("csrf", Ok(bytes)) => csrf = String::from_utf8_lossy(&bytes).into_owned(),
                        ("ics", Ok(bytes)) => {
                            file = Some((file_label(file_name.as_deref()), bytes.to_vec()))
                        }
                        (_, Ok(_)) => {}
                        (_, Err(e)) => {
                            upload_error = Some(upload_message(e.status(), &e.body_text()));
                            break;
                        }
                    }
                }
                Err(e) => {
                    upload_error = Some(upload_message(e.status(), &e.body_text()));
                    break;
                }
            }
        },
    }
    staff.check_csrf(&csrf)?;
    staff.require_write()?;
    let client = state.store.client_by_slug(&slug, false).await?;
    if let Some(message) = upload_error {
        return edit_with_import_error(&state, &staff, &client, message).await;
    }
    let Some((file, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return edit_with_import_error(
            &state,
            &staff,
            &client,
            "Choose an .ics file first.".into(),
        )
        .await;
    };
    let years = import_years(today_in(&client.timezone));
    let read = match read_holidays(&bytes, years.clone()) {
        Ok(read) => read,
        Err(e) => {
            let message = format!("{file} cannot be read: {e}. Nothing was imported.");
            return edit_with_import_error(&state, &staff, &client, message).await;
        }
    };
    let merge = merge_holidays(&client.holidays, &read.holidays);
    render(&Preview {
        nav: Nav::new(&staff, "clients"),
        added: merge
            .added
            .iter()
            .map(|h| {
                (
                    h.date.to_string(),
                    h.date.strftime("%a").to_string(),
                    h.name.clone(),
                )
            })
            .collect(),
        text: holidays_text(&merge.added),
        already_listed: merge
            .already_listed
            .iter()
            .map(|offered| {
                let kept = client
                    .holidays
                    .iter()
                    .find(|h| h.date == offered.date)
                    .map(|h| h.name.clone())
                    .unwrap_or_default();
                (offered.date.to_string(), kept, offered.name.clone())
            })
            .collect(),
        notes: read.notes,
        years: format!("{}–{}", years.start(), years.end()),
        file,
        client,
    })
}

fn upload_message(status: StatusCode, detail: &str) -> String {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        format!(
            "The file is larger than {} KiB; a holiday calendar is much smaller.",
            crate::BODY_LIMIT_BYTES / 1024
        )
    } else {
        format!("The upload could not be read: {detail}")
    }
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    holidays: String,
    #[serde(default)]
    file: String,
}

/// Adds the dates the preview showed (merged again with the list as it is now).
pub async fn add(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Form(f): Form<AddForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let client = state.store.client_by_slug(&slug, false).await?;
    let offered = match parse_holidays(&f.holidays) {
        Ok(h) => h,
        Err(e) => {
            let message =
                format!("The dates to add were not understood ({e}); upload the file again.");
            return edit_with_import_error(&state, &staff, &client, message).await;
        }
    };
    let source = file_label(Some(&f.file));
    state
        .store
        .add_holidays(&staff.actor(), &client.slug, &offered, &source)
        .await?;
    Ok(Redirect::to(&format!("/clients/{}", client.slug)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uploaded_file_is_named_without_its_path() {
        assert_eq!(
            file_label(Some("C:\\Users\\ana\\us-holidays.ics")),
            "us-holidays.ics"
        );
        assert_eq!(file_label(Some("../../etc/x.ics")), "x.ics");
        assert_eq!(file_label(None), "an .ics file");
    }
}

//! Small pieces every page shares: the navigation bar, field errors, date formatting,
//! and rendering a template into a response.

use askama::Template;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use tend_domain::FieldErrors;

use crate::auth::Staff;
use crate::ui::UiError;

/// What the top bar shows: who is signed in, where they are, and the CSRF token the
/// sign-out form (and every other form on the page) needs.
pub struct Nav {
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub csrf: String,
    pub section: &'static str,
    pub can_write: bool,
    pub can_edit_plans: bool,
}

impl Nav {
    pub fn new(staff: &Staff, section: &'static str) -> Self {
        Self {
            name: staff.user.name.clone(),
            email: staff.user.email.clone(),
            role: staff.user.role.as_str(),
            csrf: staff.csrf_token.clone(),
            section,
            can_write: staff.user.role.can_write(),
            can_edit_plans: staff.user.role.can_edit_plans(),
        }
    }

    pub fn current(&self, section: &str) -> &'static str {
        if self.section == section {
            "page"
        } else {
            "false"
        }
    }
}

/// Field errors looked up by name from a template.
#[derive(Default)]
pub struct Errors(pub FieldErrors);

impl Errors {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field)
    }

    pub fn invalid(&self, field: &str) -> &'static str {
        if self.0.get(field).is_some() {
            "true"
        } else {
            "false"
        }
    }

    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    pub fn count(&self) -> usize {
        self.0.iter().count()
    }
}

pub fn render(t: &impl Template) -> Result<Response, UiError> {
    Ok(Html(t.render()?).into_response())
}

pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some()
}

/// "2026-11-21 14:03" in the viewer's timezone.
pub fn local_time(ms: i64, timezone: &str) -> String {
    let tz = jiff::tz::TimeZone::get(timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Today's date in a timezone (contracts start "today" where the client is).
pub fn today_in(timezone: &str) -> jiff::civil::Date {
    let tz = jiff::tz::TimeZone::get(timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned(tz).date()
}

/// Every timezone name the bundled database knows, for the timezone input's suggestions.
pub fn timezone_names() -> &'static [String] {
    static NAMES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let mut names: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
        names.retain(|n| n.contains('/') && !n.starts_with("Etc/") || n == "UTC");
        names.sort();
        names
    });
    &NAMES
}

/// One row per severity: (label, response, next update, resolution), as people read them.
pub fn sla_rows(terms: &tend_domain::plan::PlanTerms) -> Vec<(String, String, String, String)> {
    use tend_domain::plan::{Severity, TargetKind};
    Severity::ALL
        .iter()
        .map(|sev| {
            let find = |kind: TargetKind| {
                terms
                    .sla
                    .iter()
                    .find(|t| t.severity == *sev && t.kind == kind)
                    .map(|t| t.describe())
                    .unwrap_or_else(|| "—".into())
            };
            (
                sev.label().to_string(),
                find(TargetKind::Response),
                find(TargetKind::NextUpdate),
                find(TargetKind::Resolution),
            )
        })
        .collect()
}

/// "5 h carried, bank up to 15 h" or "no rollover".
pub fn rollover_text(terms: &tend_domain::plan::PlanTerms) -> String {
    if terms.rollover_max.0 == 0 {
        "no rollover".into()
    } else {
        format!(
            "up to {} h carried, bank at most {} h",
            terms.rollover_max.as_hours_text(),
            terms.bank_max.as_hours_text()
        )
    }
}

/// A form re-shown with its errors: 422 so scripts and tests can tell it was refused.
pub fn refused(page: &impl Template) -> Result<Response, UiError> {
    let mut response = render(page)?;
    *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// Store errors that belong next to a field; anything else becomes an error page.
pub fn field_errors(e: tend_store::StoreError) -> Result<FieldErrors, UiError> {
    match e {
        tend_store::StoreError::Conflict { field, message } => {
            Ok(FieldErrors::single(field, message))
        }
        tend_store::StoreError::Invalid(errors) => Ok(errors),
        other => Err(other.into()),
    }
}

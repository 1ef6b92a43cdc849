//! Importing checks so an agency moves over in one step: a healthchecks.io project's
//! checks (the JSON its management API lists: `GET /api/v3/checks/`) or a CSV file.
//!
//! Each source row becomes a [`CheckDraft`] for one client, checked the same way as a
//! check added by hand. A healthchecks.io check keeps its UUID when the export has it
//! (in `ping_url`, with a read-write API key), so its scripts only need the new host:
//! `https://hc-ping.com/<uuid>` becomes `https://desk.agency.example/ping/<uuid>`.
//! Rows are numbered from 1 in the order they come, so errors can name them.

use serde::Deserialize;

use crate::check::{format_interval, CheckDraft, CheckUuid};

/// One check to import: its draft and, when the source had one, its ping UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based: the check's place in the JSON list, or the CSV line after the header.
    pub row: usize,
    pub draft: CheckDraft,
    pub uuid: Option<CheckUuid>,
}

/// Why a source cannot be read at all (a bad row is reported per row, later).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("not a healthchecks.io check list: {0}")]
    Json(String),
    #[error("line {line}: {message}")]
    Csv { line: usize, message: String },
    #[error("the file has no checks")]
    Empty,
    #[error("at most {MAX_ROWS} checks can be imported at once")]
    TooMany,
}

/// More than any project has; keeps a mistaken upload from becoming a long write.
pub const MAX_ROWS: usize = 10_000;

#[derive(Deserialize)]
struct HcList {
    checks: Vec<HcCheck>,
}

#[derive(Deserialize)]
struct HcCheck {
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    desc: String,
    #[serde(default)]
    tags: String,
    /// Seconds between pings (simple schedule).
    timeout: Option<i64>,
    /// A cron expression (cron schedule), with `tz`.
    schedule: Option<String>,
    tz: Option<String>,
    /// Seconds of grace.
    #[serde(default)]
    grace: Option<i64>,
    /// `https://hc-ping.com/<uuid>` (read-write keys only).
    ping_url: Option<String>,
}

/// Reads a healthchecks.io check list (`{"checks": [...]}`; a bare array is taken too)
/// as drafts for the client `client`.
pub fn from_healthchecks_json(text: &str, client: &str) -> Result<Vec<ImportRow>, ImportError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ImportError::Json(e.to_string()))?;
    let list: HcList = match value {
        serde_json::Value::Array(_) => {
            serde_json::from_value(serde_json::json!({ "checks": value }))
        }
        other => serde_json::from_value(other),
    }
    .map_err(|e| ImportError::Json(e.to_string()))?;
    if list.checks.is_empty() {
        return Err(ImportError::Empty);
    }
    if list.checks.len() > MAX_ROWS {
        return Err(ImportError::TooMany);
    }
    Ok(list
        .checks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let cron = c.schedule.clone().unwrap_or_default();
            let period = match (&c.schedule, c.timeout) {
                (Some(_), _) => String::new(),
                (None, Some(secs)) => seconds_text(secs),
                (None, None) => String::new(),
            };
            ImportRow {
                row: i + 1,
                uuid: c
                    .ping_url
                    .as_deref()
                    .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
                    .and_then(|id| CheckUuid::parse(id).ok()),
                draft: CheckDraft {
                    client: client.to_string(),
                    name: c.name,
                    slug: c.slug,
                    workflow: c.desc,
                    criticality: criticality_from_tags(&c.tags),
                    period,
                    timezone: if cron.is_empty() {
                        String::new()
                    } else {
                        c.tz.unwrap_or_default()
                    },
                    cron,
                    grace: c.grace.map(seconds_text).unwrap_or_default(),
                    ..CheckDraft::default()
                },
            }
        })
        .collect())
}

/// healthchecks.io has no criticality; a tag may say it (`revenue-critical`,
/// `customer-facing`), else the check is internal.
fn criticality_from_tags(tags: &str) -> String {
    tags.split_whitespace()
        .find(|t| matches!(*t, "revenue-critical" | "customer-facing" | "internal"))
        .unwrap_or("")
        .to_string()
}

/// Seconds as the interval text drafts take ("300" → "5m"); a bad value stays visible
/// so the draft's check names it.
fn seconds_text(secs: i64) -> String {
    match secs.checked_mul(1000) {
        Some(ms) if secs > 0 && secs % 60 == 0 => format_interval(ms),
        _ => format!("{secs}s"),
    }
}

/// The CSV columns, in any order; `name` and one of `period` or `cron` are needed.
pub const CSV_COLUMNS: [&str; 9] = [
    "name",
    "slug",
    "workflow",
    "criticality",
    "period",
    "cron",
    "timezone",
    "grace",
    "uuid",
];

/// Reads a CSV file with a header row naming [`CSV_COLUMNS`] (RFC 4180: commas, fields
/// in double quotes may hold commas, quotes doubled and line breaks).
pub fn from_csv(text: &str, client: &str) -> Result<Vec<ImportRow>, ImportError> {
    let records = parse_csv(text)?;
    let mut records = records.into_iter();
    let Some((_, header)) = records.next() else {
        return Err(ImportError::Empty);
    };
    let header: Vec<String> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    if let Some(unknown) = header.iter().find(|h| !CSV_COLUMNS.contains(&h.as_str())) {
        return Err(ImportError::Csv {
            line: 1,
            message: format!(
                "unknown column \"{unknown}\" (the columns are {})",
                CSV_COLUMNS.join(", ")
            ),
        });
    }
    if !header.iter().any(|h| h == "name") {
        return Err(ImportError::Csv {
            line: 1,
            message: "the header must name a \"name\" column".into(),
        });
    }
    let mut out = Vec::new();
    for (line, fields) in records {
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if fields.len() != header.len() {
            return Err(ImportError::Csv {
                line,
                message: format!(
                    "has {} fields, the header has {}",
                    fields.len(),
                    header.len()
                ),
            });
        }
        let get = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .map(|i| fields[i].trim().to_string())
                .unwrap_or_default()
        };
        let uuid = match get("uuid").as_str() {
            "" => None,
            raw => Some(CheckUuid::parse(raw).map_err(|e| ImportError::Csv {
                line,
                message: format!("uuid: {e}"),
            })?),
        };
        out.push(ImportRow {
            row: out.len() + 1,
            uuid,
            draft: CheckDraft {
                client: client.to_string(),
                name: get("name"),
                slug: get("slug"),
                workflow: get("workflow"),
                criticality: get("criticality"),
                period: get("period"),
                cron: get("cron"),
                timezone: get("timezone"),
                grace: get("grace"),
                ..CheckDraft::default()
            },
        });
        if out.len() > MAX_ROWS {
            return Err(ImportError::TooMany);
        }
    }
    if out.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(out)
}

/// RFC 4180 records with the line each starts on.
fn parse_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, ImportError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut record_line = 1;
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                records.push((record_line, std::mem::take(&mut fields)));
                line += 1;
                record_line = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(ImportError::Csv {
            line: record_line,
            message: "a quoted field is never closed".into(),
        });
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((record_line, fields));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HC: &str = r#"{"checks": [
      {"name": "Backups", "slug": "backups", "tags": "prod revenue-critical", "desc": "Nightly DB backup",
       "grace": 900, "n_pings": 12, "status": "up", "timeout": 86400,
       "ping_url": "https://hc-ping.com/5a1c2f9e-3b47-4f7e-9a53-5a4b8f2f3e10"},
      {"name": "Lead sync", "slug": "", "tags": "", "desc": "", "grace": 300,
       "schedule": "*/15 9-17 * * 1-5", "tz": "America/Chicago", "unique_key": "a6c7b0a8b5c5b8e0"}
    ]}"#;

    #[test]
    fn a_healthchecks_list_becomes_drafts_that_keep_their_uuids() {
        let rows = from_healthchecks_json(HC, "acme").unwrap();
        assert_eq!(rows.len(), 2);
        let backups = &rows[0];
        assert_eq!(backups.draft.period, "1d");
        assert_eq!(backups.draft.grace, "15m");
        assert_eq!(backups.draft.criticality, "revenue-critical");
        assert_eq!(backups.draft.workflow, "Nightly DB backup");
        assert_eq!(
            backups.uuid.as_ref().map(|u| u.as_str()),
            Some("5a1c2f9e-3b47-4f7e-9a53-5a4b8f2f3e10")
        );
        let input = backups.draft.parse().unwrap();
        assert_eq!(input.slug, "backups");
        let sync = &rows[1];
        assert_eq!(sync.draft.cron, "*/15 9-17 * * 1-5");
        assert_eq!(sync.draft.timezone, "America/Chicago");
        assert_eq!(sync.draft.period, "");
        assert_eq!(sync.uuid, None, "a read-only export has no ping URL");
        assert_eq!(sync.draft.parse().unwrap().slug, "lead-sync");
    }

    #[test]
    fn a_bare_array_is_read_and_junk_is_refused_clearly() {
        let rows = from_healthchecks_json(r#"[{"name": "x", "timeout": 3600}]"#, "a").unwrap();
        assert_eq!(rows[0].draft.period, "1h");
        assert!(matches!(
            from_healthchecks_json("{", "a"),
            Err(ImportError::Json(_))
        ));
        assert!(matches!(
            from_healthchecks_json(r#"{"checks": []}"#, "a"),
            Err(ImportError::Empty)
        ));
        let odd = from_healthchecks_json(r#"[{"name": "x", "timeout": 30}]"#, "a").unwrap();
        assert_eq!(odd[0].draft.period, "30s");
        assert!(odd[0].draft.parse().is_err(), "under a minute is refused");
    }

    #[test]
    fn a_csv_file_with_quotes_and_any_column_order_is_read() {
        let csv = "period,name,workflow,grace\r\n5m,Lead sync,\"Typeform, then HubSpot\",1m\r\n\r\n1h,\"Invoices \"\"daily\"\"\",,\n";
        let rows = from_csv(csv, "acme").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].draft.workflow, "Typeform, then HubSpot");
        assert_eq!(rows[1].draft.name, "Invoices \"daily\"");
        assert_eq!(rows[1].row, 2);
        assert!(rows[0].draft.parse().is_ok());
    }

    #[test]
    fn a_bad_csv_names_its_line() {
        let e = from_csv("name,colour\nx,red\n", "a").unwrap_err();
        assert!(e.to_string().contains("unknown column \"colour\""), "{e}");
        let e = from_csv("name,period\nx,5m,extra\n", "a").unwrap_err();
        assert_eq!(e.to_string(), "line 2: has 3 fields, the header has 2");
        let e = from_csv("name,period\n\"x,5m\n", "a").unwrap_err();
        assert!(e.to_string().contains("never closed"), "{e}");
        let e = from_csv("name,uuid\nx,nope\n", "a").unwrap_err();
        assert!(e.to_string().starts_with("line 2: uuid:"), "{e}");
        assert_eq!(from_csv("name\n", "a"), Err(ImportError::Empty));
    }

    proptest! {
        #[test]
        fn any_text_is_rows_or_a_clear_error(text in "[a-z0-9,\"\n\r ]{0,200}") {
            match from_csv(&format!("name,period\n{text}"), "a") {
                Ok(rows) => prop_assert!(!rows.is_empty()),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
            let _ = from_healthchecks_json(&text, "a");
        }

        #[test]
        fn quoted_fields_come_back_as_written(fields in proptest::collection::vec("[a-z,\"\n ]{0,12}", 1..5)) {
            let line: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect();
            let records = parse_csv(&format!("{}\n", line.join(","))).unwrap();
            prop_assert_eq!(records.len(), 1);
            prop_assert_eq!(&records[0].1, &fields);
        }
    }
}

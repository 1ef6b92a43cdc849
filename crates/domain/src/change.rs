//! Change records, release batches and release notes.
//!
//! A ticket can carry one change record: what changed, the systems it touched, the QA
//! test path run before release (in staging) and after release (in production) with
//! each result, the release batch it ships in, and the notes the client reads.
//!
//! A release batch belongs to one client, because its release notes go to that client.
//! It is planned, then released. The SOP's step 5 ("fix issue in staging first, test
//! thoroughly, deploy to production, monitor") and the service page ("changes … should
//! be tested before and after release") give the rule [`check_release`] enforces:
//! marking a batch released records that it is live **and verified**, so every change
//! in it must have passed its QA test path both before and after release. A released
//! batch is kept as it went out: its changes cannot be edited, moved or added to.
//!
//! [`release_notes`] turns a batch and its changes into [`ReleaseNotes`], which
//! [`ReleaseNotes::markdown`] writes as Markdown; the web crate renders the same value
//! as HTML through an escaping template.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::plan::text_enum;
use crate::slug::Slug;
use crate::ticket::TicketNumber;
use crate::FieldErrors;

text_enum!(
    /// The outcome of running a QA test path.
    QaResult, "QA result", { Pass => "pass", Fail => "fail", NotRun => "not-run" }
);
text_enum!(
    /// Where a release batch stands.
    ReleaseState, "release state", { Planned => "planned", Released => "released" }
);

impl QaResult {
    pub fn label(self) -> &'static str {
        match self {
            QaResult::Pass => "pass",
            QaResult::Fail => "fail",
            QaResult::NotRun => "not run",
        }
    }
}

impl ReleaseState {
    pub fn label(self) -> &'static str {
        self.as_str()
    }
}

/// Which of the two QA runs a change records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QaStage {
    /// In staging, before the change goes to production.
    BeforeRelease,
    /// In production, once the change is live.
    AfterRelease,
}

impl QaStage {
    pub fn label(self) -> &'static str {
        match self {
            QaStage::BeforeRelease => "before release",
            QaStage::AfterRelease => "after release",
        }
    }
}

/// A ticket's change record as validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeInput {
    pub what_changed: String,
    /// Each system once, in the order given: "GoHighLevel", "Stripe".
    pub systems_touched: Vec<String>,
    /// The test path run in staging before release.
    pub qa_before_path: String,
    pub qa_before_result: QaResult,
    /// The test path run in production after release.
    pub qa_after_path: String,
    pub qa_after_result: QaResult,
    /// The release batch this change ships in, by id.
    pub release_id: Option<i64>,
    /// What the client reads in the release notes.
    pub client_notes: String,
}

impl ChangeInput {
    /// Whether the change passed QA at one stage.
    pub fn passed(&self, stage: QaStage) -> bool {
        self.result(stage) == QaResult::Pass
    }

    pub fn result(&self, stage: QaStage) -> QaResult {
        match stage {
            QaStage::BeforeRelease => self.qa_before_result,
            QaStage::AfterRelease => self.qa_after_result,
        }
    }
}

/// A change record as typed into a form or a JSON body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChangeDraft {
    pub what_changed: String,
    /// Systems separated by commas or new lines.
    pub systems_touched: String,
    pub qa_before_path: String,
    /// pass, fail or not-run; empty means not run.
    pub qa_before_result: String,
    pub qa_after_path: String,
    pub qa_after_result: String,
    /// A release batch id ("12" or "#12"); empty or "none" for no batch.
    pub release_id: String,
    pub client_notes: String,
}

const WHAT_MAX: usize = 5_000;
const PATH_MAX: usize = 5_000;
const NOTES_MAX: usize = 20_000;
const SYSTEM_MAX: usize = 100;
const SYSTEMS_MAX: usize = 50;

/// Trims `raw` and reports it under `field` when it is longer than `max` characters.
fn text(e: &mut FieldErrors, field: &str, raw: &str, max: usize) -> String {
    let s = raw.trim();
    if s.chars().count() > max {
        e.add(field, format!("must be at most {max} characters"));
    }
    s.to_string()
}

/// Reads a list of systems separated by commas, semicolons or new lines: each one
/// trimmed, blanks dropped, repeats (in any letter case) kept once.
pub fn parse_systems(raw: &str) -> Result<Vec<String>, String> {
    let mut systems: Vec<String> = Vec::new();
    for part in raw.split([',', ';', '\n', '\r']) {
        let name = part.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            continue;
        }
        if name.chars().count() > SYSTEM_MAX {
            return Err(format!(
                "\"{}…\" is longer than {SYSTEM_MAX} characters; name one system per entry",
                name.chars().take(20).collect::<String>()
            ));
        }
        if !systems
            .iter()
            .any(|s| s.to_lowercase() == name.to_lowercase())
        {
            systems.push(name);
        }
    }
    if systems.len() > SYSTEMS_MAX {
        return Err(format!("may name at most {SYSTEMS_MAX} systems"));
    }
    Ok(systems)
}

/// A release batch id as people write it: "12" or "#12"; empty or "none" is no batch.
pub fn parse_release_id(raw: &str) -> Result<Option<i64>, String> {
    let s = raw.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let digits = s.strip_prefix('#').unwrap_or(s).trim();
    match digits.parse::<i64>() {
        Ok(id) if id >= 1 => Ok(Some(id)),
        _ => Err(format!(
            "\"{s}\" is not a release id (a whole number like 3, or none)"
        )),
    }
}

/// A QA run: its test path and result. A result needs the path that produced it; a
/// path with no result yet counts as not run.
fn qa(
    e: &mut FieldErrors,
    stage: &str,
    path_raw: &str,
    result_raw: &str,
) -> (String, Option<QaResult>) {
    let path_field = format!("qa_{stage}_path");
    let result_field = format!("qa_{stage}_result");
    let path = text(e, &path_field, path_raw, PATH_MAX);
    let result = match result_raw.trim() {
        "" => Some(QaResult::NotRun),
        raw => e.check(&result_field, QaResult::parse(raw)),
    };
    if path.is_empty() && matches!(result, Some(QaResult::Pass | QaResult::Fail)) {
        e.add(
            &path_field,
            "describe the test path that gave this result, so it can be run again",
        );
    }
    (path, result)
}

impl ChangeDraft {
    pub fn parse(&self) -> Result<ChangeInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let what_changed = text(&mut e, "what_changed", &self.what_changed, WHAT_MAX);
        if what_changed.is_empty() {
            e.add("what_changed", "is required");
        }
        let systems_touched = e.check("systems_touched", parse_systems(&self.systems_touched));
        let (qa_before_path, qa_before_result) = qa(
            &mut e,
            "before",
            &self.qa_before_path,
            &self.qa_before_result,
        );
        let (qa_after_path, qa_after_result) =
            qa(&mut e, "after", &self.qa_after_path, &self.qa_after_result);
        let release_id = e.check("release_id", parse_release_id(&self.release_id));
        let client_notes = text(&mut e, "client_notes", &self.client_notes, NOTES_MAX);
        match (
            systems_touched,
            qa_before_result,
            qa_after_result,
            release_id,
        ) {
            (
                Some(systems_touched),
                Some(qa_before_result),
                Some(qa_after_result),
                Some(release_id),
            ) if e.is_empty() => Ok(ChangeInput {
                what_changed,
                systems_touched,
                qa_before_path,
                qa_before_result,
                qa_after_path,
                qa_after_result,
                release_id,
                client_notes,
            }),
            _ => Err(e),
        }
    }

    /// The form filled with a stored change, for editing (systems one per line).
    pub fn from_input(c: &ChangeInput) -> Self {
        Self {
            what_changed: c.what_changed.clone(),
            systems_touched: c.systems_touched.join("\n"),
            qa_before_path: c.qa_before_path.clone(),
            qa_before_result: c.qa_before_result.as_str().to_string(),
            qa_after_path: c.qa_after_path.clone(),
            qa_after_result: c.qa_after_result.as_str().to_string(),
            release_id: c.release_id.map(|id| id.to_string()).unwrap_or_default(),
            client_notes: c.client_notes.clone(),
        }
    }
}

/// A release batch's content as validated. Its state moves only through
/// [`check_release`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseInput {
    /// The client the batch (and its notes) belongs to.
    pub client: Slug,
    pub name: String,
    pub planned_for: Option<Date>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReleaseDraft {
    /// The client's slug.
    pub client: String,
    pub name: String,
    /// A date like 2026-11-20; empty when not yet planned for a day.
    pub planned_for: String,
}

impl ReleaseDraft {
    pub fn parse(&self) -> Result<ReleaseInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let client = e.check("client", Slug::parse(&self.client));
        let name = text(&mut e, "name", &self.name, 200);
        if name.is_empty() {
            e.add("name", "is required");
        }
        let planned_for = match self.planned_for.trim() {
            "" => Some(None),
            s => e.check(
                "planned_for",
                s.parse::<Date>()
                    .map(Some)
                    .map_err(|_| format!("\"{s}\" is not a date like 2026-11-20")),
            ),
        };
        match (client, planned_for) {
            (Some(client), Some(planned_for)) if e.is_empty() => Ok(ReleaseInput {
                client,
                name,
                planned_for,
            }),
            _ => Err(e),
        }
    }

    pub fn from_input(r: &ReleaseInput) -> Self {
        Self {
            client: r.client.as_str().to_string(),
            name: r.name.clone(),
            planned_for: r.planned_for.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

/// What the rules need to know about a release batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFacts {
    pub id: i64,
    pub client_id: i64,
    pub name: String,
    pub state: ReleaseState,
}

/// Why a change record cannot be written as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefusal {
    #[error("this change went out in release \"{0}\", which is released; a released change is kept as it went out (record a follow-up on a new ticket)")]
    Frozen(String),
    #[error("release \"{0}\" is already released; add the change to a planned release")]
    BatchReleased(String),
    #[error("release \"{0}\" belongs to another client; a release and its notes go to one client")]
    OtherClient(String),
}

impl ChangeRefusal {
    /// A refusal caused by what is stored (the change is frozen), not by the input.
    pub fn is_frozen(&self) -> bool {
        matches!(self, ChangeRefusal::Frozen(_))
    }
}

/// Whether a ticket of client `ticket_client` may write its change record, given the
/// batch it is in now (`current`) and the batch the new record names (`target`).
///
/// - a change in a released batch is frozen;
/// - a change joins only a planned batch of its own ticket's client.
pub fn check_change_write(
    ticket_client: i64,
    current: Option<&BatchFacts>,
    target: Option<&BatchFacts>,
) -> Result<(), ChangeRefusal> {
    if let Some(b) = current.filter(|b| b.state == ReleaseState::Released) {
        return Err(ChangeRefusal::Frozen(b.name.clone()));
    }
    if let Some(b) = target {
        if b.client_id != ticket_client {
            return Err(ChangeRefusal::OtherClient(b.name.clone()));
        }
        if b.state == ReleaseState::Released {
            return Err(ChangeRefusal::BatchReleased(b.name.clone()));
        }
    }
    Ok(())
}

/// One change that has not passed QA at one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unverified {
    pub ticket: TicketNumber,
    pub stage: QaStage,
    pub result: QaResult,
}

impl std::fmt::Display for Unverified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.ticket,
            self.stage.label(),
            self.result.label()
        )
    }
}

/// Why a batch cannot be marked released.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseRefusal {
    #[error("this release is already released")]
    AlreadyReleased,
    #[error("this release has no changes; add a ticket's change record to it first")]
    Empty,
    #[error("a release goes out only when every change in it passed QA before and after release; still short: {}", list(.0))]
    Unverified(Vec<Unverified>),
}

fn list(items: &[Unverified]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a batch in `state` holding `changes` may be marked released: it must be
/// planned, hold at least one change, and every change must have passed QA before
/// release (staging) and after release (production). Every shortfall is listed.
pub fn check_release(
    state: ReleaseState,
    changes: &[(TicketNumber, &ChangeInput)],
) -> Result<(), ReleaseRefusal> {
    if state == ReleaseState::Released {
        return Err(ReleaseRefusal::AlreadyReleased);
    }
    if changes.is_empty() {
        return Err(ReleaseRefusal::Empty);
    }
    let unverified: Vec<Unverified> = changes
        .iter()
        .flat_map(|(ticket, change)| {
            [QaStage::BeforeRelease, QaStage::AfterRelease]
                .into_iter()
                .filter(|stage| !change.passed(*stage))
                .map(|stage| Unverified {
                    ticket: *ticket,
                    stage,
                    result: change.result(stage),
                })
        })
        .collect();
    if unverified.is_empty() {
        Ok(())
    } else {
        Err(ReleaseRefusal::Unverified(unverified))
    }
}

/// A batch as its notes describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotesBatch<'a> {
    pub client_name: &'a str,
    pub name: &'a str,
    pub planned_for: Option<Date>,
    /// The day it was released, where the client is.
    pub released_on: Option<Date>,
}

/// One change as its notes describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotesChange<'a> {
    pub ticket: TicketNumber,
    pub title: &'a str,
    pub change: &'a ChangeInput,
}

/// Release notes as plain values, ready to be written as Markdown or HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseNotes {
    /// "Acme Dental — November maintenance window".
    pub title: String,
    /// "Released 2026-11-20", "Planned for 2026-11-20", or "Planned".
    pub status_line: String,
    pub entries: Vec<NotesEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotesEntry {
    /// "#42 Booking form stopped creating contacts".
    pub heading: String,
    pub what_changed: String,
    pub client_notes: String,
    pub systems: Vec<String>,
    /// "Submit a test booking → pass", empty when no path was recorded.
    pub tested_before: String,
    pub verified_after: String,
}

/// The one-line form of a QA run for the client: the path and its result.
fn qa_line(path: &str, result: QaResult) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{} ({})", one_line(path), result.label())
    }
}

/// Collapses every run of white space, new lines included, to one space.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Release notes for one client's batch: a title, where the batch stands, and one entry
/// per change in ticket order.
pub fn release_notes(batch: &NotesBatch<'_>, changes: &[NotesChange<'_>]) -> ReleaseNotes {
    let status_line = match (batch.released_on, batch.planned_for) {
        (Some(day), _) => format!("Released {day}"),
        (None, Some(day)) => format!("Planned for {day}"),
        (None, None) => "Planned".to_string(),
    };
    let mut ordered: Vec<&NotesChange<'_>> = changes.iter().collect();
    ordered.sort_by_key(|c| c.ticket);
    ReleaseNotes {
        title: format!("{} — {}", one_line(batch.client_name), one_line(batch.name)),
        status_line,
        entries: ordered
            .into_iter()
            .map(|c| NotesEntry {
                heading: format!("{} {}", c.ticket, one_line(c.title)),
                what_changed: c.change.what_changed.clone(),
                client_notes: c.change.client_notes.clone(),
                systems: c.change.systems_touched.clone(),
                tested_before: qa_line(&c.change.qa_before_path, c.change.qa_before_result),
                verified_after: qa_line(&c.change.qa_after_path, c.change.qa_after_result),
            })
            .collect(),
    }
}

/// Escapes text for one line of Markdown: the punctuation that opens emphasis, code,
/// links, raw HTML, quotes or table cells anywhere in a line is backslash-escaped, so a
/// title or a system name reads as typed and can never become markup. (A `#` matters
/// only at the start of a line; [`md_block`] handles it there.)
fn md_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in one_line(s).chars() {
        if matches!(
            ch,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Escapes a block of text (several lines) for Markdown: each line as [`md_inline`]
/// would, plus the characters that open a block at the start of a line (a heading, a
/// list item, a numbered item, a setext underline), so the text stays paragraphs inside
/// its entry.
/// Blank lines are kept as paragraph breaks; runs of them become one.
fn md_block(s: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for raw in s.lines() {
        let line = raw.trim();
        if line.is_empty() {
            if lines.last().is_some_and(|l| !l.is_empty()) {
                lines.push(String::new());
            }
            continue;
        }
        let mut escaped = md_inline(line);
        if escaped.starts_with(['#', '-', '+', '=']) {
            escaped.insert(0, '\\');
        }
        // "1. item" or "1) item" would start a numbered list.
        let digits = escaped.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && escaped[digits..].starts_with(['.', ')']) {
            escaped.insert(digits, '\\');
        }
        lines.push(escaped);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines.join("\n")
}

impl ReleaseNotes {
    /// The notes as Markdown: a heading, where the batch stands, and one section per
    /// change. Text typed by people is escaped, so it reads as written in any renderer.
    pub fn markdown(&self) -> String {
        let mut out = format!("# Release notes: {}\n\n", md_inline(&self.title));
        out.push_str(&format!("{}\n", md_inline(&self.status_line)));
        if self.entries.is_empty() {
            out.push_str("\nNo changes in this release yet.\n");
        }
        for entry in &self.entries {
            out.push_str(&format!("\n## {}\n\n", md_inline(&entry.heading)));
            out.push_str(&md_block(&entry.what_changed));
            out.push('\n');
            if !entry.client_notes.is_empty() {
                out.push('\n');
                out.push_str(&md_block(&entry.client_notes));
                out.push('\n');
            }
            let mut facts = Vec::new();
            if !entry.systems.is_empty() {
                let systems: Vec<String> = entry.systems.iter().map(|s| md_inline(s)).collect();
                facts.push(format!("- Systems touched: {}", systems.join(", ")));
            }
            if !entry.tested_before.is_empty() {
                facts.push(format!(
                    "- Tested before release: {}",
                    md_inline(&entry.tested_before)
                ));
            }
            if !entry.verified_after.is_empty() {
                facts.push(format!(
                    "- Verified after release: {}",
                    md_inline(&entry.verified_after)
                ));
            }
            if !facts.is_empty() {
                out.push('\n');
                out.push_str(&facts.join("\n"));
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn draft() -> ChangeDraft {
        ChangeDraft {
            what_changed: "Booking form webhook now sends the new secret".into(),
            ..Default::default()
        }
    }

    fn verified() -> ChangeInput {
        ChangeDraft {
            qa_before_path: "Submit a staging booking; contact appears".into(),
            qa_before_result: "pass".into(),
            qa_after_path: "Submit a live booking; contact appears within 1 min".into(),
            qa_after_result: "pass".into(),
            ..draft()
        }
        .parse()
        .unwrap()
    }

    fn batch(id: i64, client_id: i64, state: ReleaseState) -> BatchFacts {
        BatchFacts {
            id,
            client_id,
            name: format!("Batch {id}"),
            state,
        }
    }

    #[test]
    fn a_change_needs_only_what_changed_and_counts_missing_qa_as_not_run() {
        let c = draft().parse().unwrap();
        assert_eq!(c.qa_before_result, QaResult::NotRun);
        assert_eq!(c.qa_after_result, QaResult::NotRun);
        assert!(c.systems_touched.is_empty());
        assert_eq!(c.release_id, None);
        let e = ChangeDraft::default().parse().unwrap_err();
        assert_eq!(e.get("what_changed"), Some("is required"));
    }

    #[test]
    fn systems_are_read_from_commas_and_new_lines_once_each() {
        let c = ChangeDraft {
            systems_touched: "GoHighLevel, Stripe\n  zapier ;\n\nstripe,,Google  Sheets".into(),
            ..draft()
        }
        .parse()
        .unwrap();
        assert_eq!(
            c.systems_touched,
            ["GoHighLevel", "Stripe", "zapier", "Google Sheets"]
        );
    }

    #[test]
    fn every_invalid_change_field_is_reported_at_once() {
        let e = ChangeDraft {
            what_changed: " ".into(),
            systems_touched: "x".repeat(101),
            qa_before_result: "passed?".into(),
            qa_after_result: "pass".into(),
            release_id: "next".into(),
            client_notes: "x".repeat(20_001),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        for field in [
            "what_changed",
            "systems_touched",
            "qa_before_result",
            "qa_after_path",
            "release_id",
            "client_notes",
        ] {
            assert!(e.get(field).is_some(), "{field} should be reported: {e}");
        }
        assert!(e.get("qa_before_result").unwrap().contains("not-run"));
        assert!(e.get("qa_after_path").unwrap().contains("test path"));
    }

    #[test]
    fn qa_results_and_release_ids_read_as_people_type_them() {
        let c = ChangeDraft {
            qa_before_path: "p".into(),
            qa_before_result: "Not run".into(),
            qa_after_path: "p".into(),
            qa_after_result: "FAIL".into(),
            release_id: "#7".into(),
            ..draft()
        }
        .parse()
        .unwrap();
        assert_eq!(c.qa_before_result, QaResult::NotRun);
        assert_eq!(c.qa_after_result, QaResult::Fail);
        assert_eq!(c.release_id, Some(7));
        assert_eq!(parse_release_id("none"), Ok(None));
        assert!(parse_release_id("0").is_err());
    }

    #[test]
    fn a_draft_round_trips_through_its_input() {
        let mut c = verified();
        c.systems_touched = vec!["GoHighLevel".into(), "Stripe".into()];
        c.release_id = Some(3);
        c.client_notes = "You will see the new field tomorrow.".into();
        assert_eq!(ChangeDraft::from_input(&c).parse().unwrap(), c);
    }

    #[test]
    fn a_release_needs_a_name_and_a_real_date() {
        let e = ReleaseDraft {
            client: "Acme!".into(),
            planned_for: "next friday".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        for field in ["client", "name", "planned_for"] {
            assert!(e.get(field).is_some(), "{field}: {e}");
        }
        let r = ReleaseDraft {
            client: "acme".into(),
            name: " November window ".into(),
            planned_for: "2026-11-20".into(),
        }
        .parse()
        .unwrap();
        assert_eq!(r.name, "November window");
        assert_eq!(r.planned_for, Some(jiff::civil::date(2026, 11, 20)));
        assert_eq!(ReleaseDraft::from_input(&r).parse().unwrap(), r);
    }

    #[test]
    fn a_change_joins_only_a_planned_batch_of_its_own_client() {
        let planned = batch(1, 10, ReleaseState::Planned);
        let released = batch(2, 10, ReleaseState::Released);
        let other = batch(3, 11, ReleaseState::Planned);
        assert_eq!(check_change_write(10, None, Some(&planned)), Ok(()));
        assert_eq!(check_change_write(10, Some(&planned), None), Ok(()));
        assert_eq!(
            check_change_write(10, None, Some(&released)),
            Err(ChangeRefusal::BatchReleased("Batch 2".into()))
        );
        assert_eq!(
            check_change_write(10, None, Some(&other)),
            Err(ChangeRefusal::OtherClient("Batch 3".into()))
        );
    }

    #[test]
    fn a_change_in_a_released_batch_is_frozen() {
        let released = batch(2, 10, ReleaseState::Released);
        let refusal = check_change_write(10, Some(&released), Some(&released)).unwrap_err();
        assert!(refusal.is_frozen());
        assert!(refusal.to_string().contains("kept as it went out"));
        assert!(check_change_write(10, Some(&released), None)
            .unwrap_err()
            .is_frozen());
    }

    #[test]
    fn a_release_needs_every_change_to_pass_qa_before_and_after() {
        let ok = verified();
        let mut after_missing = verified();
        after_missing.qa_after_result = QaResult::NotRun;
        let mut before_failed = verified();
        before_failed.qa_before_result = QaResult::Fail;
        assert_eq!(
            check_release(ReleaseState::Planned, &[(TicketNumber(1), &ok)]),
            Ok(())
        );
        let refusal = check_release(
            ReleaseState::Planned,
            &[
                (TicketNumber(1), &ok),
                (TicketNumber(2), &after_missing),
                (TicketNumber(3), &before_failed),
            ],
        )
        .unwrap_err();
        assert_eq!(
            refusal,
            ReleaseRefusal::Unverified(vec![
                Unverified {
                    ticket: TicketNumber(2),
                    stage: QaStage::AfterRelease,
                    result: QaResult::NotRun
                },
                Unverified {
                    ticket: TicketNumber(3),
                    stage: QaStage::BeforeRelease,
                    result: QaResult::Fail
                },
            ])
        );
        assert!(refusal
            .to_string()
            .ends_with("#2 after release: not run, #3 before release: fail"));
    }

    #[test]
    fn an_empty_or_released_batch_cannot_be_released() {
        assert_eq!(
            check_release(ReleaseState::Planned, &[]),
            Err(ReleaseRefusal::Empty)
        );
        assert_eq!(
            check_release(ReleaseState::Released, &[(TicketNumber(1), &verified())]),
            Err(ReleaseRefusal::AlreadyReleased)
        );
    }

    fn notes_of(changes: &[NotesChange<'_>], released: Option<Date>) -> ReleaseNotes {
        release_notes(
            &NotesBatch {
                client_name: "Acme Dental",
                name: "November window",
                planned_for: Some(jiff::civil::date(2026, 11, 20)),
                released_on: released,
            },
            changes,
        )
    }

    #[test]
    fn release_notes_list_changes_in_ticket_order_with_their_verification() {
        let mut first = verified();
        first.systems_touched = vec!["GoHighLevel".into(), "Stripe".into()];
        first.client_notes = "New bookings reach your CRM again.".into();
        let second = ChangeDraft {
            what_changed: "Added a UTM field".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        let notes = notes_of(
            &[
                NotesChange {
                    ticket: TicketNumber(9),
                    title: "Add UTM field",
                    change: &second,
                },
                NotesChange {
                    ticket: TicketNumber(4),
                    title: "Booking form stopped creating contacts",
                    change: &first,
                },
            ],
            Some(jiff::civil::date(2026, 11, 21)),
        );
        assert_eq!(notes.title, "Acme Dental — November window");
        assert_eq!(notes.status_line, "Released 2026-11-21");
        let md = notes.markdown();
        assert_eq!(
            md,
            "# Release notes: Acme Dental — November window\n\
             \n\
             Released 2026-11-21\n\
             \n\
             ## #4 Booking form stopped creating contacts\n\
             \n\
             Booking form webhook now sends the new secret\n\
             \n\
             New bookings reach your CRM again.\n\
             \n\
             - Systems touched: GoHighLevel, Stripe\n\
             - Tested before release: Submit a staging booking; contact appears (pass)\n\
             - Verified after release: Submit a live booking; contact appears within 1 min (pass)\n\
             \n\
             ## #9 Add UTM field\n\
             \n\
             Added a UTM field\n"
        );
    }

    #[test]
    fn notes_of_a_batch_not_yet_released_say_when_it_is_planned() {
        let notes = notes_of(&[], None);
        assert_eq!(notes.status_line, "Planned for 2026-11-20");
        assert!(notes.markdown().contains("No changes in this release yet."));
    }

    #[test]
    fn text_that_looks_like_markdown_is_escaped_in_the_notes() {
        let mut c = verified();
        c.what_changed =
            "# Not a heading\n- not a list\n1. not numbered\n<script>x</script> [link](x)".into();
        let notes = notes_of(
            &[NotesChange {
                ticket: TicketNumber(1),
                title: "Title\n## injected",
                change: &c,
            }],
            None,
        );
        let md = notes.markdown();
        assert!(md.contains("\\# Not a heading\n\\- not a list\n1\\. not numbered\n"));
        assert!(md.contains("\\<script\\>x\\</script\\> \\[link\\](x)"));
        assert!(md.contains("## #1 Title ## injected\n"));
    }

    proptest! {
        /// Whatever people type, the notes have exactly one title and one section per
        /// change, and no raw HTML or link from the text survives.
        #[test]
        fn typed_text_never_changes_the_shape_of_the_notes(
            texts in proptest::collection::vec(("\\PC{0,40}", "[\\PC\n]{0,200}", "[\\PC\n]{0,200}"), 0..5)
        ) {
            let changes: Vec<ChangeInput> = texts
                .iter()
                .map(|(_, what, notes)| ChangeInput {
                    what_changed: what.clone(),
                    client_notes: notes.clone(),
                    ..verified()
                })
                .collect();
            let entries: Vec<NotesChange<'_>> = texts
                .iter()
                .zip(&changes)
                .enumerate()
                .map(|(i, ((title, _, _), change))| NotesChange {
                    ticket: TicketNumber(i as i64 + 1),
                    title,
                    change,
                })
                .collect();
            let md = notes_of(&entries, None).markdown();
            let titles = md.lines().filter(|l| l.starts_with("# ")).count();
            let sections = md.lines().filter(|l| l.starts_with("## ")).count();
            prop_assert_eq!(titles, 1);
            prop_assert_eq!(sections, entries.len());
            for (i, _) in md.match_indices('<') {
                prop_assert!(md[..i].ends_with('\\'), "unescaped < in {}", md);
            }
            for line in md.lines() {
                let t = line.trim_start();
                prop_assert!(!t.starts_with("```") && !t.starts_with('>'), "block opened: {}", line);
            }
        }

        /// Parsing a list of systems and writing it back one per line reads the same.
        #[test]
        fn systems_survive_a_round_trip(raw in "[a-zA-Z0-9 ,;\n]{0,200}") {
            if let Ok(systems) = parse_systems(&raw) {
                prop_assert_eq!(parse_systems(&systems.join("\n")), Ok(systems.clone()));
                for s in &systems {
                    prop_assert!(!s.is_empty() && s.trim() == s);
                }
            }
        }
    }
}

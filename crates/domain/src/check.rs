//! Checks: what Tend watches for a client's workflow, how much it matters, and when a
//! heartbeat is expected.
//!
//! A heartbeat's state is a pure function of its schedule, the last pings and the
//! current instant ([`heartbeat_state`]); the watcher only stores what this says.

use serde::{Deserialize, Serialize};

use crate::{
    plan::{text_enum, Severity},
    slug::Slug,
    timezone::Timezone,
    FieldErrors,
};

text_enum!(
    /// What a check watches: pings sent by the workflow, a URL Tend calls, or the
    /// workflow's events.
    CheckKind, "check kind", {
        Heartbeat => "heartbeat",
        HttpProbe => "http-probe",
        EventStream => "event-stream",
    }
);
text_enum!(
    /// How much a failing workflow costs the client; it sets the severity of the
    /// ticket an alert opens.
    Criticality, "criticality", {
        RevenueCritical => "revenue-critical",
        CustomerFacing => "customer-facing",
        Internal => "internal",
    }
);
text_enum!(
    /// Where a check stands. `new` has never been pinged; `late` is inside its grace
    /// time; `down` missed the grace time or reported a failure; `paused` is silenced
    /// by a person until the next ping.
    CheckState, "check state", {
        New => "new",
        Up => "up",
        Late => "late",
        Down => "down",
        Paused => "paused",
    }
);

impl Criticality {
    /// The severity of the ticket a down check opens: revenue-critical → P1,
    /// customer-facing → P2, internal → P3.
    pub fn severity(self) -> Severity {
        match self {
            Criticality::RevenueCritical => Severity::P1,
            Criticality::CustomerFacing => Severity::P2,
            Criticality::Internal => Severity::P3,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Criticality::RevenueCritical => "Revenue-critical",
            Criticality::CustomerFacing => "Customer-facing",
            Criticality::Internal => "Internal",
        }
    }
}

impl CheckState {
    /// Whether this state should raise an alert when a check enters it.
    pub fn is_failing(self) -> bool {
        matches!(self, CheckState::Down)
    }
}

pub const MINUTE_MS: i64 = 60_000;
/// The shortest period and grace time a heartbeat accepts (as healthchecks.io does).
pub const MIN_INTERVAL_MS: i64 = MINUTE_MS;
/// The longest period and grace time: one year.
pub const MAX_INTERVAL_MS: i64 = 365 * 24 * 60 * MINUTE_MS;
/// Period and grace of a check created by a ping to an unknown slug with `?create=1`:
/// one day and one hour, healthchecks.io's defaults.
pub const AUTO_PERIOD_MS: i64 = 24 * 60 * MINUTE_MS;
pub const AUTO_GRACE_MS: i64 = 60 * MINUTE_MS;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntervalError {
    #[error("is required")]
    Empty,
    #[error("\"{0}\" is not a duration (write 90s, 5m, 2h, 1d or 1h30m)")]
    Malformed(String),
    #[error("must be at least 1 minute")]
    TooShort,
    #[error("must be at most 365 days")]
    TooLong,
}

/// Reads a period or grace time as people write it ("90s", "5m", "2h", "1d", "1w",
/// "1h30m"; a bare number is minutes) into milliseconds, between 1 minute and 1 year.
pub fn parse_interval(raw: &str) -> Result<i64, IntervalError> {
    let s = raw.trim().to_lowercase();
    if s.is_empty() {
        return Err(IntervalError::Empty);
    }
    let malformed = || IntervalError::Malformed(raw.trim().to_string());
    if s.len() > 32 {
        return Err(malformed());
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        let minutes: i64 = s.parse().map_err(|_| malformed())?;
        return bounded(
            minutes
                .checked_mul(MINUTE_MS)
                .ok_or(IntervalError::TooLong)?,
        );
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit_ms: i64 = match c {
            's' => 1_000,
            'm' => MINUTE_MS,
            'h' => 60 * MINUTE_MS,
            'd' => 24 * 60 * MINUTE_MS,
            'w' => 7 * 24 * 60 * MINUTE_MS,
            _ => return Err(malformed()),
        };
        if number.is_empty() {
            return Err(malformed());
        }
        let n: i64 = number.parse().map_err(|_| IntervalError::TooLong)?;
        let part = n.checked_mul(unit_ms).ok_or(IntervalError::TooLong)?;
        total = total.checked_add(part).ok_or(IntervalError::TooLong)?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(malformed());
    }
    bounded(total)
}

fn bounded(ms: i64) -> Result<i64, IntervalError> {
    if ms < MIN_INTERVAL_MS {
        Err(IntervalError::TooShort)
    } else if ms > MAX_INTERVAL_MS {
        Err(IntervalError::TooLong)
    } else {
        Ok(ms)
    }
}

/// Writes milliseconds back the short way: 300000 → "5m", 5400000 → "1h30m".
pub fn format_interval(ms: i64) -> String {
    if ms <= 0 {
        return "0s".to_string();
    }
    let mut rest = ms / 1_000;
    let mut out = String::new();
    for (unit, secs) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= secs {
            out.push_str(&format!("{}{unit}", rest / secs));
            rest %= secs;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// A cron expression (5 fields, or 6 with seconds first) that has a next run.
#[derive(Debug, Clone)]
pub struct CronExpr {
    text: String,
    // Boxed: a parsed pattern is a few hundred bytes and schedules are passed around.
    cron: Box<croner::Cron>,
}

impl PartialEq for CronExpr {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
impl Eq for CronExpr {}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronExprError {
    #[error("is required")]
    Empty,
    #[error("\"{0}\" is not a cron expression (for example \"*/15 * * * *\" or \"0 9 * * 1-5\")")]
    Invalid(String),
    #[error("\"{0}\" never runs")]
    NeverRuns(String),
}

impl CronExpr {
    pub fn parse(raw: &str) -> Result<Self, CronExprError> {
        let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return Err(CronExprError::Empty);
        }
        // croner's field parser works on short patterns; anything this long is not
        // cron and is refused before it reaches the parser.
        if text.len() > 200 || !text.is_ascii() {
            return Err(CronExprError::Invalid(text));
        }
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .build()
            .parse(&text)
            .map_err(|_| CronExprError::Invalid(text.clone()))?;
        let expr = Self {
            text,
            cron: Box::new(cron),
        };
        // A pattern such as "0 0 30 2 *" parses but never fires; it would leave a
        // check waiting forever, so it is refused here, as healthchecks.io does.
        let probe = jiff::Timestamp::UNIX_EPOCH
            .checked_add(jiff::SignedDuration::from_hours(30 * 365 * 24))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        if expr.next_after(probe, &jiff::tz::TimeZone::UTC).is_none() {
            return Err(CronExprError::NeverRuns(expr.text));
        }
        Ok(expr)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first instant strictly after `after` that the expression names, read in `tz`.
    pub fn next_after(
        &self,
        after: jiff::Timestamp,
        tz: &jiff::tz::TimeZone,
    ) -> Option<jiff::Timestamp> {
        let start = after.to_zoned(tz.clone());
        self.cron
            .find_next_occurrence(&start, false)
            .ok()
            .map(|z| z.timestamp())
    }
}

impl std::fmt::Display for CronExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// When a heartbeat is expected: every period, or at the times a cron expression names
/// in a timezone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Period { period_ms: i64 },
    Cron { expr: CronExpr, tz: Timezone },
}

impl Schedule {
    /// How the schedule is written in a form or a list: "every 5m", "0 9 * * 1-5
    /// (Europe/Berlin)".
    pub fn describe(&self) -> String {
        match self {
            Schedule::Period { period_ms } => format!("every {}", format_interval(*period_ms)),
            Schedule::Cron { expr, tz } => format!("{expr} ({tz})"),
        }
    }

    /// When the next ping is due after one received at `last_ms`.
    pub fn next_due(&self, last_ms: i64) -> Option<i64> {
        match self {
            Schedule::Period { period_ms } => last_ms.checked_add(*period_ms),
            Schedule::Cron { expr, tz } => {
                let after = jiff::Timestamp::from_millisecond(last_ms).ok()?;
                expr.next_after(after, &tz.zone())
                    .map(|t| t.as_millisecond())
            }
        }
    }
}

/// A heartbeat's schedule plus the grace time allowed after each deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    pub schedule: Schedule,
    pub grace_ms: i64,
}

/// The last pings of a check, as the store keeps them on the check's row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PingFacts {
    /// The last success or failure signal (not start, not log).
    pub last_ping_at: Option<i64>,
    /// Whether that last signal was a failure (`/fail` or a non-zero exit status).
    pub last_failed: bool,
    /// A `/start` received after the last success or failure: the job is running.
    pub started_at: Option<i64>,
    pub paused: bool,
}

/// The instants a check becomes late and down, if nothing arrives before them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub due_at: i64,
    pub down_at: i64,
}

/// When the check, as things stand, turns late and then down. `None` when no deadline
/// runs: never pinged, paused, already failed (it stays down until a success), or a
/// cron with no further run.
pub fn deadlines(beat: &Heartbeat, facts: &PingFacts) -> Option<Deadlines> {
    if facts.paused || facts.last_failed {
        return None;
    }
    // A running job must finish within the grace time of its start.
    let from_start = facts.started_at.and_then(|s| s.checked_add(beat.grace_ms));
    let from_last = facts.last_ping_at.and_then(|last| {
        let due = beat.schedule.next_due(last)?;
        Some(Deadlines {
            due_at: due,
            down_at: due.checked_add(beat.grace_ms)?,
        })
    });
    match (from_start, from_last) {
        (Some(start_down), Some(d)) if start_down < d.down_at => Some(Deadlines {
            due_at: start_down.min(d.due_at),
            down_at: start_down,
        }),
        (Some(start_down), None) => Some(Deadlines {
            due_at: start_down,
            down_at: start_down,
        }),
        (_, from_last) => from_last,
    }
}

/// A heartbeat's state at `now_ms`.
pub fn heartbeat_state(beat: &Heartbeat, facts: &PingFacts, now_ms: i64) -> CheckState {
    if facts.paused {
        return CheckState::Paused;
    }
    if facts.last_ping_at.is_none() && facts.started_at.is_none() {
        return CheckState::New;
    }
    if facts.last_failed {
        return CheckState::Down;
    }
    match deadlines(beat, facts) {
        None => CheckState::Up,
        Some(d) if now_ms > d.down_at => CheckState::Down,
        Some(d) if now_ms > d.due_at => CheckState::Late,
        Some(_) => CheckState::Up,
    }
}

/// When the watcher must look at a check again: at its deadline while up, at its down
/// time while late, never while new, down or paused (only a ping or a person moves it
/// then).
pub fn next_wake(state: CheckState, deadlines: Option<Deadlines>) -> Option<i64> {
    match (state, deadlines) {
        (CheckState::Up, Some(d)) => Some(d.due_at),
        (CheckState::Late, Some(d)) => Some(d.down_at),
        _ => None,
    }
}

/// Where a heartbeat stands at an instant: its state, when the watcher must look at it
/// next, and when it turns down if nothing arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub state: CheckState,
    pub wake_at: Option<i64>,
    pub down_at: Option<i64>,
}

/// The state, next wake and down time of a heartbeat with these facts at `now_ms`: what
/// the store writes on a check's row after a ping, an edit, a pause or a missed deadline.
pub fn standing(beat: &Heartbeat, facts: &PingFacts, now_ms: i64) -> Standing {
    let state = heartbeat_state(beat, facts, now_ms);
    let d = deadlines(beat, facts);
    Standing {
        state,
        wake_at: next_wake(state, d),
        down_at: d.map(|d| d.down_at),
    }
}

impl PingFacts {
    /// The facts after a ping arrives at `at`: any ping but a log resumes a paused check
    /// (as on healthchecks.io), a start marks a run as going, and a success or failure
    /// ends it and becomes the last ping.
    pub fn with_ping(self, signal: crate::ping_url::Signal, at: i64) -> Self {
        use crate::ping_url::Signal;
        let paused = self.paused && signal == Signal::Log;
        match signal {
            Signal::Start => Self {
                started_at: Some(at),
                paused,
                ..self
            },
            Signal::Log => Self { paused, ..self },
            end => Self {
                last_ping_at: Some(at),
                last_failed: end.is_failure(),
                started_at: None,
                paused,
            },
        }
    }
}

/// What an alert about a check says, written once for the ticket and the email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertFacts<'a> {
    pub check_name: &'a str,
    pub client_name: &'a str,
    pub workflow: &'a str,
    pub criticality: Criticality,
    /// "every 5m", "0 9 * * 1-5 (Europe/Berlin)".
    pub schedule: &'a str,
    pub grace_ms: i64,
    pub last_ping_at: Option<i64>,
    pub last_failed: bool,
    /// When the check changed state.
    pub at: i64,
}

fn utc_text(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// The ticket title and body for a check that went down: what was expected and what
/// happened.
pub fn down_alert(f: &AlertFacts<'_>) -> (String, String) {
    let title = format!("Check down: {} ({})", f.check_name, f.client_name);
    let watched = if f.workflow.is_empty() {
        String::new()
    } else {
        format!("Workflow: {}\n", f.workflow)
    };
    let expected = format!(
        "Expected: a ping {} with {} grace.",
        f.schedule,
        format_interval(f.grace_ms)
    );
    let happened = match (f.last_ping_at, f.last_failed) {
        (Some(last), true) => format!(
            "What happened: the workflow reported a failure at {}.",
            utc_text(last)
        ),
        (Some(last), false) => format!(
            "What happened: no ping since {}; the grace time ran out at {}.",
            utc_text(last),
            utc_text(f.at)
        ),
        (None, _) => format!(
            "What happened: a run started but did not finish before {}.",
            utc_text(f.at)
        ),
    };
    let body = format!(
        "{watched}Criticality: {}\n{expected}\n{happened}",
        f.criticality.label()
    );
    (title, body)
}

/// The note added to a monitoring ticket when its check is up again.
pub fn recovery_note(f: &AlertFacts<'_>) -> String {
    format!(
        "Recovered: {} is up again (ping received {}).",
        f.check_name,
        utc_text(f.last_ping_at.unwrap_or(f.at))
    )
}

/// A heartbeat check as a form, the API or the CLI sends it: text fields, parsed by
/// [`CheckDraft::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckDraft {
    /// The client's slug.
    pub client: String,
    pub name: String,
    /// The check's slug in slug ping URLs; empty: made from the name.
    pub slug: String,
    /// The workflow it watches ("lead sync from Typeform to HubSpot").
    pub workflow: String,
    /// revenue-critical, customer-facing or internal; empty: internal.
    pub criticality: String,
    /// "5m", "1h", "1d"; empty when a cron expression is given.
    pub period: String,
    /// A cron expression, instead of a period.
    pub cron: String,
    /// The cron expression's IANA timezone; empty: UTC.
    pub timezone: String,
    /// Grace time after each deadline; empty: 1 hour.
    pub grace: String,
    /// An HTTP probe's settings; a `url` makes the check an HTTP probe (then period,
    /// cron and grace stay empty).
    #[serde(flatten)]
    pub probe: crate::probe::ProbeDraft,
}

/// A heartbeat check that passed [`CheckDraft::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInput {
    pub client: Slug,
    pub name: String,
    pub slug: String,
    pub workflow: String,
    pub criticality: Criticality,
    pub heartbeat: Heartbeat,
    /// Set for an HTTP probe; its `heartbeat` is then the probe's interval with no grace.
    pub probe: Option<crate::probe::ProbeSettings>,
}

impl CheckInput {
    pub fn kind(&self) -> CheckKind {
        if self.probe.is_some() {
            CheckKind::HttpProbe
        } else {
            CheckKind::Heartbeat
        }
    }
}

impl CheckDraft {
    pub fn parse(&self) -> Result<CheckInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let client = e.check("client", Slug::parse(&self.client));
        let name = self.name.trim().to_string();
        if name.is_empty() {
            e.add("name", "is required");
        } else if name.chars().count() > 200 {
            e.add("name", "must be at most 200 characters");
        }
        let slug = match self.slug.trim() {
            "" => check_slug_from(&name),
            s => s.to_string(),
        };
        if !name.is_empty() && !crate::ping_url::is_valid_check_slug(&slug) {
            e.add(
                "slug",
                "may contain only lowercase letters, digits, hyphens and underscores (at most 100)",
            );
        }
        let workflow = self.workflow.trim().to_string();
        if workflow.chars().count() > 500 {
            e.add("workflow", "must be at most 500 characters");
        }
        let criticality = match self.criticality.trim() {
            "" => Some(Criticality::Internal),
            s => e.check("criticality", Criticality::parse(s)),
        };
        let probe = if self.probe.is_given() {
            match self.probe.parse() {
                Ok(settings) => Some(settings),
                Err(errors) => {
                    e.merge(errors);
                    None
                }
            }
        } else {
            None
        };
        let schedule = match (self.period.trim(), self.cron.trim()) {
            _ if self.probe.is_given() => {
                if !(self.period.trim().is_empty() && self.cron.trim().is_empty()) {
                    e.add(
                        "period",
                        "an HTTP probe runs every `every`; leave period and cron empty",
                    );
                }
                probe.as_ref().map(|p| Schedule::Period {
                    period_ms: p.interval_ms,
                })
            }
            ("", "") => {
                e.add(
                    "period",
                    "give a period (for example 5m) or a cron expression",
                );
                None
            }
            (p, "") => e
                .check("period", parse_interval(p))
                .map(|period_ms| Schedule::Period { period_ms }),
            ("", c) => {
                let expr = e.check("cron", CronExpr::parse(c));
                let tz = match self.timezone.trim() {
                    "" => Timezone::parse("UTC").ok(),
                    t => e.check("timezone", Timezone::parse(t)),
                };
                match (expr, tz) {
                    (Some(expr), Some(tz)) => Some(Schedule::Cron { expr, tz }),
                    _ => None,
                }
            }
            _ => {
                e.add(
                    "cron",
                    "give either a period or a cron expression, not both",
                );
                None
            }
        };
        let grace = match self.grace.trim() {
            // A probe is judged on each run: no grace time.
            _ if self.probe.is_given() => Some(0),
            "" => Some(AUTO_GRACE_MS),
            g => e.check("grace", parse_interval(g)),
        };
        match (client, criticality, schedule, grace) {
            (Some(client), Some(criticality), Some(schedule), Some(grace_ms)) if e.is_empty() => {
                Ok(CheckInput {
                    client,
                    name,
                    slug,
                    workflow,
                    criticality,
                    heartbeat: Heartbeat { schedule, grace_ms },
                    probe,
                })
            }
            _ => Err(e),
        }
    }
}

/// A check slug from its name: "Lead sync (HubSpot)" -> "lead-sync-hubspot".
pub fn check_slug_from(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    trimmed
        .chars()
        .take(100)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// Run time of a job: the gap between its start and the success or failure that ends
/// it, when the two are less than 72 hours apart (older starts are taken as unrelated).
pub fn run_duration_ms(started_at: i64, ended_at: i64) -> Option<i64> {
    let gap = ended_at.checked_sub(started_at)?;
    (0..72 * 60 * MINUTE_MS).contains(&gap).then_some(gap)
}

/// A check's public id in its ping URL: a random (version 4) UUID, written in the
/// canonical lowercase form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CheckUuid(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a UUID (write it as 8-4-4-4-12 hexadecimal digits)")]
pub struct UuidError(pub String);

impl CheckUuid {
    /// Reads a UUID in its canonical textual form (either case).
    pub fn parse(raw: &str) -> Result<Self, UuidError> {
        if is_canonical_uuid(raw) {
            Ok(Self(raw.to_ascii_lowercase()))
        } else {
            Err(UuidError(raw.chars().take(64).collect()))
        }
    }

    /// Builds a version 4 UUID from 16 random bytes.
    pub fn from_random(mut bytes: [u8; 16]) -> Self {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Self(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 8-4-4-4-12 hexadecimal digits separated by hyphens.
pub fn is_canonical_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

impl TryFrom<String> for CheckUuid {
    type Error = UuidError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CheckUuid> for String {
    fn from(value: CheckUuid) -> Self {
        value.0
    }
}

impl std::fmt::Display for CheckUuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client's ping key for slug URLs (`/ping/<ping-key>/<slug>`): 22 URL-safe
/// characters made from 16 random bytes.
pub fn ping_key_from_random(bytes: [u8; 16]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits: u128 = u128::from_be_bytes(bytes);
    (0..22)
        .map(|_| {
            let c = ALPHABET[(bits & 63) as usize] as char;
            bits >>= 6;
            c
        })
        .collect()
}

/// Whether a check whose ping count went from `before` to `after` now sheds its oldest
/// pings, keeping the newest `keep`. Pruning runs every `keep / 10` pings (every ping
/// for `keep` under 20), so a check holds between `keep` and `keep + keep / 10 - 1`
/// pings, and the store deletes once per tenth of `keep` pings instead of once per ping.
pub fn prune_due(keep: i64, before: i64, after: i64) -> bool {
    if keep <= 0 || after <= keep {
        return false;
    }
    let step = (keep / 10).max(1);
    after.div_euclid(step) > before.div_euclid(step)
}

#[cfg(test)]
mod ping_facts_tests {
    use super::*;
    use crate::ping_url::Signal;

    #[test]
    fn a_start_marks_a_run_and_its_end_becomes_the_last_ping() {
        let none = PingFacts::default();
        let started = none.with_ping(Signal::Start, 10);
        assert_eq!(started.started_at, Some(10));
        assert_eq!(started.last_ping_at, None);
        let failed = started.with_ping(Signal::Fail, 20);
        assert_eq!(
            failed,
            PingFacts {
                last_ping_at: Some(20),
                last_failed: true,
                started_at: None,
                paused: false
            }
        );
        assert!(!failed.with_ping(Signal::Exit(0), 30).last_failed);
    }

    #[test]
    fn any_ping_but_a_log_resumes_a_paused_check() {
        let paused = PingFacts {
            paused: true,
            ..Default::default()
        };
        assert_eq!(paused.with_ping(Signal::Log, 5), paused);
        assert!(!paused.with_ping(Signal::Start, 5).paused);
        assert!(!paused.with_ping(Signal::Success, 5).paused);
    }

    #[test]
    fn standing_combines_state_wake_and_down_time() {
        let beat = Heartbeat {
            schedule: Schedule::Period { period_ms: 100 },
            grace_ms: 50,
        };
        let facts = PingFacts::default().with_ping(Signal::Success, 1_000);
        let up = standing(&beat, &facts, 1_010);
        assert_eq!(up.state, CheckState::Up);
        assert_eq!(up.wake_at, Some(1_100));
        assert_eq!(up.down_at, Some(1_150));
        let late = standing(&beat, &facts, 1_120);
        assert_eq!((late.state, late.wake_at), (CheckState::Late, Some(1_150)));
        let new = standing(&beat, &PingFacts::default(), 0);
        assert_eq!(
            (new.state, new.wake_at, new.down_at),
            (CheckState::New, None, None)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const H: i64 = 60 * MINUTE_MS;

    fn every(period: i64, grace: i64) -> Heartbeat {
        Heartbeat {
            schedule: Schedule::Period { period_ms: period },
            grace_ms: grace,
        }
    }

    fn pinged(at: i64) -> PingFacts {
        PingFacts {
            last_ping_at: Some(at),
            ..PingFacts::default()
        }
    }

    #[test]
    fn intervals_read_the_way_people_write_them() {
        assert_eq!(parse_interval("5m"), Ok(5 * MINUTE_MS));
        assert_eq!(parse_interval("90s"), Ok(90_000));
        assert_eq!(parse_interval("1h30m"), Ok(90 * MINUTE_MS));
        assert_eq!(parse_interval("2D"), Ok(48 * H));
        assert_eq!(parse_interval("15"), Ok(15 * MINUTE_MS));
        assert_eq!(parse_interval("30s"), Err(IntervalError::TooShort));
        assert_eq!(parse_interval("400d"), Err(IntervalError::TooLong));
        assert_eq!(parse_interval(""), Err(IntervalError::Empty));
        assert!(matches!(
            parse_interval("5 minutes"),
            Err(IntervalError::Malformed(_))
        ));
        assert!(matches!(
            parse_interval("m5"),
            Err(IntervalError::Malformed(_))
        ));
        assert_eq!(format_interval(90 * MINUTE_MS), "1h30m");
        assert_eq!(format_interval(24 * H), "1d");
    }

    #[test]
    fn criticality_sets_the_ticket_severity() {
        assert_eq!(Criticality::RevenueCritical.severity(), Severity::P1);
        assert_eq!(Criticality::CustomerFacing.severity(), Severity::P2);
        assert_eq!(Criticality::Internal.severity(), Severity::P3);
    }

    #[test]
    fn a_period_heartbeat_goes_up_late_down() {
        let beat = every(5 * MINUTE_MS, MINUTE_MS);
        let facts = pinged(0);
        assert_eq!(heartbeat_state(&beat, &facts, 0), CheckState::Up);
        assert_eq!(
            heartbeat_state(&beat, &facts, 5 * MINUTE_MS),
            CheckState::Up
        );
        assert_eq!(
            heartbeat_state(&beat, &facts, 5 * MINUTE_MS + 1),
            CheckState::Late
        );
        assert_eq!(
            heartbeat_state(&beat, &facts, 6 * MINUTE_MS),
            CheckState::Late
        );
        assert_eq!(
            heartbeat_state(&beat, &facts, 6 * MINUTE_MS + 1),
            CheckState::Down
        );
        assert_eq!(
            deadlines(&beat, &facts),
            Some(Deadlines {
                due_at: 5 * MINUTE_MS,
                down_at: 6 * MINUTE_MS
            })
        );
    }

    #[test]
    fn new_paused_and_failed_checks() {
        let beat = every(H, MINUTE_MS);
        assert_eq!(
            heartbeat_state(&beat, &PingFacts::default(), 10 * H),
            CheckState::New
        );
        let paused = PingFacts {
            paused: true,
            ..pinged(0)
        };
        assert_eq!(heartbeat_state(&beat, &paused, 10 * H), CheckState::Paused);
        assert_eq!(deadlines(&beat, &paused), None);
        let failed = PingFacts {
            last_failed: true,
            ..pinged(0)
        };
        assert_eq!(heartbeat_state(&beat, &failed, 1), CheckState::Down);
        assert_eq!(deadlines(&beat, &failed), None);
    }

    #[test]
    fn a_started_job_must_finish_within_grace() {
        let beat = every(24 * H, 10 * MINUTE_MS);
        let running = PingFacts {
            started_at: Some(H),
            ..pinged(0)
        };
        assert_eq!(
            heartbeat_state(&beat, &running, H + 5 * MINUTE_MS),
            CheckState::Up
        );
        assert_eq!(
            heartbeat_state(&beat, &running, H + 10 * MINUTE_MS + 1),
            CheckState::Down
        );
        // A first run that starts and never finishes goes down too.
        let first = PingFacts {
            started_at: Some(0),
            ..PingFacts::default()
        };
        assert_eq!(
            heartbeat_state(&beat, &first, 11 * MINUTE_MS),
            CheckState::Down
        );
    }

    #[test]
    fn cron_schedules_follow_the_zone() {
        let beat = Heartbeat {
            schedule: Schedule::Cron {
                expr: CronExpr::parse("0 9 * * *").unwrap(),
                tz: Timezone::parse("Europe/Berlin").unwrap(),
            },
            grace_ms: 30 * MINUTE_MS,
        };
        // 2026-01-05 08:30 UTC is 09:30 in Berlin: the next run is tomorrow 08:00 UTC.
        let last: jiff::Timestamp = "2026-01-05T08:30:00Z".parse().unwrap();
        let due: jiff::Timestamp = "2026-01-06T08:00:00Z".parse().unwrap();
        let d = deadlines(&beat, &pinged(last.as_millisecond())).unwrap();
        assert_eq!(d.due_at, due.as_millisecond());
        assert_eq!(d.down_at, due.as_millisecond() + 30 * MINUTE_MS);
        // In summer Berlin is UTC+2.
        let last: jiff::Timestamp = "2026-07-05T08:30:00Z".parse().unwrap();
        let due: jiff::Timestamp = "2026-07-06T07:00:00Z".parse().unwrap();
        let d = deadlines(&beat, &pinged(last.as_millisecond())).unwrap();
        assert_eq!(d.due_at, due.as_millisecond());
    }

    #[test]
    fn cron_expressions_are_checked() {
        assert!(CronExpr::parse("*/15 * * * *").is_ok());
        assert!(CronExpr::parse("0 */5 * * * *").is_ok());
        assert_eq!(CronExpr::parse("  "), Err(CronExprError::Empty));
        assert!(matches!(
            CronExpr::parse("every day"),
            Err(CronExprError::Invalid(_))
        ));
        assert!(matches!(
            CronExpr::parse("0 0 30 2 *"),
            Err(CronExprError::NeverRuns(_))
        ));
    }

    #[test]
    fn uuids_and_ping_keys() {
        let id = CheckUuid::from_random([0xab; 16]);
        assert_eq!(id.as_str(), "abababab-abab-4bab-abab-abababababab");
        assert_eq!(CheckUuid::parse(&id.as_str().to_uppercase()), Ok(id));
        assert!(CheckUuid::parse("not-a-uuid").is_err());
        let key = ping_key_from_random([7; 16]);
        assert_eq!(key.len(), 22);
        assert!(key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn drafts_parse_or_say_what_is_wrong() {
        let draft = CheckDraft {
            client: "acme".into(),
            name: "Lead sync (HubSpot)".into(),
            period: "5m".into(),
            grace: "1m".into(),
            criticality: "revenue-critical".into(),
            ..Default::default()
        };
        let input = draft.parse().unwrap();
        assert_eq!(input.slug, "lead-sync-hubspot");
        assert_eq!(input.criticality, Criticality::RevenueCritical);
        assert_eq!(input.heartbeat, every(5 * MINUTE_MS, MINUTE_MS));
        let cron = CheckDraft {
            period: String::new(),
            cron: "0 9 * * 1-5".into(),
            timezone: "Europe/Berlin".into(),
            ..draft.clone()
        }
        .parse()
        .unwrap();
        assert!(matches!(cron.heartbeat.schedule, Schedule::Cron { .. }));
        let errors = CheckDraft {
            client: "Not A Slug".into(),
            name: String::new(),
            period: "soon".into(),
            cron: "* * *".into(),
            criticality: "urgent".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        for field in ["client", "name", "cron", "criticality"] {
            assert!(errors.get(field).is_some(), "{field}: {errors:?}");
        }
        let errors = CheckDraft {
            cron: "nonsense".into(),
            period: String::new(),
            ..draft
        }
        .parse()
        .unwrap_err();
        assert!(errors.get("cron").is_some());
    }

    #[test]
    fn the_watcher_wakes_at_the_next_deadline() {
        let d = Some(Deadlines {
            due_at: 10,
            down_at: 20,
        });
        assert_eq!(next_wake(CheckState::Up, d), Some(10));
        assert_eq!(next_wake(CheckState::Late, d), Some(20));
        assert_eq!(next_wake(CheckState::Down, d), None);
        assert_eq!(next_wake(CheckState::New, None), None);
    }

    #[test]
    fn alerts_say_what_was_expected_and_what_happened() {
        let facts = AlertFacts {
            check_name: "Lead sync",
            client_name: "Acme",
            workflow: "Typeform to HubSpot",
            criticality: Criticality::RevenueCritical,
            schedule: "every 5m",
            grace_ms: MINUTE_MS,
            last_ping_at: Some(0),
            last_failed: false,
            at: 6 * MINUTE_MS,
        };
        let (title, body) = down_alert(&facts);
        assert_eq!(title, "Check down: Lead sync (Acme)");
        assert!(
            body.contains("Expected: a ping every 5m with 1m grace."),
            "{body}"
        );
        assert!(
            body.contains("no ping since 1970-01-01 00:00:00 UTC"),
            "{body}"
        );
        assert!(body.contains("Workflow: Typeform to HubSpot"), "{body}");
        let failed = AlertFacts {
            last_failed: true,
            ..facts.clone()
        };
        assert!(down_alert(&failed).1.contains("reported a failure"));
        assert!(recovery_note(&facts).starts_with("Recovered: Lead sync is up again"));
    }

    #[test]
    fn check_slugs_from_names() {
        assert_eq!(check_slug_from("Nightly DB backup!"), "nightly-db-backup");
        assert_eq!(check_slug_from("  ---  "), "");
        assert_eq!(check_slug_from("a_b c"), "a_b-c");
    }

    #[test]
    fn durations_pair_a_start_with_its_end() {
        assert_eq!(run_duration_ms(1_000, 61_000), Some(60_000));
        assert_eq!(run_duration_ms(0, 73 * H), None);
        assert_eq!(run_duration_ms(10, 5), None);
    }

    proptest! {
        #[test]
        fn interval_parser_never_panics(raw in "\\PC{0,40}") {
            if let Ok(ms) = parse_interval(&raw) {
                prop_assert!((MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&ms));
            }
        }

        #[test]
        fn intervals_round_trip(minutes in 1i64..=525_600) {
            let ms = minutes * MINUTE_MS;
            prop_assert_eq!(parse_interval(&format_interval(ms)), Ok(ms));
        }

        #[test]
        fn cron_parser_never_panics(raw in "[0-9*/,LW#?A-Za-z -]{0,40}") {
            if let Ok(expr) = CronExpr::parse(&raw) {
                let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
                prop_assert!(expr.next_after(now, &jiff::tz::TimeZone::UTC).is_some());
            }
        }

        #[test]
        fn cron_parser_never_panics_on_any_text(raw in "\\PC{0,60}") {
            let _ = CronExpr::parse(&raw);
        }

        #[test]
        fn state_moves_forward_in_time(
            period in 1i64..10_000, grace in 1i64..10_000, last in 0i64..1_000_000,
            a in 0i64..2_000_000, b in 0i64..2_000_000, failed: bool, started: Option<i64>,
        ) {
            let beat = every(period * 1_000, grace * 1_000);
            let facts = PingFacts {
                last_ping_at: Some(last),
                last_failed: failed,
                started_at: started.map(|s| last + s.rem_euclid(1_000_000)),
                paused: false,
            };
            let rank = |s: CheckState| match s {
                CheckState::Up => 0, CheckState::Late => 1, CheckState::Down => 2,
                _ => 3,
            };
            let (early, late) = (a.min(b) + last, a.max(b) + last);
            let s1 = heartbeat_state(&beat, &facts, early);
            let s2 = heartbeat_state(&beat, &facts, late);
            prop_assert!(rank(s1) <= rank(s2), "{:?} then {:?}", s1, s2);
            prop_assert!(rank(s2) < 3);
        }

        /// Pinging one at a time and pruning whenever told to, a check never holds
        /// fewer than `keep` pings (once it has had that many) nor `keep / 10` more.
        #[test]
        fn pruning_keeps_a_check_between_keep_and_a_tenth_more(
            keep in 1i64..3_000, pings in 1i64..10_000, batch in 1i64..200
        ) {
            let (mut count, mut oldest) = (0i64, 1i64);
            while count < pings {
                let after = (count + batch).min(pings);
                if prune_due(keep, count, after) {
                    oldest = oldest.max(after - keep + 1);
                }
                count = after;
                let held = count - oldest + 1;
                prop_assert!(held <= keep + (keep / 10).max(1) - 1 + batch, "{} held", held);
                prop_assert!(held >= keep.min(count), "{} held", held);
            }
        }
    }

    #[test]
    fn pruning_is_due_every_tenth_of_keep_and_only_past_keep() {
        assert!(
            !prune_due(1_000, 999, 1_000),
            "not before there are more than keep"
        );
        assert!(!prune_due(1_000, 1_000, 1_050));
        assert!(prune_due(1_000, 1_050, 1_100));
        assert!(prune_due(3, 3, 4), "a small keep prunes on every ping");
        assert!(!prune_due(0, 10, 20), "keep 0 keeps everything");
    }
}

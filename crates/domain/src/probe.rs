//! HTTP probes: Tend calls a URL on a fixed cadence and judges the answer.
//!
//! Everything here is plain data and pure functions: the settings a person writes
//! ([`ProbeDraft`] → [`ProbeSettings`]), the verdict on one call ([`evaluate`]: up or
//! down, with the reason in words), and the slot schedule ([`next_slot`]: a fixed
//! cadence, so a slow target never pushes its next run later).
//!
//! Secrets never reach the database: a header that carries credentials names an
//! environment variable (`Authorization: ${env:TEND_PROBE_TOKEN_ACME}`) that is read
//! when the probe runs; a literal value for a known credential header is refused.

use serde::{Deserialize, Serialize};

use crate::{plan::text_enum, FieldErrors};

/// The shortest interval between two runs of a probe.
pub const MIN_PROBE_INTERVAL_MS: i64 = 30_000;
/// The longest interval: one day.
pub const MAX_PROBE_INTERVAL_MS: i64 = 24 * 3_600_000;
/// The timeout of a probe that names none (when its interval allows it).
pub const DEFAULT_PROBE_TIMEOUT_MS: i64 = 10_000;
/// The interval of a probe that names none.
pub const DEFAULT_PROBE_INTERVAL_MS: i64 = 60_000;
/// How much of a response body is searched for a keyword.
pub const MAX_BODY_SEARCHED: usize = 1024 * 1024;
/// Environment variables a header may name start with this, so a probe can never send
/// the server's own settings (its database URL, its SMTP password) to a URL.
pub const ENV_PREFIX: &str = "TEND_PROBE_";

text_enum!(
    /// The HTTP method a probe uses.
    ProbeMethod, "method", {
        Get => "GET",
        Head => "HEAD",
        Post => "POST",
        Put => "PUT",
        Patch => "PATCH",
        Delete => "DELETE",
        Options => "OPTIONS",
    }
);

impl ProbeMethod {
    /// Reads a method in either case ("get", "POST").
    pub fn parse_any(raw: &str) -> Result<Self, crate::plan::UnknownValue> {
        Self::parse(&raw.trim().to_ascii_uppercase())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("is required")]
    Empty,
    #[error("\"{0}\" is not a duration (write 500ms, 10s, 1m or 1m30s)")]
    Malformed(String),
    #[error("must be at least {0}")]
    TooShort(String),
    #[error("must be at most {0}")]
    TooLong(String),
}

/// Reads a duration as people write it ("500ms", "10s", "1m30s", "2h"; a bare number
/// is seconds) into milliseconds, between `min_ms` and `max_ms`.
pub fn parse_duration(raw: &str, min_ms: i64, max_ms: i64) -> Result<i64, DurationError> {
    let s = raw.trim().to_ascii_lowercase();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let malformed = || DurationError::Malformed(raw.trim().chars().take(40).collect());
    if s.len() > 32 || !s.is_ascii() {
        return Err(malformed());
    }
    let too_long = || DurationError::TooLong(format_duration(max_ms));
    let ms = if s.chars().all(|c| c.is_ascii_digit()) {
        let secs: i64 = s.parse().map_err(|_| too_long())?;
        secs.checked_mul(1_000).ok_or_else(too_long)?
    } else {
        let bytes = s.as_bytes();
        let mut total: i64 = 0;
        let mut i = 0;
        while i < bytes.len() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if start == i {
                return Err(malformed());
            }
            let n: i64 = s[start..i].parse().map_err(|_| too_long())?;
            let unit_start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit_ms = match &s[unit_start..i] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => return Err(malformed()),
            };
            let part = n.checked_mul(unit_ms).ok_or_else(too_long)?;
            total = total.checked_add(part).ok_or_else(too_long)?;
        }
        total
    };
    if ms < min_ms {
        Err(DurationError::TooShort(format_duration(min_ms)))
    } else if ms > max_ms {
        Err(too_long())
    } else {
        Ok(ms)
    }
}

/// Milliseconds the short way: 1500 → "1.5 s", 60000 → "1m", 250 → "250 ms".
pub fn format_duration(ms: i64) -> String {
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        if ms % 1_000 == 0 {
            format!("{} s", ms / 1_000)
        } else {
            format!("{:.1} s", ms as f64 / 1_000.0)
        }
    } else {
        crate::check::format_interval(ms)
    }
}

/// A URL a probe may call: `http` or `https`, with a host, no spaces, at most 2,000
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProbeUrl(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeUrlError {
    #[error("is required")]
    Empty,
    #[error("must start with http:// or https://")]
    Scheme,
    #[error("must name a host (https://example.com/health)")]
    NoHost,
    #[error("must not contain spaces or control characters")]
    Spaces,
    #[error("must be at most 2000 characters")]
    TooLong,
    #[error("must not carry a user name or password (put credentials in a header that names an environment variable)")]
    Credentials,
    #[error("must not carry a secret in its query (\"{0}\"): Tend never stores secrets; send it in a header that names an environment variable")]
    SecretInQuery(String),
}

impl ProbeUrl {
    pub fn parse(raw: &str) -> Result<Self, ProbeUrlError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(ProbeUrlError::Empty);
        }
        if s.len() > 2_000 {
            return Err(ProbeUrlError::TooLong);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ProbeUrlError::Spaces);
        }
        let lower = s.to_ascii_lowercase();
        let rest = if lower.starts_with("https://") {
            &s[8..]
        } else if lower.starts_with("http://") {
            &s[7..]
        } else {
            return Err(ProbeUrlError::Scheme);
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        // A password in the URL would be stored as it is: refused like a literal
        // Authorization header.
        if authority.contains('@') {
            return Err(ProbeUrlError::Credentials);
        }
        let host = if authority.starts_with('[') {
            authority
                .split_once(']')
                .map(|(h, _)| h.trim_start_matches('['))
                .unwrap_or_default()
        } else {
            authority.split(':').next().unwrap_or_default()
        };
        if host.is_empty() {
            return Err(ProbeUrlError::NoHost);
        }
        // `?api_key=…` or `?token=…` would be stored as written.
        if let Some((_, query)) = rest.split('#').next().unwrap_or_default().split_once('?') {
            for pair in query.split('&') {
                let name = pair.split('=').next().unwrap_or_default();
                if pair.contains('=') && is_secret_header(name) {
                    return Err(ProbeUrlError::SecretInQuery(
                        name.chars().take(50).collect(),
                    ));
                }
            }
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProbeUrl {
    type Error = ProbeUrlError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProbeUrl> for String {
    fn from(value: ProbeUrl) -> Self {
        value.0
    }
}

impl std::fmt::Display for ProbeUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The status a probe expects: one code (200) or a class (2xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedStatus {
    Code(u16),
    /// The first digit: 2 for 2xx.
    Class(u8),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a status (write a code such as 200, or a class such as 2xx)")]
pub struct StatusError(pub String);

impl ExpectedStatus {
    pub fn parse(raw: &str) -> Result<Self, StatusError> {
        let s = raw.trim().to_ascii_lowercase();
        let bad = || StatusError(raw.trim().chars().take(20).collect());
        if let Some(d) = s.strip_suffix("xx") {
            return match d.parse::<u8>() {
                Ok(c @ 1..=5) if d.len() == 1 => Ok(Self::Class(c)),
                _ => Err(bad()),
            };
        }
        match s.parse::<u16>() {
            Ok(code @ 100..=599) if s.len() == 3 => Ok(Self::Code(code)),
            _ => Err(bad()),
        }
    }

    pub fn matches(self, status: u16) -> bool {
        match self {
            Self::Code(c) => c == status,
            Self::Class(c) => status / 100 == u16::from(c),
        }
    }
}

impl std::fmt::Display for ExpectedStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Code(c) => write!(f, "{c}"),
            Self::Class(c) => write!(f, "{c}xx"),
        }
    }
}

impl Default for ExpectedStatus {
    fn default() -> Self {
        Self::Class(2)
    }
}

/// A header value: written as it is, or read from an environment variable when the
/// probe runs (`${env:TEND_PROBE_TOKEN}`, optionally with text around it:
/// `Bearer ${env:TEND_PROBE_TOKEN}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderValue {
    /// Text before the reference (or the whole value when there is none).
    pub prefix: String,
    /// The environment variable named, if any.
    pub env: Option<String>,
    /// Text after the reference.
    pub suffix: String,
}

impl HeaderValue {
    /// The value as stored and shown: the reference, never the secret.
    pub fn text(&self) -> String {
        match &self.env {
            Some(name) => format!("{}${{env:{name}}}{}", self.prefix, self.suffix),
            None => self.prefix.clone(),
        }
    }

    /// The value to send, with the variable read through `lookup`.
    pub fn resolve(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
        match &self.env {
            None => Ok(self.prefix.clone()),
            Some(name) => match lookup(name) {
                Some(v) => Ok(format!("{}{v}{}", self.prefix, self.suffix)),
                None => Err(format!("environment variable {name} is not set")),
            },
        }
    }
}

/// One header a probe sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeHeader {
    pub name: String,
    pub value: HeaderValue,
}

/// Headers that carry credentials: their value must come from an environment variable.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "api-key",
    "apikey",
    "x-auth-token",
    "x-access-token",
    "x-csrf-token",
    "private-token",
];

/// Whether a header's name says it carries a credential: a known one, or a name with
/// token, secret, password, key or auth in it.
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    SECRET_HEADERS.contains(&n.as_str())
        || [
            "token", "secret", "password", "passwd", "auth", "key", "session",
        ]
        .iter()
        .any(|w| n.contains(w))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("line {0}: write each header as Name: value")]
    NoColon(usize),
    #[error("line {0}: \"{1}\" is not a header name")]
    BadName(usize, String),
    #[error("line {0}: the value must not contain control characters")]
    BadValue(usize),
    #[error("line {0}: {1} carries credentials, so its value must name an environment variable, for example {1}: ${{env:{ENV_PREFIX}TOKEN}} (Tend never stores secrets)")]
    LiteralSecret(usize, String),
    #[error("line {0}: \"{1}\" is not an environment variable Tend reads (names start with {ENV_PREFIX} and use A-Z, 0-9 and _)")]
    BadEnv(usize, String),
    #[error("line {0}: a value may name one environment variable")]
    TwoEnv(usize),
    #[error("at most 20 headers")]
    TooMany,
    #[error("line {0}: {1} is set by Tend itself")]
    Reserved(usize, String),
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn valid_env_name(name: &str) -> bool {
    name.len() > ENV_PREFIX.len()
        && name.len() <= 100
        && name.starts_with(ENV_PREFIX)
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn parse_header_value(line: usize, raw: &str) -> Result<HeaderValue, HeaderError> {
    if raw.chars().any(|c| c.is_control() && c != '\t') {
        return Err(HeaderError::BadValue(line));
    }
    let Some(start) = raw.find("${") else {
        return Ok(HeaderValue {
            prefix: raw.to_string(),
            env: None,
            suffix: String::new(),
        });
    };
    let after = &raw[start + 2..];
    let Some(end) = after.find('}') else {
        return Err(HeaderError::BadEnv(line, raw[start..].to_string()));
    };
    let inner = &after[..end];
    let suffix = &after[end + 1..];
    let Some(name) = inner.strip_prefix("env:") else {
        return Err(HeaderError::BadEnv(line, inner.to_string()));
    };
    if !valid_env_name(name) {
        return Err(HeaderError::BadEnv(line, name.to_string()));
    }
    if suffix.contains("${") {
        return Err(HeaderError::TwoEnv(line));
    }
    Ok(HeaderValue {
        prefix: raw[..start].to_string(),
        env: Some(name.to_string()),
        suffix: suffix.to_string(),
    })
}

/// Reads headers written one per line as `Name: value`; blank lines are skipped.
pub fn parse_headers(raw: &str) -> Result<Vec<ProbeHeader>, HeaderError> {
    let mut out = Vec::new();
    for (i, line) in raw.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(HeaderError::NoColon(n));
        };
        let name = name.trim();
        if name.is_empty() || name.len() > 100 || !name.chars().all(is_token_char) {
            return Err(HeaderError::BadName(n, name.chars().take(100).collect()));
        }
        let lower = name.to_ascii_lowercase();
        if ["host", "content-length", "transfer-encoding", "connection"].contains(&lower.as_str()) {
            return Err(HeaderError::Reserved(n, name.to_string()));
        }
        let value = parse_header_value(n, value.trim())?;
        if value.env.is_none() && is_secret_header(name) {
            return Err(HeaderError::LiteralSecret(n, name.to_string()));
        }
        out.push(ProbeHeader {
            name: name.to_string(),
            value,
        });
        if out.len() > 20 {
            return Err(HeaderError::TooMany);
        }
    }
    Ok(out)
}

/// Headers back as text, one `Name: value` per line (references, never secrets).
pub fn headers_text(headers: &[ProbeHeader]) -> String {
    headers
        .iter()
        .map(|h| format!("{}: {}", h.name, h.value.text()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A word the response body must, or must not, contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordRule {
    pub text: String,
    /// True: the body must NOT contain it.
    pub absent: bool,
}

/// An HTTP probe's settings, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSettings {
    pub url: ProbeUrl,
    pub method: ProbeMethod,
    pub headers: Vec<ProbeHeader>,
    pub interval_ms: i64,
    /// Always shorter than the interval.
    pub timeout_ms: i64,
    pub expect: ExpectedStatus,
    pub keyword: Option<KeywordRule>,
    pub max_latency_ms: Option<i64>,
}

impl ProbeSettings {
    /// "GET https://acme.example/health every 1m, expects 2xx".
    pub fn describe(&self) -> String {
        let mut out = format!(
            "{} {} every {}, expects {}",
            self.method,
            self.url,
            format_duration(self.interval_ms),
            self.expect
        );
        if let Some(k) = &self.keyword {
            let verb = if k.absent { "without" } else { "with" };
            out.push_str(&format!(" {verb} \"{}\"", k.text));
        }
        if let Some(l) = self.max_latency_ms {
            out.push_str(&format!(" within {}", format_duration(l)));
        }
        out
    }
}

/// A probe as a form, the API or the CLI writes it: text fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeDraft {
    /// The URL to call (http or https).
    pub url: String,
    /// GET (default), HEAD, POST, PUT, PATCH, DELETE or OPTIONS.
    pub method: String,
    /// One `Name: value` per line; credentials as `${env:TEND_PROBE_…}`.
    pub headers: String,
    /// How often: 30s or more (default 1m).
    pub every: String,
    /// How long to wait for the answer (default 10s, and less than `every`).
    pub timeout: String,
    /// A code (200) or a class (2xx, the default).
    pub expect: String,
    /// A word the body must contain.
    pub keyword: String,
    /// A word the body must not contain (instead of `keyword`).
    pub no_keyword: String,
    /// The longest an answer may take (for example 2s); empty: no limit.
    pub max_latency: String,
}

impl ProbeDraft {
    /// Whether any probe field is filled in (the draft describes a probe).
    pub fn is_given(&self) -> bool {
        !self.url.trim().is_empty()
    }

    pub fn parse(&self) -> Result<ProbeSettings, FieldErrors> {
        let mut e = FieldErrors::new();
        let url = e.check("url", ProbeUrl::parse(&self.url));
        let method = match self.method.trim() {
            "" => Some(ProbeMethod::Get),
            m => e.check("method", ProbeMethod::parse_any(m)),
        };
        let headers = e.check("headers", parse_headers(&self.headers));
        let interval = match self.every.trim() {
            "" => Some(DEFAULT_PROBE_INTERVAL_MS),
            s => e.check(
                "every",
                parse_duration(s, MIN_PROBE_INTERVAL_MS, MAX_PROBE_INTERVAL_MS),
            ),
        };
        let timeout = match (self.timeout.trim(), interval) {
            ("", Some(i)) => Some(DEFAULT_PROBE_TIMEOUT_MS.min(i / 2)),
            ("", None) => None,
            (s, i) => match e.check("timeout", parse_duration(s, 100, MAX_PROBE_INTERVAL_MS)) {
                Some(t) if i.is_some_and(|i| t >= i) => {
                    e.add("timeout", "must be shorter than the interval");
                    None
                }
                t => t,
            },
        };
        let expect = match self.expect.trim() {
            "" => Some(ExpectedStatus::default()),
            s => e.check("expect", ExpectedStatus::parse(s)),
        };
        let keyword = match (self.keyword.trim(), self.no_keyword.trim()) {
            ("", "") => None,
            (k, "") => Some(KeywordRule {
                text: k.to_string(),
                absent: false,
            }),
            ("", k) => Some(KeywordRule {
                text: k.to_string(),
                absent: true,
            }),
            _ => {
                e.add("no_keyword", "give either keyword or no_keyword, not both");
                None
            }
        };
        if keyword
            .as_ref()
            .is_some_and(|k| k.text.chars().count() > 200)
        {
            e.add("keyword", "must be at most 200 characters");
        }
        let max_latency = match self.max_latency.trim() {
            "" => Some(None),
            s => e
                .check("max_latency", parse_duration(s, 1, MAX_PROBE_INTERVAL_MS))
                .map(Some),
        };
        if method == Some(ProbeMethod::Head) && keyword.is_some() {
            e.add("keyword", "a HEAD request has no body to search");
        }
        match (url, method, headers, interval, timeout, expect, max_latency) {
            (
                Some(url),
                Some(method),
                Some(headers),
                Some(interval_ms),
                Some(timeout_ms),
                Some(expect),
                Some(max_latency_ms),
            ) if e.is_empty() => Ok(ProbeSettings {
                url,
                method,
                headers,
                interval_ms,
                timeout_ms,
                expect,
                keyword,
                max_latency_ms,
            }),
            _ => Err(e),
        }
    }
}

impl From<&ProbeSettings> for ProbeDraft {
    fn from(s: &ProbeSettings) -> Self {
        let (keyword, no_keyword) = match &s.keyword {
            Some(k) if k.absent => (String::new(), k.text.clone()),
            Some(k) => (k.text.clone(), String::new()),
            None => (String::new(), String::new()),
        };
        Self {
            url: s.url.to_string(),
            method: s.method.to_string(),
            headers: headers_text(&s.headers),
            every: format!("{}ms", s.interval_ms),
            timeout: format!("{}ms", s.timeout_ms),
            expect: s.expect.to_string(),
            keyword,
            no_keyword,
            max_latency: s
                .max_latency_ms
                .map(|l| format!("{l}ms"))
                .unwrap_or_default(),
        }
    }
}

/// What happened when a probe called its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// An answer arrived within the timeout. `body` is the start of the body when a
    /// keyword had to be searched (at most [`MAX_BODY_SEARCHED`] bytes), else `None`.
    Answered {
        status: u16,
        elapsed_ms: i64,
        body: Option<String>,
    },
    /// No complete answer within the timeout.
    TimedOut,
    /// Nothing listens at the address.
    Refused,
    /// Any other failure (name not found, TLS, reset, a header's variable unset).
    Failed { error: String },
}

/// Why a probe is down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeFailure {
    WrongStatus { expected: ExpectedStatus, got: u16 },
    KeywordMissing(String),
    KeywordPresent(String),
    TooSlow { took_ms: i64, limit_ms: i64 },
    TimedOut { after_ms: i64 },
    Refused,
    Failed(String),
}

impl std::fmt::Display for ProbeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WrongStatus { expected, got } => write!(f, "expected {expected}, got {got}"),
            Self::KeywordMissing(k) => write!(f, "keyword '{k}' missing"),
            Self::KeywordPresent(k) => write!(f, "keyword '{k}' present"),
            Self::TooSlow { took_ms, limit_ms } => write!(
                f,
                "took {}, limit {}",
                format_duration(*took_ms),
                format_duration(*limit_ms)
            ),
            Self::TimedOut { after_ms } => {
                write!(f, "timed out after {}", format_duration(*after_ms))
            }
            Self::Refused => f.write_str("connection refused"),
            Self::Failed(e) => f.write_str(e),
        }
    }
}

/// The verdict on one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeVerdict {
    Up,
    Down(ProbeFailure),
}

impl ProbeVerdict {
    pub fn is_up(&self) -> bool {
        matches!(self, Self::Up)
    }

    /// "OK" or the failure in words.
    pub fn reason(&self) -> String {
        match self {
            Self::Up => "OK".into(),
            Self::Down(f) => f.to_string(),
        }
    }
}

/// Judges one run: the status first, then the latency limit, then the keyword.
pub fn evaluate(settings: &ProbeSettings, outcome: &ProbeOutcome) -> ProbeVerdict {
    let failure = match outcome {
        ProbeOutcome::TimedOut => ProbeFailure::TimedOut {
            after_ms: settings.timeout_ms,
        },
        ProbeOutcome::Refused => ProbeFailure::Refused,
        ProbeOutcome::Failed { error } => ProbeFailure::Failed(error.clone()),
        ProbeOutcome::Answered {
            status,
            elapsed_ms,
            body,
        } => {
            if !settings.expect.matches(*status) {
                ProbeFailure::WrongStatus {
                    expected: settings.expect,
                    got: *status,
                }
            } else if let Some(limit) = settings.max_latency_ms.filter(|l| elapsed_ms > l) {
                ProbeFailure::TooSlow {
                    took_ms: *elapsed_ms,
                    limit_ms: limit,
                }
            } else {
                match &settings.keyword {
                    None => return ProbeVerdict::Up,
                    Some(k) => {
                        let found = body.as_deref().unwrap_or_default().contains(&k.text);
                        match (found, k.absent) {
                            (true, false) | (false, true) => return ProbeVerdict::Up,
                            (false, false) => ProbeFailure::KeywordMissing(k.text.clone()),
                            (true, true) => ProbeFailure::KeywordPresent(k.text.clone()),
                        }
                    }
                }
            }
        }
    };
    ProbeVerdict::Down(failure)
}

/// The first slot of a probe: slots are `anchor + k × interval`; the anchor spreads
/// probes over their interval so thousands of them do not all start at once.
pub fn first_slot(anchor_ms: i64, interval_ms: i64, now_ms: i64) -> i64 {
    next_slot(anchor_ms, interval_ms, now_ms - 1)
}

/// The first slot strictly after `after_ms` on the fixed cadence `anchor + k ×
/// interval`. Slots missed while Tend was stopped are skipped, not run in a burst; a
/// slow run never moves the next slot.
pub fn next_slot(anchor_ms: i64, interval_ms: i64, after_ms: i64) -> i64 {
    let interval = interval_ms.max(1);
    let k = (after_ms - anchor_ms).div_euclid(interval) + 1;
    anchor_ms + k * interval
}

/// What the ticket of a down probe says: what was expected and what happened.
pub fn down_alert(
    check_name: &str,
    client_name: &str,
    workflow: &str,
    criticality_label: &str,
    settings: &ProbeSettings,
    reason: &str,
    at_text: &str,
) -> (String, String) {
    let title = format!("Check down: {check_name} ({client_name})");
    let watched = if workflow.is_empty() {
        String::new()
    } else {
        format!("Workflow: {workflow}\n")
    };
    let body = format!(
        "{watched}Criticality: {criticality_label}\nExpected: {}.\nWhat happened: {reason} (probe at {at_text}).",
        settings.describe()
    );
    (title, body)
}

/// The note added to a probe's ticket when it answers as expected again.
pub fn recovery_note(check_name: &str, at_text: &str) -> String {
    format!("Recovered: {check_name} is up again (probe OK at {at_text}).")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn settings() -> ProbeSettings {
        ProbeDraft {
            url: "https://acme.example/health".into(),
            expect: "200".into(),
            keyword: "Welcome".into(),
            max_latency: "2s".into(),
            ..Default::default()
        }
        .parse()
        .unwrap()
    }

    fn answered(status: u16, elapsed_ms: i64, body: &str) -> ProbeOutcome {
        ProbeOutcome::Answered {
            status,
            elapsed_ms,
            body: Some(body.into()),
        }
    }

    #[test]
    fn a_good_answer_is_up() {
        assert_eq!(
            evaluate(&settings(), &answered(200, 120, "<h1>Welcome</h1>")),
            ProbeVerdict::Up
        );
    }

    #[test]
    fn each_failure_says_what_went_wrong() {
        let s = settings();
        let reason = |o: ProbeOutcome| evaluate(&s, &o).reason();
        assert_eq!(
            reason(answered(503, 10, "Welcome")),
            "expected 200, got 503"
        );
        assert_eq!(
            reason(answered(200, 10, "Hello")),
            "keyword 'Welcome' missing"
        );
        assert_eq!(
            reason(answered(200, 4_200, "Welcome")),
            "took 4.2 s, limit 2 s"
        );
        assert_eq!(reason(ProbeOutcome::TimedOut), "timed out after 10 s");
        assert_eq!(reason(ProbeOutcome::Refused), "connection refused");
        let absent = ProbeSettings {
            keyword: Some(KeywordRule {
                text: "Error".into(),
                absent: true,
            }),
            ..s.clone()
        };
        assert_eq!(
            evaluate(&absent, &answered(200, 1, "Fatal Error")).reason(),
            "keyword 'Error' present"
        );
        assert!(evaluate(&absent, &answered(200, 1, "fine")).is_up());
    }

    #[test]
    fn a_status_class_accepts_the_whole_class() {
        let class = ExpectedStatus::parse("2xx").unwrap();
        assert!(class.matches(200) && class.matches(204) && !class.matches(301));
        assert_eq!(ExpectedStatus::parse("301"), Ok(ExpectedStatus::Code(301)));
        assert!(ExpectedStatus::parse("2x").is_err());
        assert!(ExpectedStatus::parse("700").is_err());
        assert!(ExpectedStatus::parse("6xx").is_err());
        assert!(ExpectedStatus::parse("0200").is_err());
    }

    #[test]
    fn only_http_and_https_urls_with_a_host() {
        assert!(ProbeUrl::parse("https://acme.example/health?x=1").is_ok());
        assert!(ProbeUrl::parse("http://127.0.0.1:8080").is_ok());
        assert!(ProbeUrl::parse("HTTP://[::1]:80/").is_ok());
        assert_eq!(ProbeUrl::parse("ftp://x"), Err(ProbeUrlError::Scheme));
        assert_eq!(
            ProbeUrl::parse("file:///etc/passwd"),
            Err(ProbeUrlError::Scheme)
        );
        assert_eq!(ProbeUrl::parse("https:///path"), Err(ProbeUrlError::NoHost));
        assert_eq!(ProbeUrl::parse("https://a b"), Err(ProbeUrlError::Spaces));
        assert_eq!(
            ProbeUrl::parse("https://user:pw@acme.example/"),
            Err(ProbeUrlError::Credentials)
        );
        assert_eq!(
            ProbeUrl::parse("https://acme.example/health?region=eu&api_key=abc"),
            Err(ProbeUrlError::SecretInQuery("api_key".into()))
        );
        assert!(ProbeUrl::parse("https://acme.example/search?q=token").is_ok());
    }

    #[test]
    fn credential_headers_must_name_an_environment_variable() {
        let err = parse_headers("Authorization: Bearer abc123").unwrap_err();
        assert!(matches!(err, HeaderError::LiteralSecret(1, _)));
        assert!(err.to_string().contains("${env:TEND_PROBE_TOKEN}"), "{err}");
        assert!(parse_headers("Cookie: session=1").is_err());
        assert!(parse_headers("X-Api-Key: k").is_err());
        assert!(parse_headers("X-Client-Secret: k").is_err());
        let ok = parse_headers(
            "Authorization: Bearer ${env:TEND_PROBE_TOKEN_ACME}\n\nAccept: text/html",
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].value.env.as_deref(), Some("TEND_PROBE_TOKEN_ACME"));
        assert_eq!(ok[0].value.text(), "Bearer ${env:TEND_PROBE_TOKEN_ACME}");
        assert_eq!(
            ok[0]
                .value
                .resolve(|n| (n == "TEND_PROBE_TOKEN_ACME").then(|| "s3cr3t".into())),
            Ok("Bearer s3cr3t".into())
        );
        assert_eq!(
            ok[0].value.resolve(|_| None),
            Err("environment variable TEND_PROBE_TOKEN_ACME is not set".into())
        );
        assert_eq!(
            headers_text(&ok),
            "Authorization: Bearer ${env:TEND_PROBE_TOKEN_ACME}\nAccept: text/html"
        );
    }

    #[test]
    fn only_probe_variables_may_be_read() {
        // A header must not be able to send the server's own settings anywhere.
        assert!(matches!(
            parse_headers("Authorization: ${env:TEND_DATABASE_URL}"),
            Err(HeaderError::BadEnv(1, _))
        ));
        assert!(matches!(
            parse_headers("X-Trace: ${env:HOME}"),
            Err(HeaderError::BadEnv(1, _))
        ));
        assert!(matches!(
            parse_headers("Bad Name: x"),
            Err(HeaderError::BadName(1, _))
        ));
        assert!(matches!(
            parse_headers("Host: x"),
            Err(HeaderError::Reserved(1, _))
        ));
        assert!(matches!(
            parse_headers("novalue"),
            Err(HeaderError::NoColon(1))
        ));
    }

    #[test]
    fn drafts_check_interval_timeout_and_keyword() {
        let base = ProbeDraft {
            url: "https://acme.example".into(),
            ..Default::default()
        };
        let s = base.parse().unwrap();
        assert_eq!(
            (s.method, s.interval_ms, s.timeout_ms, s.expect),
            (ProbeMethod::Get, 60_000, 10_000, ExpectedStatus::Class(2))
        );
        let e = ProbeDraft {
            every: "10s".into(),
            ..base.clone()
        }
        .parse()
        .unwrap_err();
        assert_eq!(e.get("every"), Some("must be at least 30 s"));
        let e = ProbeDraft {
            every: "30s".into(),
            timeout: "30s".into(),
            ..base.clone()
        }
        .parse()
        .unwrap_err();
        assert_eq!(e.get("timeout"), Some("must be shorter than the interval"));
        let s = ProbeDraft {
            every: "30s".into(),
            ..base.clone()
        }
        .parse()
        .unwrap();
        assert_eq!(s.timeout_ms, 10_000);
        let e = ProbeDraft {
            keyword: "a".into(),
            no_keyword: "b".into(),
            method: "head".into(),
            url: "gopher://x".into(),
            ..base.clone()
        }
        .parse()
        .unwrap_err();
        for field in ["no_keyword", "url"] {
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
        let round = ProbeDraft::from(&settings()).parse().unwrap();
        assert_eq!(round, settings());
    }

    #[test]
    fn durations_read_the_way_people_write_them() {
        assert_eq!(parse_duration("500ms", 1, 10_000), Ok(500));
        assert_eq!(parse_duration("1m30s", 1, 1_000_000), Ok(90_000));
        assert_eq!(parse_duration("10", 1, 1_000_000), Ok(10_000));
        assert!(parse_duration("10 s", 1, 1_000_000).is_err());
        assert!(parse_duration("s", 1, 1_000_000).is_err());
        assert_eq!(format_duration(4_200), "4.2 s");
        assert_eq!(format_duration(250), "250 ms");
        assert_eq!(format_duration(60_000), "1m");
    }

    #[test]
    fn slots_keep_a_fixed_cadence() {
        // A run at slot 60 s that took 50 s still has its next slot at 120 s.
        assert_eq!(next_slot(0, 60_000, 60_000), 120_000);
        assert_eq!(next_slot(0, 60_000, 110_000), 120_000);
        // Slots missed while stopped are skipped.
        assert_eq!(next_slot(5_000, 60_000, 1_000_000), 1_025_000);
        assert_eq!(first_slot(5_000, 60_000, 65_000), 65_000);
    }

    proptest! {
        #[test]
        fn next_slot_is_on_the_cadence_and_within_one_interval(
            anchor in -1_000_000_000i64..1_000_000_000,
            interval in 30_000i64..86_400_000,
            after in -1_000_000_000i64..1_000_000_000,
        ) {
            let s = next_slot(anchor, interval, after);
            prop_assert!(s > after);
            prop_assert!(s - after <= interval);
            prop_assert_eq!((s - anchor).rem_euclid(interval), 0);
        }

        #[test]
        fn header_parser_never_panics(raw in "\\PC{0,80}") {
            if let Ok(headers) = parse_headers(&raw) {
                for h in headers {
                    prop_assert!(h.value.env.is_some() || !is_secret_header(&h.name));
                }
            }
        }

        #[test]
        fn url_and_status_parsers_never_panic(raw in "\\PC{0,60}") {
            let _ = ProbeUrl::parse(&raw);
            let _ = ExpectedStatus::parse(&raw);
            let _ = parse_duration(&raw, 1, 1_000_000);
        }

        #[test]
        fn a_down_verdict_always_has_a_reason(
            status in 100u16..600, elapsed in 0i64..20_000, body in "[a-zA-Z ]{0,30}",
        ) {
            let v = evaluate(&settings(), &answered(status, elapsed, &body));
            if let ProbeVerdict::Down(f) = &v {
                prop_assert!(!f.to_string().is_empty());
            }
            prop_assert_eq!(
                v.is_up(),
                status == 200 && elapsed <= 2_000 && body.contains("Welcome")
            );
        }
    }
}

//! The ping URLs, shaped as healthchecks.io's Pinging API so that scripts written for
//! it work against Tend unchanged:
//!
//! ```text
//! /ping/<uuid>                      success
//! /ping/<uuid>/start|fail|log       start, failure, log line
//! /ping/<uuid>/<0-255>              exit status: 0 is success, anything else failure
//! /ping/<ping-key>/<slug>[/...]     the same signals, by the client's ping key and slug
//! ?rid=<uuid>                       run id, pairs a start with its end
//! ?create=1                         slug URLs only: create the check if it is missing
//! ```
//!
//! [`parse_ping_path`] reads the path after `/ping/` and the query string into a
//! [`PingRequest`] or a [`PingUrlError`] that carries healthchecks.io's status code and
//! response body.

use crate::check::{is_canonical_uuid, CheckUuid};

/// What a ping says about the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Success,
    Start,
    Fail,
    Log,
    /// A script's exit status: 0 is a success, anything else a failure.
    Exit(u8),
}

impl Signal {
    /// The word stored with the ping: "success", "start", "fail", "log" or "exit".
    pub fn kind(self) -> &'static str {
        match self {
            Signal::Success => "success",
            Signal::Start => "start",
            Signal::Fail => "fail",
            Signal::Log => "log",
            Signal::Exit(_) => "exit",
        }
    }

    pub fn exit_status(self) -> Option<u8> {
        match self {
            Signal::Exit(code) => Some(code),
            _ => None,
        }
    }

    /// Whether this ping ends a run (success or failure), as opposed to start and log.
    pub fn ends_run(self) -> bool {
        matches!(self, Signal::Success | Signal::Fail | Signal::Exit(_))
    }

    /// Whether this ping reports a failure.
    pub fn is_failure(self) -> bool {
        matches!(self, Signal::Fail | Signal::Exit(1..=255))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PingTarget {
    Uuid(CheckUuid),
    Slug { ping_key: String, slug: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingRequest {
    pub target: PingTarget,
    pub signal: Signal,
    /// The run id (`?rid=`), lowercase.
    pub rid: Option<String>,
    /// `?create=1` on a slug URL: create the check if the slug is unknown.
    pub create: bool,
}

/// Why a ping URL is refused, with healthchecks.io's status code and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PingUrlError {
    /// No ping URL has this shape (healthchecks.io answers these with its 404 page).
    #[error("not found")]
    NotFound,
    /// An exit status above 255.
    #[error("invalid url format")]
    InvalidUrl,
    /// A `rid` that is not a UUID.
    #[error("invalid uuid format")]
    InvalidRid,
}

impl PingUrlError {
    pub fn status(self) -> u16 {
        match self {
            PingUrlError::NotFound => 404,
            PingUrlError::InvalidUrl | PingUrlError::InvalidRid => 400,
        }
    }

    /// The plain-text response body.
    pub fn body(self) -> &'static str {
        match self {
            PingUrlError::NotFound => "not found",
            PingUrlError::InvalidUrl => "invalid url format",
            PingUrlError::InvalidRid => "invalid uuid format",
        }
    }
}

/// The response to a ping that was stored: 200 "OK", or 201 "Created" when the ping
/// created its check.
pub fn success_reply(created: bool) -> (u16, &'static str) {
    if created {
        (201, "Created")
    } else {
        (200, "OK")
    }
}

const MAX_SLUG: usize = 100;
const MAX_PING_KEY: usize = 64;

/// A slug as healthchecks.io allows it: `a-z`, `0-9`, hyphens and underscores.
pub fn is_valid_check_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SLUG
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn is_valid_ping_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_PING_KEY
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Reads the signal segment after a uuid or slug.
fn signal_of(segment: &str) -> Result<Signal, PingUrlError> {
    match segment {
        "start" => Ok(Signal::Start),
        "fail" => Ok(Signal::Fail),
        "log" => Ok(Signal::Log),
        digits if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => digits
            .parse::<u8>()
            .map(Signal::Exit)
            .map_err(|_| PingUrlError::InvalidUrl),
        _ => Err(PingUrlError::NotFound),
    }
}

/// Reads the query string: `rid` (must be a UUID when present) and `create`.
fn read_query(query: Option<&str>) -> Result<(Option<String>, bool), PingUrlError> {
    let mut rid = None;
    let mut create = false;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "rid" if rid.is_none() => {
                if !is_canonical_uuid(value) {
                    return Err(PingUrlError::InvalidRid);
                }
                rid = Some(value.to_ascii_lowercase());
            }
            "create" => create = value == "1",
            _ => {}
        }
    }
    Ok((rid, create))
}

/// Parses the part of a ping URL after `/ping/` (no leading slash) and its query
/// string (without `?`).
pub fn parse_ping_path(path: &str, query: Option<&str>) -> Result<PingRequest, PingUrlError> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() > 3 || segments.iter().any(|s| s.is_empty()) {
        return Err(PingUrlError::NotFound);
    }
    let (target, rest) = if is_canonical_uuid(segments[0]) {
        let uuid = CheckUuid::parse(segments[0]).map_err(|_| PingUrlError::NotFound)?;
        (PingTarget::Uuid(uuid), &segments[1..])
    } else {
        if segments.len() < 2
            || !is_valid_ping_key(segments[0])
            || !is_valid_check_slug(segments[1])
        {
            return Err(PingUrlError::NotFound);
        }
        (
            PingTarget::Slug {
                ping_key: segments[0].to_string(),
                slug: segments[1].to_string(),
            },
            &segments[2..],
        )
    };
    let signal = match rest {
        [] => Signal::Success,
        [one] => signal_of(one)?,
        _ => return Err(PingUrlError::NotFound),
    };
    let (rid, create) = read_query(query)?;
    let create = create && matches!(target, PingTarget::Slug { .. });
    Ok(PingRequest {
        target,
        signal,
        rid,
        create,
    })
}

/// Cuts a request body to `limit` bytes (healthchecks.io keeps the first bytes and
/// ignores the rest rather than refusing the ping), then keeps it as text; bytes that
/// are not UTF-8 (including a character cut in half) become U+FFFD.
pub fn cut_body(body: &[u8], limit: usize) -> String {
    let kept = &body[..body.len().min(limit)];
    String::from_utf8_lossy(kept).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ID: &str = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278";
    const RID: &str = "123e4567-e89b-12d3-a456-426614174000";

    fn uuid_target() -> PingTarget {
        PingTarget::Uuid(CheckUuid::parse(ID).unwrap())
    }

    fn ok(path: &str, query: Option<&str>) -> PingRequest {
        parse_ping_path(path, query).unwrap()
    }

    #[test]
    fn every_uuid_shape() {
        assert_eq!(ok(ID, None).signal, Signal::Success);
        assert_eq!(ok(ID, None).target, uuid_target());
        assert_eq!(ok(&format!("{ID}/start"), None).signal, Signal::Start);
        assert_eq!(ok(&format!("{ID}/fail"), None).signal, Signal::Fail);
        assert_eq!(ok(&format!("{ID}/log"), None).signal, Signal::Log);
        assert_eq!(ok(&format!("{ID}/0"), None).signal, Signal::Exit(0));
        assert_eq!(ok(&format!("{ID}/255"), None).signal, Signal::Exit(255));
        assert_eq!(ok(&format!("/{ID}/"), None).signal, Signal::Success);
        assert_eq!(
            ok(&ID.to_uppercase(), None).target,
            uuid_target(),
            "uppercase UUIDs name the same check"
        );
    }

    #[test]
    fn every_slug_shape() {
        let req = ok("fqOOd6-F4MMNuCEnzTU01w/db-backups", Some("create=1"));
        assert_eq!(
            req.target,
            PingTarget::Slug {
                ping_key: "fqOOd6-F4MMNuCEnzTU01w".into(),
                slug: "db-backups".into()
            }
        );
        assert!(req.create);
        assert_eq!(req.signal, Signal::Success);
        assert_eq!(ok("key/db_backups/start", None).signal, Signal::Start);
        assert_eq!(ok("key/db/fail", None).signal, Signal::Fail);
        assert_eq!(ok("key/db/log", None).signal, Signal::Log);
        assert_eq!(ok("key/db/7", None).signal, Signal::Exit(7));
        assert!(!ok("key/db", Some("create=0")).create);
        assert!(!ok("key/db", Some("create=true")).create);
        // `create` means nothing on a UUID URL.
        assert!(!ok(ID, Some("create=1")).create);
    }

    #[test]
    fn run_ids() {
        assert_eq!(
            ok(ID, Some(&format!("rid={RID}"))).rid.as_deref(),
            Some(RID)
        );
        assert_eq!(
            ok(ID, Some(&format!("create=1&rid={}", RID.to_uppercase())))
                .rid
                .as_deref(),
            Some(RID)
        );
        assert_eq!(
            parse_ping_path(ID, Some("rid=nope")),
            Err(PingUrlError::InvalidRid)
        );
        assert_eq!(
            parse_ping_path(ID, Some("rid=")),
            Err(PingUrlError::InvalidRid)
        );
        assert_eq!(PingUrlError::InvalidRid.status(), 400);
    }

    #[test]
    fn refusals_match_healthchecks() {
        assert_eq!(
            parse_ping_path(&format!("{ID}/256"), None),
            Err(PingUrlError::InvalidUrl)
        );
        assert_eq!(
            parse_ping_path(&format!("{ID}/99999999999999"), None),
            Err(PingUrlError::InvalidUrl)
        );
        assert_eq!(PingUrlError::InvalidUrl.body(), "invalid url format");
        for bad in [
            "",
            "not-a-uuid",
            &format!("{ID}/stop"),
            &format!("{ID}/-1"),
            &format!("{ID}/start/extra"),
            "key/Upper-Slug",
            "key//start",
            "a/b/c/d",
        ] {
            assert_eq!(
                parse_ping_path(bad, None),
                Err(PingUrlError::NotFound),
                "{bad}"
            );
        }
        assert_eq!(PingUrlError::NotFound.status(), 404);
        assert_eq!(success_reply(false), (200, "OK"));
        assert_eq!(success_reply(true), (201, "Created"));
    }

    #[test]
    fn signals_say_what_they_mean() {
        assert!(Signal::Exit(1).is_failure());
        assert!(!Signal::Exit(0).is_failure());
        assert!(Signal::Fail.is_failure());
        assert!(!Signal::Log.ends_run());
        assert!(!Signal::Start.ends_run());
        assert!(Signal::Exit(0).ends_run());
    }

    #[test]
    fn bodies_are_cut_not_refused() {
        assert_eq!(cut_body(b"hello world", 5), "hello");
        assert_eq!(cut_body(b"hi", 100), "hi");
        // "é" is two bytes; cutting through it leaves a replacement character.
        assert_eq!(cut_body("é".as_bytes(), 1), "\u{fffd}");
    }

    proptest! {
        #[test]
        fn parser_never_panics(path in "\\PC{0,120}", query in proptest::option::of("\\PC{0,80}")) {
            let _ = parse_ping_path(&path, query.as_deref());
        }

        #[test]
        fn exit_statuses_round_trip(code in 0u32..100_000) {
            let parsed = parse_ping_path(&format!("{ID}/{code}"), None);
            if code <= 255 {
                prop_assert_eq!(parsed.map(|r| r.signal), Ok(Signal::Exit(code as u8)));
            } else {
                prop_assert_eq!(parsed, Err(PingUrlError::InvalidUrl));
            }
        }

        #[test]
        fn slug_urls_keep_their_parts(key in "[A-Za-z0-9_-]{1,30}", slug in "[a-z0-9_-]{1,40}") {
            prop_assume!(!is_canonical_uuid(&key));
            let req = parse_ping_path(&format!("{key}/{slug}/fail"), Some("create=1")).unwrap();
            prop_assert_eq!(req.target, PingTarget::Slug { ping_key: key, slug });
            prop_assert_eq!(req.signal, Signal::Fail);
            prop_assert!(req.create);
        }

        #[test]
        fn cut_bodies_stay_within_the_limit(body in proptest::collection::vec(any::<u8>(), 0..300), limit in 0usize..200) {
            let kept = cut_body(&body, limit);
            // Each kept byte becomes at most one 3-byte replacement character.
            prop_assert!(kept.len() <= limit * 3);
        }
    }
}

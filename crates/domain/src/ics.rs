//! Holidays from an iCalendar file (`.ics`, RFC 5545): a small reader for what public
//! holiday calendars (Google, Outlook, Apple, government feeds) put in them.
//!
//! # What is read
//!
//! - **Lines.** Folded lines are unfolded (RFC 5545 3.1: a line that starts with a space
//!   or a tab continues the one before), before the bytes are read as UTF-8, so a fold
//!   inside a multi-byte character is harmless. CRLF and LF line ends, a leading byte
//!   order mark and blank lines are accepted. Property and parameter names are read in
//!   any case; quoted parameter values may hold `;`, `:` and `,`.
//! - **Events.** Each `VEVENT` directly inside a `VCALENDAR` gives dates. Components
//!   inside an event (alarms) and other components (time zones, to-dos) are skipped.
//! - **Dates.** `DTSTART;VALUE=DATE:20261225` is that day. A `DATE-TIME` start
//!   (`20261225T090000`, with or without `Z` or `TZID`) gives the date as written.
//!   `DTEND` is exclusive: `DTSTART:20261224` + `DTEND:20261227` is the 24th, 25th
//!   and 26th. A date-time end includes its own day unless it is at midnight. Without
//!   an end, or with an end not after the start, the event is one day; `DURATION` in
//!   days or weeks (`P1D`, `P2W`) is read too. An event longer than 31 days is not a
//!   holiday (a school term, say) and is left out with a note.
//! - **Names.** `SUMMARY`, with its escapes (`\,` `\;` `\\`, and `\n` as a space), on one
//!   line, at most 200 characters.
//! - **Repeats.** `RRULE:FREQ=YEARLY` with `INTERVAL`, `COUNT`, `UNTIL`, `BYMONTH`,
//!   `BYMONTHDAY` (also negative, from the month's end) and `BYDAY` with an ordinal
//!   within `BYMONTH` (`BYMONTH=11;BYDAY=4TH` for the fourth Thursday, `-1MO` for the
//!   last Monday), is expanded over the import's years: the year of the import and the
//!   next two. `RDATE` adds dates, `EXDATE` removes them.
//! - **Which dates.** Only dates within the import's years are kept (older and later
//!   ones are counted in a note). A date given twice keeps the first event's name.
//!   `STATUS:CANCELLED` events are left out.
//!
//! # What is not read (a note says so, and the event's first date is still used)
//!
//! Repeats other than yearly (`FREQ=MONTHLY`, …), and yearly rules that use
//! `BYWEEKNO`, `BYYEARDAY`, `BYSETPOS` or `BYDAY` without `BYMONTH`. Times of day and
//! time zones are not needed for a holiday and are not read.
//!
//! # Errors
//!
//! A file that does not start with `BEGIN:VCALENDAR`, a line that is not `NAME:VALUE`,
//! an `END` that closes nothing or the wrong component, a component never closed, an
//! event without `DTSTART`, a date that is not a date, or an unreadable `RRULE` stops
//! the import with the line it is on; nothing is imported from a file with an error.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use jiff::civil::{Date, Weekday};
use jiff::ToSpan;

use crate::calendar::Holiday;

/// Longer events are not holidays (terms, seasons) and are left out.
pub const MAX_EVENT_DAYS: i64 = 31;
/// More dates than this in the import's years is not a holiday calendar.
pub const MAX_HOLIDAYS: usize = 1000;
/// A holiday's name is cut to this many characters.
pub const MAX_NAME_CHARS: usize = 200;
/// A rule with COUNT is counted from its start; older starts are not expanded.
const MAX_COUNTED_YEARS: i32 = 60;

/// Why a file could not be read, with the line (of the file, from 1) where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct IcsError {
    pub line: usize,
    pub message: String,
}

/// What a file gives: one holiday per date, by date, and notes on what was left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IcsHolidays {
    pub holidays: Vec<Holiday>,
    /// One sentence each, most starting with the line they are about.
    pub notes: Vec<String>,
}

/// The years an import keeps: the year of `today` and the next two.
pub fn import_years(today: Date) -> RangeInclusive<i16> {
    let year = today.year();
    year..=year.saturating_add(2).min(9999)
}

/// Reads the holidays of an iCalendar file (see the module rules) within `years`.
pub fn read_holidays(ics: &[u8], years: RangeInclusive<i16>) -> Result<IcsHolidays, IcsError> {
    let lines = unfold(ics);
    let Some(first) = lines.first() else {
        return Err(IcsError {
            line: 1,
            message: "the file is empty; an .ics file starts with BEGIN:VCALENDAR".into(),
        });
    };
    let mut reader = Reader {
        years,
        dates: BTreeMap::new(),
        notes: Vec::new(),
        outside: 0,
    };
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut event: Option<Event> = None;
    for line in &lines {
        let fail = |message: String| IcsError {
            line: line.number,
            message,
        };
        let parsed = parse_property(&line.text);
        if line.number == first.number
            && !matches!(&parsed, Ok(p) if p.name == "BEGIN" && p.value.trim().eq_ignore_ascii_case("VCALENDAR"))
        {
            return Err(fail(
                "this is not an iCalendar file: it should start with BEGIN:VCALENDAR".into(),
            ));
        }
        let p = parsed.map_err(fail)?;
        match p.name.as_str() {
            "BEGIN" => {
                let component = p.value.trim().to_ascii_uppercase();
                if component.is_empty() {
                    return Err(fail("BEGIN names no component".into()));
                }
                let in_calendar = stack.last().is_some_and(|(c, _)| c == "VCALENDAR");
                if component == "VEVENT" && in_calendar {
                    event = Some(Event::new(line.number));
                }
                stack.push((component, line.number));
            }
            "END" => {
                let component = p.value.trim().to_ascii_uppercase();
                match stack.pop() {
                    None => {
                        return Err(fail(format!(
                            "END:{component} has no BEGIN:{component} before it"
                        )))
                    }
                    Some((open, at)) if open != component => {
                        return Err(fail(format!(
                            "END:{component} does not close BEGIN:{open} (line {at})"
                        )))
                    }
                    Some(_) => {
                        let closes_event = component == "VEVENT"
                            && stack.last().is_some_and(|(c, _)| c == "VCALENDAR");
                        if closes_event {
                            if let Some(e) = event.take() {
                                reader.add(e)?;
                            }
                        }
                    }
                }
            }
            _ if stack.is_empty() => {
                return Err(fail(format!(
                    "{} is outside BEGIN:VCALENDAR … END:VCALENDAR",
                    p.name
                )))
            }
            _ => {
                if let (Some(e), Some((top, _))) = (event.as_mut(), stack.last()) {
                    if top == "VEVENT" {
                        e.read(p, line.number)?;
                    }
                }
            }
        }
    }
    if let Some((open, at)) = stack.last() {
        return Err(IcsError {
            line: *at,
            message: format!("BEGIN:{open} is never closed (no END:{open})"),
        });
    }
    Ok(reader.finish())
}

/// One logical line: its text and the file line it starts on.
struct Line {
    number: usize,
    text: String,
}

/// Unfolds lines (RFC 5545 3.1) on bytes, then reads each as UTF-8 (invalid bytes
/// become U+FFFD).
fn unfold(bytes: &[u8]) -> Vec<Line> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out: Vec<(usize, Vec<u8>)> = Vec::new();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match (raw.first(), out.last_mut()) {
            (Some(b' ' | b'\t'), Some((_, last))) => last.extend_from_slice(&raw[1..]),
            _ if raw.iter().all(u8::is_ascii_whitespace) => {}
            _ => out.push((i + 1, raw.to_vec())),
        }
    }
    out.into_iter()
        .map(|(number, text)| Line {
            number,
            text: String::from_utf8_lossy(&text).into_owned(),
        })
        .collect()
}

/// `NAME;PARAM=VALUE;…:VALUE`, with the names in upper case.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Property {
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

impl Property {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn parse_property(text: &str) -> Result<Property, String> {
    let no_colon = || "this line is not NAME:VALUE (it has no \":\")".to_string();
    let end = text.find([';', ':']).ok_or_else(no_colon)?;
    let name = text[..end].trim().to_ascii_uppercase();
    if !is_name(&name) {
        return Err(format!(
            "\"{}\" is not a property name",
            shorten(text[..end].trim())
        ));
    }
    let mut rest = &text[end..];
    let mut params = Vec::new();
    while let Some(r) = rest.strip_prefix(';') {
        let eq = r
            .find('=')
            .filter(|eq| !r[..*eq].contains(':'))
            .ok_or_else(|| format!("a parameter of {name} is not NAME=VALUE"))?;
        let param = r[..eq].trim().to_ascii_uppercase();
        if !is_name(&param) {
            return Err(format!(
                "\"{}\" is not a parameter name",
                shorten(r[..eq].trim())
            ));
        }
        let mut r = &r[eq + 1..];
        let mut value = String::new();
        loop {
            if let Some(quoted) = r.strip_prefix('"') {
                let close = quoted
                    .find('"')
                    .ok_or_else(|| format!("the quoted value of {param} is never closed"))?;
                value.push_str(&quoted[..close]);
                r = &quoted[close + 1..];
            } else {
                let stop = r.find([';', ':', ',']).unwrap_or(r.len());
                value.push_str(&r[..stop]);
                r = &r[stop..];
            }
            match r.strip_prefix(',') {
                Some(more) => {
                    value.push(',');
                    r = more;
                }
                None => break,
            }
        }
        params.push((param, value));
        rest = r;
    }
    let value = rest.strip_prefix(':').ok_or_else(no_colon)?;
    Ok(Property {
        name,
        params,
        value: value.to_string(),
    })
}

/// At most 40 characters of something quoted in a message.
fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// A date or date-time value: its date, and whether it starts at midnight (so that, as
/// an end, its own day is excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DateValue {
    date: Date,
    midnight: bool,
}

/// `20261225`, `20261225T090000` or `20261225T090000Z`.
fn date_value(raw: &str) -> Result<DateValue, String> {
    let v = raw.trim();
    let (d, time) = match v.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (v, None),
    };
    let not_a_date = || format!("\"{}\" is not a date like 20261225", shorten(v));
    if d.len() != 8 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a_date());
    }
    let number = |s: &str| s.parse::<i16>().map_err(|_| not_a_date());
    let (y, m, day) = (number(&d[..4])?, number(&d[4..6])?, number(&d[6..])?);
    let date = i8::try_from(m)
        .ok()
        .zip(i8::try_from(day).ok())
        .and_then(|(m, day)| Date::new(y, m, day).ok())
        .ok_or_else(|| {
            format!(
                "\"{}\" is not a date: there is no {y:04}-{m:02}-{day:02}",
                shorten(v)
            )
        })?;
    let midnight = match time {
        None => true,
        Some(t) => {
            let t = t.strip_suffix(['Z', 'z']).unwrap_or(t);
            if t.len() != 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "\"{}\" is not a date-time like 20261225T090000",
                    shorten(v)
                ));
            }
            t == "000000"
        }
    };
    Ok(DateValue { date, midnight })
}

/// `P1D`, `P2W`, `P1DT12H`: the whole days and weeks of a duration.
fn duration_days(raw: &str) -> Option<i64> {
    let v = raw.trim().trim_start_matches('+');
    let body = v.strip_prefix('P')?;
    let date_part = body.split('T').next().unwrap_or("");
    let mut days = 0i64;
    let mut number = String::new();
    for c in date_part.chars() {
        match c {
            '0'..='9' => number.push(c),
            'D' | 'W' => {
                let n: i64 = number.parse().ok()?;
                days = days.checked_add(if c == 'W' { n.checked_mul(7)? } else { n })?;
                number.clear();
            }
            _ => return None,
        }
    }
    number.is_empty().then_some(days)
}

/// SUMMARY text: escapes undone, on one line, without control characters.
fn unescape(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => out.push(' '),
                Some(other) => out.push(other),
                None => {}
            },
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    let one_line = out.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(MAX_NAME_CHARS).collect()
}

/// A `VEVENT` being read.
struct Event {
    line: usize,
    summary: Option<String>,
    start: Option<DateValue>,
    end: Option<DateValue>,
    duration: Option<(String, usize)>,
    rule: Option<(String, usize)>,
    rdates: Vec<Date>,
    exdates: Vec<Date>,
    cancelled: bool,
}

impl Event {
    fn new(line: usize) -> Self {
        Self {
            line,
            summary: None,
            start: None,
            end: None,
            duration: None,
            rule: None,
            rdates: Vec::new(),
            exdates: Vec::new(),
            cancelled: false,
        }
    }

    fn read(&mut self, p: Property, line: usize) -> Result<(), IcsError> {
        let fail = |message: String| IcsError {
            line,
            message: format!("{}: {message}", p.name),
        };
        match p.name.as_str() {
            "SUMMARY" if self.summary.is_none() => self.summary = Some(unescape(&p.value)),
            "DTSTART" if self.start.is_none() => {
                self.start = Some(date_value(&p.value).map_err(fail)?)
            }
            "DTEND" if self.end.is_none() => self.end = Some(date_value(&p.value).map_err(fail)?),
            "DURATION" => self.duration = Some((p.value.clone(), line)),
            "RRULE" if self.rule.is_none() => self.rule = Some((p.value.clone(), line)),
            "EXDATE" => {
                for v in p.value.split(',').filter(|v| !v.trim().is_empty()) {
                    self.exdates.push(date_value(v).map_err(fail)?.date);
                }
            }
            "RDATE" => {
                let period = p
                    .param("VALUE")
                    .is_some_and(|v| v.eq_ignore_ascii_case("PERIOD"));
                for v in p.value.split(',').filter(|v| !v.trim().is_empty()) {
                    // A period ("start/end" or "start/duration") is read as its start.
                    let v = if period {
                        v.split('/').next().unwrap_or(v)
                    } else {
                        v
                    };
                    self.rdates.push(date_value(v).map_err(fail)?.date);
                }
            }
            "STATUS" => self.cancelled = p.value.trim().eq_ignore_ascii_case("CANCELLED"),
            _ => {}
        }
        Ok(())
    }

    fn name(&self) -> String {
        match self.summary.as_deref() {
            Some(s) if !s.is_empty() => format!("\"{}\"", shorten(s)),
            _ => "an event without a name".to_string(),
        }
    }
}

/// A yearly rule (see the module rules).
#[derive(Debug, Default)]
struct Rule {
    freq: String,
    interval: i16,
    count: Option<u32>,
    until: Option<Date>,
    by_month: Vec<i8>,
    by_month_day: Vec<i8>,
    by_day: Vec<(i8, Weekday)>,
    unread: Vec<String>,
}

fn weekday(code: &str) -> Option<Weekday> {
    Some(match code {
        "MO" => Weekday::Monday,
        "TU" => Weekday::Tuesday,
        "WE" => Weekday::Wednesday,
        "TH" => Weekday::Thursday,
        "FR" => Weekday::Friday,
        "SA" => Weekday::Saturday,
        "SU" => Weekday::Sunday,
        _ => return None,
    })
}

fn parse_rule(raw: &str) -> Result<Rule, String> {
    let mut rule = Rule {
        interval: 1,
        ..Rule::default()
    };
    let list = |v: &str, what: &str, ok: &dyn Fn(i8) -> bool| -> Result<Vec<i8>, String> {
        v.split(',')
            .map(|n| {
                n.trim()
                    .parse::<i8>()
                    .ok()
                    .filter(|n| ok(*n))
                    .ok_or_else(|| format!("\"{}\" is not a {what}", shorten(n.trim())))
            })
            .collect()
    };
    for part in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("\"{}\" is not NAME=VALUE", shorten(part)))?;
        let value = value.trim();
        match key.trim().to_ascii_uppercase().as_str() {
            "FREQ" => rule.freq = value.to_ascii_uppercase(),
            "INTERVAL" => {
                rule.interval = value
                    .parse::<i16>()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| {
                        format!(
                            "INTERVAL \"{}\" is not a number from 1 to 1000",
                            shorten(value)
                        )
                    })?
            }
            "COUNT" => {
                rule.count = Some(value.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(
                    || format!("COUNT \"{}\" is not a positive number", shorten(value)),
                )?)
            }
            "UNTIL" => rule.until = Some(date_value(value)?.date),
            "BYMONTH" => {
                rule.by_month = list(value, "month (1 to 12)", &|n| (1..=12).contains(&n))?
            }
            "BYMONTHDAY" => {
                rule.by_month_day = list(value, "day of the month (1 to 31 or -31 to -1)", &|n| {
                    n != 0 && (-31..=31).contains(&n)
                })?
            }
            "BYDAY" => {
                for d in value.split(',').map(str::trim) {
                    let upper = d.to_ascii_uppercase();
                    let split = upper.len().saturating_sub(2);
                    let split = if upper.is_char_boundary(split) {
                        split
                    } else {
                        0
                    };
                    let (ordinal, code) = upper.split_at(split);
                    let bad = || format!("\"{}\" is not a day like MO, 4TH or -1MO", shorten(d));
                    let wd = weekday(code).ok_or_else(bad)?;
                    let ordinal = match ordinal.trim_start_matches('+') {
                        "" => 0,
                        n => n
                            .parse::<i8>()
                            .ok()
                            .filter(|n| *n != 0 && (-5..=5).contains(n))
                            .ok_or_else(bad)?,
                    };
                    rule.by_day.push((ordinal, wd));
                }
            }
            "WKST" => {}
            other => rule.unread.push(other.to_string()),
        }
    }
    if rule.freq.is_empty() {
        return Err("it has no FREQ".into());
    }
    Ok(rule)
}

impl Rule {
    /// Whether `date` (in one of the rule's months) is one of its days.
    fn matches(&self, date: Date, start: Date) -> bool {
        let days_in_month = date.days_in_month();
        let month_day = self.by_month_day.is_empty()
            || self.by_month_day.iter().any(|&md| {
                if md > 0 {
                    date.day() == md
                } else {
                    date.day() == days_in_month + md + 1
                }
            });
        let week_day = self.by_day.is_empty()
            || self.by_day.iter().any(|&(ordinal, wd)| {
                date.weekday() == wd
                    && (ordinal == 0 || date.nth_weekday_of_month(ordinal, wd).ok() == Some(date))
            });
        let plain =
            !(self.by_day.is_empty() && self.by_month_day.is_empty()) || date.day() == start.day();
        month_day && week_day && plain
    }

    /// The rule's dates from `start` up to the end of `years`, or a note on why it is
    /// not expanded.
    fn expand(&self, start: Date, years: &RangeInclusive<i16>) -> Result<Vec<Date>, String> {
        if self.freq != "YEARLY" {
            return Err(format!(
                "repeats {}; only yearly repeats are read",
                self.freq.to_lowercase()
            ));
        }
        if !self.unread.is_empty() {
            return Err(format!(
                "its repeat uses {}, which is not read",
                self.unread.join(", ")
            ));
        }
        if !self.by_day.is_empty() && self.by_month.is_empty() {
            return Err(
                "its repeat gives days (BYDAY) without months (BYMONTH), which is not read".into(),
            );
        }
        let (first, last) = (i32::from(*years.start()), i32::from(*years.end()));
        let step = i32::from(self.interval);
        let from_year = i32::from(start.year());
        let mut year = match self.count {
            // COUNT is counted from the start, so every year from it is gone through.
            Some(_) if last - from_year > MAX_COUNTED_YEARS => {
                return Err(format!(
                    "repeats a fixed number of times from {}, too long ago to count",
                    start.year()
                ))
            }
            Some(_) => from_year,
            // Otherwise jump to the first year of the rule within reach of `years`.
            None if from_year < first => from_year + (first - from_year + step - 1) / step * step,
            None => from_year,
        };
        let mut months: Vec<i8> = if self.by_month.is_empty() {
            vec![start.month()]
        } else {
            self.by_month.clone()
        };
        months.sort_unstable();
        months.dedup();
        let mut out = vec![start];
        let done = |out: &Vec<Date>| self.count.is_some_and(|c| out.len() >= c as usize);
        while year <= last && !done(&out) {
            let y =
                i16::try_from(year).map_err(|_| "its dates run past the year 9999".to_string())?;
            for &month in &months {
                let Ok(first_day) = Date::new(y, month, 1) else {
                    continue;
                };
                for day in 1..=first_day.days_in_month() {
                    let Ok(date) = Date::new(y, month, day) else {
                        continue;
                    };
                    if date <= start || !self.matches(date, start) {
                        continue;
                    }
                    if self.until.is_some_and(|u| date > u) || done(&out) {
                        return Ok(out);
                    }
                    out.push(date);
                }
            }
            year += step;
        }
        Ok(out)
    }
}

/// Gathers the dates of the events read so far.
struct Reader {
    years: RangeInclusive<i16>,
    dates: BTreeMap<Date, String>,
    notes: Vec<String>,
    /// Dates of single events outside the years.
    outside: usize,
}

impl Reader {
    fn add(&mut self, e: Event) -> Result<(), IcsError> {
        let name = e.name();
        if e.cancelled {
            self.notes
                .push(format!("line {}: {name} is cancelled; left out", e.line));
            return Ok(());
        }
        let Some(start) = e.start else {
            return Err(IcsError {
                line: e.line,
                message: "this event has no DTSTART, so it has no date".into(),
            });
        };
        let mut days = match (e.end, &e.duration) {
            (Some(end), _) => {
                let end = if end.midnight {
                    end.date
                } else {
                    end.date.tomorrow().unwrap_or(end.date)
                };
                start
                    .date
                    .until(end)
                    .map(|s| i64::from(s.get_days()))
                    .unwrap_or(1)
            }
            (None, Some((raw, line))) => duration_days(raw).unwrap_or_else(|| {
                self.notes.push(format!(
                    "line {line}: DURATION \"{}\" is not read; {name} is taken as one day",
                    shorten(raw.trim())
                ));
                1
            }),
            (None, None) => 1,
        };
        if !start.midnight && e.end.is_none() {
            days = 1;
        }
        let days = days.max(1);
        if days > MAX_EVENT_DAYS {
            self.notes.push(format!(
                "line {}: {name} lasts {days} days; events longer than {MAX_EVENT_DAYS} days are not holidays, so it is left out",
                e.line
            ));
            return Ok(());
        }
        let mut starts = match &e.rule {
            None => vec![start.date],
            Some((raw, line)) => {
                let rule = parse_rule(raw).map_err(|m| IcsError {
                    line: *line,
                    message: format!("RRULE: {m}"),
                })?;
                rule.expand(start.date, &self.years).unwrap_or_else(|why| {
                    self.notes.push(format!(
                        "line {line}: {name} {why}, so only its first date ({}) is used",
                        start.date
                    ));
                    vec![start.date]
                })
            }
        };
        starts.extend(e.rdates.iter().copied());
        starts.retain(|d| !e.exdates.contains(d));
        starts.sort_unstable();
        starts.dedup();
        let repeats = e.rule.is_some();
        for s in starts {
            for offset in 0..days {
                let Ok(date) = s.checked_add(offset.days()) else {
                    continue;
                };
                if !self.years.contains(&date.year()) {
                    if !repeats {
                        self.outside += 1;
                    }
                    continue;
                }
                self.dates
                    .entry(date)
                    .or_insert_with(|| e.summary.clone().unwrap_or_default());
                if self.dates.len() > MAX_HOLIDAYS {
                    return Err(IcsError {
                        line: e.line,
                        message: format!(
                            "the file gives more than {MAX_HOLIDAYS} dates in {}–{}; that is not a holiday calendar",
                            self.years.start(),
                            self.years.end()
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    fn finish(mut self) -> IcsHolidays {
        if self.outside > 0 {
            let (s, were) = if self.outside == 1 {
                ("", "was")
            } else {
                ("s", "were")
            };
            self.notes.push(format!(
                "{} date{s} before {} or after {} {were} left out",
                self.outside,
                self.years.start(),
                self.years.end()
            ));
        }
        IcsHolidays {
            holidays: self
                .dates
                .into_iter()
                .map(|(date, name)| Holiday { date, name })
                .collect(),
            notes: self.notes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    const YEARS: RangeInclusive<i16> = 2026..=2028;

    fn read(text: &str) -> Result<IcsHolidays, IcsError> {
        read_holidays(text.as_bytes(), YEARS)
    }

    fn calendar(events: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n{events}END:VCALENDAR\r\n")
    }

    fn dates(h: &IcsHolidays) -> Vec<String> {
        h.holidays
            .iter()
            .map(|h| format!("{} {}", h.date, h.name))
            .collect()
    }

    #[test]
    fn all_day_events_give_their_dates_and_names() {
        let h = read(&calendar(
            "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\nDTEND;VALUE=DATE:20261226\r\nSUMMARY:Christmas Day\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260101\r\nSUMMARY:New Year\\, again\r\nEND:VEVENT\r\n",
        ))
        .unwrap();
        assert_eq!(
            dates(&h),
            ["2026-01-01 New Year, again", "2026-12-25 Christmas Day"]
        );
        assert!(h.notes.is_empty(), "{:?}", h.notes);
    }

    #[test]
    fn folded_lines_are_unfolded_even_inside_a_character() {
        let bytes = b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:2026\n 0704\nSUMMARY:F\xC3\n \xAAte nationale\nEND:VEVENT\nEND:VCALENDAR\n";
        let h = read_holidays(bytes, YEARS).unwrap();
        assert_eq!(dates(&h), ["2026-07-04 Fête nationale"]);
    }

    #[test]
    fn dtend_is_exclusive_and_a_date_time_gives_its_date() {
        let h = read(&calendar(
            "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261227\r\nSUMMARY:Winter break\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nDTSTART;TZID=\"America/New_York\":20260525T090000\r\nDTEND;TZID=America/New_York:20260525T170000\r\nSUMMARY:Memorial Day\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nDTSTART:20260907T000000Z\r\nDTEND:20260908T000000Z\r\nSUMMARY:Labor Day\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261126\r\nDURATION:P2D\r\nSUMMARY:Thanksgiving\r\nEND:VEVENT\r\n",
        ))
        .unwrap();
        assert_eq!(
            dates(&h),
            [
                "2026-05-25 Memorial Day",
                "2026-09-07 Labor Day",
                "2026-11-26 Thanksgiving",
                "2026-11-27 Thanksgiving",
                "2026-12-24 Winter break",
                "2026-12-25 Winter break",
                "2026-12-26 Winter break"
            ]
        );
    }

    #[test]
    fn yearly_repeats_are_expanded_over_three_years() {
        let h = read(&calendar(
            "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20201225\r\nRRULE:FREQ=YEARLY\r\nSUMMARY:Christmas\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20241128\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH\r\nSUMMARY:Thanksgiving\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20250526\r\nRRULE:FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO;UNTIL=20271231\r\nSUMMARY:Memorial Day\r\nEND:VEVENT\r\n",
        ))
        .unwrap();
        let got = dates(&h);
        for want in [
            "2026-12-25 Christmas",
            "2027-12-25 Christmas",
            "2028-12-25 Christmas",
            "2026-11-26 Thanksgiving",
            "2027-11-25 Thanksgiving",
            "2028-11-23 Thanksgiving",
            "2026-05-25 Memorial Day",
            "2027-05-31 Memorial Day",
        ] {
            assert!(got.contains(&want.to_string()), "{want} in {got:?}");
        }
        assert_eq!(got.len(), 8, "{got:?}");
        assert!(
            h.notes.is_empty(),
            "past occurrences need no note: {:?}",
            h.notes
        );
    }

    #[test]
    fn count_interval_exdate_and_rdate_are_honoured() {
        let h = read(&calendar(
            "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20250101\r\nRRULE:FREQ=YEARLY;COUNT=3\r\nEXDATE;VALUE=DATE:20260101\r\nRDATE;VALUE=DATE:20260102\r\nSUMMARY:New Year\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20240301\r\nRRULE:FREQ=YEARLY;INTERVAL=2;BYMONTHDAY=-1;BYMONTH=2\r\nSUMMARY:Leap check\r\nEND:VEVENT\r\n",
        ))
        .unwrap();
        assert_eq!(
            dates(&h),
            [
                "2026-01-02 New Year",
                "2026-02-28 Leap check",
                "2027-01-01 New Year",
                "2028-02-29 Leap check"
            ]
        );
    }

    #[test]
    fn unsupported_repeats_keep_the_first_date_and_say_so() {
        let h = read(&calendar(
            "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260301\r\nRRULE:FREQ=MONTHLY\r\nSUMMARY:Patch day\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260601\r\nRRULE:FREQ=YEARLY;BYWEEKNO=20\r\nSUMMARY:Odd\r\nEND:VEVENT\r\n",
        ))
        .unwrap();
        assert_eq!(dates(&h), ["2026-03-01 Patch day", "2026-06-01 Odd"]);
        assert!(h.notes[0].contains("repeats monthly"), "{:?}", h.notes);
        assert!(h.notes[1].contains("BYWEEKNO"), "{:?}", h.notes);
    }

    #[test]
    fn dates_outside_the_years_long_and_cancelled_events_are_left_out_with_notes() {
        let h = read(&calendar(
            "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20191225\r\nSUMMARY:Old\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260601\r\nDTEND;VALUE=DATE:20260901\r\nSUMMARY:Summer term\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260704\r\nSTATUS:CANCELLED\r\nSUMMARY:Picnic\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260705\r\nSUMMARY:Kept\r\nBEGIN:VALARM\r\nTRIGGER:-PT15M\r\nDTSTART:20000101\r\nEND:VALARM\r\nEND:VEVENT\r\n",
        ))
        .unwrap();
        assert_eq!(dates(&h), ["2026-07-05 Kept"]);
        let notes = h.notes.join("\n");
        assert!(notes.contains("\"Summer term\" lasts 92 days"), "{notes}");
        assert!(notes.contains("\"Picnic\" is cancelled"), "{notes}");
        assert!(
            notes.contains("1 date before 2026 or after 2028 was left out"),
            "{notes}"
        );
    }

    #[test]
    fn a_date_named_twice_keeps_the_first_name() {
        let h = read(&calendar(
            "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\nSUMMARY:Christmas Day\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\nSUMMARY:Office closed\r\nEND:VEVENT\r\n",
        ))
        .unwrap();
        assert_eq!(dates(&h), ["2026-12-25 Christmas Day"]);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("", 1, "empty"),
            ("hello\r\n", 1, "not an iCalendar file"),
            ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261325\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", 3, "no 2026-13-25"),
            ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:No date\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", 2, "no DTSTART"),
            ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261225\r\nEND:VCALENDAR\r\n", 4, "does not close BEGIN:VEVENT (line 2)"),
            ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261225\r\nEND:VEVENT\r\n", 1, "never closed"),
            ("BEGIN:VCALENDAR\r\n\r\nthis is not a property\r\nEND:VCALENDAR\r\n", 3, "not NAME:VALUE"),
            ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261225\r\nRRULE:COUNT=x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", 4, "RRULE: COUNT"),
            ("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nEND:VCALENDAR\r\n", 3, "has no BEGIN"),
        ];
        for (text, line, words) in cases {
            let e = read(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.to_string().contains(words), "{text:?}: {e}");
        }
    }

    #[test]
    fn the_import_years_are_this_year_and_the_next_two() {
        assert_eq!(import_years(date(2026, 11, 20)), 2026..=2028);
    }

    fn write_ics(holidays: &[(Date, String)], fold_at: usize) -> String {
        let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
        for (d, name) in holidays {
            let summary = name
                .replace('\\', "\\\\")
                .replace(';', "\\;")
                .replace(',', "\\,");
            for line in [
                "BEGIN:VEVENT".to_string(),
                format!("DTSTART;VALUE=DATE:{}", d.strftime("%Y%m%d")),
                format!("SUMMARY:{summary}"),
                "END:VEVENT".to_string(),
            ] {
                // Fold long lines every `fold_at` characters, as writers do.
                let chars: Vec<char> = line.chars().collect();
                for (i, chunk) in chars.chunks(fold_at).enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.extend(chunk);
                    out.push_str("\r\n");
                }
            }
        }
        out.push_str("END:VCALENDAR\r\n");
        out
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = read_holidays(&bytes, YEARS);
        }

        #[test]
        fn arbitrary_calendars_never_panic(
            lines in prop::collection::vec(prop_oneof![
                "(BEGIN|END):(VEVENT|VALARM)",
                "DTSTART(;VALUE=DATE)?:[0-9]{8}(T[0-9]{6}Z?)?",
                "DTEND(;VALUE=DATE)?:[0-9]{8}",
                "RRULE:FREQ=(YEARLY|MONTHLY);(BYMONTH=[0-9]{1,2};)?(BYDAY=[+-]?[0-9]?(MO|TH|SU);)?(BYMONTHDAY=-?[0-9]{1,2};)?(COUNT=[0-9]{1,3};)?(INTERVAL=[0-9]{1,2})?",
                "SUMMARY:[ -~]{0,30}",
                "EXDATE:[0-9]{8}",
                "DURATION:P[0-9]{1,3}[DW]",
                "[ -~]{0,20}",
            ], 0..30)
        ) {
            let text = format!("BEGIN:VCALENDAR\n{}\nEND:VCALENDAR\n", lines.join("\n"));
            if let Ok(read) = read_holidays(text.as_bytes(), YEARS) {
                prop_assert!(read.holidays.len() <= MAX_HOLIDAYS);
                prop_assert!(read.holidays.iter().all(|h| YEARS.contains(&h.date.year())));
                prop_assert!(read.holidays.windows(2).all(|w| w[0].date < w[1].date));
            }
        }

        #[test]
        fn written_holidays_read_back_whatever_the_folding(
            holidays in prop::collection::btree_map(
                (0i64..1000).prop_map(|d| date(2026, 1, 1).checked_add(d.days()).unwrap()),
                "[A-Za-z0-9 ,;\\\\éü'-]{1,40}",
                0..20,
            ),
            fold_at in 5usize..80,
        ) {
            let holidays: Vec<(Date, String)> = holidays.into_iter().collect();
            let text = write_ics(&holidays, fold_at);
            let read = read_holidays(text.as_bytes(), YEARS).unwrap();
            let want: Vec<(Date, String)> = holidays
                .iter()
                .map(|(d, n)| (*d, n.split_whitespace().collect::<Vec<_>>().join(" ")))
                .collect();
            let got: Vec<(Date, String)> = read.holidays.into_iter().map(|h| (h.date, h.name)).collect();
            prop_assert_eq!(got, want);
        }
    }
}

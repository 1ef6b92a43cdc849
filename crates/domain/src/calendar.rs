//! A client's business calendar: weekly hours (several ranges a day) and holidays.
//!
//! Both are kept as short text people can read and edit in one textarea:
//!
//! ```text
//! mon 09:00-12:00 13:00-17:00
//! tue-fri 09:00-17:00
//! ```
//! and holidays one per line: `2026-12-25 Christmas Day`.

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Minutes after midnight, `start < end`, `end <= 24:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourRange {
    pub start: u16,
    pub end: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyHours {
    /// Monday first.
    pub days: [Vec<HourRange>; 7],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub date: Date,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessCalendar {
    pub hours: WeeklyHours,
    pub holidays: Vec<Holiday>,
}

impl Default for WeeklyHours {
    /// Monday to Friday, 09:00 to 17:00.
    fn default() -> Self {
        let nine_to_five = vec![HourRange {
            start: 9 * 60,
            end: 17 * 60,
        }];
        Self {
            days: [
                nine_to_five.clone(),
                nine_to_five.clone(),
                nine_to_five.clone(),
                nine_to_five.clone(),
                nine_to_five,
                vec![],
                vec![],
            ],
        }
    }
}

fn day_index(name: &str) -> Option<usize> {
    let n = name.trim().to_lowercase();
    DAY_NAMES
        .iter()
        .position(|d| n.starts_with(d) && n.len() >= 3)
}

fn parse_clock(raw: &str) -> Option<u16> {
    let (h, m) = raw.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

fn clock_text(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl WeeklyHours {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut days: [Vec<HourRange>; 7] = Default::default();
        let mut seen = [false; 7];
        for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let day_part = parts.next().unwrap_or_default();
            let (first, last) = match day_part.split_once('-') {
                Some((a, b)) => (day_index(a), day_index(b)),
                None => (day_index(day_part), day_index(day_part)),
            };
            let (Some(first), Some(last)) = (first, last) else {
                return Err(format!(
                    "line {n}: \"{day_part}\" is not a day (mon, tue, … or a span like mon-fri)"
                ));
            };
            if last < first {
                return Err(format!("line {n}: the day span {day_part} runs backwards"));
            }
            let mut ranges = Vec::new();
            for range in parts {
                if range.eq_ignore_ascii_case("closed") {
                    continue;
                }
                let parsed = range
                    .split_once('-')
                    .and_then(|(a, b)| Some((parse_clock(a)?, parse_clock(b)?)));
                match parsed {
                    Some((start, end)) if start < end => ranges.push(HourRange { start, end }),
                    Some(_) => return Err(format!("line {n}: {range} ends before it starts")),
                    None => {
                        return Err(format!(
                            "line {n}: \"{range}\" is not a time range like 09:00-17:00"
                        ))
                    }
                }
            }
            ranges.sort_by_key(|r| r.start);
            if ranges.windows(2).any(|w| w[1].start < w[0].end) {
                return Err(format!("line {n}: the time ranges overlap"));
            }
            for day in first..=last {
                if seen[day] {
                    return Err(format!("line {n}: {} is given twice", DAY_NAMES[day]));
                }
                seen[day] = true;
                days[day] = ranges.clone();
            }
        }
        Ok(Self { days })
    }

    /// One line per day with hours, in the form `parse` reads.
    pub fn to_text(&self) -> String {
        self.days
            .iter()
            .enumerate()
            .filter(|(_, ranges)| !ranges.is_empty())
            .map(|(i, ranges)| {
                let spans: Vec<String> = ranges
                    .iter()
                    .map(|r| format!("{}-{}", clock_text(r.start), clock_text(r.end)))
                    .collect();
                format!("{} {}", DAY_NAMES[i], spans.join(" "))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn for_weekday(&self, day: Weekday) -> &[HourRange] {
        &self.days[day.to_monday_zero_offset() as usize]
    }

    pub fn minutes_per_week(&self) -> u32 {
        self.days
            .iter()
            .flatten()
            .map(|r| u32::from(r.end - r.start))
            .sum()
    }

    /// Rows for display: ("Mon", "09:00–12:00, 13:00–17:00") or ("Sat", "closed").
    pub fn rows(&self) -> Vec<(String, String)> {
        self.days
            .iter()
            .enumerate()
            .map(|(i, ranges)| {
                let name = DAY_NAMES[i];
                let mut title = name.to_string();
                title[..1].make_ascii_uppercase();
                let text = if ranges.is_empty() {
                    "closed".to_string()
                } else {
                    ranges
                        .iter()
                        .map(|r| format!("{}–{}", clock_text(r.start), clock_text(r.end)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                (title, text)
            })
            .collect()
    }
}

pub fn parse_holidays(text: &str) -> Result<Vec<Holiday>, String> {
    let mut out: Vec<Holiday> = Vec::new();
    for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (date, name) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let date: Date = date
            .parse()
            .map_err(|_| format!("line {n}: \"{date}\" is not a date like 2026-12-25"))?;
        if out.iter().any(|h| h.date == date) {
            return Err(format!("line {n}: {date} is listed twice"));
        }
        out.push(Holiday {
            date,
            name: name.trim().to_string(),
        });
    }
    out.sort_by_key(|h| h.date);
    Ok(out)
}

pub fn holidays_text(holidays: &[Holiday]) -> String {
    holidays
        .iter()
        .map(|h| format!("{} {}", h.date, h.name).trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Holidays added to a list: the list after, and which dates were new.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HolidayMerge {
    /// Every holiday after the merge, by date.
    pub merged: Vec<Holiday>,
    /// Dates that were not listed yet, as they are added.
    pub added: Vec<Holiday>,
    /// Dates offered that were already listed: the list keeps its own name for them.
    pub already_listed: Vec<Holiday>,
}

/// Adds `offered` to `existing`, one holiday per date: a date already listed keeps its
/// name, and a date offered twice keeps the first name offered.
pub fn merge_holidays(existing: &[Holiday], offered: &[Holiday]) -> HolidayMerge {
    let mut merged: Vec<Holiday> = Vec::with_capacity(existing.len() + offered.len());
    for h in existing {
        if !merged.iter().any(|m| m.date == h.date) {
            merged.push(h.clone());
        }
    }
    let mut added: Vec<Holiday> = Vec::new();
    let mut already_listed = Vec::new();
    for h in offered {
        if merged.iter().any(|m| m.date == h.date) {
            if existing.iter().any(|e| e.date == h.date) && !already_listed.contains(h) {
                already_listed.push(h.clone());
            }
            continue;
        }
        merged.push(h.clone());
        added.push(h.clone());
    }
    merged.sort_by_key(|h| h.date);
    added.sort_by_key(|h| h.date);
    already_listed.sort_by_key(|h| h.date);
    HolidayMerge {
        merged,
        added,
        already_listed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn weekly_hours_allow_several_ranges_a_day_and_day_spans() {
        let h = WeeklyHours::parse("mon 09:00-12:00 13:00-17:00\ntue-fri 08:30-16:30\n").unwrap();
        assert_eq!(h.days[0].len(), 2);
        assert_eq!(
            h.days[4],
            vec![HourRange {
                start: 510,
                end: 990
            }]
        );
        assert!(h.days[5].is_empty());
        assert_eq!(WeeklyHours::parse(&h.to_text()).unwrap(), h);
    }

    #[test]
    fn bad_weekly_hours_say_which_line_is_wrong() {
        assert!(WeeklyHours::parse("mon 09:00-08:00")
            .unwrap_err()
            .contains("line 1"));
        assert!(WeeklyHours::parse("mon 9-5")
            .unwrap_err()
            .contains("not a time range"));
        assert!(WeeklyHours::parse("x 09:00-10:00")
            .unwrap_err()
            .contains("not a day"));
        assert!(WeeklyHours::parse("mon 09:00-12:00 11:00-13:00")
            .unwrap_err()
            .contains("overlap"));
        assert!(WeeklyHours::parse("mon-fri 09:00-17:00\nfri 10:00-11:00")
            .unwrap_err()
            .contains("twice"));
    }

    #[test]
    fn the_default_week_is_forty_hours() {
        assert_eq!(WeeklyHours::default().minutes_per_week(), 40 * 60);
    }

    #[test]
    fn holidays_are_dated_named_and_sorted() {
        let h = parse_holidays("2026-12-25 Christmas Day\n2026-01-01 New Year").unwrap();
        assert_eq!(h[0].name, "New Year");
        assert!(parse_holidays("25/12/2026").is_err());
        assert!(parse_holidays("2026-12-25\n2026-12-25").is_err());
    }

    fn holiday(d: Date, name: &str) -> Holiday {
        Holiday {
            date: d,
            name: name.into(),
        }
    }

    #[test]
    fn merging_keeps_existing_names_and_says_what_is_new() {
        use jiff::civil::date;
        let existing = [holiday(date(2026, 12, 25), "Christmas (office)")];
        let offered = [
            holiday(date(2026, 12, 26), "Boxing Day"),
            holiday(date(2026, 12, 25), "Christmas Day"),
            holiday(date(2026, 12, 26), "St Stephen's Day"),
        ];
        let m = merge_holidays(&existing, &offered);
        assert_eq!(
            holidays_text(&m.merged),
            "2026-12-25 Christmas (office)\n2026-12-26 Boxing Day"
        );
        assert_eq!(m.added, [holiday(date(2026, 12, 26), "Boxing Day")]);
        assert_eq!(
            m.already_listed,
            [holiday(date(2026, 12, 25), "Christmas Day")]
        );
    }

    fn arb_holidays() -> impl Strategy<Value = Vec<Holiday>> {
        prop::collection::vec(
            (0i64..60, "[a-z]{0,6}").prop_map(|(d, name)| {
                use jiff::ToSpan;
                holiday(
                    jiff::civil::date(2026, 1, 1).checked_add(d.days()).unwrap(),
                    &name,
                )
            }),
            0..25,
        )
    }

    proptest! {
        #[test]
        fn a_merge_is_the_union_of_dates_with_existing_names_kept(
            existing in arb_holidays(), offered in arb_holidays(),
        ) {
            // A stored list never names a date twice.
            let existing = merge_holidays(&[], &existing).merged;
            let m = merge_holidays(&existing, &offered);
            prop_assert!(m.merged.windows(2).all(|w| w[0].date < w[1].date));
            for h in existing.iter() {
                prop_assert!(m.merged.contains(h), "existing {h:?} kept as it was");
            }
            for h in &offered {
                prop_assert!(m.merged.iter().any(|x| x.date == h.date));
            }
            prop_assert_eq!(m.merged.len(), existing.len() + m.added.len());
            for h in &m.added {
                prop_assert!(!existing.iter().any(|e| e.date == h.date));
                prop_assert!(offered.contains(h));
            }
            prop_assert!(m.already_listed.iter().all(|h| existing.iter().any(|e| e.date == h.date)));
            let text = holidays_text(&m.merged);
            prop_assert_eq!(parse_holidays(&text).map(|h| h.len()), Ok(m.merged.len()));
        }
    }
}

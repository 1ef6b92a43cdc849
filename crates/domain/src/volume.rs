//! Event volume against its baseline: is the last hour's count normal for that hour of
//! the week?
//!
//! The baseline of an hour is the median of the counts of the same hour 1, 2, 3 and 4
//! weeks earlier ([`BASELINE_WEEKS`]; hours are UTC, so a daylight-saving change shifts
//! a local peak by one hour twice a year). A week counts only from the hour of the
//! stream's first event on (before it, no events were being sent); an hour with no
//! stored count had zero events. An hour needs at least [`MIN_WEEKS`] weeks of history,
//! else the verdict is [`VolumeVerdict::NotEnoughHistory`] and nothing is flagged.
//!
//! On the last completed hour:
//! - **spike** (a loop): more than [`SPIKE_FACTOR`] × the baseline and at least
//!   [`SPIKE_FLOOR`] events;
//! - **drop** (leads stopped landing): a baseline of at least [`MIN_EXPECTED`] events
//!   and at most [`DROP_PERCENT`] % of it;
//! - **silence**: no event at all in the last [`SILENT_HOURS`] completed hours while
//!   their baselines add up to at least [`MIN_EXPECTED_SILENT`] (catches streams too
//!   thin for the one-hour rule).

use serde::Serialize;

pub const HOUR_MS: i64 = 3_600_000;
pub const WEEK_MS: i64 = 7 * 24 * HOUR_MS;
pub const BASELINE_WEEKS: i64 = 4;
pub const MIN_WEEKS: usize = 2;
pub const MIN_EXPECTED: f64 = 5.0;
pub const DROP_PERCENT: f64 = 20.0;
pub const SILENT_HOURS: i64 = 3;
pub const MIN_EXPECTED_SILENT: f64 = 3.0;
pub const SPIKE_FACTOR: f64 = 5.0;
pub const SPIKE_FLOOR: i64 = 50;

/// The start of the UTC hour holding `ms`.
pub fn hour_of(ms: i64) -> i64 {
    ms - ms.rem_euclid(HOUR_MS)
}

/// The last hour that has ended at `now`.
pub fn last_completed_hour(now: i64) -> i64 {
    hour_of(now) - HOUR_MS
}

/// The hours a verdict on `last_hour` reads: the last [`SILENT_HOURS`] hours and the
/// same hours in each of the [`BASELINE_WEEKS`] weeks before.
pub fn hours_read(last_hour: i64) -> Vec<i64> {
    let mut hours = Vec::new();
    for back in 0..SILENT_HOURS {
        let hour = last_hour - back * HOUR_MS;
        for week in 0..=BASELINE_WEEKS {
            hours.push(hour - week * WEEK_MS);
        }
    }
    hours
}

/// The usual count of `hour`: the median of the same hour in the weeks before, with
/// the number of weeks it rests on; `None` with fewer than [`MIN_WEEKS`].
pub fn baseline(hour: i64, history_from: i64, count: &impl Fn(i64) -> i64) -> Option<(f64, usize)> {
    let mut samples: Vec<i64> = (1..=BASELINE_WEEKS)
        .map(|w| hour - w * WEEK_MS)
        .filter(|h| *h >= hour_of(history_from))
        .map(count)
        .collect();
    if samples.len() < MIN_WEEKS {
        return None;
    }
    samples.sort_unstable();
    let mid = samples.len() / 2;
    let median = if samples.len().is_multiple_of(2) {
        (samples[mid - 1] + samples[mid]) as f64 / 2.0
    } else {
        samples[mid] as f64
    };
    Some((median, samples.len()))
}

/// What the volume of the last completed hour says.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum VolumeVerdict {
    /// Fewer than [`MIN_WEEKS`] weeks of history for this hour: nothing is judged.
    NotEnoughHistory { hour: i64, weeks: usize },
    Normal {
        hour: i64,
        expected: f64,
        actual: i64,
    },
    /// Far fewer events than usual over `hours` hours ending with `hour`.
    Drop {
        hour: i64,
        hours: i64,
        expected: f64,
        actual: i64,
    },
    Spike {
        hour: i64,
        expected: f64,
        actual: i64,
    },
}

impl VolumeVerdict {
    pub fn is_anomaly(&self) -> bool {
        matches!(
            self,
            VolumeVerdict::Drop { .. } | VolumeVerdict::Spike { .. }
        )
    }
}

/// Judges the last completed hour `last_hour` of a stream whose first event came at
/// `history_from`; `count` gives the stored count of an hour (zero when none).
pub fn verdict(last_hour: i64, history_from: i64, count: impl Fn(i64) -> i64) -> VolumeVerdict {
    let actual = count(last_hour);
    let Some((expected, _)) = baseline(last_hour, history_from, &count) else {
        let weeks = (1..=BASELINE_WEEKS)
            .filter(|w| last_hour - w * WEEK_MS >= hour_of(history_from))
            .count();
        return VolumeVerdict::NotEnoughHistory {
            hour: last_hour,
            weeks,
        };
    };
    if actual >= SPIKE_FLOOR && actual as f64 > SPIKE_FACTOR * expected {
        return VolumeVerdict::Spike {
            hour: last_hour,
            expected,
            actual,
        };
    }
    if expected >= MIN_EXPECTED && (actual as f64) * 100.0 <= expected * DROP_PERCENT {
        return VolumeVerdict::Drop {
            hour: last_hour,
            hours: 1,
            expected,
            actual,
        };
    }
    let window: Option<Vec<(f64, i64)>> = (0..SILENT_HOURS)
        .map(|back| {
            let hour = last_hour - back * HOUR_MS;
            baseline(hour, history_from, &count).map(|(e, _)| (e, count(hour)))
        })
        .collect();
    if let Some(window) = window {
        let expected_sum: f64 = window.iter().map(|(e, _)| e).sum();
        let actual_sum: i64 = window.iter().map(|(_, a)| a).sum();
        if actual_sum == 0 && expected_sum >= MIN_EXPECTED_SILENT {
            return VolumeVerdict::Drop {
                hour: last_hour,
                hours: SILENT_HOURS,
                expected: expected_sum,
                actual: 0,
            };
        }
    }
    VolumeVerdict::Normal {
        hour: last_hour,
        expected,
        actual,
    }
}

fn utc_hour(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:00 UTC").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

fn events(n: f64) -> String {
    let rounded = (n * 10.0).round() / 10.0;
    if rounded == 1.0 {
        "1 event".into()
    } else {
        format!("{rounded} events")
    }
}

/// The body of a volume alert (what was expected and what happened), `None` for a
/// verdict that is not an anomaly.
pub fn volume_alert(v: &VolumeVerdict) -> Option<String> {
    match v {
        VolumeVerdict::Drop {
            hour,
            hours,
            expected,
            actual,
        } => {
            let from = hour - (hours - 1) * HOUR_MS;
            let span = if *hours == 1 {
                format!("in the hour from {}", utc_hour(from))
            } else {
                format!("in the {hours} hours from {}", utc_hour(from))
            };
            Some(format!(
                "Expected: about {} {span} (the median of the same hours in the last {BASELINE_WEEKS} weeks).\n\
                 What happened: {} arrived. Volume dropped far below normal: leads or orders may have stopped landing.",
                events(*expected),
                events(*actual as f64)
            ))
        }
        VolumeVerdict::Spike {
            hour,
            expected,
            actual,
        } => Some(format!(
            "Expected: about {} in the hour from {} (the median of the same hour in the last {BASELINE_WEEKS} weeks).\n\
             What happened: {} arrived, more than {SPIKE_FACTOR}× the usual: a loop may be resending events.",
            events(*expected),
            utc_hour(*hour),
            events(*actual as f64)
        )),
        _ => None,
    }
}

/// The note added when volume is back to normal.
pub fn volume_recovery_note(v: &VolumeVerdict) -> String {
    match v {
        VolumeVerdict::Normal {
            hour,
            expected,
            actual,
        } => format!(
            "Recovered: volume is back to normal ({} in the hour from {}, about {} expected).",
            events(*actual as f64),
            utc_hour(*hour),
            events(*expected)
        ),
        _ => "Recovered: volume is no longer anomalous.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Monday 2027-01-04 14:00 UTC.
    const NOW_HOUR: i64 = 1_799_071_200_000;

    fn history(per_hour: i64, weeks: i64) -> HashMap<i64, i64> {
        let mut counts = HashMap::new();
        for w in 1..=weeks {
            for back in 0..SILENT_HOURS {
                counts.insert(NOW_HOUR - w * WEEK_MS - back * HOUR_MS, per_hour);
            }
        }
        counts
    }

    fn judge(counts: &HashMap<i64, i64>, from: i64) -> VolumeVerdict {
        verdict(NOW_HOUR, from, |h| counts.get(&h).copied().unwrap_or(0))
    }

    const FOUR_WEEKS_AGO: i64 = NOW_HOUR - 5 * WEEK_MS;

    #[test]
    fn a_normal_hour_is_normal() {
        let mut counts = history(12, 4);
        counts.insert(NOW_HOUR, 10);
        assert_eq!(
            judge(&counts, FOUR_WEEKS_AGO),
            VolumeVerdict::Normal {
                hour: NOW_HOUR,
                expected: 12.0,
                actual: 10
            }
        );
    }

    #[test]
    fn leads_that_stop_landing_are_a_drop() {
        let mut counts = history(12, 4);
        counts.insert(NOW_HOUR, 2);
        let v = judge(&counts, FOUR_WEEKS_AGO);
        assert_eq!(
            v,
            VolumeVerdict::Drop {
                hour: NOW_HOUR,
                hours: 1,
                expected: 12.0,
                actual: 2
            }
        );
        let text = volume_alert(&v).unwrap();
        assert!(
            text.starts_with("Expected: about 12 events in the hour from 2027-01-04 14:00 UTC"),
            "{text}"
        );
        assert!(text.contains("What happened: 2 events arrived"), "{text}");
        // 3 of 12 is 25 %: not a drop.
        counts.insert(NOW_HOUR, 3);
        assert!(!judge(&counts, FOUR_WEEKS_AGO).is_anomaly());
    }

    #[test]
    fn a_thin_stream_is_judged_on_three_silent_hours() {
        let counts = history(1, 4);
        let v = judge(&counts, FOUR_WEEKS_AGO);
        assert!(
            matches!(
                v,
                VolumeVerdict::Drop {
                    hours: 3,
                    actual: 0,
                    ..
                }
            ),
            "{v:?}"
        );
        assert!(volume_alert(&v)
            .unwrap()
            .contains("in the 3 hours from 2027-01-04 12:00 UTC"));
        // One event in the window is not silence.
        let mut counts = history(1, 4);
        counts.insert(NOW_HOUR - HOUR_MS, 1);
        assert!(!judge(&counts, FOUR_WEEKS_AGO).is_anomaly());
    }

    #[test]
    fn a_loop_is_a_spike_above_a_floor() {
        let mut counts = history(12, 4);
        counts.insert(NOW_HOUR, 400);
        let v = judge(&counts, FOUR_WEEKS_AGO);
        assert!(
            matches!(v, VolumeVerdict::Spike { actual: 400, .. }),
            "{v:?}"
        );
        assert!(volume_alert(&v)
            .unwrap()
            .contains("a loop may be resending"));
        // Five times a small number is still few events.
        let mut counts = history(2, 4);
        counts.insert(NOW_HOUR, 40);
        assert!(!judge(&counts, FOUR_WEEKS_AGO).is_anomaly());
    }

    #[test]
    fn little_history_or_a_small_baseline_raises_nothing() {
        let counts = HashMap::new();
        // One week of history only.
        let v = judge(&counts, NOW_HOUR - WEEK_MS - HOUR_MS);
        assert_eq!(
            v,
            VolumeVerdict::NotEnoughHistory {
                hour: NOW_HOUR,
                weeks: 1
            }
        );
        // Two weeks is enough.
        let two = history(12, 2);
        assert!(judge(&two, NOW_HOUR - 2 * WEEK_MS - 3 * HOUR_MS).is_anomaly());
        // A baseline of 2 per hour with one hour at zero is no drop.
        let mut small = history(2, 4);
        small.insert(NOW_HOUR - HOUR_MS, 2);
        assert!(!judge(&small, FOUR_WEEKS_AGO).is_anomaly());
    }

    #[test]
    fn the_baseline_is_a_median_so_one_odd_week_does_not_move_it() {
        let mut counts = history(10, 4);
        counts.insert(NOW_HOUR - WEEK_MS, 500);
        let b = baseline(NOW_HOUR, FOUR_WEEKS_AGO, &|h| {
            counts.get(&h).copied().unwrap_or(0)
        });
        assert_eq!(b, Some((10.0, 4)));
    }

    #[test]
    fn hours_are_read_back_four_weeks() {
        let hours = hours_read(NOW_HOUR);
        assert_eq!(hours.len(), 15);
        assert!(hours.contains(&(NOW_HOUR - 4 * WEEK_MS - 2 * HOUR_MS)));
        assert_eq!(last_completed_hour(NOW_HOUR + 5), NOW_HOUR - HOUR_MS);
    }

    proptest! {
        #[test]
        fn verdicts_never_panic_and_need_history(
            counts in prop::collection::vec(0i64..1_000, 15), from_weeks in 0i64..6
        ) {
            let hours = hours_read(NOW_HOUR);
            let map: HashMap<i64, i64> = hours.into_iter().zip(counts).collect();
            let from = NOW_HOUR - from_weeks * WEEK_MS;
            let v = judge(&map, from);
            if from_weeks < 2 {
                prop_assert!(!v.is_anomaly());
            }
            prop_assert_eq!(volume_alert(&v).is_some(), v.is_anomaly());
        }
    }
}

//! Uptime: the share of a window a check was not down, from its state changes.
//!
//! Time counts from the later of the window's start and the check's creation. Time while
//! `new` (never pinged) or `paused` counts neither way: nothing was expected then. `up`
//! and `late` (inside its grace time) count as up; `down` counts as down. A window with
//! nothing counted has no uptime (shown as "—"), rather than a made-up 100 %.

use serde::Serialize;

use crate::check::CheckState;

/// One state change: from `at` (UTC ms) on, the check was `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateSince {
    pub at: i64,
    pub state: CheckState,
}

/// Time up and down within a window, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Uptime {
    pub up_ms: i64,
    pub down_ms: i64,
}

impl Uptime {
    /// Up time as a share of counted time, 0 to 100; none when nothing counted.
    pub fn percent(&self) -> Option<f64> {
        let counted = self.up_ms + self.down_ms;
        (counted > 0).then(|| self.up_ms as f64 * 100.0 / counted as f64)
    }

    /// "99.95 %" (two decimals, never rounded up to 100 while any time was down), or "—".
    pub fn text(&self) -> String {
        match self.percent() {
            None => "—".into(),
            Some(p) if self.down_ms > 0 && p > 99.99 => "99.99 %".into(),
            Some(p) => format!("{p:.2} %"),
        }
    }
}

/// Uptime over `[from, to)`, given the check's state at `from` (`before`, none when the
/// check did not exist yet) and its changes during the window, oldest first. Changes
/// outside the window are ignored.
pub fn uptime(before: Option<CheckState>, changes: &[StateSince], from: i64, to: i64) -> Uptime {
    let mut out = Uptime::default();
    if to <= from {
        return out;
    }
    let mut state = before;
    let mut since = from;
    let mut add = |state: Option<CheckState>, start: i64, end: i64| {
        let span = end.saturating_sub(start).max(0);
        match state {
            Some(CheckState::Up | CheckState::Late) => out.up_ms += span,
            Some(CheckState::Down) => out.down_ms += span,
            Some(CheckState::New | CheckState::Paused) | None => {}
        }
    };
    for change in changes.iter().filter(|c| c.at >= from && c.at < to) {
        add(state, since, change.at);
        state = Some(change.state);
        since = change.at;
    }
    add(state, since, to);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const H: i64 = 3_600_000;

    fn at(h: i64, state: CheckState) -> StateSince {
        StateSince { at: h * H, state }
    }

    #[test]
    fn a_check_up_all_day_is_100_percent() {
        let u = uptime(Some(CheckState::Up), &[], 0, 24 * H);
        assert_eq!(u.percent(), Some(100.0));
        assert_eq!(u.text(), "100.00 %");
    }

    #[test]
    fn six_hours_down_in_a_day_is_75_percent_and_late_counts_as_up() {
        let changes = [
            at(2, CheckState::Late),
            at(3, CheckState::Down),
            at(9, CheckState::Up),
        ];
        let u = uptime(Some(CheckState::Up), &changes, 0, 24 * H);
        assert_eq!(u.down_ms, 6 * H);
        assert_eq!(u.percent(), Some(75.0));
    }

    #[test]
    fn time_before_the_first_ping_and_while_paused_is_not_counted() {
        let changes = [
            at(4, CheckState::Up),
            at(10, CheckState::Paused),
            at(20, CheckState::Down),
        ];
        let u = uptime(Some(CheckState::New), &changes, 0, 24 * H);
        assert_eq!(u.up_ms, 6 * H);
        assert_eq!(u.down_ms, 4 * H);
        assert_eq!(u.text(), "60.00 %");
        assert_eq!(uptime(None, &[], 0, H).text(), "—", "nothing to count");
    }

    #[test]
    fn a_minute_down_in_a_month_never_shows_as_100() {
        let changes = [
            at(100, CheckState::Down),
            StateSince {
                at: 100 * H + 60_000,
                state: CheckState::Up,
            },
        ];
        let u = uptime(Some(CheckState::Up), &changes, 0, 30 * 24 * H);
        assert_eq!(u.text(), "99.99 %");
    }

    proptest! {
        #[test]
        fn counted_time_never_exceeds_the_window(
            hours in proptest::collection::vec((0i64..48, 0usize..5), 0..20),
            from in 0i64..24,
            len in 0i64..48,
        ) {
            let states = [CheckState::New, CheckState::Up, CheckState::Late, CheckState::Down, CheckState::Paused];
            let mut changes: Vec<StateSince> = hours.iter().map(|(h, s)| at(*h, states[*s])).collect();
            changes.sort_by_key(|c| c.at);
            let u = uptime(Some(CheckState::Up), &changes, from * H, (from + len) * H);
            prop_assert!(u.up_ms >= 0 && u.down_ms >= 0);
            prop_assert!(u.up_ms + u.down_ms <= len * H);
            if let Some(p) = u.percent() {
                prop_assert!((0.0..=100.0).contains(&p));
            }
        }
    }
}

//! How the outbox retries a message that could not be delivered: exponential backoff
//! from 30 seconds, capped at an hour, giving up after [`MAX_ATTEMPTS`] tries. A message
//! given up on stays in the outbox, marked failed, for an operator to retry.

/// Tries before a message is marked failed (about two and a half hours of retrying).
pub const MAX_ATTEMPTS: i64 = 8;

const FIRST_DELAY_SECONDS: i64 = 30;
const LONGEST_DELAY_SECONDS: i64 = 3600;

/// What to do after attempt number `attempts` (1 for the first) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again this many seconds from now.
    RetryIn(i64),
    /// Stop trying; an operator decides.
    GiveUp,
}

pub fn after_failure(attempts: i64) -> AfterFailure {
    if attempts >= MAX_ATTEMPTS {
        return AfterFailure::GiveUp;
    }
    let exponent = (attempts.max(1) - 1).min(20) as u32;
    AfterFailure::RetryIn((FIRST_DELAY_SECONDS << exponent).min(LONGEST_DELAY_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn delays_double_from_thirty_seconds_up_to_an_hour_then_give_up() {
        let delays: Vec<_> = (1..=MAX_ATTEMPTS).map(after_failure).collect();
        assert_eq!(
            delays,
            vec![
                AfterFailure::RetryIn(30),
                AfterFailure::RetryIn(60),
                AfterFailure::RetryIn(120),
                AfterFailure::RetryIn(240),
                AfterFailure::RetryIn(480),
                AfterFailure::RetryIn(960),
                AfterFailure::RetryIn(1920),
                AfterFailure::GiveUp,
            ]
        );
    }

    proptest! {
        #[test]
        fn delays_never_shrink_and_stay_within_an_hour(a in -5i64..1000) {
            match (after_failure(a), after_failure(a + 1)) {
                (AfterFailure::RetryIn(x), AfterFailure::RetryIn(y)) => {
                    prop_assert!(x <= y);
                    prop_assert!((30..=3600).contains(&y));
                }
                (AfterFailure::GiveUp, next) => prop_assert_eq!(next, AfterFailure::GiveUp),
                (AfterFailure::RetryIn(_), AfterFailure::GiveUp) => {}
            }
        }
    }
}

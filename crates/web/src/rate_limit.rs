//! Sign-in attempts limited per account and per address, so a password cannot be
//! guessed quickly from one place or against one account from many.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const MAX_FAILURES_PER_ACCOUNT: u32 = 5;
pub const MAX_FAILURES_PER_ADDRESS: u32 = 20;

#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    fn count(&self, key: &str, now: Instant) -> u32 {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((n, since)) if now.duration_since(*since) < WINDOW => *n,
            _ => 0,
        }
    }

    /// Whether another attempt is allowed for this account from this address.
    pub fn allowed(&self, account: &str, address: &str) -> bool {
        let now = Instant::now();
        self.count(&format!("account:{account}"), now) < MAX_FAILURES_PER_ACCOUNT
            && self.count(&format!("address:{address}"), now) < MAX_FAILURES_PER_ADDRESS
    }

    pub fn record_failure(&self, account: &str, address: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Forget old windows so the map cannot grow without bound.
        if map.len() > 10_000 {
            map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        for key in [format!("account:{account}"), format!("address:{address}")] {
            let entry = map.entry(key).or_insert((0, now));
            if now.duration_since(entry.1) >= WINDOW {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }

    pub fn record_success(&self, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_five_failures_from_anywhere() {
        let limiter = LoginLimiter::default();
        for i in 0..MAX_FAILURES_PER_ACCOUNT {
            assert!(limiter.allowed("ana@x.test", &format!("10.0.0.{i}")));
            limiter.record_failure("ana@x.test", &format!("10.0.0.{i}"));
        }
        assert!(!limiter.allowed("ana@x.test", "10.0.0.99"));
        assert!(limiter.allowed("bo@x.test", "10.0.0.99"));
    }

    #[test]
    fn an_address_is_locked_after_twenty_failures_across_accounts() {
        let limiter = LoginLimiter::default();
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            limiter.record_failure(&format!("user{i}@x.test"), "10.0.0.1");
        }
        assert!(!limiter.allowed("new@x.test", "10.0.0.1"));
        assert!(limiter.allowed("new@x.test", "10.0.0.2"));
    }

    #[test]
    fn a_success_clears_the_account_count() {
        let limiter = LoginLimiter::default();
        for _ in 0..4 {
            limiter.record_failure("ana@x.test", "a");
        }
        limiter.record_success("ana@x.test");
        limiter.record_failure("ana@x.test", "b");
        assert!(limiter.allowed("ana@x.test", "c"));
    }
}

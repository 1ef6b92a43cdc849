//! What the domain benches share: timing a sweep and printing big numbers.

use std::hint::black_box;
use std::time::{Duration, Instant};

pub struct Row {
    pub what: &'static str,
    pub calls: u64,
    pub elapsed: Duration,
}

/// Repeats `pass` (one sweep over the cases, returning its call count) until at least
/// `min` has passed, after one warm-up sweep.
pub fn measure(what: &'static str, min: Duration, mut pass: impl FnMut() -> u64) -> Row {
    black_box(pass());
    let started = Instant::now();
    let mut calls = 0;
    while started.elapsed() < min {
        calls += pass();
    }
    Row {
        what,
        calls,
        elapsed: started.elapsed(),
    }
}

/// 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

//! What the web benches share: a fresh SQLite database with one owner, and percentiles.
//! Like a test, a bench stops on the impossible, so it uses `expect`.

#![allow(dead_code)]

use std::path::PathBuf;

use tend_domain::email::Email;
use tend_domain::role::Role;
use tend_store::users::User;
use tend_store::{Actor, Store};

/// A migrated SQLite file in a new temporary directory (returned, to remove at the end),
/// the actor seeding it and the owner who signs in.
pub async fn bench_store() -> (PathBuf, Store, Actor, User) {
    let dir = std::env::temp_dir().join(format!("tend-bench-{}", tend_store::random_hex(6)));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = Store::connect(&format!("sqlite://{}/tend.db", dir.display()))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    let actor = Actor::system("bench");
    let owner = store
        .create_user(
            &actor,
            &Email::parse("owner@bench.test").expect("email"),
            "Owner",
            Role::Owner,
            "bench password 123",
        )
        .await
        .expect("user");
    (dir, store, actor, owner)
}

/// The value at share `p` (0 to 1) of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

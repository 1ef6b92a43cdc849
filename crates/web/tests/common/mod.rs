//! Test support shared by the integration tests of tend-web. Each test file uses only
//! part of it, so unused items are expected here.
#![allow(dead_code, unused_macros)]

#[macro_use]
pub mod api;
pub mod ui;

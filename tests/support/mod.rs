//! Test peers and helpers shared by the end-to-end tests.
#![allow(dead_code)] // each test module uses a different part of the support kit
pub mod fake_slack;

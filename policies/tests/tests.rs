//! The policy engine's tests, one binary: policy tables from YAML (inline or
//! under `tests/fixtures/`), judged for requests built with [`support::Ask`].

mod accounts;
mod approval;
mod example;
mod force;
mod freeze;
mod load_errors;
mod matching;
mod sources;
mod support;

//! HTTP-level tests: a real `b2-sim` on a loopback port, a real HTTP client (ureq).

#![allow(clippy::unwrap_used, missing_docs)]

mod auth_keys;
mod buckets;
mod common;
mod downloads;
mod faults;
mod fidelity;
mod key_rules;
mod kill9;
mod large_files;
mod listing;
mod lost_answers;
mod persistence;
mod protect;
mod scenarios;
mod settings;
mod uploads;

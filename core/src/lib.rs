//! # b2-core
//!
//! A `#![no_std]`, allocation-free, sans-IO engine for the Backblaze B2 native API (v4).
//!
//! The crate builds requests and parses answers; it never touches a socket or a clock.
//! Each B2 job is an *operation* ([`op::Operation`]): a state machine polled with the current
//! time that answers with one [`op::Step`] (send a request, wait, or done). Requests are handed
//! to a transport through the [`op::Exchange`] trait; [`driver::run`] is the one blocking loop
//! that drives any operation over any [`driver::Transport`].
//!
//! Rooms:
//! - [`wire`]: request bodies and zero-copy answer types for every v4 call;
//! - [`validate`] and [`encoding`]: checks and percent-encoding done before any I/O;
//! - [`retry`]: the integration checklist's one pure classifier and the backoff;
//! - [`session`]: credentials and the authorized session in fixed-capacity storage;
//! - [`op`]: the operations (authorize, JSON calls, uploads, downloads, listings);
//! - [`driver`]: the blocking `Transport` trait and the generic driver.
#![no_std]
#![forbid(unsafe_code)]
// Without alloc an error cannot be boxed: `Error` carries B2's code and message inline
// (about 230 bytes), which is what callers want to see.
#![allow(clippy::result_large_err)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

#[cfg(test)]
extern crate std;

pub mod driver;
pub mod driver_async;
pub mod encoding;
pub mod error;
pub mod http;
pub mod op;
pub mod retry;
pub mod secret;
pub mod session;
pub mod validate;
pub mod versions;
pub mod wire;

/// The `embedded-io` crate this SDK uses for sinks (`Write`) and I/O error kinds.
pub use embedded_io;

pub use error::{ApiError, Error, ErrorCode, InvalidInput};

/// `User-Agent` sent with every request: `b2-rust/<crate version>`.
pub const USER_AGENT: &str = concat!("b2-rust/", env!("CARGO_PKG_VERSION"));

/// B2 API version used in every path (`/b2api/v4/...`).
pub const API_VERSION: &str = "v4";

/// Realm URL of the production service, used when the realm is `"production"`.
pub const PRODUCTION_REALM: &str = "https://api.backblazeb2.com";

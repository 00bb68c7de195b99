//! # b2-transport-std
//!
//! The host side of the SDK: [`UreqTransport`] drives `b2-core` operations over `ureq`
//! (blocking, rustls), and [`client`] is a blocking client with files, threads and
//! environment credentials.

pub mod client;
pub mod transport;

pub use transport::{SystemClock, TransportConfig, UreqTransport};

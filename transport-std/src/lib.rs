//! # b2-transport-std
//!
//! The host side of the SDK: [`UreqTransport`] drives `b2-core` operations over `ureq`
//! (blocking, rustls), [`client`] is a blocking client with files, threads and
//! environment credentials, and [`sync`] keeps a local folder and a B2 folder (or two B2
//! folders) alike, in any direction.
//!
//! ```no_run
//! use b2_transport_std::client::Client;
//!
//! // B2_APPLICATION_KEY_ID, B2_APPLICATION_KEY and (optionally) B2_ENVIRONMENT.
//! let client = Client::builder().credentials_from_env().threads(4).build()?;
//! let bucket = client.bucket("my-bucket")?;
//! let file = bucket.upload("nas/backup.tar").content_type("application/x-tar").from_path("backup.tar")?;
//! println!("uploaded {} ({} bytes)", file.file_id, file.size);
//! for f in bucket.list("nas/") {
//!     let f = f?;
//!     println!("{:>12} {:<6} {}", f.size, f.action, f.file_name);
//! }
//! bucket.download("nas/backup.tar").to_path("restored.tar")?;
//! # Ok::<(), b2_transport_std::client::ClientError>(())
//! ```

pub mod client;
pub mod sync;
pub mod transport;

pub use transport::{SystemClock, TransportConfig, UreqTransport};

/// The top-level README's Rust examples, compiled as doc tests of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

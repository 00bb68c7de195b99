//! # b2-transport-std
//!
//! The host side of the SDK: [`UreqTransport`] drives `b2-core` operations over `ureq`
//! (blocking, rustls), [`client`] is a blocking client with files, threads and
//! environment credentials, and [`sync`] keeps a local folder and a B2 folder (or two B2
//! folders) alike, in any direction.
//!
//! ```no_run
//! use std::path::Path;
//! use b2_transport_std::client::{Client, DownloadTarget, UploadOptions};
//!
//! // B2_APPLICATION_KEY_ID, B2_APPLICATION_KEY and (optionally) B2_ENVIRONMENT.
//! let client = Client::from_env()?;
//! let file = client.upload_path("my-bucket", Path::new("backup.tar"), "nas/backup.tar", &UploadOptions::default())?;
//! println!("uploaded {} ({} bytes)", file.file_id, file.size);
//! for f in client.ls("my-bucket", "nas/", false, false)? {
//!     let f = f?;
//!     println!("{:>12} {}", f.size, f.file_name);
//! }
//! let target = DownloadTarget::ByName { bucket: "my-bucket".into(), name: "nas/backup.tar".into() };
//! client.download_to_path(&target, Path::new("restored.tar"), None, None)?;
//! # Ok::<(), b2_transport_std::client::ClientError>(())
//! ```

pub mod client;
pub mod sync;
pub mod transport;

pub use transport::{SystemClock, TransportConfig, UreqTransport};

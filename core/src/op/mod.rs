//! Operations: one state machine per B2 job, all speaking the same [`Step`] language.
//!
//! The rule (as in str0m): after any input, call [`Operation::poll`] with the current time and
//! act on the step until it says [`Step::Done`]. On [`Step::Send`], hand the operation (as an
//! [`Exchange`]) to a transport; on [`Step::Wait`], sleep until the given time. After `Done`,
//! read the result with the operation's own accessors.

use crate::error::Error;
use crate::http::{Headers, Request, TransportError};

/// What an operation wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Step {
    /// Run one HTTP exchange: pass the operation to a transport.
    Send,
    /// Sleep until this time (milliseconds, on the caller's clock), then poll again.
    Wait {
        /// When to poll again.
        until_ms: u64,
    },
    /// Finished successfully; read the result from the operation.
    Done,
}

/// Returned by an [`Exchange`] callback to stop the exchange; the reason is kept by the
/// operation and reported by its next [`Operation::poll`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abort;

/// One HTTP exchange as a transport sees it. A transport calls, in order: [`request`]
/// once, [`body`] until it returns 0 (exactly `content_length` bytes in all),
/// [`response`] once, [`response_body`] for each chunk of the answer, and
/// [`response_end`] when the answer is complete. If any callback returns [`Abort`], the
/// transport stops and returns [`TransportError::Aborted`]. A transport never interprets
/// status codes or bodies.
///
/// [`request`]: Exchange::request
/// [`body`]: Exchange::body
/// [`response`]: Exchange::response
/// [`response_body`]: Exchange::response_body
/// [`response_end`]: Exchange::response_end
pub trait Exchange {
    /// The request head; its strings borrow the operation's buffer.
    fn request(&mut self) -> Result<Request<'_>, Abort>;
    /// Fills `buf` with the next request body bytes; returns 0 at the end of the body.
    fn body(&mut self, buf: &mut [u8]) -> Result<usize, Abort>;
    /// The answer's status and headers.
    fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort>;
    /// The next bytes of the answer body.
    fn response_body(&mut self, chunk: &[u8]) -> Result<(), Abort>;
    /// The answer body is complete.
    fn response_end(&mut self) -> Result<(), Abort>;
}

/// A B2 job as a sans-IO state machine.
pub trait Operation: Exchange {
    /// What to do next, given the current time in milliseconds. `Err` is final.
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error>;
    /// The transport could not complete the exchange started after the last `Send`.
    fn transport_failed(&mut self, error: TransportError, now_ms: u64);
    /// This operation as the exchange a transport drives.
    fn as_exchange(&mut self) -> &mut dyn Exchange;
}
pub(crate) mod call;
pub(crate) mod head;
pub mod json;
pub mod source;
pub mod upload_url;
pub use source::Source;
pub use upload_url::{
    upload_url_reusable, UploadUrl, UploadUrlPool, UPLOAD_URL_LIFETIME_MS, UPLOAD_URL_REUSE_MS,
};
pub mod upload;
pub use upload::{FileParams, UploadFile, UploadPart};
pub mod large;
pub use large::{JobKind, LargeFile, LargeUpload, PartJob, RemoteRange, Resume};
pub mod copy;
pub use copy::{Copy, CopySpec, Metadata};
pub mod download;
pub use download::{Download, DownloadInfo, Target};
pub mod list;
pub mod unhide;
pub use json::{Authorize, Call};
pub use list::{Cursor, List, Listing};
pub use unhide::{DeletedNewest, Unhidden, Unhide};

#[cfg(test)]
pub(crate) mod script;
#[cfg(test)]
mod tests;

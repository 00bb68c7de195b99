//! Wire layer: typed request bodies and zero-copy answers for every B2 v4 JSON call.
//!
//! Each JSON call is a struct implementing [`ApiCall`]: its fields borrow the caller's data
//! (`&str`), it writes its own JSON body into a caller buffer (the session's account id is
//! passed in, so request structs never borrow the session), and its [`ApiCall::Answer`] parses
//! from the answer bytes without copying. Unknown fields are ignored, optional fields are
//! `Option`, and strings that may carry JSON escapes are kept as [`Text`] for unescaping
//! into a caller buffer. Lists inside answers are walked lazily ([`json::ArrayIter`]).

pub mod auth;
pub mod bucket;
pub mod copy;
pub mod download;
pub mod error_body;
pub mod file;
pub mod json;
pub mod key;
pub mod large;
pub mod upload;

pub use json::{ArrayIter, Map, Text, TextIter};

use crate::error::{BadAnswer, Error};

/// A B2 JSON call: `POST {apiUrl}/b2api/v4/{NAME}` with a JSON body.
pub trait ApiCall {
    /// The call's name as it appears in the path, e.g. `b2_list_buckets`.
    const NAME: &'static str;
    /// The parsed answer; borrows the answer bytes.
    type Answer<'a>: Answer<'a>;
    /// Writes the JSON body into `out` and returns its length. `account_id` is the session's
    /// account id (calls that do not need it ignore it). Fails with
    /// [`Error::BufferTooSmall`] when `out` is too small.
    fn write_body(&self, account_id: &str, out: &mut [u8]) -> Result<usize, Error>;
}

/// An answer type parsed from a JSON body without copying.
pub trait Answer<'a>: Sized {
    /// Parses the answer. Never panics, whatever the bytes.
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer>;
}

/// Declares an [`ApiCall`]: name, answer type, and the body writer.
macro_rules! api_call {
    ($ty:ident, $name:literal, $answer:ident, |$s:ident, $acct:ident, $w:ident| $body:block) => {
        impl ApiCall for $ty<'_> {
            const NAME: &'static str = $name;
            type Answer<'a> = $answer<'a>;
            fn write_body(&self, account_id: &str, out: &mut [u8]) -> Result<usize, Error> {
                let $s = self;
                let $acct = account_id;
                let _ = $acct;
                let mut $w = crate::wire::json::JsonWriter::new(out);
                $body
                $w.finish()
            }
        }
    };
}
pub(crate) use api_call;

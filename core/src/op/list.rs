//! Listings as pagination cursors that work with a small caller buffer.
//!
//! [`List`] fetches one page at a time into the caller's buffer. The page size is chosen
//! from the buffer's size, and when a page still does not fit (long names, big file info)
//! the same page is asked for again, smaller, so a buffer of a few KiB lists any bucket.
//! After each [`Step::Done`], read the page ([`List::files`], [`List::parts`],
//! [`List::keys`]), then call [`List::next_page`] and poll again until it returns `false`.

use crate::error::Error;
use crate::http::{Headers, Request, TransportError};
use crate::op::call::{CallPoll, CallState};
use crate::op::json::jitter_seed;
use crate::op::{Abort, Exchange, Operation, Step};
use crate::retry::{CallKind, RetryPolicy};
use crate::session::{fixed_text, Id, Session};
use crate::wire::file::{
    ListFileNames, ListFileVersions, ListFilesAnswer, ListUnfinishedLargeFiles,
};
use crate::wire::key::{ListKeys, ListKeysAnswer};
use crate::wire::large::{ListParts, ListPartsAnswer};
use crate::wire::Answer as _;

/// Longest "next file name" a cursor keeps (B2's longest name).
pub const CURSOR_NAME_CAPACITY: usize = 1024;

/// What to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing<'a> {
    /// `b2_list_file_names`: latest visible version of each name.
    FileNames {
        /// Bucket.
        bucket_id: &'a str,
        /// Only names starting with this.
        prefix: Option<&'a str>,
        /// Roll up "folders" at this delimiter (usually `/`).
        delimiter: Option<&'a str>,
    },
    /// `b2_list_file_versions`: every version.
    FileVersions {
        /// Bucket.
        bucket_id: &'a str,
        /// Only names starting with this.
        prefix: Option<&'a str>,
        /// Folder delimiter.
        delimiter: Option<&'a str>,
    },
    /// `b2_list_unfinished_large_files`.
    UnfinishedLargeFiles {
        /// Bucket.
        bucket_id: &'a str,
        /// Only names starting with this.
        name_prefix: Option<&'a str>,
    },
    /// `b2_list_parts` of an unfinished large file.
    Parts {
        /// The large file.
        file_id: &'a str,
    },
    /// `b2_list_keys`.
    Keys,
}

impl Listing<'_> {
    /// Rough answer bytes per item, to choose a page size from a buffer.
    fn item_bytes(&self) -> usize {
        match self {
            Listing::Parts { .. } => 220,
            Listing::Keys => 400,
            _ => 700,
        }
    }

    /// B2's largest page for this call (file listings are kept at 1,000, one transaction).
    fn max_page(&self) -> u32 {
        match self {
            Listing::UnfinishedLargeFiles { .. } => 100,
            _ => 1000,
        }
    }
}

/// Where a listing stands between pages, owned, so that a caller can continue it later
/// with another buffer ([`List::resume`]); a host iterator keeps one between pages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    next_name: Option<heapless::String<CURSOR_NAME_CAPACITY>>,
    next_id: Option<Id>,
    next_part: Option<u32>,
    page_size: u32,
    finished: bool,
}

impl Cursor {
    /// Whether the listing has no more pages.
    pub fn finished(&self) -> bool {
        self.finished
    }
}

/// A listing cursor; see the module docs. Cost: about 1.3 KiB (it keeps the next start
/// name, up to 1,024 bytes) plus the caller's buffer.
pub struct List<'s, 'b, 'a> {
    session: &'s mut Session,
    buf: &'b mut [u8],
    listing: Listing<'a>,
    state: CallState,
    policy: RetryPolicy,
    page_size: u32,
    next_name: Option<heapless::String<CURSOR_NAME_CAPACITY>>,
    next_id: Option<Id>,
    next_part: Option<u32>,
    pages: u32,
    finished: bool,
}

impl<'s, 'b, 'a> List<'s, 'b, 'a> {
    /// Prepares the first page; the page size is chosen from `buf.len()`.
    pub fn new(session: &'s mut Session, buf: &'b mut [u8], listing: Listing<'a>) -> Self {
        let fit = (buf.len().saturating_sub(128) / listing.item_bytes()).max(1);
        let page_size = u32::try_from(fit)
            .unwrap_or(u32::MAX)
            .min(listing.max_page());
        let state = CallState::new(CallKind::Json, session, jitter_seed(session));
        List {
            session,
            buf,
            listing,
            state,
            policy: RetryPolicy::default(),
            page_size,
            next_name: None,
            next_id: None,
            next_part: None,
            pages: 0,
            finished: false,
        }
    }

    /// Continues a listing where `cursor` (from [`List::cursor`]) left it: the next page.
    pub fn resume(
        session: &'s mut Session,
        buf: &'b mut [u8],
        listing: Listing<'a>,
        cursor: &Cursor,
    ) -> Self {
        let mut l = Self::new(session, buf, listing);
        if cursor.page_size > 0 {
            l.page_size = l.page_size.min(cursor.page_size);
        }
        l.next_name.clone_from(&cursor.next_name);
        l.next_id.clone_from(&cursor.next_id);
        l.next_part = cursor.next_part;
        l.finished = cursor.finished;
        l
    }

    /// Where the listing stands, after [`List::next_page`].
    pub fn cursor(&self) -> Cursor {
        Cursor {
            next_name: self.next_name.clone(),
            next_id: self.next_id.clone(),
            next_part: self.next_part,
            page_size: self.page_size,
            finished: self.finished,
        }
    }

    /// Sets the page size (capped at B2's maximum for the call).
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, self.listing.max_page());
        self
    }

    /// Replaces the retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Current page size (it shrinks when a page did not fit the buffer).
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// Pages fetched so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    fn page_body(&self) -> &[u8] {
        self.buf.get(..self.state.answer.len).unwrap_or(&[])
    }

    /// The page of a file listing (names, versions, unfinished large files).
    pub fn files(&self) -> Result<ListFilesAnswer<'_>, Error> {
        match self.listing {
            Listing::FileNames { .. }
            | Listing::FileVersions { .. }
            | Listing::UnfinishedLargeFiles { .. } => {
                ListFilesAnswer::parse(self.page_body()).map_err(Error::BadAnswer)
            }
            _ => Err(Error::Misuse("files() on a listing of parts or keys")),
        }
    }

    /// The page of a parts listing.
    pub fn parts(&self) -> Result<ListPartsAnswer<'_>, Error> {
        match self.listing {
            Listing::Parts { .. } => {
                ListPartsAnswer::parse(self.page_body()).map_err(Error::BadAnswer)
            }
            _ => Err(Error::Misuse("parts() on a listing of files or keys")),
        }
    }

    /// The page of a keys listing.
    pub fn keys(&self) -> Result<ListKeysAnswer<'_>, Error> {
        match self.listing {
            Listing::Keys => ListKeysAnswer::parse(self.page_body()).map_err(Error::BadAnswer),
            _ => Err(Error::Misuse("keys() on a listing of files or parts")),
        }
    }

    /// Moves past the page just read: `true` if there is another page (poll again),
    /// `false` at the end of the listing.
    pub fn next_page(&mut self) -> Result<bool, Error> {
        if self.finished {
            return Ok(false);
        }
        let more = match self.listing {
            Listing::FileNames { .. }
            | Listing::FileVersions { .. }
            | Listing::UnfinishedLargeFiles { .. } => {
                let page =
                    ListFilesAnswer::parse(self.buf.get(..self.state.answer.len).unwrap_or(&[]))
                        .map_err(Error::BadAnswer)?;
                let name = page.next_file_name.map(fixed_text).transpose()?;
                let id = page.next_file_id.map(fixed_text).transpose()?;
                let more = match self.listing {
                    Listing::UnfinishedLargeFiles { .. } => id.is_some(),
                    _ => name.is_some(),
                };
                if more && name == self.next_name && id == self.next_id {
                    // A server that names the same page again would list forever.
                    return Err(Error::BadAnswer(crate::error::BadAnswer::Mismatch));
                }
                self.next_name = name;
                self.next_id = id;
                more
            }
            Listing::Parts { .. } => {
                let page =
                    ListPartsAnswer::parse(self.buf.get(..self.state.answer.len).unwrap_or(&[]))
                        .map_err(Error::BadAnswer)?;
                if page
                    .next_part_number
                    .is_some_and(|n| self.next_part.is_some_and(|old| n <= old))
                {
                    return Err(Error::BadAnswer(crate::error::BadAnswer::Mismatch));
                }
                self.next_part = page.next_part_number;
                page.next_part_number.is_some()
            }
            Listing::Keys => {
                let page =
                    ListKeysAnswer::parse(self.buf.get(..self.state.answer.len).unwrap_or(&[]))
                        .map_err(Error::BadAnswer)?;
                let id = page.next_application_key_id.map(fixed_text).transpose()?;
                if id.is_some() && id == self.next_id {
                    return Err(Error::BadAnswer(crate::error::BadAnswer::Mismatch));
                }
                self.next_id = id;
                self.next_id.is_some()
            }
        };
        if more {
            self.state.restart(self.session);
        } else {
            self.finished = true;
        }
        Ok(more)
    }

    fn render(&mut self) -> Result<Request<'_>, Abort> {
        let max = Some(self.page_size);
        let name = self.next_name.as_deref();
        let id = self.next_id.as_deref();
        let (s, st, buf) = (&*self.session, &mut self.state, &mut *self.buf);
        match self.listing {
            Listing::FileNames {
                bucket_id,
                prefix,
                delimiter,
            } => st.json_request(
                s,
                &ListFileNames {
                    bucket_id,
                    start_file_name: name,
                    max_file_count: max,
                    prefix,
                    delimiter,
                },
                buf,
            ),
            Listing::FileVersions {
                bucket_id,
                prefix,
                delimiter,
            } => st.json_request(
                s,
                &ListFileVersions {
                    bucket_id,
                    start_file_name: name,
                    start_file_id: id,
                    max_file_count: max,
                    prefix,
                    delimiter,
                },
                buf,
            ),
            Listing::UnfinishedLargeFiles {
                bucket_id,
                name_prefix,
            } => st.json_request(
                s,
                &ListUnfinishedLargeFiles {
                    bucket_id,
                    name_prefix,
                    start_file_id: id,
                    max_file_count: max,
                },
                buf,
            ),
            Listing::Parts { file_id } => st.json_request(
                s,
                &ListParts {
                    file_id,
                    start_part_number: self.next_part,
                    max_part_count: max,
                },
                buf,
            ),
            Listing::Keys => st.json_request(
                s,
                &ListKeys {
                    max_key_count: max,
                    start_application_key_id: id,
                },
                buf,
            ),
        }
    }
}

impl Exchange for List<'_, '_, '_> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        if self.state.authorizing() {
            self.state.authorize_request(self.session, self.buf)
        } else {
            self.render()
        }
    }

    crate::op::call::call_state_exchange!(state);
}

impl Operation for List<'_, '_, '_> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        if self.finished {
            return Ok(Step::Done);
        }
        loop {
            match self.state.poll(now_ms, &self.policy) {
                Ok(CallPoll::Send) => return Ok(Step::Send),
                Ok(CallPoll::Wait(t)) => return Ok(Step::Wait { until_ms: t }),
                Ok(CallPoll::Answered) => {
                    self.pages += 1;
                    return Ok(Step::Done);
                }
                Err(Error::BufferTooSmall { needed }) if self.page_size > 1 => {
                    // The page did not fit: ask for the same page, smaller.
                    let scaled =
                        u64::from(self.page_size) * self.buf.len() as u64 / needed.max(1) as u64;
                    let smaller = u32::try_from(scaled)
                        .unwrap_or(1)
                        .min(self.page_size / 2)
                        .max(1);
                    self.page_size = smaller;
                    self.state.restart(self.session);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn transport_failed(&mut self, error: TransportError, _now_ms: u64) {
        self.state.transport_failed(error, &self.policy);
    }

    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}

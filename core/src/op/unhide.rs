//! Unhiding a file: B2 has no call for it. The newest version of the name is deleted if, and
//! only if, it is a hide marker, so the version before it becomes visible again.
//!
//! Its mirror, [`Unhide::delete_newest`], deletes the newest version only if it is *not* a
//! hide marker: deleting a hide marker alone would unhide the file, which a delete never
//! does (that is an unhide).

use crate::error::Error;
use crate::http::{Headers, Request, TransportError};
use crate::op::call::{CallPoll, CallState};
use crate::op::json::jitter_seed;
use crate::op::{Abort, Exchange, Operation, Step};
use crate::retry::{CallKind, RetryPolicy};
use crate::session::{fixed_text, Id, Session};
use crate::validate;
use crate::wire::file::{Action, DeleteFileVersion, File, ListFileVersions, ListFilesAnswer};
use crate::wire::Answer as _;

/// What [`Unhide`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Unhidden {
    /// The newest version was a hide marker; it is deleted.
    Unhidden,
    /// The newest version is not a hide marker: nothing was deleted.
    NotHidden,
    /// The name has no version at all: nothing was deleted.
    NotFound,
}

/// What [`Unhide::delete_newest`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DeletedNewest {
    /// The newest version (an upload) is deleted.
    Deleted,
    /// The newest version is a hide marker: nothing was deleted (deleting it would unhide).
    Hidden,
    /// The name has no version at all: nothing was deleted.
    NotFound,
}

/// Which newest version the operation deletes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Only a hide marker (unhide).
    HideMarker,
    /// Only a version that is not a hide marker (delete).
    Visible,
}

enum Stage {
    /// `b2_list_file_versions` from the name (a few entries: unfinished large files of the
    /// name are listed too, and skipped).
    Newest,
    /// `b2_delete_file_version` of the hide marker.
    Delete(Id),
    Done(Unhidden),
}

/// Unhides `file_name` in a bucket (see the module docs). After [`Step::Done`], read
/// [`Unhide::outcome`]. Cost: about 400 bytes plus the caller's buffer (ten versions' JSON,
/// 8 KiB is plenty).
pub struct Unhide<'s, 'b, 'a> {
    session: &'s mut Session,
    buf: &'b mut [u8],
    bucket_id: &'a str,
    file_name: &'a str,
    mode: Mode,
    stage: Stage,
    marker: Id,
    call: CallState,
    policy: RetryPolicy,
}

impl<'s, 'b, 'a> Unhide<'s, 'b, 'a> {
    /// Prepares the unhide of `file_name` in bucket `bucket_id`; the name is checked now.
    pub fn new(
        session: &'s mut Session,
        buf: &'b mut [u8],
        bucket_id: &'a str,
        file_name: &'a str,
    ) -> Result<Self, Error> {
        Self::with_mode(session, buf, bucket_id, file_name, Mode::HideMarker)
    }

    /// Prepares the delete of the newest version of `file_name`, refused (nothing deleted)
    /// when that version is a hide marker. After [`Step::Done`], read
    /// [`Unhide::deleted_newest`]; the deleted version's id is [`Unhide::deleted_id`].
    pub fn delete_newest(
        session: &'s mut Session,
        buf: &'b mut [u8],
        bucket_id: &'a str,
        file_name: &'a str,
    ) -> Result<Self, Error> {
        Self::with_mode(session, buf, bucket_id, file_name, Mode::Visible)
    }

    fn with_mode(
        session: &'s mut Session,
        buf: &'b mut [u8],
        bucket_id: &'a str,
        file_name: &'a str,
        mode: Mode,
    ) -> Result<Self, Error> {
        validate::file_name(file_name)?;
        let call = CallState::new(CallKind::Json, session, jitter_seed(session));
        Ok(Unhide {
            session,
            buf,
            bucket_id,
            file_name,
            mode,
            stage: Stage::Newest,
            marker: Id::new(),
            call,
            policy: RetryPolicy::default(),
        })
    }

    /// Replaces the retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// What an unhide found, after [`Step::Done`] (`None` for [`Unhide::delete_newest`]).
    pub fn outcome(&self) -> Option<Unhidden> {
        match (self.mode, &self.stage) {
            (Mode::HideMarker, Stage::Done(o)) => Some(*o),
            _ => None,
        }
    }

    /// What a [`Unhide::delete_newest`] found, after [`Step::Done`].
    pub fn deleted_newest(&self) -> Option<DeletedNewest> {
        match (self.mode, &self.stage) {
            (Mode::Visible, Stage::Done(o)) => Some(match o {
                Unhidden::Unhidden => DeletedNewest::Deleted,
                Unhidden::NotHidden => DeletedNewest::Hidden,
                Unhidden::NotFound => DeletedNewest::NotFound,
            }),
            _ => None,
        }
    }

    /// The id of the hide marker deleted, after [`Unhidden::Unhidden`].
    pub fn hide_marker_id(&self) -> &str {
        &self.marker
    }

    /// The id of the version deleted (either mode).
    pub fn deleted_id(&self) -> &str {
        &self.marker
    }

    fn answered(&mut self) -> Result<(), Error> {
        let body = self.buf.get(..self.call.answer.len).unwrap_or(&[]);
        match self.stage {
            Stage::Newest => {
                let page = ListFilesAnswer::parse(body).map_err(Error::BadAnswer)?;
                // Unfinished large files are listed among the versions but are not versions.
                let mut newest: Option<File<'_>> = None;
                for f in page.files {
                    let f = f.map_err(Error::BadAnswer)?;
                    if f.action != Action::Start {
                        newest = Some(f);
                        break;
                    }
                }
                // Done(NotHidden) reads "the newest version is not the kind to delete": not
                // a hide marker for an unhide, a hide marker for a delete.
                self.stage = match newest {
                    Some(f) if f.file_name.eq_str(self.file_name) => {
                        if (f.action == Action::Hide) == (self.mode == Mode::HideMarker) {
                            Stage::Delete(fixed_text(f.file_id)?)
                        } else {
                            Stage::Done(Unhidden::NotHidden)
                        }
                    }
                    _ => Stage::Done(Unhidden::NotFound),
                };
                if let Stage::Delete(_) = self.stage {
                    self.call.restart_next();
                }
            }
            Stage::Delete(ref id) => {
                self.marker = id.clone();
                self.stage = Stage::Done(Unhidden::Unhidden);
            }
            Stage::Done(_) => {}
        }
        Ok(())
    }
}

impl Exchange for Unhide<'_, '_, '_> {
    fn request(&mut self) -> Result<Request<'_>, Abort> {
        if self.call.authorizing() {
            return self.call.authorize_request(self.session, self.buf);
        }
        match &self.stage {
            Stage::Newest => self.call.json_request(
                self.session,
                &ListFileVersions {
                    bucket_id: self.bucket_id,
                    start_file_name: Some(self.file_name),
                    start_file_id: None,
                    max_file_count: Some(10),
                    prefix: Some(self.file_name),
                    delimiter: None,
                },
                self.buf,
            ),
            Stage::Delete(id) => self.call.json_request(
                self.session,
                &DeleteFileVersion {
                    file_name: self.file_name,
                    file_id: id,
                    bypass_governance: false,
                },
                self.buf,
            ),
            Stage::Done(_) => Err(Abort),
        }
    }

    crate::op::call::call_state_exchange!(call);
}

impl Operation for Unhide<'_, '_, '_> {
    fn poll(&mut self, now_ms: u64) -> Result<Step, Error> {
        loop {
            if let Stage::Done(_) = self.stage {
                return Ok(Step::Done);
            }
            match self.call.poll(now_ms, &self.policy)? {
                CallPoll::Send => return Ok(Step::Send),
                CallPoll::Wait(t) => return Ok(Step::Wait { until_ms: t }),
                CallPoll::Answered => self.answered()?,
            }
        }
    }

    fn transport_failed(&mut self, error: TransportError, _now_ms: u64) {
        self.call.transport_failed(error, &self.policy);
    }

    fn as_exchange(&mut self) -> &mut dyn Exchange {
        self
    }
}

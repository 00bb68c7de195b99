//! Answer bodies: empty, one buffer, or stored content streamed piece by piece.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use crate::store::{Piece, PieceReader};

/// The body of every answer the simulator sends.
#[derive(Debug)]
pub(crate) enum SimBody {
    /// Nothing (HEAD answers, 204s).
    Empty,
    /// One buffer.
    Full(Option<Bytes>),
    /// One buffer whose size hyper is not told, so a `Content-Length` set by hand goes out
    /// as it is (the `json_content_length_override` fault).
    Unsized(Option<Bytes>),
    /// Stored content, read lazily (disk pieces a MiB at a time).
    Stream {
        pieces: VecDeque<Piece>,
        reader: PieceReader,
        remaining: u64,
    },
}

impl SimBody {
    /// A body from a string or bytes.
    pub fn full(b: impl Into<Bytes>) -> Self {
        SimBody::Full(Some(b.into()))
    }

    /// A body streaming these pieces (`len` bytes in all).
    pub fn stream(pieces: VecDeque<Piece>, len: u64) -> Self {
        SimBody::Stream {
            pieces,
            reader: PieceReader::default(),
            remaining: len,
        }
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            SimBody::Empty => Poll::Ready(None),
            SimBody::Full(b) | SimBody::Unsized(b) => {
                Poll::Ready(b.take().map(|b| Ok(Frame::data(b))))
            }
            SimBody::Stream {
                pieces,
                reader,
                remaining,
            } => match reader.next_chunk(pieces) {
                Ok(Some(b)) => {
                    *remaining = remaining.saturating_sub(b.len() as u64);
                    Poll::Ready(Some(Ok(Frame::data(b))))
                }
                Ok(None) => Poll::Ready(None),
                Err(e) => Poll::Ready(Some(Err(e))),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            SimBody::Empty => true,
            SimBody::Full(b) | SimBody::Unsized(b) => b.is_none(),
            SimBody::Stream { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SimBody::Empty => SizeHint::with_exact(0),
            SimBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            SimBody::Stream { remaining, .. } => SizeHint::with_exact(*remaining),
            SimBody::Unsized(_) => SizeHint::default(),
        }
    }
}

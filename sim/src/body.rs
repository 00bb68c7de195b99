//! Answer bodies: empty, one buffer, or stored content streamed piece by piece.

use std::collections::VecDeque;
use std::future::Future;
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
        /// When the pieces end before `remaining` does (a truncated download): a short
        /// wait, so the bytes sent so far leave the server, then an error that cuts the
        /// connection.
        cut: Option<Pin<Box<tokio::time::Sleep>>>,
        /// A slow link: at most this many bytes a second go out (see [`SimBody::throttled`]).
        rate: Option<u64>,
        /// Bytes read but not sent yet (a slow link sends a chunk in slices).
        pending: Option<Bytes>,
        /// A slow link's wait before the next slice.
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
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
            cut: None,
            rate: None,
            pending: None,
            pause: None,
        }
    }

    /// The same body sent at no more than `bytes_per_sec` (a slow link): slices of a 20th of
    /// a second's worth, each followed by the time it takes at that rate.
    pub fn throttled(mut self, bytes_per_sec: Option<u64>) -> Self {
        if let SimBody::Stream { rate, .. } = &mut self {
            *rate = bytes_per_sec.filter(|r| *r > 0);
        }
        self
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
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
                cut,
                rate,
                pending,
                pause,
            } => {
                if let Some(p) = pause {
                    if p.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    *pause = None;
                }
                let next = match pending.take() {
                    Some(b) => Ok(Some(b)),
                    None => reader.next_chunk(pieces),
                };
                match next {
                    Ok(Some(mut b)) => {
                        if let Some(rate) = *rate {
                            let slice = usize::try_from(rate / 20).unwrap_or(usize::MAX).max(1);
                            if b.len() > slice {
                                *pending = Some(b.split_off(slice));
                            }
                            let secs = b.len() as f64 / rate as f64;
                            *pause = Some(Box::pin(tokio::time::sleep(
                                std::time::Duration::from_secs_f64(secs.min(3600.0)),
                            )));
                        }
                        *remaining = remaining.saturating_sub(b.len() as u64);
                        Poll::Ready(Some(Ok(Frame::data(b))))
                    }
                    // Fewer bytes than announced (a truncated download): once what was sent
                    // is flushed, an error, so the connection is cut instead of the answer
                    // looking complete.
                    Ok(None) if *remaining > 0 => {
                        let sleep = cut.get_or_insert_with(|| {
                            Box::pin(tokio::time::sleep(std::time::Duration::from_millis(50)))
                        });
                        match sleep.as_mut().poll(cx) {
                            Poll::Pending => Poll::Pending,
                            Poll::Ready(()) => Poll::Ready(Some(Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "answer cut short",
                            )))),
                        }
                    }
                    Ok(None) => Poll::Ready(None),
                    Err(e) => Poll::Ready(Some(Err(e))),
                }
            }
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

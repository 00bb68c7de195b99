//! Renders a request head into the operation's buffer without allocating.

use core::fmt::{self, Write};

use crate::error::Error;
use crate::http::{Method, Request, MAX_HEADERS};

type Span = (usize, usize);

/// Writes the URL and headers of one request into a buffer, then hands out a [`Request`]
/// whose strings borrow that buffer. On overflow it keeps counting, so the error says
/// exactly how many bytes the buffer needs.
pub(crate) struct HeadWriter<'b> {
    buf: &'b mut [u8],
    pos: usize,
    url: Span,
    headers: heapless::Vec<(Span, Span), MAX_HEADERS>,
    too_many_headers: bool,
}

struct Sink<'w, 'b>(&'w mut HeadWriter<'b>);

impl Write for Sink<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let w = &mut *self.0;
        let end = w.pos + s.len();
        if end <= w.buf.len() {
            if let Some(dst) = w.buf.get_mut(w.pos..end) {
                dst.copy_from_slice(s.as_bytes());
            }
        }
        w.pos = end;
        Ok(())
    }
}

impl<'b> HeadWriter<'b> {
    /// Starts writing at `start` (bytes before it, e.g. a JSON body, are kept).
    pub(crate) fn new(buf: &'b mut [u8], start: usize) -> Self {
        HeadWriter {
            buf,
            pos: start,
            url: (0, 0),
            headers: heapless::Vec::new(),
            too_many_headers: false,
        }
    }

    fn span(&mut self, args: fmt::Arguments<'_>) -> Span {
        let start = self.pos;
        let _ = Sink(self).write_fmt(args);
        (start, self.pos)
    }

    /// Sets the URL.
    pub(crate) fn url(&mut self, args: fmt::Arguments<'_>) {
        self.url = self.span(args);
    }

    /// Adds a header with a fixed name.
    pub(crate) fn header(&mut self, name: &str, value: fmt::Arguments<'_>) {
        self.header_fmt(format_args!("{name}"), value);
    }

    /// Adds a header whose name is computed (e.g. `X-Bz-Info-<key>`).
    pub(crate) fn header_fmt(&mut self, name: fmt::Arguments<'_>, value: fmt::Arguments<'_>) {
        let n = self.span(name);
        let v = self.span(value);
        if self.headers.push((n, v)).is_err() {
            self.too_many_headers = true;
        }
    }

    /// Finishes the head: adds `User-Agent` and, with a body, `Content-Length`.
    pub(crate) fn finish(
        mut self,
        method: Method,
        content_length: Option<u64>,
        test_mode: Option<&str>,
    ) -> Result<Request<'b>, Error> {
        self.header("User-Agent", format_args!("{}", crate::USER_AGENT));
        if let Some(len) = content_length {
            self.header("Content-Length", format_args!("{len}"));
        }
        if let Some(mode) = test_mode {
            self.header("X-Bz-Test-Mode", format_args!("{mode}"));
        }
        if self.too_many_headers {
            return Err(Error::Misuse("more headers than MAX_HEADERS"));
        }
        if self.pos > self.buf.len() {
            return Err(Error::BufferTooSmall { needed: self.pos });
        }
        let buf: &'b [u8] = self.buf;
        let text = |(a, b): Span| -> Result<&'b str, Error> {
            buf.get(a..b)
                .and_then(|s| core::str::from_utf8(s).ok())
                .ok_or(Error::Misuse("head span"))
        };
        let mut headers = heapless::Vec::new();
        for (n, v) in self.headers.iter() {
            let _ = headers.push((text(*n)?, text(*v)?));
        }
        Ok(Request {
            method,
            url: text(self.url)?,
            headers,
            content_length,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_reports_exact_need() {
        let mut buf = [0u8; 256];
        let mut w = HeadWriter::new(&mut buf, 3);
        w.url(format_args!("http://h/{}", "p"));
        w.header("Authorization", format_args!("tok"));
        let r = w.finish(Method::Post, Some(5), None).unwrap();
        assert_eq!(r.url, "http://h/p");
        assert_eq!(r.header("authorization"), Some("tok"));
        assert_eq!(r.header("content-length"), Some("5"));
        assert_eq!(r.header("user-agent"), Some(crate::USER_AGENT));

        let mut small = [0u8; 8];
        let mut w = HeadWriter::new(&mut small, 0);
        w.url(format_args!("http://h/p"));
        let needed = match w.finish(Method::Get, None, None) {
            Err(Error::BufferTooSmall { needed }) => needed,
            other => panic!("{other:?}"),
        };
        let mut exact = [0u8; 64];
        let mut w = HeadWriter::new(&mut exact[..needed], 0);
        w.url(format_args!("http://h/p"));
        assert!(w.finish(Method::Get, None, None).is_ok());
    }
}

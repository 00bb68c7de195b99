//! A sans-IO HTTP/1.1 client codec over any byte stream, shared by the blocking
//! [`StreamTransport`](crate::stream::StreamTransport) and the async
//! [`AsyncTransport`](crate::asynch) (feature `async`).
//!
//! It only moves bytes: it renders the core's [`Request`] head (never chunked: the body goes
//! out with the `Content-Length` the core computed), parses the answer head with `httparse`
//! and frames the answer body (`Content-Length`, `chunked`, or until the peer closes). It
//! never looks at a status code beyond what HTTP framing needs (1xx, 204, 304).
//!
//! Untrusted input gets a typed error: an answer head larger than the caller's buffer, a
//! malformed head, a bad chunk size or conflicting lengths are
//! [`TransportError::Receive`]; a request that cannot be written safely (CR/LF in a header,
//! a URL that is not `http://` or `https://`) is [`TransportError::Unsupported`].

use b2_core::http::{Headers, Method, Request, TransportError};
use b2_core::op::Exchange;

/// Most answer headers the codec reads (B2 sends about 15 on a download with file info).
pub const MAX_ANSWER_HEADERS: usize = 40;

/// Where a request goes, split out of its absolute URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target<'a> {
    /// `https://` (the connector must wrap the stream in TLS) or `http://`.
    pub tls: bool,
    /// Host name or IP literal (IPv6 without brackets).
    pub host: &'a str,
    /// Port (the scheme's default when the URL names none).
    pub port: u16,
    /// `host[:port]` exactly as in the URL: the `Host` header.
    pub authority: &'a str,
    /// Path and query (`/` when empty).
    pub path: &'a str,
}

/// Splits an absolute `http://` or `https://` URL. Anything else is `Unsupported`.
pub fn parse_url(url: &str) -> Result<Target<'_>, TransportError> {
    let (tls, rest) = if let Some(r) = strip_prefix_ci(url, "http://") {
        (false, r)
    } else if let Some(r) = strip_prefix_ci(url, "https://") {
        (true, r)
    } else {
        return Err(TransportError::Unsupported);
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let path = match path.find('#') {
        Some(i) => &path[..i],
        None => path,
    };
    let path = if path.is_empty() { "/" } else { path };
    if authority.is_empty() || authority.contains('@') {
        return Err(TransportError::Unsupported);
    }
    let (host, port) = if let Some(r) = authority.strip_prefix('[') {
        let close = r.find(']').ok_or(TransportError::Unsupported)?;
        let host = &r[..close];
        let after = &r[close + 1..];
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => {
            if tls {
                443
            } else {
                80
            }
        }
        Some(p) => p.parse::<u16>().map_err(|_| TransportError::Unsupported)?,
    };
    if host.is_empty() || !is_token_text(authority) || !is_token_text(path) {
        return Err(TransportError::Unsupported);
    }
    Ok(Target {
        tls,
        host,
        port,
        authority,
        path,
    })
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Visible ASCII only: no space, no control byte (no header or request-line injection).
fn is_token_text(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_graphic())
}

/// A header value may hold spaces and tabs but never CR, LF or another control byte.
fn is_header_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// A request head ready to be written out in pieces through any buffer size.
pub struct RequestHead<'r, 'a> {
    req: &'r Request<'a>,
    target: Target<'a>,
    /// A POST without a body still says `Content-Length: 0` (never chunked, never ambiguous).
    add_zero_length: bool,
    piece: usize,
    offset: usize,
}

impl<'r, 'a> RequestHead<'r, 'a> {
    /// Checks `req` (URL, header names and values) and prepares its head.
    pub fn new(req: &'r Request<'a>) -> Result<Self, TransportError> {
        let target = parse_url(req.url)?;
        let mut has_length = false;
        for &(k, v) in req.headers.iter() {
            if k.is_empty() || !is_token_text(k) || k.contains(':') || !is_header_value(v) {
                return Err(TransportError::Unsupported);
            }
            if k.eq_ignore_ascii_case("host") || k.eq_ignore_ascii_case("transfer-encoding") {
                return Err(TransportError::Unsupported);
            }
            has_length |= k.eq_ignore_ascii_case("content-length");
        }
        // The core always states the length of a body; a body without it would be chunked.
        if req.content_length.is_some_and(|n| n > 0) && !has_length {
            return Err(TransportError::Unsupported);
        }
        Ok(RequestHead {
            req,
            target,
            add_zero_length: req.method == Method::Post && !has_length,
            piece: 0,
            offset: 0,
        })
    }

    /// Where the request goes.
    pub fn target(&self) -> Target<'a> {
        self.target
    }

    /// The `i`th piece of the head, in order; `None` past the end.
    fn piece(&self, i: usize) -> Option<&'a [u8]> {
        const FIXED: usize = 5;
        let p: &'a [u8] = match i {
            0 => self.req.method.as_str().as_bytes(),
            1 => b" ",
            2 => self.target.path.as_bytes(),
            3 => b" HTTP/1.1\r\nHost: ",
            4 => self.target.authority.as_bytes(),
            _ => {
                let j = i - FIXED;
                let n = self.req.headers.len();
                if j < n * 4 {
                    let (k, v) = self.req.headers[j / 4];
                    match j % 4 {
                        0 => b"\r\n",
                        1 => k.as_bytes(),
                        2 => b": ",
                        _ => v.as_bytes(),
                    }
                } else {
                    match (j - n * 4, self.add_zero_length) {
                        (0, true) => b"\r\nContent-Length: 0",
                        (0, false) | (1, true) => b"\r\n\r\n",
                        _ => return None,
                    }
                }
            }
        };
        Some(p)
    }

    /// Copies the next bytes of the head into `out`; returns how many (0 when it is all out).
    pub fn fill(&mut self, out: &mut [u8]) -> usize {
        let mut n = 0;
        while n < out.len() {
            let Some(p) = self.piece(self.piece) else {
                break;
            };
            let rest = p.get(self.offset..).unwrap_or(&[]);
            let take = rest.len().min(out.len() - n);
            out[n..n + take].copy_from_slice(&rest[..take]);
            n += take;
            self.offset += take;
            if self.offset >= p.len() {
                self.piece += 1;
                self.offset = 0;
            }
        }
        n
    }
}

/// How the answer body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD, 1xx, 204, 304, or `Content-Length: 0`).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the peer closes the connection.
    UntilClose,
}

/// What a complete answer head said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnswerHead {
    /// Bytes of the head in the buffer (the body starts right after).
    pub head_len: usize,
    /// The status code (already handed to the exchange).
    pub status: u16,
    /// How the body is delimited.
    pub framing: Framing,
    /// Whether the connection may carry another request afterwards.
    pub keep_alive: bool,
}

/// The answer head's headers, as the core reads them.
struct ParsedHeaders<'h, 'b>(&'h [httparse::Header<'b>]);

impl Headers for ParsedHeaders<'_, '_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| core::str::from_utf8(h.value).ok())
            .map(str::trim)
    }
}

/// Parses the answer head at the start of `buf[..filled]`. `Ok(None)`: incomplete, read
/// more (if `filled == buf.len()` the head does not fit: an error). On a complete final
/// head, hands its status and headers to `ex` and says how the body is framed; an
/// interim 1xx head is skipped (its bytes are dropped from `buf` and `filled` shrinks).
pub fn parse_answer_head(
    buf: &mut [u8],
    filled: &mut usize,
    method: Method,
    ex: &mut dyn Exchange,
) -> Result<Option<AnswerHead>, TransportError> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_ANSWER_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        let data = buf.get(..*filled).ok_or(TransportError::Receive)?;
        let head_len = match resp.parse(data) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => {
                if *filled >= buf.len() {
                    // Larger than the caller's buffer: refuse, never grow.
                    return Err(TransportError::Receive);
                }
                return Ok(None);
            }
            Err(_) => return Err(TransportError::Receive),
        };
        let status = resp.code.ok_or(TransportError::Receive)?;
        if (100..200).contains(&status) {
            if status == 101 {
                return Err(TransportError::Receive);
            }
            buf.copy_within(head_len..*filled, 0);
            *filled -= head_len;
            continue;
        }
        let hs = ParsedHeaders(resp.headers);
        let framing = framing(&hs, method, status)?;
        let close =
            hs.0.iter()
                .filter(|h| h.name.eq_ignore_ascii_case("connection"))
                .any(|h| {
                    core::str::from_utf8(h.value)
                        .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
                });
        let http10 = resp.version == Some(0);
        ex.response(status, &hs)
            .map_err(|_| TransportError::Aborted)?;
        return Ok(Some(AnswerHead {
            head_len,
            status,
            framing,
            keep_alive: !close && !http10 && framing != Framing::UntilClose,
        }));
    }
}

/// Framing of an answer from its headers (RFC 9112 §6.3).
fn framing(
    h: &ParsedHeaders<'_, '_>,
    method: Method,
    status: u16,
) -> Result<Framing, TransportError> {
    if method == Method::Head || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    let mut te_chunked = false;
    let mut te_other = false;
    let mut length: Option<u64> = None;
    for hd in h.0 {
        if hd.name.eq_ignore_ascii_case("transfer-encoding") {
            let v = core::str::from_utf8(hd.value).map_err(|_| TransportError::Receive)?;
            for t in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                // chunked must be the last coding.
                te_other |= te_chunked;
                te_chunked = false;
                if t.eq_ignore_ascii_case("chunked") {
                    te_chunked = true;
                } else {
                    te_other = true;
                }
            }
        } else if hd.name.eq_ignore_ascii_case("content-length") {
            let v = core::str::from_utf8(hd.value).map_err(|_| TransportError::Receive)?;
            let v = v.trim();
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TransportError::Receive);
            }
            let n: u64 = v.parse().map_err(|_| TransportError::Receive)?;
            if length.is_some_and(|l| l != n) {
                return Err(TransportError::Receive);
            }
            length = Some(n);
        }
    }
    if te_chunked && !te_other {
        return Ok(Framing::Chunked);
    }
    if te_other {
        // A coding this client cannot undo: the body length is unknowable.
        return Err(TransportError::Receive);
    }
    Ok(match length {
        Some(0) => Framing::Empty,
        Some(n) => Framing::Length(n),
        None => Framing::UntilClose,
    })
}

/// Where the chunked decoder is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    /// Reading the hex size; `digits` so far.
    Size { size: u64, digits: u8 },
    /// In a chunk extension, up to the line's end.
    Ext { size: u64 },
    /// Saw CR after the size line; expecting LF.
    SizeLf { size: u64 },
    /// Chunk data; bytes left.
    Data { left: u64 },
    /// After the data: CR.
    DataCr,
    /// After the data: LF.
    DataLf,
    /// In the trailer section; `empty` when the current line has no byte yet.
    Trailer { empty: bool },
    /// Saw CR in the trailer.
    TrailerLf { empty: bool },
}

/// The answer body decoder: feed it the bytes read; it hands out body data and says when
/// the body is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyReader {
    state: BodyState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyState {
    Length(u64),
    Chunked(Chunk),
    UntilClose,
    Done,
}

/// A chunk-size line longer than this many hex digits is refused (2^64 would overflow).
const MAX_CHUNK_DIGITS: u8 = 15;

impl BodyReader {
    /// A decoder for a body framed as `framing`.
    pub fn new(framing: Framing) -> Self {
        BodyReader {
            state: match framing {
                Framing::Empty | Framing::Length(0) => BodyState::Done,
                Framing::Length(n) => BodyState::Length(n),
                Framing::Chunked => BodyState::Chunked(Chunk::Size { size: 0, digits: 0 }),
                Framing::UntilClose => BodyState::UntilClose,
            },
        }
    }

    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        self.state == BodyState::Done
    }

    /// Decodes `input`, passing body bytes to `out`; returns how many input bytes were
    /// consumed (fewer than `input.len()` only once the body is complete: the rest belongs
    /// to no answer).
    pub fn feed(
        &mut self,
        input: &[u8],
        out: &mut dyn FnMut(&[u8]) -> Result<(), TransportError>,
    ) -> Result<usize, TransportError> {
        let mut i = 0;
        while i < input.len() {
            match &mut self.state {
                BodyState::Done => break,
                BodyState::UntilClose => {
                    out(&input[i..])?;
                    i = input.len();
                }
                BodyState::Length(left) => {
                    let take = (input.len() - i).min(usize::try_from(*left).unwrap_or(usize::MAX));
                    out(&input[i..i + take])?;
                    i += take;
                    *left -= take as u64;
                    if *left == 0 {
                        self.state = BodyState::Done;
                    }
                }
                BodyState::Chunked(c) => {
                    if let Chunk::Data { left } = c {
                        let take =
                            (input.len() - i).min(usize::try_from(*left).unwrap_or(usize::MAX));
                        out(&input[i..i + take])?;
                        i += take;
                        *left -= take as u64;
                        if *left == 0 {
                            *c = Chunk::DataCr;
                        }
                        continue;
                    }
                    let b = input[i];
                    i += 1;
                    let next = chunk_byte(*c, b)?;
                    match next {
                        Some(n) => *c = n,
                        None => self.state = BodyState::Done,
                    }
                }
            }
        }
        Ok(i)
    }

    /// The peer closed the connection: fine only for a body delimited by the close.
    pub fn eof(&mut self) -> Result<(), TransportError> {
        match self.state {
            BodyState::UntilClose | BodyState::Done => {
                self.state = BodyState::Done;
                Ok(())
            }
            _ => Err(TransportError::Receive),
        }
    }
}

/// One framing byte of a chunked body; `None` when the body ends.
fn chunk_byte(c: Chunk, b: u8) -> Result<Option<Chunk>, TransportError> {
    let bad = Err(TransportError::Receive);
    Ok(Some(match c {
        Chunk::Size { size, digits } => match b {
            b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                if digits >= MAX_CHUNK_DIGITS {
                    return bad;
                }
                let d = (b as char).to_digit(16).unwrap_or(0) as u64;
                Chunk::Size {
                    size: size * 16 + d,
                    digits: digits + 1,
                }
            }
            b';' | b' ' | b'\t' if digits > 0 => Chunk::Ext { size },
            b'\r' if digits > 0 => Chunk::SizeLf { size },
            _ => return bad,
        },
        Chunk::Ext { size } => match b {
            b'\r' => Chunk::SizeLf { size },
            b'\n' => return bad,
            _ => Chunk::Ext { size },
        },
        Chunk::SizeLf { size } => match (b, size) {
            (b'\n', 0) => Chunk::Trailer { empty: true },
            (b'\n', n) => Chunk::Data { left: n },
            _ => return bad,
        },
        Chunk::Data { .. } => return bad,
        Chunk::DataCr => match b {
            b'\r' => Chunk::DataLf,
            _ => return bad,
        },
        Chunk::DataLf => match b {
            b'\n' => Chunk::Size { size: 0, digits: 0 },
            _ => return bad,
        },
        Chunk::Trailer { empty } => match b {
            b'\r' => Chunk::TrailerLf { empty },
            b'\n' => return bad,
            _ => Chunk::Trailer { empty: false },
        },
        Chunk::TrailerLf { empty } => match (b, empty) {
            (b'\n', true) => return Ok(None),
            (b'\n', false) => Chunk::Trailer { empty: true },
            _ => return bad,
        },
    }))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use b2_core::op::Abort;
    use std::string::String;
    use std::vec::Vec;

    #[test]
    fn urls() {
        let t = parse_url("http://127.0.0.1:8080/b2api/v4/x?a=b").unwrap();
        assert_eq!(
            t,
            Target {
                tls: false,
                host: "127.0.0.1",
                port: 8080,
                authority: "127.0.0.1:8080",
                path: "/b2api/v4/x?a=b"
            }
        );
        let t = parse_url("HTTPS://api.backblazeb2.com").unwrap();
        assert_eq!((t.tls, t.port, t.path), (true, 443, "/"));
        let t = parse_url("http://[::1]:9/p").unwrap();
        assert_eq!((t.host, t.port), ("::1", 9));
        for bad in [
            "ftp://x/",
            "http://",
            "http://x:99999/",
            "http://x/a b",
            "http://x/\r\nEvil: 1",
            "http://u@x/",
        ] {
            assert_eq!(parse_url(bad), Err(TransportError::Unsupported), "{bad}");
        }
    }

    fn head_of(req: &Request<'_>, chunk: usize) -> String {
        let mut h = RequestHead::new(req).unwrap();
        let mut out = Vec::new();
        let mut buf = std::vec![0u8; chunk];
        loop {
            let n = h.fill(&mut buf);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn request_heads_in_any_buffer_size() {
        let mut headers = heapless::Vec::new();
        headers.push(("Authorization", "tok")).unwrap();
        headers.push(("Content-Length", "5")).unwrap();
        let req = Request {
            method: Method::Post,
            url: "http://h:1/up?x",
            headers,
            content_length: Some(5),
        };
        let want =
            "POST /up?x HTTP/1.1\r\nHost: h:1\r\nAuthorization: tok\r\nContent-Length: 5\r\n\r\n";
        for chunk in [1, 3, 7, 64, 4096] {
            assert_eq!(head_of(&req, chunk), want);
        }
        // A POST without a body still states its length.
        let req = Request {
            method: Method::Post,
            url: "http://h/",
            headers: heapless::Vec::new(),
            content_length: None,
        };
        assert_eq!(
            head_of(&req, 5),
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn request_heads_refuse_injection_and_missing_length() {
        let mut headers = heapless::Vec::new();
        headers.push(("X-Bz-Info-a", "1\r\nEvil: yes")).unwrap();
        let req = Request {
            method: Method::Get,
            url: "http://h/",
            headers,
            content_length: None,
        };
        assert!(matches!(
            RequestHead::new(&req),
            Err(TransportError::Unsupported)
        ));
        let req = Request {
            method: Method::Post,
            url: "http://h/",
            headers: heapless::Vec::new(),
            content_length: Some(3),
        };
        assert!(matches!(
            RequestHead::new(&req),
            Err(TransportError::Unsupported)
        ));
    }

    /// Records what the codec hands to the exchange.
    #[derive(Default)]
    struct Rec {
        status: u16,
        length: Option<String>,
    }
    impl Exchange for Rec {
        fn request(&mut self) -> Result<Request<'_>, Abort> {
            Err(Abort)
        }
        fn body(&mut self, _: &mut [u8]) -> Result<usize, Abort> {
            Ok(0)
        }
        fn response(&mut self, status: u16, headers: &dyn Headers) -> Result<(), Abort> {
            self.status = status;
            self.length = headers.get("content-length").map(String::from);
            Ok(())
        }
        fn response_body(&mut self, _: &[u8]) -> Result<(), Abort> {
            Ok(())
        }
        fn response_end(&mut self) -> Result<(), Abort> {
            Ok(())
        }
    }

    fn head(text: &str, cap: usize, method: Method) -> Result<Option<AnswerHead>, TransportError> {
        let mut buf = std::vec![0u8; cap];
        let n = text.len().min(cap);
        buf[..n].copy_from_slice(&text.as_bytes()[..n]);
        let mut filled = n;
        parse_answer_head(&mut buf, &mut filled, method, &mut Rec::default())
    }

    #[test]
    fn answer_heads() {
        let h = head(
            "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nbody",
            256,
            Method::Get,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (h.status, h.framing, h.keep_alive),
            (200, Framing::Length(12), true)
        );
        assert_eq!(h.head_len, 39);
        let h = head(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            256,
            Method::Get,
        );
        assert_eq!(h, Err(TransportError::Receive), "a coding we cannot undo");
        let h = head(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            256,
            Method::Get,
        )
        .unwrap()
        .unwrap();
        assert_eq!((h.framing, h.keep_alive), (Framing::Chunked, false));
        let h = head("HTTP/1.1 200 OK\r\n\r\n", 256, Method::Get)
            .unwrap()
            .unwrap();
        assert_eq!((h.framing, h.keep_alive), (Framing::UntilClose, false));
        let h = head(
            "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
            256,
            Method::Head,
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.framing, Framing::Empty);
        // Conflicting, signed or absurd lengths.
        for bad in ["1, 2", "-1", "99999999999999999999999", "0x10"] {
            let t = std::format!("HTTP/1.1 200 OK\r\nContent-Length: {bad}\r\n\r\n");
            assert_eq!(
                head(&t, 256, Method::Get),
                Err(TransportError::Receive),
                "{bad}"
            );
        }
        let t = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(head(t, 256, Method::Get), Err(TransportError::Receive));
        // Incomplete: read more; too big for the buffer: refused.
        assert_eq!(head("HTTP/1.1 200 OK\r\n", 256, Method::Get), Ok(None));
        assert_eq!(
            head(
                "HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaa\r\n\r\n",
                30,
                Method::Get
            ),
            Err(TransportError::Receive)
        );
        assert_eq!(
            head("garbage\r\n\r\n", 256, Method::Get),
            Err(TransportError::Receive)
        );
        // An interim 100 is skipped.
        let h = head(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            256,
            Method::Post,
        )
        .unwrap()
        .unwrap();
        assert_eq!((h.status, h.framing), (204, Framing::Empty));
    }

    fn decode(
        framing: Framing,
        input: &[u8],
        step: usize,
    ) -> Result<(Vec<u8>, bool, usize), TransportError> {
        let mut r = BodyReader::new(framing);
        let mut out = Vec::new();
        let mut used = 0;
        for piece in input.chunks(step) {
            let n = r.feed(piece, &mut |d| {
                out.extend_from_slice(d);
                Ok(())
            })?;
            used += n;
            if n < piece.len() {
                break;
            }
        }
        Ok((out, r.is_done(), used))
    }

    #[test]
    fn chunked_bodies() {
        let body = b"5\r\nhello\r\nA;ext=1\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        for step in [1, 2, 5, 100] {
            let (out, done, used) = decode(Framing::Chunked, body, step).unwrap();
            assert_eq!(out, b"hello0123456789");
            assert!(done);
            assert_eq!(used, body.len() - 4, "stops before the next answer");
        }
        for bad in [
            &b"x\r\n"[..],
            b"5\r\nhelloXX",
            b"\r\n",
            b"fffffffffffffffff\r\n",
            b"5\nhello",
        ] {
            assert_eq!(
                decode(Framing::Chunked, bad, 1),
                Err(TransportError::Receive),
                "{bad:?}"
            );
        }
        // Truncated: not done, and EOF is an error.
        let (_, done, _) = decode(Framing::Chunked, b"5\r\nhel", 1).unwrap();
        assert!(!done);
        let mut r = BodyReader::new(Framing::Chunked);
        assert_eq!(r.eof(), Err(TransportError::Receive));
    }

    #[test]
    fn length_and_close_bodies() {
        let (out, done, used) = decode(Framing::Length(5), b"helloEXTRA", 3).unwrap();
        assert_eq!((out.as_slice(), done, used), (&b"hello"[..], true, 5));
        let (out, done, _) = decode(Framing::UntilClose, b"abc", 2).unwrap();
        assert_eq!((out.as_slice(), done), (&b"abc"[..], false));
        let mut r = BodyReader::new(Framing::UntilClose);
        assert_eq!(r.eof(), Ok(()));
        let mut r = BodyReader::new(Framing::Length(3));
        assert_eq!(r.eof(), Err(TransportError::Receive));
        assert!(BodyReader::new(Framing::Empty).is_done());
    }
}

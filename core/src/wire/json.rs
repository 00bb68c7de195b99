//! A small zero-copy JSON reader and writer, enough for B2's answers and request bodies.
//!
//! Reading never allocates and never recurses: objects are walked field by field
//! ([`fields`]), arrays item by item ([`items`]), nested values are handed out as raw slices.
//! Strings stay raw ([`Text`]) until the caller asks for them unescaped. Writing goes into a
//! caller buffer and reports the exact size needed when it does not fit.

use crate::error::{BadAnswer, Error};
use crate::wire::Answer;
use core::marker::PhantomData;

/// A JSON string as it appears between its quotes (escapes not yet decoded).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text<'a>(&'a str);

impl core::fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.0, f)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Text<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "{=str}", self.0)
    }
}

impl<'a> Text<'a> {
    /// Wraps raw string contents (for tests and callers that build answers).
    pub const fn from_raw(raw: &'a str) -> Self {
        Text(raw)
    }

    /// The raw contents, escapes included. Equal to the text when [`Text::has_escapes`] is false.
    pub fn raw(&self) -> &'a str {
        self.0
    }

    /// True when the string contains `\` escapes.
    pub fn has_escapes(&self) -> bool {
        self.0.as_bytes().contains(&b'\\')
    }

    /// The text without escapes, borrowed when there are none.
    pub fn as_str(&self) -> Option<&'a str> {
        (!self.has_escapes()).then_some(self.0)
    }

    /// Decoded characters.
    pub fn chars(&self) -> impl Iterator<Item = Result<char, BadAnswer>> + 'a {
        Unescape {
            s: self.0.chars(),
            done: false,
        }
    }

    /// Length of the decoded text in UTF-8 bytes.
    pub fn decoded_len(&self) -> Result<usize, BadAnswer> {
        self.chars().try_fold(0, |n, c| c.map(|c| n + c.len_utf8()))
    }

    /// Decodes into `out`; fails with [`Error::BufferTooSmall`] when `out` is too small.
    pub fn unescape<'o>(&self, out: &'o mut [u8]) -> Result<&'o str, Error> {
        let needed = self.decoded_len().map_err(Error::BadAnswer)?;
        if needed > out.len() {
            return Err(Error::BufferTooSmall { needed });
        }
        let mut n = 0;
        for c in self.chars() {
            let c = c.map_err(Error::BadAnswer)?;
            let dst = out
                .get_mut(n..n + c.len_utf8())
                .ok_or(Error::BufferTooSmall { needed })?;
            c.encode_utf8(dst);
            n += c.len_utf8();
        }
        core::str::from_utf8(out.get(..n).unwrap_or(&[]))
            .map_err(|_| Error::BadAnswer(BadAnswer::Json))
    }

    /// Compares the decoded text with `s`.
    pub fn eq_str(&self, s: &str) -> bool {
        let mut mine = self.chars();
        let mut theirs = s.chars();
        loop {
            match (mine.next(), theirs.next()) {
                (None, None) => return true,
                (Some(Ok(a)), Some(b)) if a == b => {}
                _ => return false,
            }
        }
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        self.eq_str(other)
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.eq_str(other)
    }
}

struct Unescape<'a> {
    s: core::str::Chars<'a>,
    done: bool,
}

impl Unescape<'_> {
    fn hex4(&mut self) -> Option<u32> {
        let mut v = 0;
        for _ in 0..4 {
            v = v << 4 | self.s.next()?.to_digit(16)?;
        }
        Some(v)
    }
}

impl Iterator for Unescape<'_> {
    type Item = Result<char, BadAnswer>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let c = self.s.next()?;
        if c != '\\' {
            return Some(Ok(c));
        }
        let r = match self.s.next() {
            Some('"') => Some('"'),
            Some('\\') => Some('\\'),
            Some('/') => Some('/'),
            Some('b') => Some('\u{8}'),
            Some('f') => Some('\u{c}'),
            Some('n') => Some('\n'),
            Some('r') => Some('\r'),
            Some('t') => Some('\t'),
            Some('u') => match self.hex4() {
                Some(hi @ 0xD800..=0xDBFF) => {
                    let lo = match (self.s.next(), self.s.next()) {
                        (Some('\\'), Some('u')) => self.hex4(),
                        _ => None,
                    };
                    lo.filter(|lo| (0xDC00..=0xDFFF).contains(lo))
                        .and_then(|lo| {
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                        })
                }
                Some(v) => char::from_u32(v),
                None => None,
            },
            _ => None,
        };
        match r {
            Some(c) => Some(Ok(c)),
            None => {
                self.done = true;
                Some(Err(BadAnswer::Json))
            }
        }
    }
}

/// One JSON value; containers stay raw (brackets included) for lazy walking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// A string.
    Str(Text<'a>),
    /// A number, as written.
    Num(&'a str),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An object, raw.
    Object(&'a [u8]),
    /// An array, raw.
    Array(&'a [u8]),
}

impl<'a> Value<'a> {
    /// The string, or a [`BadAnswer::Json`].
    pub fn text(self) -> Result<Text<'a>, BadAnswer> {
        match self {
            Value::Str(t) => Ok(t),
            _ => Err(BadAnswer::Json),
        }
    }

    /// The string, `None` for `null`.
    pub fn opt_text(self) -> Result<Option<Text<'a>>, BadAnswer> {
        match self {
            Value::Null => Ok(None),
            v => v.text().map(Some),
        }
    }

    /// A non-negative integer.
    pub fn u64(self) -> Result<u64, BadAnswer> {
        match self {
            Value::Num(n) => n.parse().map_err(|_| BadAnswer::Json),
            _ => Err(BadAnswer::Json),
        }
    }

    /// A non-negative integer that fits 32 bits.
    pub fn u32(self) -> Result<u32, BadAnswer> {
        u32::try_from(self.u64()?).map_err(|_| BadAnswer::Json)
    }

    /// An integer, `None` for `null`.
    pub fn opt_u64(self) -> Result<Option<u64>, BadAnswer> {
        match self {
            Value::Null => Ok(None),
            v => v.u64().map(Some),
        }
    }

    /// A 32-bit integer, `None` for `null`.
    pub fn opt_u32(self) -> Result<Option<u32>, BadAnswer> {
        match self {
            Value::Null => Ok(None),
            v => v.u32().map(Some),
        }
    }

    /// A boolean.
    pub fn bool(self) -> Result<bool, BadAnswer> {
        match self {
            Value::Bool(b) => Ok(b),
            _ => Err(BadAnswer::Json),
        }
    }

    /// The raw object, `None` for `null`.
    pub fn opt_object(self) -> Result<Option<&'a [u8]>, BadAnswer> {
        match self {
            Value::Null => Ok(None),
            Value::Object(o) => Ok(Some(o)),
            _ => Err(BadAnswer::Json),
        }
    }

    /// The raw object.
    pub fn object(self) -> Result<&'a [u8], BadAnswer> {
        self.opt_object()?.ok_or(BadAnswer::Json)
    }

    /// The raw array, `None` for `null`.
    pub fn opt_array(self) -> Result<Option<&'a [u8]>, BadAnswer> {
        match self {
            Value::Null => Ok(None),
            Value::Array(a) => Ok(Some(a)),
            _ => Err(BadAnswer::Json),
        }
    }

    /// The raw array.
    pub fn array(self) -> Result<&'a [u8], BadAnswer> {
        self.opt_array()?.ok_or(BadAnswer::Json)
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Result<(), BadAnswer> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(BadAnswer::Json)
        }
    }

    fn string(&mut self) -> Result<Text<'a>, BadAnswer> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            match self.b.get(self.i) {
                None => return Err(BadAnswer::Json),
                Some(b'"') => break,
                Some(b'\\') => self.i += 2,
                Some(c) if *c < 0x20 => return Err(BadAnswer::Json),
                Some(_) => self.i += 1,
            }
        }
        let raw = self.b.get(start..self.i).ok_or(BadAnswer::Json)?;
        self.i += 1;
        core::str::from_utf8(raw)
            .map(Text)
            .map_err(|_| BadAnswer::Json)
    }

    fn container(&mut self) -> Result<&'a [u8], BadAnswer> {
        let start = self.i;
        let mut depth = 0usize;
        loop {
            match self.b.get(self.i) {
                None => return Err(BadAnswer::Json),
                Some(b'{' | b'[') => {
                    depth += 1;
                    self.i += 1;
                }
                Some(b'}' | b']') => {
                    depth = depth.checked_sub(1).ok_or(BadAnswer::Json)?;
                    self.i += 1;
                    if depth == 0 {
                        break;
                    }
                }
                Some(b'"') => {
                    self.string()?;
                }
                Some(_) => self.i += 1,
            }
        }
        // The inside is checked lazily, by whoever walks it (no recursion here, so deep
        // nesting from the network cannot exhaust a small stack).
        self.b.get(start..self.i).ok_or(BadAnswer::Json)
    }

    fn value(&mut self) -> Result<Value<'a>, BadAnswer> {
        match self.peek().ok_or(BadAnswer::Json)? {
            b'"' => self.string().map(Value::Str),
            b'{' => self.container().map(Value::Object),
            b'[' => self.container().map(Value::Array),
            b't' => self.word(b"true", Value::Bool(true)),
            b'f' => self.word(b"false", Value::Bool(false)),
            b'n' => self.word(b"null", Value::Null),
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                while matches!(
                    self.b.get(self.i),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.i += 1;
                }
                let raw = self.b.get(start..self.i).ok_or(BadAnswer::Json)?;
                core::str::from_utf8(raw)
                    .map(Value::Num)
                    .map_err(|_| BadAnswer::Json)
            }
            _ => Err(BadAnswer::Json),
        }
    }

    fn word(&mut self, w: &[u8], v: Value<'a>) -> Result<Value<'a>, BadAnswer> {
        if self.b.get(self.i..self.i + w.len()) == Some(w) {
            self.i += w.len();
            Ok(v)
        } else {
            Err(BadAnswer::Json)
        }
    }
}

/// Walks the fields of a JSON object: `(name, value)` pairs, in order.
pub fn fields(object: &[u8]) -> Fields<'_> {
    Fields {
        c: Cursor { b: object, i: 0 },
        state: 0,
    }
}

/// Iterator returned by [`fields`]. After an error it ends.
pub struct Fields<'a> {
    c: Cursor<'a>,
    /// 0: before `{`, 1: after `{`, 2: after a field, 3: finished.
    state: u8,
}

impl<'a> Fields<'a> {
    fn step(&mut self) -> Result<Option<(Text<'a>, Value<'a>)>, BadAnswer> {
        if self.state == 0 {
            self.c.eat(b'{')?;
            self.state = 1;
        }
        match (self.state, self.c.peek()) {
            (1 | 2, Some(b'}')) => {
                self.c.i += 1;
                self.state = 3;
                if self.c.peek().is_some() {
                    return Err(BadAnswer::Json);
                }
                return Ok(None);
            }
            (2, Some(b',')) => self.c.i += 1,
            (1, _) => {}
            _ => return Err(BadAnswer::Json),
        }
        let key = self.c.string()?;
        self.c.eat(b':')?;
        let v = self.c.value()?;
        self.state = 2;
        Ok(Some((key, v)))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(Text<'a>, Value<'a>), BadAnswer>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.state == 3 {
            return None;
        }
        match self.step() {
            Ok(Some(f)) => Some(Ok(f)),
            Ok(None) => None,
            Err(e) => {
                self.state = 3;
                Some(Err(e))
            }
        }
    }
}

/// Walks the values of a JSON array, in order.
pub fn items(array: &[u8]) -> Items<'_> {
    Items {
        c: Cursor { b: array, i: 0 },
        state: 0,
    }
}

/// Iterator returned by [`items`]. After an error it ends.
#[derive(Clone)]
pub struct Items<'a> {
    c: Cursor<'a>,
    state: u8,
}

impl Clone for Cursor<'_> {
    fn clone(&self) -> Self {
        Cursor {
            b: self.b,
            i: self.i,
        }
    }
}

impl<'a> Items<'a> {
    fn step(&mut self) -> Result<Option<Value<'a>>, BadAnswer> {
        if self.state == 0 {
            self.c.eat(b'[')?;
            self.state = 1;
        }
        match (self.state, self.c.peek()) {
            (1 | 2, Some(b']')) => {
                self.c.i += 1;
                self.state = 3;
                if self.c.peek().is_some() {
                    return Err(BadAnswer::Json);
                }
                return Ok(None);
            }
            (2, Some(b',')) => self.c.i += 1,
            (1, _) => {}
            _ => return Err(BadAnswer::Json),
        }
        let v = self.c.value()?;
        self.state = 2;
        Ok(Some(v))
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Result<Value<'a>, BadAnswer>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.state == 3 {
            return None;
        }
        match self.step() {
            Ok(Some(v)) => Some(Ok(v)),
            Ok(None) => None,
            Err(e) => {
                self.state = 3;
                Some(Err(e))
            }
        }
    }
}

/// A lazily parsed array of objects: each item parses as `T` when reached.
#[derive(Clone)]
pub struct ArrayIter<'a, T> {
    items: Items<'a>,
    _t: PhantomData<T>,
}

impl<'a, T> ArrayIter<'a, T> {
    /// Wraps a raw array (as checked by the parser).
    pub fn new(array: &'a [u8]) -> Self {
        ArrayIter {
            items: items(array),
            _t: PhantomData,
        }
    }

    /// An empty array.
    pub fn empty() -> Self {
        Self::new(b"[]")
    }
}

impl<T> core::fmt::Debug for ArrayIter<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ArrayIter")
    }
}

impl<'a, T: Answer<'a>> Iterator for ArrayIter<'a, T> {
    type Item = Result<T, BadAnswer>;
    fn next(&mut self) -> Option<Self::Item> {
        let v = self.items.next()?;
        Some(v.and_then(Value::object).and_then(T::parse))
    }
}

/// A lazily walked array of strings.
#[derive(Clone)]
pub struct TextIter<'a>(Items<'a>);

impl<'a> TextIter<'a> {
    /// Wraps a raw array.
    pub fn new(array: &'a [u8]) -> Self {
        TextIter(items(array))
    }
}

impl core::fmt::Debug for TextIter<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a> Iterator for TextIter<'a> {
    type Item = Result<Text<'a>, BadAnswer>;
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.0.next()?.and_then(Value::text))
    }
}

/// A raw JSON object of string values (like `fileInfo`), walked lazily.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Map<'a>(&'a [u8]);

impl<'a> Map<'a> {
    /// Wraps a raw object (as checked by the parser).
    pub fn new(object: &'a [u8]) -> Self {
        Map(object)
    }

    /// An empty map.
    pub fn empty() -> Self {
        Map(b"{}")
    }

    /// The entries whose values are strings.
    pub fn entries(&self) -> impl Iterator<Item = (Text<'a>, Text<'a>)> + 'a {
        fields(self.0).filter_map(|f| match f {
            Ok((k, Value::Str(v))) => Some((k, v)),
            _ => None,
        })
    }

    /// The value for `key`, if present and a string.
    pub fn get(&self, key: &str) -> Option<Text<'a>> {
        self.entries().find(|(k, _)| k.eq_str(key)).map(|(_, v)| v)
    }

    /// The raw JSON.
    pub fn raw(&self) -> &'a [u8] {
        self.0
    }
}

impl core::fmt::Debug for Map<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map().entries(self.entries()).finish()
    }
}

/// Writes a JSON object into a caller buffer, counting what it could not write so that
/// [`JsonWriter::finish`] can say exactly how many bytes were needed.
pub struct JsonWriter<'b> {
    out: &'b mut [u8],
    len: usize,
    first: bool,
}

impl<'b> JsonWriter<'b> {
    /// Starts an object.
    pub fn new(out: &'b mut [u8]) -> Self {
        let mut w = JsonWriter {
            out,
            len: 0,
            first: true,
        };
        w.raw(b"{");
        w
    }

    fn raw(&mut self, b: &[u8]) {
        if let Some(dst) = self.out.get_mut(self.len..self.len + b.len()) {
            dst.copy_from_slice(b);
        }
        self.len += b.len();
    }

    fn sep(&mut self) {
        if !self.first {
            self.raw(b",");
        }
        self.first = false;
    }

    fn quoted(&mut self, s: &str) {
        self.raw(b"\"");
        let mut start = 0;
        let bytes = s.as_bytes();
        for (i, &c) in bytes.iter().enumerate() {
            let esc: &[u8] = match c {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                c if c < 0x20 || c == 0x7f => {
                    self.raw(bytes.get(start..i).unwrap_or(&[]));
                    let hex = b"0123456789abcdef";
                    self.raw(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        hex[usize::from(c >> 4)],
                        hex[usize::from(c & 15)],
                    ]);
                    start = i + 1;
                    continue;
                }
                _ => continue,
            };
            self.raw(bytes.get(start..i).unwrap_or(&[]));
            self.raw(esc);
            start = i + 1;
        }
        self.raw(bytes.get(start..).unwrap_or(&[]));
        self.raw(b"\"");
    }

    fn key(&mut self, k: &str) {
        self.sep();
        self.quoted(k);
        self.raw(b":");
    }

    /// A string field.
    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        self.quoted(v);
        self
    }

    /// A string field, left out when `None`.
    pub fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        if let Some(v) = v {
            self.str(k, v);
        }
        self
    }

    /// A number field.
    pub fn u64(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k);
        let mut digits = [0u8; 20];
        let mut n = v;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.raw(digits.get(i..).unwrap_or(&[]));
        self
    }

    /// A number field, left out when `None`.
    pub fn opt_u64(&mut self, k: &str, v: Option<u64>) -> &mut Self {
        if let Some(v) = v {
            self.u64(k, v);
        }
        self
    }

    /// A boolean field, left out when `None`.
    pub fn opt_bool(&mut self, k: &str, v: Option<bool>) -> &mut Self {
        if let Some(v) = v {
            self.key(k);
            self.raw(if v { b"true" } else { b"false" });
        }
        self
    }

    /// An array-of-strings field.
    pub fn strs<'s>(&mut self, k: &str, v: impl IntoIterator<Item = &'s str>) -> &mut Self {
        self.key(k);
        self.raw(b"[");
        for (i, s) in v.into_iter().enumerate() {
            if i > 0 {
                self.raw(b",");
            }
            self.quoted(s);
        }
        self.raw(b"]");
        self
    }

    /// An object-of-strings field (like `fileInfo`), left out when `None`.
    pub fn opt_map(&mut self, k: &str, v: Option<&[(&str, &str)]>) -> &mut Self {
        if let Some(v) = v {
            self.key(k);
            self.raw(b"{");
            for (i, (mk, mv)) in v.iter().enumerate() {
                if i > 0 {
                    self.raw(b",");
                }
                self.quoted(mk);
                self.raw(b":");
                self.quoted(mv);
            }
            self.raw(b"}");
        }
        self
    }

    /// A field whose value is already JSON (e.g. `corsRules` given by the caller).
    pub fn opt_raw(&mut self, k: &str, json: Option<&str>) -> &mut Self {
        if let Some(j) = json {
            self.key(k);
            self.raw(j.as_bytes());
        }
        self
    }

    /// A boolean field.
    pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.opt_bool(k, Some(v))
    }

    /// A null field (e.g. `{"mode": null}`).
    pub fn null(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.raw(b"null");
        self
    }

    /// Opens a nested object field `k`; close it with [`JsonWriter::end_object`].
    pub fn object(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.raw(b"{");
        self.first = true;
        self
    }

    /// Opens a nested array field `k`; close it with [`JsonWriter::end_array`].
    pub fn array(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.raw(b"[");
        self.first = true;
        self
    }

    /// Opens an object as the next item of the array being written.
    pub fn item_object(&mut self) -> &mut Self {
        self.sep();
        self.raw(b"{");
        self.first = true;
        self
    }

    /// Closes the innermost nested object.
    pub fn end_object(&mut self) -> &mut Self {
        self.raw(b"}");
        self.first = false;
        self
    }

    /// Closes the innermost nested array.
    pub fn end_array(&mut self) -> &mut Self {
        self.raw(b"]");
        self.first = false;
        self
    }

    /// Closes the object; the body's length, or [`Error::BufferTooSmall`] with the size needed.
    pub fn finish(&mut self) -> Result<usize, Error> {
        self.raw(b"}");
        if self.len > self.out.len() {
            Err(Error::BufferTooSmall { needed: self.len })
        } else {
            Ok(self.len)
        }
    }
}

/// Walks the fields of `body` and hands each to `f`; unknown fields are for `f` to ignore.
pub fn each_field<'a>(
    body: &'a [u8],
    mut f: impl FnMut(Text<'a>, Value<'a>) -> Result<(), BadAnswer>,
) -> Result<(), BadAnswer> {
    for field in fields(body) {
        let (k, v) = field?;
        f(k, v)?;
    }
    Ok(())
}

/// A field B2 wraps with the key's right to read it: `{"isClientAuthorizedToRead": bool,
/// "value": …}` (a file's `fileRetention` and `legalHold`, a bucket's
/// `defaultServerSideEncryption`, `fileLockConfiguration`, `replicationConfiguration`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wrapped<'a> {
    /// Whether the key may read the value; when `false`, `value` is `None`.
    pub is_client_authorized_to_read: bool,
    /// The value; `None` when absent, `null` or not readable by this key.
    pub value: Option<Value<'a>>,
}

impl<'a> Wrapped<'a> {
    /// Reads a wrapped field: `null` is `None`; an object with `isClientAuthorizedToRead` or
    /// `value` is the wrapper; any other value (a bare, unwrapped shape) is taken as a
    /// readable value.
    pub fn parse(v: Value<'a>) -> Result<Option<Self>, BadAnswer> {
        let bare = Wrapped {
            is_client_authorized_to_read: true,
            value: Some(v),
        };
        let Value::Object(o) = v else {
            return Ok((v != Value::Null).then_some(bare));
        };
        let (mut wrapper, mut authorized, mut value) = (false, None, None);
        each_field(o, |k, v| {
            match k.raw() {
                "isClientAuthorizedToRead" => {
                    wrapper = true;
                    authorized = match v {
                        Value::Null => None,
                        v => Some(v.bool()?),
                    };
                }
                "value" => {
                    wrapper = true;
                    value = (v != Value::Null).then_some(v);
                }
                _ => {}
            }
            Ok(())
        })?;
        if !wrapper {
            return Ok(Some(bare));
        }
        Ok(Some(Wrapped {
            is_client_authorized_to_read: authorized.unwrap_or(value.is_some()),
            value,
        }))
    }

    /// The value as text (e.g. `legalHold`'s `"on"`/`"off"`), when it is a string.
    pub fn text(&self) -> Option<Text<'a>> {
        match self.value {
            Some(Value::Str(t)) => Some(t),
            _ => None,
        }
    }

    /// The value as a raw JSON object (e.g. `fileRetention`'s `{"mode", "retainUntilTimestamp"}`).
    pub fn object(&self) -> Option<&'a [u8]> {
        match self.value {
            Some(Value::Object(o)) => Some(o),
            _ => None,
        }
    }
}

/// A required field that was missing.
pub fn required<T>(v: Option<T>) -> Result<T, BadAnswer> {
    v.ok_or(BadAnswer::Json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn walks_objects_and_arrays() {
        let body = br#" {"a": "x\"y", "n": 12, "o": {"k": [1, {"z": null}]}, "arr": ["p", "q"], "t": true} "#;
        let mut seen = 0;
        each_field(body, |k, v| {
            seen += 1;
            match k.raw() {
                "a" => assert!(v.text().expect("text").eq_str("x\"y")),
                "n" => assert_eq!(v.u64(), Ok(12)),
                "o" => assert!(v.object().is_ok()),
                "arr" => assert_eq!(TextIter::new(v.array()?).count(), 2),
                "t" => assert_eq!(v.bool(), Ok(true)),
                _ => panic!("unexpected"),
            }
            Ok(())
        })
        .expect("parse");
        assert_eq!(seen, 5);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &b"{"[..],
            b"{\"a\":}",
            b"{\"a\":1,}",
            b"{\"a\" 1}",
            b"[1,]",
            b"{} x",
            b"{\"a\":\"\x01\"}",
            b"{\"a\":[}\"}",
        ] {
            let r: Result<(), _> = fields(bad).try_for_each(|f| f.map(drop));
            assert_eq!(r, Err(BadAnswer::Json), "{:?}", core::str::from_utf8(bad));
        }
    }

    #[test]
    fn unescapes() {
        let t = Text::from_raw(r"a\u00e9\ud83d\ude00\n\/");
        let mut out = [0u8; 16];
        assert_eq!(t.unescape(&mut out).map(|s| s.len()), Ok(9));
        assert!(t.eq_str("aé😀\n/"));
        let mut small = [0u8; 3];
        assert_eq!(
            t.unescape(&mut small),
            Err(Error::BufferTooSmall { needed: 9 })
        );
        assert!(!Text::from_raw(r"\ud83d").eq_str("x"));
    }

    #[test]
    fn writer_escapes_and_counts() {
        let mut buf = [0u8; 64];
        let n = JsonWriter::new(&mut buf)
            .str("a", "q\"\\\n\u{1}")
            .u64("n", 0)
            .opt_u64("m", None)
            .strs("l", ["x", "y"])
            .opt_map("i", Some(&[("k", "v")]))
            .finish()
            .expect("fits");
        assert_eq!(
            core::str::from_utf8(&buf[..n]),
            Ok(r#"{"a":"q\"\\\n\u0001","n":0,"l":["x","y"],"i":{"k":"v"}}"#)
        );
        let mut small = [0u8; 4];
        assert_eq!(
            JsonWriter::new(&mut small).str("a", "bcdef").finish(),
            Err(Error::BufferTooSmall { needed: 13 })
        );
    }

    proptest! {
        #[test]
        fn writer_output_reads_back(s in "\\PC*", n in any::<u64>()) {
            let mut buf = [0u8; 1024];
            if let Ok(len) = JsonWriter::new(&mut buf).str("s", &s).u64("n", n).finish() {
                let mut got = (false, false);
                each_field(&buf[..len], |k, v| {
                    if k.raw() == "s" { got.0 = v.text()?.eq_str(&s); }
                    if k.raw() == "n" { got.1 = v.u64()? == n; }
                    Ok(())
                }).map_err(|_| TestCaseError::fail("parse"))?;
                prop_assert_eq!(got, (true, true));
            }
        }

        #[test]
        fn reader_never_panics(b in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = fields(&b).count();
            let _ = items(&b).count();
            for f in fields(&b).flatten() {
                let _ = f.0.decoded_len();
            }
        }

        #[test]
        fn reader_never_panics_on_jsonish(s in "[\\[\\]{}\":,a-z0-9\\\\ .-]{0,64}") {
            for f in fields(s.as_bytes()).flatten() {
                let mut out = [0u8; 8];
                let _ = f.0.unescape(&mut out);
                let _ = f.1.u64();
            }
        }
    }
}

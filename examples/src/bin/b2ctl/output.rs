//! What b2ctl prints: B2's JSON (its own camelCase field names), the official tool's `ls
//! --long` lines, raw answers of calls the client has no typed model for, and exit codes.

use std::io::{self, Write};

use b2_core::wire::json::{self, Value};
use b2_core::wire::{Answer, ApiCall};
use b2_transport_std::client::{ClientError, FileVersion};

/// Exit status: any failure not listed below (network, B2 refused, integrity, local I/O).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status: the command line was wrong (clap's own code for usage errors).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: the bucket, file or version named does not exist.
pub const EXIT_NOT_FOUND: u8 = 3;

/// The exit-status table shown at the end of `b2ctl --help`.
pub const EXIT_HELP: &str = "Exit status:
  0    success
  1    failure (network, B2 refused, integrity check, local I/O; rm: a version was left)
  2    usage error (bad arguments, bad B2 URI, invalid name)
  3    not found (no such bucket, file or version)
  130  interrupted (Ctrl-C or SIGTERM)";

/// The exit status for an error.
pub fn exit_code(e: &ClientError) -> u8 {
    match e {
        ClientError::NotFound(_) => EXIT_NOT_FOUND,
        ClientError::Core(c) => match &**c {
            b2_core::Error::Invalid(_) => EXIT_USAGE,
            b2_core::Error::Api(a)
                if a.status == 404
                    || matches!(
                        a.code,
                        b2_core::ErrorCode::NotFound
                            | b2_core::ErrorCode::NoSuchFile
                            | b2_core::ErrorCode::FileNotPresent
                    ) =>
            {
                EXIT_NOT_FOUND
            }
            _ => EXIT_FAILURE,
        },
        _ => EXIT_FAILURE,
    }
}

/// Stops with a usage error (exit status 2), in clap's format, before any network work.
pub fn usage(msg: impl std::fmt::Display) -> ! {
    use clap::CommandFactory;
    super::Cli::command()
        .error(clap::error::ErrorKind::InvalidValue, msg)
        .exit()
}

/// `s` as a JSON string, quotes included.
pub fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// A file version as B2's JSON: the server's own object when the client kept it, else one
/// built from what is known (same field names).
pub fn version_json(f: &FileVersion) -> String {
    if !f.json.is_empty() {
        return f.json.clone();
    }
    let info: Vec<String> = f
        .info
        .iter()
        .map(|(k, v)| format!("{}:{}", json_str(k), json_str(v)))
        .collect();
    let opt = |v: &Option<String>| v.as_deref().map(json_str).unwrap_or_else(|| "null".into());
    format!(
        "{{\"action\":{},\"contentLength\":{},\"contentSha1\":{},\"contentType\":{},\
         \"fileId\":{},\"fileInfo\":{{{}}},\"fileName\":{},\"uploadTimestamp\":{}}}",
        json_str(f.action.as_str()),
        f.size,
        opt(&f.content_sha1),
        opt(&f.content_type),
        json_str(&f.file_id),
        info.join(","),
        json_str(&f.file_name),
        f.upload_timestamp
    )
}

/// Writes versions as one JSON array, the official tool's `--json` for listings (items as
/// they arrive, so memory does not grow with the listing).
pub struct JsonArray {
    n: usize,
}

impl JsonArray {
    /// Starts an array.
    pub fn new() -> JsonArray {
        JsonArray { n: 0 }
    }

    /// One item (a JSON value).
    pub fn item(&mut self, out: &mut (impl Write + ?Sized), item: &str) -> io::Result<()> {
        write!(out, "{}\n{item}", if self.n == 0 { "[" } else { "," })?;
        self.n += 1;
        Ok(())
    }

    /// Closes the array (`[]` when it had no item).
    pub fn end(self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        if self.n == 0 {
            writeln!(out, "[]")
        } else {
            writeln!(out, "\n]")
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's method).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Milliseconds since the epoch as UTC `YYYY-MM-DD` and `HH:MM:SS`.
pub fn date_time(ms: u64) -> (String, String) {
    let secs = ms / 1000;
    let (y, m, d) = civil((secs / 86_400) as i64);
    let s = secs % 86_400;
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
    )
}

/// One line of the official tool's `ls --long`: file id, action, date, time, size, name
/// (`%83s  %6s  %10s  %8s  %9d  %s`); a folder shows `-` in every field but its name.
pub fn long_line(f: &FileVersion) -> String {
    if f.action == "folder" {
        return format!(
            "{:>83}  {:>6}  {:>10}  {:>8}  {:>9}  {}",
            "-", "-", "-", "-", 0, f.file_name
        );
    }
    let (date, time) = date_time(f.upload_timestamp);
    format!(
        "{:>83}  {:>6}  {:>10}  {:>8}  {:>9}  {}",
        f.file_id, f.action, date, time, f.size, f.file_name
    )
}

/// An answer kept as B2 sent it (for JSON the client has no typed model for yet).
pub struct RawAnswer<'a>(pub &'a [u8]);

impl<'a> Answer<'a> for RawAnswer<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, b2_core::error::BadAnswer> {
        // Only a JSON object is passed on.
        for f in json::fields(body) {
            f?;
        }
        Ok(RawAnswer(body))
    }
}

/// Any call, its answer kept raw.
#[derive(Clone, Copy)]
pub struct Raw<C>(pub C);

impl<C: ApiCall> ApiCall for Raw<C> {
    const NAME: &'static str = C::NAME;
    type Answer<'a> = RawAnswer<'a>;
    fn write_body(&self, account_id: &str, out: &mut [u8]) -> Result<usize, b2_core::Error> {
        self.0.write_body(account_id, out)
    }
}

/// The raw objects of the array field `field` of a JSON object.
pub fn array_items<'a>(object: &'a [u8], field: &str) -> Result<Vec<&'a [u8]>, ClientError> {
    let bad = || ClientError::Core(Box::new(b2_core::Error::BadAnswer(json_error())));
    for f in json::fields(object) {
        let (k, v) = f.map_err(|_| bad())?;
        if k.eq_str(field) {
            let Value::Array(a) = v else {
                return Err(bad());
            };
            let mut out = Vec::new();
            for item in json::items(a) {
                match item.map_err(|_| bad())? {
                    Value::Object(o) => out.push(o),
                    _ => return Err(bad()),
                }
            }
            return Ok(out);
        }
    }
    Err(bad())
}

fn json_error() -> b2_core::error::BadAnswer {
    b2_core::error::BadAnswer::Json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date_time(0), ("1970-01-01".into(), "00:00:00".into()));
        // 2026-12-01T17:47:56Z
        assert_eq!(
            date_time(1_796_147_276_000),
            ("2026-12-01".into(), "17:47:56".into())
        );
        assert_eq!(
            date_time(951_782_400_000),
            ("2000-02-29".into(), "00:00:00".into())
        );
    }

    #[test]
    fn strings() {
        assert_eq!(json_str("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
    }
}

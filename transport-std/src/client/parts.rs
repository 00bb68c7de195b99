//! The parts B2 holds of an unfinished large file (`b2_list_parts`).

use b2_core::error::BadAnswer;
use b2_core::wire::large::ListParts;

use super::{text, Client, Result};

/// One stored part of an unfinished large file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartInfo {
    /// Part number (1..=10,000).
    pub number: u32,
    /// Size in bytes.
    pub size: u64,
    /// SHA-1 of the part, 40 hex digits (as B2 reports it).
    pub sha1: Option<String>,
    /// When B2 stored it, milliseconds since the epoch.
    pub upload_timestamp: u64,
}

/// B2 holds at most this many parts of one file.
const MAX_PARTS: usize = 10_000;

impl Client {
    /// The parts B2 holds of the unfinished large file `file_id`, in part-number order
    /// (pages of 1,000; one class C call each).
    ///
    /// ```no_run
    /// let client = b2_transport_std::client::Client::from_env()?;
    /// for p in client.list_parts("4_z…_f2…")? {
    ///     println!("{:>5} {:>12} {}", p.number, p.size, p.sha1.unwrap_or_default());
    /// }
    /// # Ok::<(), b2_transport_std::client::ClientError>(())
    /// ```
    pub fn list_parts(&self, file_id: &str) -> Result<Vec<PartInfo>> {
        let mut out: Vec<PartInfo> = Vec::new();
        let mut start = None;
        loop {
            let call = ListParts {
                file_id,
                start_part_number: start,
                max_part_count: Some(1000),
            };
            let next = self
                .call(call, |a| {
                    for p in a.parts {
                        let p = p.map_err(b2_core::Error::BadAnswer)?;
                        out.push(PartInfo {
                            number: p.part_number,
                            size: p.content_length,
                            sha1: p.content_sha1.map(text),
                            upload_timestamp: p.upload_timestamp,
                        });
                    }
                    Ok(a.next_part_number)
                })
                .map_err(|e| self.explain(e, &["listFiles"]))?;
            if out.len() > MAX_PARTS {
                // More parts than B2 ever holds: a damaged answer.
                return Err(b2_core::Error::BadAnswer(BadAnswer::TooLong).into());
            }
            match next {
                // A next page must start after the parts already listed: never a loop.
                Some(n)
                    if start.is_none_or(|s| n > s) && out.last().is_none_or(|l| n > l.number) =>
                {
                    start = Some(n)
                }
                // A nextPartNumber that does not advance: a damaged answer.
                Some(_) => return Err(b2_core::Error::BadAnswer(BadAnswer::Mismatch).into()),
                None => return Ok(out),
            }
        }
    }
}

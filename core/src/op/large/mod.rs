//! Large files: the coordinator ([`LargeFile`]: start or resume, part jobs, finish), its
//! checkpoint, the sequential driver devices use ([`LargeUpload`]), and the part plan of
//! large files copied from remote ranges ([`remote`], run by [`crate::op::copy::Copy`](struct@crate::op::copy::Copy)).

pub mod checkpoint;
pub mod coordinator;
pub mod job;
pub mod remote;
pub mod sequential;

pub use checkpoint::{Checkpoint, CheckpointHead};
pub use coordinator::{stream_fits_one_request, LargeFile, Phase, Resume};
pub use job::{JobKind, PartJob};
pub use remote::{copy_part_call, PartKeys, RemoteRange};
pub use sequential::LargeUpload;

/// The finish call's body, `{"fileId":"…","partSha1Array":["…",…]}`, produced a chunk at a
/// time from 20-byte digests: any buffer size works and the whole body never exists in RAM.
pub(crate) struct FinishBody;

impl FinishBody {
    const HEAD: &'static str = "{\"fileId\":\"";
    const MID: &'static str = "\",\"partSha1Array\":[";
    const TAIL: &'static str = "]}";
    /// One entry: `"` + 40 hex + `"`, plus `,` before every entry but the first.
    const ENTRY: u64 = 42;

    /// Total body length.
    pub fn len(file_id: &str, parts: usize) -> u64 {
        let entries = parts as u64 * Self::ENTRY + (parts as u64).saturating_sub(1);
        (Self::HEAD.len() + file_id.len() + Self::MID.len() + Self::TAIL.len()) as u64 + entries
    }

    /// The body byte at `pos` (file ids are plain ASCII and need no JSON escaping).
    fn byte_at(file_id: &str, digests: &[[u8; 20]], pos: u64) -> Option<u8> {
        let mut p = pos as usize;
        for fixed_part in [Self::HEAD, file_id, Self::MID] {
            if p < fixed_part.len() {
                return fixed_part.as_bytes().get(p).copied();
            }
            p -= fixed_part.len();
        }
        let n = digests.len();
        let entries = n * Self::ENTRY as usize + n.saturating_sub(1);
        if p < entries {
            let i = p / (Self::ENTRY as usize + 1);
            let within = p % (Self::ENTRY as usize + 1);
            return Some(match within {
                0 | 41 => b'"',
                42 => b',',
                k => {
                    let d = digests.get(i)?;
                    let byte = d.get((k - 1) / 2)?;
                    let nib = if (k - 1) % 2 == 0 {
                        byte >> 4
                    } else {
                        byte & 15
                    };
                    b"0123456789abcdef".get(nib as usize).copied()?
                }
            });
        }
        Self::TAIL.as_bytes().get(p - entries).copied()
    }

    /// Fills `out` with body bytes from `pos`; returns how many.
    pub fn fill(file_id: &str, digests: &[[u8; 20]], pos: u64, out: &mut [u8]) -> usize {
        let total = Self::len(file_id, digests.len());
        let mut n = 0;
        for slot in out.iter_mut() {
            let at = pos + n as u64;
            if at >= total {
                break;
            }
            match Self::byte_at(file_id, digests, at) {
                Some(b) => *slot = b,
                None => break,
            }
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::FinishBody;
    use std::string::String;

    #[test]
    fn finish_body_streams_in_any_chunk_size() {
        let digests = [[0xab; 20], [0x01; 20], [0xff; 20]];
        let total = FinishBody::len("4_zid", digests.len()) as usize;
        for chunk in [1usize, 7, 64, 4096] {
            let mut out = String::new();
            let mut pos = 0u64;
            let mut buf = std::vec![0u8; chunk];
            loop {
                let n = FinishBody::fill("4_zid", &digests, pos, &mut buf);
                if n == 0 {
                    break;
                }
                out.push_str(core::str::from_utf8(&buf[..n]).unwrap());
                pos += n as u64;
            }
            assert_eq!(out.len(), total);
            assert_eq!(
                out,
                std::format!(
                    "{{\"fileId\":\"4_zid\",\"partSha1Array\":[\"{}\",\"{}\",\"{}\"]}}",
                    "ab".repeat(20),
                    "01".repeat(20),
                    "ff".repeat(20)
                )
            );
        }
    }
}

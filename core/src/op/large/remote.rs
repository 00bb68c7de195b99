//! Large files whose parts come from files already in B2 (`b2_copy_part`): the part plan
//! over a caller's list of remote byte ranges, and the copy-part call of a job.
//!
//! One rule cuts every source: a source of `L` bytes becomes
//! `k = max(1, ⌊L / part size⌋, ⌈L / 5 GB⌉)` parts of nearly equal length (they differ by
//! one byte at most). So every part of a source is at least the part size (or the whole
//! source), never more than 5 GB, and a source is never split into a short tail: B2 needs
//! every part but the last to be at least the minimum part size, which is why every source
//! but the last must be that long ([`InvalidInput::CopySourceTooSmall`]).
//!
//! Nothing here allocates: the sources are the caller's slice, and a part's place is
//! computed from it when asked (a walk over the sources).

use crate::error::InvalidInput;
use crate::op::large::job::{JobKind, PartJob};
use crate::validate;
use crate::wire::encryption::CustomerKey;
use crate::wire::large::CopyPart;

/// A byte range of a file already in B2 (same account), the source of one or more parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteRange<'a> {
    /// The source file's id.
    pub file_id: &'a str,
    /// First byte of the range in the source.
    pub offset: u64,
    /// Length of the range (at least 1).
    pub len: u64,
}

/// Where one part of a remote plan comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RemotePart {
    /// Index of the source in the caller's list.
    pub source: u32,
    /// Offset of the part in the source file.
    pub source_offset: u64,
    /// Offset of the part in the new file.
    pub offset: u64,
    /// Length of the part.
    pub len: u64,
}

/// How many parts a source of `len` bytes becomes (module docs).
fn parts_of(len: u64, part_size: u64) -> u64 {
    (len / part_size.max(1))
        .max(len.div_ceil(validate::MAX_PART_SIZE))
        .max(1)
}

/// Checks the sources and returns the new file's size and part count at `part_size`
/// (raised to `min_part_size`): how much digest storage [`super::LargeFile::copy`] needs.
pub fn plan(
    sources: &[RemoteRange<'_>],
    part_size: u64,
    min_part_size: u64,
) -> Result<(u64, u32), InvalidInput> {
    let part_size = part_size.max(min_part_size).max(1);
    if sources.is_empty() {
        return Err(InvalidInput::CopySourceTooSmall);
    }
    let last = sources.len() - 1;
    let (mut size, mut count) = (0u64, 0u64);
    for (i, s) in sources.iter().enumerate() {
        if s.len == 0 || (i < last && s.len < min_part_size) {
            return Err(InvalidInput::CopySourceTooSmall);
        }
        if s.offset.checked_add(s.len).is_none() {
            return Err(InvalidInput::Range);
        }
        size = size.checked_add(s.len).ok_or(InvalidInput::FileSize)?;
        count += parts_of(s.len, part_size);
        if count > u64::from(validate::MAX_PARTS) {
            return Err(InvalidInput::PartCount);
        }
    }
    let count = u32::try_from(count).map_err(|_| InvalidInput::PartCount)?;
    Ok((size, count))
}

/// Part `n` (from 1) of the plan, or `None` outside it.
pub(crate) fn locate(sources: &[RemoteRange<'_>], part_size: u64, n: u32) -> Option<RemotePart> {
    let mut first = 1u64; // number of the source's first part
    let mut offset = 0u64;
    for (i, s) in sources.iter().enumerate() {
        let k = parts_of(s.len, part_size);
        let want = u64::from(n);
        if want < first + k {
            let j = want.checked_sub(first)?;
            let (base, extra) = (s.len / k, s.len % k);
            let within = j * base + j.min(extra);
            let len = base + u64::from(j < extra);
            return Some(RemotePart {
                source: u32::try_from(i).ok()?,
                source_offset: s.offset + within,
                offset: offset + within,
                len,
            });
        }
        first += k;
        offset += s.len;
    }
    None
}

/// The SSE-C keys every `b2_copy_part` of a copy carries (B2's docs: the source's key when
/// the source is SSE-C, the large file's key when it was started with SSE-C; the call fails
/// without them).
#[derive(Clone, Copy, Debug, Default)]
pub struct PartKeys<'a> {
    /// The SSE-C key of each source, by its index in the sources (`None`, or a slice shorter
    /// than the sources: that source is not SSE-C).
    pub sources: &'a [Option<&'a CustomerKey>],
    /// The large file's SSE-C key, when it was started with SSE-C.
    pub destination: Option<&'a CustomerKey>,
}

/// The `b2_copy_part` call of a [`JobKind::Copy`] job: the range of its source, into part
/// `job.number` of `large_file_id`, with the source's and the large file's SSE-C keys from
/// `keys`. `None` for a job that is not a copy or names no source.
pub fn copy_part_call<'a>(
    sources: &[RemoteRange<'a>],
    keys: PartKeys<'a>,
    large_file_id: &'a str,
    job: &PartJob,
) -> Option<CopyPart<'a>> {
    let JobKind::Copy {
        source,
        source_offset,
    } = job.kind
    else {
        return None;
    };
    let src = sources.get(source as usize)?;
    let last = source_offset.checked_add(job.len)?.checked_sub(1)?;
    Some(CopyPart {
        source_file_id: src.file_id,
        large_file_id,
        part_number: job.number,
        range: Some((source_offset, last)),
        source_server_side_encryption: keys.sources.get(source as usize).copied().flatten(),
        destination_server_side_encryption: keys.destination,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(len: u64) -> RemoteRange<'static> {
        RemoteRange {
            file_id: "f",
            offset: 1000,
            len,
        }
    }

    #[test]
    fn each_source_is_cut_into_near_equal_parts_none_short_but_the_last() {
        let sources = [r(250), r(100), r(99), r(7)];
        // 250 at 100: two parts of 125; 100: one; 99: one (an error unless last, below).
        assert_eq!(
            plan(&sources[..2], 100, 100),
            Ok((350, 3)),
            "two sources, three parts"
        );
        assert_eq!(
            plan(&sources[..3], 100, 100),
            Ok((449, 4)),
            "a short last source is fine"
        );
        assert_eq!(
            plan(&sources, 100, 100),
            Err(InvalidInput::CopySourceTooSmall)
        );
        assert_eq!(plan(&[], 100, 100), Err(InvalidInput::CopySourceTooSmall));
        assert_eq!(
            plan(&[r(200), r(0)], 100, 100),
            Err(InvalidInput::CopySourceTooSmall)
        );
        let parts: std::vec::Vec<_> = (1..=4).map(|n| locate(&sources[..3], 100, n)).collect();
        let want = [
            (0, 1000, 0, 125),
            (0, 1125, 125, 125),
            (1, 1000, 250, 100),
            (2, 1000, 350, 99),
        ];
        for (got, (src, so, o, l)) in parts.iter().zip(want) {
            let got = got.expect("part");
            assert_eq!(
                (got.source, got.source_offset, got.offset, got.len),
                (src, so, o, l)
            );
        }
        assert_eq!(locate(&sources[..3], 100, 5), None);
        assert_eq!(locate(&sources[..3], 100, 0), None);
        // Uneven: 1003 bytes at 100 is ten parts of 100 or 101 bytes, covering it exactly.
        let one = [r(1003)];
        let mut at = 1000;
        for n in 1..=10 {
            let p = locate(&one, 100, n).expect("part");
            assert_eq!(p.source_offset, at);
            assert!(p.len == 100 || p.len == 101);
            at += p.len;
        }
        assert_eq!(at, 2003);
    }

    #[test]
    fn no_part_is_over_five_gb_and_no_plan_over_ten_thousand_parts() {
        let big = [r(12_000_000_000)];
        let (_, count) = plan(&big, 5_000_000_000, 5_000_000).expect("plan");
        assert_eq!(count, 3, "⌈12 GB / 5 GB⌉, not ⌊12 / 5⌋ = 2 parts of 6 GB");
        for n in 1..=count {
            let p = locate(&big, 5_000_000_000, n).expect("part");
            assert!(p.len <= validate::MAX_PART_SIZE);
        }
        let many = [r(10_001 * 100)];
        assert_eq!(plan(&many, 100, 100), Err(InvalidInput::PartCount));
        assert_eq!(
            plan(
                &[RemoteRange {
                    file_id: "f",
                    offset: u64::MAX,
                    len: 2
                }],
                100,
                100
            ),
            Err(InvalidInput::Range)
        );
    }

    #[test]
    fn a_copy_job_renders_its_source_range() {
        let sources = [r(250), r(100)];
        let job = PartJob {
            number: 3,
            offset: 250,
            len: 100,
            kind: JobKind::Copy {
                source: 1,
                source_offset: 1000,
            },
        };
        let c = copy_part_call(&sources, PartKeys::default(), "L", &job).expect("call");
        assert_eq!(c.range, Some((1000, 1099)));
        assert_eq!((c.part_number, c.large_file_id), (3, "L"));
        assert_eq!(c.source_server_side_encryption, None);
        assert_eq!(c.destination_server_side_encryption, None);
        // Source 1's key goes with its parts, source 0's with none of them; the large
        // file's key with every part.
        let (k0, k1, d) = (
            CustomerKey::new([1; 32]),
            CustomerKey::new([2; 32]),
            CustomerKey::new([3; 32]),
        );
        let per_source = [Some(&k0), Some(&k1)];
        let keys = PartKeys {
            sources: &per_source,
            destination: Some(&d),
        };
        let c = copy_part_call(&sources, keys, "L", &job).expect("call");
        assert_eq!(c.source_server_side_encryption, Some(&k1));
        assert_eq!(c.destination_server_side_encryption, Some(&d));
        let short = PartKeys {
            sources: &per_source[..1],
            destination: None,
        };
        let c = copy_part_call(&sources, short, "L", &job).expect("call");
        assert_eq!(c.source_server_side_encryption, None, "no key for source 1");
        let send = PartJob {
            kind: JobKind::Send { sha1: None },
            ..job
        };
        assert!(copy_part_call(&sources, keys, "L", &send).is_none());
    }
}

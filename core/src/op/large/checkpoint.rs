//! A large file's progress as bytes: what a device writes to flash (or a host to a file)
//! after each part, to resume after a crash or a reboot without asking B2 to search.
//!
//! Layout (little endian), [`Checkpoint::encoded_len`] bytes in all:
//!
//! | bytes | what |
//! |---|---|
//! | 4 | magic `B2CK` |
//! | 1 | version (1) |
//! | 8 | fingerprint of the file's parameters (bucket, name, type, info, size, part size, sources of a copy, SSE-C key MD5) |
//! | 1 + n | file id length and bytes |
//! | 8 | part size |
//! | 8 | total size, `u64::MAX` while a stream's length is unknown |
//! | 4 | parts planned (or produced so far) |
//! | 20 × parts | each part's SHA-1, zero when the part is not known to be stored |
//! | 4 | the first 4 bytes of the SHA-1 of everything before (torn writes are refused) |

use sha1::{Digest, Sha1};

use crate::error::InvalidInput;
use crate::op::large::remote::RemoteRange;
use crate::op::upload::FileParams;
use crate::session::{fixed, Id};

const MAGIC: &[u8; 4] = b"B2CK";
const VERSION: u8 = 1;
/// Bytes of a checkpoint besides the file id and the digests.
const FIXED_LEN: usize = 4 + 1 + 8 + 1 + 8 + 8 + 4 + 4;

/// Marks a part whose digest is not known (a real SHA-1 is never all zeros in practice).
pub(crate) const NOT_DONE: [u8; 20] = [0; 20];

/// What a checkpoint records; see the module docs for its byte layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointHead {
    /// Fingerprint of the parameters the file was started with.
    pub fingerprint: [u8; 8],
    /// The unfinished large file's id.
    pub file_id: Id,
    /// Size of every part but the last.
    pub part_size: u64,
    /// Total size, `None` while a stream's length is unknown.
    pub size: Option<u64>,
    /// Parts planned (or produced so far, for a stream).
    pub count: u32,
}

/// Checkpoint encoding and decoding; the digests live in caller storage.
pub struct Checkpoint;

impl Checkpoint {
    /// Bytes needed to encode a checkpoint of `parts` parts for `file_id`.
    pub fn encoded_len(file_id: &str, parts: u32) -> usize {
        FIXED_LEN + file_id.len() + 20 * parts as usize
    }

    /// Encodes `head` and `digests` (one per part, all zeros for parts not stored) into
    /// `out`; returns the length written, or the bytes needed when `out` is too small.
    pub fn encode(
        head: &CheckpointHead,
        digests: &[[u8; 20]],
        out: &mut [u8],
    ) -> Result<usize, usize> {
        Self::encode_with(head, |n| digests.get(n as usize - 1).copied(), out)
    }

    /// As [`Checkpoint::encode`], with part `n`'s digest (numbered from 1) from `digest`.
    pub(crate) fn encode_with(
        head: &CheckpointHead,
        digest: impl Fn(u32) -> Option<[u8; 20]>,
        out: &mut [u8],
    ) -> Result<usize, usize> {
        let len = Self::encoded_len(&head.file_id, head.count);
        if out.len() < len || head.file_id.len() > 255 {
            return Err(len);
        }
        let mut w = Writer { out, pos: 0 };
        w.put(MAGIC);
        w.put(&[VERSION]);
        w.put(&head.fingerprint);
        w.put(&[head.file_id.len() as u8]);
        w.put(head.file_id.as_bytes());
        w.put(&head.part_size.to_le_bytes());
        w.put(&head.size.unwrap_or(u64::MAX).to_le_bytes());
        w.put(&head.count.to_le_bytes());
        for n in 1..=head.count {
            w.put(&digest(n).ok_or(len)?);
        }
        let sum: [u8; 20] = Sha1::digest(w.out.get(..w.pos).unwrap_or(&[])).into();
        w.put(sum.get(..4).unwrap_or(&[]));
        Ok(w.pos)
    }

    /// Decodes a checkpoint into its head and `digests` (which needs one entry per part).
    /// Damaged, truncated or foreign bytes give [`InvalidInput::Checkpoint`]; storage that
    /// is too small gives [`InvalidInput::PartCount`].
    pub fn decode(bytes: &[u8], digests: &mut [[u8; 20]]) -> Result<CheckpointHead, InvalidInput> {
        let bad = InvalidInput::Checkpoint;
        let body_len = bytes.len().checked_sub(4).ok_or(bad)?;
        let (body, sum) = bytes.split_at(body_len);
        let want: [u8; 20] = Sha1::digest(body).into();
        if want.get(..4) != Some(sum) {
            return Err(bad);
        }
        let mut r = Reader {
            bytes: body,
            pos: 0,
        };
        if r.take(4)? != MAGIC || r.take(1)? != [VERSION] {
            return Err(bad);
        }
        let mut fingerprint = [0u8; 8];
        fingerprint.copy_from_slice(r.take(8)?);
        let id_len = *r.take(1)?.first().ok_or(bad)? as usize;
        let id = core::str::from_utf8(r.take(id_len)?).map_err(|_| bad)?;
        let file_id = fixed(id).map_err(|_| bad)?;
        let part_size = r.u64()?;
        let size = match r.u64()? {
            u64::MAX => None,
            s => Some(s),
        };
        let count = r.u32()?;
        if count > crate::validate::MAX_PARTS || part_size == 0 {
            return Err(bad);
        }
        // Every part holds a byte at least. (An upload's count is ⌈size / part size⌉, but a
        // copy cuts each source into near-equal parts, ⌊L / part size⌋ of them: 250 bytes
        // at 100 are two parts of 125. That the count fits the file is checked when the
        // checkpoint is applied, against the plan.)
        if size.is_some_and(|s| u64::from(count) > s) {
            return Err(bad);
        }
        let slots = digests
            .get_mut(..count as usize)
            .ok_or(InvalidInput::PartCount)?;
        for slot in slots.iter_mut() {
            slot.copy_from_slice(r.take(20)?);
        }
        if r.pos != body.len() {
            return Err(bad);
        }
        Ok(CheckpointHead {
            fingerprint,
            file_id,
            part_size,
            size,
            count,
        })
    }
}

/// The fingerprint of what a large file is: bucket, name, content type, info (in order),
/// `src_last_modified_millis`, whole-file SHA-1, size and part size, for a copy its remote
/// sources (ids and ranges), and for an SSE-C file its key's MD5 (every part must carry the
/// key the file was started with, so a checkpoint is only resumed with that key; files
/// without SSE-C hash nothing more, so their checkpoints are unchanged). A checkpoint is
/// only applied to the same file.
pub(crate) fn fingerprint(
    p: &FileParams<'_>,
    remote: &[RemoteRange<'_>],
    size: Option<u64>,
    part_size: u64,
) -> [u8; 8] {
    let mut h = Sha1::new();
    for s in [p.bucket_id, p.file_name, p.content_type] {
        h.update((s.len() as u32).to_le_bytes());
        h.update(s.as_bytes());
    }
    for (k, v) in p.info {
        h.update((k.len() as u32).to_le_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u32).to_le_bytes());
        h.update(v.as_bytes());
    }
    h.update(p.src_last_modified_millis.unwrap_or(u64::MAX).to_le_bytes());
    h.update(p.sha1.unwrap_or([0; 20]));
    h.update(size.unwrap_or(u64::MAX).to_le_bytes());
    h.update(part_size.to_le_bytes());
    for r in remote {
        h.update((r.file_id.len() as u32).to_le_bytes());
        h.update(r.file_id.as_bytes());
        h.update(r.offset.to_le_bytes());
        h.update(r.len.to_le_bytes());
    }
    if let Some(k) = p.customer_key() {
        h.update(b"SSE-C");
        h.update(k.key_md5());
    }
    let d: [u8; 20] = h.finalize().into();
    let mut out = [0u8; 8];
    out.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
    out
}

struct Writer<'a> {
    out: &'a mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, b: &[u8]) {
        if let Some(dst) = self.out.get_mut(self.pos..self.pos + b.len()) {
            dst.copy_from_slice(b);
            self.pos += b.len();
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], InvalidInput> {
        let end = self.pos.checked_add(n).ok_or(InvalidInput::Checkpoint)?;
        let s = self
            .bytes
            .get(self.pos..end)
            .ok_or(InvalidInput::Checkpoint)?;
        self.pos = end;
        Ok(s)
    }

    fn u64(&mut self) -> Result<u64, InvalidInput> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn u32(&mut self) -> Result<u32, InvalidInput> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn head(count: u32) -> CheckpointHead {
        CheckpointHead {
            fingerprint: [7; 8],
            file_id: fixed("4_zbucket_f2abc").unwrap(),
            part_size: 5_000_000,
            size: Some(5_000_000 * u64::from(count) - 3),
            count,
        }
    }

    #[test]
    fn round_trip_and_size() {
        let h = head(3);
        let digests = [[1u8; 20], NOT_DONE, [3u8; 20]];
        let mut out = [0u8; 256];
        let n = Checkpoint::encode(&h, &digests, &mut out).unwrap();
        assert_eq!(n, Checkpoint::encoded_len(&h.file_id, 3));
        assert_eq!(n, 38 + 15 + 60);
        let mut back = [[9u8; 20]; 4];
        assert_eq!(Checkpoint::decode(&out[..n], &mut back).unwrap(), h);
        assert_eq!(&back[..3], &digests);
    }

    #[test]
    fn a_copy_checkpoint_of_near_equal_parts_decodes() {
        // 250 bytes copied at a part size of 100: two parts of 125 (op::large::remote).
        let h = CheckpointHead {
            size: Some(250),
            part_size: 100,
            count: 2,
            ..head(2)
        };
        let mut out = [0u8; 256];
        let n = Checkpoint::encode(&h, &[[1; 20], [2; 20]], &mut out).unwrap();
        let mut back = [[0u8; 20]; 2];
        assert_eq!(Checkpoint::decode(&out[..n], &mut back), Ok(h));
    }

    #[test]
    fn too_small_output_says_how_much() {
        let mut out = [0u8; 10];
        assert_eq!(
            Checkpoint::encode(&head(2), &[[1; 20]; 2], &mut out),
            Err(38 + 15 + 40)
        );
    }

    #[test]
    fn torn_or_flipped_bytes_are_refused() {
        let h = head(2);
        let mut out = [0u8; 128];
        let n = Checkpoint::encode(&h, &[[1; 20], [2; 20]], &mut out).unwrap();
        let mut d = [[0u8; 20]; 2];
        for cut in 0..n {
            assert_eq!(
                Checkpoint::decode(&out[..cut], &mut d),
                Err(InvalidInput::Checkpoint)
            );
        }
        for i in 0..n {
            let mut bad = out;
            bad[i] ^= 0x40;
            assert!(Checkpoint::decode(&bad[..n], &mut d).is_err());
        }
        let mut one = [[0u8; 20]; 1];
        assert_eq!(
            Checkpoint::decode(&out[..n], &mut one),
            Err(InvalidInput::PartCount)
        );
    }

    #[test]
    fn the_fingerprint_names_the_sse_c_key_and_nothing_more_without_one() {
        use crate::wire::encryption::{CustomerKey, Encryption};
        let (k, other) = (CustomerKey::new([1; 32]), CustomerKey::new([2; 32]));
        let plain = FileParams::new("b", "n", 100);
        let with = |e| FileParams {
            encryption: Some(e),
            ..plain
        };
        let fp = |p: &FileParams<'_>| fingerprint(p, &[], Some(100), 10);
        let keyed = fp(&with(Encryption::SseC(&k)));
        assert_ne!(keyed, fp(&with(Encryption::SseC(&other))), "another key");
        assert_ne!(keyed, fp(&plain), "no key");
        assert_ne!(keyed, fp(&with(Encryption::SseB2)), "SSE-B2");
        // Without SSE-C the fingerprint is what it was before keys were hashed.
        assert_eq!(fp(&with(Encryption::SseB2)), fp(&plain));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut d = [[0u8; 20]; 8];
            let _ = Checkpoint::decode(&bytes, &mut d);
        }

        #[test]
        fn any_checkpoint_round_trips(
            count in 1u32..8,
            part_size in 1u64..1_000_000_000,
            short in 0u64..1000,
            unknown in any::<bool>(),
            seed in any::<u8>(),
        ) {
            let size = (part_size * u64::from(count)).saturating_sub(short.min(part_size - 1));
            let h = CheckpointHead {
                fingerprint: [seed; 8],
                file_id: fixed("4_zfile").unwrap(),
                part_size,
                size: if unknown { None } else { Some(size) },
                count,
            };
            let digests: std::vec::Vec<[u8; 20]> =
                (0..count).map(|i| [seed ^ i as u8; 20]).collect();
            let mut out = [0u8; 512];
            let n = Checkpoint::encode(&h, &digests, &mut out).unwrap();
            let mut back = [[0u8; 20]; 8];
            prop_assert_eq!(Checkpoint::decode(&out[..n], &mut back).unwrap(), h);
            prop_assert_eq!(&back[..count as usize], &digests[..]);
        }
    }
}

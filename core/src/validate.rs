//! Checks done before any I/O: file and bucket names, file info, content types, part plans.
//! Each failure is a typed [`InvalidInput`], so nothing reaches the network that B2 would
//! refuse (or, for names, that the official SDK refuses for safety).

use crate::encoding::percent_encode;
use crate::error::InvalidInput;

/// Largest small file (one `b2_upload_file`), in bytes: 5 GB.
pub const MAX_SMALL_FILE: u64 = 5_000_000_000;
/// Largest large file, in bytes: 10 TB.
pub const MAX_LARGE_FILE: u64 = 10_000_000_000_000;
/// Largest part, in bytes: 5 GB.
pub const MAX_PART_SIZE: u64 = 5_000_000_000;
/// Most parts in a large file.
pub const MAX_PARTS: u32 = 10_000;
/// B2's minimum part size today (the session's value from authorize wins).
pub const DEFAULT_MIN_PART_SIZE: u64 = 5_000_000;
/// Most file info entries per file.
pub const MAX_INFO_ENTRIES: usize = 10;
/// Header bytes that the file name and all info together may take.
pub const HEADER_BUDGET: usize = 7_000;
/// The same budget for a file with server-side encryption or Object Lock settings (B2:
/// "reduced to 2,048 bytes").
pub const PROTECTED_HEADER_BUDGET: usize = 2_048;
/// Longest file name, in UTF-8 bytes.
pub const MAX_FILE_NAME: usize = 1024;
/// Longest `/`-separated segment of a file name, in bytes.
pub const MAX_SEGMENT: usize = 250;
/// Longest file info key, in bytes.
pub const MAX_INFO_KEY: usize = 50;
/// `b2-` info keys B2 accepts.
pub const ALLOWED_B2_KEYS: [&str; 5] = [
    "b2-content-disposition",
    "b2-content-language",
    "b2-expires",
    "b2-cache-control",
    "b2-content-encoding",
];
/// Longest validity of a download authorization, in seconds (one week).
pub const MAX_DOWNLOAD_AUTH_SECS: u32 = 604_800;
/// Longest validity of an application key, in seconds (1,000 days).
pub const MAX_KEY_SECS: u32 = 86_400_000;

/// Checks a file name: 1..=1024 UTF-8 bytes, no control character or DEL, no leading or
/// trailing `/`, no `//`, no segment over 250 bytes.
pub fn file_name(name: &str) -> Result<(), InvalidInput> {
    if name.is_empty() || name.len() > MAX_FILE_NAME {
        return Err(InvalidInput::FileNameLength);
    }
    if name.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(InvalidInput::FileNameControlChar);
    }
    // Bytes, not `str::contains`: the substring searcher costs ~430 bytes on a device.
    if name.starts_with('/')
        || name.ends_with('/')
        || name.as_bytes().windows(2).any(|w| w == b"//")
    {
        return Err(InvalidInput::FileNameSlash);
    }
    if name.split('/').any(|s| s.len() > MAX_SEGMENT) {
        return Err(InvalidInput::FileNameSegmentTooLong);
    }
    Ok(())
}

/// Checks a name prefix used for listings and key restrictions: like a file name, except
/// that it may be empty and may end with `/`.
pub fn name_prefix(prefix: &str) -> Result<(), InvalidInput> {
    if prefix.len() > MAX_FILE_NAME {
        return Err(InvalidInput::FileNameLength);
    }
    if prefix.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(InvalidInput::FileNameControlChar);
    }
    Ok(())
}

/// Checks a bucket name: 6..=63 ASCII letters, digits and `-`, not starting with `b2-`.
pub fn bucket_name(name: &str) -> Result<(), InvalidInput> {
    let ok = (6..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.to_ascii_lowercase_prefix_is_b2();
    if ok {
        Ok(())
    } else {
        Err(InvalidInput::BucketName)
    }
}

trait B2Prefix {
    fn to_ascii_lowercase_prefix_is_b2(&self) -> bool;
}

impl B2Prefix for str {
    fn to_ascii_lowercase_prefix_is_b2(&self) -> bool {
        self.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("b2-"))
    }
}

/// Checks a content type: 1..=256 bytes, no control characters.
pub fn content_type(t: &str) -> Result<(), InvalidInput> {
    if t.is_empty() || t.len() > 256 || t.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(InvalidInput::ContentType);
    }
    Ok(())
}

/// Checks one info key: 1..=50 bytes of letters, digits and `-_.`; `b2-` keys only from
/// [`ALLOWED_B2_KEYS`].
pub fn info_key(key: &str) -> Result<(), InvalidInput> {
    if key.is_empty()
        || key.len() > MAX_INFO_KEY
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(InvalidInput::InfoKey);
    }
    if key.to_ascii_lowercase_prefix_is_b2()
        && !ALLOWED_B2_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
    {
        return Err(InvalidInput::ReservedInfoKey);
    }
    Ok(())
}

/// Checks a file's info entries together with its name: at most 10 entries, valid keys,
/// values without control characters, and name plus `X-Bz-Info-*` headers (encoded) within
/// the 7,000-byte budget.
pub fn file_info<'a, I>(name: &str, info: I) -> Result<(), InvalidInput>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    file_info_within(name, info, HEADER_BUDGET)
}

/// [`file_info`] against another header budget ([`PROTECTED_HEADER_BUDGET`] for files with
/// encryption or Object Lock settings).
pub fn file_info_within<'a, I>(name: &str, info: I, budget: usize) -> Result<(), InvalidInput>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut used = "X-Bz-File-Name".len() + percent_encode(name).encoded_len();
    for (i, (k, v)) in info.into_iter().enumerate() {
        if i >= MAX_INFO_ENTRIES {
            return Err(InvalidInput::TooManyInfoEntries);
        }
        info_key(k)?;
        if v.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(InvalidInput::InfoValue);
        }
        used += "X-Bz-Info-".len() + k.len() + percent_encode(v).encoded_len();
    }
    if used > budget {
        return Err(InvalidInput::HeadersTooLarge);
    }
    Ok(())
}

/// Checks a part number: 1..=10,000.
pub fn part_number(n: u32) -> Result<(), InvalidInput> {
    if (1..=MAX_PARTS).contains(&n) {
        Ok(())
    } else {
        Err(InvalidInput::PartCount)
    }
}

/// How a large file is cut into parts: all parts `part_size` bytes but the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PartPlan {
    /// Size of every part but the last.
    pub part_size: u64,
    /// Number of parts (0 only for an empty file).
    pub count: u32,
    /// Total size.
    pub size: u64,
}

impl PartPlan {
    /// Byte range `(offset, len)` of part `n` (numbered from 1); `(size, 0)` outside the plan.
    pub fn part_range(&self, n: u32) -> (u64, u64) {
        if n < 1 || n > self.count {
            return (self.size, 0);
        }
        let offset = u64::from(n - 1) * self.part_size;
        (offset, self.part_size.min(self.size - offset))
    }
}

/// Plans the parts of a `size`-byte file: `part_size` is raised to `min_part_size` and, when
/// needed, so that there are at most 10,000 parts. Fails when the part size would pass 5 GB.
pub fn part_plan(size: u64, part_size: u64, min_part_size: u64) -> Result<PartPlan, InvalidInput> {
    let mut part_size = part_size.max(min_part_size).max(1);
    let fewest = size.div_ceil(u64::from(MAX_PARTS));
    part_size = part_size.max(fewest);
    if part_size > MAX_PART_SIZE {
        return Err(InvalidInput::PartSize);
    }
    let count = size.div_ceil(part_size);
    let count = u32::try_from(count).map_err(|_| InvalidInput::PartCount)?;
    Ok(PartPlan {
        part_size,
        count,
        size,
    })
}

/// Key capability names B2 documents today. The set is open: B2 adds names (the
/// lifecycle-rule ones came in 2025), so a name outside this list is passed through (callers
/// may warn with [`unknown_capability`]), never refused here.
pub const CAPABILITIES: [&str; 28] = [
    "listKeys",
    "writeKeys",
    "deleteKeys",
    "listAllBucketNames",
    "listBuckets",
    "readBuckets",
    "writeBuckets",
    "deleteBuckets",
    "readBucketRetentions",
    "writeBucketRetentions",
    "readBucketEncryption",
    "writeBucketEncryption",
    "listFiles",
    "readFiles",
    "shareFiles",
    "writeFiles",
    "deleteFiles",
    "readFileLegalHolds",
    "writeFileLegalHolds",
    "readFileRetentions",
    "writeFileRetentions",
    "bypassGovernance",
    "readBucketReplications",
    "writeBucketReplications",
    "readBucketNotifications",
    "writeBucketNotifications",
    "readBucketLifecycleRules",
    "writeBucketLifecycleRules",
];

/// Checks a key's capability list: not empty, and every name a plausible capability (1..=64
/// ASCII letters and digits). Names B2 may have added since this list are accepted.
pub fn capabilities(caps: &[&str]) -> Result<(), InvalidInput> {
    let plausible =
        |c: &&str| !c.is_empty() && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric());
    if caps.is_empty() || !caps.iter().all(plausible) {
        return Err(InvalidInput::Capabilities);
    }
    Ok(())
}

/// The first name in `caps` that is not one of B2's [`CAPABILITIES`] (to warn about it: it may
/// be a typo, or a capability newer than this SDK).
pub fn unknown_capability<'a>(caps: &[&'a str]) -> Option<&'a str> {
    caps.iter().copied().find(|c| !CAPABILITIES.contains(c))
}

/// Checks a key name: 1..=100 letters, digits and `-`.
pub fn key_name(name: &str) -> Result<(), InvalidInput> {
    if name.is_empty()
        || name.len() > 100
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(InvalidInput::TooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::string::String;

    #[test]
    fn file_names() {
        assert_eq!(file_name("a/b c+%é.txt"), Ok(()));
        assert_eq!(file_name(""), Err(InvalidInput::FileNameLength));
        assert_eq!(
            file_name(&"a".repeat(1025)),
            Err(InvalidInput::FileNameLength)
        );
        let mut long_ok: String = [&"a".repeat(250); 4].map(|s| s.as_str()).join("/");
        long_ok.push('/');
        long_ok.push_str(&"b".repeat(20));
        assert_eq!(long_ok.len(), 1024);
        assert_eq!(file_name(&long_ok), Ok(()));
        assert_eq!(file_name("a\tb"), Err(InvalidInput::FileNameControlChar));
        assert_eq!(file_name("a\u{7f}"), Err(InvalidInput::FileNameControlChar));
        assert_eq!(file_name("/a"), Err(InvalidInput::FileNameSlash));
        assert_eq!(file_name("a/"), Err(InvalidInput::FileNameSlash));
        assert_eq!(file_name("a//b"), Err(InvalidInput::FileNameSlash));
        assert_eq!(
            file_name(&"a".repeat(251)),
            Err(InvalidInput::FileNameSegmentTooLong)
        );
    }

    #[test]
    fn bucket_names() {
        assert_eq!(bucket_name("my-bucket-1"), Ok(()));
        for bad in [
            "short",
            "b2-bucket",
            "B2-bucket",
            "under_score",
            &"a".repeat(64),
        ] {
            assert_eq!(bucket_name(bad), Err(InvalidInput::BucketName), "{bad}");
        }
    }

    #[test]
    fn info_rules() {
        assert_eq!(
            file_info("f", [("k", "v"), ("b2-cache-control", "max-age=1")]),
            Ok(())
        );
        assert_eq!(
            file_info("f", [("b2-other", "v")]),
            Err(InvalidInput::ReservedInfoKey)
        );
        assert_eq!(
            file_info("f", [("bad key", "v")]),
            Err(InvalidInput::InfoKey)
        );
        assert_eq!(
            file_info("f", [("k", "a\nb")]),
            Err(InvalidInput::InfoValue)
        );
        let many = [("k", "v"); 11];
        assert_eq!(file_info("f", many), Err(InvalidInput::TooManyInfoEntries));
        let big = "é".repeat(1200); // 7,200 encoded bytes
        assert_eq!(
            file_info("f", [("k", big.as_str())]),
            Err(InvalidInput::HeadersTooLarge)
        );
    }

    #[test]
    fn capabilities_are_an_open_set() {
        assert_eq!(capabilities(&["listFiles", "bypassGovernance"]), Ok(()));
        assert_eq!(capabilities(&["readBucketFutureThing"]), Ok(()));
        assert_eq!(
            unknown_capability(&["listFiles", "readBucketFutureThing"]),
            Some("readBucketFutureThing")
        );
        assert_eq!(capabilities(&[]), Err(InvalidInput::Capabilities));
        assert_eq!(capabilities(&["a b"]), Err(InvalidInput::Capabilities));
        assert_eq!(capabilities(&[""]), Err(InvalidInput::Capabilities));
    }

    #[test]
    fn plans() {
        let p = part_plan(12, 5, 1).expect("plan");
        assert_eq!((p.part_size, p.count), (5, 3));
        assert_eq!(p.part_range(1), (0, 5));
        assert_eq!(p.part_range(3), (10, 2));
        assert_eq!(p.part_range(4), (12, 0));
        let p = part_plan(1 << 40, 5_000_000, 5_000_000).expect("plan");
        assert!(p.count <= MAX_PARTS);
        assert_eq!(
            part_plan(MAX_LARGE_FILE * 10, 1, 1),
            Err(InvalidInput::PartSize)
        );
        assert_eq!(part_plan(0, 5, 5).map(|p| p.count), Ok(0));
    }

    fn valid_by_spec(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 1024
            && !name.chars().any(|c| (c as u32) < 0x20 || c as u32 == 0x7f)
            && !name.starts_with('/')
            && !name.ends_with('/')
            && !name.contains("//")
            && name.split('/').all(|s| s.len() <= 250)
    }

    proptest! {
        #[test]
        fn file_name_accepts_exactly_valid(name in "([a-z/\\x00-\\x1f\\x7f é+%]{0,6}){0,3}|[a/]{240,260}") {
            prop_assert_eq!(file_name(&name).is_ok(), valid_by_spec(&name));
        }

        #[test]
        fn plan_covers_the_file(size in 1u64..(1 << 44), part in 1u64..(1 << 33), min in 1u64..10_000_000) {
            if let Ok(p) = part_plan(size, part, min) {
                prop_assert!(p.count >= 1 && p.count <= MAX_PARTS);
                let (off, len) = p.part_range(p.count);
                prop_assert_eq!(off + len, size);
                prop_assert!(len >= 1 && len <= p.part_size);
            }
        }
    }
}

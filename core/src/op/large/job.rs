//! The unit of work the coordinator hands out: one part, and what to do with it.

/// One part for a worker: its number and byte range of the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PartJob {
    /// Part number (1..=10,000).
    pub number: u32,
    /// Offset of the part in the source.
    pub offset: u64,
    /// Length of the part.
    pub len: u64,
    /// What to do with it.
    pub kind: JobKind,
}

/// What a worker does with a [`PartJob`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum JobKind {
    /// Upload the range; `sha1` is its digest when already known (send it in the header).
    Send {
        /// The part's SHA-1, when known.
        sha1: Option<[u8; 20]>,
    },
    /// B2 has this part with this SHA-1: hash the source's range and report it with
    /// [`LargeFile::part_checked`](super::LargeFile::part_checked), which says whether to send it.
    Verify {
        /// The SHA-1 B2 has.
        stored: [u8; 20],
    },
    /// Copy the part from a file in B2 (`b2_copy_part`, rendered by
    /// [`super::remote::copy_part_call`]) and report the SHA-1 of its answer with
    /// [`LargeFile::part_done`](super::LargeFile::part_done). Only a file made with [`LargeFile::copy`](super::LargeFile::copy) hands these out.
    Copy {
        /// Index of the source in the caller's list of [`RemoteRange`](super::RemoteRange)s.
        source: u32,
        /// Offset of the part in that source file.
        source_offset: u64,
    },
}

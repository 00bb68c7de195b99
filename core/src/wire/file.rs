//! File versions: the `File` object, file info, hide, delete, and the file listings.

use super::json::{each_field, required, Map, Text, Value, Wrapped};
use super::{api_call, Answer, ApiCall, ArrayIter};
use crate::error::{BadAnswer, Error};

/// What a file version is (`action` in B2's answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// A finished upload.
    Upload,
    /// A large file started and not finished.
    Start,
    /// A hide marker.
    Hide,
    /// A "folder" in a listing with a delimiter.
    Folder,
    /// An action this SDK does not know yet.
    Other,
}

impl Action {
    fn parse(t: Text<'_>) -> Action {
        match t.raw() {
            "upload" => Action::Upload,
            "start" => Action::Start,
            "hide" => Action::Hide,
            "folder" => Action::Folder,
            _ => Action::Other,
        }
    }
}

/// A file version, as B2 describes it in uploads, listings and file info.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct File<'a> {
    /// Account owning the file.
    pub account_id: Option<Text<'a>>,
    /// What this version is.
    pub action: Action,
    /// Bucket holding the file.
    pub bucket_id: Option<Text<'a>>,
    /// Size in bytes (0 for hide markers and folders; for an unfinished large file, 0).
    pub content_length: u64,
    /// 40 hex digits, `none` for large files, `unverified:<hex>`, or absent.
    pub content_sha1: Option<Text<'a>>,
    /// MD5, when B2 knows it.
    pub content_md5: Option<Text<'a>>,
    /// MIME type.
    pub content_type: Option<Text<'a>>,
    /// Version id (empty for folders).
    pub file_id: Text<'a>,
    /// `fileInfo` map.
    pub file_info: Map<'a>,
    /// The file's name.
    pub file_name: Text<'a>,
    /// Milliseconds since the epoch (0 for folders).
    pub upload_timestamp: u64,
    /// `fileRetention` (Object Lock), wrapped: its value is `{"mode", "retainUntilTimestamp"}`.
    pub file_retention: Option<Wrapped<'a>>,
    /// `legalHold`, wrapped (value `"on"`, `"off"` or absent); `None` when B2 sent `null`.
    pub legal_hold: Option<Wrapped<'a>>,
    /// `serverSideEncryption` as a raw object (`{"algorithm", "mode"}`, `{"mode": null}`).
    pub server_side_encryption: Option<&'a [u8]>,
    /// `replicationStatus` (`pending`, `completed`, `failed`, `replica`), when given.
    pub replication_status: Option<Text<'a>>,
    /// The object's raw JSON, with B2's own field names.
    pub raw: &'a [u8],
}

impl<'a> File<'a> {
    /// The whole-file SHA-1 when B2 knows it: `contentSha1` (also when unverified), else the
    /// `large_file_sha1` info entry.
    pub fn sha1(&self) -> Option<[u8; 20]> {
        let from_content = self.content_sha1.and_then(|t| {
            let raw = t.raw();
            crate::encoding::parse_sha1_hex(raw.strip_prefix("unverified:").unwrap_or(raw))
        });
        from_content.or_else(|| {
            self.file_info
                .get("large_file_sha1")
                .and_then(|t| crate::encoding::parse_sha1_hex(t.raw()))
        })
    }
}

impl<'a> File<'a> {
    /// `serverSideEncryption`, typed (`None` when absent or of an unknown shape).
    pub fn encryption(&self) -> Option<super::encryption::FileEncryption<'a>> {
        self.server_side_encryption
            .and_then(super::encryption::FileEncryption::parse)
    }

    /// `fileRetention`'s value, typed: `Ok(None)` when absent, unreadable by this key or
    /// null; an unknown mode is [`BadAnswer::Json`].
    pub fn retention(&self) -> Result<Option<super::lock::Retention>, BadAnswer> {
        match self.file_retention.and_then(|w| w.object()) {
            Some(o) => super::lock::Retention::parse(o),
            None => Ok(None),
        }
    }

    /// `legalHold`'s value, typed: `Ok(None)` when absent, unreadable or null; an unknown
    /// word is [`BadAnswer::Json`].
    pub fn legal_hold_state(&self) -> Result<Option<super::lock::LegalHold>, BadAnswer> {
        match self.legal_hold.and_then(|w| w.text()) {
            Some(t) => super::lock::LegalHold::parse(t.raw())
                .map(Some)
                .ok_or(BadAnswer::Json),
            None => Ok(None),
        }
    }
}

impl<'a> Answer<'a> for File<'a> {
    /// Accepts every documented shape: `action`, `contentLength` and `contentSha1` may be
    /// absent (API v1's `b2_start_large_file` answers had none of them: such an answer is
    /// [`Action::Start`]; an answer with a length or SHA-1 but no action is
    /// [`Action::Upload`]); `fileId` may be `null` on folder rows; `contentSha1`,
    /// `fileInfo`, `legalHold` and the like may be `null`. The informational fields
    /// (`fileRetention`, `legalHold`, `serverSideEncryption`, `replicationStatus`) never fail
    /// the answer: a shape this SDK does not know reads as `None`.
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let mut f = File {
            account_id: None,
            action: Action::Upload,
            bucket_id: None,
            content_length: 0,
            content_sha1: None,
            content_md5: None,
            content_type: None,
            file_id: Text::from_raw(""),
            file_info: Map::empty(),
            file_name: Text::from_raw(""),
            upload_timestamp: 0,
            file_retention: None,
            legal_hold: None,
            server_side_encryption: None,
            replication_status: None,
            raw: body,
        };
        let (mut id, mut name, mut action) = (None, None, None);
        let mut sized = false;
        each_field(body, |k, v| {
            match k.raw() {
                "accountId" => f.account_id = v.opt_text()?,
                "action" => action = v.opt_text()?.map(Action::parse),
                "bucketId" => f.bucket_id = v.opt_text()?,
                "contentLength" => {
                    sized = true;
                    f.content_length = v.opt_u64()?.unwrap_or(0);
                }
                "contentSha1" => {
                    sized = true;
                    f.content_sha1 = v.opt_text()?;
                }
                "contentMd5" => f.content_md5 = v.opt_text()?,
                "contentType" => f.content_type = v.opt_text()?,
                "fileId" => id = v.opt_text()?,
                "fileInfo" => f.file_info = v.opt_object()?.map(Map::new).unwrap_or(Map::empty()),
                "fileName" => name = Some(v.text()?),
                "uploadTimestamp" => f.upload_timestamp = v.opt_u64()?.unwrap_or(0),
                "fileRetention" => f.file_retention = Wrapped::parse(v).ok().flatten(),
                "legalHold" => f.legal_hold = Wrapped::parse(v).ok().flatten(),
                "serverSideEncryption" => f.server_side_encryption = v.opt_object().ok().flatten(),
                "replicationStatus" => f.replication_status = v.opt_text().ok().flatten(),
                _ => {}
            }
            Ok(())
        })?;
        f.action = match action {
            Some(a) => a,
            None if sized => Action::Upload,
            None => Action::Start,
        };
        f.file_name = required(name)?;
        f.file_id = match (id, f.action) {
            (Some(id), _) => id,
            (None, Action::Folder) => Text::from_raw(""),
            (None, _) => return Err(BadAnswer::Json),
        };
        Ok(f)
    }
}

/// `b2_get_file_info`.
#[derive(Clone, Copy, Debug)]
pub struct GetFileInfo<'a> {
    /// Version to describe.
    pub file_id: &'a str,
}
api_call!(GetFileInfo, "b2_get_file_info", File, |s, _a, w| {
    w.str("fileId", s.file_id);
});

/// `b2_hide_file`: adds a hide marker as the newest version of `file_name`.
#[derive(Clone, Copy, Debug)]
pub struct HideFile<'a> {
    /// Bucket.
    pub bucket_id: &'a str,
    /// Name to hide.
    pub file_name: &'a str,
}
api_call!(HideFile, "b2_hide_file", File, |s, _a, w| {
    w.str("bucketId", s.bucket_id).str("fileName", s.file_name);
});

/// `b2_delete_file_version`.
#[derive(Clone, Copy, Debug)]
pub struct DeleteFileVersion<'a> {
    /// The version's name.
    pub file_name: &'a str,
    /// The version's id.
    pub file_id: &'a str,
    /// Bypass governance-mode retention (needs the capability).
    pub bypass_governance: bool,
}
api_call!(
    DeleteFileVersion,
    "b2_delete_file_version",
    FileRef,
    |s, _a, w| {
        w.str("fileName", s.file_name).str("fileId", s.file_id);
        w.opt_bool("bypassGovernance", s.bypass_governance.then_some(true));
    }
);

/// Answer naming one file version (`b2_delete_file_version`, `b2_cancel_large_file`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileRef<'a> {
    /// Version id.
    pub file_id: Text<'a>,
    /// Name.
    pub file_name: Text<'a>,
    /// Bucket, when given.
    pub bucket_id: Option<Text<'a>>,
}

impl<'a> Answer<'a> for FileRef<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let (mut id, mut name, mut bucket) = (None, None, None);
        each_field(body, |k, v| {
            match k.raw() {
                "fileId" => id = Some(v.text()?),
                "fileName" => name = Some(v.text()?),
                "bucketId" => bucket = v.opt_text()?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(FileRef {
            file_id: required(id)?,
            file_name: required(name)?,
            bucket_id: bucket,
        })
    }
}

/// `b2_list_file_names`: names in order, latest visible version of each.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListFileNames<'a> {
    /// Bucket.
    pub bucket_id: &'a str,
    /// First name to return (from the previous page's `nextFileName`).
    pub start_file_name: Option<&'a str>,
    /// Page size (B2: 1..=10,000, default 100; over 1,000 costs more than one transaction).
    pub max_file_count: Option<u32>,
    /// Only names starting with this.
    pub prefix: Option<&'a str>,
    /// Roll names up into "folders" at this character (usually `/`).
    pub delimiter: Option<&'a str>,
}
api_call!(
    ListFileNames,
    "b2_list_file_names",
    ListFilesAnswer,
    |s, _a, w| {
        w.str("bucketId", s.bucket_id)
            .opt_str("startFileName", s.start_file_name)
            .opt_u64("maxFileCount", s.max_file_count.map(u64::from))
            .opt_str("prefix", s.prefix)
            .opt_str("delimiter", s.delimiter);
    }
);

/// `b2_list_file_versions`: every version, names in order, newest first per name.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListFileVersions<'a> {
    /// Bucket.
    pub bucket_id: &'a str,
    /// Start name (from `nextFileName`).
    pub start_file_name: Option<&'a str>,
    /// Start id (from `nextFileId`; needs `start_file_name`).
    pub start_file_id: Option<&'a str>,
    /// Page size.
    pub max_file_count: Option<u32>,
    /// Only names starting with this.
    pub prefix: Option<&'a str>,
    /// Folder delimiter.
    pub delimiter: Option<&'a str>,
}
api_call!(
    ListFileVersions,
    "b2_list_file_versions",
    ListFilesAnswer,
    |s, _a, w| {
        w.str("bucketId", s.bucket_id)
            .opt_str("startFileName", s.start_file_name)
            .opt_str("startFileId", s.start_file_id)
            .opt_u64("maxFileCount", s.max_file_count.map(u64::from))
            .opt_str("prefix", s.prefix)
            .opt_str("delimiter", s.delimiter);
    }
);

/// `b2_list_unfinished_large_files`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListUnfinishedLargeFiles<'a> {
    /// Bucket.
    pub bucket_id: &'a str,
    /// Only names starting with this.
    pub name_prefix: Option<&'a str>,
    /// Start id (from `nextFileId`).
    pub start_file_id: Option<&'a str>,
    /// Page size (B2: 1..=100).
    pub max_file_count: Option<u32>,
}
api_call!(
    ListUnfinishedLargeFiles,
    "b2_list_unfinished_large_files",
    ListFilesAnswer,
    |s, _a, w| {
        w.str("bucketId", s.bucket_id)
            .opt_str("namePrefix", s.name_prefix)
            .opt_str("startFileId", s.start_file_id)
            .opt_u64("maxFileCount", s.max_file_count.map(u64::from));
    }
);

/// One page of a file listing.
#[derive(Clone, Debug)]
pub struct ListFilesAnswer<'a> {
    /// The files of this page, parsed one by one as the iterator reaches them.
    pub files: ArrayIter<'a, File<'a>>,
    /// Where the next page starts (`None`: this was the last page).
    pub next_file_name: Option<Text<'a>>,
    /// Id where the next page starts (versions, unfinished large files).
    pub next_file_id: Option<Text<'a>>,
}

impl<'a> Answer<'a> for ListFilesAnswer<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer> {
        let mut files = None;
        let (mut next_name, mut next_id) = (None, None);
        each_field(body, |k, v: Value<'a>| {
            match k.raw() {
                "files" => files = Some(ArrayIter::new(v.array()?)),
                "nextFileName" => next_name = v.opt_text()?,
                "nextFileId" => next_id = v.opt_text()?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(ListFilesAnswer {
            files: required(files)?,
            next_file_name: next_name,
            next_file_id: next_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &[u8] = br#"{"accountId":"acc","action":"upload","bucketId":"b1","contentLength":5,
        "contentSha1":"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d","contentMd5":null,"contentType":"text/plain",
        "fileId":"4_zid","fileInfo":{"src_last_modified_millis":"12","k":"v"},"fileName":"hello \"x\".txt",
        "uploadTimestamp":1700000000000,"serverSideEncryption":{"mode":null},"legalHold":null,"newField":[1,2]}"#;

    #[test]
    fn parses_file() {
        let f = File::parse(FILE).expect("file");
        assert_eq!(f.action, Action::Upload);
        assert_eq!(f.content_length, 5);
        assert!(f.file_name.eq_str("hello \"x\".txt"));
        assert_eq!(f.file_info.get("k").map(|t| t.raw()), Some("v"));
        assert_eq!(f.sha1().map(|d| d[0]), Some(0xaa));
        assert_eq!(f.file_id, "4_zid");
    }

    #[test]
    fn folders_and_missing_fields() {
        let folder = br#"{"action":"folder","fileId":null,"fileName":"a/","contentLength":0,"uploadTimestamp":0}"#;
        assert_eq!(File::parse(folder).map(|f| f.action), Ok(Action::Folder));
        assert_eq!(
            File::parse(br#"{"action":"upload","fileName":"x"}"#),
            Err(BadAnswer::Json)
        );
    }

    #[test]
    fn list_page_and_body() {
        let page = br#"{"files":[{"action":"hide","fileId":"1","fileName":"a"},{"action":"upload","fileId":"2","fileName":"b","contentLength":3}],"nextFileName":"c","nextFileId":null}"#;
        let a = ListFilesAnswer::parse(page).expect("page");
        let names: std::vec::Vec<_> = a.files.map(|f| f.map(|f| f.file_name.raw())).collect();
        assert_eq!(names, [Ok("a"), Ok("b")]);
        assert_eq!(a.next_file_name.map(|t| t.raw()), Some("c"));
        let mut buf = [0u8; 128];
        let call = ListFileNames {
            bucket_id: "b",
            prefix: Some("p/"),
            delimiter: Some("/"),
            ..Default::default()
        };
        let n = call.write_body("acc", &mut buf).expect("body");
        assert_eq!(
            &buf[..n],
            br#"{"bucketId":"b","prefix":"p/","delimiter":"/"}"#
        );
    }
}

//! Wire layer: typed request bodies and zero-copy answers for every B2 v4 JSON call.
//!
//! Each JSON call is a struct implementing [`ApiCall`]: its fields borrow the caller's data
//! (`&str`), it writes its own JSON body into a caller buffer (the session's account id is
//! passed in, so request structs never borrow the session), and its [`ApiCall::Answer`] parses
//! from the answer bytes without copying. Unknown fields are ignored, optional fields are
//! `Option`, and strings that may carry JSON escapes are kept as [`Text`] for unescaping
//! into a caller buffer. Lists inside answers are walked lazily ([`json::ArrayIter`]).

pub mod auth;
pub mod bucket;
pub mod copy;
pub mod download;
pub mod encryption;
pub mod error_body;
pub mod file;
pub mod json;
pub mod key;
pub mod large;
pub mod lock;
pub mod notify;
pub mod settings;
pub mod share;
pub mod upload;

pub use json::{ArrayIter, Map, Text, TextIter};

use crate::error::{BadAnswer, Error};

/// A B2 JSON call: `POST {apiUrl}/b2api/v4/{NAME}` with a JSON body.
pub trait ApiCall {
    /// The call's name as it appears in the path, e.g. `b2_list_buckets`.
    const NAME: &'static str;
    /// The parsed answer; borrows the answer bytes.
    type Answer<'a>: Answer<'a>;
    /// Writes the JSON body into `out` and returns its length. `account_id` is the session's
    /// account id (calls that do not need it ignore it). Fails with
    /// [`Error::BufferTooSmall`] when `out` is too small.
    fn write_body(&self, account_id: &str, out: &mut [u8]) -> Result<usize, Error>;
}

/// An answer type parsed from a JSON body without copying.
pub trait Answer<'a>: Sized {
    /// Parses the answer. Never panics, whatever the bytes.
    fn parse(body: &'a [u8]) -> Result<Self, BadAnswer>;
}

/// Declares an [`ApiCall`]: name, answer type, and the body writer.
macro_rules! api_call {
    ($ty:ident, $name:literal, $answer:ident, |$s:ident, $acct:ident, $w:ident| $body:block) => {
        impl ApiCall for $ty<'_> {
            const NAME: &'static str = $name;
            type Answer<'a> = $answer<'a>;
            fn write_body(&self, account_id: &str, out: &mut [u8]) -> Result<usize, Error> {
                let $s = self;
                let $acct = account_id;
                let _ = $acct;
                let mut $w = crate::wire::json::JsonWriter::new(out);
                $body
                $w.finish()
            }
        }
    };
}
pub(crate) use api_call;

#[cfg(test)]
mod shapes;

#[cfg(test)]
mod fuzz {
    //! Every answer parser, fed arbitrary bytes and damaged real answers, never panics.
    use super::*;
    use proptest::prelude::*;

    const SAMPLES: [&[u8]; 7] = [
        br#"{"accountId":"a","authorizationToken":"t","apiInfo":{"storageApi":{"apiUrl":"http://h","downloadUrl":"http://h","absoluteMinimumPartSize":5000000,"recommendedPartSize":100000000,"allowed":{"buckets":[{"id":"b","name":"n"}],"capabilities":["listFiles"],"namePrefix":"p\u00e9"}}}}"#,
        br#"{"accountId":"a","action":"upload","bucketId":"b","contentLength":5,"contentSha1":"unverified:aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d","contentType":"t","fileId":"f","fileInfo":{"k":"v\"x"},"fileName":"n","uploadTimestamp":1}"#,
        br#"{"files":[{"action":"folder","fileId":null,"fileName":"a/"}],"nextFileName":"b","nextFileId":"c"}"#,
        br#"{"parts":[{"fileId":"f","partNumber":1,"contentLength":5,"contentSha1":"x"}],"nextPartNumber":2}"#,
        br#"{"keys":[{"keyName":"k","applicationKeyId":"i","capabilities":["a"],"bucketIds":["b"]}],"nextApplicationKeyId":null}"#,
        br#"{"buckets":[{"bucketId":"i","bucketName":"n","bucketType":"allPrivate","bucketInfo":{},"revision":1}],"bucketId":"i","uploadUrl":"u","authorizationToken":"t","fileNamePrefix":""}"#,
        br#"{"fileId":"f","fileName":"n","action":"upload","fileRetention":{"isClientAuthorizedToRead":true,"value":{"mode":"governance","retainUntilTimestamp":5}},"legalHold":{"isClientAuthorizedToRead":true,"value":"on"},"serverSideEncryption":{"mode":"SSE-C","algorithm":"AES256","customerKeyMd5":"AAAAAAAAAAAAAAAAAAAAAA=="}}"#,
    ];

    fn all(b: &[u8]) {
        let _ = auth::AuthorizeAnswer::parse(b).map(|a| a.allowed.capabilities.count());
        let _ = auth::DownloadAuthorization::parse(b);
        let _ = bucket::ListBucketsAnswer::parse(b).map(|a| a.buckets.count());
        let _ = bucket::Bucket::parse(b).map(|x| x.bucket_info.entries().count());
        let _ = file::File::parse(b).map(|f| (f.sha1(), f.file_info.entries().count()));
        let _ = file::File::parse(b).map(|f| (f.retention(), f.legal_hold_state(), f.encryption()));
        let _ = lock::RetentionAnswer::parse(b);
        let _ = lock::LegalHoldAnswer::parse(b);
        let _ = file::FileRef::parse(b);
        let _ = file::ListFilesAnswer::parse(b).map(|a| a.files.count());
        let _ = large::ListPartsAnswer::parse(b).map(|a| a.parts.count());
        let _ = large::Part::parse(b);
        let _ = key::ListKeysAnswer::parse(b).map(|a| {
            a.keys
                .flatten()
                .map(|k| k.capabilities.count())
                .sum::<usize>()
        });
        let _ = key::Key::parse(b);
        let _ = upload::UploadUrlAnswer::parse(b);
        let _ = settings::ListBucketSettingsAnswer::parse(b).map(|a| {
            a.buckets
                .flatten()
                .map(|s| s.cors_rules.count() + s.lifecycle_rules.count())
                .sum::<usize>()
        });
        let _ = settings::BucketSettings::parse(b)
            .map(|s| s.replication().map(|r| r.map(|r| r.rules.count())));
        let _ = notify::NotificationRules::parse(b).map(|n| n.rules.count());
        let _ = error_body::parse(400, b);
    }

    #[test]
    fn samples_parse() {
        assert!(auth::AuthorizeAnswer::parse(SAMPLES[0]).is_ok());
        assert!(file::File::parse(SAMPLES[1]).is_ok());
        assert_eq!(
            file::ListFilesAnswer::parse(SAMPLES[2]).map(|a| a.files.count()),
            Ok(1)
        );
        assert_eq!(
            large::ListPartsAnswer::parse(SAMPLES[3]).map(|a| a.parts.count()),
            Ok(1)
        );
        assert_eq!(
            key::ListKeysAnswer::parse(SAMPLES[4]).map(|a| a.keys.count()),
            Ok(1)
        );
        assert!(upload::UploadUrlAnswer::parse(SAMPLES[5]).is_ok());
        let f = file::File::parse(SAMPLES[6]).expect("locked file");
        assert_eq!(
            f.retention().map(|r| r.map(|r| r.mode)),
            Ok(Some(lock::RetentionMode::Governance))
        );
        assert_eq!(f.legal_hold_state(), Ok(Some(lock::LegalHold::On)));
        assert_eq!(
            f.encryption().map(|e| e.mode),
            Some(encryption::EncryptionMode::SseC)
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..512)) {
            all(&b);
        }

        #[test]
        fn damaged_answers(which in 0usize..7, cut in 0usize..400, at in 0usize..400, byte in any::<u8>()) {
            let mut b = SAMPLES[which].to_vec();
            if let Some(x) = b.get_mut(at) {
                *x = byte;
            }
            b.truncate(cut.max(1));
            all(&b);
        }
    }
}

//! Every documented answer shape parses: fields added in later API versions may be absent,
//! wrapped fields (`{"isClientAuthorizedToRead", "value"}`) may be readable, unreadable or
//! `null`, folder rows have no id. The answers below are shaped like B2's documentation
//! examples (ids and tokens shortened).

use super::auth::AuthorizeAnswer;
use super::bucket::{Bucket, ListBucketsAnswer};
use super::file::{Action, File, ListFilesAnswer};
use super::json::{Value, Wrapped};
use super::key::{Key, ListKeysAnswer};
use super::large::{ListPartsAnswer, Part};
use super::Answer;
use proptest::prelude::*;
use serde_json::{json, Map as JsonMap, Value as Json};
use std::string::{String, ToString};
use std::vec::Vec;

/// `b2_start_large_file` as API v1 answered it: no `action`, `contentLength`, `contentSha1`.
const START_V1: &[u8] = br#"{
  "accountId": "YOUR_ACCOUNT_ID",
  "bucketId": "e73ede9c9c8412db49f60715",
  "contentType": "b2/x-auto",
  "fileId": "4_za71f544e781e6891531b001a_f200ec353a2184825_d20160409_m004708_c000_v0001016_t0028",
  "fileInfo": {},
  "fileName": "bigfile.dat",
  "uploadTimestamp": 1460162828000
}"#;

/// The same call since v2, with Object Lock, encryption and replication fields (v4).
const START_V4: &[u8] = br#"{
  "accountId": "YOUR_ACCOUNT_ID",
  "action": "start",
  "bucketId": "e73ede9c9c8412db49f60715",
  "contentLength": 0,
  "contentSha1": "none",
  "contentType": "b2/x-auto",
  "fileId": "4_za71f544e781e6891531b001a_f200ec353a2184825_d20160409_m004708_c000_v0001016_t0028",
  "fileInfo": {"src_last_modified_millis": "1460162828000"},
  "fileName": "bigfile.dat",
  "fileRetention": {"isClientAuthorizedToRead": true, "value": {"mode": null, "retainUntilTimestamp": null}},
  "legalHold": {"isClientAuthorizedToRead": true, "value": null},
  "replicationStatus": null,
  "serverSideEncryption": {"algorithm": "AES256", "mode": "SSE-B2"},
  "uploadTimestamp": 1460162828000
}"#;

/// A finished upload with governance retention, a legal hold and replication.
const UPLOAD_LOCKED: &[u8] = br#"{
  "accountId": "YOUR_ACCOUNT_ID",
  "action": "upload",
  "bucketId": "e73ede9c9c8412db49f60715",
  "contentLength": 46,
  "contentMd5": "bcd46fbe0d8b81e4e5b0b5b4d9b1e4a8",
  "contentSha1": "bae5ed658ab3546aee12f23f36392f35dba1ebdd",
  "contentType": "text/plain",
  "fileId": "4_ze73ede9c9c8412db49f60715_f1003e7f8fe1cbb6f_d20221103_m173320_c002_v0001093_t0034_u01667496800395",
  "fileInfo": {"author": "unknown"},
  "fileName": "typing-test.txt",
  "fileRetention": {"isClientAuthorizedToRead": true, "value": {"mode": "governance", "retainUntilTimestamp": 1700000000000}},
  "legalHold": {"isClientAuthorizedToRead": true, "value": "on"},
  "replicationStatus": "pending",
  "serverSideEncryption": {"algorithm": "AES256", "mode": "SSE-C"},
  "uploadTimestamp": 1667496800395
}"#;

/// A key without `readFileRetentions` / `readFileLegalHolds`: the values are hidden.
const UPLOAD_UNREADABLE: &[u8] =
    br#"{"accountId":"a","action":"upload","bucketId":"b","contentLength":1,
  "contentSha1":"unverified:356a192b7913b04c54574d18c28d46e6395428ab","contentType":"text/plain",
  "fileId":"4_z1","fileInfo":{},"fileName":"x",
  "fileRetention":{"isClientAuthorizedToRead":false,"value":null},
  "legalHold":{"isClientAuthorizedToRead":false,"value":null},
  "serverSideEncryption":{"mode":null},"uploadTimestamp":1}"#;

/// A listing page with a folder row (`fileId: null`), a hide marker (`contentSha1: null`,
/// `legalHold: null`) and an unfinished large file.
const LISTING: &[u8] = br#"{"files":[
  {"accountId":"a","action":"folder","bucketId":"b","contentLength":0,"contentMd5":null,"contentSha1":null,
   "contentType":null,"fileId":null,"fileInfo":{},"fileName":"photos/","fileRetention":{"isClientAuthorizedToRead":false,"value":null},
   "legalHold":{"isClientAuthorizedToRead":false,"value":null},"replicationStatus":null,"serverSideEncryption":{"algorithm":null,"mode":null},"uploadTimestamp":0},
  {"accountId":"a","action":"hide","bucketId":"b","contentLength":0,"contentMd5":null,"contentSha1":null,
   "contentType":null,"fileId":"4_z2","fileInfo":{},"fileName":"old.txt","fileRetention":null,"legalHold":null,
   "replicationStatus":null,"serverSideEncryption":null,"uploadTimestamp":1700000000001},
  {"accountId":"a","action":"start","bucketId":"b","contentLength":0,"contentSha1":"none",
   "contentType":"application/octet-stream","fileId":"4_z3","fileInfo":{"large_file_sha1":"bae5ed658ab3546aee12f23f36392f35dba1ebdd"},
   "fileName":"big.iso","uploadTimestamp":1700000000002}
 ],"nextFileName":null}"#;

/// A bucket as `b2_list_buckets` v4 answers it, every wrapped field readable.
const BUCKET_V4: &[u8] = br#"{
  "accountId": "30f20426f0b1",
  "bucketId": "4a48fe8875c6214145260818",
  "bucketInfo": {},
  "bucketName": "Kitten-Videos",
  "bucketType": "allPrivate",
  "corsRules": [],
  "defaultServerSideEncryption": {"isClientAuthorizedToRead": true, "value": {"algorithm": "AES256", "mode": "SSE-B2"}},
  "fileLockConfiguration": {"isClientAuthorizedToRead": true, "value": {"defaultRetention": {"mode": null, "period": null}, "isFileLockEnabled": false}},
  "lifecycleRules": [],
  "options": ["s3"],
  "replicationConfiguration": {"isClientAuthorizedToRead": true, "value": {"asReplicationSource": null, "asReplicationDestination": null}},
  "revision": 2
}"#;

/// The same bucket for a key that may not read encryption, lock or replication settings.
const BUCKET_HIDDEN: &[u8] =
    br#"{"accountId":"a","bucketId":"b1","bucketInfo":null,"bucketName":"n1","bucketType":"shared",
  "defaultServerSideEncryption":{"isClientAuthorizedToRead":false},
  "fileLockConfiguration":{"isClientAuthorizedToRead":false,"value":null},
  "replicationConfiguration":{"isClientAuthorizedToRead":false,"value":null},"revision":1}"#;

/// The v4 authorize answer for a key restricted to two buckets and a prefix.
const AUTHORIZE_V4: &[u8] = br#"{
  "accountId": "30f20426f0b1",
  "apiInfo": {
    "groupsApi": {"capabilities": ["readGroups"], "groupsApiUrl": "https://apiNNN.backblazeb2.com", "infoType": "groupsApi"},
    "storageApi": {
      "absoluteMinimumPartSize": 5000000,
      "allowed": {
        "buckets": [{"id": "4a48fe8875c6214145260818", "name": "Kitten-Videos"}, {"id": "5b59", "name": null}],
        "capabilities": ["listBuckets", "listFiles", "readFiles", "shareFiles", "writeFiles", "deleteFiles", "bypassGovernance", "readBucketNotifications"],
        "namePrefix": "cats/"
      },
      "apiUrl": "https://apiNNN.backblazeb2.com",
      "bucketId": null,
      "bucketName": null,
      "downloadUrl": "https://f002.backblazeb2.com",
      "infoType": "storageApi",
      "recommendedPartSize": 100000000,
      "s3ApiUrl": "https://s3.us-west-NNN.backblazeb2.com"
    }
  },
  "applicationKeyExpirationTimestamp": null,
  "authorizationToken": "4_0022623512fc8f80000000001_0186e431_d18d02_acct_tH7VW03boebOXayIc43-sxptpfA="
}"#;

/// A key from `b2_create_key` v4 (several buckets) and one from `b2_list_keys` with no
/// restriction.
const KEYS: &[u8] = br#"{"keys":[
  {"accountId":"a","applicationKeyId":"000a","bucketIds":["b1","b2"],"capabilities":["listFiles"],
   "expirationTimestamp":1700000000000,"keyName":"two","namePrefix":null,"options":["s3"]},
  {"accountId":"a","applicationKeyId":"000b","bucketIds":null,"capabilities":["listBuckets"],
   "expirationTimestamp":null,"keyName":"all","namePrefix":null,"options":["s3"]}
 ],"nextApplicationKeyId":null}"#;

#[test]
fn start_large_file_in_every_version() {
    let v1 = File::parse(START_V1).expect("v1 start");
    assert_eq!(v1.action, Action::Start);
    assert_eq!(v1.content_length, 0);
    assert_eq!(v1.content_sha1, None);
    assert!(v1.file_id.raw().starts_with("4_za71f"));
    let v4 = File::parse(START_V4).expect("v4 start");
    assert_eq!(v4.action, Action::Start);
    assert_eq!(v4.content_sha1.map(|t| t.raw()), Some("none"));
    let r = v4.file_retention.expect("retention");
    assert!(r.is_client_authorized_to_read);
    assert!(r.object().is_some());
    let hold = v4.legal_hold.expect("wrapped hold");
    assert_eq!(hold.value, None);
    assert_eq!(v4.replication_status, None);
    assert!(v4.server_side_encryption.is_some());
    assert_eq!(v4.file_id, v1.file_id);
}

#[test]
fn wrapped_file_fields() {
    let f = File::parse(UPLOAD_LOCKED).expect("locked upload");
    assert_eq!(f.content_length, 46);
    assert_eq!(f.sha1().map(|d| d[0]), Some(0xba));
    assert_eq!(
        f.legal_hold.and_then(|h| h.text()).map(|t| t.raw()),
        Some("on")
    );
    let retention = f
        .file_retention
        .and_then(|r| r.object())
        .expect("retention");
    let mut mode = None;
    super::json::each_field(retention, |k, v| {
        if k.raw() == "mode" {
            mode = v.opt_text()?;
        }
        Ok(())
    })
    .expect("retention value");
    assert_eq!(mode.map(|t| t.raw()), Some("governance"));
    assert_eq!(f.replication_status.map(|t| t.raw()), Some("pending"));

    let hidden = File::parse(UPLOAD_UNREADABLE).expect("unreadable fields");
    for w in [hidden.file_retention, hidden.legal_hold] {
        let w = w.expect("wrapper present");
        assert!(!w.is_client_authorized_to_read);
        assert_eq!(w.value, None);
    }
    assert_eq!(hidden.sha1().map(|d| d[0]), Some(0x35));
}

#[test]
fn listing_rows_of_every_kind() {
    let page = ListFilesAnswer::parse(LISTING).expect("page");
    let rows: Vec<File<'_>> = page.files.map(|f| f.expect("row")).collect();
    let kinds: Vec<Action> = rows.iter().map(|f| f.action).collect();
    assert_eq!(kinds, [Action::Folder, Action::Hide, Action::Start]);
    assert_eq!(rows[0].file_id, "");
    assert_eq!(rows[1].content_sha1, None);
    assert_eq!(rows[1].legal_hold, None);
    assert_eq!(rows[2].sha1().map(|d| d[0]), Some(0xba));
    assert_eq!(page.next_file_name, None);
}

#[test]
fn buckets_with_wrapped_settings() {
    let b = Bucket::parse(BUCKET_V4).expect("bucket");
    assert_eq!(b.revision, 2);
    for w in [
        b.default_server_side_encryption,
        b.file_lock_configuration,
        b.replication_configuration,
    ] {
        let w = w.expect("wrapped");
        assert!(w.is_client_authorized_to_read && w.object().is_some());
    }
    let h = Bucket::parse(BUCKET_HIDDEN).expect("hidden settings");
    assert_eq!(h.bucket_type, "shared");
    assert_eq!(h.bucket_info.entries().count(), 0);
    for w in [
        h.default_server_side_encryption,
        h.file_lock_configuration,
        h.replication_configuration,
    ] {
        let w = w.expect("wrapper");
        assert!(!w.is_client_authorized_to_read);
        assert_eq!(w.value, None);
    }
    let mut list = std::vec::Vec::from(&b"{\"buckets\":["[..]);
    list.extend_from_slice(BUCKET_V4);
    list.push(b',');
    list.extend_from_slice(BUCKET_HIDDEN);
    list.extend_from_slice(b"]}");
    let names: Vec<String> = ListBucketsAnswer::parse(&list)
        .expect("list")
        .buckets
        .map(|b| b.expect("bucket").bucket_name.raw().to_string())
        .collect();
    assert_eq!(names, ["Kitten-Videos", "n1"]);
}

#[test]
fn authorize_v4_with_several_buckets() {
    let a = AuthorizeAnswer::parse(AUTHORIZE_V4).expect("authorize");
    assert_eq!(a.absolute_minimum_part_size, 5_000_000);
    assert_eq!(a.recommended_part_size, 100_000_000);
    assert!(a.allowed.has("bypassGovernance"));
    let buckets: Vec<_> = a
        .allowed
        .buckets
        .clone()
        .expect("restricted")
        .map(|b| b.expect("bucket"))
        .collect();
    assert_eq!(buckets.len(), 2);
    assert_eq!(buckets[1].name, None);
    assert_eq!(a.allowed.name_prefix.map(|t| t.raw()), Some("cats/"));
    // A session restricted to two buckets records no single bucket.
    let creds = crate::session::Credentials::new("k", "s", "http://h").expect("creds");
    let mut s = crate::session::Session::new(creds);
    s.apply_authorization(&a).expect("apply");
    assert_eq!(s.allowed.bucket_id, None);
    assert_eq!(s.allowed.name_prefix.as_deref(), Some("cats/"));
    // Optional parts of the shape may be null or absent.
    let lean = br#"{"accountId":"a","authorizationToken":"t","apiInfo":{"storageApi":{
      "apiUrl":"http://h","downloadUrl":"http://h","absoluteMinimumPartSize":5000000,
      "recommendedPartSize":null,"s3ApiUrl":null,"allowed":{"buckets":null,"capabilities":null,"namePrefix":null}}}}"#;
    let a = AuthorizeAnswer::parse(lean).expect("lean authorize");
    assert_eq!(a.recommended_part_size, 5_000_000);
    assert!(a.allowed.buckets.is_none() && !a.allowed.has("listFiles"));
}

#[test]
fn keys_of_v4() {
    let page = ListKeysAnswer::parse(KEYS).expect("keys");
    let keys: Vec<Key<'_>> = page.keys.map(|k| k.expect("key")).collect();
    assert_eq!(keys[0].bucket_ids.clone().map(|b| b.count()), Some(2));
    assert!(keys[1].bucket_ids.is_none());
    assert_eq!(keys[1].expiration_timestamp, None);
}

#[test]
fn parts_without_optional_fields() {
    let p = Part::parse(br#"{"fileId":"f","partNumber":3,"contentLength":5000000,"contentSha1":"x","contentMd5":null,"serverSideEncryption":{"mode":null}}"#)
        .expect("part");
    assert_eq!((p.part_number, p.upload_timestamp), (3, 0));
    assert!(ListPartsAnswer::parse(br#"{"parts":[],"nextPartNumber":null}"#).is_ok());
}

#[test]
fn wrapped_values_alone() {
    let w = |s: &'static [u8]| -> Option<Wrapped<'static>> {
        let mut out = None;
        super::json::each_field(s, |_, v| {
            out = Wrapped::parse(v)?;
            Ok(())
        })
        .expect("field");
        out
    };
    assert_eq!(w(br#"{"x":null}"#), None);
    let bare = w(br#"{"x":"on"}"#).expect("bare");
    assert!(bare.is_client_authorized_to_read);
    assert_eq!(bare.text().map(|t| t.raw()), Some("on"));
    let unwrapped = w(br#"{"x":{"mode":"compliance"}}"#).expect("bare object");
    assert!(unwrapped.object().is_some());
    let only_value = w(br#"{"x":{"value":"off"}}"#).expect("value only");
    assert!(only_value.is_client_authorized_to_read);
    assert_eq!(
        only_value.value.map(|v| matches!(v, Value::Str(_))),
        Some(true)
    );
}

/// One field of a generated File answer: absent, `null`, or a value.
fn maybe(v: Json) -> impl Strategy<Value = Option<Json>> {
    prop_oneof![Just(None), Just(Some(Json::Null)), Just(Some(v))]
}

fn wrapped_json() -> impl Strategy<Value = Option<Json>> {
    prop_oneof![
        Just(None),
        Just(Some(Json::Null)),
        any::<bool>().prop_map(|readable| Some(if readable {
            json!({"isClientAuthorizedToRead": true, "value": {"mode": "governance", "retainUntilTimestamp": 1}})
        } else {
            json!({"isClientAuthorizedToRead": false, "value": null})
        })),
    ]
}

prop_compose! {
    fn file_json()(
        action in prop_oneof![Just(None), Just(Some("upload")), Just(Some("start")), Just(Some("hide")), Just(Some("copy"))],
        length in proptest::option::of(any::<u64>()),
        sha1 in maybe(json!("bae5ed658ab3546aee12f23f36392f35dba1ebdd")),
        name in "[a-zA-Z0-9 /+%é\"\\\\]{1,40}",
        id in "[a-z0-9_]{1,40}",
        info in proptest::collection::btree_map("[a-z_]{1,10}", "[ -~é]{0,20}", 0..4),
        retention in wrapped_json(),
        hold in prop_oneof![Just(None), Just(Some(Json::Null)), Just(Some(json!({"isClientAuthorizedToRead": true, "value": "on"})))],
        sse in maybe(json!({"algorithm": "AES256", "mode": "SSE-B2"})),
        replication in maybe(json!("completed")),
        ts in any::<u64>(),
    ) -> (Json, Option<&'static str>, Option<u64>, String, String) {
        let mut m = JsonMap::new();
        m.insert("fileName".into(), json!(name));
        m.insert("fileId".into(), json!(id));
        m.insert("uploadTimestamp".into(), json!(ts));
        m.insert("fileInfo".into(), json!(info));
        if let Some(a) = action { m.insert("action".into(), json!(a)); }
        if let Some(l) = length { m.insert("contentLength".into(), json!(l)); }
        for (k, v) in [("contentSha1", sha1), ("fileRetention", retention), ("legalHold", hold),
                       ("serverSideEncryption", sse), ("replicationStatus", replication)] {
            if let Some(v) = v { m.insert(k.into(), v); }
        }
        (Json::Object(m), action, length, name, id)
    }
}

proptest! {
    /// Any combination of present, absent and `null` optional fields parses, and what was
    /// written reads back.
    #[test]
    fn file_shapes_round_trip((j, action, length, name, id) in file_json()) {
        let text = j.to_string();
        let f = File::parse(text.as_bytes()).map_err(|e| TestCaseError::fail(std::format!("{e:?}: {text}")))?;
        let decoded: String = f.file_name.chars().collect::<Result<_, _>>().map_err(|_| TestCaseError::fail("name"))?;
        prop_assert_eq!(decoded, name);
        prop_assert!(f.file_id.eq_str(&id));
        prop_assert_eq!(f.content_length, length.unwrap_or(0));
        let expected = match action {
            Some("upload") => Action::Upload,
            Some("start") => Action::Start,
            Some("hide") => Action::Hide,
            Some(_) => Action::Other,
            None if length.is_some() || j.get("contentSha1").is_some() => Action::Upload,
            None => Action::Start,
        };
        prop_assert_eq!(f.action, expected);
        prop_assert_eq!(f.file_info.entries().count(), j["fileInfo"].as_object().map_or(0, |m| m.len()));
        prop_assert_eq!(f.file_retention.is_some(), j.get("fileRetention").is_some_and(|v| !v.is_null()));
        prop_assert_eq!(f.legal_hold.and_then(|h| h.text()).map(|t| t.raw() == "on"), j.get("legalHold").and_then(|v| v.get("value")).map(|_| true));
    }

    /// Bytes of any kind never panic any parser, wrapped fields included.
    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..400)) {
        walk(&b);
    }

    /// The documented answers, damaged anywhere, never panic.
    #[test]
    fn damaged_shapes_never_panic(which in 0usize..9, at in 0usize..1200, byte in any::<u8>(), cut in 1usize..1200) {
        let samples = [START_V1, START_V4, UPLOAD_LOCKED, UPLOAD_UNREADABLE, LISTING, BUCKET_V4, BUCKET_HIDDEN, AUTHORIZE_V4, KEYS];
        let mut b = samples[which].to_vec();
        if let Some(x) = b.get_mut(at) { *x = byte; }
        b.truncate(cut);
        walk(&b);
    }
}

fn walk(b: &[u8]) {
    if let Ok(f) = File::parse(b) {
        let _ = (
            f.sha1(),
            f.legal_hold.and_then(|h| h.text()),
            f.file_retention.and_then(|r| r.object()),
        );
    }
    if let Ok(p) = ListFilesAnswer::parse(b) {
        let _ = p.files.count();
    }
    if let Ok(x) = Bucket::parse(b) {
        let _ = x.default_server_side_encryption.and_then(|w| w.object());
    }
    if let Ok(a) = AuthorizeAnswer::parse(b) {
        let _ = a.allowed.buckets.map(|x| x.count());
    }
    if let Ok(k) = ListKeysAnswer::parse(b) {
        let _ = k
            .keys
            .flatten()
            .map(|k| k.capabilities.count())
            .sum::<usize>();
    }
}

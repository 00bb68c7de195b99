//! `List`, state by state: the page size chosen from the buffer, the cursor of each kind of
//! listing carried to the next request, a page too big for the buffer asked again smaller,
//! and retries within a page.

use std::string::{String, ToString};
use std::vec::Vec;

use serde_json::json;

use crate::driver::run;
use crate::error::Error;
use crate::op::script::answers::{self, API};
use crate::op::script::{Reply, Script, VirtualClock};
use crate::op::{List, Listing, Step};

const NAMES: Listing<'static> = Listing::FileNames {
    bucket_id: "bkt",
    prefix: None,
    delimiter: None,
};

fn names(list: &List<'_, '_, '_>) -> Vec<String> {
    list.files()
        .expect("page")
        .files
        .map(|f| f.expect("file").file_name.raw().to_string())
        .collect()
}

#[test]
fn pages_follow_next_file_name_until_the_end() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut list = List::new(&mut s, &mut buf, NAMES);
    // (2,048 − 128) / 700 bytes per file: two files a page.
    assert_eq!(list.page_size(), 2);
    let mut script = Script::new([
        Reply::ok(answers::file_names(&["a", "b"], Some("c"))),
        Reply::ok(answers::file_names(&["c"], None)),
    ]);
    assert_eq!(script.step(&mut list, 0), Ok(Step::Send));
    let r = script.last();
    assert_eq!(r.url, std::format!("{API}/b2api/v4/b2_list_file_names"));
    assert_eq!(r.json(), json!({"bucketId": "bkt", "maxFileCount": 2}));
    assert_eq!(script.step(&mut list, 0), Ok(Step::Done));
    assert_eq!(names(&list), ["a", "b"]);
    assert_eq!(list.next_page(), Ok(true));

    assert_eq!(script.step(&mut list, 0), Ok(Step::Send));
    assert_eq!(
        script.last().json(),
        json!({"bucketId": "bkt", "maxFileCount": 2, "startFileName": "c"})
    );
    assert_eq!(script.step(&mut list, 0), Ok(Step::Done));
    assert_eq!(names(&list), ["c"]);
    assert_eq!(list.next_page(), Ok(false));
    // The end: nothing more is sent.
    assert_eq!(script.step(&mut list, 0), Ok(Step::Done));
    script.finish();
    assert_eq!(list.pages(), 2);
}

#[test]
fn a_page_too_big_for_the_buffer_is_asked_again_smaller() {
    let long: Vec<String> = (0..10)
        .map(|i| std::format!("dir/{i:02}-{}", "n".repeat(200)))
        .collect();
    let long: Vec<&str> = long.iter().map(String::as_str).collect();
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut list = List::new(&mut s, &mut buf, NAMES).with_page_size(50);
    let mut script = Script::new([
        Reply::ok(answers::file_names(&long, Some("dir/10"))),
        Reply::ok(answers::file_names(&long[..2], Some("dir/02"))),
    ]);
    assert_eq!(script.step(&mut list, 0), Ok(Step::Send));
    // No wait, no error: the same page again, smaller.
    assert_eq!(script.step(&mut list, 0), Ok(Step::Send));
    let again = script.last().json();
    assert_eq!(again.get("startFileName"), None);
    let max = again["maxFileCount"].as_u64().expect("maxFileCount");
    assert!((1..=25).contains(&max), "asked for {max}");
    assert_eq!(u64::from(list.page_size()), max);
    assert_eq!(script.step(&mut list, 0), Ok(Step::Done));
    assert_eq!(names(&list), &long[..2]);
    script.finish();
}

#[test]
fn one_item_that_does_not_fit_is_an_error_saying_the_size() {
    let long = "n".repeat(1000);
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 1024];
    let mut list = List::new(&mut s, &mut buf, NAMES).with_page_size(1);
    let page = answers::file_names(&[&long], None);
    let needed = page.to_string().len();
    let mut script = Script::new([Reply::ok(page)]);
    assert_eq!(script.step(&mut list, 0), Ok(Step::Send));
    assert_eq!(
        script.step(&mut list, 0),
        Err(Error::BufferTooSmall { needed })
    );
    script.finish();
}

#[test]
fn versions_carry_name_and_id() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 4096];
    let listing = Listing::FileVersions {
        bucket_id: "bkt",
        prefix: Some("p/"),
        delimiter: Some("/"),
    };
    let mut list = List::new(&mut s, &mut buf, listing).with_page_size(1);
    let mut first = answers::file_names(&["p/a"], Some("p/a"));
    first["nextFileId"] = "4_f9".into();
    let mut script = Script::new([Reply::ok(first), Reply::ok(answers::file_names(&[], None))]);
    let mut clock = VirtualClock::default();
    run(&mut list, &mut script, &mut clock).expect("page 1");
    assert_eq!(list.next_page(), Ok(true));
    run(&mut list, &mut script, &mut clock).expect("page 2");
    assert_eq!(list.next_page(), Ok(false));
    script.finish();
    assert_eq!(script.last().call(), "b2_list_file_versions");
    assert_eq!(
        script.last().json(),
        json!({"bucketId": "bkt", "maxFileCount": 1, "prefix": "p/", "delimiter": "/",
            "startFileName": "p/a", "startFileId": "4_f9"})
    );
}

#[test]
fn unfinished_large_files_carry_the_next_file_id() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 4096];
    let listing = Listing::UnfinishedLargeFiles {
        bucket_id: "bkt",
        name_prefix: None,
    };
    let mut list = List::new(&mut s, &mut buf, listing);
    let first = json!({"files": [answers::large_start("4_L1", "big")], "nextFileId": "4_L2"});
    let mut script = Script::new([
        Reply::ok(first),
        Reply::ok(json!({"files": [], "nextFileId": null})),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut list, &mut script, &mut clock).expect("page 1");
    assert_eq!(list.next_page(), Ok(true));
    run(&mut list, &mut script, &mut clock).expect("page 2");
    assert_eq!(list.next_page(), Ok(false));
    script.finish();
    let r = script.last();
    assert_eq!(r.call(), "b2_list_unfinished_large_files");
    assert_eq!(r.json()["startFileId"], "4_L2");
}

#[test]
fn parts_carry_the_next_part_number() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 4096];
    let mut list = List::new(&mut s, &mut buf, Listing::Parts { file_id: "4_L1" });
    let first = json!({"parts": [answers::part("4_L1", 1, b"abc")], "nextPartNumber": 2});
    let mut script = Script::new([
        Reply::ok(first),
        Reply::ok(json!({"parts": [answers::part("4_L1", 2, b"de")], "nextPartNumber": null})),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut list, &mut script, &mut clock).expect("page 1");
    let p: Vec<u32> = list
        .parts()
        .expect("parts")
        .parts
        .map(|p| p.expect("part").part_number)
        .collect();
    assert_eq!(p, [1]);
    assert!(matches!(list.files(), Err(Error::Misuse(_))));
    assert_eq!(list.next_page(), Ok(true));
    run(&mut list, &mut script, &mut clock).expect("page 2");
    assert_eq!(list.next_page(), Ok(false));
    script.finish();
    let r = script.last();
    assert_eq!(r.call(), "b2_list_parts");
    assert_eq!(r.json()["fileId"], "4_L1");
    assert_eq!(r.json()["startPartNumber"], 2);
}

#[test]
fn keys_carry_the_next_key_id() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 4096];
    let mut list = List::new(&mut s, &mut buf, Listing::Keys);
    let key = json!({"accountId": "acct", "applicationKeyId": "k1", "keyName": "one",
        "capabilities": ["listFiles"], "bucketIds": null, "namePrefix": null,
        "expirationTimestamp": null, "options": ["s3"]});
    let mut script = Script::new([
        Reply::ok(json!({"keys": [key], "nextApplicationKeyId": "k2"})),
        Reply::ok(json!({"keys": [], "nextApplicationKeyId": null})),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut list, &mut script, &mut clock).expect("page 1");
    assert_eq!(list.next_page(), Ok(true));
    run(&mut list, &mut script, &mut clock).expect("page 2");
    assert_eq!(list.next_page(), Ok(false));
    script.finish();
    let r = script.last();
    assert_eq!(r.call(), "b2_list_keys");
    assert_eq!(r.json()["startApplicationKeyId"], "k2");
}

#[test]
fn a_busy_page_is_retried_after_a_wait_and_counted_once() {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 2048];
    let mut list = List::new(&mut s, &mut buf, NAMES);
    let mut script = Script::new([
        Reply::error(429, "too_many_requests").retry_after(1),
        Reply::ok(answers::file_names(&["a"], None)),
    ]);
    let mut clock = VirtualClock::default();
    run(&mut list, &mut script, &mut clock).expect("page");
    script.finish();
    assert_eq!(clock.waits, [1000]);
    assert_eq!(list.pages(), 1);
    assert_eq!(names(&list), ["a"]);
    assert_eq!(script.sent[0].body, script.sent[1].body);
}

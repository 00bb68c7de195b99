use std::path::{Path, PathBuf};

use b2_sim::Sim;
use serde_json::json;

use crate::common::*;

/// An empty folder for a simulator's data.
fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("b2-sim-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A simulator keeping its data in `dir` (small parts allowed).
fn start_in(dir: &Path) -> Sim {
    Sim::builder()
        .min_part_size(100)
        .data_dir(dir)
        .start()
        .unwrap()
}

#[test]
fn data_dir_survives_restart() {
    let dir = fresh_dir("persist");
    let start = || start_in(&dir);
    let s = start();
    let (kid, key) = (s.master_key().0.to_string(), s.master_key().1.to_string());
    let c = Client::new(&s);
    let b = c.create_bucket("persist-bucket", "allPrivate");
    let small = data(5000, 1);
    c.upload(&b, "small", &small);
    let gone = c.upload(&b, "gone", b"bye");
    let id = c.start_large(&b, "large");
    let (p1, p2) = (data(300, 2), data(30, 3));
    assert_eq!(c.upload_part(&id, 1, &p1).status, 200);
    assert_eq!(c.upload_part(&id, 2, &p2).status, 200);
    c.ok(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": [sha1_hex(&p1), sha1_hex(&p2)]}),
    );
    let pending = c.start_large(&b, "pending");
    assert_eq!(c.upload_part(&pending, 1, &p1).status, 200);
    c.ok("b2_hide_file", json!({"bucketId": b, "fileName": "small"}));
    let k = c.ok(
        "b2_create_key",
        json!({"accountId": c.account_id, "keyName": "kept", "capabilities": ["listBuckets"]}),
    );
    let blobs = dir.join("blobs");
    let count = || std::fs::read_dir(&blobs).unwrap().count();
    assert_eq!(count(), 5);
    c.ok(
        "b2_delete_file_version",
        json!({"fileName": "gone", "fileId": gone["fileId"]}),
    );
    assert_eq!(count(), 4, "deleted data leaves the disk");
    s.stop();

    let s = start();
    assert_eq!(s.master_key(), (kid.as_str(), key.as_str()));
    let c2 = Client::new(&s);
    assert_eq!(c2.account_id, c.account_id);
    // The old account token still works.
    let old = Client {
        url: s.url().to_string(),
        ..c
    };
    let l = old.ok("b2_list_file_versions", json!({"bucketId": b}));
    let names: Vec<&str> = l["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fileName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["large", "pending", "small", "small"]);
    assert_eq!(
        s.file_bytes("persist-bucket", "large").unwrap(),
        [p1.clone(), p2].concat()
    );
    assert_eq!(s.unfinished_large_files(), 1);
    let lp = c2.ok("b2_list_parts", json!({"fileId": pending}));
    assert_eq!(lp["parts"][0]["contentSha1"], sha1_hex(&p1));
    let d = c2.get(
        &format!(
            "/b2api/v4/b2_download_file_by_id?fileId={}",
            l["files"][3]["fileId"].as_str().unwrap()
        ),
        Some(&c2.token),
        None,
    );
    assert_eq!(d.body, small);
    Client::with_key(
        s.url(),
        k["applicationKeyId"].as_str().unwrap(),
        k["applicationKey"].as_str().unwrap(),
        4,
    );
    // Uploads keep working after the restart and get new ids.
    c2.upload(&b, "after", b"after");
    assert_eq!(s.file_bytes("persist-bucket", "after").unwrap(), b"after");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn uploads_are_rows_and_survive_restart() {
    let dir = fresh_dir("rows");
    let start = || start_in(&dir);
    let s = start();
    let c = Client::new(&s);
    let b = c.create_bucket("journal-bucket", "allPrivate");
    let id = c.start_large(&b, "large");
    for i in 0..20u8 {
        c.upload(&b, &format!("f{i}"), &data(100 + usize::from(i), i));
    }
    let (p1, p1b, p2) = (data(300, 1), data(300, 2), data(40, 3));
    assert_eq!(c.upload_part(&id, 1, &p1).status, 200);
    assert_eq!(c.upload_part(&id, 1, &p1b).status, 200, "part 1 again");
    assert_eq!(c.upload_part(&id, 2, &p2).status, 200);
    // The metadata is in the database; no JSON snapshot or journal any more.
    assert!(dir.join("b2-sim.sqlite").exists());
    assert!(!dir.join("state.json").exists());
    s.stop();

    let s = start();
    for i in 0..20u8 {
        assert_eq!(
            s.file_bytes("journal-bucket", &format!("f{i}")),
            Some(data(100 + usize::from(i), i)),
            "f{i}"
        );
    }
    let c = Client::new(&s);
    let lp = c.ok("b2_list_parts", json!({"fileId": id}));
    let shas: Vec<&str> = lp["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["contentSha1"].as_str().unwrap())
        .collect();
    assert_eq!(
        shas,
        [sha1_hex(&p1b), sha1_hex(&p2)],
        "the replacement part"
    );
    c.ok(
        "b2_finish_large_file",
        json!({"fileId": id, "partSha1Array": [sha1_hex(&p1b), sha1_hex(&p2)]}),
    );
    // A deletion after uploads is not undone by them.
    let gone = c.upload(&b, "gone", b"bye");
    c.ok(
        "b2_delete_file_version",
        json!({"fileName": "gone", "fileId": gone["fileId"]}),
    );
    c.upload(&b, "last", b"last");
    s.stop();

    let s = start();
    assert_eq!(s.file_bytes("journal-bucket", "gone"), None);
    assert_eq!(s.file_bytes("journal-bucket", "last").unwrap(), b"last");
    assert_eq!(
        s.file_bytes("journal-bucket", "large").unwrap(),
        [p1b, p2].concat()
    );
    // Blobs on disk: 20 files, the large file's two parts and "last"; the replaced part
    // and the deleted file are gone.
    assert_eq!(std::fs::read_dir(dir.join("blobs")).unwrap().count(), 23);
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same calls against a simulator: every listing's answer, with ids, timestamps and
/// account ids left out (they differ between two simulators).
fn listings_after_script(s: &Sim) -> Vec<serde_json::Value> {
    let c = Client::new(s);
    let b = c.create_bucket("same-answers", "allPrivate");
    for i in 0..30 {
        c.upload(&b, &format!("dir{}/f{:02}", i % 3, i), &data(10 + i, 1));
    }
    c.upload(&b, "dir0/f00", b"second version");
    c.ok(
        "b2_hide_file",
        json!({"bucketId": b, "fileName": "dir1/f01"}),
    );
    let old = c.ok(
        "b2_list_file_versions",
        json!({"bucketId": b, "prefix": "dir2/f02"}),
    );
    let id = old["files"][0]["fileId"].as_str().unwrap().to_string();
    c.ok(
        "b2_delete_file_version",
        json!({"fileName": "dir2/f02", "fileId": id}),
    );
    let large = c.start_large(&b, "dir1/large");
    c.upload_part(&large, 1, &data(150, 2));
    c.upload_part(&large, 2, &data(50, 3));
    c.upload_part(&large, 1, &data(120, 4)); // replaces part 1
    c.start_large(&b, "dir0/other-large");
    let mut out = Vec::new();
    let mut page = |call: &str, args: serde_json::Value| {
        let mut v = c.ok(call, args);
        strip(&mut v);
        out.push(v);
    };
    page("b2_list_file_names", json!({"bucketId": b}));
    page(
        "b2_list_file_names",
        json!({"bucketId": b, "maxFileCount": 7}),
    );
    page(
        "b2_list_file_names",
        json!({"bucketId": b, "startFileName": "dir1/", "delimiter": "/", "prefix": "dir1/"}),
    );
    page(
        "b2_list_file_names",
        json!({"bucketId": b, "delimiter": "/"}),
    );
    page("b2_list_file_versions", json!({"bucketId": b}));
    page(
        "b2_list_file_versions",
        json!({"bucketId": b, "maxFileCount": 5, "prefix": "dir0/"}),
    );
    page("b2_list_unfinished_large_files", json!({"bucketId": b}));
    page("b2_list_parts", json!({"fileId": large}));
    page(
        "b2_finish_large_file",
        json!({"fileId": large, "partSha1Array": [sha1_hex(&data(120, 4)), sha1_hex(&data(50, 3))]}),
    );
    page("b2_list_unfinished_large_files", json!({"bucketId": b}));
    page(
        "b2_list_file_versions",
        json!({"bucketId": b, "prefix": "dir1/"}),
    );
    // Downloads by name find the newest version; a hidden name is not found.
    for name in ["dir0/f00", "dir1/f01", "dir1/large"] {
        let a = c.get(&format!("/file/same-answers/{name}"), Some(&c.token), None);
        out.push(json!([a.status, String::from_utf8_lossy(&a.body)]));
    }
    out
}

/// Removes what differs between two simulators running the same calls.
fn strip(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for k in [
                "fileId",
                "accountId",
                "bucketId",
                "uploadTimestamp",
                "nextFileId",
            ] {
                m.remove(k);
            }
            for x in m.values_mut() {
                strip(x);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

#[test]
fn the_database_answers_listings_like_memory() {
    let mem = Sim::builder().min_part_size(100).start().unwrap();
    let dir = fresh_dir("same-answers");
    let disk = start_in(&dir);
    let a = listings_after_script(&mem);
    let b = listings_after_script(&disk);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    assert!(
        a[4]["files"].as_array().unwrap().len() > 30,
        "versions listed"
    );
    let n = a.len();
    assert_eq!(a[n - 3], json!([200, "second version"]));
    assert_eq!(a[n - 2][0], 404);
    assert_eq!(a[n - 1][0], 200);
    assert_eq!(disk.unfinished_large_files(), 1);
    // And after a restart, from the database alone.
    drop(disk);
    let disk = start_in(&dir);
    let c = Client::new(&disk);
    let buckets = c.ok("b2_list_buckets", json!({"accountId": c.account_id}));
    let b = buckets["buckets"][0]["bucketId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut v = c.ok(
        "b2_list_file_versions",
        json!({"bucketId": b, "prefix": "dir1/"}),
    );
    strip(&mut v);
    assert_eq!(v, a[a.len() - 4]);
    assert_eq!(disk.unfinished_large_files(), 1);
    drop(disk);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every page of `b2_list_keys` (2 keys a page): the ids and names listed.
fn all_keys(c: &Client) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut start = serde_json::Value::Null;
    loop {
        let mut args = json!({"accountId": c.account_id, "maxKeyCount": 2});
        if !start.is_null() {
            args["startApplicationKeyId"] = start.clone();
        }
        let l = c.ok("b2_list_keys", args);
        for k in l["keys"].as_array().unwrap() {
            let id = k["applicationKeyId"].as_str().unwrap().to_string();
            out.push((id, k["keyName"].as_str().unwrap().to_string()));
        }
        start = l["nextApplicationKeyId"].clone();
        if start.is_null() {
            return out;
        }
    }
}

/// With `--data-dir`, keys are rows of the database: created, listed page by page in id
/// order, looked up to authorize and deleted as in memory, and the same after a restart.
#[test]
fn keys_in_the_database_list_like_memory_and_survive_restart() {
    let dir = fresh_dir("keys");
    let mem = sim();
    let s = start_in(&dir);
    let mut listed = Vec::new();
    for sim in [&mem, &s] {
        let c = Client::new(sim);
        let mut made = Vec::new();
        for name in ["k-one", "k-two", "k-three", "k-four", "k-five"] {
            let k = c.ok(
                "b2_create_key",
                json!({"accountId": c.account_id, "keyName": name, "capabilities": ["listBuckets"]}),
            );
            made.push(k);
        }
        let gone = made[1]["applicationKeyId"].as_str().unwrap();
        c.ok("b2_delete_key", json!({"applicationKeyId": gone}));
        let a = c.call("b2_delete_key", json!({"applicationKeyId": gone}));
        assert_eq!(a.status, 400);
        let keys = all_keys(&c);
        let mut ids: Vec<&String> = keys.iter().map(|(id, _)| id).collect();
        ids.sort();
        assert_eq!(
            ids,
            keys.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            "id order"
        );
        let mut names: Vec<&str> = keys.iter().map(|(_, n)| n.as_str()).collect();
        names.sort();
        assert_eq!(names, ["k-five", "k-four", "k-one", "k-three"]);
        let k = &made[4];
        let id = k["applicationKeyId"].as_str().unwrap();
        let secret = k["applicationKey"].as_str().unwrap();
        assert_eq!(authorize_raw(sim.url(), id, secret, 4).status, 200);
        assert_eq!(authorize_raw(sim.url(), gone, "x", 4).status, 401);
        listed.push(keys);
    }
    s.stop();
    let s = start_in(&dir);
    let c = Client::new(&s);
    assert_eq!(all_keys(&c), listed[1], "the same keys after a restart");
    let (id, _) = &listed[1][0];
    c.ok("b2_delete_key", json!({"applicationKeyId": id}));
    assert_eq!(all_keys(&c).len(), 3);
    s.stop();
    let s = start_in(&dir);
    assert_eq!(all_keys(&Client::new(&s)).len(), 3, "the delete was kept");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

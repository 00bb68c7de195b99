//! End to end: `delete` never unhides, `unhide` deletes a hide marker and nothing else, over
//! real loopback sockets against `b2-sim`.

mod common;

use b2_sim::Sim;
use b2_transport_std::client::{Action, Client, ClientError, UploadOptions};
use common::start;

const BUCKET: &str = "unhide-bucket";

fn put(c: &Client, name: &str, bytes: &[u8]) {
    c.upload_reader(BUCKET, bytes, name, &UploadOptions::default())
        .expect("upload");
}

/// Actions of the versions of exactly `name`, newest first.
fn versions(c: &Client, name: &str) -> Vec<Action> {
    c.ls(BUCKET, name, true, true)
        .expect("ls")
        .map(|f| f.expect("row"))
        .filter(|f| f.file_name == name)
        .map(|f| f.action)
        .collect()
}

#[test]
fn delete_refuses_to_unhide_and_unhide_deletes_only_hide_markers() {
    let (sim, c) = start(Sim::builder());
    c.create_bucket(BUCKET, false).expect("bucket");
    put(&c, "a.txt", b"first");
    put(&c, "a.txt", b"second");
    // A longer name after it in the listing must not be taken for a version of it.
    put(&c, "a.txt.bak", b"sibling");
    c.hide(BUCKET, "a.txt").expect("hide");
    assert_eq!(sim.file_bytes(BUCKET, "a.txt"), None);
    assert_eq!(versions(&c, "a.txt"), ["hide", "upload", "upload"]);

    // delete of the newest version refuses: it would unhide.
    let e = c.delete(BUCKET, "a.txt", false).expect_err("refused");
    assert!(matches!(e, ClientError::Hidden(_)), "{e:?}");
    assert!(e.to_string().contains("unhide"), "{e}");
    assert_eq!(versions(&c, "a.txt"), ["hide", "upload", "upload"]);
    assert_eq!(sim.file_bytes(BUCKET, "a.txt"), None);

    // unhide removes the marker only.
    let marker = c.unhide(BUCKET, "a.txt").expect("unhide");
    assert!(!marker.is_empty());
    assert_eq!(versions(&c, "a.txt"), ["upload", "upload"]);
    assert_eq!(
        sim.file_bytes(BUCKET, "a.txt").as_deref(),
        Some(&b"second"[..])
    );

    // unhide of a visible file deletes nothing.
    let e = c.unhide(BUCKET, "a.txt").expect_err("not hidden");
    assert!(matches!(e, ClientError::NotHidden(_)), "{e:?}");
    assert!(e.to_string().contains("not hidden"), "{e}");
    assert_eq!(versions(&c, "a.txt"), ["upload", "upload"]);
    assert!(matches!(
        c.unhide(BUCKET, "missing.txt"),
        Err(ClientError::NotFound(_))
    ));

    // delete of the newest upload still works, and touches nothing else.
    assert_eq!(c.delete(BUCKET, "a.txt", false).expect("delete"), 1);
    assert_eq!(
        sim.file_bytes(BUCKET, "a.txt").as_deref(),
        Some(&b"first"[..])
    );
    assert_eq!(
        sim.file_bytes(BUCKET, "a.txt.bak").as_deref(),
        Some(&b"sibling"[..])
    );

    // With all versions, hide markers go too (asked for explicitly).
    c.hide(BUCKET, "a.txt").expect("hide again");
    assert_eq!(c.delete(BUCKET, "a.txt", true).expect("delete all"), 2);
    assert!(versions(&c, "a.txt").is_empty());
    assert_eq!(versions(&c, "a.txt.bak"), ["upload"]);
}

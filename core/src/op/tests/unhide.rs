//! `Unhide`: the newest version of the name is deleted only when it is a hide marker.

use std::string::String;

use serde_json::json;

use crate::driver::run;
use crate::op::script::{answers, Reply, Script, VirtualClock};
use crate::op::{Unhidden, Unhide};

fn version(id: &str, name: &str, action: &str) -> serde_json::Value {
    let mut f = answers::file(id, name, b"x");
    f["action"] = json!(action);
    f
}

fn unhide(listing: serde_json::Value, delete: bool) -> (Option<Unhidden>, Script, String) {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 8192];
    let mut op = Unhide::new(&mut s, &mut buf, "bkt", "a.txt").expect("new");
    let mut script = Script::new([Reply::ok(listing)]);
    if delete {
        script.push(Reply::ok(json!({"fileId": "4_hide", "fileName": "a.txt"})));
    }
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("unhide");
    script.finish();
    let id = op.hide_marker_id().into();
    (op.outcome(), script, id)
}

#[test]
fn a_hide_marker_on_top_is_deleted() {
    let listing = json!({"files": [
        version("4_start", "a.txt", "start"),
        version("4_hide", "a.txt", "hide"),
        version("4_up", "a.txt", "upload"),
    ], "nextFileName": null});
    let (o, script, id) = unhide(listing, true);
    assert_eq!(o, Some(Unhidden::Unhidden));
    assert_eq!(id, "4_hide");
    let list = script.sent[0].json();
    assert_eq!(
        (list["startFileName"].as_str(), list["prefix"].as_str()),
        (Some("a.txt"), Some("a.txt"))
    );
    let del = script.last().json();
    assert_eq!(script.last().call(), "b2_delete_file_version");
    assert_eq!(
        (del["fileId"].as_str(), del["fileName"].as_str()),
        (Some("4_hide"), Some("a.txt"))
    );
}

#[test]
fn a_visible_file_or_another_name_is_left_alone() {
    let visible = json!({"files": [version("4_up", "a.txt", "upload"),
        version("4_hide", "a.txt", "hide")], "nextFileName": null});
    let (o, script, _) = unhide(visible, false);
    assert_eq!(o, Some(Unhidden::NotHidden));
    assert_eq!(script.sent.len(), 1, "nothing deleted");
    let other = json!({"files": [version("4_b", "a.txt.bak", "hide")], "nextFileName": null});
    let (o, script, _) = unhide(other, false);
    assert_eq!(o, Some(Unhidden::NotFound));
    assert_eq!(script.sent.len(), 1);
}

fn delete_newest(
    listing: serde_json::Value,
    delete: bool,
) -> (Option<crate::op::DeletedNewest>, Script, String) {
    let mut s = answers::authorized("tok-1");
    let mut buf = [0u8; 8192];
    let mut op = Unhide::delete_newest(&mut s, &mut buf, "bkt", "a.txt").expect("new");
    let mut script = Script::new([Reply::ok(listing)]);
    if delete {
        script.push(Reply::ok(json!({"fileId": "4_up", "fileName": "a.txt"})));
    }
    run(&mut op, &mut script, &mut VirtualClock::default()).expect("delete newest");
    script.finish();
    assert_eq!(op.outcome(), None, "not an unhide");
    let id = op.deleted_id().into();
    (op.deleted_newest(), script, id)
}

#[test]
fn a_delete_takes_the_newest_upload_past_unfinished_files() {
    use crate::op::DeletedNewest;
    let listing = json!({"files": [
        version("4_start", "a.txt", "start"),
        version("4_up", "a.txt", "upload"),
        version("4_old", "a.txt", "upload"),
    ], "nextFileName": null});
    let (o, script, id) = delete_newest(listing, true);
    assert_eq!(o, Some(DeletedNewest::Deleted));
    assert_eq!(id, "4_up");
    assert_eq!(script.last().call(), "b2_delete_file_version");
    assert_eq!(script.last().json()["fileId"].as_str(), Some("4_up"));
}

#[test]
fn a_delete_never_removes_a_hide_marker_alone() {
    use crate::op::DeletedNewest;
    let hidden = json!({"files": [version("4_hide", "a.txt", "hide"),
        version("4_up", "a.txt", "upload")], "nextFileName": null});
    let (o, script, _) = delete_newest(hidden, false);
    assert_eq!(o, Some(DeletedNewest::Hidden));
    assert_eq!(script.sent.len(), 1, "nothing deleted");
    let other = json!({"files": [version("4_b", "a.txt.bak", "upload")], "nextFileName": null});
    let (o, _, _) = delete_newest(other, false);
    assert_eq!(o, Some(DeletedNewest::NotFound));
}
